"""The golden scenarios of issue 13: a plan a part-time worker can follow.

December 2026, 4 weeks from 12-01; the worker is the 书记 (王芳) with 3 hours a week; the 组织委员 (李强)
and 宣传委员 (张敏) are filled, the 纪检委员 is not; six own to-dos. Then the same worker with 10 hours a
week, and a branch of 5 正式党员 without a 支委会 and without activists.
"""
from __future__ import annotations

import re
from datetime import date

import pytest

from assistant.plans.checklist import build_checklist
from assistant.plans.obligations import load_obligations
from assistant.plans.planner import FOCUS_LINES, RIGID, plan_tasks, to_markdown
from assistant.plans.profile import Profile

START = date(2026, 12, 1)
TASKS = [
    {"name": "整理党员花名册", "hours": 2, "deadline": "2026-12-18"},
    {"name": "筹备年度组织生活会", "hours": 6},
    {"name": "收缴第四季度党费", "hours": 1, "deadline": "2026-12-25"},
    {"name": "撰写支部年度工作总结", "hours": 5},
    {"name": "更新党务公开栏", "hours": 1, "flag": "可延后"},
    {"name": "组织观看红色电影", "hours": 2, "optional": True},
]
DECEMBER = Profile(branch_type="机关", members=20, probationary=2, worker_role="书记",
                   roles={"书记": "王芳", "组织委员": "李强", "宣传委员": "张敏"})
SMALL = Profile(branch_type="机关", members=5, worker_role="书记", roles={"书记": "赵军"}, activists=0)


def december(hours: float):
    return plan_tasks(TASKS, START, 4, profile=DECEMBER.replace(hours_per_week=hours))


def _placed(plan):
    return [it for w in plan.weeks for it in w.items]


def _handed(plan):
    return [h for items in plan.handoff.values() for h in items]


def _owners(name: str) -> set[str]:
    """The posts the knowledge names for a piece of work: the step's owner and its duty's owner."""
    duties = {d.name: d for d in load_obligations()}
    base = re.sub(r"（\d+/\d+）$", "", name)
    if "准备：" in base:
        duty_name, step = base.split("准备：", 1)
        d = duties[duty_name]
        return {s.owner for s in d.prep if s.name == step} | {d.owner}
    d = duties[re.sub(r"（[^（）]*\d{4}-\d{2}-\d{2}）$", "", base)]
    return {d.owner}


@pytest.fixture(scope="module")
def tight():
    return december(3)


@pytest.fixture(scope="module")
def roomy():
    return december(10)


# --------------------------------------------------------------------------- 3 hours a week

def test_no_week_over_capacity(tight):
    assert all(w.hours <= 3 + 1e-9 for w in tight.weeks)
    assert tight.summary.available_hours == 12


def test_organisational_life_meeting_is_held_with_what_may_join_it(tight):
    meetings = [(w, it) for w in tight.weeks for it in w.items if it.meeting and it.name.startswith("组织生活会")]
    assert len(meetings) == 1
    week, meeting = meetings[0]
    assert meeting.name == "组织生活会（与民主评议党员、支部党员大会合并召开，2026-12-15）"
    assert week.start <= date(2026, 12, 15) <= week.end and meeting.owner == "书记"
    assert "《党员教育管理工作条例》第十八条" in meeting.reason and "《支部工作条例》第十七条" in meeting.reason
    # never deferred while its preparation is placed: nothing of it is deferred because of the meeting,
    # and no separate 民主评议 or 党员大会 meeting is planned, handed off or deferred
    everything = [it.name for it in _placed(tight)] + [h.name for h in _handed(tight)] + [d.name for d in tight.deferred]
    assert not [n for n in everything if n.startswith(("民主评议党员（", "支部党员大会（"))]
    assert not [d for d in tight.deferred if d.cause == "meeting"]
    prep = [it for it in _placed(tight) if it.group == meeting.group and not it.meeting]
    assert prep and all(it.kind == RIGID for it in prep)


def test_the_workers_preparation_todo_is_merged_once(tight):
    names = [it.name for it in _placed(tight)] + [h.name for h in _handed(tight)] + [d.name for d in tight.deferred]
    assert not [n for n in names if "筹备年度组织生活会" in n]  # not planned as a task of its own
    merged = [(name, hours) for name, where, hours in tight.ledger if name.startswith("组织生活会准备：")]
    assert len(merged) == len(load_obligations()[5].prep)  # each of the duty's steps once
    assert sum(h for _, h in merged) == pytest.approx(6, abs=0.05)  # with the worker's 6 hours
    reasons = [it.reason for it in _placed(tight) if it.name.startswith("组织生活会准备：")]
    assert reasons and all("合并了你的任务“筹备年度组织生活会”" in r for r in reasons)
    # the other to-dos that name a duty are merged too, each once
    dues = [it for it in _placed(tight) + _handed(tight) if it.name.startswith("党费收缴（2026-12-25")]
    assert len(dues) == 1 and "收缴第四季度党费" not in names
    assert "撰写支部年度工作总结" not in names and "更新党务公开栏" not in names


def test_everything_ends_in_exactly_one_place(tight):
    s = tight.summary
    placed = sum(it.hours for it in _placed(tight))
    handed = sum(h.hours for h in _handed(tight))
    deferred = sum(d.hours for d in tight.deferred)
    assert placed == pytest.approx(s.placed_hours) and handed == pytest.approx(s.handed_off_hours)
    assert deferred == pytest.approx(s.deferred_hours)
    assert placed + handed + deferred == pytest.approx(s.needed_hours)
    ledger_names = [n for n, _, _ in tight.ledger]
    assert len(ledger_names) == len(set(ledger_names))  # no piece of work in two places
    assert {n for n, where, _ in tight.ledger if where == "handoff"} == {h.name for h in _handed(tight)}
    assert {n for n, where, _ in tight.ledger if where == "deferred"} == {d.name for d in tight.deferred}
    base = {re.sub(r"（\d+/\d+）$", "", it.name) for it in _placed(tight)}
    assert base == {n for n, where, _ in tight.ledger if where == "placed"}


def test_each_week_starts_with_at_most_five_lines(tight):
    for w in tight.weeks:
        assert 1 <= len(w.focus) <= FOCUS_LINES
        assert all("\n" not in line for line in w.focus)
    assert any("组织生活会" in line for line in tight.weeks[2].focus)
    md = to_markdown(tight)
    for block in md.split("\n## 第")[1:]:
        head = block.split("| 任务 |")[0]
        assert len(re.findall(r"^\d\. ", head, re.M)) <= FOCUS_LINES


def test_hand_off_lists_match_each_duty_owner_with_names(tight):
    assert tight.handoff and {"组织委员", "宣传委员"} <= set(tight.handoff)
    for role, items in tight.handoff.items():
        for h in items:
            assert role in _owners(h.name), (role, h.name)
            assert h.reason and h.deadline is not None
    assert all(h.person == "李强" for h in tight.handoff["组织委员"])
    assert all(h.person == "张敏" for h in tight.handoff["宣传委员"])
    # the 纪检委员 is not filled: that work stays with the worker, and says why
    vacant = [it for it in _placed(tight) if "没有填写纪检委员" in it.reason]
    assert vacant and all(it.owner == "书记" for it in vacant)


def test_over_capacity_hands_off_then_defers_then_tells_the_shortfall(tight):
    s = tight.summary
    assert s.handed_off_hours > 0
    later = [d for d in tight.deferred if d.cause == "later"]
    assert {d.name for d in later} >= {"组织观看红色电影"}
    lines = " ".join(s.lines)
    assert f"本期共需{s.needed_hours:g}小时，你有12小时" in lines
    if s.shortfall_hours:
        assert "最忙的一周需约" in lines
    # grouped: one line per post, not one per preparation step
    assert len(s.lines) <= 7 and lines.count("交办") == 1
    assert not [n for n in tight.not_applicable if "积极分子" not in n.name]  # the profile says nothing of activists
    (na,) = tight.not_applicable
    assert na.name == "入党积极分子考察" and "第十一条" in na.basis


def test_figures_are_stable(tight, roomy):
    """The figures the README quotes (a change in the planner shows up here first)."""
    s = tight.summary
    assert (s.needed_hours, s.available_hours) == (36.4, 12.0)
    assert (s.placed_hours, s.handed_off_hours) == (11.82, 13.49)
    assert s.deferred_hours == pytest.approx(11.09)
    assert [len(w.focus) for w in tight.weeks] == [2, 4, 2, 5]
    r = roomy.summary
    assert (r.needed_hours, r.available_hours, r.handed_off_hours, r.deferred_hours) == (36.4, 40.0, 2.2, 0.0)


# --------------------------------------------------------------------------- 10 hours a week

def test_ten_hours_nothing_handed_off_that_fits(roomy):
    assert all(w.hours <= 10 + 1e-9 for w in roomy.weeks)
    assert not roomy.deferred
    # what is handed off is the 党小组长's by rule, never work that would have fitted the worker's weeks
    assert _handed(roomy) and all(h.cause == "rule" for h in _handed(roomy))
    assert set(roomy.handoff) == {"党小组长"}
    taken = [it for it in _placed(roomy) if it.taken_from]
    assert taken and all("你本期有余力" in it.reason for it in taken)


def test_always_hand_off_when_the_profile_says_so():
    plan = plan_tasks(TASKS, START, 4, profile=DECEMBER.replace(hours_per_week=10, delegate=True))
    assert not [it for it in _placed(plan) if it.taken_from]
    assert {"组织委员", "宣传委员"} <= set(plan.handoff)
    assert all(h.cause in ("delegate", "rule") for h in _handed(plan))


# --------------------------------------------------------------------------- no 支委会, no activists

def _no_committee_names(plan) -> list[str]:
    names = [it.name for it in _placed(plan)] + [h.name for h in _handed(plan)] + [d.name for d in plan.deferred]
    names += [line for w in plan.weeks for line in w.focus]
    return [n for n in names if re.search("支委会|支部委员会|积极分子", n)]


@pytest.mark.parametrize("start, weeks", [(START, 8), (date(2027, 5, 31), 6), (date(2027, 1, 4), 52)])
def test_small_branch_plans_no_committee_and_no_activist_work(start, weeks):
    plan = plan_tasks([{"name": "整理党员花名册", "hours": 1}], start, weeks, profile=SMALL.replace(hours_per_week=4))
    assert _no_committee_names(plan) == []
    by_name = {n.name: n for n in plan.not_applicable}
    assert len(by_name) == len(plan.not_applicable)  # each listed once
    assert "第二十条" in by_name["支部委员会会议"].basis and "支部党员大会" in by_name["支部委员会会议"].reason
    if weeks >= 6:
        assert "第十一条" in by_name["入党积极分子考察"].basis
    # every post's work is the 书记's: nothing to hand off in a branch that has only a 书记
    assert not plan.handoff
    assert all(it.owner == "书记" for it in _placed(plan))


@pytest.mark.parametrize("kwargs", [{}, {"quarter": 4}, {"month": 6}])
def test_small_branch_checklist_has_no_committee_and_no_activist_duties(kwargs):
    cl = build_checklist(2027, profile=SMALL, **kwargs)
    texts = [i.name for i in cl.items] + [p.name for i in cl.items for p in i.prep]
    texts += [i.standard for i in cl.items] + [i.timing for i in cl.items]
    texts += [e.name for e in cl.events] + [e.standard for e in cl.events] + [n for e in cl.events for n, _, _ in e.prep]
    texts += [t.task for tasks in cl.by_role().values() for t in tasks] + [p.name for p, _ in cl.upcoming]
    assert [t for t in texts if re.search("支委会|支部委员会|支委|积极分子", t)] == []
    assert list(cl.by_role()) == ["书记"]
    names = [n.name for n in cl.not_applicable]
    assert len(names) == len(set(names))
    assert {"支部委员会会议", "入党积极分子考察", "确定发展对象", "党小组会"} <= set(names)
    for n in cl.not_applicable:
        assert re.search(r"《[^》]+》第[一二三四五六七八九十]+条", n.basis), n
    data = cl.to_dict()
    assert all(set(i) >= {"name", "due", "owner", "basis"} for i in data["items"])
    assert {"name", "reason"} <= set(data["not_applicable"][0])


def test_checklist_with_the_december_profile_names_people_and_drops_activists():
    cl = build_checklist(2026, quarter=4, profile=DECEMBER)
    assert "jiji_fenzi_kaocha" not in cl.counts()
    assert cl.who("组织委员") == "组织委员（李强）"
    assert [n.name for n in cl.not_applicable].count("入党积极分子考察") == 1
    with_activists = build_checklist(2026, quarter=4, profile=DECEMBER.replace(activists=2))
    assert with_activists.counts()["jiji_fenzi_kaocha"] == 1
