"""The branch's ledger (台账) of activities: add, list, remove, import a worker's sheet, export.

Every value goes through assistant.inputs; the type must be one of knowledge/ledger_rules.yaml.
An import checks every row first, reports the bad ones by their spreadsheet row number, and
writes the good ones in one transaction: all of them or, if the database fails, none.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import select

from ..appdb import Database
from ..errors import InputError
from ..inputs import clean_text, parse_date, parse_int
from .models import Activity, Attachment
from .rules import LedgerRules, ledger_rules
from .tabular import cell_text, read_sheet, write_xlsx

log = logging.getLogger(__name__)

MAX_PEOPLE = 100000
MAX_ATTACHMENT_MB = 20
#: column header → field (the names a worker's sheet uses; spaces are ignored)
HEADERS = {
    "类型": "type", "活动类型": "type", "会议类型": "type", "活动": "type",
    "日期": "date", "时间": "date", "会议日期": "date", "活动日期": "date",
    "应到": "expected", "应到人数": "expected",
    "实到": "present", "实到人数": "present", "到会人数": "present",
    "请假": "leave", "请假人数": "leave",
    "有表决权": "voting", "应到会有表决权": "voting", "有表决权人数": "voting", "应到会有表决权人数": "voting",
    "赞成": "yes", "赞成人数": "yes", "赞成票": "yes",
    "主题": "topic", "会议主题": "topic", "议题": "topic", "内容": "topic",
    "主持人": "chair", "主持": "chair",
}
EXPORT_HEADER = ["类型", "日期", "应到", "实到", "请假", "有表决权", "赞成", "主题", "主持人", "来源", "编号"]


@dataclass(frozen=True)
class ActivityRecord:
    """One ledger entry, detached from the database."""

    id: int
    type: str
    duty_id: str | None
    date: date
    expected: int | None = None
    present: int | None = None
    leave: int | None = None
    voting: int | None = None
    yes: int | None = None
    topic: str = ""
    chair: str = ""
    source: str = "手工"
    file_name: str = ""

    def to_json(self) -> dict:
        out = asdict(self)
        out["date"] = self.date.isoformat()
        return out


@dataclass
class ImportReport:
    added: int = 0
    skipped: int = 0                                   # already in the ledger (same type, date, topic)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, message)

    def summary(self) -> str:
        text = f"导入 {self.added} 条"
        if self.skipped:
            text += f"，{self.skipped} 条已在台账中（跳过）"
        if self.errors:
            text += f"，{len(self.errors)} 行有误未导入"
        return text


def _record(a: Activity, file_name: str = "") -> ActivityRecord:
    return ActivityRecord(a.id, a.type, a.duty_id, a.date, a.expected, a.present, a.leave, a.voting, a.yes,
                          a.topic or "", a.chair or "", a.source or "", file_name)


def validate(values: dict[str, Any], rules: LedgerRules) -> dict[str, Any]:
    """The fields of one activity, checked; InputError names the first field that is wrong."""
    t = rules.resolve(values.get("type"))
    day = parse_date(values.get("date"), "date")
    nums = {k: parse_int(_count_text(values.get(k)), k, 0, MAX_PEOPLE, required=False)
            for k in ("expected", "present", "leave", "voting", "yes")}
    exp, pres, leave, voting, yes = (nums[k] for k in ("expected", "present", "leave", "voting", "yes"))
    if exp is not None and pres is not None and pres > exp:
        raise InputError("present", f"实到人数（{pres}）不能多于应到人数（{exp}）")
    if exp is not None and pres is not None and leave is not None and pres + leave > exp:
        raise InputError("leave", f"实到（{pres}）加请假（{leave}）多于应到人数（{exp}）")
    if exp is not None and voting is not None and voting > exp:
        raise InputError("voting", f"应到会有表决权人数（{voting}）不能多于应到人数（{exp}）")
    cap = voting if voting is not None else exp
    if yes is not None and cap is not None and yes > cap:
        raise InputError("yes", f"赞成人数（{yes}）不能多于应到会有表决权人数（{cap}）")
    return {"type": t.name, "duty_id": t.duty, "date": day, **nums,
            "topic": clean_text(values.get("topic"), "topic", 200),
            "chair": clean_text(values.get("chair"), "chair", 40)}


def _count_text(value: Any) -> Any:
    """9, "9", "9人", "9 名" → the number part (a sheet often writes the unit)."""
    if isinstance(value, str):
        return value.strip().rstrip("人名位票").strip()
    return value


class Ledger:
    """The activities of the branch, in the application database."""

    def __init__(self, db: Database, rules: LedgerRules | None = None) -> None:
        self.db = db
        self.rules = rules or ledger_rules()

    def add(self, *, source: str = "手工", attachment: Path | None = None, **values: Any) -> ActivityRecord:
        """Add one activity (fields as in ``validate``; ``attachment`` a file kept with it)."""
        fields = validate(values, self.rules)
        blob = _read_attachment(attachment) if attachment is not None else None
        with self.db.session() as s:
            a = Activity(**fields, source=source)
            if blob is not None:
                a.attachment = Attachment(filename=blob[0], size=len(blob[1]), content=blob[1])
            s.add(a)
            s.flush()
            rec = _record(a, blob[0] if blob else "")
        log.info("ledger: 1 activity added")
        return rec

    def list(self, year: int | None = None, start: date | None = None, end: date | None = None) -> list[ActivityRecord]:
        """Activities by date (of ``year``, or within [start, end])."""
        if year is not None:
            start, end = date(year, 1, 1), date(year, 12, 31)
        q = select(Activity, Attachment.filename).outerjoin(Attachment).order_by(Activity.date, Activity.id)
        if start is not None:
            q = q.where(Activity.date >= start)
        if end is not None:
            q = q.where(Activity.date <= end)
        with self.db.session() as s:
            return [_record(a, name or "") for a, name in s.execute(q).all()]

    def count(self) -> int:
        """How many activities the ledger holds."""
        from sqlalchemy import func

        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(Activity)) or 0)

    def remove(self, activity_id: Any) -> ActivityRecord:
        """Delete one activity by its number; InputError if there is none."""
        n = parse_int(activity_id, "id", 1, 2**31 - 1)
        with self.db.session() as s:
            a = s.get(Activity, n)
            if a is None:
                raise InputError("id", f"台账中没有编号为 {n} 的记录")
            rec = _record(a)
            s.delete(a)
        log.info("ledger: 1 activity removed")
        return rec

    def attachment(self, activity_id: int) -> tuple[str, bytes] | None:
        with self.db.session() as s:
            att = s.scalar(select(Attachment).where(Attachment.activity_id == activity_id))
            return (att.filename, att.content) if att else None

    def import_file(self, path: Path | str) -> ImportReport:
        """Import a worker's sheet (.xlsx or .csv, headed 类型/日期/应到/实到/请假/主题 …)."""
        sheet = read_sheet(Path(path), HEADERS, ("type", "date"))
        report = ImportReport()
        good: list[dict[str, Any]] = []
        for number, values in sheet.rows:
            try:
                good.append(validate(values, self.rules))
            except InputError as exc:
                report.errors.append((number, str(exc)))
        with self.db.session() as s:
            seen = {(a.type, a.date, a.topic or "") for a in s.scalars(select(Activity)).all()}
            for fields in good:
                key = (fields["type"], fields["date"], fields["topic"])
                if key in seen:
                    report.skipped += 1
                    continue
                seen.add(key)
                s.add(Activity(**fields, source="导入"))
                report.added += 1
        log.info("ledger import: %d added, %d skipped, %d rows rejected", report.added, report.skipped,
                 len(report.errors))
        return report

    def export(self, path: Path | str, year: int | None = None) -> Path:
        """The ledger as .xlsx (or .csv) with the same headers the import reads."""
        rows = [[r.type, r.date, r.expected, r.present, r.leave, r.voting, r.yes, r.topic, r.chair, r.source, r.id]
                for r in self.list(year)]
        return write_table(Path(path), "台账", EXPORT_HEADER, rows, [16, 12, 6, 6, 6, 8, 6, 40, 10, 8, 6])


def write_table(path: Path, title: str, header: list[str], rows: list[list[Any]], widths: list[int]) -> Path:
    """One table as .xlsx or .csv (UTF-8 with BOM, which Excel opens correctly)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(path, [(title, header, rows)], {title: widths})
    if suffix == ".csv":
        import csv

        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for row in rows:
                w.writerow([cell_text(v) for v in row])
        return path
    raise InputError("out", f"输出文件的扩展名应为 .xlsx 或 .csv，收到“{path.suffix or '（无扩展名）'}”")


def _read_attachment(path: Path) -> tuple[str, bytes]:
    from ..inputs import safe_filename

    p = Path(path)
    if not p.is_file():
        raise InputError("file", f"附件不存在：{p.name}")
    size = p.stat().st_size
    if size > MAX_ATTACHMENT_MB * 1024 * 1024:
        raise InputError("file", f"附件“{p.name}”超过 {MAX_ATTACHMENT_MB} MB")
    return safe_filename(p.name, "会议记录"), p.read_bytes()


def records_in(records: Iterable[ActivityRecord], start: date, end: date) -> list[ActivityRecord]:
    return [r for r in records if start <= r.date <= end]
