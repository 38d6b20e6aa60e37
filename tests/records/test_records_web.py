"""The 台账与自查 tab's handlers, in-process (no browser): the same golden data as the CLI tests."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

import golden
from assistant.errors import InputError
from assistant.records.candidates import Candidates
from assistant.web.handlers import records


def test_tab_handlers_import_check_chart_and_downloads(app, tmp_path: Path):
    sheet = golden.write_sheet(tmp_path / "year.xlsx", golden.year_rows())
    summary, errors, rows = records.import_sheet(app, str(sheet), 2026)
    assert errors == [] and f"导入 {len(golden.year_rows())} 条" in summary
    assert len(rows) == len(golden.year_rows()) and rows[0][1] == "2026-01-08"

    out = tmp_path / "out"
    out.mkdir()
    html, chart, counts, docx, xlsx = records.self_check(app, out, 2026, "2026-12-01", "机关", True)
    # findings first: red before amber, each with its article
    assert html.index("【需整改】") < html.index("【需关注】")
    assert html.count('class="finding') == len(golden.YEAR_FINDINGS)
    for _, _, basis in golden.YEAR_FINDINGS:
        assert basis in html
    # the chart: one row per (month, type)
    assert {"月份": "2026-09", "类型": "支委会", "次数": 1} in chart
    assert not any(r["月份"] == "2026-07" and r["类型"] == "支委会" for r in chart)
    assert ["支委会", 3, 3, 1, 0, 7] in counts
    assert Path(docx).suffix == ".docx" and Path(xlsx).suffix == ".xlsx"
    assert load_workbook(xlsx).sheetnames == ["问题", "统计"]
    text = "\n".join(p.text for p in Document(docx).paragraphs)
    assert "发现的问题" in text and "已开展的工作" in text

    # without a 支委会, nothing about it
    html, *_ = records.self_check(app, out, 2026, "2026-12-01", "机关", False)
    assert "支委会" not in html.split("年内尚待完成")[0]


def test_tab_handlers_form_add_remove_and_refused_input(app, tmp_path: Path):
    msg, rows = records.add_activity(app, "支委会", "2026-03-10", 5.0, 4.0, 1.0, None, None, "研究发展党员", "王书记",
                                     None, 2026)
    assert "已记入台账" in msg and rows[0][2:6] == ["支委会", 5, 4, 1]
    with pytest.raises(InputError) as exc:
        records.add_activity(app, "支委会", "2026-03-10", 5, 7)
    assert "实到人数" in str(exc.value)
    with pytest.raises(InputError):
        records.add_activity(app, "<b>派对</b>", "2026-03-10")
    msg, rows = records.remove_activity(app, rows[0][0], 2026)
    assert "已删除" in msg and rows == []
    bad = golden.write_sheet(tmp_path / "bad.xlsx", golden.malformed_rows())
    summary, errors, rows = records.import_sheet(app, str(bad), 2026)
    assert [n for n, _ in errors] == [5, 9] and len(rows) == 9
    with pytest.raises(InputError):
        records.import_sheet(app, str(tmp_path / "x.docx"))


def test_candidates_table_shows_next_step_and_overdue_in_red(app):
    cands = Candidates(app.db)
    for c in golden.CANDIDATES:
        cands.add(c)
    cands.add({"name": "<script>x</script>", "applied": "2026-06-01"})  # no 谈话 for three months: overdue
    html, rows = records.candidates_html(app, golden.AS_OF.isoformat())
    by_name = {r[0]: r for r in rows}
    assert by_name["赵强"][2:4] == ["半年考察", "不晚于 2027-01-10"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    late_row = next(part for part in html.split("<tr") if "&lt;script&gt;" in part)
    assert "color:#9b1c1c" in late_row and "已逾期" in late_row
    clean_row = next(part for part in html.split("<tr") if "赵强" in part)
    assert "color:#9b1c1c" not in clean_row
