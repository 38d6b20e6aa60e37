"""Checklists: counts per year, quarter placement, prep dates, role view, 自查 sheet and the writers."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from assistant.errors import InputError
from assistant.plans.calendar_export import CalendarEntry, alarm_trigger, build_calendar, stable_uid
from assistant.plans.checklist import (
    ROLES,
    TICK,
    build_checklist,
    calendar_entries,
    to_markdown,
    write_checklist,
)
from assistant.plans.obligations import duty


@pytest.fixture(scope="module")
def year_2027():
    return build_checklist(2027, branch_type="机关", members=23)


def test_yearly_counts_follow_the_rules(year_2027):
    c = year_2027.counts()
    assert c["zhibu_dangyuan_dahui"] == 4
    assert c["zhiweihui"] == 12
    assert c["dangxiaozu_hui"] == 12
    assert c["zhuti_dangri"] == 12
    assert c["dangfei_shoujiao"] == 12
    assert c["zuzhi_shenghuohui"] >= 1
    assert c["minzhu_pingyi_dangyuan"] == 1
    assert c["jiji_fenzi_kaocha"] == 2
    # 党课: the rules require it 按期 without a number; the checklist carries the yearly floor
    assert c["dangke"] >= duty("dangke").times
    assert c["tanxin_tanhua"] == 1


def test_every_member_gets_a_talk(year_2027):
    (talk,) = year_2027.items_for("tanxin_tanhua")
    assert talk.quantity == 23
    assert "23名党员" in talk.name
    assert talk.hours == pytest.approx(23 * duty("tanxin_tanhua").effort_hours)
    no_members = build_checklist(2027)
    assert no_members.items_for("tanxin_tanhua")[0].quantity == 1


def test_organisational_life_meeting_in_q4(year_2027):
    for item in year_2027.items_for("zuzhi_shenghuohui"):
        assert item.quarter == 4
        assert date(2027, 10, 1) <= item.due <= date(2027, 12, 31)
    q4 = build_checklist(2027, quarter=4)
    assert q4.counts()["zuzhi_shenghuohui"] == 1
    for q in (1, 2, 3):
        assert "zuzhi_shenghuohui" not in build_checklist(2027, quarter=q).counts()


def test_quarter_and_month_filters():
    q1 = build_checklist(2027, quarter=1)
    assert (q1.start, q1.end) == (date(2027, 1, 1), date(2027, 3, 31))
    assert q1.counts()["zhiweihui"] == 3 and q1.counts()["zhibu_dangyuan_dahui"] == 1
    feb = build_checklist(2028, month=2)
    assert (feb.start, feb.end) == (date(2028, 2, 1), date(2028, 2, 29))
    assert all(feb.start <= i.due <= feb.end for i in feb.items)
    assert feb.counts()["zhiweihui"] == 1 and "zhibu_dangyuan_dahui" not in feb.counts()


def test_items_sorted_and_complete(year_2027):
    dues = [i.due for i in year_2027.items]
    assert dues == sorted(dues)
    for i in year_2027.items:
        assert i.owner and i.standard
        assert i.basis.startswith("《") and "第" in i.basis and "条" in i.basis
    zwh = year_2027.items_for("zhiweihui")[0]
    assert "半数以上委员" in zwh.quorum


def test_prep_dates_across_year_end(year_2027):
    (shuzhi,) = year_2027.items_for("shuji_shuzhi")
    assert shuzhi.due == date(2027, 1, 20)
    earliest = shuzhi.prep[0]
    assert earliest.date == date(2026, 12, 21) and earliest.offset_days == 30
    for p in shuzhi.prep:
        assert p.date == shuzhi.due - timedelta(days=p.offset_days)
    # next year's 述职 prep falls inside December 2027: listed as upcoming work
    upcoming = [(p.date, it.due) for p, it in year_2027.upcoming]
    assert (date(2027, 12, 21), date(2028, 1, 20)) in upcoming


def test_month_checklist_lists_prep_for_later_duties():
    nov = build_checklist(2027, month=11)
    names = {(p.name, it.duty_id) for p, it in nov.upcoming}
    assert ("开展会前谈心谈话", "zuzhi_shenghuohui") not in names  # 12-01: outside November
    assert any(it.duty_id == "zuzhi_shenghuohui" and p.date == date(2027, 11, 15) for p, it in nov.upcoming)


def test_branch_type_filters_duties():
    assert "jiguan_dangyuan_ganbu_dahui" in build_checklist(2027, branch_type="机关").counts()
    assert "jiguan_dangyuan_ganbu_dahui" not in build_checklist(2027, branch_type="企业").counts()


def test_event_duties_listed_with_time_limits(year_2027):
    events = {e.duty_id: e for e in year_2027.events}
    assert {"huanjie_xuanju", "jieshou_yubei_dangyuan", "yubei_dangyuan_zhuanzheng"} <= set(events)
    assert "1年" in events["yubei_dangyuan_zhuanzheng"].timing
    assert events["jieshou_yubei_dangyuan"].quorum


def test_role_view(year_2027):
    view = year_2027.by_role()
    assert list(view)[:4] == list(ROLES)
    total = sum(1 + len(i.prep) for i in year_2027.items) + len(year_2027.upcoming)
    assert sum(len(v) for v in view.values()) == total
    for role, tasks in view.items():
        assert all(t.role == role for t in tasks)
        assert [t.date for t in tasks] == sorted(t.date for t in tasks)
    assert any(t.kind == "事项" and t.duty_name == "支部委员会会议" for t in view["书记"])
    assert any(t.duty_name == "党费收缴" for t in view["组织委员"])
    assert any(t.duty_name == "主题党日" for t in view["宣传委员"])
    assert view["纪检委员"], "纪检委员 has preparation work (征求意见, 测评监督 …)"


def test_self_check_sheet_by_quarter(year_2027):
    sheet = year_2027.self_check()
    assert list(sheet) == [1, 2, 3, 4]
    assert sum(len(v) for v in sheet.values()) == len(year_2027.items)
    assert all(i.quarter == q for q, items in sheet.items() for i in items)
    assert list(build_checklist(2027, quarter=3).self_check()) == [3]


@pytest.mark.parametrize("kwargs, field", [
    (dict(year=2027, quarter=5), "quarter"),
    (dict(year=2027, month=13), "month"),
    (dict(year=2027, quarter=1, month=2), "quarter"),
    (dict(year=2027, branch_type="农村"), "branch_type"),
    (dict(year=2027, members=0), "members"),
    (dict(year="2027"), "year"),
    (dict(year=1800), "year"),
])
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(InputError) as info:
        build_checklist(**kwargs)
    assert info.value.field == field
    assert field in str(info.value)


# --------------------------------------------------------------------------- writers

def test_markdown(year_2027, tmp_path):
    md = to_markdown(year_2027)
    assert md.startswith("# 2027年党支部工作清单")
    for heading in ("## 工作清单", "## 按角色分工", "### 书记", "## 季度自查", "### 2027年第4季度", "## 频次统计"):
        assert heading in md
    assert TICK in md and "《中国共产党支部工作条例（试行）》第十二条" in md
    path = write_checklist(year_2027, tmp_path / "c.md")
    assert path.read_text(encoding="utf-8") == md


def test_xlsx_sheets_include_the_event_duties(year_2027, tmp_path):
    from openpyxl import load_workbook

    path = write_checklist(year_2027, tmp_path / "c.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["工作清单", "按角色", "季度自查", "遇事即办"]
    events = wb["遇事即办"]
    assert [c.value for c in events[1]][:3] == ["事项", "触发情形", "责任人"]
    rows = list(events.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(year_2027.events) >= 6
    by_name = {r[0]: r for r in rows}
    assert "1年" in by_name["预备党员转正（支部党员大会）"][3] and by_name["支部委员会换届选举"][7].startswith("《")
    main = wb["工作清单"]
    header = [c.value for c in main[1]]
    assert header[:4] == ["序号", "到期日", "事项", "责任人"] and "合格标准" in header and "依据" in header
    assert main.max_row == len(year_2027.items) + 1
    names = [row[2] for row in main.iter_rows(min_row=2, values_only=True)]
    assert names.count("支部党员大会") == 4 and names.count("支部委员会会议") == 12
    roles = {row[0] for row in wb["按角色"].iter_rows(min_row=2, values_only=True)}
    assert set(ROLES) <= roles
    check = wb["季度自查"]
    assert [c.value for c in check[1]][:2] == ["季度", "完成（✓）"]
    ticks = [row[1] for row in check.iter_rows(min_row=2, values_only=True)]
    assert ticks and all(t == TICK for t in ticks)
    quarters = {row[0] for row in check.iter_rows(min_row=2, values_only=True)}
    assert quarters == {"第1季度", "第2季度", "第3季度", "第4季度"}


def test_ics_parses_with_alarms_ahead_of_prep(year_2027, tmp_path):
    from icalendar import Calendar

    path = write_checklist(year_2027, tmp_path / "c.ics")
    cal = Calendar.from_ical(path.read_bytes())
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == len(year_2027.items)
    by_summary = {}
    for ev in events:
        alarms = ev.walk("VALARM")
        assert len(alarms) == 1
        start = ev.decoded("dtstart")
        assert isinstance(start, date)
        by_summary.setdefault(str(ev.get("summary")), []).append((start, alarms[0].decoded("trigger")))
    start, trigger = by_summary["组织生活会（书记）"][0]
    assert start == date(2027, 12, 15)
    # 30 days of preparation: the reminder fires the day before the earliest step, at 09:00
    assert trigger == -timedelta(days=31) + timedelta(hours=9)
    uids = [str(ev.get("uid")) for ev in events]
    assert len(uids) == len(set(uids))


def test_ics_uids_are_stable(year_2027):
    """An event keeps its UID whatever the file it comes in (the year's, a quarter's, with or
    without a head count), so importing an updated file replaces events instead of doubling them."""
    year = {e.key: stable_uid(e.key) for e in calendar_entries(year_2027)}
    assert len(set(year.values())) == len(year)
    q4 = [e.key for e in calendar_entries(build_checklist(2027, quarter=4, branch_type="机关"))]
    assert q4 and set(q4) <= set(year)
    assert {stable_uid(k) for k in q4} <= set(year.values())


def test_calendar_export_basics():
    from icalendar import Calendar

    assert alarm_trigger(0) == -timedelta(hours=15)
    with pytest.raises(ValueError):
        alarm_trigger(-1)
    cal = build_calendar([CalendarEntry("k1", "测试", date(2027, 1, 1), "说明", 3)], "名")
    parsed = Calendar.from_ical(cal.to_ical())
    (ev,) = parsed.walk("VEVENT")
    assert ev.decoded("dtend") == date(2027, 1, 2)
    assert str(parsed.get("x-wr-calname")) == "名"


def test_docx_writer(year_2027, tmp_path):
    from docx import Document
    from docx.oxml.ns import qn

    path = write_checklist(build_checklist(2027, quarter=4, members=23), tmp_path / "c.docx")
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "2027年第4季度党支部工作清单" in text
    assert "一、工作清单" in text
    assert len(doc.tables) >= 3
    cells = " ".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "组织生活会" in cells and TICK in cells
    runs = [r for p in doc.paragraphs for r in p.runs if r.text.strip()]
    assert runs and all(r._element.rPr.rFonts.get(qn("w:eastAsia")) for r in runs)


def test_unknown_extension_is_refused(year_2027, tmp_path):
    with pytest.raises(InputError) as info:
        write_checklist(year_2027, tmp_path / "c.pdf")
    # the library names the field, never a command-line flag (the CLI adds "（--out）" itself)
    assert info.value.field == "out" and "输出文件" in str(info.value) and "--out" not in str(info.value)
    assert not (tmp_path / "c.pdf").exists()
