"""Meeting plans (会议方案) for a Party branch: what to prepare, when, who attends, in what order.

    plan = make_meeting_plan("组织生活会", "XX党支部", "2026-12-18", members=23)
    plan.write(Path("plan.docx"))      # or .md
    print(plan.to_markdown())

Where the pieces come from (nothing here is made up at run time):

* knowledge/obligations.yaml (via assistant.plans.obligations) — the preparation steps
  with their lead times, the quorum rule, the time-limit text, the standard of
  done and the citations of each duty.  The lead times there are scheduling
  experience, not rules, and the plan says so.
* knowledge/meetings.yaml — per meeting type, in our own words: purpose, who
  attends, agenda step by step, follow-up work, cautions, each line with the
  article it rests on ("（工作建议）" where it rests on none).
* Arithmetic done here: prep dates counted back from the meeting date, the head
  count needed for the quorum and for a vote to pass, and the dates that a cited
  time limit fixes (e.g. 预审 no earlier than one month before the 接收 meeting).

Everything is deterministic: the same inputs give the same plan.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .. import numerals
from ..citations import LABEL_FULL_RE
from ..errors import InputError, KnowledgeError
from ..inputs import clean_text, label, parse_date, parse_int
from ..resources import knowledge_dir
from .gongwen import Section, to_markdown as _gongwen_markdown, write_docx

__all__ = [
    "Citation",
    "Line",
    "PrepItem",
    "AgendaItem",
    "MeetingPlan",
    "make_meeting_plan",
    "meeting_types",
    "resolve_type",
    "load_meeting_knowledge",
    "needed_count",
    "count_back",
    "add_months",
]

_WEEKDAYS = "一二三四五六日"


def _bad(field: str, problem: str) -> InputError:
    """Bad input for a meeting plan: the field's Chinese name, then what is wrong."""
    return InputError(field, f"{label(field)}{problem}")


# --------------------------------------------------------------------------- small helpers

def cn_to_int(text: str) -> int:
    """Chinese numeral → int; ValueError for anything else (see assistant.numerals)."""
    value = numerals.cn_to_int(text)
    if value is None:
        raise ValueError(f"不是中文数字：{text}")
    return value


def fmt_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日（星期{_WEEKDAYS[d.weekday()]}）"


def fmt_date_short(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def add_months(d: date, months: int) -> date:
    """Calendar-month arithmetic; the day is clamped to the month's end (3月31日 − 1个月 → 2月28/29日)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def count_back(meeting: date, offset_days: int) -> date:
    """The date ``offset_days`` before the meeting (correct across month and year ends)."""
    return meeting - timedelta(days=offset_days)


def needed_count(total: int, fraction: tuple[int, int] = (1, 2)) -> int:
    """Smallest head count strictly above ``fraction`` of ``total``: 23 → 12, 20 → 11 (for 1/2)."""
    num, den = fraction
    return total * num // den + 1


def _fraction_in(rule: str | None) -> tuple[int, int] | None:
    """The share named in a rule text: 半数 → 1/2, X分之Y → Y/X; None if it names none."""
    if not rule:
        return None
    if "半数" in rule or "过半" in rule:
        return (1, 2)
    m = re.search(r"([一二三四五六七八九十]+)分之([一二三四五六七八九十]+)", rule)
    if m:
        return (cn_to_int(m.group(2)), cn_to_int(m.group(1)))
    return None


def _share_arithmetic(total: int, fraction: tuple[int, int], unit: str) -> str:
    """"23 ÷ 2 = 11.5，超过半数即至少 12 人" — the working shown to the reader."""
    num, den = fraction
    need = needed_count(total, fraction)
    if fraction == (1, 2):
        return f"{total} ÷ 2 = {total / 2:g}，超过半数即至少 {need} {unit}"
    return f"{total} × {num}/{den} = {total * num / den:g}，超过即至少 {need} {unit}"


def _quorum_clause(rule: str) -> str:
    """The part of a rule text about attendance (not about the yes votes)."""
    for clause in re.split(r"[；;。，,]", rule):
        if "到会" in clause and "赞成" not in clause and "通过" not in clause:
            return clause
    return rule


# --------------------------------------------------------------------------- knowledge

@dataclass(frozen=True)
class Citation:
    """One article: ``doc`` is the full title as in corpus/manifest.json, ``article`` is 第X条."""

    doc: str
    article: str

    @property
    def number(self) -> int:
        return cn_to_int(self.article[1:-1])

    def __str__(self) -> str:
        return f"《{self.doc}》{self.article}"


@dataclass(frozen=True)
class Line:
    """A sentence of the plan and the articles it rests on.

    ``advice`` marks a knowledge-base line with no article behind it: it is shown
    with "（工作建议）" so that nobody takes it for a rule. Lines the plan computes
    itself (counts, dates, notes on the inputs) have neither.
    """

    text: str
    cites: tuple[Citation, ...] = ()
    advice: bool = False


@dataclass(frozen=True)
class PrepItem:
    name: str
    date: date
    offset_days: int
    owner: str
    hours: float
    overdue: bool = False


@dataclass(frozen=True)
class AgendaItem:
    step: str
    detail: str
    cites: tuple[Citation, ...] = ()


class _Knowledge:
    def __init__(self, data: dict, path: Path):
        if not isinstance(data, dict) or not isinstance(data.get("types"), dict):
            raise KnowledgeError(f"{path}：顶层应有 documents 和 types")
        self.path = path
        self.documents: dict[str, str] = dict(data.get("documents") or {})
        self.short_of: dict[str, str] = {title: short for short, title in self.documents.items()}
        self.types: dict[str, dict] = data["types"]
        self.aliases: dict[str, str] = {}
        for name, spec in self.types.items():
            self.aliases[name] = name
            for alias in spec.get("aliases") or []:
                self.aliases.setdefault(alias, name)
            # fail early on a bad citation anywhere in the type
            for _ in self._all_srcs(spec):
                pass

    def _all_srcs(self, spec: dict):
        for key in ("form", "host", "vote"):
            if isinstance(spec.get(key), dict):
                yield from self.cites(spec[key].get("src"))
        yield from self.cites(spec.get("quorum_src"))
        for key in ("attendees", "materials", "agenda", "after", "notes"):
            for item in spec.get(key) or []:
                yield from self.cites(item.get("src"))
        for src in spec.get("sources") or []:
            yield from self.cites(src)

    def cites(self, src: Any) -> tuple[Citation, ...]:
        if not src:
            return ()
        items = src if isinstance(src, list) else [src]
        out = []
        for item in items:
            parts = str(item).split()
            if len(parts) != 2 or not LABEL_FULL_RE.match(parts[1]):
                raise KnowledgeError(f"{self.path}：依据应写作“简称 第X条”，得到 {item!r}")
            short, article = parts
            if short not in self.documents:
                raise KnowledgeError(f"{self.path}：未知文件简称 {short!r}（documents 中没有）")
            out.append(Citation(self.documents[short], article))
        return tuple(out)

    def short(self, title: str) -> str:
        return self.short_of.get(title, title)


@lru_cache(maxsize=4)
def _load_knowledge_cached(path: str, mtime: float) -> _Knowledge:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return _Knowledge(data, Path(path))


def load_meeting_knowledge(path: Path | None = None) -> _Knowledge:
    """knowledge/meetings.yaml (or ``path``), parsed once per version of the file."""
    p = Path(path or knowledge_dir() / "meetings.yaml").resolve()
    return _load_knowledge_cached(str(p), p.stat().st_mtime)


def meeting_types() -> list[str]:
    """The meeting types a plan can be made for, in knowledge-base order."""
    return list(load_meeting_knowledge().types)


def resolve_type(name: str) -> str:
    """Canonical type name for ``name`` or one of its aliases; InputError if unknown."""
    kb = load_meeting_knowledge()
    key = (name or "").strip()
    if key in kb.aliases:
        return kb.aliases[key]
    known = "、".join(kb.types)
    if not key:
        raise _bad("type", f"不能为空。可选：{known}")
    near = sorted({kb.aliases[a] for a in kb.aliases if key in a or a in key})
    hint = f"是不是指“{'”或“'.join(near)}”？" if near else ""
    raise _bad("type", f"不认识“{key}”。{hint}可选：{known}")


def _find_duty(candidates: list[str], duties: list | None):
    if not duties:
        return None
    for cand in candidates:
        for d in duties:
            if d.id == cand or d.name == cand:
                return d
    for cand in candidates:  # "接收预备党员（支部党员大会）" matches "接收预备党员"
        for d in duties:
            if re.sub(r"（.*?）", "", d.name) == cand:
                return d
    return None


# --------------------------------------------------------------------------- input checks

def _clean_topic(text: Any) -> str:
    topic = clean_text(text, "topic", 80, required=True)
    for wrong, right in (("二个维护", "两个维护"), ("二个确立", "两个确立")):
        if wrong in topic:
            raise _bad("topic", f"提法有误：“{wrong}”应为“{right}”")
    return topic


# --------------------------------------------------------------------------- the plan

@dataclass(frozen=True)
class MeetingPlan:
    type: str
    branch: str
    date: date
    topic: str
    members: int | None
    today: date
    title: str
    form: Line
    host: Line
    attendees: tuple[Line, ...]
    quorum: tuple[Line, ...]          # 到会要求 and 表决规则, with the arithmetic when members is known
    prep: tuple[PrepItem, ...]
    prep_note: Line
    materials: tuple[Line, ...]
    agenda: tuple[AgendaItem, ...]
    after: tuple[Line, ...]
    notes: tuple[Line, ...]
    warnings: tuple[str, ...]
    citations: tuple[Citation, ...]
    duty_id: str | None = None
    required_members: int | None = None   # head count needed at the meeting, when a quorum rule applies
    required_votes: int | None = None     # yes votes needed for a resolution, when a vote rule applies
    _short: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def subtitle(self) -> str:
        return f"（{fmt_date_short(self.date)}）"

    # -- rendering ---------------------------------------------------------------

    def _cite_text(self, cites: tuple[Citation, ...], advice: bool = True) -> str:
        if not cites:
            return "（工作建议）" if advice else ""
        grouped: dict[str, list[str]] = {}
        for c in cites:
            arts = grouped.setdefault(self._short.get(c.doc, c.doc), [])
            if c.article not in arts:
                arts.append(c.article)
        return "（" + "；".join(f"《{doc}》" + "、".join(arts) for doc, arts in grouped.items()) + "）"

    def _line(self, line: Line) -> str:
        return line.text + self._cite_text(line.cites, line.advice)

    def sections(self) -> list[Section]:
        """The plan's outline in the order 一、→（一）→1．: lists are Section items, numbered by level."""
        secs: list[Section] = []
        secs.append(Section("会议主题", 1, [f"会议主题：{self.topic}", self._line(self.form)]))

        secs.append(Section("时间地点", 1, [
            f"时间：{fmt_date(self.date)}＿＿时＿＿分",
            "地点：＿＿＿＿＿＿（会前确定，写入会议通知）",
            "主持人：" + self._line(self.host),
        ]))

        secs.append(Section("参加人员和到会要求", 1))
        secs.append(Section("参加人员", 2, items=[self._line(x) for x in self.attendees]))
        secs.append(Section("到会和表决要求", 2, [self._line(x) for x in self.quorum]))

        rows = [["序号", "准备事项", "完成时间", "距会议", "负责人", "预计用时"]]
        for i, p in enumerate(self.prep, 1):
            when = f"{fmt_date_short(p.date)}\n（星期{_WEEKDAYS[p.date.weekday()]}）"
            if p.overdue:
                when += "\n已过，请尽快补做"
            ahead = "会议当天" if p.offset_days == 0 else f"提前{p.offset_days}天"
            rows.append([str(i), p.name, when, ahead, p.owner, f"{p.hours:g}小时"])
        secs.append(Section("会前准备", 1))
        secs.append(Section("准备事项和完成时间", 2, [self._line(self.prep_note)], rows if self.prep else None))
        if self.materials:
            secs.append(Section("会前核对事项", 2, items=[self._line(x) for x in self.materials]))

        secs.append(Section("会议议程", 1, [f"会议按以下{len(self.agenda)}项议程进行。"]))
        for item in self.agenda:
            secs.append(Section(item.step, 2, [item.detail + self._cite_text(item.cites)]))

        secs.append(Section("会后工作", 1, items=[self._line(x) for x in self.after]))
        secs.append(Section("注意事项", 1, [f"【提示】{w}" for w in self.warnings],
                            items=[self._line(x) for x in self.notes]))
        secs.append(Section("依据", 1, _basis_lines(self.citations)))
        return secs

    @property
    def signature(self) -> tuple[str, str]:
        """The 落款: the branch and the day the plan was made."""
        return self.branch, fmt_date_short(self.today)

    def to_markdown(self) -> str:
        return _gongwen_markdown(self.title, self.sections(), subtitle=self.subtitle, signature=self.signature)

    def write(self, path: Path | str) -> Path:
        """Write the plan as .docx (公文 format) or .md, chosen by the file extension."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".docx":
            return write_docx(self.title, self.sections(), path, subtitle=self.subtitle, signature=self.signature)
        if suffix in (".md", ".markdown"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.to_markdown(), encoding="utf-8")
            return path
        raise _bad("out", f"扩展名应为 .docx 或 .md，收到：“{path.name}”")


def _basis_lines(citations: tuple[Citation, ...]) -> list[str]:
    grouped: dict[str, list[Citation]] = {}
    for c in citations:
        grouped.setdefault(c.doc, []).append(c)
    return [f"《{doc}》" + "、".join(c.article for c in cs) for doc, cs in grouped.items()]


def _sorted_citations(cites, doc_order: list[str]) -> tuple[Citation, ...]:
    unique = list(dict.fromkeys(cites))
    rank = {doc: i for i, doc in enumerate(doc_order)}
    return tuple(sorted(unique, key=lambda c: (rank.get(c.doc, len(rank)), c.doc, c.number)))


def _period_fields(d: date) -> dict[str, int]:
    return {
        "year": d.year,
        "month": d.month,
        "quarter": (d.month - 1) // 3 + 1,
        "annual_year": d.year - 1 if d.month <= 3 else d.year,
    }


def _line_from(kb: _Knowledge, item: dict | None) -> Line:
    if not item:
        return Line("")
    cites = kb.cites(item.get("src"))
    return Line(str(item["text"]).strip(), cites, advice=not cites)


def make_meeting_plan(
    type: str,
    branch: str,
    date: date | str,
    topic: str | None = None,
    members: int | None = None,
    today: date | str | None = None,
    duties: list | None = None,
) -> MeetingPlan:
    """Build the plan for one meeting (``duties``: knowledge/obligations.yaml's, for the
    preparation steps and rules). Raises InputError (field named, in Chinese) on bad input."""
    kb = load_meeting_knowledge()
    mtype = resolve_type(type)
    branch_name = clean_text(branch, "branch", 60)
    if not branch_name:
        raise _bad("branch", "不能为空，请填写党支部全称，如“XX党支部”")
    today_d = parse_date(today, "today") if today is not None else _today()
    day = parse_date(date, "date")
    if day < today_d:
        raise _bad(
            "date", f"{day.isoformat()} 已经过去（今天是 {today_d.isoformat()}），请填写今天或以后的日期")
    n = parse_int(members, "members", 1, 10000, required=False)

    spec = kb.types[mtype]
    period = _period_fields(day)
    topic_text = _clean_topic(topic) if topic is not None and str(topic).strip() else \
        str(spec["topic"]).format(**period)
    title = branch_name + str(spec["title"]).format(**period) + "方案"

    if duties is None:
        from .obligations import load_obligations

        duties = load_obligations()
    d = _find_duty(list(spec.get("duty") or []), duties)

    all_cites: list[Citation] = []

    def track(line: Line) -> Line:
        all_cites.extend(line.cites)
        return line

    form = track(_line_from(kb, spec.get("form")))
    host = track(_line_from(kb, spec.get("host")))
    attendees = [track(_line_from(kb, a)) for a in spec.get("attendees") or []]

    # ---- quorum and vote --------------------------------------------------------
    headcount = str(spec.get("headcount") or "党员")
    unit = "名委员" if "委员" in headcount else "人"
    quorum_lines: list[Line] = []
    required_members = required_votes = None
    if n is not None:
        attendees.append(Line(f"本次按{headcount} {n} 人计算应到会人数。"
                              + ("预备党员不计入。" if "表决权" in headcount else "")))
    quorum_rule = getattr(d, "quorum", None) if d else None
    quorum_cites = kb.cites(spec.get("quorum_src")) or (tuple(
        Citation(s.doc, s.article) for s in d.sources) if d and quorum_rule else ())
    vote = spec.get("vote")
    if quorum_rule:
        text = f"到会要求：{quorum_rule.rstrip('。')}。"
        frac = _fraction_in(quorum_rule)
        if n is not None and frac:
            required_members = needed_count(n, frac)
            text += f"本支部应到会{headcount} {n} 人：{_share_arithmetic(n, frac, unit)}到会，会议方可进行。"
            clause = _quorum_clause(quorum_rule)
            if frac == (1, 2) and n % 2 == 0 and "超过" not in clause and "过半" not in clause:
                text += (f"（恰好 {n // 2} 人是否算“半数以上”容易引起争议，"
                         f"按 {required_members} 人准备最稳妥。）")
        quorum_lines.append(track(Line(text, quorum_cites)))
    elif not vote:
        quorum_lines.append(Line("条规对这类会议没有规定最低到会人数；应参加人员原则上全部参加，"
                                 "不能到会的提前请假并登记原因。"
                                 + (f"本次应参加 {n} 人。" if n is not None else "")))
    if vote:
        vline = _line_from(kb, vote)
        text = "表决规则：" + vline.text
        frac = tuple(vote.get("fraction") or ()) or _fraction_in(vline.text)
        if n is not None and frac:
            required_votes = needed_count(n, frac)
            text += (f"本支部应到会{headcount} {n} 人：{_share_arithmetic(n, frac, '票')}赞成才通过"
                     f"——不论实到多少人，都按应到的 {n} 人计算。")
        quorum_lines.append(track(Line(text, vline.cites)))
    if not quorum_rule and vote:
        quorum_lines.insert(0, Line("到会要求：本助手工作清单中没有这类会议的到会人数规则，"
                                    "请按所引条文核对。"))

    # ---- preparation ------------------------------------------------------------
    prep_items: list[PrepItem] = []
    if d is not None:
        steps = list(d.prep)
        prep_src = "本助手工作清单"
    else:
        steps = [_PlainStep(**s) for s in spec.get("prep") or []]
        prep_src = "本助手会议知识库"
    for step in steps:
        when = count_back(day, int(step.offset_days))
        prep_items.append(PrepItem(step.name, when, int(step.offset_days), step.owner,
                                   float(step.hours), overdue=when < today_d))
    prep_items.sort(key=lambda p: (p.date, -p.offset_days, p.name))
    if prep_items:
        prep_note = Line(f"以下日期从会议日期 {fmt_date_short(day)} 往前倒推。提前天数是{prep_src}中的排期建议，"
                         "不是条规规定的期限，可按本支部实际调整，但不要压缩到来不及。")
    else:
        prep_note = Line("工作清单中没有找到这类会议的准备步骤，请支委会商定分工后再通知；会前核对事项见下。")
    materials = [track(_line_from(kb, m)) for m in spec.get("materials") or []]

    # ---- agenda, follow-up, notes ---------------------------------------------------
    agenda = []
    for a in spec.get("agenda") or []:
        cites = kb.cites(a.get("src"))
        all_cites.extend(cites)
        agenda.append(AgendaItem(str(a["step"]), str(a["detail"]).strip(), cites))
    after = [track(_line_from(kb, a)) for a in spec.get("after") or []]
    notes = [track(_line_from(kb, x)) for x in spec.get("notes") or []]
    warnings: list[str] = []

    after.extend(track(x) for x in _computed_after(mtype, day, kb))
    materials.extend(track(x) for x in _computed_materials(mtype, day, today_d, kb))

    if d is not None:
        duty_cites = tuple(Citation(s.doc, s.article) for s in d.sources)
        all_cites.extend(duty_cites)
        notes.insert(0, Line(f"时限要求：{d.timing.rstrip('。')}。", duty_cites))
        notes.insert(1, Line(f"合格标准：{d.standard}", duty_cites))
    else:
        warnings.append("本助手工作清单中没有找到这类会议，方案中的准备日期和到会规则可能不全。")

    # ---- warnings that depend on the inputs ------------------------------------------
    overdue = [p for p in prep_items if p.overdue]
    if overdue:
        names = "、".join(p.name for p in overdue)
        warnings.append(f"有 {len(overdue)} 项准备工作的建议日期已经过去（{names}），请尽快补做，"
                        "或考虑把会议日期往后调。")
    if mtype == "组织生活会" and day.month < 10:
        cite = Citation(kb.documents["支部工作条例"], "第十七条")
        all_cites.append(cite)
        warnings.append(f"组织生活会一般安排在第四季度（《{kb.short(cite.doc)}》{cite.article}），本次在{day.month}月召开，"
                        "请确认是上级统一安排或因工作需要召开。")
    if n is not None:
        if "委员" in headcount:
            cite = Citation(kb.documents["支部工作条例"], "第二十条")
            if n > 7 or n < 3:
                all_cites.append(cite)
                warnings.append(f"支委会一般由 3 至 5 名委员组成、一般不超过 7 人（《{kb.short(cite.doc)}》{cite.article}），"
                                f"这里填的是 {n}，请确认 --members 填的是委员人数而不是党员人数。")
        elif "小组" not in headcount and n > 50:
            cite = Citation(kb.documents["支部工作条例"], "第四条")
            all_cites.append(cite)
            warnings.append(f"党支部党员人数一般不超过 50 人（《{kb.short(cite.doc)}》{cite.article}），这里填的是 {n}，请核对。")

    for s in spec.get("sources") or []:
        all_cites.extend(kb.cites(s))

    return MeetingPlan(
        type=mtype, branch=branch_name, date=day, topic=topic_text, members=n, today=today_d,
        title=title, form=form, host=host, attendees=tuple(attendees), quorum=tuple(quorum_lines),
        prep=tuple(prep_items), prep_note=prep_note, materials=tuple(materials), agenda=tuple(agenda),
        after=tuple(after), notes=tuple(notes), warnings=tuple(warnings),
        citations=_sorted_citations(all_cites, list(kb.documents.values())),
        duty_id=getattr(d, "id", None), required_members=required_members, required_votes=required_votes,
        _short=dict(kb.short_of),
    )


@dataclass(frozen=True)
class _PlainStep:
    """A preparation step from meetings.yaml (only for types without a duty in obligations.yaml)."""

    name: str
    offset_days: int
    owner: str
    hours: float = 0.0


def _today() -> date:
    return date.today()


def _computed_materials(mtype: str, day: date, today: date, kb: _Knowledge) -> list[Line]:
    """Checks whose date follows from a cited time limit and the meeting date."""
    out = []
    if mtype == "接收预备党员的支部党员大会":
        earliest = add_months(day, -1)
        cite = Citation(kb.documents["发展党员工作细则"], "第十九条")
        out.append(Line(f"基层党委预审合格后一个月内要提交支部党员大会讨论：本次会议在 {fmt_date_short(day)}，"
                        f"预审合格通知的日期应不早于 {fmt_date_short(earliest)}；早于这一天的，已超过期限，请先向基层党委报告。",
                        (cite,)))
    return out


def _computed_after(mtype: str, day: date, kb: _Knowledge) -> list[Line]:
    """Follow-up dates that a cited time limit fixes, counted from the meeting date."""
    out = []
    xize = kb.documents["发展党员工作细则"]
    if mtype == "接收预备党员的支部党员大会":
        out.append(Line(f"如本次大会通过，预备期自 {fmt_date_short(day)}（支部大会通过之日）起算，为期一年；"
                        f"请记入台账，到期前提醒讨论转正。", (Citation(xize, "第三十一条"),)))
        out.append(Line(f"审批跟踪：党委审批期限从收到上报决议起算三个月，特殊情况最长六个月；"
                        f"如会议当天上报，三个月期满为 {fmt_date_short(add_months(day, 3))}，"
                        f"六个月期满为 {fmt_date_short(add_months(day, 6))}。",
                        (Citation(xize, "第二十五条"),)))
    elif mtype == "预备党员转正的支部党员大会":
        out.append(Line(f"审批跟踪：党委审批期限从收到上报决议起算三个月；如会议当天上报，"
                        f"三个月期满为 {fmt_date_short(add_months(day, 3))}。",
                        (Citation(xize, "第三十三条"),)))
    return out
