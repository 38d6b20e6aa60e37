"""The checklist and the planner use the branch's records (issue 14): a duty done this period is shown
done with its date and not planned again; an overdue one comes first, marked so. Each test runs on
SQLite and on the session's PostgreSQL server; "today" is fixed with the commands' hidden --today."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from docx import Document
from openpyxl import load_workbook

from assistant.cli import main
from assistant.plans.checklist import build_checklist
from assistant.plans.obligations import load_obligations
from assistant.records.ledger import Ledger
from assistant.records.progress import branch_progress

TODAY = "2027-02-25"  # the 支委会 of February is held; January's is missing (due 1月8日)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _items(out: str, word: str) -> list[dict]:
    return [i for i in json.loads(out)["items"] if word in i["name"]]


# --------------------------------------------------------------------------- the checklist

def test_checklist_shows_the_recorded_meeting_done_and_the_missing_one_overdue_first(db, env, capsys):
    code, _, _ = run(capsys, "ledger", "add", "--type", "支委会", "--date", "2027-02-10", "--expected", "5",
                     "--present", "5", "--topic", "研究二月工作")
    assert code == 0
    code, out, _ = run(capsys, "checklist", "--year", "2027", "--quarter", "1", "--today", TODAY, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["as_of"] == TODAY
    committee = {i["due"]: i for i in _items(out, "支部委员会会议")}
    assert committee["2027-02-08"]["status"] == "done" and committee["2027-02-08"]["done"] == ["2027-02-10"]
    assert committee["2027-01-08"]["status"] == "overdue" and committee["2027-01-08"]["done"] == []
    assert committee["2027-03-08"]["status"] == "pending"
    # the overdue items come first, then the rest in date order; the existing fields are all there
    statuses = [i["status"] for i in data["items"]]
    first_other = next(k for k, s in enumerate(statuses) if s != "overdue")
    assert statuses[0] == "overdue" and "overdue" not in statuses[first_other:]
    assert {"name", "due", "owner", "basis", "person", "status", "done"} <= set(data["items"][0])
    # nothing recorded for 主题党日: its January and February items are overdue, March's is still to do
    theme = {i["due"][:7]: i["status"] for i in _items(out, "主题党日")}
    assert theme == {"2027-01": "overdue", "2027-02": "overdue", "2027-03": "pending"}


def test_checklist_documents_carry_a_status_column(db, env, tmp_path: Path, capsys):
    Ledger(db).add(type="支委会", date="2027-02-10")
    xlsx, md, docx = tmp_path / "清单.xlsx", tmp_path / "清单.md", tmp_path / "清单.docx"
    for out in (xlsx, md, docx):
        assert run(capsys, "checklist", "--year", "2027", "--quarter", "1", "--today", TODAY, "--out", str(out))[0] == 0
    ws = load_workbook(xlsx)["工作清单"]
    header = [c.value for c in ws[1]]
    col = header.index("状态")
    rows = {(r[1].date().isoformat() if hasattr(r[1], "date") else str(r[1]), r[2]): r[col]
            for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[("2027-02-08", "支部委员会会议")] == "已完成（2027-02-10）"
    assert rows[("2027-01-08", "支部委员会会议")] == "已逾期"
    assert rows[("2027-03-08", "支部委员会会议")] == "待办"
    assert ws.cell(row=2, column=col + 1).value == "已逾期"  # first row: an overdue one
    text = md.read_text(encoding="utf-8")
    assert "| 状态 |" in text and "已完成（2027-02-10）" in text and "据台账（截至2027-02-25）" in text
    ics = tmp_path / "清单.ics"
    assert run(capsys, "checklist", "--year", "2027", "--quarter", "1", "--today", TODAY, "--out", str(ics))[0] == 0
    cal = ics.read_text(encoding="utf-8")
    assert "SUMMARY:【已完成】支部委员会会议" in cal and "SUMMARY:【已逾期】支部委员会会议" in cal
    tables = Document(str(docx)).tables
    assert "状态" in [c.text for c in tables[0].rows[0].cells]
    assert any("已完成（2027-02-10）" in c.text for row in tables[0].rows for c in row.cells)


def test_without_records_the_checklist_is_as_before(db, env, tmp_path: Path, capsys):
    code, out, _ = run(capsys, "checklist", "--year", "2027", "--quarter", "1", "--today", TODAY, "--json")
    assert code == 0
    data = json.loads(out)
    assert "as_of" not in data and all("status" not in i and "done" not in i for i in data["items"])
    md = tmp_path / "清单.md"
    run(capsys, "checklist", "--year", "2027", "--quarter", "1", "--today", TODAY, "--out", str(md))
    assert "状态" not in md.read_text(encoding="utf-8")
    # with a record, --no-records gives the old list back
    Ledger(db).add(type="支委会", date="2027-02-10")
    code, again, _ = run(capsys, "checklist", "--year", "2027", "--quarter", "1", "--today", TODAY, "--json",
                         "--no-records")
    assert json.loads(again) == data


def test_a_record_counts_for_its_own_period_only(db):
    """A 支委会 on 31 January fulfils January's, not February's; a yearly duty is done by one record in the year."""
    ledger = Ledger(db)
    ledger.add(type="支委会", date="2027-01-31")
    ledger.add(type="组织生活会", date="2027-01-20")
    duties = load_obligations()
    progress = branch_progress(db, duties, date(2027, 1, 1), date(2027, 12, 31), date(2027, 3, 1))
    cl = build_checklist(2027, duties=duties, progress=progress)
    by = {(i.duty_id, i.due.month): i for i in cl.items}
    assert by[("zhiweihui", 1)].status == "done" and by[("zhiweihui", 1)].done == (date(2027, 1, 31),)
    assert by[("zhiweihui", 2)].status == "overdue"
    life = [i for i in cl.items if i.duty_id == "zuzhi_shenghuohui"]
    assert life and all(i.status == "done" for i in life)


def test_a_branch_without_a_database_gets_none_created(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.delenv("ASSISTANT_DB_URL", raising=False)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    code, out, _ = run(capsys, "checklist", "--year", "2027", "--month", "2", "--today", TODAY, "--json")
    assert code == 0 and all("status" not in i for i in json.loads(out)["items"])
    assert not (tmp_path / "data" / "app.db").exists()


# --------------------------------------------------------------------------- the web tab

def test_checklist_page_shows_status_column_with_overdue_rows_first(app, tmp_path: Path):
    from assistant.web.handlers import plans

    Ledger(app.db).add(type="支委会", date="2027-02-10")
    summary, html, xlsx, _ = plans.checklist_page(app, tmp_path, 2027, "第一季度", as_of=date(2027, 2, 25))
    assert "据台账（截至2027-02-25）" in summary and "已逾期" in summary
    assert '<th class="c-status">状态</th>' in html
    first_row = html.split("<tbody>")[1].split("</tr>")[0]
    assert 'class="cl-card cl-overdue"' in first_row and "已逾期" in first_row
    assert "已完成（2027-02-10）" in html
    # without the right to see the records (a 党员): the plain checklist
    summary, html, _, _ = plans.checklist_page(app, tmp_path, 2027, "第一季度", records=False, as_of=date(2027, 2, 25))
    assert "状态" not in html and "已完成" not in html and "据台账" not in summary


def test_only_workers_see_the_records_in_the_checklist_tab(app, tmp_path: Path):
    """Over the real Blocks with login: the 党员's checklist has no statuses, the 党务工作者's has them."""
    import gradio as gr

    from assistant.serve.accounts import MEMBER, WORKER
    from assistant.web.layout import build_app

    Ledger(app.db).add(type="支委会", date=date.today().isoformat())
    app.serving.accounts.add("member1", MEMBER, "long enough 1")
    app.serving.accounts.add("worker1", WORKER, "long enough 1")
    demo = build_app(app, login=True)
    fn = next(f.fn for f in demo.fns.values() if f.name == "checklist_page")
    year = date.today().year
    seen = {}
    for name in ("member1", "worker1"):
        request = gr.Request(username=name)
        summary, html, _, _ = fn(request, year, "全年", "按支部情况", None, request)
        seen[name] = html
    assert "状态" not in seen["member1"] and "已完成" not in seen["member1"]
    assert '<th class="c-status">状态</th>' in seen["worker1"] and f"已完成（{date.today().isoformat()}）" in seen["worker1"]


# --------------------------------------------------------------------------- the planner

PLAN_START, PLAN_TODAY = "2027-03-08", "2027-03-05"  # a Monday; the plan is made the Friday before


def _kept_records(ledger: Ledger) -> None:
    """Everything due before 8 March 2027 is recorded except February's 支委会; March's 支委会 is held."""
    for m in (1, 2, 3):
        for kind in ("主题党日", "党小组会", "党费收缴"):
            ledger.add(type=kind, date=f"2027-0{m}-05")
    ledger.add(type="书记述职", date="2027-01-18")
    ledger.add(type="机关党员干部大会", date="2027-01-26")
    ledger.add(type="支委会", date="2027-01-12")
    ledger.add(type="支委会", date="2027-03-03", topic="研究三月工作")


def _plan(capsys, tmp_path: Path, *extra: str) -> dict:
    tasks = tmp_path / "tasks.txt"
    tasks.write_text("撰写调研报告 | 2027-03-26 | 3 | 重要\n", encoding="utf-8")
    code, out, _ = run(capsys, "plan-tasks", str(tasks), "--start", PLAN_START, "--today", PLAN_TODAY, "--weeks", "4",
                       "--hours-per-week", "10", "--json", *extra)
    assert code == 0
    return json.loads(out)


def test_planner_skips_what_the_records_show_done_and_catches_up_the_overdue_first(db, env, tmp_path: Path, capsys):
    _kept_records(Ledger(db))
    plan = _plan(capsys, tmp_path)
    assert plan["records_as_of"] == PLAN_START
    # March's 支委会 is held (3 March): listed as done, not planned again
    assert {"name": "支部委员会会议", "due": "2027-03-08", "period": "3月", "done": ["2027-03-03"]} in plan["done"]
    items = [(k, it) for k, w in enumerate(plan["weeks"]) for it in w["items"]]
    assert not [it for _, it in items if it["name"].startswith("支部委员会会议（2027-03")]
    # February's is missing: one catch-up, in the first week, marked overdue, with its preparation
    late = [(k, it) for k, it in items if it.get("overdue")]
    meeting = [(k, it) for k, it in late if it["name"].startswith("支部委员会会议（逾期补做，")]
    assert len(meeting) == 1 and meeting[0][0] == 0
    assert "2月" in meeting[0][1]["reason"] and "台账中没有记录" in meeting[0][1]["reason"]
    assert {it["name"].split("：")[0] for _, it in late} == {"支部委员会会议（逾期补做，2027-03-11）", "支部委员会会议准备"}
    # nothing else was overdue: the other duties recorded in January and February get no catch-up
    assert all("支部委员会会议" in it["name"] for _, it in late)
    assert plan["weeks"][0]["focus"][0].startswith("3月11日（周四）：支部委员会会议（逾期补做）")
    assert any("逾期1项排在最前补做" in line for line in plan["summary"]["lines"])
    # March's 主题党日 (recorded on 5 March) is done too; the 党员大会 of the quarter, due 20 March, is planned as usual
    assert {"name": "主题党日", "due": "2027-03-15", "period": "3月", "done": ["2027-03-05"]} in plan["done"]
    assembly = [it for _, it in items if it["name"].startswith("支部党员大会（2027-03")]
    assert len(assembly) == 1 and "overdue" not in assembly[0]


def test_planner_markdown_shows_done_and_overdue(db, env, tmp_path: Path, capsys):
    _kept_records(Ledger(db))
    tasks = tmp_path / "tasks.txt"
    tasks.write_text("撰写调研报告 | 2027-03-26 | 3 | 重要\n", encoding="utf-8")
    out = tmp_path / "规划.md"
    code, printed, _ = run(capsys, "plan-tasks", str(tasks), "--start", PLAN_START, "--today", PLAN_TODAY,
                           "--weeks", "4", "--hours-per-week", "10", "--out", str(out))
    assert code == 0 and "据台账已完成" in printed and "逾期补做1项" in printed
    text = out.read_text(encoding="utf-8")
    assert "## 据台账已完成（截至2027-03-08，本期不再安排）" in text
    assert "| 支部委员会会议 | 3月 | 2027-03-08 | 2027-03-03 |" in text
    assert "刚性任务（逾期）" in text and "支部委员会会议（逾期补做，2027-03-11）" in text


def test_without_records_the_plan_is_as_before(db, env, tmp_path: Path, capsys):
    before = _plan(capsys, tmp_path)
    assert "done" not in before and "records_as_of" not in before
    assert not [it for w in before["weeks"] for it in w["items"] if "overdue" in it or "逾期补做" in it["name"]]
    _kept_records(Ledger(db))
    assert _plan(capsys, tmp_path, "--no-records") == before


def test_plan_page_uses_the_records(app, tmp_path: Path):
    from assistant.web.handlers import plans

    _kept_records(Ledger(app.db))
    form = plans.ProfileForm(hours_per_week=10).values()
    notice, focus, _, full, *_ = plans.plan_page(app, tmp_path, [["撰写调研报告", "2027-03-26", "3", "重要"]],
                                                 PLAN_START, 4, *form)
    assert "已按台账排除本期已完成的" in notice and "逾期的1项排在最前补做" in notice
    assert "支部委员会会议（逾期补做）" in focus and "据台账已完成" in full


def test_a_plan_asked_for_in_the_chat_uses_the_records(app):
    from assistant.requests import Request, fulfil

    _kept_records(Ledger(app.db))
    text, _ = fulfil(app, Request("plan_tasks", {"start": date(2027, 3, 8), "weeks": 4}), None)
    assert "支部委员会会议（逾期补做，2027-03-11）" in text and "| 支部委员会会议 | 3月 | 2027-03-08 | 2027-03-03 |" in text
