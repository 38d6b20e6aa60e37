"""会议方案 · 工作清单 · 任务规划: form values in, a preview and files to download out."""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...inputs import parse_date, parse_hours, parse_int, safe_filename
from ...root import App
from ..render import esc_md

PERIODS = ("全年", "第一季度", "第二季度", "第三季度", "第四季度") + tuple(f"{m}月" for m in range(1, 13))
TASK_HEADERS = ["任务名称", "截止日期", "工时（小时）", "类型（可空）"]


def next_monday(today: date | None = None) -> date:
    today = today or date.today()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def default_tasks(today: date | None = None) -> list[list[str]]:
    """Example rows for the planner's task table, dated from next Monday."""
    start = next_monday(today)
    return [
        ["撰写支部年度工作总结", (start + timedelta(days=18)).isoformat(), "6", "重要"],
        ["整理党员学习笔记检查情况", (start + timedelta(days=11)).isoformat(), "2", ""],
        ["更新党建宣传栏", "", "3", "可延后"],
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


def _members(value: Any) -> int | None:
    """A head count from a form: empty or 0 means not given."""
    n = parse_int(value, "members", 0, 100000, required=False)
    return n or None


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


def checklist(app: App, out: Path, year: Any, period: str = "全年", branch_type: str = "机关",
              members: Any = None) -> tuple[str, list[list], str, str]:
    """(summary, table rows, .xlsx path, .ics path) of a checklist for a year, quarter or month."""
    from ...plans.checklist import build_checklist, write_checklist

    y = parse_int(year, "year", 1950, 2200)
    quarter, month = parse_period(period)
    cl = build_checklist(y, quarter=quarter, month=month, branch_type=branch_type, members=_members(members),
                         duties=app.knowledge.duties())
    rows = [[i.due.isoformat(), i.name, i.owner, i.standard, i.basis] for i in cl.items]
    stem = safe_filename(cl.title, "工作清单")
    xlsx = write_checklist(cl, out / f"{stem}.xlsx")
    ics = write_checklist(cl, out / f"{stem}.ics")
    summary = f"**{esc_md(cl.title)}** {esc_md(cl.subtitle)}：共 {len(cl.items)} 项"
    if cl.events:
        summary += f"；另有 {len(cl.events)} 项按事件触发的工作（如换届、转正），见 Excel 文件"
    return summary, rows, str(xlsx), str(ics)


def plan_tasks(app: App, out: Path, tasks: Any, start: str = "", weeks: Any = 4, hours_per_week: Any = 4,
               branch_type: str = "机关", members: Any = None) -> tuple[str, str, str]:
    """(Markdown plan, .md path, .ics path) for the task table and the duties of the period."""
    from ...plans.planner import plan_tasks as make_plan, to_markdown, write_plan

    items = []
    for row in table_rows(tasks):
        cells = [("" if c is None else str(c)).strip() for c in (list(row) + ["", "", "", ""])[:4]]
        if any(cells):
            items.append({"name": cells[0], "deadline": cells[1], "hours": cells[2], "flag": cells[3]})
    start_day = parse_date(start, "start", required=False) or next_monday()
    w = parse_int(weeks, "weeks", 1, 260, required=False) or 4
    h = parse_hours(hours_per_week, "hours_per_week", 0.5, 168, required=False) or 4.0
    duties = app.knowledge.duties()
    plan = make_plan(items, start_day, w, h, branch_type=branch_type, members=_members(members), duties=duties)
    stem = f"任务规划_{plan.start.isoformat()}"
    md = write_plan(plan, out / f"{stem}.md")
    ics = write_plan(plan, out / f"{stem}.ics")
    return esc_md(to_markdown(plan)), str(md), str(ics)
