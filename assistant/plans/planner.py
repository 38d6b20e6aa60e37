"""Task planner (任务规划) for part-time branch workers.

``plan_tasks(tasks, start, weeks, hours_per_week)`` merges the worker's own
to-dos with the duties of knowledge/obligations.yaml that fall in the window,
classifies everything (刚性任务 / 重要不紧急 / 可延后), breaks rule-required duties
into their preparation steps with lead times, and schedules week by week:

1. rule-required meetings in the week they are due (they cannot move);
2. the other rule-required work (preparation steps, per-member talks) in the
   week of its own date, or earlier when that week is full;
3. 重要不紧急 then 可延后 work, earliest deadline first, in the earliest week
   with room; work bigger than the room left is split across weeks.

No week is ever planned over capacity. Whatever cannot fit is listed in
``deferred`` with the reason and advice (defer / split / hand to whom) — nothing
is dropped silently. Every placement carries a one-line reason. The result is
deterministic for the same input.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ..errors import InputError
from .calendar_export import CalendarEntry, write_ics as _write_ics
from .obligations import BRANCH_TYPES, OWNERS, Duty, applies, load_obligations, occurrences, prep_dates

__all__ = [
    "KINDS",
    "Task",
    "PlanItem",
    "Week",
    "Deferred",
    "Plan",
    "parse_tasks_text",
    "parse_tasks_yaml",
    "load_tasks",
    "plan_tasks",
    "to_markdown",
    "write_markdown",
    "write_ics",
    "write_plan",
]

RIGID, IMPORTANT, LATER = "刚性任务", "重要不紧急", "可延后"
KINDS = (RIGID, IMPORTANT, LATER)
_RANK = {RIGID: 0, IMPORTANT: 1, LATER: 2}
_FLAGS = {
    "刚性": RIGID, "刚性任务": RIGID, "必须": RIGID, "规定": RIGID, "rule": RIGID, "required": RIGID, "rigid": RIGID,
    "重要": IMPORTANT, "重要不紧急": IMPORTANT, "important": IMPORTANT,
    "可延后": LATER, "延后": LATER, "later": LATER, "optional": LATER, "defer": LATER,
}
_EPS = 1e-9
_MIN_CHUNK = 0.5  # split work into pieces of at least half an hour
FORMATS = (".md", ".ics", ".json")


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
    "duty": "duty", "规定事项": "duty",
}


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
            raise InputError(str(key), f"{where}：未知字段 {key!r}（可用 name、deadline、hours、flag、duty）")
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
    return Task(
        name=str(name).strip(),
        hours=hours,
        deadline=_parse_date(values.get("deadline"), where, line),
        flag=_parse_flag(values.get("flag"), where, line),
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
    """A YAML list of {name, deadline, hours, flag?, duty?} (or {tasks: [...]})."""
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


# --------------------------------------------------------------------------- plan data

@dataclass(frozen=True)
class PlanItem:
    name: str
    hours: float
    deadline: date | None
    kind: str
    reason: str
    owner: str | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "hours": self.hours,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "kind": self.kind,
            "reason": self.reason,
        }


@dataclass
class Week:
    index: int  # 0-based
    start: date
    capacity: float
    items: list[PlanItem] = field(default_factory=list)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def hours(self) -> float:
        return round(sum(i.hours for i in self.items), 2)

    def to_dict(self) -> dict:
        return {"start": self.start.isoformat(), "hours": self.hours, "items": [i.to_dict() for i in self.items]}


@dataclass(frozen=True)
class Deferred:
    name: str
    reason: str
    hours: float = 0.0
    deadline: date | None = None
    kind: str = LATER

    def to_dict(self) -> dict:
        return {"name": self.name, "reason": self.reason}


@dataclass
class Plan:
    start: date
    hours_per_week: float
    branch_type: str
    members: int | None
    weeks: list[Week]
    deferred: list[Deferred]

    @property
    def end(self) -> date:
        return self.weeks[-1].end if self.weeks else self.start

    def to_dict(self) -> dict:
        return {"weeks": [w.to_dict() for w in self.weeks], "deferred": [d.to_dict() for d in self.deferred]}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


# --------------------------------------------------------------------------- scheduling

@dataclass
class _Unit:
    name: str
    hours: float
    deadline: date | None
    kind: str
    reason: str  # why it exists / how it was classified
    seq: int  # input order, for determinism
    owner: str | None = None
    fixed: bool = False  # must sit in the week of its deadline (a meeting)
    splittable: bool = False
    release: date | None = None  # not before this date
    from_duty: bool = False  # preparation / per-member work of an obligations duty: placed by its own date


def _first_source(d: Duty) -> str:
    s = d.sources[0]
    return f"《{s.doc}》{s.article}"


def _duty_units(d: Duty, due: date, members: int | None, seq: int, *, meeting_hours: float | None = None,
                meeting_name: str | None = None) -> list[_Unit]:
    """The duty itself plus its preparation steps, all rule-required."""
    units: list[_Unit] = []
    latest_prep = max((s.offset_days for s in d.prep), default=0)
    for step, when in prep_dates(d, due):
        units.append(_Unit(
            name=f"{d.name}准备：{step.name}",
            hours=step.hours,
            deadline=when,
            kind=RIGID,
            reason=f"刚性任务的准备步骤：{d.name}（{due.isoformat()}）前{step.offset_days}天完成，责任人{step.owner}",
            seq=seq,
            owner=step.owner,
            splittable=True,
            from_duty=True,
        ))
    if d.per_member:
        qty = members or 1
        hours = meeting_hours if meeting_hours is not None else round(d.effort_hours * qty, 2)
        who = f"{members}名党员" if members else "党员人数未提供，按1人估算"
        units.append(_Unit(
            name=meeting_name or f"{d.name}（{who}）",
            hours=hours, deadline=due, kind=RIGID,
            reason=f"刚性任务：{_first_source(d)}要求每名党员每年至少{d.times}次，{due.isoformat()}前完成",
            seq=seq, owner=d.owner, splittable=True, from_duty=True,
            release=due - timedelta(days=latest_prep) if latest_prep else None,
        ))
    else:
        units.append(_Unit(
            name=meeting_name or f"{d.name}（{due.isoformat()}）",
            hours=meeting_hours if meeting_hours is not None else d.effort_hours,
            deadline=due, kind=RIGID,
            reason=f"刚性任务：{_first_source(d)}规定的{d.name}，{due.isoformat()}到期，安排在当周",
            seq=seq, owner=d.owner, fixed=True,
        ))
    return units


def _task_units(task: Task, seq: int, end: date, members: int | None, by_id: dict[str, Duty]) -> list[_Unit]:
    if task.duty:
        d = by_id[task.duty]
        if task.deadline is None:
            raise InputError("deadline", f"任务“{task.name}”关联了规定事项 {task.duty}，需要 deadline（截止日期）")
        units = _duty_units(d, task.deadline, members, seq, meeting_hours=task.hours, meeting_name=task.name)
        if task.flag and task.flag != RIGID:
            units = [_Unit(**{**u.__dict__, "kind": task.flag, "reason": u.reason.replace("刚性任务", task.flag, 1)})
                     for u in units]
        return units
    if task.flag:
        kind, why = task.flag, "按任务文件的标记"
    elif task.deadline is not None and task.deadline <= end:
        kind, why = IMPORTANT, f"截止 {task.deadline.isoformat()} 在规划期内"
    elif task.deadline is not None:
        kind, why = LATER, f"截止 {task.deadline.isoformat()} 在规划期之后"
    else:
        kind, why = LATER, "没有截止日期"
    return [_Unit(name=task.name, hours=task.hours, deadline=task.deadline, kind=kind,
                  reason=f"{kind}：{why}", seq=seq, splittable=True)]


def _advice(u: _Unit, hours_per_week: float) -> str:
    if u.kind == RIGID:
        if u.owner and u.owner != "全体党员":
            who = f"交由该项责任人{u.owner}办理，或请其他支委分担"
        else:
            who = "请其他支委分担"
        return f"条规要求的工作不能不做：{who}；也可临时增加该周工时，或把同周可延后的任务挪开"
    if u.hours > hours_per_week + _EPS:
        return f"拆分成每次不超过{hours_per_week:g}小时的小步，并与交办人商量推迟截止日期或请其他支委分担"
    if u.kind == IMPORTANT:
        return "与交办人商量推迟截止日期，或交由组织委员、宣传委员等其他支委分担"
    return "延后到下一个规划期再做"


class _Scheduler:
    def __init__(self, start: date, weeks: int, hours_per_week: float):
        self.start = start
        self.n = weeks
        self.cap = hours_per_week
        self.left = [hours_per_week] * weeks
        self.placed: list[list[tuple[int, int, PlanItem]]] = [[] for _ in range(weeks)]
        self.deferred: list[tuple[tuple, Deferred]] = []
        self.counter = 0

    def week_of(self, d: date) -> int:
        return (d - self.start).days // 7

    def _put(self, w: int, u: _Unit, hours: float, reason: str, name: str | None = None) -> None:
        self.left[w] = round(self.left[w] - hours, 6)
        self.counter += 1
        item = PlanItem(name=name or u.name, hours=round(hours, 2), deadline=u.deadline, kind=u.kind,
                        reason=reason, owner=u.owner)
        self.placed[w].append((_RANK[u.kind], self.counter, item))

    def _defer(self, u: _Unit, why: str) -> None:
        reason = f"{u.kind}，需{u.hours:g}小时：{why}。建议：{_advice(u, self.cap)}"
        key = (_RANK[u.kind], u.deadline or date.max, u.seq, u.name)
        self.deferred.append((key, Deferred(name=u.name, reason=reason, hours=u.hours, deadline=u.deadline, kind=u.kind)))

    @staticmethod
    def _span(lo: int, hi: int) -> str:
        return f"第{lo + 1}周" if lo == hi else f"第{lo + 1}–{hi + 1}周"

    def _label(self, w: int) -> str:
        ws = self.start + timedelta(days=7 * w)
        return f"第{w + 1}周（{ws.month}月{ws.day}日起）"

    def _window(self, u: _Unit) -> tuple[int, int]:
        lo = 0
        if u.release is not None:
            lo = max(0, min(self.week_of(u.release), self.n - 1))
        hi = self.n - 1 if u.deadline is None else min(self.week_of(u.deadline), self.n - 1)
        if u.deadline is not None and u.deadline < self.start:
            hi = 0
        return lo, max(lo, hi) if hi >= 0 else 0

    def place_fixed(self, u: _Unit) -> None:
        w = self.week_of(u.deadline)
        if u.hours <= self.left[w] + _EPS:
            self._put(w, u, u.hours, u.reason)
        else:
            self._defer(u, f"{self._label(w)}已排满（剩余{max(self.left[w], 0):g}小时），该事项须在当周进行")

    def _fits(self, w: int, hours: float) -> bool:
        return hours <= self.left[w] + _EPS

    def _split(self, u: _Unit, weeks: Iterable[int], note: str) -> bool:
        """Spread a splittable unit over ``weeks`` (in the given order); all or nothing."""
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
            self._put(w, u, take, f"{u.reason}；{note}（第{k}/{total}部分）", name=f"{u.name}（{k}/{total}）")
        return True

    def place_backward(self, u: _Unit) -> None:
        """Rule-required work: the week of its own date, else the nearest earlier week with room."""
        lo, hi = self._window(u)
        late = u.deadline is not None and u.deadline < self.start
        for w in range(hi, lo - 1, -1):
            if self._fits(w, u.hours):
                if late:
                    reason = f"{u.reason}；建议日期已过，请在本周尽快补做"
                elif w == hi:
                    reason = f"{u.reason}，排在当周"
                else:
                    reason = f"{u.reason}；第{hi + 1}周已满，提前到第{w + 1}周"
                self._put(w, u, u.hours, reason)
                return
        if u.splittable and u.hours > 0 and self._split(u, range(hi, lo - 1, -1), "分几周完成"):
            return
        free = sum(max(self.left[w], 0) for w in range(lo, hi + 1))
        self._defer(u, f"{self._span(lo, hi)}剩余工时共{free:g}小时，不够完成")

    def place_forward(self, u: _Unit) -> None:
        """Own tasks: the earliest week with room before the deadline; split when none has room for all."""
        lo, hi = self._window(u)
        late = u.deadline is not None and u.deadline < self.start
        for w in range(lo, hi + 1):
            if self._fits(w, u.hours):
                if late:
                    reason = f"{u.reason}；已过截止日期，本周尽快完成并向交办人说明"
                elif u.deadline is not None and u.deadline <= self.start + timedelta(days=7 * self.n - 1):
                    reason = f"{u.reason}；第{w + 1}周有空余工时，在截止前完成"
                else:
                    reason = f"{u.reason}；排在刚性任务之后的空余工时"
                self._put(w, u, u.hours, reason)
                return
        if u.splittable and u.hours > 0 and self._split(u, range(lo, hi + 1), "单周放不下，拆分到多周"):
            return
        free = sum(max(self.left[w], 0) for w in range(lo, hi + 1))
        if u.deadline is not None and u.deadline > self.start + timedelta(days=7 * self.n - 1):
            why = f"截止日期 {u.deadline.isoformat()} 在规划期之后，本期剩余工时（{free:g}小时）不够"
        elif u.deadline is not None:
            why = f"截止日期 {u.deadline.isoformat()} 前剩余工时只有{free:g}小时"
        else:
            why = f"规划期内剩余工时只有{free:g}小时"
        self._defer(u, why)

    def note_later(self, u: _Unit, end: date) -> None:
        """Linked-duty work dated after the window: listed so it is not lost."""
        reason = (f"{u.kind}：日期 {u.deadline.isoformat()} 在本规划期（至 {end.isoformat()}）之后，"
                  f"本期不排；建议：在下一个规划期再次运行规划，届时按准备时限安排")
        key = (3, u.deadline or date.max, u.seq, u.name)
        self.deferred.append((key, Deferred(name=u.name, reason=reason, hours=u.hours, deadline=u.deadline, kind=u.kind)))

    def weeks(self) -> list[Week]:
        out = []
        for w in range(self.n):
            items = [it for _, _, it in sorted(self.placed[w], key=lambda t: (t[0], t[2].deadline or date.max, t[1]))]
            out.append(Week(index=w, start=self.start + timedelta(days=7 * w), capacity=self.cap, items=items))
        return out

    def deferred_list(self) -> list[Deferred]:
        return [d for _, d in sorted(self.deferred, key=lambda t: t[0])]


def _validate(start, weeks, hours_per_week, branch_type, members) -> None:
    if not isinstance(start, date):
        raise InputError("start", f"start（开始日期）应为日期，收到 {start!r}")
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= 260:
        raise InputError("weeks", f"weeks（周数）应为 1–260 的整数，收到 {weeks!r}")
    if isinstance(hours_per_week, bool) or not isinstance(hours_per_week, (int, float)) \
            or hours_per_week != hours_per_week:
        raise InputError("hours_per_week", f"hours_per_week（每周工时）应为数字，收到 {hours_per_week!r}")
    if hours_per_week <= 0:
        raise InputError("hours_per_week", f"hours_per_week（每周工时）应大于0，收到 {hours_per_week:g}")
    if hours_per_week > 168:
        raise InputError("hours_per_week", f"hours_per_week（每周工时）不能超过168，收到 {hours_per_week:g}")
    if branch_type not in BRANCH_TYPES:
        raise InputError("branch_type", f"branch_type（支部类型）应为 {' / '.join(BRANCH_TYPES)} 之一，收到 {branch_type!r}")
    if members is not None and (isinstance(members, bool) or not isinstance(members, int) or members < 1):
        raise InputError("members", f"members（党员人数）应为正整数，收到 {members!r}")


def plan_tasks(tasks: Iterable[Task | Mapping[str, Any]], start: date, weeks: int, hours_per_week: float,
               branch_type: str = "机关", members: int | None = None, *,
               duties: list[Duty] | None = None, include_duties: bool = True,
               role: str | None = None) -> Plan:
    """Plan the worker's tasks plus the rule-required duties due in the window.

    ``tasks`` are Task objects or mappings with name/deadline/hours/flag/duty.
    ``duties`` defaults to knowledge/obligations.yaml; ``include_duties=False``
    plans only the given tasks; ``role`` (书记 / 组织委员 / …) keeps only the
    duty work owned by that role (the worker's own tasks are always planned).
    """
    _validate(start, weeks, hours_per_week, branch_type, members)
    if role is not None and role not in OWNERS:
        raise InputError("role", f"role（角色）应为 {' / '.join(OWNERS)} 之一，收到 {role!r}")
    duties = load_obligations() if duties is None else duties
    by_id = {d.id: d for d in duties}
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

    end = start + timedelta(days=7 * weeks - 1)
    units: list[_Unit] = []
    seq = 0
    if include_duties:
        for d in duties:
            if d.frequency == "event" or not applies(d, branch_type):
                continue
            horizon = max((s.offset_days for s in d.prep), default=0)
            for due in occurrences(d, start, end + timedelta(days=horizon)):
                for u in _duty_units(d, due, members, seq):
                    # beyond the window: only preparation that falls inside it
                    if u.deadline is not None and u.deadline > end:
                        continue
                    if u.deadline is not None and u.deadline < start and u.fixed:
                        continue
                    if role is not None and u.owner != role:
                        continue
                    units.append(u)
                seq += 1
    later: list[_Unit] = []  # linked-duty work dated after the window: reported, not planned now
    for t in parsed:
        for u in _task_units(t, seq, end, members, by_id):
            if t.duty and u.deadline is not None and u.deadline > end:
                later.append(u)
                continue
            if u.fixed and u.deadline is not None and u.deadline < start:
                # a linked meeting already in the past: plan it as catch-up work now
                u = _Unit(**{**u.__dict__, "fixed": False})
            units.append(u)
        seq += 1

    sched = _Scheduler(start, weeks, float(hours_per_week))
    fixed = sorted((u for u in units if u.fixed), key=lambda u: (u.deadline, u.seq, u.name))
    rigid = sorted((u for u in units if not u.fixed and u.kind == RIGID),
                   key=lambda u: (u.deadline or date.max, u.seq, u.name))
    rest = sorted((u for u in units if not u.fixed and u.kind != RIGID),
                  key=lambda u: (_RANK[u.kind], u.deadline or date.max, u.seq, u.name))
    for u in fixed:
        if u.kind == RIGID:
            sched.place_fixed(u)
    for u in rigid:  # duty work by its own date; the worker's own 刚性 tasks as early as possible
        if u.from_duty:
            sched.place_backward(u)
        else:
            sched.place_forward(u)
    for u in fixed:
        if u.kind != RIGID:  # a linked duty the worker flagged as not rule-required
            sched.place_fixed(u)
    for u in rest:
        sched.place_forward(u)
    for u in later:
        sched.note_later(u, end)
    return Plan(start=start, hours_per_week=float(hours_per_week), branch_type=branch_type, members=members,
                weeks=sched.weeks(), deferred=sched.deferred_list())


# --------------------------------------------------------------------------- writers

def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(plan: Plan) -> str:
    total = sum(w.hours for w in plan.weeks)
    lines = [
        f"# 任务规划：{plan.start.isoformat()}起{len(plan.weeks)}周",
        "",
        f"每周可用 {plan.hours_per_week:g} 小时；已排 {total:g} 小时；需调整 {len(plan.deferred)} 项。"
        f"（{plan.branch_type}党支部{'，' + str(plan.members) + '名党员' if plan.members else ''}）",
        "",
        "分类：**刚性任务**＝条规要求必须做的工作及其准备步骤，优先安排；**重要不紧急**＝规划期内有截止日期的本职任务；"
        "**可延后**＝没有截止日期或截止日期在规划期之后的任务。",
        "",
    ]
    for w in plan.weeks:
        lines += [f"## 第{w.index + 1}周（{w.start.isoformat()} 至 {w.end.isoformat()}）：{w.hours:g} / {w.capacity:g} 小时", ""]
        if not w.items:
            lines += ["本周没有安排任务，可用于补做或提前准备。", ""]
            continue
        lines += ["| 任务 | 工时 | 截止 | 类型 | 安排理由 |", "|---|---|---|---|---|"]
        for it in w.items:
            lines.append(f"| {_md_cell(it.name)} | {it.hours:g} | {it.deadline.isoformat() if it.deadline else '—'} | "
                         f"{it.kind} | {_md_cell(it.reason)} |")
        lines.append("")
    lines += ["## 放不下的任务（需要延后、拆分或交给他人）", ""]
    if plan.deferred:
        lines += ["| 任务 | 原因和建议 |", "|---|---|"]
        lines += [f"| {_md_cell(d.name)} | {_md_cell(d.reason)} |" for d in plan.deferred]
    else:
        lines.append("全部任务都已排进计划。")
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
            day = it.deadline if it.deadline and w.start <= it.deadline <= w.end else w.start
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


def write_plan(plan: Plan, path: Path) -> Path:
    """Write in the format given by the extension: .md, .ics or .json."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".md":
        return write_markdown(plan, path)
    if suffix == ".ics":
        return write_ics(plan, path)
    if suffix == ".json":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(plan.to_json() + "\n", encoding="utf-8")
        return path
    raise InputError("out", f"输出文件的扩展名应为 {' / '.join(FORMATS)} 之一，收到 {suffix or '（无扩展名）'}")
