"""发展党员 candidates: their milestones in the database, and every time limit of the
发展党员工作细则 applied to each (rules from knowledge/development_rules.yaml).

Which version of the 细则 applies is decided by date, per rule (``version_by``): a time limit
counted from an event follows the version in force on that event's day; a condition of a step
(one year as 积极分子 before 发展对象) follows the version in force on the step's day. The 2026
revision took effect on 2026-05-11 (ledger_rules.yaml ``xize``).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import select

from ..appdb import Database
from ..citations import cite
from ..errors import InputError
from ..inputs import clean_text, label, parse_date, parse_hours, parse_int
from ..plans.meeting import add_months
from .ledger import ImportReport, write_table
from .models import Candidate, Milestone
from .rules import DevelopmentRules, LedgerRules, Limit, development_rules, ledger_rules
from .tabular import read_sheet

log = logging.getLogger(__name__)

_DATE_SPLIT_RE = re.compile(r"[、，,;；\s]+")
#: the main line of steps, in order (what "the next step" walks along)
SEQUENCE = ("applied", "talked", "activist", "target", "political_review", "training", "pre_review",
            "branch_meeting", "committee_talk", "approved", "oath", "probation_application", "probation_meeting",
            "probation_approved")


@dataclass(frozen=True)
class CandidateRecord:
    id: int
    name: str
    milestones: dict[str, tuple[date, ...]]
    training_days: float | None = None
    training_hours: float | None = None
    extension_months: int | None = None
    note: str = ""

    def first(self, key: str) -> date | None:
        dates = self.milestones.get(key) or ()
        return dates[0] if dates else None

    def last(self, key: str) -> date | None:
        dates = self.milestones.get(key) or ()
        return dates[-1] if dates else None


@dataclass(frozen=True)
class CandidateFinding:
    rule: str          # what the rule requires (our words)
    detail: str
    basis: str         # 《…》第X条, of the version that applies
    fix: str
    since: str
    kind: str = "limit"   # limit | overdue | order | missing
    severity: str = "red"
    id: str = ""
    version: str = ""     # 现行 / 2014年版

    def to_json(self) -> dict:
        return {"rule": self.rule, "detail": self.detail, "basis": self.basis, "fix": self.fix, "since": self.since,
                "kind": self.kind, "severity": self.severity, "id": self.id, "version": self.version}


@dataclass(frozen=True)
class NextStep:
    step: str
    due: date | None = None        # the latest day it may happen (a time limit), if any
    earliest: date | None = None   # the first day it may happen, if a rule sets one
    basis: str = ""
    overdue: bool = False

    def to_json(self) -> dict:
        return {"step": self.step, "due": self.due.isoformat() if self.due else None,
                "earliest": self.earliest.isoformat() if self.earliest else None,
                "basis": self.basis, "overdue": self.overdue}


@dataclass
class CandidateCheck:
    name: str
    stage: str
    findings: list[CandidateFinding] = field(default_factory=list)
    next: list[NextStep] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"name": self.name, "stage": self.stage, "findings": [f.to_json() for f in self.findings],
                "next": [n.to_json() for n in self.next]}


# --------------------------------------------------------------------------- date arithmetic

def add_working_days(day: date, n: int) -> date:
    """``n`` working days (Monday–Friday) after ``day``; public holidays are not known here."""
    out = day
    while n > 0:
        out += timedelta(days=1)
        if out.weekday() < 5:
            n -= 1
    return out


def shift(day: date, value: int, unit: str) -> date:
    if unit == "day":
        return day + timedelta(days=value)
    if unit == "working_day":
        return add_working_days(day, value)
    if unit == "month":
        return add_months(day, value)
    if unit == "year":
        return add_months(day, 12 * value)
    raise ValueError(unit)


_UNIT_WORDS = {"day": "天", "working_day": "个工作日", "month": "个月", "year": "年"}
_NUM_WORDS = "零一二三四五六七八九十"


def limit_words(value: int, unit: str) -> str:
    if unit == "month" and value == 6:
        return "半年"
    n = _NUM_WORDS[value] if value <= 10 else str(value)
    return f"{n}{_UNIT_WORDS[unit]}"


# --------------------------------------------------------------------------- parsing

def parse_dates(value: Any, field: str) -> list[date]:
    """One or several dates in a cell (2026-03-01、2026-09-01)."""
    if value is None:
        return []
    if hasattr(value, "year") and hasattr(value, "month"):
        return [parse_date(value, field)]
    parts = [p for p in _DATE_SPLIT_RE.split(str(value).strip()) if p]
    return [parse_date(p, field) for p in parts]


def _as(field: str, name: str, fn, *args, **kwargs):
    """Call a parser of assistant.inputs; its message names the field ``name`` (姓名, 谈话 …)."""
    try:
        return fn(*args, **kwargs)
    except InputError as exc:
        message = exc.message
        for prefix in (field, label(field)):
            if message.startswith(prefix):
                message = name + message[len(prefix):]
                break
        raise InputError(field, message) from None


def validate_candidate(values: dict[str, Any], drules: DevelopmentRules) -> dict[str, Any]:
    """{name, milestones {key: [dates]}, training_days, training_hours, extension_months, note}."""
    name = _as("name", "姓名", clean_text, values.get("name"), "name", 40, required=True)
    milestones: dict[str, list[date]] = {}
    for m in drules.milestones:
        if m.key not in values:
            continue
        dates = _as(m.key, m.name, parse_dates, values[m.key], m.key)
        if len(dates) > 1 and not m.multiple:
            raise InputError(m.key, f"{m.name}只能填一个日期，收到 {len(dates)} 个")
        if dates:
            milestones[m.key] = sorted(set(dates))
    return {
        "name": name, "milestones": milestones,
        "training_days": parse_hours(values.get("training_days"), "training_days", 0, 365, required=False),
        "training_hours": parse_hours(values.get("training_hours"), "training_hours", 0, 2000, required=False),
        "extension_months": parse_int(values.get("extension_months"), "extension_months", 0, 36, required=False),
        "note": clean_text(values.get("note"), "note", 200),
    }


def _record(c: Candidate) -> CandidateRecord:
    ms: dict[str, list[date]] = {}
    for m in c.milestones:
        ms.setdefault(m.step, []).append(m.date)
    return CandidateRecord(c.id, c.name, {k: tuple(sorted(v)) for k, v in ms.items()}, c.training_days,
                           c.training_hours, c.extension_months, c.note or "")


# --------------------------------------------------------------------------- storage

class Candidates:
    """The branch's 发展党员 candidates, in the application database."""

    def __init__(self, db: Database, drules: DevelopmentRules | None = None, lrules: LedgerRules | None = None) -> None:
        self.db = db
        self.rules = drules or development_rules()
        self.lrules = lrules or ledger_rules()

    def step_key(self, name: Any) -> str:
        """The milestone key for a step named in Chinese (递交入党申请书, 谈话 …) or by its key."""
        key = re.sub(r"\s+", "", str(name or ""))
        found = self.rules.header_map().get(key)
        if found is None and key in {m.key for m in self.rules.milestones}:
            found = key
        if found is None or found in ("name", "note"):
            known = "、".join(m.name for m in self.rules.milestones)
            raise InputError("step", f"不认识的环节“{key[:30]}”。可选：{known}")
        return found

    def _upsert(self, s, fields: dict[str, Any]) -> bool:
        """Merge into the candidate of that name (new dates added, numbers replaced); True if new."""
        c = s.scalar(select(Candidate).where(Candidate.name == fields["name"]))
        new = c is None
        if new:
            c = Candidate(name=fields["name"], note="")
            s.add(c)
        for key in ("training_days", "training_hours", "extension_months"):
            if fields.get(key) is not None:
                setattr(c, key, fields[key])
        if fields.get("note"):
            c.note = fields["note"]
        have = {(m.step, m.date) for m in c.milestones}
        for key, dates in fields["milestones"].items():
            single = not self.rules.milestone(key).multiple
            for d in dates:
                if (key, d) in have:
                    continue
                if single:  # a one-date step: the new date replaces the old one
                    for m in [m for m in c.milestones if m.step == key]:
                        c.milestones.remove(m)
                c.milestones.append(Milestone(step=key, date=d))
                have.add((key, d))
        return new

    def add(self, values: dict[str, Any]) -> CandidateRecord:
        """Add a candidate or merge dates into the one of that name."""
        fields = validate_candidate(values, self.rules)
        with self.db.session() as s:
            self._upsert(s, fields)
            s.flush()
            rec = _record(s.scalar(select(Candidate).where(Candidate.name == fields["name"])))
        log.info("candidates: 1 record saved")
        return rec

    def list(self) -> list[CandidateRecord]:
        with self.db.session() as s:
            return [_record(c) for c in s.scalars(select(Candidate).order_by(Candidate.id)).all()]

    def remove(self, name: Any) -> None:
        who = clean_text(name, "name", 40, required=True)
        with self.db.session() as s:
            c = s.scalar(select(Candidate).where(Candidate.name == who))
            if c is None:
                raise InputError("name", f"没有名为“{who}”的发展党员记录")
            s.delete(c)

    def import_file(self, path: Path | str) -> ImportReport:
        """One row per candidate, headed 姓名 and the milestone names; bad rows reported by number."""
        sheet = read_sheet(Path(path), self.rules.header_map(), ("name",))
        report = ImportReport()
        good = []
        names: set[str] = set()
        for number, values in sheet.rows:
            try:
                fields = validate_candidate(values, self.rules)
            except InputError as exc:
                report.errors.append((number, str(exc)))
                continue
            if fields["name"] in names:
                report.errors.append((number, f"姓名“{fields['name']}”在本表中重复"))
                continue
            names.add(fields["name"])
            good.append(fields)
        with self.db.session() as s:
            for fields in good:
                self._upsert(s, fields)
                report.added += 1
        log.info("candidates import: %d rows saved, %d rows rejected", report.added, len(report.errors))
        return report

    def export(self, path: Path | str) -> Path:
        header = ["姓名"] + [m.name for m in self.rules.milestones] + \
                 [self.rules.fields[k][0] for k in ("training_days", "training_hours", "extension_months", "note")]
        rows = []
        for c in self.list():
            row: list[Any] = [c.name]
            for m in self.rules.milestones:
                dates = c.milestones.get(m.key) or ()
                row.append("、".join(d.isoformat() for d in dates) if m.multiple else (dates[0] if dates else None))
            row += [c.training_days, c.training_hours, c.extension_months, c.note]
            rows.append(row)
        return write_table(Path(path), "发展党员", header, rows, [10] + [14] * (len(header) - 1))

    def check(self, as_of: date | None = None) -> list[CandidateCheck]:
        day = as_of or date.today()
        return [check_candidate(c, day, self.rules, self.lrules) for c in self.list()]


# --------------------------------------------------------------------------- the check

def _version(limit: Limit, day: date, lrules: LedgerRules) -> tuple[str, str, str] | None:
    """(title, article, version word) of the 细则 version in force on ``day`` for this rule; None
    when that version had no such rule."""
    title, is_current = lrules.xize_version(day)
    v = limit.current if is_current else limit.previous
    if v is None:
        return None
    return title, v.article, "现行" if is_current else "2014年版"


def _basis(limit: Limit, day: date, lrules: LedgerRules) -> tuple[str, str] | None:
    chosen = _version(limit, day, lrules)
    if chosen is None:
        return None
    title, article, word = chosen
    return cite(title, article), word


def _version_note(word: str, drules: DevelopmentRules, key: str) -> str:
    return f"（按{drules.name(key)}时施行的2014年版细则）" if word == "2014年版" else ""


def stage_of(c: CandidateRecord, drules: DevelopmentRules) -> str:
    reached = [k for k in SEQUENCE if c.milestones.get(k)]
    if not reached:
        return "尚无记录"
    last = reached[-1]
    words = {"applied": "入党申请人", "talked": "入党申请人", "activist": "入党积极分子", "target": "发展对象",
             "political_review": "发展对象", "training": "发展对象", "pre_review": "发展对象",
             "branch_meeting": "预备党员（待审批）", "committee_talk": "预备党员（待审批）", "approved": "预备党员",
             "oath": "预备党员", "probation_application": "预备党员", "probation_meeting": "预备党员（转正待审批）",
             "probation_approved": "正式党员"}
    return words[last]


def check_candidate(c: CandidateRecord, as_of: date, drules: DevelopmentRules, lrules: LedgerRules) -> CandidateCheck:
    """Every time limit and order rule applied to one candidate, and the next steps with their dates."""
    out = CandidateCheck(c.name, stage_of(c, drules))
    nxt: dict[str, NextStep] = {}
    out_of_order: set[tuple[str, str]] = set()

    # -- order: a recorded step dated before a step that must come first
    for before, after in drules.order:
        b, a = c.last(before) if not drules.milestone(before).multiple else c.first(before), c.first(after)
        if b is None or a is None or a >= b:
            continue
        out_of_order.add((before, after))
        m = drules.milestone(after)
        title, is_current = lrules.xize_version(a)
        article = m.current if is_current else m.previous
        basis = cite(title, article) if article else cite(lrules.xize_current[0], m.current or "")
        out.findings.append(CandidateFinding(
            f"{drules.name(before)}应在{drules.name(after)}之前", f"{drules.name(after)} {a.isoformat()} 早于"
            f"{drules.name(before)} {b.isoformat()}，环节顺序颠倒", basis,
            f"核对两个日期是否记错；确实颠倒的，向上级党委报告并按程序补正", a.isoformat(), "order", "red",
            f"order:{before}>{after}", "现行" if is_current else "2014年版"))

    for limit in drules.limits:
        finding, step = _apply(limit, c, as_of, drules, lrules, out_of_order)
        if finding is not None:
            out.findings.append(finding)
        if step is not None:
            prev = nxt.get(step.step)
            if prev is None or (step.due and (prev.due is None or step.due < prev.due)):
                nxt[step.step] = step

    # the next step on the main line, when no rule gave it a date
    reached = [k for k in SEQUENCE if c.milestones.get(k)]
    if reached and reached[-1] != "probation_approved":
        following = next((k for k in SEQUENCE[SEQUENCE.index(reached[-1]) + 1:] if not c.milestones.get(k)), None)
        if following is not None and drules.name(following) not in nxt:
            nxt[drules.name(following)] = NextStep(drules.name(following))
    rank = {m.name: i for i, m in enumerate(drules.milestones)}
    out.next = sorted(nxt.values(), key=lambda s: (rank.get(s.step, 99), s.due or s.earliest or date.max))
    out.findings.sort(key=lambda f: (f.since, f.id))
    return out


def _apply(limit: Limit, c: CandidateRecord, as_of: date, drules: DevelopmentRules, lrules: LedgerRules,
           out_of_order: set[tuple[str, str]]) -> tuple[CandidateFinding | None, NextStep | None]:
    name = drules.name(limit.step)
    if limit.kind == "amount":
        when = c.first(limit.step)
        if when is None or (c.training_days is None and c.training_hours is None):
            return None, None
        chosen = _basis(limit, when, lrules)
        if chosen is None:
            return None, None
        days_ok = c.training_days is not None and c.training_days >= (limit.min_days or 0)
        hours_ok = c.training_hours is not None and c.training_hours >= (limit.min_hours or 0)
        if days_ok or hours_ok:
            return None, None
        got = "、".join(x for x in (f"{c.training_days:g}天" if c.training_days is not None else "",
                                     f"{c.training_hours:g}学时" if c.training_hours is not None else "") if x)
        return CandidateFinding(limit.what, f"{name}（{when.isoformat()}）记录为{got}，不足{limit.min_days:g}天"
                                f"或{limit.min_hours:g}学时", chosen[0], limit.fix, when.isoformat(), "limit", "red",
                                limit.id, chosen[1]), None
    if limit.kind == "extension":
        months = c.extension_months
        when = c.first(limit.step)
        if months is None or months == 0:
            return None, None
        chosen = _basis(limit, when or as_of, lrules)
        if chosen is None or (limit.min_months or 0) <= months <= (limit.max_months or 99):
            return None, None
        return CandidateFinding(limit.what, f"延长预备期 {months} 个月，不在{limit.min_months}至{limit.max_months}个月之间",
                                chosen[0], limit.fix, (when or as_of).isoformat(), "limit", "red", limit.id,
                                chosen[1]), None

    start = c.first(limit.frm) if limit.kind != "every" else c.first(limit.frm)
    step_day = c.first(limit.step)
    if (limit.frm, limit.step) in out_of_order:
        return None, None
    if limit.kind == "every":
        return _every(limit, c, as_of, drules, lrules)
    if start is None:
        if limit.required and step_day is not None and _basis(limit, step_day, lrules) is not None:
            basis, word = _basis(limit, step_day, lrules)
            return CandidateFinding(limit.what, f"{name} {step_day.isoformat()}，但没有{drules.name(limit.frm)}的记录",
                                    basis, limit.fix, step_day.isoformat(), "missing", "red", limit.id, word), None
        return None, None
    length = limit.value
    unit = limit.unit
    extra_months = c.extension_months if limit.id == "probation_one_year" and c.extension_months else 0
    bound = shift(start, length, unit)
    if extra_months:
        bound = add_months(bound, extra_months)
    version_day = start if limit.version_by == "from" else (step_day or bound)
    chosen = _basis(limit, version_day, lrules)
    if chosen is None:
        return None, None
    basis, word = chosen
    note = _version_note(word, drules, limit.frm if limit.version_by == "from" else limit.step)
    words = limit_words(length, unit) + (f"（另延长{extra_months}个月）" if extra_months else "")
    fname = drules.name(limit.frm)
    if limit.kind == "within":
        if step_day is not None:
            if step_day <= bound:
                return None, None
            gap = (step_day - start).days
            severity = "red"
            extra = ""
            if limit.extended is not None:
                hard = shift(start, *limit.extended)
                if step_day <= hard:
                    severity, extra = "amber", f"（特殊情况最长{limit_words(*limit.extended)}，请确认有特殊情况）"
            return CandidateFinding(limit.what, f"{fname} {start.isoformat()}，{name} {step_day.isoformat()}，"
                                    f"相隔 {gap} 天，超过{words}（应不晚于 {bound.isoformat()}）{extra}{note}",
                                    basis, limit.fix, bound.isoformat(), "limit", severity, limit.id, word), None
        overdue = as_of > bound
        step = NextStep(name, due=bound, basis=basis, overdue=overdue)
        if overdue:
            severity, extra = "red", ""
            if limit.extended is not None and as_of <= shift(start, *limit.extended):
                severity, extra = "amber", f"（特殊情况最长{limit_words(*limit.extended)}）"
            return CandidateFinding(limit.what, f"{fname} {start.isoformat()}，到 {as_of.isoformat()} 仍没有{name}的记录，"
                                    f"已超过{words}（期限 {bound.isoformat()}）{extra}{note}", basis, limit.fix,
                                    bound.isoformat(), "overdue", severity, limit.id, word), step
        return None, step
    # at_least
    if step_day is not None:
        if step_day >= bound:
            return None, None
        gap_months = (step_day.year - start.year) * 12 + step_day.month - start.month - (step_day.day < start.day)
        gap = f"{gap_months} 个月" if unit in ("month", "year") else f"{(step_day - start).days} 天"
        return CandidateFinding(limit.what, f"{fname} {start.isoformat()}，{name} {step_day.isoformat()}，只隔 {gap}，"
                                f"不足{words}（最早 {bound.isoformat()}）{note}", basis, limit.fix, step_day.isoformat(),
                                "limit", "red", limit.id, word), None
    if limit.due_at_limit:
        overdue = as_of > bound
        step = NextStep(name, due=bound, earliest=bound, basis=basis, overdue=overdue)
        if overdue:
            return CandidateFinding(limit.what, f"{fname} {start.isoformat()}，期满日 {bound.isoformat()} 已过，"
                                    f"仍没有{name}的记录{note}", basis, limit.overdue_fix or limit.fix,
                                    bound.isoformat(), "overdue", "amber", limit.id, word), step
        return None, step
    if limit.frm in SEQUENCE and limit.step in SEQUENCE:
        return None, NextStep(name, earliest=bound, basis=basis)
    return None, None


def _every(limit: Limit, c: CandidateRecord, as_of: date, drules: DevelopmentRules, lrules: LedgerRules):
    """Reviews at most ``limit`` apart from the start until the ``until`` step (or today)."""
    start = c.first(limit.frm)
    if start is None:
        return None, None
    end = c.first(limit.until) if limit.until else None
    chosen = _basis(limit, start, lrules)
    if chosen is None:
        return None, None
    basis, word = chosen
    note = _version_note(word, drules, limit.frm)
    stop = end or as_of
    points = [start] + [d for d in c.milestones.get(limit.step, ()) if start < d <= stop]
    name = drules.name(limit.step)
    words = limit_words(limit.value, limit.unit)
    for prev, cur in zip(points, points[1:]):
        bound = shift(prev, limit.value, limit.unit)
        if cur > bound:
            return CandidateFinding(limit.what, f"{prev.isoformat()} 之后到 {cur.isoformat()} 才有下一次{name}，"
                                    f"间隔超过{words}{note}", basis, limit.fix, bound.isoformat(), "limit", "red",
                                    limit.id, word), None
    bound = shift(points[-1], limit.value, limit.unit)
    if end is not None:
        if end > bound:
            return CandidateFinding(limit.what, f"最后一次{name}（或确定积极分子）在 {points[-1].isoformat()}，"
                                    f"到 {end.isoformat()} {drules.name(limit.until)}之间超过{words}没有{name}{note}",
                                    basis, limit.fix, bound.isoformat(), "limit", "red", limit.id, word), None
        return None, None
    step = NextStep(name, due=bound, basis=basis, overdue=as_of > bound)
    if as_of > bound:
        return CandidateFinding(limit.what, f"上一次{name}（或确定积极分子）在 {points[-1].isoformat()}，"
                                f"到 {as_of.isoformat()} 已超过{words}{note}", basis, limit.fix, bound.isoformat(),
                                "overdue", "red", limit.id, word), step
    return None, step


def check_all(records: Iterable[CandidateRecord], as_of: date, drules: DevelopmentRules | None = None,
              lrules: LedgerRules | None = None) -> list[CandidateCheck]:
    drules = drules or development_rules()
    lrules = lrules or ledger_rules()
    return [check_candidate(c, as_of, drules, lrules) for c in records]
