"""The branch's calendar of duties: a typed loader and schema check for knowledge/obligations.yaml.

``knowledge/obligations.yaml`` is the single machine-readable source of a Party
branch's recurring duties (支委会 monthly, 支部党员大会 quarterly, 组织生活会 yearly …)
and of the duties an event triggers (换届, 接收预备党员, 预备期满 …). Checklists, the
task planner and the meeting plans all read it through this module.

Public API (other modules depend on it — keep it stable):

    Source, PrepStep, Duty          frozen dataclasses
    ObligationsError                ValueError whose message names the duty id and the field
    load_obligations(path=None)     -> list[Duty]   (default file cached)
    duty(duty_id)                   -> Duty
    occurrences(d, start, end)      -> list[date]   due dates of ``d`` within [start, end]
"""
from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from ..citations import LABEL_FULL_RE
from ..errors import KnowledgeError
from ..resources import knowledge_dir

__all__ = [
    "Source",
    "PrepStep",
    "Duty",
    "FREQUENCIES",
    "OWNERS",
    "BRANCH_TYPES",
    "load_obligations",
    "duty",
    "occurrences",
    "due_date",
    "prep_dates",
    "applies",
    "basis_text",
]

FREQUENCIES = ("month", "quarter", "half_year", "year", "event")
OWNERS = ("书记", "副书记", "组织委员", "宣传委员", "纪检委员", "党小组长", "全体党员")
BRANCH_TYPES = ("机关", "企业", "高校", "社区", "通用")

# which keys ``due`` must have for each frequency, with their allowed ranges
_DUE_KEYS: dict[str, dict[str, tuple[int, int]]] = {
    "month": {"day": (1, 31)},
    "quarter": {"month_in_quarter": (1, 3), "day": (1, 31)},
    "half_year": {"month_in_half": (1, 6), "day": (1, 31)},
    "year": {"month": (1, 12), "day": (1, 31)},
    "event": {},
}
_FIELDS = (
    "id", "name", "frequency", "times", "due", "event", "per_member", "timing", "prep",
    "owner", "applies_to", "effort_hours", "quorum", "standard", "sources",
)
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Source:
    doc: str
    article: str


@dataclass(frozen=True)
class PrepStep:
    name: str
    offset_days: int
    owner: str
    hours: float


@dataclass(frozen=True)
class Duty:
    id: str
    name: str
    frequency: str
    times: int
    due: dict
    event: str | None
    per_member: bool
    timing: str
    prep: tuple[PrepStep, ...]
    owner: str
    applies_to: tuple[str, ...]
    effort_hours: float
    quorum: str | None
    standard: str
    sources: tuple[Source, ...]

    def __hash__(self) -> int:  # ``due`` is a dict, so the generated hash would fail
        return hash(self.id)


def _bad(duty_id: str, field: str, problem: str) -> KnowledgeError:
    """A schema error in obligations.yaml, naming the duty id and the field."""
    return KnowledgeError(f"obligations.yaml 事项 {duty_id!r} 的字段 {field}：{problem}")


# --------------------------------------------------------------------------- validation

def _need(raw: dict, duty_id: str, field: str) -> Any:
    if field not in raw:
        raise _bad(duty_id, field, "缺少此字段")
    return raw[field]


def _text(value: Any, duty_id: str, field: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _bad(duty_id, field, f"应为非空文字，得到 {value!r}")
    return value.strip()


def _int(value: Any, duty_id: str, field: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(duty_id, field, f"应为整数，得到 {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f"{lo}–{hi}" if hi is not None else f"≥{lo}"
        raise _bad(duty_id, field, f"应在 {rng} 之间，得到 {value}")
    return value


def _hours(value: Any, duty_id: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(duty_id, field, f"应为数字（小时），得到 {value!r}")
    if value < 0:
        raise _bad(duty_id, field, f"不能为负数，得到 {value}")
    return float(value)


def _owner(value: Any, duty_id: str, field: str) -> str:
    if value not in OWNERS:
        raise _bad(duty_id, field, f"应为 {' / '.join(OWNERS)} 之一，得到 {value!r}")
    return value


def _parse_duty(raw: Any, index: int) -> Duty:
    if not isinstance(raw, dict):
        raise _bad(f"#{index + 1}", "duties", f"每个事项应为映射，得到 {type(raw).__name__}")
    duty_id = raw.get("id")
    if not isinstance(duty_id, str) or not _ID_RE.match(duty_id):
        raise _bad(str(duty_id if duty_id is not None else f"#{index + 1}"), "id",
                               "应为小写 ASCII 蛇形标识（如 zhiweihui）")
    for field in _FIELDS:
        _need(raw, duty_id, field)
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise _bad(duty_id, unknown[0], "未知字段")

    name = _text(raw["name"], duty_id, "name")
    frequency = raw["frequency"]
    if frequency not in FREQUENCIES:
        raise _bad(duty_id, "frequency", f"应为 {' / '.join(FREQUENCIES)} 之一，得到 {frequency!r}")
    times = _int(raw["times"], duty_id, "times", 1, 31)

    due = raw["due"]
    if due is None:
        due = {}
    if not isinstance(due, dict):
        raise _bad(duty_id, "due", f"应为映射，得到 {due!r}")
    want = _DUE_KEYS[frequency]
    if set(due) != set(want):
        raise _bad(
            duty_id, "due",
            f"frequency={frequency} 时应只含键 {sorted(want) or '{}'}，得到 {sorted(due)}",
        )
    for key, (lo, hi) in want.items():
        _int(due[key], duty_id, f"due.{key}", lo, hi)
    if frequency == "year":
        month = due["month"]
        if due["day"] > calendar.monthrange(2024, month)[1]:  # 2024: a leap year allows 2月29日
            raise _bad(duty_id, "due.day", f"{month}月没有{due['day']}日")

    event = raw["event"]
    if frequency == "event":
        event = _text(event, duty_id, "event")
    elif event is not None:
        raise _bad(duty_id, "event", "只有 frequency=event 的事项才填写 event，其余应为 null")

    per_member = raw["per_member"]
    if not isinstance(per_member, bool):
        raise _bad(duty_id, "per_member", f"应为 true 或 false，得到 {per_member!r}")
    timing = _text(raw["timing"], duty_id, "timing")

    prep_raw = raw["prep"]
    if prep_raw is None:
        prep_raw = []
    if not isinstance(prep_raw, list):
        raise _bad(duty_id, "prep", "应为列表")
    steps = []
    for i, step in enumerate(prep_raw):
        where = f"prep[{i}]"
        if not isinstance(step, dict):
            raise _bad(duty_id, where, "应为映射 {name, offset_days, owner, hours}")
        for key in ("name", "offset_days", "owner", "hours"):
            if key not in step:
                raise _bad(duty_id, f"{where}.{key}", "缺少此字段")
        extra = sorted(set(step) - {"name", "offset_days", "owner", "hours"})
        if extra:
            raise _bad(duty_id, f"{where}.{extra[0]}", "未知字段")
        steps.append(PrepStep(
            name=_text(step["name"], duty_id, f"{where}.name"),
            offset_days=_int(step["offset_days"], duty_id, f"{where}.offset_days", 0, 366),
            owner=_owner(step["owner"], duty_id, f"{where}.owner"),
            hours=_hours(step["hours"], duty_id, f"{where}.hours"),
        ))

    owner = _owner(raw["owner"], duty_id, "owner")
    applies = raw["applies_to"]
    if not isinstance(applies, list) or not applies:
        raise _bad(duty_id, "applies_to", "应为非空列表")
    for kind in applies:
        if kind not in BRANCH_TYPES:
            raise _bad(duty_id, "applies_to", f"应为 {' / '.join(BRANCH_TYPES)}，得到 {kind!r}")
    effort = _hours(raw["effort_hours"], duty_id, "effort_hours")
    quorum = _text(raw["quorum"], duty_id, "quorum", optional=True)
    standard = _text(raw["standard"], duty_id, "standard")

    src_raw = raw["sources"]
    if not isinstance(src_raw, list) or not src_raw:
        raise _bad(duty_id, "sources", "至少需要一条依据")
    sources = []
    for i, src in enumerate(src_raw):
        where = f"sources[{i}]"
        if not isinstance(src, dict) or set(src) != {"doc", "article"}:
            raise _bad(duty_id, where, "应为映射 {doc, article}")
        doc = _text(src["doc"], duty_id, f"{where}.doc")
        article = _text(src["article"], duty_id, f"{where}.article")
        if not LABEL_FULL_RE.match(article):
            raise _bad(duty_id, f"{where}.article", f"应写作 第X条（中文数字），得到 {article!r}")
        sources.append(Source(doc=doc, article=article))

    return Duty(
        id=duty_id, name=name, frequency=frequency, times=times, due=dict(due), event=event,
        per_member=per_member, timing=timing, prep=tuple(steps), owner=owner,
        applies_to=tuple(applies), effort_hours=effort, quorum=quorum, standard=standard,
        sources=tuple(sources),
    )


def parse_obligations(data: Any) -> list[Duty]:
    """Validate an already-parsed YAML document and return its duties."""
    if not isinstance(data, dict) or "duties" not in data:
        raise _bad("-", "duties", "文件顶层应为 {duties: [...]}")
    raw = data["duties"]
    if not isinstance(raw, list) or not raw:
        raise _bad("-", "duties", "应为非空列表")
    duties = [_parse_duty(item, i) for i, item in enumerate(raw)]
    seen: set[str] = set()
    for d in duties:
        if d.id in seen:
            raise _bad(d.id, "id", "标识重复")
        seen.add(d.id)
    return duties


def load_obligations(path: Path | None = None) -> list[Duty]:
    """Load and validate the duties file (default: the bundled knowledge/obligations.yaml).

    Parsed once per version of the file (its modification time and size); returns a new list
    each call, of immutable Duty objects.
    """
    p = Path(path).resolve() if path is not None else knowledge_dir() / "obligations.yaml"
    try:
        stat = p.stat()
    except FileNotFoundError:
        raise _bad("-", "path", f"找不到文件 {p}") from None
    return list(_parsed(p, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int, size: int) -> tuple[Duty, ...]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise _bad("-", "yaml", f"不是合法的 YAML：{exc}") from None
    return tuple(parse_obligations(data))


def duty(duty_id: str) -> Duty:
    """The duty with this id from the default file; KeyError (in Chinese) if unknown."""
    for d in load_obligations():
        if d.id == duty_id:
            return d
    known = "、".join(d.id for d in load_obligations())
    raise KeyError(f"未知的事项标识 {duty_id!r}（可用：{known}）")


# --------------------------------------------------------------------------- dates

def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _periods(frequency: str, start: date, end: date):
    """Yield (period_start, period_end, due_date) for every period touching [start, end]."""
    if frequency == "month":
        y, m = start.year, start.month
        while date(y, m, 1) <= end:
            yield y, m, 1
            m += 1
            if m == 13:
                y, m = y + 1, 1
        return
    step = {"quarter": 3, "half_year": 6, "year": 12}[frequency]
    y, m = start.year, ((start.month - 1) // step) * step + 1
    while date(y, m, 1) <= end:
        yield y, m, step
        m += step
        if m > 12:
            y, m = y + 1, m - 12


def due_date(d: Duty, year: int, first_month: int) -> date:
    """The due date of ``d`` in the period starting at (year, first_month)."""
    if d.frequency == "month":
        return _clamped(year, first_month, d.due["day"])
    if d.frequency == "quarter":
        return _clamped(year, first_month + d.due["month_in_quarter"] - 1, d.due["day"])
    if d.frequency == "half_year":
        return _clamped(year, first_month + d.due["month_in_half"] - 1, d.due["day"])
    if d.frequency == "year":
        return _clamped(year, d.due["month"], d.due["day"])
    raise ValueError(f"事项 {d.id} 由事件触发（{d.event}），没有固定到期日")


def _period_bounds(year: int, first_month: int, months: int) -> tuple[date, date]:
    last_month = first_month + months - 1
    return date(year, first_month, 1), _clamped(year, last_month, 31)


def occurrences(d: Duty, start: date, end: date) -> list[date]:
    """Due dates of ``d`` within [start, end], sorted; [] for event-triggered duties.

    One date per period at ``due``; with ``times`` > 1 the extra occurrences are
    spread evenly through the period, ending on the ``due`` date.
    """
    if d.frequency == "event" or end < start:
        return []
    out: list[date] = []
    for year, first_month, months in _periods(d.frequency, start, end):
        main = due_date(d, year, first_month)
        dates = [main]
        if d.times > 1:
            p_start, p_end = _period_bounds(year, first_month, months)
            span = (main - p_start).days
            for k in range(1, d.times):
                dates.append(main - timedelta(days=round(span * k / d.times)))
        out.extend(x for x in dates if start <= x <= end)
    return sorted(set(out))


def prep_dates(d: Duty, due: date) -> list[tuple[PrepStep, date]]:
    """Each preparation step with its own date (``offset_days`` before ``due``), earliest first."""
    pairs = [(step, due - timedelta(days=step.offset_days)) for step in d.prep]
    return sorted(pairs, key=lambda p: (p[1], -p[0].offset_days, p[0].name))


def applies(d: Duty, branch_type: str) -> bool:
    """Whether the duty applies to a branch of this type (通用 applies everywhere)."""
    return "通用" in d.applies_to or branch_type in d.applies_to


def basis_text(d: Duty) -> str:
    """The citations in words: 《…》第X条、第Y条；《…》第Z条."""
    grouped: dict[str, list[str]] = {}
    for src in d.sources:
        grouped.setdefault(src.doc, [])
        if src.article not in grouped[src.doc]:
            grouped[src.doc].append(src.article)
    return "；".join(f"《{doc}》" + "、".join(arts) for doc, arts in grouped.items())
