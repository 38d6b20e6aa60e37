"""Task planner: parsing, classification, capacity, overload, determinism, writers and the CLI."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from assistant.cli import build_parser, main
from assistant.errors import InputError
from assistant.plans.obligations import duty
from assistant.plans.planner import (
    IMPORTANT,
    KINDS,
    LATER,
    RIGID,
    Task,
    load_tasks,
    parse_tasks_text,
    parse_tasks_yaml,
    plan_tasks,
    to_markdown,
    write_plan,
)
from assistant.plans.profile import Profile

START = date(2026, 12, 1)


def _placed(plan):
    return [it for w in plan.weeks for it in w.items]


def _hours_by_base_name(plan):
    """Placed hours per task, with split parts ("X（1/2）") added back together."""
    out: dict[str, float] = {}
    for it in _placed(plan):
        base = it.name.rsplit("（", 1)[0] if it.name.endswith("）") and "/" in it.name.rsplit("（", 1)[-1] else it.name
        out[base] = out.get(base, 0) + it.hours
    return out


# --------------------------------------------------------------------------- parsing

def test_parse_text_lines():
    text = "# 我的任务\n写季度简报 | 2026-12-10 | 3 | 重要\n\n整理台账, 2026-12-31, 2.5\n学习汇编\t-\t2h\t可延后\n"
    tasks = parse_tasks_text(text)
    assert [t.name for t in tasks] == ["写季度简报", "整理台账", "学习汇编"]
    assert tasks[0] == Task("写季度简报", 3.0, date(2026, 12, 10), IMPORTANT, None, 2)
    assert tasks[1].deadline == date(2026, 12, 31) and tasks[1].flag is None and tasks[1].hours == 2.5
    assert tasks[2].deadline is None and tasks[2].flag == LATER and tasks[2].hours == 2.0


def test_parse_yaml_list_and_mapping():
    a = parse_tasks_yaml("- {name: 写简报, deadline: 2026-12-10, hours: 3}\n- name: 汇编\n  hours: 1\n  flag: 可延后\n")
    b = parse_tasks_yaml("tasks:\n  - {名称: 写简报, 截止日期: '2026-12-10', 工时: 3}\n  - {name: 汇编, hours: 1, flag: later}\n")
    assert [(t.name, t.deadline, t.hours, t.flag) for t in a] == [(t.name, t.deadline, t.hours, t.flag) for t in b]
    assert a[0].line == 1 and a[1].line == 2
    assert parse_tasks_yaml("") == []


def test_parse_yaml_linked_duty_takes_its_effort():
    (t,) = parse_tasks_yaml("- {duty: huanjie_xuanju, deadline: 2027-03-20}\n")
    assert t.name == duty("huanjie_xuanju").name and t.hours == duty("huanjie_xuanju").effort_hours


@pytest.mark.parametrize("text, field, line", [
    ("写简报 | 2026-12-10 | -3\n", "hours", 1),
    ("写简报 | 2026-12-10 | 3\n写简报 | 2026-13-40 | 3\n", "deadline", 2),
    ("写简报 | 2026-12-10 | 三小时\n", "hours", 1),
    ("写简报 | 2026-12-10 | 3 | 马上\n", "flag", 1),
    ("写简报 | 2026-12-10\n", "hours", 1),
    (" | 2026-12-10 | 3\n", "name", 1),
    ("写简报 | 2026-12-10 | 3 | 重要 | no_such_duty\n", "duty", 1),
])
def test_text_errors_name_field_and_line(text, field, line):
    with pytest.raises(InputError) as info:
        parse_tasks_text(text, "tasks.txt")
    assert info.value.field == field
    assert f"tasks.txt 第{line}行" in str(info.value) and field in str(info.value)


@pytest.mark.parametrize("text, field", [
    ("- {name: 写简报, hours: -1}\n", "hours"),
    ("- {name: 写简报, hours: 2, deadline: 明天}\n", "deadline"),
    ("- {name: 写简报, hours: 2, colour: red}\n", "colour"),
    ("- {name: 写简报, hours: 2, optional: maybe}\n", "optional"),
    ("- {name: 写简报, hours: 2, optional: true, flag: 重要}\n", "optional"),
    ("- {hours: 2}\n", "name"),
    ("- {name: 写简报}\n", "hours"),
    ("- [写简报, 2]\n", "task"),
    ("tasks: 5\n", "tasks"),
    ("other: []\n", "tasks"),
    ("- {name: 写简报, hours: 2\n", "yaml"),
])
def test_yaml_errors_name_the_field(text, field):
    with pytest.raises(InputError) as info:
        parse_tasks_yaml(text, "tasks.yaml")
    assert info.value.field == field
    assert field in str(info.value)


def test_load_tasks_by_extension(tmp_path):
    (tmp_path / "t.yaml").write_text("- {name: A, hours: 1}\n", encoding="utf-8")
    (tmp_path / "t.txt").write_text("A | - | 1\n", encoding="utf-8")
    assert load_tasks(tmp_path / "t.yaml") == [Task("A", 1.0, None, None, None, 1)]
    assert load_tasks(tmp_path / "t.txt") == [Task("A", 1.0, None, None, None, 1)]
    with pytest.raises(InputError, match="找不到"):
        load_tasks(tmp_path / "missing.yaml")


@pytest.mark.parametrize("entry", ["optional: true", "可延后: true", "可选: 是", "flag: 可选", "flag: 可延后", "optional: yes"])
def test_optional_spellings_mean_later(entry):
    (t,) = parse_tasks_yaml(f"- {{name: 看红色电影, hours: 2, {entry}}}\n")
    assert t.flag == LATER
    (t,) = parse_tasks_yaml("- {name: 看红色电影, hours: 2, optional: false}\n")
    assert t.flag is None


def test_unknown_field_error_lists_the_fields():
    with pytest.raises(InputError) as info:
        parse_tasks_yaml("- {name: 写简报, hours: 2, priority: high}\n", "tasks.yaml")
    assert info.value.field == "priority"
    assert "未知字段 'priority'" in str(info.value) and "optional" in str(info.value)


# --------------------------------------------------------------------------- planning

def test_rule_required_duties_are_included_and_broken_into_prep():
    plan = plan_tasks([], START, 6, 20, members=23)
    names = [it.name for it in _placed(plan)]
    assert "支部委员会会议（2026-12-08）" in names
    # 民主评议党员 and the quarter's 党员大会 are held in the same meeting as the 组织生活会 (the rules allow it)
    assert "组织生活会（与民主评议党员、支部党员大会合并召开，2026-12-15）" in names
    assert not any(n.startswith(("民主评议党员（", "支部党员大会（")) for n in names)
    assert any(n.startswith("组织生活会准备：") for n in names)
    assert all(it.kind == RIGID for it in _placed(plan))
    # the meeting sits in the week of its date
    for w in plan.weeks:
        for it in w.items:
            if it.name.startswith("组织生活会（与"):
                assert w.start <= date(2026, 12, 15) <= w.end


def test_prep_steps_placed_by_their_lead_time_across_year_end():
    plan = plan_tasks([], date(2026, 12, 14), 8, 40)
    by_name = {it.name: (w, it) for w in plan.weeks for it in w.items}
    w, it = by_name["书记述职与年度工作总结准备：征求党员对支部和书记的意见"]
    assert it.deadline == date(2026, 12, 21)  # 2027-01-20 minus 30 days
    assert w.start <= it.deadline <= w.end
    w, it = by_name["书记述职与年度工作总结准备：撰写年度工作总结和述职报告"]
    assert it.deadline == date(2027, 1, 6) and w.start <= it.deadline <= w.end


def test_classification_of_own_tasks():
    tasks = [
        Task("有截止", 1, START + timedelta(days=10)),
        Task("截止在期外", 1, START + timedelta(days=100)),
        Task("无截止", 1),
        Task("标记刚性", 1, START + timedelta(days=20), "刚性"),
    ]
    plan = plan_tasks(tasks, START, 4, 40, include_duties=False)
    kinds = {it.name: it.kind for it in _placed(plan)}
    assert kinds == {"有截止": IMPORTANT, "截止在期外": LATER, "无截止": LATER, "标记刚性": RIGID}
    assert all(it.kind in KINDS for it in _placed(plan))
    # an own 刚性 task without a deadline goes into the first week with room, not the last
    plan = plan_tasks([Task("上级交办", 2, None, "刚性")], START, 6, 4, include_duties=False)
    assert [it.name for it in plan.weeks[0].items] == ["上级交办"]


def test_capacity_respected_and_nothing_dropped():
    rnd = random.Random(7)
    tasks = [Task(f"任务{i:03d}", rnd.choice([0.5, 1, 1.5, 2, 3, 6]),
                  START + timedelta(days=rnd.randrange(120)) if rnd.random() < 0.8 else None,
                  rnd.choice([None, "重要", "可延后", "刚性"])) for i in range(120)]
    plan = plan_tasks(tasks, START, 12, 5, members=30)
    for w in plan.weeks:
        assert w.hours <= 5 + 1e-9
    placed = _hours_by_base_name(plan)
    deferred = {d.name for d in plan.deferred}
    for t in tasks:
        if t.name in deferred:
            assert t.name not in placed  # all or nothing: never half-planned
        else:
            assert placed.get(t.name) == pytest.approx(t.hours), t.name


def test_overload_is_reported_with_reason_and_advice():
    tasks = [Task("大材料", 10, START + timedelta(days=6)), Task("小事", 1, START + timedelta(days=6), "可延后")]
    plan = plan_tasks(tasks, START, 2, 3, include_duties=False)
    deferred = {d.name: d for d in plan.deferred}
    assert "大材料" in deferred
    reason = deferred["大材料"].reason
    assert "拆分" in reason and "10" in reason
    assert "小事" in [it.name for it in _placed(plan)]
    # rule-required overload: the summary says the shortfall once, and what it would take
    heavy = plan_tasks([], START, 6, 1, members=23)
    rigid = [d for d in heavy.deferred if d.kind == RIGID]
    assert rigid and heavy.summary.shortfall_hours == pytest.approx(sum(d.hours for d in heavy.deferred
                                                                        if d.cause in ("shortfall", "meeting")))
    advice = [s for s in heavy.summary.lines if "排不下" in s]
    assert len(advice) == 1 and "分担" in advice[0] and "最忙的一周需约" in advice[0]


def test_rule_required_work_goes_first():
    # week 2 (12-08..12-14) holds the 支委会 on 12-08; a big own task must not crowd it out
    tasks = [Task("自己的大任务", 4, date(2026, 12, 14), "重要")]
    plan = plan_tasks(tasks, START, 3, 4)
    week2 = plan.weeks[1]
    assert any(it.name == "支部委员会会议（2026-12-08）" for it in week2.items)
    assert all(w.hours <= 4 + 1e-9 for w in plan.weeks)


def test_deadlines_met_when_capacity_allows():
    tasks = [Task(f"T{i}", 2, START + timedelta(days=7 * (i % 4) + 6)) for i in range(8)]
    plan = plan_tasks(tasks, START, 4, 4, include_duties=False)
    assert not plan.deferred
    for w in plan.weeks:
        for it in w.items:
            assert it.deadline >= w.start, "never placed after its deadline week"


def test_big_task_is_split_across_weeks():
    plan = plan_tasks([Task("写年度总结", 7, START + timedelta(days=20), "重要")], START, 3, 3, include_duties=False)
    parts = [it for it in _placed(plan) if it.name.startswith("写年度总结")]
    assert len(parts) == 3 and sum(p.hours for p in parts) == pytest.approx(7)
    assert all("拆分" in p.reason for p in parts)


def test_per_member_talks_are_split_before_their_date():
    plan = plan_tasks([], date(2027, 11, 1), 5, 6, members=20)
    parts = [(w, it) for w in plan.weeks for it in w.items if it.name.startswith("谈心谈话（")]
    assert parts
    assert sum(it.hours for _, it in parts) == pytest.approx(20 * duty("tanxin_tanhua").effort_hours)
    assert all(w.start <= date(2027, 11, 30) for w, _ in parts)


def test_linked_event_duty_brings_its_prep_and_reports_later_steps():
    task = Task("支部换届选举大会", 3, date(2027, 1, 28), duty="huanjie_xuanju")
    plan = plan_tasks([task], START, 6, 10, include_duties=False)
    placed = [it.name for it in _placed(plan)]
    assert "支部委员会换届选举准备：酝酿委员候选人预备人选" in placed
    later = {d.name for d in plan.deferred}
    assert "支部换届选举大会" in later  # after the window: listed, never dropped


def test_every_placement_has_a_one_line_reason():
    tasks = [Task("A", 1, START + timedelta(days=3)), Task("B", 2), Task("C", 9, START + timedelta(days=40), "重要")]
    plan = plan_tasks(tasks, START, 6, 4, members=10)
    for it in _placed(plan):
        assert it.reason and "\n" not in it.reason
    for d in plan.deferred:
        assert d.reason and "\n" not in d.reason


def test_json_shape_keeps_its_fields_and_adds_the_new_ones():
    plan = plan_tasks([Task("A", 1, START + timedelta(days=3))], START, 2, 4)
    data = json.loads(plan.to_json())
    assert set(data) == {"weeks", "deferred", "handoff", "summary", "not_applicable"}
    assert len(data["weeks"]) == 2
    for w in data["weeks"]:
        assert set(w) == {"start", "hours", "items", "focus"}
        assert 1 <= len(w["focus"]) <= 5
        for it in w["items"]:
            assert set(it) == {"name", "hours", "deadline", "kind", "reason", "owner"}
    for d in data["deferred"]:
        assert {"name", "reason"} <= set(d)
    assert {"needed_hours", "available_hours", "handed_off_hours", "deferred_hours"} <= set(data["summary"])
    assert data["weeks"][0]["start"] == "2026-12-01" and data["weeks"][1]["start"] == "2026-12-08"


PLAN_IN_A_CHILD = """
import json, random, sys
from datetime import date, timedelta
from assistant.plans.planner import Task, plan_tasks
rnd = random.Random(3)
start = date(2026, 12, 1)
tasks = [Task(f"任务{i}", rnd.choice([0.5, 1, 2, 4]), start + timedelta(days=rnd.randrange(60)),
              rnd.choice([None, "重要", "可延后"])) for i in range(60)]
sys.stdout.write(plan_tasks(tasks, start, 8, 4, members=15).to_json())
"""


def test_same_input_same_plan_in_any_process():
    """The plan does not depend on the process (set or dict order under another hash seed)."""
    runs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        r = subprocess.run([sys.executable, "-c", PLAN_IN_A_CHILD], capture_output=True, text=True, env=env,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        runs.append(r.stdout)
    assert runs[0] == runs[1]
    assert len(json.loads(runs[0])["weeks"]) == 8


def test_52_weeks_200_tasks():
    """A year of weekly plans over 200 tasks: every week within its hours, every task placed
    whole or listed (how fast this runs is the benchmark's business, not this test's)."""
    rnd = random.Random(11)
    tasks = [Task(f"任务{i}", rnd.choice([0.5, 1, 2, 3, 5]),
                  START + timedelta(days=rnd.randrange(400)) if rnd.random() < 0.8 else None,
                  rnd.choice([None, "重要", "可延后", "刚性"])) for i in range(200)]
    plan = plan_tasks(tasks, START, 52, 6, members=30)
    assert len(plan.weeks) == 52 and all(w.hours <= 6 + 1e-9 for w in plan.weeks)
    placed, deferred = _hours_by_base_name(plan), {d.name for d in plan.deferred}
    for t in tasks:
        assert (t.name in deferred) != (t.name in placed), t.name
        if t.name in placed:
            assert placed[t.name] == pytest.approx(t.hours), t.name


@pytest.mark.parametrize("kwargs, field", [
    (dict(weeks=0), "weeks"),
    (dict(hours_per_week=-4), "hours_per_week"),
    (dict(hours_per_week=0), "hours_per_week"),
    (dict(branch_type="农村"), "branch_type"),
    (dict(members=-2), "members"),
    (dict(role="主任"), "role"),
])
def test_bad_parameters_name_the_field(kwargs, field):
    args = dict(tasks=[], start=START, weeks=4, hours_per_week=4)
    args.update(kwargs)
    with pytest.raises(InputError) as info:
        plan_tasks(**args)
    assert info.value.field == field and field in str(info.value)


def test_bad_task_objects_name_the_field():
    with pytest.raises(InputError, match="hours"):
        plan_tasks([Task("A", -1)], START, 2, 4)
    with pytest.raises(InputError, match="flag"):
        plan_tasks([Task("A", 1, None, "随便")], START, 2, 4)
    with pytest.raises(InputError, match="hours"):
        plan_tasks([{"name": "A", "hours": "x"}], START, 2, 4)


def test_role_is_the_workers_post_and_the_secretarys_meetings_stay_his():
    profile = Profile(members=20, roles={"书记": "王芳", "组织委员": "李强", "纪检委员": "陈亮"}, party_groups=0)
    plan = plan_tasks([Task("自己的事", 1)], START, 6, 40, role="宣传委员", profile=profile)
    items = _placed(plan)
    assert "自己的事" in [it.name for it in items]
    assert all(it.owner == "宣传委员" for it in items)  # the worker's plan holds only the worker's work
    secretary = plan.handoff["书记"]
    assert any(h.name == "支部委员会会议（2026-12-08）" and h.cause == "rule" and "第十四条" in h.reason for h in secretary)
    assert all(h.person == "王芳" for h in secretary)


def test_markdown_and_ics_writers(tmp_path):
    from icalendar import Calendar

    plan = plan_tasks([Task("大材料", 30, START + timedelta(days=6))], START, 3, 4, members=10)
    md = to_markdown(plan)
    assert "## 第1周（2026-12-01 至 2026-12-07）" in md and "放不下的任务" in md and "大材料" in md
    assert md.index("**本周要事**") < md.index("| 任务 | 工时 |") and md.rstrip().split("\n## ")[-1].startswith("小结")
    assert write_plan(plan, tmp_path / "p.md").read_text(encoding="utf-8") == md
    cal = Calendar.from_ical(write_plan(plan, tmp_path / "p.ics").read_bytes())
    events = cal.walk("VEVENT")
    assert len(events) == len(_placed(plan)) + 1  # + one entry listing the deferred tasks
    assert all(ev.walk("VALARM") for ev in events)
    assert json.loads(write_plan(plan, tmp_path / "p.json").read_text(encoding="utf-8")) == plan.to_dict()
    with pytest.raises(InputError) as info:
        write_plan(plan, tmp_path / "p.pdf")
    assert info.value.field == "out"


# --------------------------------------------------------------------------- CLI

def _future_monday() -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture
def tasks_file(tmp_path):
    start = _future_monday()
    path = tmp_path / "tasks.yaml"
    path.write_text(
        f"tasks:\n  - {{name: 写季度简报, deadline: {start + timedelta(days=9)}, hours: 3}}\n"
        f"  - {{name: 整理党建台账, deadline: {start + timedelta(days=30)}, hours: 6, flag: 重要}}\n"
        "  - {name: 学习资料汇编, hours: 2}\n", encoding="utf-8")
    return path


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_plan_tasks_json(capsys, tasks_file, tmp_path):
    start = _future_monday().isoformat()
    code, out, err = _run(capsys, "plan-tasks", str(tasks_file), "--start", start, "--weeks", "6",
                          "--hours-per-week", "4", "--json", "--data-dir", str(tmp_path))
    assert code == 0, err
    data = json.loads(out)
    assert {"weeks", "deferred", "handoff", "summary", "not_applicable"} == set(data) and len(data["weeks"]) == 6
    assert "还没有保存支部情况" in err  # no profile yet: the worker is told, once


@pytest.mark.parametrize("ext", [".md", ".ics", ".json", ".xlsx"])
def test_cli_plan_tasks_writes_by_extension(capsys, tasks_file, tmp_path, ext):
    out_path = tmp_path / f"plan{ext}"
    code, out, err = _run(capsys, "--data-dir", str(tmp_path), "plan-tasks", str(tasks_file),
                          "--start", _future_monday().isoformat(), "--hours-per-week", "4", "--out", str(out_path))
    assert code == 0, err
    assert out_path.is_file() and out_path.stat().st_size > 0


@pytest.mark.parametrize("ext", [".md", ".xlsx", ".ics", ".docx"])
def test_cli_checklist_writes_by_extension(capsys, tmp_path, ext):
    out_path = tmp_path / f"list{ext}"
    code, out, err = _run(capsys, "checklist", "--year", "2027", "--quarter", "4", "--branch-type", "机关",
                          "--members", "23", "--out", str(out_path), "--data-dir", str(tmp_path))
    assert code == 0, err
    assert out_path.is_file() and out_path.stat().st_size > 0


def test_cli_checklist_prints_markdown(capsys, tmp_path):
    code, out, err = _run(capsys, "checklist", "--year", "2027", "--month", "3", "--data-dir", str(tmp_path))
    assert code == 0 and out.startswith("# 2027年3月党支部工作清单")


def _bad(capsys, field: str, *argv):
    code, out, err = _run(capsys, *argv)
    err = "\n".join(line for line in err.splitlines() if not line.startswith("提示："))
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("错误：") and field in lines[0]
    assert "Traceback" not in err


def test_cli_bad_inputs(capsys, tasks_file, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))  # no saved profile: --hours-per-week is needed
    start = _future_monday().isoformat()
    past = (date.today() - timedelta(days=1)).isoformat()
    bad_txt = tmp_path / "bad.txt"
    bad_txt.write_text("写简报 | 2026-12-10 | 3\n整理 | 2026-12-31 | abc\n", encoding="utf-8")
    _bad(capsys, "--start", "plan-tasks", str(tasks_file), "--start", past, "--hours-per-week", "4")
    _bad(capsys, "--start", "plan-tasks", str(tasks_file), "--start", "2027-02-30", "--hours-per-week", "4")
    _bad(capsys, "--hours-per-week", "plan-tasks", str(tasks_file), "--start", start, "--hours-per-week", "-4")
    _bad(capsys, "--hours-per-week", "plan-tasks", str(tasks_file), "--start", start)
    _bad(capsys, "--weeks", "plan-tasks", str(tasks_file), "--start", start, "--hours-per-week", "4", "--weeks", "x")
    _bad(capsys, "hours", "plan-tasks", str(bad_txt), "--start", start, "--hours-per-week", "4")
    _bad(capsys, "第2行", "plan-tasks", str(bad_txt), "--start", start, "--hours-per-week", "4")
    _bad(capsys, "任务文件", "plan-tasks", str(tmp_path / "none.yaml"), "--start", start, "--hours-per-week", "4")
    _bad(capsys, "--out", "plan-tasks", str(tasks_file), "--start", start, "--hours-per-week", "4",
         "--out", str(tmp_path / "p.pdf"))
    _bad(capsys, "--out", "checklist", "--year", "2027", "--out", str(tmp_path / "x.pdf"))
    _bad(capsys, "--year", "checklist")
    _bad(capsys, "--year", "checklist", "--year", "二〇二七")
    _bad(capsys, "--quarter", "checklist", "--year", "2027", "--quarter", "5")
    _bad(capsys, "--quarter", "checklist", "--year", "2027", "--quarter", "1", "--month", "2")
    _bad(capsys, "--branch-type", "checklist", "--year", "2027", "--branch-type", "农村")
    _bad(capsys, "--members", "checklist", "--year", "2027", "--members", "0")


def test_parser_has_the_planning_subcommands():
    parser = build_parser()
    args = parser.parse_args(["--data-dir", "d", "checklist", "--year", "2027", "--json", "--profile", "p.yaml"])
    assert args.command == "checklist" and callable(args.run) and args.json and args.profile == "p.yaml"
    args = parser.parse_args(["plan-tasks", "t.yaml", "--start", "2030-01-01", "--hours-per-week", "3", "--json"])
    assert args.file == "t.yaml" and args.json is True and callable(args.run)
    args = parser.parse_args(["profile", "set", "--role", "书记=王芳", "--role", "组织委员=李强", "--members", "5"])
    assert args.action == "set" and args.role == ["书记=王芳", "组织委员=李强"]
