"""What the ledger says of the branch's recurring duties, for the checklist and the planner.

``branch_progress(db, duties, start, end, as_of, …)`` reads the ledger and asks
``selfcheck.duty_status`` which period of each duty was done (with the dates) and which is overdue;
``None`` when the ledger has no activity at all (a branch that keeps no records here is planned
exactly as before: nothing is marked done or overdue).

* ``Progress.mark(duty_id, dues)`` — a status for each due date of a duty (the checklist's items):
  ``done`` with its date(s) when the period holds enough records (the first record to the first
  occurrence …), ``overdue`` when its due date is before ``as_of`` without one, else ``pending``;
* ``Progress.overdue(duty_id)`` — the periods whose due date passed before ``as_of`` without a record
  (the planner plans one catch-up first); ``Progress.done_period(duty_id, day)`` the done period
  containing ``day``, if any (the planner does not plan it again).

A duty the self-check does not judge (``check: false`` in ledger_rules.yaml, e.g. 支部书记集中轮训,
organised above the branch) is marked done when recorded, never overdue. Records are looked at from
1 January of the first year concerned.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable

from ..plans.obligations import Duty
from .ledger import ActivityRecord
from .rules import LedgerRules, ledger_rules
from .selfcheck import DutyPeriod, DutyStatus, duty_status

DONE, OVERDUE, PENDING = "done", "overdue", "pending"
STATUS_CN = {DONE: "已完成", OVERDUE: "已逾期", PENDING: "待办"}


def status_text(status: str | None, done: Iterable[date] = ()) -> str:
    """已完成（2026-12-03）, 已逾期, 待办; "" without a status."""
    if status is None:
        return ""
    if status == DONE:
        dates = "、".join(d.isoformat() for d in done)
        return f"{STATUS_CN[DONE]}（{dates}）" if dates else STATUS_CN[DONE]
    return STATUS_CN.get(status, status)


@dataclass(frozen=True)
class Progress:
    as_of: date
    statuses: dict[str, DutyStatus]
    judged: frozenset[str]  # duty ids the self-check judges: only these can be overdue
    records: int  # activities looked at

    def _periods(self, duty_id: str) -> tuple[DutyPeriod, ...]:
        s = self.statuses.get(duty_id)
        return s.periods if s is not None else ()

    def mark(self, duty_id: str, dues: Iterable[date]) -> dict[date, tuple[str | None, tuple[date, ...]]]:
        """due date → (status, done dates) for these occurrences of the duty; (None, ()) for a duty
        the records say nothing of."""
        dues = sorted(set(dues))
        periods = self._periods(duty_id)
        out: dict[date, tuple[str | None, tuple[date, ...]]] = {}
        for due in dues:
            p = next((p for p in periods if p.start <= due <= p.end), None)
            if p is None:
                out[due] = (None, ())
                continue
            mine = [d for d in dues if p.start <= d <= p.end]
            k = mine.index(due)
            if k < len(p.done):
                # the k-th occurrence takes the k-th record; the last occurrence also any extra ones
                got = p.done[k:] if k == len(mine) - 1 else (p.done[k],)
                out[due] = (DONE, tuple(got))
            elif due < self.as_of and duty_id in self.judged:
                out[due] = (OVERDUE, ())
            else:
                out[due] = (PENDING, ())
        return out

    def done_period(self, duty_id: str, day: date) -> DutyPeriod | None:
        return next((p for p in self._periods(duty_id) if p.start <= day <= p.end and p.status == DONE), None)

    def overdue(self, duty_id: str) -> list[DutyPeriod]:
        """Periods whose due date (or end) is before ``as_of`` and that hold no record of the duty."""
        if duty_id not in self.judged:
            return []
        return [p for p in self._periods(duty_id) if p.status == OVERDUE]


def progress_of(records: Iterable[ActivityRecord], duties: list[Duty], start: date, end: date, as_of: date,
                rules: LedgerRules | None = None, *, branch_type: str = "机关", has_committee: bool = True,
                has_groups: bool = True) -> Progress:
    """The duties' periods touching [1 January of ``start``'s year, ``end``] against the records up to ``as_of``."""
    rules = rules or ledger_rules()
    records = list(records)
    first = date(start.year, 1, 1)
    found = duty_status(records, duties, first, end, as_of, rules, branch_type=branch_type,
                        has_committee=has_committee, has_groups=has_groups)
    judged = frozenset(t.duty for t in rules.types if t.check)
    return Progress(as_of, {s.duty_id: s for s in found}, judged, len(records))


def branch_progress(db, duties: list[Duty], start: date, end: date, as_of: date, *, branch_type: str = "机关",
                    has_committee: bool = True, has_groups: bool = True,
                    rules: LedgerRules | None = None) -> Progress | None:
    """``progress_of`` over the branch's ledger in ``db``; None when the ledger holds no activity."""
    from .ledger import Ledger

    ledger = Ledger(db, rules)
    if not ledger.count():
        return None
    records = ledger.list(start=date(start.year, 1, 1), end=max(end, as_of))
    return progress_of(records, duties, start, end, as_of, ledger.rules, branch_type=branch_type,
                       has_committee=has_committee, has_groups=has_groups)


def profile_facts(profile) -> dict:
    """has_committee / has_groups for ``branch_progress`` from a branch profile (None: the defaults)."""
    if profile is None:
        return {}
    groups = getattr(profile, "party_groups", None)
    return {"has_committee": profile.has_committee, "has_groups": groups is None or groups > 0}


def app_progress(app, duties: list[Duty], start: date, end: date, as_of: date, *, branch_type: str,
                 profile=None) -> tuple[Progress | None, str]:
    """(progress, notice) for an entry point: the App's ledger for this branch. A default SQLite
    database that was never created means no records (and is not created now); a database that
    cannot be read gives None and a one-line notice, and the checklist or plan is made without it."""
    import logging

    from ..errors import StoreError

    settings = app.settings
    if not settings.db_url and not (settings.data_dir / "app.db").exists():
        return None, ""
    try:
        return branch_progress(app.db, duties, start, end, as_of, branch_type=branch_type,
                               **profile_facts(profile)), ""
    except StoreError as exc:
        logging.getLogger(__name__).warning("records not read for the plan: %s", type(exc).__name__)
        return None, f"台账暂时无法读取，未按台账标注完成情况（{exc}）"


_CN = "一二三四"


def period_label(key: str) -> str:
    """2026-11 → 11月, 2026-Q3 → 第三季度, 2026-H2 → 下半年, 2026 → 2026年."""
    if "-Q" in key:
        return f"第{_CN[int(key[-1]) - 1]}季度"
    if "-H" in key:
        return "上半年" if key.endswith("1") else "下半年"
    if "-" in key:
        return f"{int(key[5:7])}月"
    return f"{key}年"


def periods_text(periods: Iterable[DutyPeriod], limit: int = 3) -> str:
    """11月、12月; 1月、2月、3月等11个月 — the periods a catch-up is for."""
    labels = [period_label(p.key) for p in periods]
    if len(labels) <= limit:
        return "、".join(labels)
    return "、".join(labels[:limit]) + f"等{len(labels)}个期间"
