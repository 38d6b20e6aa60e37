"""会议方案 · 工作清单 · 任务规划: form values in, a preview and files to download out.

Plain functions over the App (no Gradio): the tabs call them, tests call them in-process.
The branch profile (支部情况) is the one saved in the data directory; the 任务规划 form shows it
and saves it back, and both the plan and the checklist are made for that branch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...inputs import clean_text, parse_date, parse_hours, parse_int, safe_filename
from ...plans.profile import ROLES, WORKER_ROLES, Profile, profile_from_mapping, save_profile, saved_profile
from ...root import App
from ..render import esc, esc_md

PERIODS = ("全年", "第一季度", "第二季度", "第三季度", "第四季度") + tuple(f"{m}月" for m in range(1, 13))
TASK_HEADERS = ["任务名称", "截止日期", "工时", "类型", "删除"]
DELETE_MARK = "✕"
COMMITTEE_CHOICES = ("按人数（正式党员7人以上设）", "设支委会", "不设支委会")
NAMED_ROLES = ROLES + ("党小组长",)  # the posts the form asks names for


def next_monday(today: date | None = None) -> date:
    today = today or date.today()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def default_tasks(today: date | None = None) -> list[list[str]]:
    """Example rows for the planner's task table, dated from next Monday."""
    start = next_monday(today)
    return [
        ["撰写支部年度工作总结", (start + timedelta(days=18)).isoformat(), "6", "重要", DELETE_MARK],
        ["整理党员学习笔记检查情况", (start + timedelta(days=11)).isoformat(), "2", "", DELETE_MARK],
        ["更新党建宣传栏", "", "3", "可延后", DELETE_MARK],
    ]


def parse_period(text: str | None) -> tuple[int | None, int | None]:
    """全年 / 第一季度 (第1季度, Q1) / 3月 → (quarter, month)."""
    t = re.sub(r"\s+", "", str(text or "全年")).upper()
    if t in ("全年", "年度", ""):
        return None, None
    m = re.fullmatch(r"(?:第)?([一二三四1-4])季度|Q([1-4])", t)
    if m:
        q = m.group(1) or m.group(2)
        return ("一二三四".index(q) + 1 if q in "一二三四" else int(q)), None
    m = re.fullmatch(r"(1[0-2]|[1-9])月?", t)
    if m:
        return None, int(m.group(1))
    raise InputError("period", f"期间应为 全年、第一季度…第四季度 或 1月…12月，收到“{text}”")


def table_rows(value: Any) -> list[list]:
    """Rows from a Dataframe value: list of lists, {'headers', 'data'} or a pandas frame."""
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value.get("data") or [])
    if hasattr(value, "values") and hasattr(value, "columns"):
        return value.values.tolist()
    return [list(r) for r in value]


def _cells(row: Any) -> list[str]:
    return [("" if c is None else str(c)).strip() for c in (list(row) + ["", "", "", ""])[:4]]


def task_table(value: Any) -> list[list[str]]:
    """The task table as the page shows it: four fixed columns and the delete mark."""
    return [_cells(r) + [DELETE_MARK] for r in table_rows(value)]


def add_row(value: Any) -> list[list[str]]:
    return task_table(value) + [["", "", "", "", DELETE_MARK]]


def delete_row(value: Any, index: Any) -> list[list[str]]:
    """The table without the row whose delete cell was clicked (``index`` = [row, column])."""
    rows = task_table(value)
    try:
        row, col = int(index[0]), int(index[1])
    except (TypeError, ValueError, IndexError):
        return rows
    if col != len(TASK_HEADERS) - 1 or not 0 <= row < len(rows):
        return rows
    rest = rows[:row] + rows[row + 1:]
    return rest or [["", "", "", "", DELETE_MARK]]


def _members(value: Any) -> int | None:
    """A head count from a form: empty or 0 means not given."""
    n = parse_int(value, "members", 0, 100000, required=False)
    return n or None


def _count(value: Any, key: str) -> int | None:
    """A count where 0 is an answer (no activists) and empty means not said."""
    from ...plans.profile import label

    try:
        return parse_int(value, key, 0, 100000, required=False)
    except InputError:
        raise InputError(key, f"{label(key)}应为 0–100000 的整数（空表示不填），收到“{value}”") from None


# --------------------------------------------------------------------------- the profile form

@dataclass(frozen=True)
class ProfileForm:
    """The 支部情况 form's values, in the order the tab lays them out."""

    branch_type: str = "机关"
    branch_name: str = ""
    members: Any = None
    probationary: Any = None
    committee: str = COMMITTEE_CHOICES[0]
    worker_role: str = "书记"
    hours_per_week: Any = 4
    names: tuple[str, ...] = ("",) * len(NAMED_ROLES)
    party_groups: Any = None
    activists: Any = None
    candidates: Any = None

    def values(self) -> list:
        return [self.branch_type, self.branch_name, self.members, self.probationary, self.committee,
                self.worker_role, self.hours_per_week, *self.names, self.party_groups, self.activists,
                self.candidates]


FORM_FIELDS = len(ProfileForm().values())


def form_of(profile: Profile | None) -> ProfileForm:
    if profile is None:
        return ProfileForm()
    committee = COMMITTEE_CHOICES[0] if profile.committee is None else (
        COMMITTEE_CHOICES[1] if profile.committee else COMMITTEE_CHOICES[2])
    return ProfileForm(
        branch_type=profile.branch_type, branch_name=profile.branch_name, members=profile.members,
        probationary=profile.probationary, committee=committee, worker_role=profile.worker_role,
        hours_per_week=profile.hours_per_week if profile.hours_per_week is not None else 4,
        names=tuple(profile.name_of(r) for r in NAMED_ROLES), party_groups=profile.party_groups,
        activists=profile.activists, candidates=profile.candidates)


def saved_form(app: App) -> ProfileForm:
    """The form prefilled from the saved profile (an unreadable file gives the empty form)."""
    try:
        return form_of(saved_profile(app.settings.data_dir))
    except InputError:
        return ProfileForm()


def profile_from_form(*values: Any, base: Profile | None = None) -> Profile:
    """A Profile from the form's values (see ProfileForm.values for the order)."""
    if len(values) != FORM_FIELDS:
        raise InputError("profile", f"支部情况应有 {FORM_FIELDS} 项，收到 {len(values)} 项")
    (branch_type, branch_name, members, probationary, committee, worker_role, hours) = values[:7]
    names = values[7:7 + len(NAMED_ROLES)]
    party_groups, activists, candidates = values[7 + len(NAMED_ROLES):]
    committee_text = str(committee or COMMITTEE_CHOICES[0])
    if committee_text not in COMMITTEE_CHOICES:
        raise InputError("committee", f"是否设支委会应为 {' / '.join(COMMITTEE_CHOICES)} 之一，收到“{committee_text}”")
    if worker_role not in WORKER_ROLES:
        raise InputError("worker_role", f"我的职务应为 {' / '.join(WORKER_ROLES)} 之一，收到“{worker_role}”")
    roles = {}
    for role, name in zip(NAMED_ROLES, names):
        text = clean_text(name, "name", 40)
        if text:
            roles[role] = text
    prior_hours = dict(base.role_hours) if base else {}
    data = {
        "branch_type": branch_type or "机关",
        "branch_name": clean_text(branch_name, "branch", 60),
        "members": _members(members),
        "probationary": _count(probationary, "probationary"),
        "committee": {COMMITTEE_CHOICES[1]: True, COMMITTEE_CHOICES[2]: False}.get(committee_text),
        "roles": {r: ({"name": roles.get(r, ""), "hours": prior_hours[r]} if r in prior_hours else roles.get(r, ""))
                  for r in dict.fromkeys([*roles, *prior_hours])},
        "worker_role": worker_role,
        "hours_per_week": parse_hours(hours, "hours_per_week", 0.5, 168, required=False) or 4.0,
        "party_groups": _count(party_groups, "party_groups"),
        "activists": _count(activists, "activists"),
        "candidates": _count(candidates, "candidates"),
    }
    keep = {} if base is None else {"combine_meetings": base.combine_meetings, "delegate": base.delegate}
    return profile_from_mapping({**data, **keep}, "支部情况")


def save_form(app: App, *values: Any) -> str:
    """Save the form as the branch profile; a one-line notice with what the rules say of it."""
    profile = profile_from_form(*values, base=_saved(app))
    save_profile(profile, app.settings.data_dir)
    warnings = profile.warnings()
    text = f"已保存支部情况：{esc_md(profile.describe())}"
    if warnings:
        text += "\n\n" + "\n".join(f"> 提示：{esc_md(w)}" for w in warnings)
    return text


def _saved(app: App) -> Profile | None:
    try:
        return saved_profile(app.settings.data_dir)
    except InputError:
        return None


# --------------------------------------------------------------------------- 会议方案

def meeting_plan(app: App, out: Path, meeting_type: str, branch: str, meeting_date: str, topic: str = "",
                 members: Any = None) -> tuple[str, str, str]:
    """(Markdown preview, .docx path, .md path) of a meeting plan."""
    from ...plans.meeting import make_meeting_plan

    plan = make_meeting_plan(meeting_type, branch, (meeting_date or "").strip(), topic=(topic or None),
                             members=_members(members), duties=app.knowledge.duties())
    stem = safe_filename(plan.title, "会议方案")
    docx = plan.write(out / f"{stem}.docx")
    md = plan.write(out / f"{stem}.md")
    return esc_md(plan.to_markdown()), str(docx), str(md)


# --------------------------------------------------------------------------- 工作清单

def _build_checklist(app: App, year: Any, period: str, branch_type: str | None, members: Any,
                     records: bool = True, as_of: date | None = None):
    """The checklist for the saved profile; with ``records`` (a caller allowed to see them) each item
    carries its status from the branch's ledger, as of ``as_of`` (default today)."""
    from ...plans.checklist import build_checklist, period_bounds
    from ...records.progress import app_progress

    y = parse_int(year, "year", 1950, 2200)
    quarter, month = parse_period(period)
    profile = _saved(app)
    duties = app.knowledge.duties()
    progress, notice = None, ""
    if records:
        start, end = period_bounds(y, quarter, month)
        kind = branch_type or (profile.branch_type if profile is not None else "机关")
        progress, notice = app_progress(app, duties, start, end, as_of or date.today(), branch_type=kind,
                                        profile=profile)
    cl = build_checklist(y, quarter=quarter, month=month, branch_type=branch_type or None,
                         members=_members(members), duties=duties, profile=profile, progress=progress)
    cl.notice = notice
    return cl


def _checklist_files(cl, out: Path) -> tuple[str, str]:
    from ...plans.checklist import write_checklist

    stem = safe_filename(cl.title, "工作清单")
    return str(write_checklist(cl, out / f"{stem}.xlsx")), str(write_checklist(cl, out / f"{stem}.ics"))


def _checklist_summary(cl) -> str:
    summary = f"**{esc_md(cl.title)}** {esc_md(cl.subtitle)}：共 {len(cl.items)} 项"
    if cl.events:
        summary += f"；另有 {len(cl.events)} 项按事件触发的工作（如换届、转正），见 Excel 文件的“遇事即办”表"
    if cl.not_applicable:
        summary += (f"。按支部情况不适用 {len(cl.not_applicable)} 项："
                    + "、".join(esc_md(n.name) for n in cl.not_applicable)
                    + "（原因和依据见 Excel 文件的“不适用”表，如 " + esc_md(cl.not_applicable[0].text()) + "）")
    elif cl.profile is None:
        summary += "。尚未保存支部情况：在“任务规划”页填写后，清单只列本支部适用的事项并写上姓名"
    if cl.has_status:
        n = {k: sum(1 for i in cl.items if i.status == k) for k in ("done", "overdue", "pending")}
        summary += (f"。据台账（截至{cl.progress.as_of.isoformat()}）：已完成 {n['done']} 项，"
                    f"已逾期 {n['overdue']} 项" + ("（列在最前，请尽快补做）" if n["overdue"] else "")
                    + f"，待办 {n['pending']} 项")
    if cl.notice:
        summary += f"。{esc_md(cl.notice)}"
    return summary


CHECKLIST_CSS = """
.cl-wrap{width:100%}
.cl-table{width:100%;border-collapse:collapse;table-layout:fixed;font-size:0.92em}
.cl-table th,.cl-table td{border:1px solid #e5e7eb;padding:6px 8px;vertical-align:top;text-align:left;
  white-space:normal;overflow-wrap:anywhere;word-break:break-word}
.cl-table th{background:#fdf2f2;font-weight:600}
.cl-table .c-date{width:7em}.cl-table .c-owner{width:7.5em}.cl-table .c-name{width:16%}
.cl-table .c-std{width:34%}.cl-table .c-basis{width:24%}.cl-table .c-status{width:9em}
.cl-table tr.cl-overdue td.c-status{color:#b91c1c;font-weight:600}.cl-table tr.cl-done td.c-status{color:#15803d}
@media (max-width: 640px){
  .cl-table,.cl-table tbody,.cl-table tr,.cl-table td{display:block;width:100% !important;box-sizing:border-box}
  .cl-table thead,.cl-table colgroup{display:none}
  .cl-table tr{border:1px solid #d1d5db;border-radius:8px;margin:0 0 10px 0;padding:6px 8px;background:#fff}
  .cl-table td{border:none;padding:2px 0}
  .cl-table td::before{content:attr(data-label) "：";font-weight:600;color:#6b7280}
}
"""
_COLUMNS = (("c-date", "日期"), ("c-name", "事项"), ("c-owner", "负责人"), ("c-std", "合格标准"), ("c-basis", "依据"))


def checklist_html(cl) -> str:
    """The checklist as a table that wraps its text; on a phone each duty becomes one card. With the
    branch's records a 状态 column: 已完成（日期） in green, 已逾期 in red (those rows come first)."""
    columns = _COLUMNS[:3] + ((("c-status", "状态"),) if cl.has_status else ()) + _COLUMNS[3:]
    cols = "".join(f'<col class="{c}">' for c, _ in columns)
    head = "".join(f'<th class="{c}">{esc(label)}</th>' for c, label in columns)
    rows = []
    for i in cl.items:
        std = i.standard + (f" {i.note}" if i.note else "")
        cells = (i.due.isoformat(), i.name, cl.who(i.owner)) + ((i.status_text,) if cl.has_status else ()) + (std, i.basis)
        css = "cl-card" + (f" cl-{i.status}" if i.status else "")
        rows.append(f'<tr class="{css}">' + "".join(
            f'<td class="{c}" data-label="{esc(label)}">{esc(v)}</td>' for (c, label), v in zip(columns, cells)) + "</tr>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(columns)}">本期没有到期事项。</td></tr>')
    return (f"<style>{CHECKLIST_CSS}</style><div class=\"cl-wrap\" id=\"checklist-cards\">"
            f"<table class=\"cl-table\"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def checklist(app: App, out: Path, year: Any, period: str = "全年", branch_type: str | None = None,
              members: Any = None, records: bool = True, as_of: date | None = None) -> tuple[str, list[list], str, str]:
    """(summary, table rows, .xlsx path, .ics path) of a checklist for a year, quarter or month (the /checklist API:
    its rows keep their five columns; the summary and the .xlsx carry the records' statuses)."""
    cl = _build_checklist(app, year, period, branch_type, members, records, as_of)
    rows = [[i.due.isoformat(), i.name, cl.who(i.owner), i.standard, i.basis] for i in cl.items]
    xlsx, ics = _checklist_files(cl, out)
    return _checklist_summary(cl), rows, xlsx, ics


def checklist_page(app: App, out: Path, year: Any, period: str = "全年", branch_type: str | None = None,
                   members: Any = None, records: bool = True, as_of: date | None = None) -> tuple[str, str, str, str]:
    """(summary, table/cards HTML, .xlsx path, .ics path) for the page; ``records``: mark each item from the
    branch's ledger (only for callers allowed to see the records)."""
    cl = _build_checklist(app, year, period, branch_type, members, records, as_of)
    xlsx, ics = _checklist_files(cl, out)
    return _checklist_summary(cl), checklist_html(cl), xlsx, ics


# --------------------------------------------------------------------------- 任务规划

def _task_items(tasks: Any, max_tasks: int | None = None) -> list[dict]:
    rows = table_rows(tasks)
    if max_tasks is not None and len(rows) > max_tasks * 2:  # refused before the rows are even read
        raise InputError("tasks", f"任务太多（{len(rows)} 行），一份规划最多 {max_tasks} 条；请分成几份规划")
    items = []
    for row in rows:
        cells = _cells(row)
        if any(cells):
            items.append({"name": cells[0], "deadline": cells[1], "hours": cells[2], "flag": cells[3]})
    return items


def _limits(app: App) -> dict:
    return {"max_tasks": app.settings.max_plan_tasks, "max_weeks": app.settings.max_plan_weeks}


def _plan_files(plan, out: Path) -> tuple[str, str, str]:
    from ...plans.planner import write_plan

    stem = f"任务规划_{plan.start.isoformat()}"
    md = write_plan(plan, out / f"{stem}.md")
    ics = write_plan(plan, out / f"{stem}.ics")
    xlsx = write_plan(plan, out / f"交办清单_{plan.start.isoformat()}.xlsx")
    return str(md), str(ics), str(xlsx)


def plan_tasks(app: App, out: Path, tasks: Any, start: str = "", weeks: Any = 4, hours_per_week: Any = 4,
               branch_type: str | None = "机关", members: Any = None) -> tuple[str, str, str]:
    """(Markdown plan, .md path, .ics path) for the task table and the duties of the period, for the saved
    branch profile (the /plan_tasks API; the hours, branch type and head count given here win)."""
    from ...plans.planner import plan_tasks as make_plan, to_markdown

    start_day = parse_date(start, "start", required=False) or next_monday()
    w = parse_int(weeks, "weeks", 1, app.settings.max_plan_weeks, required=False) or 4
    h = parse_hours(hours_per_week, "hours_per_week", 0.5, 168, required=False) or 4.0
    profile = _saved(app) or Profile()
    duties = app.knowledge.duties()
    progress, _ = _plan_records(app, duties, start_day, w, branch_type or profile.branch_type, profile)
    plan = make_plan(_task_items(tasks, app.settings.max_plan_tasks), start_day, w, h, branch_type=branch_type or None,
                     members=_members(members), duties=duties, profile=profile, progress=progress, **_limits(app))
    md, ics, _ = _plan_files(plan, out)
    return esc_md(to_markdown(plan)), md, ics


def _plan_records(app: App, duties, start: date, weeks: int, branch_type: str, profile):
    """What the branch's ledger says, as of the plan's first day (the 任务规划 tab is for 党务工作者 and up,
    who may see the records): (progress or None, notice)."""
    from ...plans.planner import plan_window
    from ...records.progress import app_progress

    first, last = plan_window(start, weeks)
    return app_progress(app, duties, first, last, start, branch_type=branch_type, profile=profile)


def focus_markdown(plan) -> str:
    """Each week's focus lines first: one screen a week."""
    lines = [f"### {esc_md(plan.profile.describe() if plan.profile else '')}", ""] if plan.profile else []
    for w in plan.weeks:
        lines += [f"**第{w.index + 1}周（{w.start.month}月{w.start.day}日—{w.end.month}月{w.end.day}日）"
                  f"：{w.hours:g} / {w.capacity:g} 小时**", ""]
        lines += [f"{k}. {esc_md(text)}" for k, text in enumerate(w.focus, 1)]
        lines.append("")
    if plan.summary:
        lines += ["**小结**", ""] + [f"- {esc_md(s)}" for s in plan.summary.lines]
    return "\n".join(lines)


def _cell(text: Any) -> str:
    return esc_md(text).replace("|", "\\|").replace("\n", " ")


def handoff_markdown(plan) -> str:
    """The hand-off lists, one table per post (what, by when, hours, why)."""
    if not plan.handoff:
        return "没有需要交办的工作。"
    out = []
    for role, items in plan.handoff.items():
        hours = round(sum(h.hours for h in items), 2)
        out += [f"**交给{_cell(plan.who(role))}：{len(items)}项，{hours:g}小时**", "",
                "| 事项 | 完成时间 | 工时 | 为什么交给他/她 |", "|---|---|---|---|"]
        out += [f"| {_cell(h.name)} | {h.deadline.isoformat() if h.deadline else '—'} | {h.hours:g} | {_cell(h.reason)} |"
                for h in items]
        out.append("")
    return "\n".join(out)


def plan_page(app: App, out: Path, tasks: Any, start: str, weeks: Any, *form: Any) -> tuple[str, str, str, str, str, str, str]:
    """The 任务规划 tab: saves the profile form, then (notice, focus, hand-off tables, full plan, .md, .ics, .xlsx)."""
    from ...plans.planner import plan_tasks as make_plan, to_markdown

    profile = profile_from_form(*form, base=_saved(app))
    start_day = parse_date(start, "start", required=False) or next_monday()
    w = parse_int(weeks, "weeks", 1, app.settings.max_plan_weeks, required=False) or 4
    duties = app.knowledge.duties()
    progress, records_notice = _plan_records(app, duties, start_day, w, profile.branch_type, profile)
    plan = make_plan(_task_items(tasks, app.settings.max_plan_tasks), start_day, w, duties=duties,
                     profile=profile, progress=progress, **_limits(app))
    save_profile(profile, app.settings.data_dir)
    md, ics, xlsx = _plan_files(plan, out)
    notice = "已按这份支部情况生成规划，并保存了支部情况。"
    if plan.records_as_of is not None:
        notice += (f"已按台账排除本期已完成的{len(plan.done)}项工作"
                   + (f"，逾期的{len({i.group for i in plan.overdue_items})}项排在最前补做" if plan.overdue_items else "")
                   + "。")
    hints = ([records_notice] if records_notice else []) + profile.warnings()
    notice += "".join(f"\n\n> 提示：{esc_md(x)}" for x in hints)
    return notice, focus_markdown(plan), handoff_markdown(plan), esc_md(to_markdown(plan)), md, ics, xlsx
