"""The 任务规划 and 工作清单 tabs' handlers, in-process (no Gradio, no server): the profile form prefilled
and saved back, the weekly focus first, hand-off tables per post, downloads, the task table's add/delete,
and the checklist as wrapped HTML with one card per duty."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from assistant.errors import InputError
from assistant.plans.profile import Profile, save_profile, saved_profile
from assistant.root import App
from assistant.settings import Settings
from assistant.web.handlers import plans


@pytest.fixture
def app(tmp_path) -> App:
    return App.from_settings(Settings.from_env(data_dir=tmp_path / "data"))


@pytest.fixture
def out(tmp_path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


def _form(names=None, **over):
    given = dict(names or {})
    f = plans.ProfileForm(branch_type="机关", branch_name="第一党支部", members=20, probationary=2,
                          committee=plans.COMMITTEE_CHOICES[0], worker_role="书记", hours_per_week=3,
                          names=tuple(given.get(r, "") for r in plans.NAMED_ROLES))
    return dataclasses.replace(f, **over).values()


DECEMBER_NAMES = {"书记": "王芳", "组织委员": "李强", "宣传委员": "张敏"}
TASKS = [["整理党员花名册", "2026-12-18", "2", "", "✕"], ["筹备年度组织生活会", "", "6", "", "✕"],
         ["收缴第四季度党费", "2026-12-25", "1", "", "✕"], ["撰写支部年度工作总结", "", "5", "", "✕"],
         ["更新党务公开栏", "", "1", "可延后", "✕"], ["组织观看红色电影", "", "2", "可选", "✕"], ["", "", "", "", "✕"]]


def test_form_is_empty_then_prefilled_from_the_saved_profile(app):
    assert plans.saved_form(app) == plans.ProfileForm()
    notice = plans.save_form(app, *_form(names=DECEMBER_NAMES))
    assert notice.startswith("已保存支部情况") and "你是书记（王芳）" in notice
    saved = saved_profile(app.settings.data_dir)
    assert saved.name_of("组织委员") == "李强" and saved.members == 20 and saved.hours_per_week == 3
    form = plans.saved_form(app)
    assert form.members == 20 and form.names[plans.NAMED_ROLES.index("宣传委员")] == "张敏"
    assert plans.profile_from_form(*form.values()) == saved
    assert len(form.values()) == plans.FORM_FIELDS


def test_saving_keeps_what_the_form_does_not_show(app):
    save_profile(Profile(members=20, roles={"组织委员": "李强"}, role_hours={"组织委员": 2}, delegate=True),
                 app.settings.data_dir)
    plans.save_form(app, *plans.saved_form(app).values())
    again = saved_profile(app.settings.data_dir)
    assert again.hours_of("组织委员") == 2 and again.delegate is True


@pytest.mark.parametrize("key, value, field", [
    ("members", "很多", "members"), ("committee", "随便", "committee"), ("worker_role", "主任", "worker_role"),
    ("hours_per_week", "-1", "hours_per_week"), ("activists", "x", "activists"),
])
def test_bad_form_values_name_the_field(app, key, value, field):
    with pytest.raises(InputError) as info:
        plans.save_form(app, *_form(**{key: value}))
    assert info.value.field == field
    assert saved_profile(app.settings.data_dir) is None


def test_plan_page_shows_focus_first_then_hand_off_tables_and_downloads(app, out):
    notice, focus, handoff, full, md, ics, xlsx = plans.plan_page(
        app, out, TASKS, "2026-12-01", 4, *_form(names=DECEMBER_NAMES))
    assert "保存了支部情况" in notice and saved_profile(app.settings.data_dir).name_of("书记") == "王芳"
    weeks = re.findall(r"^\*\*第(\d)周", focus, re.M)
    assert weeks == ["1", "2", "3", "4"]
    for block in focus.split("**第")[1:]:
        assert len(re.findall(r"^\d\. ", block.split("**小结**")[0], re.M)) <= 5
    assert "**小结**" in focus and "本期共需" in focus
    assert "**交给组织委员（李强）" in handoff and "**交给宣传委员（张敏）" in handoff
    assert "| 事项 | 完成时间 | 工时 | 为什么交给他/她 |" in handoff
    assert "筹备年度组织生活会" not in handoff and "## 小结" in full
    assert Path(md).read_text(encoding="utf-8").startswith("# 任务规划：2026-12-01起4周")
    assert Path(ics).read_text(encoding="utf-8").startswith("BEGIN:VCALENDAR")
    import openpyxl

    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[0] == "汇总" and {"组织委员", "宣传委员"} <= set(wb.sheetnames)
    sheet = wb["组织委员"]
    assert "李强" in sheet["A1"].value and [c.value for c in sheet[2]][:3] == ["事项", "完成时间", "工时（小时）"]
    assert sheet.max_row > 2


def test_plan_page_escapes_what_the_user_typed(app, out):
    tasks = [["<img src=x onerror=alert(1)>", "", "1", "", "✕"]]
    names = {"书记": "王芳", "组织委员": "<script>alert(1)</script>"}
    _, focus, handoff, full, *_ = plans.plan_page(app, out, tasks, "2026-12-01", 2, *_form(names=names, hours_per_week=1))
    for text in (focus, handoff, full):
        assert "<script>" not in text and "<img" not in text


def test_task_table_add_and_delete_rows():
    rows = plans.task_table(plans.default_tasks())
    assert all(len(r) == len(plans.TASK_HEADERS) and r[-1] == plans.DELETE_MARK for r in rows)
    more = plans.add_row(rows)
    assert len(more) == len(rows) + 1 and more[-1] == ["", "", "", "", plans.DELETE_MARK]
    fewer = plans.delete_row(rows, [1, 4])
    assert [r[0] for r in fewer] == [rows[0][0], rows[2][0]]
    assert plans.delete_row(rows, [1, 0]) == rows  # a click on another column deletes nothing
    assert plans.delete_row({"headers": plans.TASK_HEADERS, "data": [rows[0]]}, [0, 4]) == [["", "", "", "", "✕"]]


def test_plan_tasks_api_keeps_its_signature_and_uses_the_saved_profile(app, out):
    save_profile(Profile(members=5, roles={"书记": "赵军"}, activists=0), app.settings.data_dir)
    plan, md, ics = plans.plan_tasks(app, out, {"headers": plans.TASK_HEADERS[:4], "data": [["写总结", "2027-01-20", "6", "重要"]]},
                                     "2027-01-04", 3, 2, "机关", None)
    assert "第1周" in plan and "安排理由" in plan and "写总结" in plan
    assert "不适用的事项" in plan and "支部委员会会议" in plan
    assert Path(md).is_file() and Path(ics).is_file()
    with pytest.raises(InputError, match="工时"):
        plans.plan_tasks(app, out, [["写总结", "2027-01-20", "很多", ""]], "2027-01-04", 3, 4)


def test_checklist_page_wraps_and_makes_one_card_per_duty(app, out):
    summary, html, xlsx, ics = plans.checklist_page(app, out, 2027, "第四季度", None, 23)
    cards = re.findall(r'<tr class="cl-card">', html)
    assert summary.startswith("**2027年第4季度党支部工作清单**") and len(cards) == int(re.search(r"共 (\d+) 项", summary)[1])
    assert "@media (max-width: 640px)" in html and "overflow-wrap:anywhere" in html
    assert 'data-label="合格标准"' in html and 'data-label="依据"' in html
    assert "另有" in summary and "遇事即办" in summary
    import openpyxl

    wb = openpyxl.load_workbook(xlsx)
    n = int(re.search(r"另有 (\d+) 项按事件触发", summary)[1])
    assert wb["遇事即办"].max_row == n + 1  # the sheet the page promises
    assert Path(ics).read_text(encoding="utf-8").startswith("BEGIN:VCALENDAR")


def test_checklist_follows_the_saved_profile(app, out):
    save_profile(Profile(members=5, roles={"书记": "<b>赵军</b>"}, activists=0), app.settings.data_dir)
    summary, html, _, _ = plans.checklist_page(app, out, 2027, "全年", None, None)
    assert "支部委员会会议" not in html and "入党积极分子考察" not in html and "支委会" not in html
    assert "按支部情况不适用" in summary and "第二十条" in summary
    assert "书记（&lt;b&gt;赵军&lt;/b&gt;）" in html and "<b>" not in html
    summary, rows, xlsx, ics = plans.checklist(app, out, 2027, "第一季度", "机关", 23)  # the /checklist API
    assert rows and all(len(r) == 5 and r[0].startswith("2027-0") for r in rows)
    with pytest.raises(InputError, match="期间"):
        plans.checklist(app, out, 2027, "第五季度")
