"""台账与自查: plain functions over App (no Gradio) — add an activity, import the branch's sheet,
list, remove, run the self-check for a period (findings, counts for the chart, downloads), and
the candidates with their next step and due date. Everything shown is escaped (web.render)."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...inputs import parse_date, parse_int
from ...plans.obligations import BRANCH_TYPES
from ...records.candidates import Candidates
from ...records.ledger import Ledger
from ...root import App
from ..render import esc

LIST_HEADERS = ["编号", "日期", "类型", "应到", "实到", "请假", "有表决权", "赞成", "主题", "来源"]
COUNT_HEADERS = ["工作类型", "一季度", "二季度", "三季度", "四季度", "合计"]
CANDIDATE_HEADERS = ["姓名", "所处阶段", "下一步", "期限", "问题"]
SHEET_TYPES = (".xlsx", ".csv")
COLORS = {"red": ("#fde8e8", "#9b1c1c", "需整改"), "amber": ("#fdf6b2", "#723b13", "需关注")}


def _n(value: Any) -> Any:
    """A form number: empty, None or NaN is not given."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            return int(value)
    return value


def _path(file: Any) -> Path | None:
    if not file:
        return None
    return Path(file if isinstance(file, (str, Path)) else getattr(file, "name", str(file)))


def activity_types(app: App) -> list[str]:
    from ...records.rules import ledger_rules

    return [t.name for t in ledger_rules(app.knowledge.folder).types]


def ledger_rows(app: App, year: Any = None) -> list[list]:
    y = parse_int(_n(year), "year", 1921, 2200, required=False)
    return [[r.id, r.date.isoformat(), r.type, r.expected, r.present, r.leave, r.voting, r.yes, r.topic, r.source]
            for r in Ledger(app.db).list(y)]


def add_activity(app: App, type: str, day: str, expected: Any = None, present: Any = None, leave: Any = None,
                 voting: Any = None, yes: Any = None, topic: str = "", chair: str = "", file: Any = None,
                 year: Any = None) -> tuple[str, list[list]]:
    """(message, the list) after adding one activity from the form."""
    rec = Ledger(app.db).add(type=type, date=day, expected=_n(expected), present=_n(present), leave=_n(leave),
                             voting=_n(voting), yes=_n(yes), topic=topic, chair=chair, attachment=_path(file))
    return f"已记入台账：编号 {rec.id}，{rec.date.isoformat()} {esc(rec.type)}", ledger_rows(app, year or rec.date.year)


def add_from_minutes(app: App, file: Any, year: Any = None) -> tuple[str, list[list]]:
    """(message, the list) after recording a meeting from its filled minutes (.docx)."""
    from ...plans.minutes import read_minutes

    path = _path(file)
    if path is None:
        raise InputError("file", "请先选择填好的会议记录（.docx）")
    rec = Ledger(app.db).add(source="会议记录", attachment=path, **read_minutes(path))
    return (f"已从会议记录记入台账：编号 {rec.id}，{rec.date.isoformat()} {esc(rec.type)}",
            ledger_rows(app, year or rec.date.year))


def import_sheet(app: App, file: Any, year: Any = None) -> tuple[str, list[list], list[list]]:
    """(summary, [行号, 问题] per refused row, the list) after importing the branch's sheet."""
    path = _path(file)
    if path is None:
        raise InputError("file", "请先选择要导入的台账文件（.xlsx 或 .csv）")
    if path.suffix.lower() not in SHEET_TYPES:
        raise InputError("file", f"只能导入 .xlsx 或 .csv 文件，收到“{esc(path.name)}”")
    report = Ledger(app.db).import_file(path)
    return esc(report.summary()), [[n, m] for n, m in report.errors], ledger_rows(app, year)


def remove_activity(app: App, activity_id: Any, year: Any = None) -> tuple[str, list[list]]:
    rec = Ledger(app.db).remove(_n(activity_id))
    return f"已删除：编号 {rec.id}，{rec.date.isoformat()} {esc(rec.type)}", ledger_rows(app, year)


def _check(app: App, year: Any, until: Any, branch_type: str, has_committee: bool, has_groups: bool = True):
    from ...records.rules import ledger_rules
    from ...records.selfcheck import self_check

    y = parse_int(_n(year), "year", 1921, 2200)
    end = parse_date(until, "until", required=False)
    if end is None:
        today = date.today()
        end = today if today.year == y else date(y, 12, 31)
    if end.year != y:
        raise InputError("until", f"截止日期应在 {y} 年内，收到 {end.isoformat()}")
    if branch_type not in BRANCH_TYPES:
        raise InputError("branch_type", f"支部类型应为 {' / '.join(BRANCH_TYPES)} 之一，收到“{esc(branch_type)}”")
    return self_check(Ledger(app.db).list(y), y, end, app.knowledge.duties(), ledger_rules(app.knowledge.folder),
                      branch_type=branch_type, has_committee=bool(has_committee), has_groups=bool(has_groups))


def findings_html(check) -> str:
    """The findings, red ones first then amber, each with its basis and fix (all text escaped)."""
    head = f"<p><b>{esc(check.year)}年自查</b>（{esc(check.period_label)}，共 {check.total} 项活动）：</p>"
    if not check.findings:
        return head + '<p class="records-ok">没有发现问题。</p>'
    items = []
    for f in check.findings:
        bg, fg, word = COLORS.get(f.severity, COLORS["red"])
        items.append(f'<div class="finding finding-{esc(f.severity)}" style="background:{bg};color:{fg};'
                     f'border-radius:6px;padding:6px 10px;margin:4px 0">'
                     f"<b>【{word}】{esc(f.duty)}</b>：{esc(f.detail)}<br>"
                     f"依据：{esc(f.basis)}；建议：{esc(f.fix)}</div>")
    due = ""
    if check.due:
        due = "<p>年内尚待完成：" + "；".join(f"{esc(d['duty'])}（{esc('、'.join(d['labels']))}）" for d in check.due) + "</p>"
    return head + "".join(items) + due


def chart_rows(check) -> list[dict]:
    """One row per (month, type) with its count: the data of the bar chart."""
    rows = []
    for month, types in (check.counts.get("by_month") or {}).items():
        for t, n in types.items():
            rows.append({"月份": month, "类型": t, "次数": n})
    return rows


def count_rows(check) -> list[list]:
    c = check.counts
    quarters = [f"{check.year}-Q{q}" for q in range(1, 5)]
    rows = [[t] + [(c.get("by_quarter", {}).get(q) or {}).get(t, 0) for q in quarters] + [n]
            for t, n in (c.get("by_type") or {}).items()]
    return rows


def self_check(app: App, out: Path, year: Any, until: Any = "", branch_type: str = "机关",
               has_committee: bool = True, has_groups: bool = True) -> tuple[str, list[dict], list[list], str, str]:
    """(findings HTML, chart rows, counts table, .docx path, .xlsx path) for a year up to a date."""
    from ...records.report import write_report

    check = _check(app, year, until, branch_type, has_committee, has_groups)
    stem = f"自查报告_{check.year}_{check.until.isoformat()}"
    cands = Candidates(app.db).check(check.until)
    docx = write_report(check, out / f"{stem}.docx", candidates=cands or None)
    xlsx = write_report(check, out / f"{stem}.xlsx")
    return findings_html(check), chart_rows(check), count_rows(check), str(docx), str(xlsx)


def candidates_html(app: App, as_of: Any = "") -> tuple[str, list[list]]:
    """(a table with each candidate's next step and due date, overdue in red; the same as rows)."""
    day = parse_date(as_of, "as_of", required=False) or date.today()
    checks = Candidates(app.db).check(day)
    rows = []
    html = [f"<p>核对日期 {day.isoformat()}，共 {len(checks)} 人。</p>",
            '<table class="candidates"><thead><tr>' + "".join(f"<th>{h}</th>" for h in CANDIDATE_HEADERS)
            + "</tr></thead><tbody>"]
    for c in checks:
        first = c.next[0] if c.next else None
        when = (first.due or first.earliest) if first else None
        when_text = "" if when is None else (f"不晚于 {first.due.isoformat()}" if first.due
                                            else f"不早于 {first.earliest.isoformat()}")
        late = any(n.overdue for n in c.next) or any(f.kind == "overdue" for f in c.findings)
        problems = "；".join(f"{f.detail}（{f.basis}）" for f in c.findings)
        rows.append([c.name, c.stage, first.step if first else "", when_text, problems])
        style = ' style="color:#9b1c1c;font-weight:600"' if late else ""
        cls = ' class="overdue"' if late else ""
        html.append(f"<tr{cls}{style}><td>{esc(c.name)}</td><td>{esc(c.stage)}</td>"
                    f"<td>{esc(first.step if first else '—')}</td><td>{esc(when_text or '—')}"
                    f"{'（已逾期）' if late else ''}</td><td>{esc(problems or '无')}</td></tr>")
    html.append("</tbody></table>")
    return "".join(html), rows


def import_candidates(app: App, file: Any, as_of: Any = "") -> tuple[str, list[list], str, list[list]]:
    path = _path(file)
    if path is None:
        raise InputError("file", "请先选择发展党员表格（.xlsx 或 .csv）")
    report = Candidates(app.db).import_file(path)
    table, rows = candidates_html(app, as_of)
    return esc(report.summary()), [[n, m] for n, m in report.errors], table, rows


def export_ledger(app: App, out: Path, year: Any = None) -> str:
    y = parse_int(_n(year), "year", 1921, 2200, required=False)
    return str(Ledger(app.db).export(out / (f"台账_{y}.xlsx" if y else "台账.xlsx"), y))
