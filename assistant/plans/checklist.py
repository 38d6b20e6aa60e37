"""Branch work checklists (工作清单) built from knowledge/obligations.yaml.

``build_checklist(2027)`` lists every duty due in the year with its due date,
owner role, standard of done, basis (《…》第X条) and preparation steps with their
own dates; ``Checklist.by_role()`` is the view per committee member and
``Checklist.self_check()`` the quarterly 自查 sheet with a tick column.
With a branch ``profile`` (assistant.plans.profile) the list is the branch's own: duties it rules
out (no 支委会, no 积极分子 …) are left out and listed once in ``not_applicable`` with the rule,
work of a post the branch does not have goes to whoever does it, and the role view carries names.
Writers: Markdown, Excel (.xlsx), iCalendar (.ics), 公文-style Word (.docx) and JSON (``to_json``).

Due dates are the scheduling defaults of obligations.yaml (a sensible day in
the period); what the rules require is stated in each item's ``timing``.

With ``progress`` (assistant.records.progress: what the branch's ledger says) every item gets a
status: done with its date(s), overdue (its due date passed without a record: listed first) or
pending; the writers add a 状态 column. Without it (no records) the checklist is as it always was.
"""
from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from ..errors import InputError
from .calendar_export import CalendarEntry, write_ics as _write_ics
from .obligations import (
    BRANCH_TYPES,
    Condition,
    Duty,
    applies,
    basis_text,
    load_conditions,
    load_obligations,
    occurrences,
)
from .profile import NotApplicable, Profile, excluded, sources_text, step_not_needed

__all__ = [
    "PrepItem",
    "ChecklistItem",
    "EventDuty",
    "RoleTask",
    "Checklist",
    "ROLES",
    "FORMATS",
    "build_checklist",
    "to_markdown",
    "write_markdown",
    "write_xlsx",
    "write_ics",
    "write_docx",
    "write_checklist",
]

ROLES = ("书记", "组织委员", "宣传委员", "纪检委员")  # always shown in the role view
EXTRA_ROLES = ("副书记", "党小组长", "全体党员")  # shown when some task is theirs
FORMATS = (".md", ".xlsx", ".ics", ".docx")
TICK = "☐"


@dataclass(frozen=True)
class PrepItem:
    name: str
    date: date
    owner: str
    hours: float
    offset_days: int


@dataclass(frozen=True)
class ChecklistItem:
    duty_id: str
    name: str  # display name (per-member duties say how many members)
    duty_name: str
    due: date
    owner: str
    standard: str
    basis: str
    timing: str
    quorum: str | None
    prep: tuple[PrepItem, ...]
    quantity: int  # members for per-member duties, else 1
    hours: float  # the duty itself × quantity, without preparation
    frequency: str
    note: str = ""  # e.g. which meeting it may be held together with, and the rule
    status: str | None = None  # from the records: done / overdue / pending; None without records
    done: tuple[date, ...] = ()  # the dates the records show it done

    @property
    def status_text(self) -> str:
        """已完成（2026-12-03） / 已逾期 / 待办; "" without records."""
        from ..records.progress import status_text

        return status_text(self.status, self.done)

    @property
    def quarter(self) -> int:
        return (self.due.month - 1) // 3 + 1

    @property
    def alarm_days_before(self) -> int:
        return max((p.offset_days for p in self.prep), default=0)


@dataclass(frozen=True)
class EventDuty:
    """A duty triggered by an event (换届, 预备期满 …): no fixed date, listed with its time limits."""

    duty_id: str
    name: str
    event: str
    owner: str
    timing: str
    quorum: str | None
    standard: str
    basis: str
    prep: tuple[tuple[str, int, str], ...]  # (step, days before, owner)


@dataclass(frozen=True)
class RoleTask:
    role: str
    date: date
    task: str
    kind: str  # 事项 / 准备
    duty_name: str
    due: date
    standard: str


@dataclass
class Checklist:
    year: int
    quarter: int | None
    month: int | None
    branch_type: str
    members: int | None
    start: date
    end: date
    items: list[ChecklistItem]
    events: list[EventDuty]
    upcoming: list[tuple[PrepItem, ChecklistItem]] = field(default_factory=list)
    not_applicable: list[NotApplicable] = field(default_factory=list)
    profile: Profile | None = None
    progress: object | None = None  # assistant.records.progress.Progress when the branch has records
    notice: str = ""  # e.g. the records could not be read

    @property
    def has_status(self) -> bool:
        return self.progress is not None

    def who(self, role: str) -> str:
        """组织委员（李强） when the profile names the person."""
        name = self.profile.name_of(role) if self.profile else ""
        return f"{role}（{name}）" if name else role

    def to_dict(self) -> dict:
        items = []
        for i in self.items:
            item = {"name": i.name, "due": i.due.isoformat(), "owner": i.owner, "basis": i.basis,
                    "person": (self.profile.name_of(i.owner) if self.profile else "") or None}
            if self.has_status:  # only when the branch has records: otherwise the list is as before
                item["status"] = i.status
                item["done"] = [d.isoformat() for d in i.done]
            items.append(item)
        out = {"items": items, "not_applicable": [n.to_dict() for n in self.not_applicable]}
        if self.has_status:
            out["as_of"] = self.progress.as_of.isoformat()
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @property
    def period_label(self) -> str:
        if self.month:
            return f"{self.year}年{self.month}月"
        if self.quarter:
            return f"{self.year}年第{self.quarter}季度"
        return f"{self.year}年"

    @property
    def title(self) -> str:
        return f"{self.period_label}党支部工作清单"

    @property
    def subtitle(self) -> str:
        members = f"{self.members}名党员" if self.members else "党员人数未填"
        return f"（{self.branch_type}党支部 · {members} · {self.start.isoformat()}至{self.end.isoformat()}）"

    def counts(self) -> dict[str, int]:
        """Occurrences per duty id in the period."""
        out: dict[str, int] = {}
        for item in self.items:
            out[item.duty_id] = out.get(item.duty_id, 0) + 1
        return out

    def items_for(self, duty_id: str) -> list[ChecklistItem]:
        return [i for i in self.items if i.duty_id == duty_id]

    def by_role(self) -> dict[str, list[RoleTask]]:
        """Every duty and preparation step grouped by the role that does it, in date order."""
        shown = ROLES if self.profile is None or self.profile.has_committee else ("书记",)
        tasks: dict[str, list[RoleTask]] = {r: [] for r in shown}
        for item in self.items:
            tasks.setdefault(item.owner, []).append(RoleTask(
                item.owner, item.due, item.name, "事项", item.duty_name, item.due, item.standard))
            for p in item.prep:
                tasks.setdefault(p.owner, []).append(RoleTask(
                    p.owner, p.date, p.name, "准备", item.duty_name, item.due, item.standard))
        for p, item in self.upcoming:
            tasks.setdefault(p.owner, []).append(RoleTask(
                p.owner, p.date, p.name, "准备", item.duty_name, item.due, item.standard))
        order = list(shown) + [r for r in EXTRA_ROLES if r in tasks]
        order += sorted(r for r in tasks if r not in order)
        return {r: sorted(tasks[r], key=lambda t: (t.date, t.due, t.duty_name, t.task)) for r in order}

    def self_check(self) -> dict[int, list[ChecklistItem]]:
        """Items per quarter for the 自查 sheet (only quarters inside the period)."""
        out: dict[int, list[ChecklistItem]] = {}
        first_q = (self.start.month - 1) // 3 + 1
        last_q = (self.end.month - 1) // 3 + 1
        for q in range(first_q, last_q + 1):
            out[q] = [i for i in self.items if i.quarter == q]
        return out


# --------------------------------------------------------------------------- building

def period_bounds(year: int, quarter: int | None = None, month: int | None = None) -> tuple[date, date]:
    """First and last day of the year, quarter or month."""
    return _period(year, quarter, month)


def _period(year: int, quarter: int | None, month: int | None) -> tuple[date, date]:
    if month:
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if quarter:
        first = 3 * (quarter - 1) + 1
        return date(year, first, 1), date(year, first + 2, calendar.monthrange(year, first + 2)[1])
    return date(year, 1, 1), date(year, 12, 31)


def _validate(year, quarter, month, branch_type, members) -> None:
    if isinstance(year, bool) or not isinstance(year, int) or not 1950 <= year <= 2200:
        raise InputError("year", f"year（年份）应为 1950–2200 之间的整数，收到 {year!r}")
    if quarter is not None and month is not None:
        raise InputError("quarter", "quarter（季度）和 month（月份）只能指定一个")
    if quarter is not None and (isinstance(quarter, bool) or quarter not in (1, 2, 3, 4)):
        raise InputError("quarter", f"quarter（季度）应为 1–4，收到 {quarter!r}")
    if month is not None and (isinstance(month, bool) or month not in range(1, 13)):
        raise InputError("month", f"month（月份）应为 1–12，收到 {month!r}")
    if branch_type not in BRANCH_TYPES:
        raise InputError("branch_type", f"branch_type（支部类型）应为 {' / '.join(BRANCH_TYPES)} 之一，收到 {branch_type!r}")
    if members is not None and (isinstance(members, bool) or not isinstance(members, int) or members < 1):
        raise InputError("members", f"members（党员人数）应为正整数，收到 {members!r}")


class _Branch:
    """What the profile changes about a duty: its name, its steps, who does each piece."""

    def __init__(self, profile: Profile | None, conditions: dict[str, Condition], duties: list[Duty]):
        self.profile = profile
        self.conditions = conditions
        self.committee = profile.has_committee if profile else True
        self.removed: list[NotApplicable] = []
        self.notes: dict[str, str] = {}
        if profile is None or profile.combine_meetings:
            names = {d.id: d.name for d in duties}
            for d in duties:
                for c in d.combine:
                    rule = sources_text(c.sources)
                    self.notes[c.with_id] = (self.notes.get(c.with_id, "") +
                                             f"可与{names[d.id]}合并进行（{rule}）。")
                    self.notes[d.id] = self.notes.get(d.id, "") + f"可与{names.get(c.with_id, c.with_id)}合并进行（{rule}）。"

    def owner(self, role: str) -> str:
        if self.profile is None:
            return role
        return self.profile.assignee(role)[0]

    def name(self, d: Duty) -> str:
        return d.name_without_committee if (not self.committee and d.name_without_committee) else d.name

    def steps(self, d: Duty, due: date | None) -> list[tuple]:
        out = []
        for s in d.prep:
            step = s.for_committee(self.committee)
            if step is None:
                na = step_not_needed(d, s.name, self.conditions)
                if all(n.name != na.name for n in self.removed):
                    self.removed.append(na)
                continue
            out.append((step, None if due is None else due - timedelta(days=step.offset_days)))
        return sorted(out, key=lambda p: (p[1] or date.min, -p[0].offset_days, p[0].name))

    def item(self, d: Duty, due: date, members: int | None) -> ChecklistItem:
        quantity = (members or 1) if d.per_member else 1
        name = self.name(d)
        if d.per_member:
            who = f"全体{members}名党员" if members else "每名党员"
            name = f"{name}（{who}，每人至少{d.times}次）"
        prep = tuple(PrepItem(s.name, when, self.owner(s.owner), s.hours, s.offset_days) for s, when in self.steps(d, due))
        return ChecklistItem(
            duty_id=d.id, name=name, duty_name=self.name(d), due=due, owner=self.owner(d.owner), standard=d.standard,
            basis=basis_text(d), timing=d.timing, quorum=d.quorum, prep=prep, quantity=quantity,
            hours=round(d.effort_hours * quantity, 2), frequency=d.frequency, note=self.notes.get(d.id, ""),
        )


def _item(d: Duty, due: date, members: int | None) -> ChecklistItem:
    return _Branch(None, {}, []).item(d, due, members)


def build_checklist(year: int, quarter: int | None = None, month: int | None = None,
                    branch_type: str | None = None, members: int | None = None,
                    duties: list[Duty] | None = None, profile: Profile | None = None,
                    conditions: list[Condition] | None = None, progress=None) -> Checklist:
    """Every duty due in the year / quarter / month for a branch of this type.

    ``profile`` makes it this branch's list (see the module text); ``branch_type`` and ``members``
    override the profile's. ``duties`` defaults to knowledge/obligations.yaml. ``progress``
    (assistant.records.progress.Progress) gives each item its status from the records; overdue
    items come first.
    """
    if branch_type is None:
        branch_type = profile.branch_type if profile else "机关"
    if members is None and profile is not None:
        members = profile.total_members
    _validate(year, quarter, month, branch_type, members)
    start, end = _period(year, quarter, month)
    duties = load_obligations() if duties is None else duties
    cond_by_id = {c.id: c for c in (load_conditions() if conditions is None else conditions)}
    if profile is not None and not profile.has_committee:
        duties = [d.for_committee(False) for d in duties]
    branch = _Branch(profile, cond_by_id, duties)
    order = {d.id: i for i, d in enumerate(duties)}
    items: list[ChecklistItem] = []
    events: list[EventDuty] = []
    upcoming: list[tuple[PrepItem, ChecklistItem]] = []
    removed: list[NotApplicable] = []
    for d in duties:
        if not applies(d, branch_type):
            continue
        if profile is not None:
            na = excluded(profile, d, cond_by_id)
            if na is not None:
                removed.append(na)
                continue
        if d.frequency == "event":
            events.append(EventDuty(
                duty_id=d.id, name=branch.name(d), event=d.event or "", owner=branch.owner(d.owner), timing=d.timing,
                quorum=d.quorum, standard=d.standard, basis=basis_text(d),
                prep=tuple((s.name, s.offset_days, branch.owner(s.owner)) for s, _ in branch.steps(d, None)),
            ))
            continue
        for due in occurrences(d, start, end):
            items.append(branch.item(d, due, members))
        # preparation that falls inside the period for a duty due after it
        horizon = max((s.offset_days for s in d.prep), default=0)
        if horizon:
            for due in occurrences(d, end + timedelta(days=1), end + timedelta(days=horizon)):
                later = branch.item(d, due, members)
                upcoming.extend((p, later) for p in later.prep if start <= p.date <= end)
    if progress is not None:
        items = _with_status(items, progress)
    items.sort(key=lambda i: (i.status != "overdue" if progress is not None else False, i.due, order[i.duty_id]))
    upcoming.sort(key=lambda pi: (pi[0].date, pi[1].due, order[pi[1].duty_id]))
    return Checklist(year=year, quarter=quarter, month=month, branch_type=branch_type, members=members,
                     start=start, end=end, items=items, events=events, upcoming=upcoming,
                     not_applicable=removed + branch.removed, profile=profile, progress=progress)


def _with_status(items: list[ChecklistItem], progress) -> list[ChecklistItem]:
    from dataclasses import replace

    dues: dict[str, list[date]] = {}
    for i in items:
        dues.setdefault(i.duty_id, []).append(i.due)
    marks = {k: progress.mark(k, v) for k, v in dues.items()}
    out = []
    for i in items:
        status, done = marks[i.duty_id].get(i.due, (None, ()))
        out.append(replace(i, status=status, done=done))
    return out


# --------------------------------------------------------------------------- shared outline

def _d(x: date) -> str:
    return x.isoformat()


def _prep_text(item: ChecklistItem) -> str:
    return "；".join(f"{_d(p.date)} {p.name}（{p.owner}）" for p in item.prep) or "—"


def _count_summary(cl: Checklist) -> list[str]:
    counts = cl.counts()
    seen: list[str] = []
    lines = []
    for item in cl.items:
        if item.duty_id in seen:
            continue
        seen.append(item.duty_id)
        n = counts[item.duty_id]
        extra = f"，每次覆盖{item.quantity}名党员" if item.quantity > 1 else ""
        lines.append(f"{item.duty_name}：{n}次{extra}（{item.timing}）")
    return lines


# each block: (heading, level, paragraphs, table)
Block = tuple[str, int, list[str], list[list[str]] | None]


def _status_line(cl: Checklist) -> list[str]:
    """One line of what the records say (only when the branch has records)."""
    if not cl.has_status:
        return []
    n = {k: sum(1 for i in cl.items if i.status == k) for k in ("done", "overdue", "pending")}
    line = (f"据台账（截至{_d(cl.progress.as_of)}）：已完成{n['done']}项，已逾期{n['overdue']}项，待办{n['pending']}项。")
    if n["overdue"]:
        line += "已逾期的列在最前，请尽快补做并在会议记录中说明原因。"
    return [line]


def _tick(item: ChecklistItem) -> str:
    return "☑" if item.status == "done" else TICK


def _outline(cl: Checklist) -> list[Block]:
    blocks: list[Block] = []
    st = cl.has_status
    main = [["序号", "到期日", "事项", "责任人"] + (["状态"] if st else []) + ["准备步骤（日期 事项 责任人）", "合格标准", "依据"]]
    for n, item in enumerate(cl.items, 1):
        std = item.standard + (f" 到会要求：{item.quorum}" if item.quorum else "") + (f" {item.note}" if item.note else "")
        main.append([str(n), _d(item.due), item.name, cl.who(item.owner)] + ([item.status_text] if st else [])
                    + [_prep_text(item), std, item.basis])
    blocks.append(("工作清单", 1, [
        "到期日是按常规节奏给出的建议日期，可按上级部署和本支部实际调整；条规对频次和时限的要求见“频次统计”。",
    ] + _status_line(cl), main))

    if cl.upcoming:
        rows = [["日期", "准备事项", "责任人", "为哪项工作准备", "该项工作到期日"]]
        rows += [[_d(p.date), p.name, p.owner, it.duty_name, _d(it.due)] for p, it in cl.upcoming]
        blocks.append(("本期内需提前准备的后续工作", 2, [], rows))

    blocks.append(("按角色分工", 1, [], None))
    for role, tasks in cl.by_role().items():
        rows = [["日期", "工作", "类型", "所属事项", "事项到期日"]]
        rows += [[_d(t.date), t.task, t.kind, t.duty_name, _d(t.due)] for t in tasks]
        paras = [] if tasks else ["本期没有分配给该角色的事项。"]
        blocks.append((cl.who(role), 2, paras, rows if tasks else None))

    blocks.append(("季度自查", 1, [f"完成一项在“完成”栏把 {TICK} 改为 ☑，未完成的在备注中写明原因和补做时间。"], None))
    for q, items in cl.self_check().items():
        rows = [["完成", "到期日", "事项", "责任人", "合格标准", "备注"]]
        rows += [[_tick(i), _d(i.due), i.name, i.owner, i.standard, i.status_text] for i in items]
        blocks.append((f"{cl.year}年第{q}季度", 2, [] if items else ["本季度没有到期事项。"], rows if items else None))

    if cl.events:
        rows = [["事项", "触发情形", "责任人", "时限", "到会要求", "依据"]]
        rows += [[e.name, e.event, e.owner, e.timing, e.quorum or "—", e.basis] for e in cl.events]
        blocks.append(("遇事即办（由事件触发的工作）", 1, [], rows))

    if cl.not_applicable:
        rows = [["事项", "不适用的原因", "依据"]]
        rows += [[n.name, n.reason, n.basis] for n in cl.not_applicable]
        blocks.append(("按支部情况不适用的事项", 1, [], rows))

    blocks.append(("频次统计", 1, _count_summary(cl) or ["本期没有到期事项。"], None))
    return blocks


# --------------------------------------------------------------------------- writers

def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def to_markdown(cl: Checklist) -> str:
    lines = [f"# {cl.title}", "", cl.subtitle, ""]
    for heading, level, paras, table in _outline(cl):
        lines += ["#" * (level + 1) + " " + heading, ""]
        for p in paras:
            lines += [p, ""]
        if table:
            header, *rows = table
            lines.append("| " + " | ".join(_md_cell(c) for c in header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(cl: Checklist, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_markdown(cl), encoding="utf-8")
    return path


def write_xlsx(cl: Checklist, path: Path) -> Path:
    """Workbook with sheets 工作清单, 按角色, 季度自查, 遇事即办 (the event-triggered duties) and, with a
    profile that rules some out, 不适用 (header in row 1 of each)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="F2DCDB")
    wrap = Alignment(wrap_text=True, vertical="top")

    def sheet(ws, header: list[str], rows: list[list], widths: list[int]) -> None:
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for row in rows:
            ws.append(row)
        for col, width in enumerate(widths, 1):
            ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = width
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = wrap
        ws.freeze_panes = "A2"

    ws = wb.active
    ws.title = "工作清单"
    rows = []
    st = cl.has_status
    for n, i in enumerate(cl.items, 1):
        std = i.standard + (f" {i.note}" if i.note else "")
        rows.append([n, i.due, i.name, cl.who(i.owner)] + ([i.status_text] if st else [])
                    + [_prep_text(i), i.timing, i.quorum or "", std, i.basis, i.hours])
    sheet(ws, ["序号", "到期日", "事项", "责任人"] + (["状态"] if st else [])
          + ["准备步骤", "时限要求", "到会要求", "合格标准", "依据", "工时"],
          rows, [6, 12, 26, 10] + ([20] if st else []) + [48, 40, 30, 48, 40, 8])
    for cell in ws["B"][1:]:
        cell.number_format = "yyyy-mm-dd"
    if st:
        red = Font(color="C00000", bold=True)
        for cell, item in zip(ws["E"][1:], cl.items):
            if item.status == "overdue":
                cell.font = red

    ws = wb.create_sheet("按角色")
    rows = []
    for role, tasks in cl.by_role().items():
        rows += [[cl.who(role), t.date, t.task, t.kind, t.duty_name, t.due, t.standard] for t in tasks]
    sheet(ws, ["角色", "日期", "工作", "类型", "所属事项", "事项到期日", "合格标准"], rows, [10, 12, 36, 8, 26, 12, 48])
    for col in ("B", "F"):
        for cell in ws[col][1:]:
            cell.number_format = "yyyy-mm-dd"

    ws = wb.create_sheet("季度自查")
    rows = []
    for q, items in cl.self_check().items():
        rows += [[f"第{q}季度", _tick(i), i.due, i.name, i.owner, i.standard, i.basis, i.status_text] for i in items]
    sheet(ws, ["季度", "完成（✓）", "到期日", "事项", "责任人", "合格标准", "依据", "备注"],
          rows, [10, 10, 12, 26, 10, 48, 40, 24])
    for cell in ws["C"][1:]:
        cell.number_format = "yyyy-mm-dd"
    if rows:
        dv = DataValidation(type="list", formula1=f'"{TICK},☑,✓,✗"', allow_blank=True)
        ws.add_data_validation(dv)
        dv.add(f"B2:B{len(rows) + 1}")

    ws = wb.create_sheet("遇事即办")
    rows = [[e.name, e.event, cl.who(e.owner), e.timing,
             "；".join(f"{name}（会前{days}天，{cl.who(who)}）" for name, days, who in e.prep) or "—",
             e.quorum or "", e.standard, e.basis] for e in cl.events]
    sheet(ws, ["事项", "触发情形", "责任人", "时限要求", "准备步骤", "到会要求", "合格标准", "依据"],
          rows, [26, 20, 12, 48, 48, 36, 48, 40])

    if cl.not_applicable:
        ws = wb.create_sheet("不适用")
        sheet(ws, ["事项", "不适用的原因", "依据"], [[n.name, n.reason, n.basis] for n in cl.not_applicable],
              [30, 70, 50])

    wb.properties.title = cl.title
    wb.properties.creator = "党务助手"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


def calendar_entries(cl: Checklist) -> list[CalendarEntry]:
    entries = []
    for i in cl.items:
        desc = [f"责任人：{i.owner}", f"时限：{i.timing}"]
        if i.quorum:
            desc.append(f"到会要求：{i.quorum}")
        if i.prep:
            desc.append("准备步骤：")
            desc += [f"  {_d(p.date)} {p.name}（{p.owner}）" for p in i.prep]
        desc += [f"合格标准：{i.standard}", f"依据：{i.basis}"]
        mark = ""
        if i.status in ("done", "overdue"):  # from the records
            desc.insert(0, f"状态（据台账）：{i.status_text}")
            mark = f"【{i.status_text.split('（')[0]}】"
        entries.append(CalendarEntry(
            key=f"checklist:{cl.branch_type}:{i.duty_id}:{_d(i.due)}",
            summary=f"{mark}{i.name}（{i.owner}）",
            day=i.due,
            description="\n".join(desc),
            alarm_days_before=i.alarm_days_before,
            categories=("党务",),
        ))
    return entries


def write_ics(cl: Checklist, path: Path) -> Path:
    return _write_ics(calendar_entries(cl), path, name=cl.title)


def _docx_outline(cl: Checklist) -> list[Block]:
    """A portrait-A4 friendly outline: narrow tables, and each duty's requirements written out once."""
    blocks: list[Block] = []
    st = cl.has_status
    rows = [["序号", "到期日", "事项", "责任人"] + (["状态"] if st else [])]
    rows += [[str(n), _d(i.due), i.name, cl.who(i.owner)] + ([i.status_text] if st else [])
             for n, i in enumerate(cl.items, 1)]
    blocks.append(("工作清单", 1, [
        "到期日是按常规节奏给出的建议日期，可按上级部署和本支部实际调整；各项工作的频次、时限、准备步骤、"
        "合格标准和依据见第二部分。",
    ] + _status_line(cl), rows if cl.items else None))

    blocks.append(("各项工作的要求", 1, [] if cl.items else ["本期没有到期事项。"], None))
    counts = cl.counts()
    seen: set[str] = set()
    for item in cl.items:
        if item.duty_id in seen:
            continue
        seen.add(item.duty_id)
        paras = [f"本期{counts[item.duty_id]}次，责任人{item.owner}。频次和时限：{item.timing}。"]
        if item.quorum:
            paras.append(f"到会要求：{item.quorum}。")
        if item.prep:
            steps = "；".join(f"{p.name}（到期日前{p.offset_days}天，{p.owner}）" for p in item.prep)
            paras.append(f"准备步骤：{steps}。")
        paras.append(f"合格标准：{item.standard}")
        if item.note:
            paras.append(item.note)
        paras.append(f"依据：{item.basis}。")
        blocks.append((item.duty_name, 2, paras, None))

    if cl.upcoming:
        rows = [["日期", "准备事项", "为哪项工作准备"]]
        rows += [[_d(p.date), f"{p.name}（{p.owner}）", f"{it.duty_name}（{_d(it.due)}）"] for p, it in cl.upcoming]
        blocks.append(("本期内需提前准备的后续工作", 2, [], rows))

    blocks.append(("按角色分工", 1, [], None))
    for role, tasks in cl.by_role().items():
        rows = [["日期", "工作", "所属事项"]]
        rows += [[_d(t.date), t.task + ("（准备）" if t.kind == "准备" else ""), t.duty_name] for t in tasks]
        blocks.append((cl.who(role), 2, [] if tasks else ["本期没有分配给该角色的事项。"], rows if tasks else None))

    blocks.append(("季度自查", 1, [f"完成一项在“完成”栏把 {TICK} 改为 ☑，未完成的在备注中写明原因和补做时间。"], None))
    for q, items in cl.self_check().items():
        rows = [["完成", "到期日", "事项", "责任人", "备注"]]
        rows += [[_tick(i), _d(i.due), i.name, i.owner, i.status_text] for i in items]
        blocks.append((f"{cl.year}年第{q}季度", 2, [] if items else ["本季度没有到期事项。"], rows if items else None))

    if cl.events:
        blocks.append(("遇事即办（由事件触发的工作）", 1, [], None))
        for e in cl.events:
            paras = [f"触发情形：{e.event}；责任人{e.owner}。时限：{e.timing}。"]
            if e.quorum:
                paras.append(f"到会要求：{e.quorum}。")
            if e.prep:
                paras.append("准备步骤：" + "；".join(f"{n}（会前{days}天，{who}）" for n, days, who in e.prep) + "。")
            paras += [f"合格标准：{e.standard}", f"依据：{e.basis}。"]
            blocks.append((e.name, 2, paras, None))

    if cl.not_applicable:
        blocks.append(("按支部情况不适用的事项", 1, [f"{n.name}：{n.reason}（{n.basis}）。" for n in cl.not_applicable], None))

    blocks.append(("频次统计", 1, _count_summary(cl) or ["本期没有到期事项。"], None))
    return blocks


def write_docx(cl: Checklist, path: Path) -> Path:
    from .gongwen import Section, write_docx as _write_docx

    sections = [Section(heading=h, level=lv, paragraphs=list(ps), table=t) for h, lv, ps, t in _docx_outline(cl)]
    return _write_docx(cl.title, sections, Path(path), subtitle=cl.subtitle)


def write_checklist(cl: Checklist, path: Path) -> Path:
    """Write in the format given by the file extension (.md / .xlsx / .ics / .docx)."""
    path = Path(path)
    suffix = path.suffix.lower()
    writers = {".md": write_markdown, ".xlsx": write_xlsx, ".ics": write_ics, ".docx": write_docx}
    if suffix not in writers:
        raise InputError("out", f"输出文件的扩展名应为 {' / '.join(FORMATS)} 之一，收到 {suffix or '（无扩展名）'}")
    return writers[suffix](cl, path)
