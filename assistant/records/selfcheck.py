"""Self-inspection (自查): the ledger against the duties of obligations.yaml and the rules of
knowledge/ledger_rules.yaml.

Findings, each with the type, what is wrong, since when, the article and a one-line fix:

* missing  — a period of the rule's frequency that has ended without the required count
             (支委会 一般每月1次: the months without one, by name); what is still due before the
             self-check period ends is listed apart (``due``), it is not a fault yet;
* slipping — 先紧后松: on schedule in the first part of the year, not in the second;
* quorum   — a vote or a meeting below the attendance or the yes-vote its rule requires;
* order    — e.g. a 组织生活会 with no 谈心谈话 recorded before it.

Nothing is reported for what was done right. The positive side is ``counts`` (by type, by
quarter, by month). ``duty_status`` gives the planner, for any period, which duties were done
(with dates) and which are overdue.

All of it is a pure function of the records and the rules: the CLI, the web tab and the tests
call the same code.
"""
from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Iterable

from ..errors import InputError
from ..plans.obligations import Duty, applies, occurrences
from .ledger import ActivityRecord
from .rules import ActivityType, Basis, LedgerRules, QuorumRule

SEVERITY_ORDER = {"red": 0, "amber": 1}


@dataclass(frozen=True)
class Finding:
    duty: str                 # the activity type's name (支委会 …)
    kind: str                 # missing | slipping | quorum | order
    detail: str
    basis: str                # 《…》第X条
    fix: str
    since: str                # ISO date: since when
    severity: str = "red"     # red | amber
    months: tuple[str, ...] = ()
    rule: str = ""            # the rule id of ledger_rules.yaml, when one applies

    def to_json(self) -> dict:
        out = asdict(self)
        out["months"] = list(self.months)
        return out


@dataclass
class SelfCheck:
    year: int
    start: date
    until: date
    branch_type: str
    has_committee: bool
    has_groups: bool
    findings: list[Finding] = field(default_factory=list)
    due: list[dict] = field(default_factory=list)        # still due before the period ends
    counts: dict = field(default_factory=dict)
    total: int = 0

    @property
    def period_label(self) -> str:
        return f"{self.start.year}年{self.start.month}月{self.start.day}日至{self.until.month}月{self.until.day}日"

    def to_json(self) -> dict:
        return {
            "period": {"year": self.year, "start": self.start.isoformat(), "until": self.until.isoformat(),
                       "label": self.period_label, "branch_type": self.branch_type,
                       "has_committee": self.has_committee, "has_groups": self.has_groups},
            "findings": [f.to_json() for f in self.findings],
            "due": self.due,
            "counts": self.counts,
        }


# --------------------------------------------------------------------------- periods

@dataclass(frozen=True)
class Period:
    start: date
    end: date
    key: str      # 2026-07 / 2026-Q3 / 2026-H2 / 2026
    label: str    # 7月 / 第三季度 / 下半年 / 全年


_CN = "一二三四"


def periods(frequency: str, year: int) -> list[Period]:
    """The periods of a frequency in a calendar year."""
    def last(m: int) -> date:
        return date(year, m, calendar.monthrange(year, m)[1])

    if frequency == "month":
        return [Period(date(year, m, 1), last(m), f"{year}-{m:02d}", f"{m}月") for m in range(1, 13)]
    if frequency == "quarter":
        return [Period(date(year, 3 * q - 2, 1), last(3 * q), f"{year}-Q{q}", f"第{_CN[q - 1]}季度") for q in range(1, 5)]
    if frequency == "half_year":
        return [Period(date(year, 1, 1), last(6), f"{year}-H1", "上半年"), Period(date(year, 7, 1), last(12), f"{year}-H2", "下半年")]
    if frequency == "year":
        return [Period(date(year, 1, 1), last(12), str(year), "全年")]
    return []


def _period_of(frequency: str, day: date) -> Period:
    return next(p for p in periods(frequency, day.year) if p.start <= day <= p.end)


# --------------------------------------------------------------------------- helpers

def _type_of(rec: ActivityRecord, rules: LedgerRules) -> ActivityType | None:
    try:
        return rules.resolve(rec.type)
    except InputError:
        return rules.by_duty(rec.duty_id or "")


def _fulfils(rec: ActivityRecord, duty_id: str, rules: LedgerRules) -> bool:
    t = _type_of(rec, rules)
    return t is not None and duty_id in t.duties


def _applicable(t: ActivityType, d: Duty, branch_type: str, has_committee: bool, has_groups: bool) -> bool:
    if t.needs == "committee" and not has_committee:
        return False
    if t.needs == "groups" and not has_groups:
        return False
    return applies(d, branch_type)


def _month_names(keys: Iterable[str]) -> str:
    """2026-07, 2026-08 → 7月、8月."""
    return "、".join(f"{int(k[5:7])}月" for k in keys)


def _freq_words(d: Duty) -> str:
    unit = {"month": "每月", "quarter": "每季度", "half_year": "每半年", "year": "每年"}[d.frequency]
    return f"{unit}{d.times}次"


def _quorum_basis(rule: QuorumRule, day: date, rules: LedgerRules) -> tuple[Basis, str] | None:
    """The basis in force on ``day`` (the 细则 had a 2014 version), and a note saying which version applies."""
    current_title = rules.xize_current[0]
    if rule.current.doc != current_title:
        return rule.current, ""
    title, is_current = rules.xize_version(day)
    if is_current:
        return rule.current, ""
    if rule.previous is None:
        return None
    return rule.previous, f"（会议时施行的是2014年版细则）"


# --------------------------------------------------------------------------- the check

def self_check(records: Iterable[ActivityRecord], year: int, until: date | None, duties: list[Duty],
               rules: LedgerRules, *, branch_type: str = "机关", has_committee: bool = True,
               has_groups: bool = True) -> SelfCheck:
    """Check a year of records up to ``until`` (default: the year's end)."""
    start = date(year, 1, 1)
    end = date(year, 12, 31)
    until = until or end
    if until < start:
        raise InputError("until", f"截止日期 {until.isoformat()} 早于 {year} 年")
    until = min(until, end)
    recs = sorted((r for r in records if start <= r.date <= until), key=lambda r: (r.date, r.id))
    check = SelfCheck(year, start, until, branch_type, has_committee, has_groups)
    by_id = {d.id: d for d in duties}

    for t in rules.types:
        d = by_id.get(t.duty)
        if not t.check or d is None or d.frequency == "event" or not _applicable(t, d, branch_type, has_committee,
                                                                                has_groups):
            continue
        done = [r for r in recs if _fulfils(r, d.id, rules)]
        missing: list[Period] = []
        still_due: list[Period] = []
        met: dict[str, bool] = {}
        for p in periods(d.frequency, year):
            n = sum(1 for r in done if p.start <= r.date <= p.end)
            if p.end <= until:
                met[p.key] = n >= d.times
                if n < d.times:
                    missing.append(p)
            elif n < d.times:
                still_due.append(p)
        basis = t.basis.text() if t.basis else ""
        floor = "（条规未规定次数，按本助手清单每年1次的底线）" if t.floor else ""
        if missing:
            labels = "、".join(p.label for p in missing)
            elapsed = len(met)
            if d.frequency == "year":
                detail = f"{t.name}{_freq_words(d)}{floor}：{year}年没有记录"
            else:
                unit = _unit(d)
                detail = (f"{t.name}{_freq_words(d)}{floor}：{labels}没有记录"
                          f"（已过的{elapsed}个{unit}中{elapsed - len(missing)}个{unit}按期）")
            check.findings.append(Finding(
                t.name, "missing", detail, basis, str(rules.kinds.get("missing", {}).get("fix", "")),
                missing[0].start.isoformat(), _color(rules, "missing"),
                tuple(p.key for p in missing) if d.frequency == "month" else (), f"{d.id}:frequency"))
        if still_due:
            check.due.append({"duty": t.name, "periods": [p.key for p in still_due],
                              "labels": [p.label for p in still_due], "by": still_due[-1].end.isoformat(),
                              "basis": basis})
        slip = _slipping(t, d, met, rules, basis)
        if slip is not None:
            check.findings.append(slip)

    check.findings += _quorum_findings(recs, rules)
    check.findings += _order_findings(recs, rules)
    check.findings.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.since, f.duty, f.kind))
    check.counts, check.total = counts(recs, rules), len(recs)
    return check


def _unit(d: Duty) -> str:
    return {"month": "月", "quarter": "季度", "half_year": "半年", "year": "年"}[d.frequency]


def _color(rules: LedgerRules, kind: str) -> str:
    return str(rules.kinds.get(kind, {}).get("color", "red"))


def _slipping(t: ActivityType, d: Duty, met: dict[str, bool], rules: LedgerRules, basis: str) -> Finding | None:
    """先紧后松: on schedule in months 1..split, clearly not in the months after (complete ones only)."""
    cfg = rules.slipping
    if d.frequency not in (cfg.get("frequencies") or ()):
        return None
    split = int(cfg.get("split_month", 6))
    first = [k for k in met if int(k[5:7]) <= split]
    second = [k for k in met if int(k[5:7]) > split]
    if len(second) < int(cfg.get("min_months_after", 3)) or not first:
        return None
    share1 = sum(met[k] for k in first) / len(first)
    share2 = sum(met[k] for k in second) / len(second)
    if share1 < float(cfg.get("on_schedule_share", 0.8)) or share2 >= float(cfg.get("slipped_share", 0.5)):
        return None
    lapsed = [k for k in second if not met[k]]
    kept1, kept2 = sum(met[k] for k in first), sum(met[k] for k in second)
    detail = (f"先紧后松：{_month_names(first[:1])}至{_month_names(first[-1:])}的{len(first)}个月中{kept1}个月按期，"
              f"{_month_names(second[:1])}至{_month_names(second[-1:])}的{len(second)}个月中只有{kept2}个月按期"
              f"（{_freq_words(d)}）")
    fix = str(rules.kinds.get("slipping", {}).get("fix", "")).replace("{duty}", t.name)
    return Finding(t.name, "slipping", detail, basis, fix, f"{second[0]}-01", _color(rules, "slipping"),
                   tuple(lapsed), f"{d.id}:slipping")


def _quorum_findings(recs: list[ActivityRecord], rules: LedgerRules) -> list[Finding]:
    out = []
    for r in recs:
        short = False  # a meeting without its quorum: its vote is void, the yes count is not judged again
        for q in rules.quorum:
            if r.duty_id not in q.types:
                continue
            if q.when == "vote" and r.yes is None:
                continue
            if short and q.check == "votes":
                continue
            total = r.voting if q.denominator == "voting" and r.voting is not None else r.expected
            count = r.present if q.check == "attendance" else r.yes
            if total is None or count is None or total == 0 or not q.violated(count, total):
                continue
            chosen = _quorum_basis(q, r.date, rules)
            if chosen is None:
                continue
            basis, note = chosen
            short = short or q.check == "attendance"
            whom = "应到会有表决权" if q.denominator == "voting" and r.voting is not None else "应到"
            what = "实到" if q.check == "attendance" else "赞成"
            need = "不少于半数" if q.compare == "at_least" else "超过半数"
            votes = f"，赞成 {r.yes} 人" if q.check == "attendance" and r.yes is not None else ""
            detail = f"{r.date.isoformat()} {r.type}：{whom} {total} 人，{what} {count} 人{votes}（应{need}）——{q.what}{note}"
            out.append(Finding(r.type, "quorum", detail, basis.text(), q.fix, r.date.isoformat(),
                               _color(rules, "quorum"), (r.date.strftime("%Y-%m"),), q.id))
    return out


def _order_findings(recs: list[ActivityRecord], rules: LedgerRules) -> list[Finding]:
    out = []
    for o in rules.order:
        for r in recs:
            if r.duty_id != o.event:
                continue
            window_start = date(r.date.year, 1, 1)
            before = [x for x in recs if _fulfils(x, o.requires, rules) and window_start <= x.date < r.date]
            if before:
                continue
            req = rules.by_duty(o.requires)
            detail = f"{r.date.isoformat()} {r.type}：当年在此之前没有{req.name if req else o.requires}的记录"
            out.append(Finding(r.type, "order", detail, o.basis.text(), o.fix, r.date.isoformat(),
                               _color(rules, "order"), (r.date.strftime("%Y-%m"),), o.id))
    return out


def counts(recs: Iterable[ActivityRecord], rules: LedgerRules) -> dict:
    """What was done: by type, by quarter and by month (each {type: n})."""
    by_type: Counter = Counter()
    by_quarter: dict[str, Counter] = defaultdict(Counter)
    by_month: dict[str, Counter] = defaultdict(Counter)
    order = {t.name: i for i, t in enumerate(rules.types)}
    for r in recs:
        by_type[r.type] += 1
        by_quarter[f"{r.date.year}-Q{(r.date.month - 1) // 3 + 1}"][r.type] += 1
        by_month[r.date.strftime("%Y-%m")][r.type] += 1

    def ordered(c: Counter) -> dict:
        return {k: c[k] for k in sorted(c, key=lambda k: (order.get(k, 99), k))}

    return {"total": sum(by_type.values()), "by_type": ordered(by_type),
            "by_quarter": {k: ordered(v) for k, v in sorted(by_quarter.items())},
            "by_month": {k: ordered(v) for k, v in sorted(by_month.items())}}


# --------------------------------------------------------------------------- for the planner

@dataclass(frozen=True)
class DutyPeriod:
    start: date
    end: date
    key: str
    due: date | None          # the last due date of the duty in this period (obligations.yaml's schedule)
    required: int
    done: tuple[date, ...]
    status: str               # done | overdue | pending


@dataclass(frozen=True)
class DutyStatus:
    duty_id: str
    name: str
    periods: tuple[DutyPeriod, ...]

    @property
    def done(self) -> list[date]:
        return sorted({d for p in self.periods for d in p.done})

    @property
    def overdue(self) -> list[DutyPeriod]:
        return [p for p in self.periods if p.status == "overdue"]

    def to_json(self) -> dict:
        return {"duty_id": self.duty_id, "name": self.name, "done": [d.isoformat() for d in self.done],
                "periods": [{"key": p.key, "start": p.start.isoformat(), "end": p.end.isoformat(),
                             "due": p.due.isoformat() if p.due else None, "required": p.required,
                             "done": [d.isoformat() for d in p.done], "status": p.status} for p in self.periods]}


def duty_status(records: Iterable[ActivityRecord], duties: list[Duty], start: date, end: date, as_of: date,
                rules: LedgerRules, *, branch_type: str = "机关", has_committee: bool = True,
                has_groups: bool = True) -> list[DutyStatus]:
    """For every recurring duty of obligations.yaml that applies to the branch: each of its periods
    touching [start, end], the dates it was done (records up to ``as_of``), and whether that period is
    done, overdue (its due date passed without it) or pending. The planner plans nothing that is done
    and what is overdue first."""
    recs = [r for r in records if r.date <= as_of]
    out = []
    for d in duties:
        if d.frequency == "event" or not applies(d, branch_type):
            continue
        t = rules.by_duty(d.id)
        if t is not None and not _applicable(t, d, branch_type, has_committee, has_groups):
            continue
        due_dates = occurrences(d, start, end)
        entries = []
        for y in range(start.year, end.year + 1):
            for p in periods(d.frequency, y):
                if p.end < start or p.start > end:
                    continue
                done = tuple(sorted(r.date for r in recs if p.start <= r.date <= p.end and _fulfils(r, d.id, rules)))
                due = max((x for x in due_dates if p.start <= x <= p.end), default=None)
                if len(done) >= d.times:
                    status = "done"
                elif (due or p.end) < as_of:
                    status = "overdue"
                else:
                    status = "pending"
                entries.append(DutyPeriod(p.start, p.end, p.key, due, d.times, done, status))
        out.append(DutyStatus(d.id, d.name, tuple(entries)))
    return out
