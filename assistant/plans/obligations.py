"""The branch's calendar of duties: a typed loader and schema check for knowledge/obligations.yaml.

``knowledge/obligations.yaml`` is the single machine-readable source of a Party
branch's recurring duties (支委会 monthly, 支部党员大会 quarterly, 组织生活会 yearly …)
and of the duties an event triggers (换届, 接收预备党员, 预备期满 …). Checklists, the
task planner and the meeting plans all read it through this module.

Public API (other modules depend on it — keep it stable):

    Source, PrepStep, Duty          frozen dataclasses (Duty also: requires, combine, aliases, without_committee)
    Combine, Condition              a meeting that may be held together with another; a profile condition
    load_obligations(path=None)     -> list[Duty]   (default file cached)
    load_conditions(path=None)      -> list[Condition]  (the ``conditions:`` block: why a duty may not apply)
    duty(duty_id)                   -> Duty
    occurrences(d, start, end)      -> list[date]   due dates of ``d`` within [start, end]
"""
from __future__ import annotations

import calendar
import dataclasses
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
    "Combine",
    "Condition",
    "CONDITION_IDS",
    "load_conditions",
    "parse_conditions",
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
_OPTIONAL_FIELDS = ("requires", "combine", "aliases", "without_committee")
_STEP_FIELDS = ("name", "offset_days", "owner", "hours")
_STEP_OPTIONAL = ("without_committee", "essential", "aliases")
# the facts of a branch profile a duty may require (assistant.plans.profile evaluates them)
CONDITION_IDS = ("committee", "activists", "candidates", "probationary", "party_groups")
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
    # without a 支委会: the step's wording there (None: the step is not needed); absent key → unchanged
    without_committee: str | None = None
    drop_without_committee: bool = False
    essential: bool = True  # False: our advice, not a rule; shortened first when time is short
    aliases: tuple[str, ...] = ()

    def for_committee(self, has_committee: bool) -> "PrepStep | None":
        """This step as a branch with or without a 支委会 does it (None: not needed without one)."""
        if has_committee:
            return self
        if self.drop_without_committee:
            return None
        if self.without_committee:
            return PrepStep(self.without_committee, self.offset_days, self.owner, self.hours, None, False,
                            self.essential, self.aliases)
        return self


@dataclass(frozen=True)
class Combine:
    """``with_id`` may be held in the same meeting as the duty that lists it (the rule is in ``sources``);
    the partner's steps named in ``skip_prep`` are then covered by the host's own steps."""

    with_id: str
    skip_prep: tuple[str, ...]
    sources: tuple["Source", ...]


@dataclass(frozen=True)
class Condition:
    """A fact about the branch a duty may require (``requires``), with the rule that says so."""

    id: str
    absent: str  # the fact when it does not hold, e.g. 未设支部委员会
    unknown: str  # "present" or "absent": what an unfilled profile counts as
    reason: str
    sources: tuple["Source", ...]


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
    requires: tuple[str, ...] = ()
    combine: tuple[Combine, ...] = ()
    aliases: tuple[str, ...] = ()
    name_without_committee: str | None = None
    timing_without_committee: str | None = None
    standard_without_committee: str | None = None

    def for_committee(self, has_committee: bool) -> "Duty":
        """This duty as a branch with or without a 支委会 words it (its steps: PrepStep.for_committee)."""
        if has_committee or not (self.name_without_committee or self.timing_without_committee
                                 or self.standard_without_committee):
            return self
        return dataclasses.replace(self, name=self.name_without_committee or self.name,
                                   timing=self.timing_without_committee or self.timing,
                                   standard=self.standard_without_committee or self.standard)

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
    unknown = sorted(set(raw) - set(_FIELDS) - set(_OPTIONAL_FIELDS))
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
        for key in _STEP_FIELDS:
            if key not in step:
                raise _bad(duty_id, f"{where}.{key}", "缺少此字段")
        extra = sorted(set(step) - set(_STEP_FIELDS) - set(_STEP_OPTIONAL))
        if extra:
            raise _bad(duty_id, f"{where}.{extra[0]}", "未知字段")
        without = step.get("without_committee")
        if without is not None:
            without = _text(without, duty_id, f"{where}.without_committee")
        essential = step.get("essential", True)
        if not isinstance(essential, bool):
            raise _bad(duty_id, f"{where}.essential", f"应为 true 或 false，得到 {essential!r}")
        steps.append(PrepStep(
            name=_text(step["name"], duty_id, f"{where}.name"),
            offset_days=_int(step["offset_days"], duty_id, f"{where}.offset_days", 0, 366),
            owner=_owner(step["owner"], duty_id, f"{where}.owner"),
            hours=_hours(step["hours"], duty_id, f"{where}.hours"),
            without_committee=without,
            drop_without_committee="without_committee" in step and without is None,
            essential=essential,
            aliases=_aliases(step.get("aliases"), duty_id, f"{where}.aliases"),
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

    sources = _sources(raw["sources"], duty_id, "sources")

    requires = raw.get("requires") or []
    if not isinstance(requires, list):
        raise _bad(duty_id, "requires", "应为条件 id 的列表")
    for cond in requires:
        if cond not in CONDITION_IDS:
            raise _bad(duty_id, "requires", f"应为 {' / '.join(CONDITION_IDS)} 之一，得到 {cond!r}")
    combine_raw = raw.get("combine") or []
    if not isinstance(combine_raw, list):
        raise _bad(duty_id, "combine", "应为列表")
    combine = []
    for i, c in enumerate(combine_raw):
        where = f"combine[{i}]"
        if not isinstance(c, dict) or set(c) != {"with", "skip_prep", "sources"}:
            raise _bad(duty_id, where, "应为映射 {with, skip_prep, sources}")
        skip = c["skip_prep"] or []
        if not isinstance(skip, list) or not all(isinstance(s, str) and s.strip() for s in skip):
            raise _bad(duty_id, f"{where}.skip_prep", "应为准备步骤名称的列表")
        combine.append(Combine(with_id=_text(c["with"], duty_id, f"{where}.with"), skip_prep=tuple(skip),
                               sources=_sources(c["sources"], duty_id, f"{where}.sources")))
    without = raw.get("without_committee")
    texts: dict[str, str | None] = {"name": None, "timing": None, "standard": None}
    if without is not None:
        if not isinstance(without, dict) or not without or not set(without) <= set(texts):
            raise _bad(duty_id, "without_committee", "应为映射，键为 name、timing、standard 中的一个或几个")
        for key in without:
            texts[key] = _text(without[key], duty_id, f"without_committee.{key}")

    return Duty(
        id=duty_id, name=name, frequency=frequency, times=times, due=dict(due), event=event,
        per_member=per_member, timing=timing, prep=tuple(steps), owner=owner,
        applies_to=tuple(applies), effort_hours=effort, quorum=quorum, standard=standard,
        sources=sources, requires=tuple(requires), combine=tuple(combine),
        aliases=_aliases(raw.get("aliases"), duty_id, "aliases"), name_without_committee=texts["name"],
        timing_without_committee=texts["timing"], standard_without_committee=texts["standard"],
    )


def _sources(src_raw: Any, duty_id: str, field: str) -> tuple[Source, ...]:
    if not isinstance(src_raw, list) or not src_raw:
        raise _bad(duty_id, field, "至少需要一条依据")
    sources = []
    for i, src in enumerate(src_raw):
        where = f"{field}[{i}]"
        if not isinstance(src, dict) or set(src) != {"doc", "article"}:
            raise _bad(duty_id, where, "应为映射 {doc, article}")
        doc = _text(src["doc"], duty_id, f"{where}.doc")
        article = _text(src["article"], duty_id, f"{where}.article")
        if not LABEL_FULL_RE.match(article):
            raise _bad(duty_id, f"{where}.article", f"应写作 第X条（中文数字），得到 {article!r}")
        sources.append(Source(doc=doc, article=article))
    return tuple(sources)


def _aliases(value: Any, duty_id: str, field: str) -> tuple[str, ...]:
    """Words naming the duty (or step) in a worker's to-do; "甲+乙" means both words occur."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        raise _bad(duty_id, field, "应为文字列表")
    for a in value:
        if any(not part.strip() for part in a.split("+")):
            raise _bad(duty_id, field, f"“甲+乙”的每一部分都不能为空，得到 {a!r}")
    return tuple(a.strip() for a in value)


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
    by_id = {d.id: d for d in duties}
    for d in duties:
        for i, c in enumerate(d.combine):
            partner = by_id.get(c.with_id)
            if partner is None or partner.id == d.id:
                raise _bad(d.id, f"combine[{i}].with", f"不是文件中另一个事项的标识：{c.with_id!r}")
            if partner.frequency == "event" or d.frequency == "event":
                raise _bad(d.id, f"combine[{i}].with", "由事件触发的事项没有固定日期，不能合并排期")
            steps = {s.name for s in partner.prep}
            for name in c.skip_prep:
                if name not in steps:
                    raise _bad(d.id, f"combine[{i}].skip_prep", f"{c.with_id} 没有准备步骤“{name}”")
    conditions = {c.id for c in parse_conditions(data)} if "conditions" in data else set()
    for d in duties:
        missing = [c for c in d.requires if c not in conditions]
        if missing:
            raise _bad(d.id, "requires", f"条件 {missing[0]!r} 没有写在文件的 conditions 中")
    return duties


def parse_conditions(data: Any) -> list[Condition]:
    """The ``conditions:`` block: each profile condition with its reason and rule."""
    raw = data.get("conditions") if isinstance(data, dict) else None
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad("-", "conditions", "应为列表")
    out: list[Condition] = []
    for i, c in enumerate(raw):
        cid = c.get("id") if isinstance(c, dict) else None
        name = f"conditions.{cid}" if isinstance(cid, str) else f"conditions[{i}]"
        if not isinstance(c, dict) or set(c) != {"id", "absent", "unknown", "reason", "sources"}:
            raise _bad(name, "conditions", "应为映射 {id, absent, unknown, reason, sources}")
        if cid not in CONDITION_IDS:
            raise _bad(name, "id", f"应为 {' / '.join(CONDITION_IDS)} 之一")
        if c["unknown"] not in ("present", "absent"):
            raise _bad(name, "unknown", f"应为 present 或 absent，得到 {c['unknown']!r}")
        if any(o.id == cid for o in out):
            raise _bad(name, "id", "标识重复")
        out.append(Condition(id=cid, absent=_text(c["absent"], name, "absent"), unknown=c["unknown"],
                             reason=_text(c["reason"], name, "reason"), sources=_sources(c["sources"], name, "sources")))
    return out


def load_obligations(path: Path | None = None) -> list[Duty]:
    """Load and validate the duties file (default: the bundled knowledge/obligations.yaml).

    Parsed once per version of the file (its modification time and size); returns a new list
    each call, of immutable Duty objects.
    """
    return list(_parsed(*_version(path)))


def _version(path: Path | None) -> tuple[Path, int, int]:
    """The duties file (default: the bundled one) with its modification time and size, the cache key."""
    p = Path(path).resolve() if path is not None else knowledge_dir() / "obligations.yaml"
    try:
        stat = p.stat()
    except FileNotFoundError:
        raise _bad("-", "path", f"找不到文件 {p}") from None
    return p, stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int, size: int) -> tuple[Duty, ...]:
    return tuple(parse_obligations(_yaml(path, mtime_ns, size)))


@functools.lru_cache(maxsize=8)
def _yaml(path: Path, mtime_ns: int, size: int) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise _bad("-", "yaml", f"不是合法的 YAML：{exc}") from None


def load_conditions(path: Path | None = None) -> list[Condition]:
    """The profile conditions of the duties file (default: the bundled one), with their reasons and rules."""
    return list(_conditions(*_version(path)))


@functools.lru_cache(maxsize=8)
def _conditions(path: Path, mtime_ns: int, size: int) -> tuple[Condition, ...]:
    return tuple(parse_conditions(_yaml(path, mtime_ns, size)))


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
