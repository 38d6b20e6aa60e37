"""The rules the records are checked against, read from our knowledge files (never from code):

* knowledge/ledger_rules.yaml — the activity types of the ledger (each tied to a duty of
  obligations.yaml, whose frequency and times are the required counts), the article that states
  each frequency, the quorum / vote rules, the order rules, how 先紧后松 is judged, the fixes;
* knowledge/development_rules.yaml — the 发展党员 milestones, their order and every time limit
  of the 发展党员工作细则, with the article of the current (2026) and the superseded 2014 version.

``ledger_rules()`` and ``development_rules()`` parse and validate once per version of the file.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..citations import LABEL_FULL_RE, cite
from ..errors import InputError, KnowledgeError
from ..resources import knowledge_dir


def _bad(file: str, where: str, problem: str) -> KnowledgeError:
    return KnowledgeError(f"{file} 的 {where}：{problem}")


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KnowledgeError(f"找不到规则文件 {path}") from None
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path.name} 不是合法的 YAML：{exc}") from None


@dataclass(frozen=True)
class Basis:
    """An article and the words of it that state the rule's number (checked against the corpus by a test)."""

    doc: str      # full title, as in corpus/manifest.json
    article: str  # 第X条
    states: str = ""

    def text(self) -> str:
        return cite(self.doc, self.article)


def _basis(docs: dict[str, str], spec: Any, file: str, where: str, states: str | None = None) -> Basis:
    parts = str(spec or "").split()
    if len(parts) != 2 or not LABEL_FULL_RE.match(parts[1]):
        raise _bad(file, where, f"依据应写作“简称 第X条”，得到 {spec!r}")
    if parts[0] not in docs:
        raise _bad(file, where, f"未知文件简称 {parts[0]!r}")
    return Basis(docs[parts[0]], parts[1], str(states or ""))


# --------------------------------------------------------------------------- ledger rules

@dataclass(frozen=True)
class ActivityType:
    name: str
    aliases: tuple[str, ...]
    duty: str
    counts_as: tuple[str, ...]
    check: bool
    needs: str | None
    floor: bool
    basis: Basis | None

    @property
    def duties(self) -> tuple[str, ...]:
        """The duty ids an activity of this type fulfils (its own, then those it counts as)."""
        return (self.duty, *self.counts_as)


@dataclass(frozen=True)
class QuorumRule:
    id: str
    types: tuple[str, ...]
    when: str          # vote | always
    check: str         # attendance | votes
    compare: str       # at_least | more_than
    denominator: str   # voting | expected
    current: Basis
    previous: Basis | None
    what: str
    fix: str

    def violated(self, count: int, total: int) -> bool:
        """at_least half: count*2 >= total is fine; more_than half: count*2 > total is fine."""
        return count * 2 < total if self.compare == "at_least" else count * 2 <= total


@dataclass(frozen=True)
class OrderRule:
    id: str
    event: str
    requires: str
    window: str
    basis: Basis
    what: str
    fix: str


@dataclass(frozen=True)
class LedgerRules:
    types: tuple[ActivityType, ...]
    quorum: tuple[QuorumRule, ...]
    order: tuple[OrderRule, ...]
    slipping: dict
    kinds: dict
    xize_current: tuple[str, date]
    xize_previous: tuple[str, date]
    _lookup: dict = field(default_factory=dict, repr=False, compare=False)

    def resolve(self, name: Any) -> ActivityType:
        """The type named (by its name, an alias or its duty id); InputError listing the known ones."""
        key = re.sub(r"\s+", "", str(name or ""))
        if key in self._lookup:
            return self._lookup[key]
        known = "、".join(t.name for t in self.types)
        if not key:
            raise InputError("type", f"活动类型不能为空。可选：{known}")
        raise InputError("type", f"不认识的活动类型“{key[:30]}”。可选：{known}")

    def by_duty(self, duty_id: str) -> ActivityType | None:
        return next((t for t in self.types if t.duty == duty_id), None)

    def xize_version(self, day: date) -> tuple[str, bool]:
        """(title, is_current) of the 发展党员工作细则 in force on ``day``."""
        title, effective = self.xize_current
        return (title, True) if day >= effective else (self.xize_previous[0], False)


def _ledger_rules(data: Any, file: str) -> LedgerRules:
    if not isinstance(data, dict):
        raise _bad(file, "顶层", "应为映射")
    docs = dict(data.get("documents") or {})
    xize = data.get("xize") or {}
    try:
        cur = (docs[xize["current"]["doc"]], _as_date(xize["current"]["effective"]))
        prev = (docs[xize["previous"]["doc"]], _as_date(xize["previous"]["effective"]))
    except (KeyError, TypeError, ValueError):
        raise _bad(file, "xize", "应写明 current/previous 的 doc（简称）和 effective（日期）") from None
    types: list[ActivityType] = []
    lookup: dict[str, ActivityType] = {}
    for i, raw in enumerate(data.get("types") or []):
        where = f"types[{i}]"
        if not isinstance(raw, dict) or not raw.get("name") or not raw.get("duty"):
            raise _bad(file, where, "每类应有 name 和 duty")
        basis = _basis(docs, raw["basis"], file, where + ".basis", raw.get("states")) if raw.get("basis") else None
        if raw.get("check") and basis is None:
            raise _bad(file, where, "要自查频次的类型必须写明 basis（频次所在条文）")
        needs = raw.get("needs")
        if needs not in (None, "committee", "groups"):
            raise _bad(file, where + ".needs", f"应为 committee 或 groups，得到 {needs!r}")
        t = ActivityType(str(raw["name"]), tuple(raw.get("aliases") or ()), str(raw["duty"]),
                         tuple(raw.get("counts_as") or ()), bool(raw.get("check")), needs, bool(raw.get("floor")),
                         basis)
        types.append(t)
        for key in (t.name, t.duty, *t.aliases):
            key = re.sub(r"\s+", "", key)
            if key in lookup and lookup[key] is not t:
                raise _bad(file, where, f"名称或别名“{key}”重复")
            lookup[key] = t
    quorum = []
    for i, raw in enumerate(data.get("quorum") or []):
        where = f"quorum[{i}]"
        try:
            q = QuorumRule(
                id=str(raw["id"]), types=tuple(raw["types"]), when=raw["when"], check=raw["check"],
                compare=raw["compare"], denominator=raw["denominator"],
                current=_basis(docs, raw["current"]["basis"], file, where, raw["current"].get("states")),
                previous=(_basis(docs, raw["previous"]["basis"], file, where, raw["previous"].get("states"))
                          if raw.get("previous") else None),
                what=str(raw["what"]), fix=str(raw["fix"]))
        except (KeyError, TypeError) as exc:
            raise _bad(file, where, f"缺少字段 {exc}") from None
        if q.when not in ("vote", "always") or q.check not in ("attendance", "votes") or \
                q.compare not in ("at_least", "more_than") or q.denominator not in ("voting", "expected"):
            raise _bad(file, where, "when/check/compare/denominator 的取值不对")
        quorum.append(q)
    order = []
    for i, raw in enumerate(data.get("order") or []):
        where = f"order[{i}]"
        try:
            order.append(OrderRule(str(raw["id"]), str(raw["event"]), str(raw["requires"]), str(raw["window"]),
                                   _basis(docs, raw["basis"], file, where, raw.get("states")),
                                   str(raw["what"]), str(raw["fix"])))
        except (KeyError, TypeError) as exc:
            raise _bad(file, where, f"缺少字段 {exc}") from None
    return LedgerRules(tuple(types), tuple(quorum), tuple(order), dict(data.get("slipping") or {}),
                       dict(data.get("kinds") or {}), cur, prev, lookup)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --------------------------------------------------------------------------- development rules

@dataclass(frozen=True)
class Milestone:
    key: str
    name: str
    aliases: tuple[str, ...]
    multiple: bool
    current: str | None
    previous: str | None


@dataclass(frozen=True)
class Version:
    article: str
    states: str


@dataclass(frozen=True)
class Limit:
    id: str
    step: str
    kind: str                    # within | at_least | every | amount | extension
    version_by: str              # from | step
    current: Version
    previous: Version | None
    what: str
    fix: str
    frm: str | None = None
    until: str | None = None
    value: int = 0
    unit: str = ""
    extended: tuple[int, str] | None = None
    required: bool = False
    due_at_limit: bool = False
    min_days: float | None = None
    min_hours: float | None = None
    min_months: int | None = None
    max_months: int | None = None
    overdue_fix: str = ""


UNITS = ("day", "working_day", "month", "year")


@dataclass(frozen=True)
class DevelopmentRules:
    milestones: tuple[Milestone, ...]
    fields: dict[str, tuple[str, tuple[str, ...]]]
    order: tuple[tuple[str, str], ...]
    limits: tuple[Limit, ...]

    def milestone(self, key: str) -> Milestone:
        return next(m for m in self.milestones if m.key == key)

    def name(self, key: str) -> str:
        return self.milestone(key).name

    def header_map(self) -> dict[str, str]:
        """Column header (name or alias, spaces removed) → milestone key or field name."""
        out: dict[str, str] = {"姓名": "name", "名字": "name"}
        for m in self.milestones:
            for h in (m.name, *m.aliases):
                out[re.sub(r"\s+", "", h)] = m.key
        for key, (name, aliases) in self.fields.items():
            for h in (name, *aliases):
                out[re.sub(r"\s+", "", h)] = key
        return out


def _development_rules(data: Any, file: str) -> DevelopmentRules:
    if not isinstance(data, dict):
        raise _bad(file, "顶层", "应为映射")
    ms = []
    for i, raw in enumerate(data.get("milestones") or []):
        try:
            ms.append(Milestone(str(raw["key"]), str(raw["name"]), tuple(raw.get("aliases") or ()),
                                bool(raw.get("multiple")), raw.get("current"), raw.get("previous")))
        except (KeyError, TypeError):
            raise _bad(file, f"milestones[{i}]", "应有 key 和 name") from None
    keys = {m.key for m in ms}
    if len(keys) != len(ms):
        raise _bad(file, "milestones", "key 重复")
    fields_ = {k: (str(v["name"]), tuple(v.get("aliases") or ())) for k, v in (data.get("fields") or {}).items()}
    order = []
    for i, raw in enumerate(data.get("order") or []):
        pair = (raw.get("before"), raw.get("after"))
        if not set(pair) <= keys:
            raise _bad(file, f"order[{i}]", f"未知环节 {pair}")
        order.append(pair)
    limits = []
    for i, raw in enumerate(data.get("limits") or []):
        where = f"limits[{i}]"
        try:
            lim = raw.get("limit") or {}
            ext = raw.get("extended")
            limits.append(Limit(
                id=str(raw["id"]), step=str(raw["step"]), kind=str(raw["kind"]), version_by=str(raw["version_by"]),
                current=Version(raw["current"]["article"], raw["current"]["states"]),
                previous=Version(raw["previous"]["article"], raw["previous"]["states"]) if raw.get("previous") else None,
                what=str(raw["what"]), fix=str(raw["fix"]), frm=raw.get("from"), until=raw.get("until"),
                value=int(lim.get("value") or 0), unit=str(lim.get("unit") or ""),
                extended=(int(ext["value"]), str(ext["unit"])) if ext else None,
                required=bool(raw.get("required")), due_at_limit=bool(raw.get("due_at_limit")),
                min_days=raw.get("min_days"), min_hours=raw.get("min_hours"),
                min_months=raw.get("min_months"), max_months=raw.get("max_months"),
                overdue_fix=str(raw.get("overdue_fix") or "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad(file, where, f"字段缺失或有误（{exc}）") from None
        limit = limits[-1]
        if limit.kind not in ("within", "at_least", "every", "amount", "extension"):
            raise _bad(file, where, f"kind 应为 within/at_least/every/amount/extension，得到 {limit.kind!r}")
        if limit.kind in ("within", "at_least", "every") and (limit.unit not in UNITS or limit.value <= 0
                                                               or limit.frm not in keys):
            raise _bad(file, where, "within/at_least/every 需要 from（环节）和 limit {value, unit}")
        if limit.step not in keys or limit.version_by not in ("from", "step"):
            raise _bad(file, where, "step 应为已知环节，version_by 应为 from 或 step")
        for v in (limit.current, limit.previous):
            if v is not None and not LABEL_FULL_RE.match(v.article):
                raise _bad(file, where, f"条号应写作 第X条，得到 {v.article!r}")
    return DevelopmentRules(tuple(ms), fields_, tuple(order), tuple(limits))


@functools.lru_cache(maxsize=8)
def _cached(kind: str, path: str, mtime_ns: int, size: int):
    p = Path(path)
    parse = _ledger_rules if kind == "ledger" else _development_rules
    return parse(_read(p), p.name)


def _load(kind: str, path: Path):
    p = Path(path).resolve()
    try:
        st = p.stat()
    except FileNotFoundError:
        raise KnowledgeError(f"找不到规则文件 {p}") from None
    return _cached(kind, str(p), st.st_mtime_ns, st.st_size)


def ledger_rules(folder: Path | None = None) -> LedgerRules:
    """knowledge/ledger_rules.yaml (of ``folder``, default the bundled knowledge)."""
    return _load("ledger", (folder or knowledge_dir()) / "ledger_rules.yaml")


def development_rules(folder: Path | None = None) -> DevelopmentRules:
    """knowledge/development_rules.yaml (of ``folder``, default the bundled knowledge)."""
    return _load("development", (folder or knowledge_dir()) / "development_rules.yaml")
