"""Ledger, candidates and self-check on a real database (each test runs on SQLite and on the
PostgreSQL server of the session): the golden scenarios of issue 14 through the CLI, and the
library pieces they rest on."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

import golden
from assistant.appdb import DatabaseError
from assistant.cli import main
from assistant.errors import InputError
from assistant.plans.obligations import load_obligations
from assistant.records.candidates import Candidates
from assistant.records.ledger import Ledger
from assistant.records.rules import development_rules, ledger_rules
from assistant.records.selfcheck import duty_status, self_check


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------- the database

def test_first_use_migrates_to_head_and_creates_the_tables(db):
    assert db.migrate() == "0002"
    names = set(inspect(db.engine).get_table_names())
    assert {"activities", "attachments", "candidates", "candidate_milestones", "alembic_version"} <= names
    assert {"users", "login_sessions", "login_failures", "api_keys", "conversations", "conversation_messages"} <= names
    assert db.migrate() == "0002"  # a second upgrade is a no-op


# --------------------------------------------------------------------------- golden: a year of records

def test_golden_year_self_check_reports_exactly_what_went_wrong(db, env, tmp_path, capsys):
    sheet = golden.write_sheet(tmp_path / "台账2026.xlsx", golden.year_rows(), title_row="XX党支部2026年工作台账")
    code, out, _ = run(capsys, "ledger", "import", str(sheet))
    assert code == 0, out
    assert f"导入 {len(golden.year_rows())} 条" in out

    code, out, _ = run(capsys, "self-check", "--year", "2026", "--until", "2026-12-01", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["period"]["start"] == "2026-01-01" and report["period"]["until"] == "2026-12-01"
    found = {(f["duty"], f["kind"], f["basis"]) for f in report["findings"]}
    assert found == golden.YEAR_FINDINGS
    assert len(report["findings"]) == len(golden.YEAR_FINDINGS)
    by_kind = {f["kind"]: f for f in report["findings"]}
    missing = by_kind["missing"]
    assert missing["months"] == golden.MISSING_MONTHS
    assert "7月、8月、10月、11月" in missing["detail"] and missing["since"] == "2026-07-01"
    assert by_kind["slipping"]["months"] == golden.MISSING_MONTHS and "先紧后松" in by_kind["slipping"]["detail"]
    assert by_kind["quorum"]["since"] == "2026-06-17" and "实到 8 人" in by_kind["quorum"]["detail"]
    assert by_kind["order"]["since"] == "2026-11-20" and "谈心谈话" in by_kind["order"]["detail"]
    for f in report["findings"]:
        assert f["fix"] and f["basis"].startswith("《") and f["severity"] in ("red", "amber")
    # red first (missing, quorum), then amber (slipping, order)
    assert [f["severity"] for f in report["findings"]] == ["red", "red", "amber", "amber"]
    # what is due before the year ends is not a fault
    due = {d["duty"]: d["periods"] for d in report["due"]}
    assert due["支委会"] == ["2026-12"] and due["支部党员大会"] == ["2026-Q4"]
    # the positive side
    counts = report["counts"]
    assert counts["total"] == len(golden.year_rows())
    assert counts["by_type"]["支委会"] == 7 and counts["by_type"]["支部党员大会"] == 3
    assert counts["by_quarter"]["2026-Q3"]["支委会"] == 1 and counts["by_month"]["2026-09"]["支委会"] == 1

    # the branch profile's parameters: a branch without a 支委会 is not asked for one
    code, out, _ = run(capsys, "self-check", "--year", "2026", "--until", "2026-12-01", "--json", "--no-committee",
                       "--branch-type", "企业")
    report = json.loads(out)
    assert {(f["duty"], f["kind"]) for f in report["findings"]} == {("支部党员大会", "quorum"), ("组织生活会", "order")}
    assert report["period"]["has_committee"] is False and report["period"]["branch_type"] == "企业"
    assert "支委会" not in {d["duty"] for d in report["due"]}


def test_a_right_year_has_no_findings_and_a_branch_without_committee_is_not_asked_for_one(db, tmp_path):
    rows = [r for r in golden.year_rows() if r[0] not in ("支委会",)]
    rows = [r if r[7] != "表决支部年度计划调整" else [r[0], r[1], 20, 15, 2, 20, 14, r[7]] for r in rows]
    rows.append(["谈心谈话", date(2026, 10, 30), None, None, None, None, None, "会前谈心谈话"])
    ledger = Ledger(db)
    report = ledger.import_file(golden.write_sheet(tmp_path / "ok.xlsx", rows))
    assert not report.errors
    check = self_check(ledger.list(2026), 2026, golden.UNTIL, load_obligations(), ledger_rules(), has_committee=False)
    assert check.findings == []
    with_committee = self_check(ledger.list(2026), 2026, golden.UNTIL, load_obligations(), ledger_rules())
    assert [(f.duty, f.kind) for f in with_committee.findings] == [("支委会", "missing")]
    assert len(with_committee.findings[0].months) == 11


def test_quorum_rules_by_meeting_type_and_the_version_of_the_xize(db):
    ledger = Ledger(db)
    # 支委会 of 5 with 2 present: fewer than half
    ledger.add(type="支委会", date="2026-02-08", expected=5, present=2)
    # exactly half at an ordinary 党员大会 vote is "半数以上"; 赞成 10 of 20 is not "超过半数"
    ledger.add(type="支部党员大会", date="2026-03-18", expected=20, present=10, voting=20, yes=10)
    # 接收预备党员: 实到 must exceed half — 10 of 20 is not enough; before 2026-05-11 the 2014 细则 applies
    ledger.add(type="接收预备党员的支部党员大会", date="2026-04-10", expected=20, present=10, voting=20, yes=10)
    ledger.add(type="接收预备党员", date="2026-06-10", expected=20, present=10, voting=20, yes=10)
    check = self_check(ledger.list(2026), 2026, date(2026, 6, 30), load_obligations(), ledger_rules())
    quorum = [(f.since, f.rule, f.basis) for f in check.findings if f.kind == "quorum"]
    assert quorum == [
        ("2026-02-08", "zhiweihui_attendance", "《中国共产党支部工作条例（试行）》第十二条"),
        ("2026-03-18", "dahui_vote_pass", "《中国共产党支部工作条例（试行）》第十一条"),
        ("2026-04-10", "jieshou_attendance", "《中国共产党发展党员工作细则（2014年版）》第二十条"),
        ("2026-06-10", "jieshou_attendance", "《中国共产党发展党员工作细则》第十九条"),
    ]


# --------------------------------------------------------------------------- golden: four candidates

def _candidates_sheet(path: Path) -> Path:
    rules = development_rules()
    header = ["姓名"] + [m.name for m in rules.milestones] + ["集中培训天数"]
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for c in golden.CANDIDATES:
        row = [c["name"]] + [c.get(m.key) for m in rules.milestones] + [c.get("training_days")]
        ws.append(row)
    wb.save(path)
    return path


def test_golden_candidates_flags_exactly_the_three_with_their_articles(db, env, tmp_path, capsys):
    code, out, _ = run(capsys, "candidates", "import", str(_candidates_sheet(tmp_path / "发展党员.xlsx")))
    assert code == 0, out
    code, out, _ = run(capsys, "candidates", "check", "--as-of", golden.AS_OF.isoformat(), "--json")
    assert code == 0
    result = {c["name"]: c for c in json.loads(out)["candidates"]}
    assert set(result) == {c["name"] for c in golden.CANDIDATES}
    flagged = {name for name, c in result.items() if c["findings"]}
    assert flagged == set(golden.CANDIDATE_FINDINGS)
    for name, (rule_id, basis) in golden.CANDIDATE_FINDINGS.items():
        [finding] = result[name]["findings"]
        assert (finding["id"], finding["basis"]) == (rule_id, basis), finding
        assert finding["rule"] and finding["detail"] and finding["fix"]
    assert "42 天" in result["张明"]["findings"][0]["detail"]
    assert "10 个月" in result["李华"]["findings"][0]["detail"]
    assert "11 个月" in result["王芳"]["findings"][0]["detail"]
    assert result["王芳"]["findings"][0]["version"] == "2014年版"
    clean = result["赵强"]
    assert (clean["next"][0]["step"], clean["next"][0]["due"]) == golden.CLEAN_NEXT
    assert clean["next"][1] == {"step": "确定发展对象", "due": None, "earliest": "2027-07-10",
                                "basis": "《中国共产党发展党员工作细则》第十三条", "overdue": False}
    assert result["王芳"]["next"][0]["step"] == "转正审批" and result["王芳"]["next"][0]["due"] == "2026-11-01"


def test_candidate_time_limits_overdue_steps_and_versions(db):
    cands = Candidates(db)
    # 预审 under the 2014 细则 (no one-month limit then), meeting two months later: nothing to report
    cands.add({"name": "甲", "applied": "2024-01-02", "talked": "2024-01-20", "activist": "2024-02-01",
               "review": "2024-08-01、2025-01-20", "target": "2025-02-10", "political_review": "2025-03-01",
               "training": "2025-03-10", "training_hours": 24, "pre_review": "2026-03-01",
               "branch_meeting": "2026-05-20", "committee_talk": "2026-06-10", "approved": "2026-07-01",
               "oath": "2026-07-20"})
    # the same gap under the 2026 细则: 第十九条; training too short (in 2025: the 2014 第十七条)
    cands.add({"name": "乙", "applied": "2024-01-02", "talked": "2024-01-20", "activist": "2024-02-01",
               "review": "2024-08-01、2025-01-20", "target": "2025-02-10", "political_review": "2025-03-01",
               "training": "2025-03-10", "training_days": 2, "training_hours": 16, "pre_review": "2026-06-01",
               "branch_meeting": "2026-08-05"})
    cands.add({"name": "丙", "applied": "2026-06-01", "talked": "2026-06-10", "activist": "2026-05-20"})  # out of order
    # no 谈话 three months after the application: overdue
    cands.add({"name": "丁", "applied": "2026-06-01"})
    result = {c.name: c for c in cands.check(date(2026, 9, 1))}
    assert result["甲"].findings == []
    assert {f.id for f in result["乙"].findings} == {"meeting_within_month_of_prereview", "training_length"}
    assert {f.basis for f in result["乙"].findings} == {"《中国共产党发展党员工作细则》第十九条",
                                                        "《中国共产党发展党员工作细则（2014年版）》第十七条"}
    assert [f.kind for f in result["丙"].findings] == ["order"]
    [late] = result["丁"].findings
    assert (late.kind, late.id, late.since) == ("overdue", "talk_within_month", "2026-07-01")
    assert result["丁"].next[0].overdue and result["丁"].next[0].step == "谈话"
    # 延长预备期: six months later the probation ends, and the extension must be 6–12 months
    cands.add({"name": "己", "branch_meeting": "2025-06-10", "committee_talk": "2025-06-20", "approved": "2025-07-01",
               "oath": "2025-07-01", "extension": "2026-06-15", "extension_months": 6})
    cands.add({"name": "庚", "branch_meeting": "2025-06-10", "committee_talk": "2025-06-20", "approved": "2025-07-01",
               "oath": "2025-07-01", "extension": "2026-06-15", "extension_months": 18})
    result = {c.name: c for c in cands.check(date(2026, 9, 1))}
    assert result["己"].findings == []
    assert [(n.step, n.due) for n in result["己"].next] == [("转正申请", None), ("转正讨论", date(2026, 12, 10))]
    assert [f.id for f in result["庚"].findings] == ["extension_length"]
    assert result["庚"].findings[0].basis == "《中国共产党发展党员工作细则》第三十一条"
    # 审批 past three months but within six: a special case is possible, so amber; past six: red
    cands.add({"name": "戊", "branch_meeting": "2026-04-20"})
    late = {c.name: c for c in cands.check(date(2026, 9, 1))}["戊"].findings
    assert [(f.id, f.severity) for f in late] == [("approval_within_three_months", "amber")]
    late = {c.name: c for c in cands.check(date(2026, 11, 1))}["戊"].findings
    assert [(f.id, f.severity) for f in late] == [("approval_within_three_months", "red")]


# --------------------------------------------------------------------------- golden: a malformed sheet

def test_golden_malformed_sheet_reports_rows_5_and_9_and_imports_the_rest(db, env, tmp_path, capsys):
    sheet = golden.write_sheet(tmp_path / "有误.xlsx", golden.malformed_rows())
    code, out, _ = run(capsys, "ledger", "import", str(sheet))
    assert code == 1  # some rows were refused
    assert "导入 9 条" in out and "2 行有误未导入" in out
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("第")]
    assert [line.split("：")[0] for line in lines] == ["第5行", "第9行"]
    assert "日期" in lines[0] and "茶话会" in lines[1]
    code, out, _ = run(capsys, "ledger", "list", "--json")
    listed = json.loads(out)["activities"]
    assert len(listed) == 9
    good = [r for i, r in enumerate(golden.malformed_rows(), start=2) if i not in (5, 9)]
    assert sorted((a["type"], a["topic"]) for a in listed) == sorted((r[0], r[7]) for r in good)
    assert not any(a["topic"] in ("3月支委会", "迎新茶话会") for a in listed)
    # every imported row is whole: its numbers came along
    row8 = next(a for a in listed if a["topic"] == "一季度党员大会")
    assert (row8["date"], row8["expected"], row8["present"], row8["leave"]) == ("2026-03-20", 20, 17, 3)
    # importing the same sheet again adds nothing
    code, out, _ = run(capsys, "ledger", "import", str(sheet))
    assert "导入 0 条，9 条已在台账中" in out


def test_nothing_is_half_written_when_the_database_fails_mid_import(db, tmp_path):
    ledger = Ledger(db)
    sheet = golden.write_sheet(tmp_path / "year.xlsx", golden.year_rows())

    def fail(session, flush_context, instances):
        if len(session.new) > 10:
            raise RuntimeError("disk full")

    event.listen(Session, "before_flush", fail)
    try:
        with pytest.raises(RuntimeError):
            ledger.import_file(sheet)
    finally:
        event.remove(Session, "before_flush", fail)
    assert ledger.list() == []
    assert ledger.import_file(sheet).added == len(golden.year_rows())


def test_a_sheet_without_the_header_is_refused_by_name(db, tmp_path):
    path = golden.write_sheet(tmp_path / "x.xlsx", [["a", "b"]], header=["名称", "时间点"])
    with pytest.raises(InputError) as exc:
        Ledger(db).import_file(path)
    assert "表头" in str(exc.value) and "类型" in str(exc.value)


# --------------------------------------------------------------------------- ledger commands

def test_ledger_add_list_remove_export_and_csv_round_trip(db, env, tmp_path, capsys):
    minutes = tmp_path / "记录.docx"
    minutes.write_bytes(b"PK\x03\x04 not really a docx, but kept as it is")
    code, out, _ = run(capsys, "ledger", "add", "--type", "支委会", "--date", "2026-03-10", "--expected", "9",
                       "--present", "7", "--leave", "1", "--topic", "研究发展党员", "--file", str(minutes))
    assert code == 0 and "附件" in out
    code, _, err = run(capsys, "ledger", "add", "--type", "支委会", "--date", "2026-03-10", "--expected", "5",
                       "--present", "7")
    assert code == 2 and "实到人数" in err and "--present" in err
    code, _, err = run(capsys, "ledger", "add", "--type", "联欢会", "--date", "2026-03-10")
    assert code == 2 and "联欢会" in err
    code, out, _ = run(capsys, "ledger", "list", "--year", "2026", "--json")
    [rec] = json.loads(out)["activities"]
    assert (rec["type"], rec["expected"], rec["present"], rec["leave"], rec["file_name"]) == ("支委会", 9, 7, 1, "记录.docx")
    assert Ledger(db).attachment(rec["id"]) == ("记录.docx", minutes.read_bytes())
    for suffix in (".xlsx", ".csv"):
        out_file = tmp_path / f"export{suffix}"
        assert run(capsys, "ledger", "export", "--out", str(out_file))[0] == 0
        again = Ledger(db)
        report = again.import_file(out_file)
        assert (report.added, report.skipped, report.errors) == (0, 1, [])
    assert load_workbook(tmp_path / "export.xlsx").active["A1"].value == "类型"
    code, out, _ = run(capsys, "ledger", "remove", str(rec["id"]))
    assert code == 0
    assert Ledger(db).list() == []
    code, _, err = run(capsys, "ledger", "remove", str(rec["id"]))
    assert code == 2 and "没有编号" in err


def test_candidates_add_with_steps_by_name_then_export(db, env, tmp_path, capsys):
    code, out, _ = run(capsys, "candidates", "add", "陈静", "--set", "递交入党申请书=2026-06-01",
                       "--set", "谈话=2026年6月15日")
    assert code == 0
    code, _, err = run(capsys, "candidates", "add", "陈静", "--set", "入党考试=2026-06-01")
    assert code == 2 and "入党考试" in err
    code, out, _ = run(capsys, "candidates", "list", "--json")
    [c] = json.loads(out)["candidates"]
    assert c["milestones"] == {"递交入党申请书": ["2026-06-01"], "谈话": ["2026-06-15"]}
    out_file = tmp_path / "c.xlsx"
    assert run(capsys, "candidates", "export", "--out", str(out_file))[0] == 0
    ws = load_workbook(out_file).active
    assert ws["A1"].value == "姓名" and ws["A2"].value == "陈静"
    assert Candidates(db).import_file(out_file).added == 1  # the export reads back


# --------------------------------------------------------------------------- for the planner

def test_duty_status_gives_done_dates_and_overdue_periods(db, tmp_path):
    ledger = Ledger(db)
    ledger.import_file(golden.write_sheet(tmp_path / "y.xlsx", golden.year_rows()))
    status = {s.duty_id: s for s in duty_status(ledger.list(), load_obligations(), date(2026, 7, 1),
                                                 date(2026, 12, 31), golden.UNTIL, ledger_rules())}
    zwh = status["zhiweihui"]
    assert zwh.done == [date(2026, 9, 8)]
    assert [p.key for p in zwh.overdue] == golden.MISSING_MONTHS
    assert [p.status for p in zwh.periods if p.key == "2026-12"] == ["pending"]
    assert status["zuzhi_shenghuohui"].done == [date(2026, 11, 20)]
    assert status["zuzhi_shenghuohui"].periods[0].status == "done"
    # the 党员大会 that received 预备党员 counts as a 支部党员大会 too; no committee → no 支委会 duty
    no_committee = duty_status([], load_obligations(), date(2026, 1, 1), date(2026, 3, 31), date(2026, 2, 1),
                               ledger_rules(), has_committee=False)
    assert "zhiweihui" not in {s.duty_id for s in no_committee}
    assert {p.status for s in no_committee if s.duty_id == "zhuti_dangri" for p in s.periods} == {"overdue", "pending"}


def test_candidates_sheet_with_bad_rows_imports_the_good_ones(db, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["发展党员台账"])                                          # row 1: a title above the header
    ws.append(["姓名", "递交入党申请书", "谈话", "半年考察", "集中培训学时"])  # row 2
    ws.append(["甲", date(2026, 1, 5), "2026-01-20", None, None])         # row 3
    ws.append(["乙", "2026-01-05", "2026-13-01", None, None])             # row 4: no 13th month
    ws.append([None, "2026-01-05", None, None, None])                    # row 5: no name
    ws.append(["丙", "2025-01-05", "2025-01-20", "2025-08-01、2026-01-10", "二十"])  # row 6: hours not a number
    ws.append(["丁", "2025-01-05", "2025-01-20", "2025-08-01、2026-01-10", 24])    # row 7
    wb.save(tmp_path / "c.xlsx")
    cands = Candidates(db)
    report = cands.import_file(tmp_path / "c.xlsx")
    assert [n for n, _ in report.errors] == [4, 5, 6] and report.added == 2
    assert "谈话" in report.errors[0][1] and "姓名" in report.errors[1][1] and "学时" in report.errors[2][1]
    by_name = {c.name: c for c in cands.list()}
    assert set(by_name) == {"甲", "丁"}
    assert by_name["丁"].milestones["review"] == (date(2025, 8, 1), date(2026, 1, 10))
    assert by_name["丁"].training_hours == 24
    # a second import of the same sheet merges: nothing doubles
    cands.import_file(tmp_path / "c.xlsx")
    assert len(cands.list()) == 2 and by_name["丁"].milestones == {c.name: c for c in cands.list()}["丁"].milestones
