"""The self-inspection report: a 公文-style Word document (assistant.plans.gongwen, the style of the
meeting plans), Markdown, or an .xlsx with one sheet of findings and one of counts."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..plans.gongwen import Section, to_markdown, write_docx
from ..plans.meeting import fmt_date_short
from .candidates import CandidateCheck
from .rules import ledger_rules
from .selfcheck import SelfCheck
from .tabular import write_xlsx

FORMATS = (".docx", ".xlsx", ".md")
KIND_WORDS = {"missing": "未达频次", "slipping": "先紧后松", "quorum": "到会或表决不合规", "order": "程序顺序"}
SEVERITY_WORDS = {"red": "需整改", "amber": "需关注"}


def title(check: SelfCheck, branch: str = "") -> str:
    return f"{branch}{check.year}年度党支部工作自查报告"


def sections(check: SelfCheck, candidates: list[CandidateCheck] | None = None) -> list[Section]:
    secs: list[Section] = []
    c = check.counts
    by_type = c.get("by_type") or {}
    secs.append(Section("基本情况", 1, [
        f"本次自查对照本助手工作清单（knowledge/obligations.yaml）和条规对频次、到会人数、表决和程序顺序的要求，"
        f"核对了台账中{check.period_label}的记录，共 {check.total} 项活动，涉及 {len(by_type)} 类工作。",
        f"支部类型：{check.branch_type}；{'设' if check.has_committee else '不设'}支部委员会；"
        f"{'划分' if check.has_groups else '未划分'}党小组。",
        f"发现问题 {len(check.findings)} 项" + (f"（需整改 {sum(f.severity == 'red' for f in check.findings)} 项，"
                                              f"需关注 {sum(f.severity == 'amber' for f in check.findings)} 项）"
                                              if check.findings else "") + "。",
    ]))
    if check.findings:
        rows = [["序号", "事项", "问题", "自何时", "依据", "整改建议"]]
        for i, f in enumerate(check.findings, 1):
            rows.append([str(i), f"{f.duty}\n（{KIND_WORDS.get(f.kind, f.kind)}，{SEVERITY_WORDS.get(f.severity, '')}）",
                         f.detail, f.since, f.basis, f.fix])
        secs.append(Section("发现的问题", 1, ["以下问题按先红（需整改）后黄（需关注）排列。"], rows))
    else:
        secs.append(Section("发现的问题", 1, ["对照上述要求，台账记录中没有发现问题。"]))
    if check.due:
        rows = [["序号", "事项", "尚待完成的期间", "最迟", "依据"]]
        for i, d in enumerate(check.due, 1):
            rows.append([str(i), d["duty"], "、".join(d["labels"]), d["by"], d["basis"]])
        secs.append(Section("年内尚待完成的工作", 1, ["以下事项的期限还没到，请排进工作计划。"], rows))
    if by_type:
        quarters = [f"{check.year}-Q{q}" for q in range(1, 5)]
        rows = [["工作类型", "一季度", "二季度", "三季度", "四季度", "合计"]]
        for t, n in by_type.items():
            rows.append([t] + [str((c.get("by_quarter", {}).get(q) or {}).get(t, 0)) for q in quarters] + [str(n)])
        rows.append(["合计"] + [str(sum((c.get("by_quarter", {}).get(q) or {}).values())) for q in quarters]
                    + [str(c.get("total", 0))])
        secs.append(Section("已开展的工作", 1, [f"{check.period_label}共开展各类活动 {check.total} 项，按类型和季度统计如下。"],
                            rows))
    if candidates:
        rows = [["姓名", "所处阶段", "发现的问题", "下一步"]]
        for cc in candidates:
            problems = "\n".join(f"{f.detail}（{f.basis}）" for f in cc.findings) or "无"
            steps = "\n".join(f"{n.step}" + (f"：不晚于{n.due.isoformat()}" if n.due else "")
                              + (f"：不早于{n.earliest.isoformat()}" if n.earliest and not n.due else "")
                              for n in cc.next) or "—"
            rows.append([cc.name, cc.stage, problems, steps])
        secs.append(Section("发展党员工作", 1, [f"对 {len(candidates)} 名入党申请人、积极分子、发展对象和预备党员的"
                                              "各环节时限逐项核对，情况如下。"], rows))
    xize, eff = ledger_rules().xize_current
    secs.append(Section("说明", 1, [
        "频次按各事项所在周期判断：一个周期结束仍未达到次数的才算未达频次，周期未结束的列入“年内尚待完成的工作”。",
        "“先紧后松”是本助手的判断办法（工作建议）：上半年基本按期、下半年按期的月份不到一半时提示，不是条规规定。",
        f"《{xize}》现行版本自{eff.year}年{eff.month}月{eff.day}日起施行，此前起算的时限按2014年版核对，表中已注明。",
    ]))
    return secs


def write_report(check: SelfCheck, path: Path | str, branch: str = "",
                 candidates: list[CandidateCheck] | None = None) -> Path:
    """The report as .docx, .md or .xlsx (chosen by the extension)."""
    path = Path(path)
    suffix = path.suffix.lower()
    head = title(check, branch)
    subtitle = f"（{check.period_label}）"
    signature = (branch, fmt_date_short(check.until)) if branch else None
    if suffix == ".docx":
        return write_docx(head, sections(check, candidates), path, subtitle=subtitle, signature=signature)
    if suffix in (".md", ".markdown"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_markdown(head, sections(check, candidates), subtitle=subtitle, signature=signature), encoding="utf-8")
        return path
    if suffix == ".xlsx":
        return write_xlsx(path, xlsx_sheets(check), {"问题": [14, 12, 60, 12, 36, 44], "统计": [18, 10, 10, 10, 10, 10]})
    raise InputError("out", f"输出文件的扩展名应为 {' / '.join(FORMATS)} 之一，收到“{path.suffix or '（无扩展名）'}”")


def xlsx_sheets(check: SelfCheck) -> list[tuple[str, list[str], list[list]]]:
    findings = [[f.duty, KIND_WORDS.get(f.kind, f.kind), f.detail, f.since, f.basis, f.fix,
                 SEVERITY_WORDS.get(f.severity, f.severity), "、".join(f.months)] for f in check.findings]
    c = check.counts
    quarters = [f"{check.year}-Q{q}" for q in range(1, 5)]
    counts = [[t] + [(c.get("by_quarter", {}).get(q) or {}).get(t, 0) for q in quarters] + [n]
              for t, n in (c.get("by_type") or {}).items()]
    counts.append(["合计"] + [sum((c.get("by_quarter", {}).get(q) or {}).values()) for q in quarters]
                  + [c.get("total", 0)])
    return [("问题", ["事项", "类别", "问题", "自何时", "依据", "整改建议", "程度", "涉及月份"], findings),
            ("统计", ["工作类型", "一季度", "二季度", "三季度", "四季度", "合计"], counts)]
