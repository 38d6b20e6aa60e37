"""Minutes templates (会议记录) for a planned meeting, and reading them back once filled in.

``write_minutes(plan, path)`` writes a 公文-style .docx for the same meeting as a meeting plan:
a table of the fields the ledger needs (会议类型, 日期, 应到, 实到, 请假, 有表决权, 赞成 …),
pre-filled where the plan knows them, then space for the proceedings and the signatures.
``read_minutes(path)`` returns the filled fields (label → text) for ``ledger add --from-minutes``.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from .gongwen import Section, write_docx

if TYPE_CHECKING:  # pragma: no cover
    from .meeting import MeetingPlan

#: (label in the table, ledger field); the ledger reads these labels back
FIELDS = (
    ("会议类型", "type"),
    ("日期", "date"),
    ("时间", None),
    ("地点", None),
    ("主持人", "chair"),
    ("记录人", None),
    ("会议主题", "topic"),
    ("应到人数", "expected"),
    ("实到人数", "present"),
    ("请假人数", "leave"),
    ("请假人员及原因", None),
    ("应到会有表决权人数", "voting"),
    ("赞成人数", "yes"),
    ("反对人数", None),
    ("弃权人数", None),
)
MARK = "dangwu-minutes/1"  # the document's keywords: a file this module wrote


def minutes_title(plan: "MeetingPlan") -> str:
    return plan.title[:-2] + "会议记录" if plan.title.endswith("方案") else plan.title + "会议记录"


def default_path(plan: "MeetingPlan", out: Path | None) -> Path:
    """Beside the plan (…_会议记录.docx) or, without one, in the current folder."""
    from ..inputs import safe_filename

    if out is not None:
        return out.with_name(out.stem + "_会议记录.docx")
    return Path(safe_filename(minutes_title(plan), "会议记录") + ".docx")


def write_minutes(plan: "MeetingPlan", path: Path | str | None = None, out: Path | None = None) -> Path:
    """The minutes template of ``plan`` as .docx at ``path`` (default: beside ``out``)."""
    path = Path(path) if path else default_path(plan, out)
    if path.suffix.lower() != ".docx":
        raise InputError("out", f"会议记录模板只能生成 .docx，收到“{path.name}”")
    known = {
        "会议类型": plan.type, "日期": plan.date.isoformat(), "会议主题": plan.topic,
        "应到人数": str(plan.members) if plan.members is not None else "",
        "应到会有表决权人数": str(plan.members) if plan.members is not None and plan.required_votes else "",
    }
    rows = [["项目", "填写内容"]] + [[label, known.get(label, "")] for label, _ in FIELDS]
    needs = []
    if plan.required_members:
        needs.append(f"本次会议至少需 {plan.required_members} 人到会方可进行。")
    if plan.required_votes:
        needs.append(f"表决事项至少需 {plan.required_votes} 票赞成才通过（按应到会有表决权人数计算）。")
    secs = [
        Section("会议基本情况", 1, ["请在右栏填写；人数只填数字。填好后可用“ledger add --from-minutes 本文件”记入台账。"]
                + needs, rows),
        Section("会议议程与发言要点", 1, [f"{i}．{a.step}：" for i, a in enumerate(plan.agenda, 1)] or ["（逐项记录）"]),
        Section("表决事项和结果", 1, ["（逐项写明表决事项、应到、实到、赞成、反对、弃权和结果）"]),
        Section("会议决定和落实分工", 1, ["（写明每项决定由谁落实、何时完成）"]),
        Section("签字", 1, ["主持人（签字）：＿＿＿＿＿＿　　记录人（签字）：＿＿＿＿＿＿"]),
    ]
    write_docx(minutes_title(plan), secs, path, subtitle=f"（{plan.branch}）")
    from docx import Document

    doc = Document(str(path))
    doc.core_properties.keywords = MARK
    doc.save(str(path))
    return path


def read_minutes(path: Path | str) -> dict[str, str]:
    """The fields of a filled minutes template: ledger field → text (blank fields left out)."""
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    p = Path(path)
    if not p.is_file():
        raise InputError("file", f"会议记录文件不存在：{p.name}")
    try:
        doc = Document(str(p))
    except (PackageNotFoundError, KeyError, ValueError, OSError):
        raise InputError("file", f"无法读取“{p.name}”：不是有效的 .docx 文件") from None
    labels = {label: key for label, key in FIELDS if key}
    values: dict[str, str] = {}
    for table in doc.tables:
        for row in table.rows:
            cells = row.cells
            if len(cells) < 2:
                continue
            label = "".join(cells[0].text.split())
            if label in labels and labels[label] not in values:
                text = " ".join(cells[1].text.split())
                if text:
                    values[labels[label]] = text
    if "type" not in values or "date" not in values:
        raise InputError("file", f"“{p.name}”中找不到“会议类型”和“日期”两栏：请用 meeting-plan --minutes 生成的模板")
    return values
