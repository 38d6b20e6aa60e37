"""Requests typed into the chat: "帮我做一个1月15日组织生活会的方案" gets the meeting plan itself,
"下个月支部要做哪些事？" next month's checklist, "事情太多，怎么排？" a week-by-week plan.

Rule-based intent and slot detection (meeting type, date, branch, period), offline; the plan
itself always comes from the same functions as the CLI and the web tabs. What is missing
(the date, the branch) is asked for, not guessed.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .errors import AssistantError
from .inputs import clean_text, parse_date

_MEETING_RE = re.compile(r"(?:做|写|出|拟|起草|准备|弄|生成|搞|制定|列)(?:一个|一份|个|份|下)?.{0,20}?(?:方案|议程|安排)|方案")
_CHECKLIST_RE = re.compile(
    r"(下个?月|本月|这个?月|下季度|下个季度|本季度|这个季度|今年|明年|全年|第[一二三四1-4]季度|(?:1[0-2]|[1-9])月份?)"
    r".{0,12}?(?:要做|该做|做哪些|做什么|干什么|干啥|有哪些(?:工作|事)|工作清单|清单|任务|哪些事|什么事|工作)")
_PLAN_RE = re.compile(r"事情太多|事太多|忙不过来|排不过来|怎么排|如何排|帮我排|安排不过来|时间不够|顾不过来|眉毛胡子一把抓.*(?:排|安排)|"
                      r"(?:排|安排)(?:一下)?(?:每周|这几周|最近|下周)")
_MONTH_DAY_RE = re.compile(r"(?:(\d{4})\s*年\s*)?(1[0-2]|0?[1-9])\s*月\s*([12]\d|3[01]|0?[1-9])\s*(?:日|号)")
_RELATIVE_DAY = {"今天": 0, "明天": 1, "后天": 2, "大后天": 3}
_WEEKDAY_RE = re.compile(r"(下)?(?:周|星期|礼拜)([一二三四五六日天])")
_BRANCH_RE = re.compile(r"([\u4e00-\u9fffA-Za-z0-9（）()]{0,40}?(?:党支部|党总支|党委))")
_BRANCH_CUT_RE = re.compile(r".*(?:日|号|的|给|为|帮|个|份|替|做|写|在)")
_MEMBERS_RE = re.compile(r"(\d{1,4})\s*(?:名|个|位)?(?:党员|人)")


@dataclass
class Request:
    """A request for a document: its kind, the parameters found, and what is still missing."""

    kind: str  # meeting_plan | checklist | plan_tasks
    params: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"kind": self.kind, "params": {k: (v.isoformat() if isinstance(v, date) else v)
                                              for k, v in self.params.items()}, "missing": list(self.missing)}


def _day(text: str, today: date) -> date | None:
    """A meeting day named in a request: 2027-01-15, 1月15日 (the next such day), 明天, 下周三."""
    m = re.search(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?", text)
    if m:
        try:
            return parse_date(m.group(0))
        except AssistantError:
            return None
    m = _MONTH_DAY_RE.search(text)
    if m:
        year = int(m.group(1)) if m.group(1) else today.year
        try:
            day = date(year, int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
        return day if m.group(1) or day >= today else date(year + 1, day.month, day.day)
    for word, offset in sorted(_RELATIVE_DAY.items(), key=lambda kv: -len(kv[0])):
        if word in text:
            return today + timedelta(days=offset)
    m = _WEEKDAY_RE.search(text)
    if m:
        target = "一二三四五六日".index(m.group(2).replace("天", "日"))
        ahead = (target - today.weekday()) % 7 + (7 if m.group(1) else 0)
        return today + timedelta(days=ahead or 7)
    return None


def _period(text: str, today: date) -> dict[str, int]:
    """year and month or quarter of a checklist request (下个月 → next month)."""
    month_of = lambda offset: (today.year + (today.month - 1 + offset) // 12, (today.month - 1 + offset) % 12 + 1)  # noqa: E731
    if re.search(r"下个?月", text):
        year, month = month_of(1)
        return {"year": year, "month": month}
    if re.search(r"本月|这个?月", text):
        return {"year": today.year, "month": today.month}
    quarter = (today.month - 1) // 3 + 1
    if re.search(r"下个?季度", text):
        return {"year": today.year + quarter // 4, "quarter": quarter % 4 + 1}
    if re.search(r"本季度|这个季度", text):
        return {"year": today.year, "quarter": quarter}
    m = re.search(r"第([一二三四1-4])季度", text)
    if m:
        q = "一二三四".index(m.group(1)) + 1 if m.group(1) in "一二三四" else int(m.group(1))
        return {"year": today.year + (q < quarter), "quarter": q}
    m = re.search(r"(1[0-2]|[1-9])月份?", text)
    if m:
        month = int(m.group(1))
        return {"year": today.year + (month < today.month), "month": month}
    return {"year": today.year + 1 if "明年" in text else today.year}


def detect(question: str, meeting_aliases: dict[str, str], today: date | None = None) -> Request | None:
    """The request in a chat message, or None for a question."""
    text = unicodedata.normalize("NFKC", question or "").strip()
    today = today or date.today()
    mtype = next((meeting_aliases[a] for a in sorted(meeting_aliases, key=len, reverse=True) if a in text), None)
    if mtype and _MEETING_RE.search(text):
        params: dict[str, Any] = {"type": mtype}
        day = _day(text, today)
        branch = _BRANCH_RE.search(text.replace(mtype, " "))
        members = _MEMBERS_RE.search(text)
        if day:
            params["date"] = day
        name = _BRANCH_CUT_RE.sub("", branch.group(1)) if branch else ""
        if len(name) > len("党支部"):
            params["branch"] = clean_text(name, "branch", 60)
        if members:
            params["members"] = int(members.group(1))
        return Request("meeting_plan", params, [k for k in ("date", "branch") if k not in params])
    if _PLAN_RE.search(text):
        return Request("plan_tasks", {"start": today + timedelta(days=(7 - today.weekday()) % 7), "weeks": 4})
    if _CHECKLIST_RE.search(text):
        return Request("checklist", _period(text, today))
    return None


MISSING_CN = {"date": "会议日期（如 1月15日）", "branch": "党支部名称（如 XX局机关第一党支部）"}


def fulfil(app, request: Request, out_dir: Path | None) -> tuple[str, list[Path]]:
    """The requested document: a Markdown preview for the chat, and the files written to
    out_dir (none when out_dir is None or something is missing). The branch's name and its
    situation come from the saved branch profile when the message does not say them."""
    from .plans.profile import saved_profile

    profile = saved_profile(app.settings.data_dir)
    if request.kind == "meeting_plan" and "branch" in request.missing and profile and profile.branch_name:
        request.params["branch"] = profile.branch_name
        request.missing.remove("branch")
    if request.missing:
        asked = "、".join(MISSING_CN.get(m, m) for m in request.missing)
        what = {"meeting_plan": f"{request.params.get('type', '会议')}方案"}.get(request.kind, "文档")
        return f"可以为您生成{what}。还需要：{asked}。请补充后再发一次，例如“帮我做一个1月15日XX党支部组织生活会的方案”。", []
    duties = app.knowledge.duties()
    p = request.params
    files: list[Path] = []
    if request.kind == "meeting_plan":
        from .inputs import safe_filename
        from .plans.meeting import make_meeting_plan

        plan = make_meeting_plan(p["type"], p["branch"], p["date"], members=p.get("members"), duties=duties)
        if out_dir is not None:
            stem = safe_filename(plan.title, "会议方案")
            files = [plan.write(out_dir / f"{stem}.docx"), plan.write(out_dir / f"{stem}.md")]
        return f"已生成《{plan.title}》：\n\n{plan.to_markdown()}", files
    if request.kind == "checklist":
        from .inputs import safe_filename
        from .plans.checklist import build_checklist, to_markdown, write_checklist

        cl = build_checklist(p["year"], quarter=p.get("quarter"), month=p.get("month"), duties=duties)
        if out_dir is not None:
            stem = safe_filename(cl.title, "工作清单")
            files = [write_checklist(cl, out_dir / f"{stem}.xlsx"), write_checklist(cl, out_dir / f"{stem}.ics")]
        return f"{cl.title}（共 {len(cl.items)} 项）：\n\n{to_markdown(cl)}", files
    from .plans.planner import plan_tasks, plan_window, to_markdown, write_plan
    from .records.progress import app_progress

    # a plan is for 党务工作者 and up (REQUEST_ROLES), who may see the records: done work is left out, overdue first
    first, last = plan_window(p["start"], p["weeks"])
    progress, _ = app_progress(app, duties, first, last, p["start"],
                               branch_type=profile.branch_type if profile else "机关", profile=profile)
    plan = plan_tasks([], p["start"], p["weeks"], None if profile and profile.hours_per_week else 4.0,
                      duties=duties, profile=profile, progress=progress)
    if out_dir is not None:
        files = [write_plan(plan, out_dir / f"任务规划_{plan.start.isoformat()}.md")]
    hint = "" if profile else "（还没有保存支部情况：在“任务规划”里填写后，会按您的职务、每周时间和支委分工来排。）"
    return ("先把规定必须做的事按周排好，再把您自己的任务加进来（网页“任务规划”或 plan-tasks 命令）" + hint + "：\n\n"
            + to_markdown(plan)), files
