"""Task planner (任务规划): a plan a part-time worker can follow — one screen a week, who does what,
and the branch as it really is.

``plan_tasks(tasks, start, weeks, hours_per_week, profile=…)`` takes the worker's own to-dos and the
duties of knowledge/obligations.yaml that fall in the window, and decides for each piece of work
who does it and when:

1. duties the branch profile rules out (no 支委会, no 积极分子 …) are not planned; each is listed once
   in ``not_applicable`` with the rule; without a 支委会 its business goes to the 党员大会;
2. a to-do that names a duty or its preparation (筹备组织生活会, 收党费, 年度总结, 党务公开) is merged
   with it: planned once, with the worker's hours and deadline where given;
3. meetings the rules allow to hold together (民主评议党员 with 组织生活会 …) become one meeting;
4. the worker's hours go, in this order, to: the worker's meetings (in their week, or moved within
   their period; a meeting that cannot be held takes its preparation with it), the worker's
   rule-required work (preparation the rules require before our suggested steps), the worker's own
   重要 and then 可延后 tasks, and only then the other posts' work;
5. what does not fit is, first, handed to the post the duty names (hand-off lists, with names);
   then the worker's 可延后 work is deferred; what is left is the shortfall, in hours, with what it
   would take. The 党小组长's work and meetings the 书记 convenes are theirs by rule (第十四条).

No week is planned over capacity; every piece of work ends in exactly one place (placed, handed off,
deferred); each week starts with at most five focus lines; the plan ends with a short summary.
The result is deterministic for the same input.

With ``progress`` (assistant.records.progress: what the branch's ledger says, as of the start) a
duty whose period is already done is not planned again (listed in ``done`` with its dates), and a
duty whose due date passed without a record gets one catch-up (逾期补做) on the first day, placed
before everything else.
"""
from __future__ import annotations

import calendar
import json
import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ..errors import InputError
from ..inputs import MAX_YEAR, MIN_YEAR, shorten
from ..settings import default
from .calendar_export import CalendarEntry, write_ics as _write_ics
from .obligations import (
    BRANCH_TYPES,
    OWNERS,
    Condition,
    Duty,
    PrepStep,
    applies,
    load_conditions,
    load_obligations,
    occurrences,
)
from .profile import WORKER_ROLES, NotApplicable, Profile, excluded, step_not_needed

__all__ = [
    "KINDS", "RIGID", "IMPORTANT", "LATER", "FOCUS_LINES",
    "Task", "PlanItem", "Week", "Deferred", "Handoff", "Summary", "Plan",
    "parse_tasks_text", "parse_tasks_yaml", "load_tasks", "recognise",
    "plan_tasks", "plan_window", "to_markdown", "write_markdown", "write_ics", "write_handoff_xlsx", "write_plan",
]

RIGID, IMPORTANT, LATER = "刚性任务", "重要不紧急", "可延后"
MAX_TASKS = default("max_plan_tasks")  # the callers with settings pass theirs (ASSISTANT_MAX_PLAN_TASKS)
MAX_WEEKS = default("max_plan_weeks")
MAX_MEMBERS = 100000
KINDS = (RIGID, IMPORTANT, LATER)
_RANK = {RIGID: 0, IMPORTANT: 1, LATER: 2}
_FLAGS = {
    "刚性": RIGID, "刚性任务": RIGID, "必须": RIGID, "规定": RIGID, "rule": RIGID, "required": RIGID, "rigid": RIGID,
    "重要": IMPORTANT, "重要不紧急": IMPORTANT, "important": IMPORTANT,
    "可延后": LATER, "延后": LATER, "可选": LATER, "later": LATER, "optional": LATER, "defer": LATER,
}
_EPS = 1e-9
_MIN_CHUNK = 0.5  # split work into pieces of at least half an hour
FOCUS_LINES = 5  # each week starts with at most this many lines
CATCH_UP_DAYS = 4  # a catch-up (逾期补做) is held at most this many days after the start (its preparation first)
FORMATS = (".md", ".ics", ".json", ".xlsx")
PREP_WORDS = ("筹备", "准备", "筹划", "方案")  # a to-do naming a duty with one of these means its preparation
_WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class Task:
    """One of the worker's own to-dos.

    ``flag`` is a kind (刚性任务 / 重要不紧急 / 可延后) or None to classify from the
    deadline; ``duty`` optionally links an obligations.yaml id (e.g. an event such as
    huanjie_xuanju with the election day as deadline) so its preparation steps are planned too.
    """

    name: str
    hours: float
    deadline: date | None = None
    flag: str | None = None
    duty: str | None = None
    line: int | None = None


# --------------------------------------------------------------------------- parsing

_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_HOURS_RE = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(?:h|小时|时)?$", re.IGNORECASE)
_NONE = {"", "-", "—", "无", "none", "null", "~"}

_KEY_ALIASES = {
    "name": "name", "名称": "name", "任务": "name", "事项": "name",
    "deadline": "deadline", "截止": "deadline", "截止日期": "deadline", "due": "deadline",
    "hours": "hours", "工时": "hours", "小时": "hours",
    "flag": "flag", "标记": "flag", "类型": "flag", "kind": "flag",
    "optional": "optional", "可延后": "optional", "可选": "optional",
    "duty": "duty", "规定事项": "duty",
}
_TASK_FIELDS = "name、deadline、hours、flag、optional、duty"


def _where(source: str, line: int | None, item: int | None = None) -> str:
    if line is not None:
        return f"{source} 第{line}行"
    if item is not None:
        return f"{source} 第{item}项"
    return source


def _parse_date(value: Any, where: str, line: int | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if text.lower() in _NONE:
        return None
    m = _DATE_RE.match(text)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    raise InputError("deadline", f"{where}：deadline（截止日期）应为 YYYY-MM-DD 格式的日期，收到 {text!r}")


def _parse_hours(value: Any, where: str, line: int | None, *, allow_none: bool = False) -> float | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in _NONE):
        if allow_none:
            return None
        raise InputError("hours", f"{where}：hours（工时）不能为空")
    if isinstance(value, bool):
        raise InputError("hours", f"{where}：hours（工时）应为数字，收到 {value!r}")
    if isinstance(value, (int, float)):
        hours = float(value)
    else:
        m = _HOURS_RE.match(str(value).strip())
        if not m:
            raise InputError("hours", f"{where}：hours（工时）应为数字（小时），收到 {str(value).strip()!r}")
        hours = float(m.group(1))
    if hours != hours or hours in (float("inf"), float("-inf")):
        raise InputError("hours", f"{where}：hours（工时）应为有限数字，收到 {value!r}")
    if hours < 0:
        raise InputError("hours", f"{where}：hours（工时）不能为负数，收到 {hours:g}")
    if hours > 1000:
        raise InputError("hours", f"{where}：hours（工时）过大（{hours:g}），请拆分成更小的任务")
    return round(hours, 2)


def _parse_flag(value: Any, where: str, line: int | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in _NONE:
        return None
    kind = _FLAGS.get(text) or _FLAGS.get(text.lower())
    if kind is None:
        raise InputError("flag", f"{where}：flag（标记）应为 刚性 / 重要 / 可延后 之一，收到 {text!r}")
    return kind


def _parse_optional(value: Any, where: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "yes", "y", "1", "是", "可延后", "可选", "可以"):
        return True
    if text in ("false", "no", "n", "0", "否", "不", "") or text in _NONE:
        return False
    raise InputError("optional", f"{where}：optional（可延后）应为 true 或 false，收到 {str(value).strip()!r}")


def _check_duty(value: Any, where: str, line: int | None, duties: list[Duty] | None) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    duty_id = str(value).strip()
    known = {d.id for d in (duties if duties is not None else load_obligations())}
    if duty_id not in known:
        raise InputError("duty", f"{where}：duty（规定事项）{duty_id!r} 不在 obligations.yaml 中")
    return duty_id


def _task_from_mapping(raw: Mapping, where: str, line: int | None, duties: list[Duty] | None) -> Task:
    if not isinstance(raw, Mapping):
        raise InputError("task", f"{where}：每个任务应为 name/deadline/hours/flag 映射，收到 {raw!r}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        canon = _KEY_ALIASES.get(str(key).strip()) or _KEY_ALIASES.get(str(key).strip().lower())
        if canon is None:
            raise InputError(str(key), f"{where}：未知字段 {key!r}（可用 {_TASK_FIELDS}）")
        values[canon] = value
    duty_id = _check_duty(values.get("duty"), where, line, duties)
    name = values.get("name")
    if (name is None or str(name).strip() == "") and duty_id:
        name = next(d.name for d in (duties if duties is not None else load_obligations()) if d.id == duty_id)
    if name is None or not str(name).strip():
        raise InputError("name", f"{where}：缺少 name（任务名称）")
    hours = _parse_hours(values.get("hours"), where, line, allow_none=duty_id is not None)
    if hours is None:  # a linked duty brings its own effort
        hours = next(d.effort_hours for d in (duties if duties is not None else load_obligations()) if d.id == duty_id)
    flag = _parse_flag(values.get("flag"), where, line)
    if _parse_optional(values.get("optional"), where):
        if flag not in (None, LATER):
            raise InputError("optional", f"{where}：optional（可延后）为 true，但 flag（标记）是“{flag}”，两者矛盾")
        flag = LATER
    return Task(
        name=str(name).strip(),
        hours=hours,
        deadline=_parse_date(values.get("deadline"), where, line),
        flag=flag,
        duty=duty_id,
        line=line,
    )


def parse_tasks_text(text: str, source: str = "任务文件", duties: list[Duty] | None = None) -> list[Task]:
    """One task per line: ``名称 | 截止日期 | 工时 | 标记`` (also tab- or comma-separated).

    The deadline may be empty or "-"; the flag is optional; blank lines and
    lines starting with # are ignored.
    """
    tasks: list[Task] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "|" in line:
            parts = line.split("|")
        elif "\t" in line:
            parts = line.split("\t")
        else:
            parts = re.split(r"[,，]", line)
        parts = [p.strip() for p in parts]
        where = _where(source, n)
        if len(parts) < 3:
            raise InputError("hours", f"{where}：缺少 hours（工时）栏，应为“名称 | 截止日期 | 工时 | 标记（可选）”，只找到 {len(parts)} 栏：{line!r}")
        if len(parts) > 5:
            raise InputError("name", f"{where}：栏数过多（{len(parts)} 栏），名称中请勿使用分隔符 | 或逗号")
        fields = dict(zip(("name", "deadline", "hours", "flag", "duty"), parts))
        tasks.append(_task_from_mapping(fields, where, n, duties))
    return tasks


def parse_tasks_yaml(text: str, source: str = "任务文件", duties: list[Duty] | None = None) -> list[Task]:
    """A YAML list of {name, deadline, hours, flag?, optional?, duty?} (or {tasks: [...]})."""
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError("yaml", f"{_where(source, line)}：不是合法的 YAML（{getattr(exc, 'problem', exc)}）") from None
    if data is None:
        return []
    items_node = node
    if isinstance(data, dict):
        if "tasks" not in data:
            raise InputError("tasks", f"{source}：顶层应为任务列表，或含 tasks: 列表的映射")
        data = data["tasks"]
        items_node = next((v for k, v in node.value if k.value == "tasks"), None)
        if data is None:
            return []
    if not isinstance(data, list):
        raise InputError("tasks", f"{source}：tasks 应为列表，收到 {type(data).__name__}")
    lines = [child.start_mark.line + 1 for child in getattr(items_node, "value", [])] if items_node is not None else []
    tasks = []
    for i, raw in enumerate(data):
        line = lines[i] if i < len(lines) else None
        where = f"{_where(source, line)}（第{i + 1}项）" if line else _where(source, None, i + 1)
        tasks.append(_task_from_mapping(raw, where, line, duties))
    return tasks


def load_tasks(path: Path, duties: list[Duty] | None = None) -> list[Task]:
    """Read a tasks file: .yaml/.yml as YAML, anything else as one task per line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("file", f"找不到任务文件 {path}") from None
    except UnicodeDecodeError:
        raise InputError("file", f"任务文件 {path} 不是 UTF-8 文本") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return parse_tasks_yaml(text, path.name, duties)
    return parse_tasks_text(text, path.name, duties)


# --------------------------------------------------------------------------- recognising duties in to-dos

def _alias_score(alias: str, text: str) -> int:
    parts = [p for p in alias.split("+") if p]
    return sum(len(p) for p in parts) if parts and all(p in text for p in parts) else 0


def recognise(name: str, duties: Iterable[Duty]) -> tuple[Duty, str, PrepStep | None] | None:
    """Which duty a to-do names, and how: ("duty", d, None) for the duty itself, ("prep", d, None)
    for its preparation (筹备组织生活会), ("step", d, step) for one preparation step (年度工作总结).
    The longest matching alias wins; None when the to-do names no duty."""
    text = re.sub(r"\s+", "", name)
    best: tuple[int, int, Duty, str, PrepStep | None] | None = None
    for order, d in enumerate(duties):
        if d.frequency == "event":
            continue
        for alias in d.aliases:
            score = _alias_score(alias, text)
            if score and (best is None or score > best[0]):
                mode = "prep" if any(w in text for w in PREP_WORDS) else "duty"
                best = (score, order, d, mode, None)
        for step in d.prep:
            for alias in step.aliases:
                score = _alias_score(alias, text)
                if score and (best is None or score >= best[0]):
                    best = (score, order, d, "step", step)
    if best is None:
        return None
    return best[2], best[3], best[4]


# --------------------------------------------------------------------------- plan data

@dataclass(frozen=True)
class PlanItem:
    name: str
    hours: float
    deadline: date | None
    kind: str
    reason: str
    owner: str | None = None  # the post that does it (in the worker's plan: the worker's post)
    group: str = ""  # ties preparation to its meeting, e.g. "组织生活会（12月15日）"
    meeting: bool = False  # the meeting (or dated duty) itself
    basis: str = ""  # the rule, short: 支部工作条例第十七条
    taken_from: str = ""  # another post's work the worker takes on because there is time
    day: date | None = None  # meetings: the day they are held
    title: str = ""  # meetings: the name without its date
    why: str = ""  # meetings: the rule, in a few words, for the week's focus
    overdue: bool = False  # a catch-up of a duty the records show overdue

    def to_dict(self) -> dict:
        out = {
            "name": self.name,
            "hours": self.hours,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "kind": self.kind,
            "reason": self.reason,
            "owner": self.owner,
        }
        if self.overdue:
            out["overdue"] = True
        return out


@dataclass
class Week:
    index: int  # 0-based
    start: date
    capacity: float
    items: list[PlanItem] = field(default_factory=list)
    focus: list[str] = field(default_factory=list)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def hours(self) -> float:
        return round(sum(i.hours for i in self.items), 2)

    def to_dict(self) -> dict:
        return {"start": self.start.isoformat(), "hours": self.hours, "items": [i.to_dict() for i in self.items],
                "focus": list(self.focus)}


@dataclass(frozen=True)
class Deferred:
    name: str
    reason: str
    hours: float = 0.0
    deadline: date | None = None
    kind: str = LATER
    cause: str = "later"  # later (可延后) / shortfall (required, no room) / after (after the window) / meeting
    group: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "reason": self.reason, "hours": self.hours, "kind": self.kind}


@dataclass(frozen=True)
class Handoff:
    """A piece of work for another post: what, by when, why."""

    role: str
    person: str
    name: str
    hours: float
    deadline: date | None
    reason: str
    cause: str  # rule (theirs by rule) / capacity (did not fit the worker's week) / delegate (profile says so)
    group: str = ""
    over: bool = False  # beyond the hours that person has (when the profile gives them)

    def to_dict(self) -> dict:
        return {"name": self.name, "deadline": self.deadline.isoformat() if self.deadline else None,
                "hours": self.hours, "reason": self.reason, "person": self.person or None}


@dataclass(frozen=True)
class Summary:
    needed_hours: float
    available_hours: float
    placed_hours: float
    handed_off_hours: float
    deferred_hours: float
    shortfall_hours: float  # rule-required or important work nobody could take
    taken_over_hours: float  # other posts' work the worker does because there was time
    busiest_week_hours: float  # what the busiest week would need to hold everything the worker must do
    lines: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"needed_hours": self.needed_hours, "available_hours": self.available_hours,
                "handed_off_hours": self.handed_off_hours, "deferred_hours": self.deferred_hours,
                "placed_hours": self.placed_hours, "shortfall_hours": self.shortfall_hours,
                "lines": list(self.lines)}


@dataclass(frozen=True)
class DoneDuty:
    """A duty occurrence the records show done: not planned again."""

    name: str
    due: date
    period: str  # 12月 / 第四季度 / 2026年 …
    done: tuple[date, ...]

    def to_dict(self) -> dict:
        return {"name": self.name, "due": self.due.isoformat(), "period": self.period,
                "done": [d.isoformat() for d in self.done]}


@dataclass
class Plan:
    start: date
    hours_per_week: float
    branch_type: str
    members: int | None
    weeks: list[Week]
    deferred: list[Deferred]
    handoff: dict[str, list[Handoff]] = field(default_factory=dict)
    not_applicable: list[NotApplicable] = field(default_factory=list)
    summary: Summary | None = None
    profile: Profile | None = None
    worker_role: str = "书记"
    ledger: list[tuple[str, str, float]] = field(default_factory=list)  # (work, placed/handoff/deferred, hours)
    done: list[DoneDuty] = field(default_factory=list)  # from the records: done this period, not planned
    records_as_of: date | None = None  # the records were used (as of this day)

    @property
    def overdue_items(self) -> list[PlanItem]:
        return [it for w in self.weeks for it in w.items if it.overdue]

    @property
    def end(self) -> date:
        return self.weeks[-1].end if self.weeks else self.start

    def person(self, role: str) -> str:
        return self.profile.name_of(role) if self.profile else ""

    def who(self, role: str) -> str:
        return role + (f"（{self.person(role)}）" if self.person(role) else "")

    def to_dict(self) -> dict:
        out = {
            "weeks": [w.to_dict() for w in self.weeks],
            "deferred": [d.to_dict() for d in self.deferred],
            "handoff": {role: [h.to_dict() for h in items] for role, items in self.handoff.items()},
            "summary": self.summary.to_dict() if self.summary else None,
            "not_applicable": [n.to_dict() for n in self.not_applicable],
        }
        if self.records_as_of is not None:  # only when the records were used: otherwise as before
            out["records_as_of"] = self.records_as_of.isoformat()
            out["done"] = [d.to_dict() for d in self.done]
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


# --------------------------------------------------------------------------- units of work

@dataclass
class _Unit:
    name: str
    hours: float
    deadline: date | None  # prep: its lead-time date; meeting: its day; own task: its deadline
    kind: str
    reason: str  # why it exists / how it was classified
    seq: int  # input order, for determinism
    duty_owner: str | None = None  # the post the duty or step names
    doer: str = ""  # the post that should do it in this branch
    doer_note: str = ""  # why the doer is not the duty's owner
    target: str = ""  # another post whose work this is: it takes it when the worker has no room
    fallback: str = ""  # the worker's own step of another post's meeting: that post takes it when there is no room
    fixed: bool = False  # a meeting / dated duty: sits in the week of its day
    splittable: bool = False
    release: date | None = None  # not before this date
    latest: date | None = None  # preparation: done before the meeting
    from_duty: bool = False
    group: str = ""  # the occurrence it belongs to ("" for own tasks)
    label: str = ""  # 组织生活会（12月15日）
    meeting: bool = False
    essential: bool = True
    own: bool = False  # on the worker's own list (an own task, or a duty merged with one)
    bound: str = ""  # why it is the doer's by rule, whoever has time
    basis: str = ""
    movable: tuple[date, date] | None = None  # a meeting may move within this period
    rarity: int = 0  # meetings: 0 yearly … 3 monthly (the rarer, the harder to move: placed first)
    title: str = ""
    why: str = ""
    after: bool = False  # a merged step dated after the window
    overdue: bool = False  # a catch-up of a duty the records show overdue: placed first


def _short_doc(doc: str) -> str:
    special = {"关于中国共产党党费收缴、使用和管理的规定": "党费规定",
               "中国共产党党和国家机关基层组织工作条例": "机关基层组织工作条例",
               "中国共产党支部工作条例（试行）": "支部工作条例"}
    return special.get(doc, doc.removeprefix("中国共产党").replace("（试行）", "") or doc)


def _basis(d: Duty) -> str:
    s = d.sources[0]
    return f"《{_short_doc(s.doc)}》{s.article}"


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _period_of(frequency: str, day: date) -> tuple[date, date]:
    """The period of a recurring duty that contains ``day``."""
    months = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}[frequency]
    first = ((day.month - 1) // months) * months + 1
    last = first + months - 1
    return date(day.year, first, 1), date(day.year, last, calendar.monthrange(day.year, last)[1])


@dataclass
class _Occ:
    """One occurrence of a duty in the plan, with what the worker's list and the profile change about it."""

    duty: Duty
    due: date
    partners: list[tuple[Duty, date, Any]] = field(default_factory=list)  # (partner, its own date, Combine)
    main_hours: float | None = None
    merged_main: str = ""
    merged_prep: str = ""
    prep_total: float | None = None
    prep_cap: date | None = None
    steps: dict[str, tuple[float, date | None, str]] = field(default_factory=dict)  # step → (hours, date, to-do)
    flag_note: str = ""
    late: str = ""  # a catch-up: the periods the records show missed (11月、12月)
    missed: date | None = None  # … and the last due date that passed

    @property
    def key(self) -> str:
        return f"{self.duty.id}@{self.due.isoformat()}" + ("!late" if self.late else "")


class _Builder:
    """Turns duties, the profile and the worker's to-dos into units of work."""

    def __init__(self, profile: Profile, generic: bool, start: date, end: date, duties: list[Duty],
                 conditions: Mapping[str, Condition]):
        self.p = profile
        self.generic = generic
        self.start, self.end = start, end
        self.duties = duties
        self.conditions = conditions
        self.committee = True if generic else profile.has_committee
        self.not_applicable: list[NotApplicable] = []
        self._na_seen: set[str] = set()

    def _na(self, na: NotApplicable) -> None:
        if na.name not in self._na_seen:
            self._na_seen.add(na.name)
            self.not_applicable.append(na)

    def duty_name(self, d: Duty) -> str:
        return d.name_without_committee if (not self.committee and d.name_without_committee) else d.name

    def steps(self, d: Duty, skip: Iterable[str] = ()) -> list[PrepStep]:
        out = []
        for s in d.prep:
            if s.name in skip:
                continue
            t = s.for_committee(self.committee)
            if t is None:
                self._na(step_not_needed(d, s.name, self.conditions))
                continue
            out.append(t)
        return out

    def units(self, occ: _Occ, members: int | None, seq: int) -> list[_Unit]:
        d, due = occ.duty, occ.due
        name = self.duty_name(d)
        late = "逾期补做，" if occ.late else ""
        label = f"{name}（{late}{_md(due)}）"
        partners = occ.partners
        if partners:
            label = f"{name}（与{'、'.join(self.duty_name(p) for p, _, _ in partners)}合并，{late}{_md(due)}）"
        basis = _basis(d)
        pieces: list[tuple[Duty, PrepStep]] = [(d, s) for s in self.steps(d)]
        for p, _, c in partners:
            pieces += [(p, s) for s in self.steps(p, c.skip_prep)]
        scale = 1.0
        if occ.prep_total is not None:  # the worker's hours for the preparation of this duty
            base = sum(s.hours for o, s in pieces if o is d)
            scale = occ.prep_total / base if base > 0 else 0.0
        units: list[_Unit] = []
        latest_prep = max((s.offset_days for _, s in pieces), default=0)
        for owner_duty, step in sorted(pieces, key=lambda ps: (-ps[1].offset_days, ps[1].name)):
            when = due - timedelta(days=step.offset_days)
            mine = owner_duty is d and bool(occ.merged_prep)
            hours = round(step.hours * scale, 2) if owner_duty is d else step.hours
            own = mine
            note = f"；合并了你的任务“{occ.merged_prep}”（工时按你填写的{occ.prep_total:g}小时分摊）" if mine else ""
            if occ.prep_cap is not None and when > occ.prep_cap:
                when = occ.prep_cap
            if step.name in occ.steps:
                hours, deadline, todo = occ.steps[step.name]
                when = deadline or when
                own = True
                note = f"；合并了你的任务“{todo}”"
            step_label = self.duty_name(owner_duty)
            units.append(_Unit(
                name=f"{step_label}准备：{step.name}", hours=hours, deadline=when, kind=RIGID,
                reason=f"{label}的准备，建议{_md(when)}前完成{note}",
                seq=seq, duty_owner=step.owner, splittable=True, from_duty=True, group=occ.key, label=label,
                essential=step.essential, own=own, basis=_basis(owner_duty),
                latest=due - timedelta(days=1),
            ))
        main_hours = occ.main_hours
        if d.per_member:
            qty = members or 1
            hours = main_hours if main_hours is not None else round(d.effort_hours * qty, 2)
            who = f"{members}名党员" if members else "党员人数未填，按1人估算"
            units.append(_Unit(
                name=f"{name}（{who}）", hours=hours, deadline=due, kind=RIGID,
                reason=f"{basis}要求每名党员每年至少{d.times}次，{_md(due)}前完成" + (
                    f"；合并了你的任务“{occ.merged_main}”" if occ.merged_main else ""),
                seq=seq, duty_owner=d.owner, splittable=True, from_duty=True, group=occ.key, label=label,
                release=due - timedelta(days=latest_prep) if latest_prep else None, own=bool(occ.merged_main),
                basis=basis,
            ))
        else:
            hours = main_hours if main_hours is not None else max([d.effort_hours] + [p.effort_hours for p, _, _ in partners])
            if partners:
                rules = "；".join(f"{self.duty_name(p)}可与{name}合并进行（" + "、".join(
                    f"《{_short_doc(s.doc)}》{s.article}" for s in c.sources) + "）" for p, _, c in partners)
                together = "、".join(self.duty_name(p) for p, _, _ in partners)
                title = f"{name}（与{together}合并召开）"
                mname = f"{name}（与{together}合并召开，{late}{due.isoformat()}）"
                why = f"条规允许合并召开：{rules}；一次会议完成，省去重复的准备"
                short = f"{together}与之合并（" + "、".join(
                    f"《{_short_doc(s.doc)}》{s.article}" for _, _, c in partners for s in c.sources[:1]) + "）"
            else:
                title = name
                mname = f"{name}（{late}{due.isoformat()}）"
                why = f"{basis}规定的{name}，{_md(due)}到期"
                short = f"{d.timing.split('；')[0]}（{basis}）"
            if occ.late:
                title = f"{title}（逾期补做）"
                why = f"逾期：{occ.late}的{name}应在{_md(occ.missed)}前完成，台账中没有记录（{basis}），排在最前补做"
                short = f"逾期补做：{occ.late}没有台账记录（{basis}）"
            if occ.merged_main:
                why += f"；合并了你的任务“{occ.merged_main}”"
            if occ.flag_note:
                why += occ.flag_note
            period = None if d.frequency == "event" else _period_of(d.frequency, due)
            for p, _, _ in partners:  # a combined meeting stays inside every partner's period
                lo, hi = _period_of(p.frequency, due)
                period = (max(period[0], lo), min(period[1], hi))
            if occ.late:  # a catch-up: as early as the plan allows, in whichever week has room
                period = (self.start, self.end)
            units.append(_Unit(
                name=mname, hours=hours, deadline=due, kind=RIGID, reason=why, seq=seq, duty_owner=d.owner,
                fixed=True, group=occ.key, label=label, meeting=True, own=bool(occ.merged_main), basis=basis,
                movable=period, title=title, why=short,
                rarity={"year": 0, "half_year": 1, "quarter": 2, "month": 3}.get(d.frequency, 4),
            ))
        if occ.late:
            for u in units:
                u.overdue = True
                if not u.meeting:
                    u.reason = f"逾期补做（{occ.late}没有台账记录）：{u.reason}"
        return units


def _fallbacks(units: list[_Unit], worker: str) -> None:
    """The worker's own step of a meeting another post runs: that post takes it when the worker has no room."""
    runs = {u.group: u.doer for u in units if u.meeting and u.group}
    for u in units:
        if not u.meeting and u.group and not u.target and u.doer == worker:
            doer = runs.get(u.group, worker)
            if doer != worker:
                u.fallback = doer


def _assign(u: _Unit, p: Profile, generic: bool) -> None:
    """Who does ``u`` in this branch; whether it is theirs by rule; who takes it when the worker cannot."""
    worker = p.worker_role
    if u.duty_owner is None or generic:
        u.doer = worker
        return
    doer, note = p.assignee(u.duty_owner)
    u.doer_note = note
    if doer == "党小组长" and worker != "党小组长":
        u.doer, u.bound = doer, "党小组会由党小组组长召集主持（《支部工作条例》第十四条）"
        return
    if u.meeting and doer == "书记" and worker != "书记":
        u.doer, u.bound = doer, "支部党员大会、支委会由支部书记召集主持（《支部工作条例》第十四条）"
        return
    if u.own:
        u.doer = worker
        u.target = doer if doer != worker else ""
        return
    u.doer = doer
    u.target = doer if doer != worker else ""


# --------------------------------------------------------------------------- scheduling

class _Scheduler:
    def __init__(self, start: date, weeks: int, hours_per_week: float, who: str = ""):
        self.start = start
        self.n = weeks
        self.cap = hours_per_week
        self.left = [hours_per_week] * weeks
        self.placed: list[list[tuple[int, int, PlanItem, int]]] = [[] for _ in range(weeks)]
        self.counter = 0
        self.who = who
        self.movable: dict[int, tuple[_Unit, bool, str, str]] = {}  # placed work that may move to another week

    def week_of(self, d: date) -> int:
        return (d - self.start).days // 7

    def clamp(self, w: int) -> int:
        return max(0, min(w, self.n - 1))

    def label(self, w: int) -> str:
        ws = self.start + timedelta(days=7 * w)
        return f"第{w + 1}周（{_md(ws)}起）"

    def _put(self, w: int, u: _Unit, hours: float, reason: str, name: str | None = None,
             day: date | None = None, taken: str = "") -> None:
        self.left[w] = round(self.left[w] - hours, 6)
        self.counter += 1
        item = PlanItem(name=name or u.name, hours=round(hours, 2), deadline=day or u.deadline, kind=u.kind, reason=reason,
                        owner=self.who or u.doer, group=u.label, meeting=u.meeting, basis=u.basis,
                        taken_from=taken, day=day, title=u.title or u.name, why=u.why, overdue=u.overdue)
        self.placed[w].append((_RANK[u.kind], self.counter, item, id(u)))

    def fits(self, w: int, hours: float) -> bool:
        return hours <= self.left[w] + _EPS

    def place_meeting(self, u: _Unit, note: str = "", taken: str = "", move: bool = True) -> date | None:
        """In the week of its day; else (``move``) another week of its period, nearest first. Returns its day."""
        w0 = self.week_of(u.deadline)
        if 0 <= w0 < self.n and self.fits(w0, u.hours):
            self._put(w0, u, u.hours, u.reason + note, day=u.deadline, taken=taken)
            return u.deadline
        if not move or u.movable is None:
            return None
        lo, hi = u.movable
        options = []
        for w in range(self.n):
            day = u.deadline + timedelta(days=7 * (w - w0))
            if w != w0 and lo <= day <= hi and day >= self.start:
                options.append((abs(w - w0), w > w0, w, day))
        for _, _, w, day in sorted(options, key=lambda o: (o[0], not o[1], o[2])):  # nearest, later first
            if self.fits(w, u.hours):
                where = "逾期补做，尽早安排" if u.overdue else "仍在规定的周期内"
                self._put(w, u, u.hours, f"{u.reason}；{self.label(w0)}已排满，改在{_md(day)}召开（{where}）{note}",
                          name=u.name.replace(u.deadline.isoformat(), day.isoformat()), day=day, taken=taken)
                return day
        return None

    def _weeks_for(self, u: _Unit, backward: bool) -> list[int]:
        lo = self.clamp(self.week_of(u.release)) if u.release is not None else 0
        if u.deadline is None:
            return list(range(lo, self.n))
        ideal = self.week_of(u.deadline)
        if ideal >= self.n and not backward:
            return list(range(lo, self.n))
        ideal = self.clamp(ideal)
        if not backward:
            return list(range(lo, max(lo, ideal) + 1))
        last = ideal
        if u.latest is not None:
            last = max(ideal, self.clamp(self.week_of(u.latest)))
        order = list(range(ideal, lo - 1, -1)) + list(range(ideal + 1, last + 1))
        return order or [lo]

    def _split(self, u: _Unit, weeks: list[int], note: str, taken: str) -> bool:
        plan: list[tuple[int, float]] = []
        need = u.hours
        for w in weeks:
            room = self.left[w]
            if room + _EPS < min(_MIN_CHUNK, need):
                continue
            take = min(room, need)
            plan.append((w, take))
            need = round(need - take, 6)
            if need <= _EPS:
                break
        if need > _EPS:
            return False
        plan.sort()
        total = len(plan)
        for k, (w, take) in enumerate(plan, 1):
            self._put(w, u, take, f"{u.reason}；{note}（第{k}/{total}部分）", name=f"{u.name}（{k}/{total}）", taken=taken)
        return True

    def place(self, u: _Unit, backward: bool, taken: str = "", note: str = "") -> bool:
        """Rule-required work (``backward``): the week of its own date, else earlier, else later but before
        its meeting. The worker's own tasks: the earliest week with room before the deadline. Split when
        no single week has room."""
        ok = self._place(u, backward, taken, note)
        if ok:
            self.movable[id(u)] = (u, backward, taken, note)
        return ok

    def _place(self, u: _Unit, backward: bool, taken: str, note: str) -> bool:
        weeks = self._weeks_for(u, backward)
        if not weeks:
            return False
        late = u.deadline is not None and u.deadline < self.start
        ideal = weeks[0] if backward else None
        for w in weeks:
            if self.fits(w, u.hours):
                if late:
                    reason = f"{u.reason}；建议日期已过，请尽快补做"
                elif not backward:
                    if u.deadline is not None and u.deadline <= self.start + timedelta(days=7 * self.n - 1):
                        reason = f"{u.reason}；第{w + 1}周有空余工时，在截止前完成"
                    else:
                        reason = f"{u.reason}；排在条规要求的工作之后的空余工时"
                elif w == ideal:
                    reason = f"{u.reason}，排在当周"
                elif w < ideal:
                    reason = f"{u.reason}；第{ideal + 1}周已满，提前到第{w + 1}周"
                else:
                    reason = f"{u.reason}；第{ideal + 1}周已满，推迟到第{w + 1}周（仍在会前）"
                self._put(w, u, u.hours, reason + note, taken=taken)
                return True
        if u.splittable and u.hours > 0:
            return self._split(u, weeks, ("分几周完成" if backward else "单周放不下，拆分到多周") + note, taken)
        return False

    # ---- making room: move already placed work to another week of its own window
    def _snapshot(self):
        return list(self.left), [list(p) for p in self.placed], self.counter, dict(self.movable)

    def _restore(self, snap) -> None:
        self.left, self.placed, self.counter, self.movable = list(snap[0]), [list(p) for p in snap[1]], snap[2], dict(snap[3])

    def _remove(self, uid: int) -> None:
        for w in range(self.n):
            keep = []
            for entry in self.placed[w]:
                if entry[3] == uid:
                    self.left[w] = round(self.left[w] + entry[2].hours, 6)
                else:
                    keep.append(entry)
            self.placed[w] = keep
        self.movable.pop(uid, None)

    def make_room(self, u: _Unit, weeks: list[int], place_u, limit: int = 24) -> bool:
        """Place ``u`` (``place_u()``) by moving one piece of placed work out of one of ``weeks`` to another
        week of that work's own window; nothing is ever displaced out of the plan. False: no such move."""
        tried = 0
        for w in weeks:
            if not 0 <= w < self.n:
                continue
            cands = {e[3] for e in self.placed[w] if e[3] in self.movable and e[3] != id(u)}
            ranked = sorted(cands, key=lambda uid: (-_RANK[self.movable[uid][0].kind],
                                                    -len(self._weeks_for(self.movable[uid][0], self.movable[uid][1])),
                                                    self.movable[uid][0].seq, self.movable[uid][0].name))
            for uid in ranked:
                tried += 1
                if tried > limit:
                    return False
                snap = self._snapshot()
                other, backward, taken, note = self.movable[uid]
                self._remove(uid)
                if place_u() and self.place(other, backward, taken, note):
                    return True
                self._restore(snap)
        return False

    def place_or_move(self, u: _Unit, backward: bool, taken: str = "", note: str = "") -> bool:
        if self.place(u, backward, taken, note):
            return True
        return self.make_room(u, self._weeks_for(u, backward), lambda: self.place(u, backward, taken, note))

    def meeting_or_move(self, u: _Unit, note: str = "", taken: str = "", move: bool = True) -> date | None:
        day = self.place_meeting(u, note=note, taken=taken, move=move)
        if day is not None:
            return day
        got: list[date] = []

        def again() -> bool:
            d = self.place_meeting(u, note=note, taken=taken, move=False)
            if d is not None:
                got.append(d)
            return d is not None
        if self.make_room(u, [self.week_of(u.deadline)], again):
            return got[-1]
        return None

    def free(self, u: _Unit, backward: bool) -> float:
        return round(sum(max(self.left[w], 0) for w in set(self._weeks_for(u, backward))), 2)

    def weeks(self) -> list[Week]:
        out = []
        for w in range(self.n):
            items = [e[2] for e in sorted(self.placed[w], key=lambda t: (t[0], t[2].deadline or date.max, t[1]))]
            out.append(Week(index=w, start=self.start + timedelta(days=7 * w), capacity=self.cap, items=items))
        return out


def _validate(start, weeks, hours_per_week, branch_type, members, max_weeks: int = MAX_WEEKS) -> None:
    if not isinstance(start, date):
        raise InputError("start", f"start（开始日期）应为日期，收到 {shorten(repr(start))}")
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= max_weeks:
        raise InputError("weeks", f"weeks（周数）应为 1–{max_weeks} 的整数，收到 {shorten(repr(weeks))}")
    if start.year > MAX_YEAR or (start + timedelta(days=7 * weeks)).year > MAX_YEAR + 10:
        raise InputError("start", f"start（开始日期）的年份应在 {MIN_YEAR}–{MAX_YEAR} 之间，收到 {start.isoformat()}")
    if isinstance(hours_per_week, bool) or not isinstance(hours_per_week, (int, float)) \
            or hours_per_week != hours_per_week:
        raise InputError("hours_per_week", f"hours_per_week（每周工时）应为数字，收到 {hours_per_week!r}")
    if hours_per_week <= 0:
        raise InputError("hours_per_week", f"hours_per_week（每周工时）应大于0，收到 {hours_per_week:g}")
    if hours_per_week > 168:
        raise InputError("hours_per_week", f"hours_per_week（每周工时）不能超过168，收到 {hours_per_week:g}")
    if branch_type not in BRANCH_TYPES:
        raise InputError("branch_type", f"branch_type（支部类型）应为 {' / '.join(BRANCH_TYPES)} 之一，收到 {branch_type!r}")
    if members is not None and (isinstance(members, bool) or not isinstance(members, int)
                                or not 1 <= members <= MAX_MEMBERS):
        raise InputError("members", f"members（党员人数）应为 1–{MAX_MEMBERS} 的整数，收到 {shorten(repr(members))}")


def _parse_task_list(tasks, duties, by_id, max_tasks: int = MAX_TASKS) -> list[Task]:
    tasks = list(tasks)
    if len(tasks) > max_tasks:  # before any of the work: each task is placed week by week
        raise InputError("tasks", f"任务太多（{len(tasks)} 条），一份规划最多 {max_tasks} 条"
                                  "（ASSISTANT_MAX_PLAN_TASKS）；请分成几份规划")
    parsed: list[Task] = []
    for i, t in enumerate(tasks):
        if isinstance(t, Task):
            where = f"第{i + 1}个任务（{t.name}）"
            if t.hours < 0:
                raise InputError("hours", f"{where}：hours（工时）不能为负数，收到 {t.hours:g}")
            if t.duty and t.duty not in by_id:
                raise InputError("duty", f"{where}：duty（规定事项）{t.duty!r} 不在 obligations.yaml 中")
            flag = _parse_flag(t.flag, where, t.line)
            parsed.append(t if flag == t.flag else Task(t.name, t.hours, t.deadline, flag, t.duty, t.line))
        else:
            parsed.append(_task_from_mapping(t, f"第{i + 1}个任务", None, duties))
    return parsed


def _own_units(task: Task, seq: int, end: date) -> _Unit:
    if task.flag:
        kind, why = task.flag, "按任务文件的标记"
    elif task.deadline is not None and task.deadline <= end:
        kind, why = IMPORTANT, f"截止 {task.deadline.isoformat()} 在规划期内"
    elif task.deadline is not None:
        kind, why = LATER, f"截止 {task.deadline.isoformat()} 在规划期之后"
    else:
        kind, why = LATER, "没有截止日期"
    return _Unit(name=task.name, hours=task.hours, deadline=task.deadline, kind=kind, reason=f"{kind}：{why}",
                 seq=seq, splittable=True, own=True)


def _linked_units(task: Task, d: Duty, builder: _Builder, members: int | None, seq: int) -> list[_Unit]:
    """A to-do linked to a duty by its ``duty`` field (e.g. an election day): the duty and its preparation."""
    if task.deadline is None:
        raise InputError("deadline", f"任务“{task.name}”关联了规定事项 {task.duty}，需要 deadline（截止日期）")
    occ = _Occ(d, task.deadline, main_hours=task.hours, merged_main=task.name)
    units = builder.units(occ, members, seq)
    for u in units:
        u.own = True
        if u.meeting:
            u.name = task.name
            u.movable = None
        if task.flag and task.flag != RIGID:
            u.kind = task.flag
            u.reason = f"{task.flag}（按任务文件的标记）：{u.reason}"
    return units


def plan_window(start: date, weeks: int) -> tuple[date, date]:
    """The days whose duties a plan may touch: its weeks and the preparation horizon after them
    (what to read the records for)."""
    horizon = max((s.offset_days for d in load_obligations() for s in d.prep), default=0)
    return start, start + timedelta(days=7 * weeks - 1 + horizon)


def plan_tasks(tasks: Iterable[Task | Mapping[str, Any]], start: date, weeks: int, hours_per_week: float | None = None,
               branch_type: str | None = None, members: int | None = None, *,
               duties: list[Duty] | None = None, include_duties: bool = True,
               role: str | None = None, profile: Profile | None = None,
               conditions: list[Condition] | None = None, max_tasks: int = MAX_TASKS,
               max_weeks: int = MAX_WEEKS, progress=None) -> Plan:
    """Plan the worker's tasks plus the rule-required duties due in the window.

    ``tasks`` are Task objects or mappings with name/deadline/hours/flag/optional/duty.
    ``profile`` is the branch as it is (posts and names, members, pipeline, the worker's post and
    hours); without one every duty of the branch type is planned and all of it is the worker's.
    ``hours_per_week``, ``branch_type``, ``members`` and ``role`` (the worker's post) override it.
    ``duties`` defaults to knowledge/obligations.yaml; ``include_duties=False`` plans only the tasks.
    ``progress`` (assistant.records.progress.Progress, as of ``start``): what the records show done is
    not planned again (``Plan.done``); what they show overdue is caught up first (marked 逾期).
    """
    generic = profile is None
    p = profile or Profile()
    p = p.replace(branch_type=branch_type, hours_per_week=hours_per_week)
    if members is not None:
        p = replace(p, members=members, probationary=None if generic else p.probationary)
    if role is not None:
        if role not in WORKER_ROLES:
            raise InputError("role", f"role（我的职务）应为 {' / '.join(WORKER_ROLES)} 之一，收到 {role!r}")
        p = replace(p, worker_role=role)
    if p.hours_per_week is None:
        raise InputError("hours_per_week", "hours_per_week（每周工时）不能为空：在支部情况中填写，或在规划时给出")
    _validate(start, weeks, p.hours_per_week, p.branch_type, members if members is not None else (p.total_members or None),
              max_weeks)
    duties = load_obligations() if duties is None else duties
    if conditions is None:
        conditions = load_conditions()
    cond_by_id = {c.id: c for c in conditions}
    by_id = {d.id: d for d in duties}
    parsed = _parse_task_list(tasks, duties, by_id, max_tasks)
    worker = p.worker_role
    head = members if members is not None else p.total_members
    cap = float(p.hours_per_week)
    end = start + timedelta(days=7 * weeks - 1)
    if not generic and not p.has_committee:
        duties = [d.for_committee(False) for d in duties]
    builder = _Builder(p, generic, start, end, duties, cond_by_id)

    # ---- which duties apply, and their occurrences
    occs: dict[str, _Occ] = {}
    order: list[str] = []
    catch_up: list[str] = []  # overdue by the records
    done: list[DoneDuty] = []  # done by the records: not planned
    active: list[Duty] = []
    if include_duties:
        for d in duties:
            if d.frequency == "event" or not applies(d, p.branch_type):
                continue
            if not generic:
                na = excluded(p, d, cond_by_id)
                if na is not None:
                    horizon = max((s.offset_days for s in d.prep), default=0)
                    if occurrences(d, start, end + timedelta(days=horizon)):
                        builder._na(na)
                    continue
            active.append(d)
            horizon = max((s.offset_days for s in d.prep), default=0)
            if progress is not None:
                late = [x for x in progress.overdue(d.id) if (x.due or x.end) < start]
                if late:  # one catch-up for what the records show missed, first
                    from ..records.progress import periods_text

                    # in the first week, late enough in it for its preparation to come first
                    occ = _Occ(d, start + timedelta(days=min(horizon, CATCH_UP_DAYS)), late=periods_text(late),
                               missed=late[-1].due or late[-1].end)
                    occs[occ.key] = occ
                    catch_up.append(occ.key)
            for due in occurrences(d, start, end + timedelta(days=horizon)):
                held = progress.done_period(d.id, due) if progress is not None else None
                if held is not None:
                    from ..records.progress import period_label

                    done.append(DoneDuty(builder.duty_name(d), due, period_label(held.key), held.done))
                    continue
                occ = _Occ(d, due)
                occs[occ.key] = occ
                order.append(occ.key)
    order = catch_up + order
    active_ids = {d.id for d in active}

    # ---- the worker's to-dos that name a duty are merged with it
    own_tasks: list[tuple[int, Task]] = []
    linked: list[tuple[int, Task]] = []
    seq = len(order)
    for t in parsed:
        seq += 1
        if t.duty:
            linked.append((seq, t))
            continue
        hit = recognise(t.name, active) if active else None
        occ = None
        if hit is not None:
            d, mode, step = hit
            mine = [occs[k] for k in order if occs[k].duty.id == d.id]
            if t.deadline is not None and mine:
                occ = min(mine, key=lambda o: (abs((o.due - t.deadline).days), o.due))
            elif mine:
                occ = mine[0]
            if occ is not None:
                if mode == "duty" and not occ.merged_main:
                    occ.merged_main = t.name
                    occ.main_hours = t.hours
                    if t.deadline is not None and start <= t.deadline <= end and not d.per_member:
                        new = _Occ(**{**occ.__dict__, "due": t.deadline})
                        i = order.index(occ.key)
                        del occs[occ.key]
                        order[i] = new.key
                        occs[new.key] = new
                        occ = new
                    if t.flag and t.flag != RIGID:
                        occ.flag_note = f"；你标为“{t.flag}”，但这是条规要求的工作，仍按刚性任务安排"
                elif mode == "prep" and not occ.merged_prep:
                    occ.merged_prep = t.name
                    occ.prep_total = t.hours
                    occ.prep_cap = t.deadline if t.deadline is not None and t.deadline < occ.due else None
                elif mode == "step" and step.name not in occ.steps:
                    occ.steps[step.name] = (t.hours, t.deadline, t.name)
                else:
                    occ = None
        if occ is None:
            own_tasks.append((seq, t))

    # ---- meetings the rules allow to hold together
    if p.combine_meetings:
        absorbed: set[str] = set()
        for key in list(order):
            host = occs.get(key)
            if host is None or key in absorbed:
                continue
            for c in host.duty.combine:
                if c.with_id not in active_ids:
                    continue
                for pk in order:
                    partner = occs.get(pk)
                    if partner is None or pk in absorbed or pk == key or partner.duty.id != c.with_id:
                        continue
                    if partner.due < start or partner.partners or bool(partner.late) != bool(host.late):
                        continue
                    if _period_of(partner.duty.frequency, partner.due) != _period_of(partner.duty.frequency, host.due):
                        continue
                    host.partners.append((partner.duty, partner.due, c))
                    if partner.merged_main and not host.merged_main:
                        host.merged_main, host.main_hours = partner.merged_main, None
                    if partner.merged_prep and not host.merged_prep:
                        host.merged_prep, host.prep_total, host.prep_cap = (
                            partner.merged_prep, partner.prep_total, partner.prep_cap)
                    host.steps.update({k: v for k, v in partner.steps.items() if k not in host.steps})
                    absorbed.add(pk)
                    break
        order = [k for k in order if k not in absorbed]

    # ---- units
    units: list[_Unit] = []
    after: list[_Unit] = []  # dated after the window: reported, not planned now
    for i, key in enumerate(order):
        for u in builder.units(occs[key], head, i):
            if u.deadline is not None and u.deadline > end and not (u.own and not u.meeting):
                continue
            if u.meeting and u.deadline < start:
                continue
            units.append(u)
    for s, t in linked:
        for u in _linked_units(t, by_id[t.duty], builder, head, s):
            if u.deadline is not None and u.deadline > end:
                after.append(u)
                continue
            if u.meeting and u.deadline < start:  # a linked meeting already past: catch-up work now
                u.fixed, u.meeting = False, False
            units.append(u)
    for s, t in own_tasks:
        units.append(_own_units(t, s, end))
    for u in units + after:
        _assign(u, p, generic)
        if u.own and u.from_duty and u.deadline is not None and u.deadline > end and not u.meeting:
            # a merged step the rules date after the window: the worker still wants it done now if there is time
            u.kind = LATER if u.kind == RIGID else u.kind
            u.reason += f"；按规定在 {u.deadline.isoformat()} 前完成即可，在本规划期之后"
            u.after = True

    if not generic:
        _fallbacks(units, p.worker_role)
    plan = _schedule(units, after, p, generic, start, weeks, cap, end, builder.not_applicable)
    if progress is not None:
        plan.done = sorted(done, key=lambda x: (x.due, x.name))
        plan.records_as_of = progress.as_of
        plan.summary = replace(plan.summary, lines=plan.summary.lines + tuple(_records_lines(plan)))
    return plan


def _records_lines(plan: Plan) -> list[str]:
    """What the records changed in the plan, for the summary."""
    lines = []
    if plan.done:
        lines.append(f"据台账（截至{plan.records_as_of.isoformat()}），本期已完成{len(plan.done)}项，不再安排："
                     + _names(f"{x.name}（{x.period}，{'、'.join(_md(d) for d in x.done)}）" for x in plan.done) + "。")
    late = list(dict.fromkeys(it.group or it.name for it in plan.overdue_items))
    if late:
        lines.append(f"逾期{len(late)}项排在最前补做：{_names(late)}；补做后请记入台账，并在会议记录中说明原因。")
    return lines


# --------------------------------------------------------------------------- deciding who does what, and when

def _schedule(units: list[_Unit], after: list[_Unit], p: Profile, generic: bool, start: date, weeks: int,
              cap: float, end: date, not_applicable: list[NotApplicable]) -> Plan:
    worker = p.worker_role
    sched = _Scheduler(start, weeks, cap, who=worker)
    helpers: dict[str, _Scheduler] = {}
    handoff: list[Handoff] = []
    deferred: list[tuple[tuple, Deferred]] = []
    ledger: list[tuple[str, str, float]] = []
    dead_groups: dict[str, str] = {}  # meeting groups whose meeting could not be held → why
    meeting_day: dict[str, date] = {}

    def defer(u: _Unit, why: str, cause: str) -> None:
        key = (_RANK[u.kind] if cause != "after" else 3, u.deadline or date.max, u.seq, u.name)
        deferred.append((key, Deferred(name=u.name, reason=why, hours=u.hours, deadline=u.deadline, kind=u.kind,
                                       cause=cause, group=u.label)))
        ledger.append((u.name, "deferred", u.hours))

    def hand(u: _Unit, role: str, cause: str, why: str) -> None:
        over = False
        hours_of = None if generic else p.hours_of(role)
        if hours_of is not None:
            helper = helpers.setdefault(role, _Scheduler(start, weeks, float(hours_of), who=role))
            ok = helper.place_meeting(u, move=False) is not None if u.meeting else helper.place(u, backward=True)
            if not ok:
                over = True
                why += f"；超出其每周{hours_of:g}小时，需另行商量"
        handoff.append(Handoff(role=role, person="" if generic else p.name_of(role), name=u.name, hours=u.hours,
                               deadline=u.deadline, reason=why, cause=cause, group=u.label, over=over))
        ledger.append((u.name, "handoff", u.hours))

    def placed(u: _Unit) -> None:
        ledger.append((u.name, "placed", u.hours))

    def shortfall(u: _Unit, backward: bool) -> None:
        free = sched.free(u, backward)
        if u.after:
            defer(u, f"按规定在{_md(u.deadline)}前完成即可（在本规划期之后），本期剩余工时只有{free:g}小时，下一期再排",
                  "later")
        elif u.kind == LATER:
            defer(u, f"可延后：本期剩余工时只有{free:g}小时，放到下一个规划期", "later")
        elif u.kind == IMPORTANT and u.hours > cap + _EPS:
            defer(u, f"需{u.hours:g}小时，截止前剩余工时只有{free:g}小时：拆分成每次不超过{cap:g}小时的小步，"
                     f"与交办人商量推迟截止日期，或请其他同志分担", "shortfall")
        elif u.kind == IMPORTANT:
            defer(u, f"截止前剩余工时只有{free:g}小时：与交办人商量推迟，或请其他同志分担", "shortfall")
        else:
            defer(u, f"条规要求的工作，可用的周里只剩{free:g}小时", "shortfall")

    def post(u: _Unit) -> str:
        return u.target or u.doer

    def takeover_note(u: _Unit) -> str:
        return f"（原由{p.who(post(u))}负责，你本期有余力）" if post(u) != worker else ""

    def cant_fit(u: _Unit, backward: bool) -> None:
        """The worker has no room: the post the duty names takes it, else it is short."""
        if u.target and not generic:
            hand(u, u.target, "capacity", f"{u.label or u.name}：你的工时排不下，按分工由{p.who(u.target)}负责" + (
                f"（{u.basis}）" if u.basis else ""))
        elif u.fallback and not generic:
            hand(u, u.fallback, "capacity", f"{u.label}由{p.who(u.fallback)}负责；你的工时排不下，这一步一并请其办理")
        else:
            shortfall(u, backward)

    # 1. the worker's meetings, in their week or moved within their period; none → its preparation goes too
    mine = [u for u in units if u.doer == worker and not u.bound and not u.target]
    others = [u for u in units if (u.doer != worker or u.target) and not u.bound]
    bound = [u for u in units if u.bound]
    for u in sorted((u for u in mine if u.meeting and u.kind == RIGID),
                    key=lambda u: (not u.overdue, u.rarity, u.deadline, u.seq, u.name)):
        day = sched.meeting_or_move(u, note=("；" + u.doer_note) if u.doer_note else "")
        if day is not None:
            meeting_day[u.group] = day
            placed(u)
        elif u.target and not generic and u.target != worker:
            hand(u, u.target, "capacity", f"{u.label}：你当周已排满，按分工由{p.who(u.target)}负责（{u.basis}）")
            dead_groups[u.group] = ""
        else:
            dead_groups[u.group] = f"{u.label}未能排入（当周和同一周期内各周都已排满）"
            defer(u, f"条规要求的会议，需{u.hours:g}小时，{sched.label(sched.clamp(sched.week_of(u.deadline)))}"
                     f"及同一周期内其他周都已排满", "meeting")

    def shift(u: _Unit) -> None:
        day = meeting_day.get(u.group)
        if day is not None and u.deadline is not None:
            base = next((x.deadline for x in units if x.group == u.group and x.meeting), None)
            if base is not None and day != base:
                delta = day - base
                u.deadline = u.deadline + delta
                u.latest = day - timedelta(days=1)
                u.reason += f"（会议改在{_md(day)}，准备相应{'提前' if delta.days < 0 else '推后'}）"

    def in_dead_group(u: _Unit) -> bool:
        if u.group in dead_groups:
            why = dead_groups[u.group]
            if why:
                defer(u, f"{why}，它的准备一并暂缓；会议重新定期后再做", "meeting")
            else:  # the meeting went to its owner: its preparation goes with it
                role = next((h.role for h in handoff if h.group == u.label and h.cause == "capacity"), u.target or worker)
                hand(u, role, "capacity", f"{u.label}已交{p.who(role)}召开，准备随会议一并交办")
            return True
        return False

    # 2. the worker's rule-required work: required steps before suggested ones, each by its date
    rigid = [u for u in mine if not u.meeting and u.kind == RIGID]
    for u in sorted(rigid, key=lambda u: (not u.overdue, not u.essential, u.deadline or date.max, u.seq, u.name)):
        if in_dead_group(u):
            continue
        shift(u)
        backward = u.from_duty
        if sched.place_or_move(u, backward=backward, note=("；" + u.doer_note) if u.doer_note else ""):
            placed(u)
        else:
            cant_fit(u, backward)
    # 3. the worker's own 重要, then 可延后 work (a meeting flagged as not rule-required included)
    rest = [u for u in mine if u.kind != RIGID]
    for u in sorted(rest, key=lambda u: (_RANK[u.kind], u.deadline or date.max, u.seq, u.name)):
        if in_dead_group(u):
            continue
        if u.meeting:
            day = sched.meeting_or_move(u, move=False)
            if day is not None:
                placed(u)
            else:
                shortfall(u, False)
            continue
        if sched.place_or_move(u, backward=u.from_duty and not u.after):
            placed(u)
        else:
            cant_fit(u, False) if u.kind == RIGID else shortfall(u, False)
    # 4. the other posts' work: the worker does what fits (unless the profile says always hand off);
    #    a meeting handed to its post takes that post's preparation of it along
    handed_groups: dict[str, str] = {}
    for u in sorted(others, key=lambda u: (not u.overdue, not u.meeting, not u.essential, u.deadline or date.max,
                                           u.seq, u.name)):
        if u.group in dead_groups and u.group not in handed_groups:
            in_dead_group(u)
            continue
        role = post(u)
        basis = f"（{u.basis}）" if u.basis else ""
        if p.delegate:
            hand(u, role, "delegate", f"{u.label or u.name}：按分工由{p.who(role)}负责{basis}")
            continue
        if u.group and handed_groups.get(u.group) == role:
            hand(u, role, "capacity", f"{u.label}已交{p.who(role)}，准备随会议一并交办")
            continue
        if u.meeting:
            day = sched.meeting_or_move(u, note=takeover_note(u), taken=role, move=False)
            if day is not None:
                meeting_day[u.group] = day
                placed(u)
            else:
                handed_groups[u.group] = role
                hand(u, role, "capacity", f"{u.label}：你当周已排满，按分工由{p.who(role)}负责{basis}")
            continue
        shift(u)
        if sched.place_or_move(u, backward=u.from_duty and not u.after, taken=role, note=takeover_note(u)):
            placed(u)
        else:
            hand(u, role, "capacity", f"{u.label or u.name}：你的工时排不下，按分工由{p.who(role)}负责{basis}")
    # 5. what is another post's by rule
    for u in sorted(bound, key=lambda u: (u.deadline or date.max, u.seq, u.name)):
        hand(u, u.doer, "rule", f"{u.bound}")
    # 6. linked work dated after the window
    for u in after:
        defer(u, f"{u.kind}：日期 {u.deadline.isoformat()} 在本规划期（至 {end.isoformat()}）之后，本期不排；"
                 f"在下一个规划期再次运行规划，届时按准备时限安排", "after")

    plan_weeks = sched.weeks()
    roles_order = [r for r in OWNERS if any(h.role == r for h in handoff)]
    grouped = {r: sorted((h for h in handoff if h.role == r), key=lambda h: (h.deadline or date.max, h.name))
               for r in roles_order}
    plan = Plan(start=start, hours_per_week=cap, branch_type=p.branch_type, members=p.total_members,
                weeks=plan_weeks, deferred=[d for _, d in sorted(deferred, key=lambda t: t[0])], handoff=grouped,
                not_applicable=list(not_applicable), profile=None if generic else p, worker_role=worker, ledger=ledger)
    for w in plan.weeks:
        w.focus = _focus(w, plan)
    plan.summary = _summary(plan, units, sched, mine)
    return plan


# --------------------------------------------------------------------------- one screen a week, and the summary

def _weekday(day: date) -> str:
    return f"{_md(day)}（周{_WEEKDAYS[day.weekday()]}）"


def _focus(w: Week, plan: Plan) -> list[str]:
    """At most FOCUS_LINES lines: what must be done this week and why."""
    lines: list[tuple[tuple, str, float]] = []
    groups: dict[str, list[PlanItem]] = {}
    for it in w.items:
        if it.meeting:
            day = it.day or it.deadline
            extra = f"（原由{plan.who(it.taken_from)}负责）" if it.taken_from else ""
            lines.append(((0, day), f"{_weekday(day)}：{it.title}，{it.hours:g}小时{extra}——{it.why or it.basis}",
                          it.hours))
        elif it.group:
            groups.setdefault(it.group, []).append(it)
        else:
            if it.kind == RIGID:
                rank = 2
            else:
                rank = 3 if it.kind == IMPORTANT else 5
            when = f"{_md(it.deadline)}截止" if it.deadline else "没有截止日期，有空就做"
            lines.append(((rank, it.deadline or date.max), f"{it.name}，{it.hours:g}小时——{when}", it.hours))
    for label, items in groups.items():
        steps = list(dict.fromkeys(re.sub(r"（\d+/\d+）$", "", i.name.split("：", 1)[-1]) for i in items))
        hours = round(sum(i.hours for i in items), 2)
        shown = "、".join(steps[:3]) + (f"等{len(steps)}项" if len(steps) > 3 else "")
        late = any("已过" in i.reason for i in items)
        first = min((i.deadline for i in items if i.deadline), default=None)
        tail = "建议日期已过，尽快补做" if late else "会前完成"
        lines.append(((1, first or date.max), f"为{label}做准备：{shown}，{hours:g}小时——{tail}", hours))
    due = [h for items in plan.handoff.values() for h in items if h.deadline and w.start <= h.deadline <= w.end]
    if due:
        people: dict[str, int] = {}
        for h in due:
            people[plan.who(h.role)] = people.get(plan.who(h.role), 0) + 1
        text = "、".join(f"{who}{n}项" for who, n in people.items())
        lines.append(((1.5, w.start), f"提醒交办：{text}本周到期（见交办清单）", 0.0))
    lines.sort(key=lambda t: t[0])
    if not lines:
        return ["本周没有安排任务，可用于补做或提前准备。"]
    if len(lines) > FOCUS_LINES:
        rest = lines[FOCUS_LINES - 1:]
        hours = round(sum(h for _, _, h in rest), 2)
        lines = lines[:FOCUS_LINES - 1] + [((9,), f"另有{len(rest)}项（{hours:g}小时），见本周明细", hours)]
    return [text for _, text, _ in lines]


def _names(items: Iterable[str], limit: int = 4) -> str:
    items = list(dict.fromkeys(items))
    return "、".join(items[:limit]) + (f"等{len(items)}项" if len(items) > limit else "")


def _summary(plan: Plan, units: list[_Unit], sched: _Scheduler, mine: list[_Unit]) -> Summary:
    weeks = len(plan.weeks)
    available = round(weeks * plan.hours_per_week, 2)
    placed = round(sum(it.hours for w in plan.weeks for it in w.items), 2)
    handed = round(sum(h.hours for items in plan.handoff.values() for h in items), 2)
    deferred = round(sum(d.hours for d in plan.deferred), 2)
    needed = round(placed + handed + deferred, 2)
    short = [d for d in plan.deferred if d.cause in ("shortfall", "meeting")]
    shortfall = round(sum(d.hours for d in short), 2)
    taken = round(sum(it.hours for w in plan.weeks for it in w.items if it.taken_from), 2)
    # what the busiest week would need: the worker's own work at its own week
    load = [0.0] * weeks
    for w in plan.weeks:
        for it in w.items:
            if not it.taken_from:
                load[w.index] += it.hours
    for d in short:
        wk = sched.clamp(sched.week_of(d.deadline)) if d.deadline else 0
        load[wk] += d.hours
    busiest = round(max(load, default=0.0), 2)
    lines = [f"本期共需{needed:g}小时，你有{available:g}小时（{weeks}周 × 每周{plan.hours_per_week:g}小时）；"
             f"你自己完成{placed:g}小时" + (f"，其中{taken:g}小时是替其他委员做的" if taken else "") + "。"]
    if plan.handoff:
        parts = []
        for role, items in plan.handoff.items():
            hours = round(sum(h.hours for h in items), 2)
            parts.append(f"{plan.who(role)}{len(items)}项{hours:g}小时（{_names(h.group or h.name for h in items)}）")
        lines.append(f"交办{handed:g}小时：" + "；".join(parts) + "。")
        over = [h for items in plan.handoff.values() for h in items if h.over]
        if over:
            lines.append(f"其中{len(over)}项超出对方填写的每周工时：{_names(h.name for h in over)}，需当面商量。")
    later = [d for d in plan.deferred if d.cause == "later"]
    if later:
        lines.append(f"延后{round(sum(d.hours for d in later), 2):g}小时：可延后的{_names(d.name for d in later)}，"
                     f"本期没有空余工时，放到下一个规划期。")
    after = [d for d in plan.deferred if d.cause == "after"]
    if after:
        lines.append(f"另有{len(after)}项日期在本规划期之后（{_names(d.name for d in after)}），下期再排。")
    if short:
        lines.append(f"排不下的条规要求或重要工作{shortfall:g}小时：{_names(d.group or d.name for d in short)}。"
                     f"要全部排下，最忙的一周需约{math.ceil(busiest * 2) / 2:g}小时（现在每周{plan.hours_per_week:g}小时）；"
                     f"或请副书记、其他委员分担，或与上级商量调整时间。")
    elif not plan.handoff and not later:
        lines.append("全部工作都排进了你的计划，没有交办和延后。")
    if plan.not_applicable:
        lines.append(f"按支部情况不适用{len(plan.not_applicable)}项：{_names(n.name for n in plan.not_applicable)}（原因和依据见“不适用的事项”）。")
    return Summary(needed_hours=needed, available_hours=available, placed_hours=placed, handed_off_hours=handed,
                   deferred_hours=deferred, shortfall_hours=shortfall, taken_over_hours=taken,
                   busiest_week_hours=busiest, lines=tuple(lines))


# --------------------------------------------------------------------------- writers

def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(plan: Plan) -> str:
    placed = sum(w.hours for w in plan.weeks)
    who = plan.profile.describe() if plan.profile else (
        f"{plan.branch_type}党支部" + (f"，{plan.members}名党员" if plan.members else ""))
    lines = [
        f"# 任务规划：{plan.start.isoformat()}起{len(plan.weeks)}周",
        "",
        f"{who}。每周可用 {plan.hours_per_week:g} 小时；你的计划排了 {placed:g} 小时，交办 "
        f"{sum(len(v) for v in plan.handoff.values())} 项，放不下 {len(plan.deferred)} 项。",
        "",
        "分类：**刚性任务**＝条规要求必须做的工作及其准备步骤，优先安排；**重要不紧急**＝规划期内有截止日期的本职任务；"
        "**可延后**＝没有截止日期、截止日期在规划期之后，或标为可延后的任务。",
        "",
    ]
    for w in plan.weeks:
        lines += [f"## 第{w.index + 1}周（{w.start.isoformat()} 至 {w.end.isoformat()}）：{w.hours:g} / {w.capacity:g} 小时",
                  "", "**本周要事**", ""]
        lines += [f"{k}. {_md_cell(text)}" for k, text in enumerate(w.focus, 1)]
        lines.append("")
        if not w.items:
            continue
        lines += ["| 任务 | 工时 | 截止 | 类型 | 负责 | 安排理由 |", "|---|---|---|---|---|---|"]
        for it in w.items:
            lines.append(f"| {_md_cell(it.name)} | {it.hours:g} | {it.deadline.isoformat() if it.deadline else '—'} | "
                         f"{it.kind}{'（逾期）' if it.overdue else ''} | {_md_cell(plan.who(it.owner) if it.owner else '—')} | "
                         f"{_md_cell(it.reason)} |")
        lines.append("")
    lines += ["## 交办清单", ""]
    if plan.handoff:
        for role, items in plan.handoff.items():
            hours = round(sum(h.hours for h in items), 2)
            lines += [f"### {plan.who(role)}：{len(items)}项，{hours:g}小时", "",
                      "| 事项 | 完成时间 | 工时 | 为什么交给他/她 |", "|---|---|---|---|"]
            lines += [f"| {_md_cell(h.name)} | {h.deadline.isoformat() if h.deadline else '—'} | {h.hours:g} | "
                      f"{_md_cell(h.reason)} |" for h in items]
            lines.append("")
    else:
        lines += ["没有需要交办的工作。", ""]
    lines += ["## 放不下的任务（需要延后、拆分或交给他人）", ""]
    if plan.deferred:
        groups: dict[tuple[str, str], list[Deferred]] = {}
        for d in plan.deferred:
            groups.setdefault((d.group or d.name, d.cause), []).append(d)
        lines += ["| 任务 | 工时 | 原因 |", "|---|---|---|"]
        for (label, _), items in groups.items():
            hours = round(sum(d.hours for d in items), 2)
            names = label if len(items) == 1 and items[0].name == label else f"{label}：{_names((d.name.split('：', 1)[-1] for d in items), 6)}"
            lines.append(f"| {_md_cell(names)} | {hours:g} | {_md_cell(items[0].reason)} |")
    else:
        lines.append("全部任务都已排进计划或交办。")
    lines.append("")
    if plan.records_as_of is not None:
        lines += [f"## 据台账已完成（截至{plan.records_as_of.isoformat()}，本期不再安排）", ""]
        if plan.done:
            lines += ["| 事项 | 期间 | 原定日期 | 完成日期 |", "|---|---|---|---|"]
            lines += [f"| {_md_cell(x.name)} | {x.period} | {x.due.isoformat()} | {'、'.join(d.isoformat() for d in x.done)} |"
                      for x in plan.done]
        else:
            lines.append("台账中没有本期已完成的规定工作。")
        lines.append("")
    if plan.not_applicable:
        lines += ["## 不适用的事项（按支部情况）", ""]
        lines += [f"- **{_md_cell(n.name)}**：{_md_cell(n.text())}" for n in plan.not_applicable]
        lines.append("")
    if plan.summary:
        lines += ["## 小结", ""]
        lines += [f"- {_md_cell(s)}" for s in plan.summary.lines]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(plan: Plan, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_markdown(plan), encoding="utf-8")
    return path


def calendar_entries(plan: Plan) -> list[CalendarEntry]:
    entries = []
    for w in plan.weeks:
        for k, it in enumerate(w.items):
            day = it.day or (it.deadline if it.deadline and w.start <= it.deadline <= w.end else w.start)
            desc = [f"类型：{it.kind}", f"工时：{it.hours:g}小时", f"理由：{it.reason}"]
            if it.deadline:
                desc.insert(0, f"截止：{it.deadline.isoformat()}")
            entries.append(CalendarEntry(
                key=f"plan:{w.start.isoformat()}:{k}:{it.name}",
                summary=f"{it.name}（{it.hours:g}小时）",
                day=day,
                description="\n".join(desc),
                alarm_days_before=0,
                categories=(it.kind,),
            ))
    if plan.deferred:
        entries.append(CalendarEntry(
            key=f"plan:{plan.start.isoformat()}:deferred",
            summary=f"待调整任务{len(plan.deferred)}项（延后、拆分或交办）",
            day=plan.start,
            description="\n".join(f"{d.name}：{d.reason}" for d in plan.deferred),
            alarm_days_before=0,
            categories=("待调整",),
        ))
    return entries


def write_ics(plan: Plan, path: Path) -> Path:
    return _write_ics(calendar_entries(plan), path, name=f"任务规划 {plan.start.isoformat()}")


def write_handoff_xlsx(plan: Plan, path: Path) -> Path:
    """The hand-off lists as a workbook the worker can forward: one sheet per post (and a 汇总 sheet)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="F2DCDB")
    wrap = Alignment(wrap_text=True, vertical="top")
    header = ["事项", "完成时间", "工时（小时）", "为什么交给他/她", "所属工作"]
    widths = [40, 12, 10, 56, 30]

    def sheet(ws, title: str, items: list[Handoff], with_role: bool) -> None:
        ws.append([title])
        ws["A1"].font = Font(bold=True, size=13)
        cols = (["交给"] if with_role else []) + header
        ws.append(cols)
        for cell in ws[2]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for h in items:
            row = [h.name, h.deadline, h.hours, h.reason, h.group]
            ws.append(([plan.who(h.role)] if with_role else []) + row)
        for col, width in enumerate(([14] if with_role else []) + widths, 1):
            ws.column_dimensions[ws.cell(row=2, column=col).column_letter].width = width
        date_col = "C" if with_role else "B"
        for cell in ws[date_col][2:]:
            cell.number_format = "yyyy-mm-dd"
            cell.alignment = wrap
        for row in ws.iter_rows(min_row=3):
            for cell in row:
                cell.alignment = wrap
        ws.freeze_panes = "A3"

    ws = wb.active
    ws.title = "汇总"
    every = [h for items in plan.handoff.values() for h in items]
    sheet(ws, f"交办清单：{plan.start.isoformat()}起{len(plan.weeks)}周（共{len(every)}项）", every, True)
    for role, items in plan.handoff.items():
        sheet(wb.create_sheet(role[:31]), f"交给{plan.who(role)}的工作（{len(items)}项）", items, False)
    wb.properties.title = f"交办清单 {plan.start.isoformat()}"
    wb.properties.creator = "党务助手"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


def write_plan(plan: Plan, path: Path) -> Path:
    """Write in the format given by the extension: .md, .ics, .json, or .xlsx (the hand-off lists)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".md":
        return write_markdown(plan, path)
    if suffix == ".ics":
        return write_ics(plan, path)
    if suffix == ".xlsx":
        return write_handoff_xlsx(plan, path)
    if suffix == ".json":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(plan.to_json() + "\n", encoding="utf-8")
        return path
    raise InputError("out", f"输出文件的扩展名应为 {' / '.join(FORMATS)} 之一，收到 {suffix or '（无扩展名）'}")
