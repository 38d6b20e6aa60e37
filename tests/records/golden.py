"""The golden scenarios of issue 14, written as data: a year of records, four candidates, a
malformed sheet. The tests (SQLite and PostgreSQL), the README figures and the web-handler tests
all use these."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook

HEADER = ["类型", "日期", "应到", "实到", "请假", "有表决权", "赞成", "主题"]
YEAR, UNTIL = 2026, date(2026, 12, 1)


def year_rows() -> list[list]:
    """支委会 monthly Jan–Jun and once Jul–Nov; one 党员大会 voting with 实到 below half of 应到;
    the 组织生活会 with no 谈心谈话 before it; everything else on schedule."""
    rows: list[list] = []
    for m in range(1, 12):
        if m <= 6 or m == 9:
            rows.append(["支委会", date(YEAR, m, 8), 5, 5, 0, None, None, f"{m}月支委会：研究当月工作"])
        rows.append(["党小组会", date(YEAR, m, 18), 8, 7, 1, None, None, f"{m}月党小组学习"])
        rows.append(["主题党日", date(YEAR, m, 15), 20, 18, 2, None, None, f"{m}月主题党日"])
        rows.append(["党费收缴", date(YEAR, m, 25), None, None, None, None, None, f"{m}月党费"])
    rows += [
        ["支部党员大会", date(YEAR, 3, 18), 20, 17, 3, None, None, "一季度党员大会"],
        ["支部党员大会", date(YEAR, 6, 17), 20, 8, 2, 20, 8, "表决支部年度计划调整"],
        ["支部党员大会", date(YEAR, 9, 16), 20, 18, 2, 20, 17, "三季度党员大会：表决评先推荐"],
        ["书记述职", date(YEAR, 1, 20), 20, 19, 1, None, None, "书记述职"],
        ["机关党员干部大会", date(YEAR, 1, 28), 30, 28, 2, None, None, "单位主要负责人通报工作"],
        ["党课", date(YEAR, 6, 26), 20, 19, 1, None, None, "七一党课"],
        ["组织生活会", date(YEAR, 11, 20), 20, 19, 1, None, None, "年度组织生活会"],
        ["民主评议党员", date(YEAR, 11, 20), 20, 19, 1, None, None, "民主评议党员"],
        ["谈心谈话", date(YEAR, 11, 25), None, None, None, None, None, "会后谈心谈话"],
    ]
    return rows


#: what the self-check must report for year_rows(), and nothing else: (duty, kind, basis)
YEAR_FINDINGS = {
    ("支委会", "missing", "《中国共产党支部工作条例（试行）》第十二条"),
    ("支委会", "slipping", "《中国共产党支部工作条例（试行）》第十二条"),
    ("支部党员大会", "quorum", "《中国共产党支部工作条例（试行）》第十一条"),
    ("组织生活会", "order", "《中国共产党支部工作条例（试行）》第十七条"),
}
MISSING_MONTHS = ["2026-07", "2026-08", "2026-10", "2026-11"]


def write_sheet(path: Path, rows: list[list], header: list[str] = HEADER, title_row: str | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    if title_row:
        ws.append([title_row])
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def malformed_rows() -> list[list]:
    """Spreadsheet rows 2–12 under the header; row 5 has a bad date, row 9 an unknown type."""
    rows = [
        ["支委会", "2026-01-08", 5, 5, 0, None, None, "1月支委会"],         # row 2
        ["支委会", "2026-02-09", 5, 4, 1, None, None, "2月支委会"],         # row 3
        ["主题党日", "2026年2月15日", 20, 18, 2, None, None, "2月主题党日"],  # row 4
        ["支委会", "2026-02-30", 5, 5, 0, None, None, "3月支委会"],         # row 5: no such date
        ["党小组会", "2026/3/18", 8, 8, 0, None, None, "3月党小组会"],       # row 6
        ["党课", "2026-04-20", 20, 19, 1, None, None, "专题党课"],          # row 7
        ["支部党员大会", "2026-03-20", 20, 17, 3, None, None, "一季度党员大会"],  # row 8
        ["茶话会", "2026-04-22", 20, 15, 0, None, None, "迎新茶话会"],       # row 9: unknown type
        ["支委会", "2026-04-08", 5, 5, 0, None, None, "4月支委会"],         # row 10
        ["党费收缴", "2026-04-25", None, None, None, None, None, "4月党费"],  # row 11
        ["谈心谈话", "2026-05-06", None, None, None, None, None, "谈心谈话"],  # row 12
    ]
    return rows


AS_OF = date(2026, 9, 1)
CANDIDATES = [
    {"name": "张明", "applied": "2026-06-01", "talked": "2026-07-13"},
    {"name": "李华", "applied": "2025-03-01", "talked": "2025-03-20", "activist": "2025-09-01", "review": "2026-02-20",
     "publicity": "2026-06-22", "target": "2026-07-01"},
    {"name": "王芳", "applied": "2024-01-10", "talked": "2024-01-25", "activist": "2024-03-01",
     "review": "2024-09-01、2025-02-20", "target": "2025-03-10", "political_review": "2025-04-01",
     "training": "2025-04-10", "training_days": 3, "pre_review": "2025-08-01", "branch_meeting": "2025-09-01",
     "committee_talk": "2025-09-15", "approved": "2025-10-15", "oath": "2025-10-20",
     "probation_application": "2026-07-20", "probation_meeting": "2026-08-01"},
    {"name": "赵强", "applied": "2026-06-01", "talked": "2026-06-20", "activist": "2026-07-10", "contact": "2026-07-10"},
]
#: name → (rule id, basis) of its one finding; the clean one has none
CANDIDATE_FINDINGS = {
    "张明": ("talk_within_month", "《中国共产党发展党员工作细则》第七条"),
    "李华": ("activist_one_year", "《中国共产党发展党员工作细则》第十三条"),
    "王芳": ("probation_one_year", "《中国共产党发展党员工作细则（2014年版）》第三十二条"),
}
CLEAN_NEXT = ("半年考察", "2027-01-10")
