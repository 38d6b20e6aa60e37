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
