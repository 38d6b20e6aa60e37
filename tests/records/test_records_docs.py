"""The documents of the records wing: the self-check report (公文 .docx with East Asian fonts set in
the XML, .xlsx with a findings and a counts sheet, .md), and the minutes template of a meeting plan
that, once filled in, becomes the ledger entry."""
from __future__ import annotations

import json
import zipfile
from datetime import date, timedelta
from pathlib import Path

from docx import Document
from openpyxl import load_workbook

import golden
from assistant.cli import main
from assistant.plans.gongwen import BODY_FONT, TITLE_FONT
from assistant.records.ledger import Ledger
from assistant.settings import SETTINGS

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def test_report_formats(db, env, tmp_path, capsys):
    Ledger(db).import_file(golden.write_sheet(tmp_path / "y.xlsx", golden.year_rows()))
    docx, xlsx, md = tmp_path / "自查.docx", tmp_path / "自查.xlsx", tmp_path / "自查.md"
    for out in (docx, xlsx, md):
        assert main(["self-check", "--year", "2026", "--until", "2026-12-01", "--branch", "XX党支部",
                     "--out", str(out)]) == 0
    capsys.readouterr()
    # Word: every run names its East Asian font (the fonts are not installed here: the XML is what counts)
    xml = zipfile.ZipFile(docx).read("word/document.xml").decode("utf-8")
    assert f'w:eastAsia="{TITLE_FONT}"' in xml and f'w:eastAsia="{BODY_FONT}"' in xml
    doc = Document(str(docx))
    runs = [r for p in doc.paragraphs for r in p.runs if r.text.strip()]
    runs += [r for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs
             if r.text.strip()]
    assert runs and all(r._element.rPr.rFonts.get(W + "eastAsia") for r in runs)
    assert doc.paragraphs[0].text == "XX党支部\n2026年度党支部工作自查报告"
    assert [p.text for p in doc.paragraphs[-2:]] == ["XX党支部", "2026年12月1日"]  # the 落款
    text = "\n".join(p.text for p in doc.paragraphs)
    for heading in ("一、基本情况", "二、发现的问题", "三、年内尚待完成的工作", "四、已开展的工作"):
        assert heading in text
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert any("7月、8月、10月、11月" in c for c in cells)
    assert any("《中国共产党支部工作条例（试行）》第十七条" in c for c in cells)
    section = doc.sections[0]
    assert round(section.top_margin.cm, 1) == 3.7 and round(section.left_margin.cm, 1) == 2.8
    # Excel: a sheet of findings, a sheet of counts
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["问题", "统计"]
    findings = list(wb["问题"].iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[4]) for r in findings} == {(d, b) for d, _, b in golden.YEAR_FINDINGS}
    counts = {r[0]: r[1:] for r in wb["统计"].iter_rows(min_row=2, values_only=True)}
    assert counts["支委会"] == (3, 3, 1, 0, 7) and counts["合计"][-1] == len(golden.year_rows())
    assert "## 二、发现的问题" in md.read_text(encoding="utf-8")


def test_minutes_template_filled_in_becomes_the_ledger_entry(db, env, tmp_path, capsys):
    day = (date.today() + timedelta(days=10)).isoformat()
    plan = tmp_path / "方案.docx"
    code = main(["meeting-plan", "--type", "支委会", "--branch", "XX党支部", "--date", day, "--members", "5",
                 "--out", str(plan), "--minutes"])
    out = capsys.readouterr().out
    assert code == 0 and "会议记录模板" in out
    minutes = tmp_path / "方案_会议记录.docx"
    assert minutes.is_file()
    doc = Document(str(minutes))
    assert doc.core_properties.keywords == "dangwu-minutes/1"
    fields = {row.cells[0].text: row for t in doc.tables for row in t.rows}
    assert fields["会议类型"].cells[1].text == "支委会" and fields["日期"].cells[1].text == day
    assert fields["应到人数"].cells[1].text == "5"
    for label in ("实到人数", "请假人数", "主持人", "应到会有表决权人数", "赞成人数"):
        assert label in fields
    # the secretary fills it in
    fields["实到人数"].cells[1].text = "4人"
    fields["请假人数"].cells[1].text = "1"
    fields["主持人"].cells[1].text = "王书记"
    filled = tmp_path / "填好的会议记录.docx"
    doc.save(str(filled))
    code = main(["ledger", "add", "--from-minutes", str(filled)])
    assert code == 0, capsys.readouterr()
    capsys.readouterr()
    main(["ledger", "list", "--json"])
    [rec] = json.loads(capsys.readouterr().out)["activities"]
    assert (rec["type"], rec["date"], rec["expected"], rec["present"], rec["leave"], rec["chair"], rec["source"]) == \
        ("支委会", day, 5, 4, 1, "王书记", "会议记录")
    assert rec["file_name"] == "填好的会议记录.docx"
    # a document that is not one of our templates is refused by name
    other = tmp_path / "other.docx"
    Document().save(str(other))
    assert main(["ledger", "add", "--from-minutes", str(other)]) == 2
    assert "会议类型" in capsys.readouterr().err


def test_the_database_setting_is_declared_once_and_documented():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    [setting] = [f for f in SETTINGS if f.metadata["env"] == "ASSISTANT_DB_URL"]
    assert setting.metadata["secret"] and setting.default is None
    assert "| `ASSISTANT_DB_URL` |" in readme
