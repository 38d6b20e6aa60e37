"""台账与自查 tab: record an activity (form, or from filled minutes), upload the branch's sheet, the
list, the self-check for a chosen period (findings red/amber first, then counts as a bar chart by
month and type), downloads; the candidates with their next step and due date, overdue in red."""
from __future__ import annotations

from datetime import date

import gradio as gr
import pandas as pd

from ...plans.obligations import BRANCH_TYPES
from ..handlers import records
from ...serve.accounts import WORKER
from . import Page, guarded


def build(page: Page) -> None:
    app = page.app
    this_year = date.today().year
    with gr.Tab("台账与自查", id="records", visible=not page.login) as tab:
        with gr.Accordion("记一项活动", open=False):
            with gr.Row():
                r_type = gr.Dropdown(records.activity_types(app), value="支委会", label="类型", min_width=160,
                                     allow_custom_value=True, elem_id="rec-type")
                r_date = gr.Textbox(label="日期（如 2026-03-10）", value=date.today().isoformat(), min_width=140,
                                    elem_id="rec-date")
                r_topic = gr.Textbox(label="主题", value="", max_length=200, min_width=200)
                r_chair = gr.Textbox(label="主持人", value="", max_length=40, min_width=100)
            with gr.Row():
                r_expected = gr.Number(label="应到", value=None, min_width=80)
                r_present = gr.Number(label="实到", value=None, min_width=80)
                r_leave = gr.Number(label="请假", value=None, min_width=80)
                r_voting = gr.Number(label="有表决权（表决时填）", value=None, min_width=100)
                r_yes = gr.Number(label="赞成（表决时填）", value=None, min_width=100)
            r_file = gr.File(label="附件（会议记录，可空）", type="filepath", min_width=160)
            with gr.Row():
                r_add = gr.Button("记入台账", variant="primary", elem_id="rec-add")
                r_minutes = gr.Button("从填好的会议记录记入（选择上面的 .docx）", elem_id="rec-from-minutes")
        with gr.Accordion("导入支部的台账表格", open=False):
            gr.Markdown("表头需有 **类型、日期**，可有 应到、实到、请假、有表决权、赞成、主题、主持人。"
                        "有误的行按行号列出，其余行照常导入；同类型、同日期、同主题的视为已有，跳过。")
            r_sheet = gr.File(label="选择 .xlsx 或 .csv", file_types=list(records.SHEET_TYPES), type="filepath",
                              elem_id="rec-sheet")
            r_import = gr.Button("导入", elem_id="rec-import")
            r_errors = gr.Dataframe(headers=["行号", "问题"], datatype=["number", "str"], interactive=False,
                                    wrap=True, label="未导入的行", column_count=2)
        r_msg = gr.Markdown(elem_id="rec-message")
        with gr.Row():
            r_year = gr.Number(label="年份", value=this_year, min_width=100, elem_id="rec-year")
            r_until = gr.Textbox(label="自查截止日期（空为今天或年底）", value="", min_width=160, elem_id="rec-until")
            r_branch = gr.Dropdown(list(BRANCH_TYPES), value="机关", label="支部类型", min_width=100)
            r_committee = gr.Checkbox(value=True, label="设支部委员会")
            r_groups = gr.Checkbox(value=True, label="划分党小组")
        with gr.Row():
            r_check = gr.Button("开始自查", variant="primary", elem_id="rec-check")
            r_refresh = gr.Button("刷新列表")
            r_export = gr.Button("导出台账（.xlsx）")
        r_findings = gr.HTML(elem_id="rec-findings")
        r_chart = gr.BarPlot(pd.DataFrame({"月份": [], "类型": [], "次数": []}), x="月份", y="次数", color="类型",
                             title="各月开展情况", label="各月开展情况", elem_id="rec-chart")
        r_counts = gr.Dataframe(headers=records.COUNT_HEADERS, datatype=["str"] + ["number"] * 5, interactive=False,
                                label="按类型和季度统计", column_count=6)
        with gr.Row():
            r_docx = gr.File(label="自查报告（Word）", interactive=False, min_width=160)
            r_xlsx = gr.File(label="自查报告（Excel：问题、统计）", interactive=False, min_width=160)
            r_ledger_xlsx = gr.File(label="台账（Excel）", interactive=False, min_width=160)
        r_list = gr.Dataframe(headers=records.LIST_HEADERS, interactive=False, wrap=True, label="台账",
                              column_count=len(records.LIST_HEADERS), elem_id="rec-list")
        with gr.Row():
            r_remove_id = gr.Number(label="要删除的编号", value=None, min_width=120)
            r_remove = gr.Button("删除这一条", variant="stop", min_width=100)
        gr.Markdown("### 发展党员")
        with gr.Row():
            c_as_of = gr.Textbox(label="核对日期（空为今天）", value="", min_width=160)
            c_sheet = gr.File(label="导入发展党员表格（每人一行：姓名和各环节日期）", file_types=list(records.SHEET_TYPES),
                              type="filepath", min_width=200)
        with gr.Row():
            c_show = gr.Button("核对时限", elem_id="cand-check")
            c_import = gr.Button("导入表格")
        c_msg = gr.Markdown()
        c_table = gr.HTML(elem_id="cand-table")

    def chart(rows: list[dict]):
        return pd.DataFrame(rows or [], columns=["月份", "类型", "次数"])

    def add(type_, day, expected, present, leave, voting, yes, topic, chair, file, year):
        return records.add_activity(app, type_, day, expected, present, leave, voting, yes, topic, chair, file, year)

    def from_minutes(file, year):
        return records.add_from_minutes(app, file, year)

    def import_sheet(file, year):
        return records.import_sheet(app, file, year)

    def refresh(year):
        return records.ledger_rows(app, year)

    def remove(activity_id, year):
        return records.remove_activity(app, activity_id, year)

    def check(year, until, branch_type, committee, groups):
        html, rows, counts, docx, xlsx = records.self_check(app, page.outputs.folder(), year, until, branch_type,
                                                            committee, groups)
        return html, chart(rows), counts, docx, xlsx

    def export(year):
        return records.export_ledger(app, page.outputs.folder(), year)

    def show_candidates(as_of):
        return records.candidates_html(app, as_of)[0]

    def import_candidates(file, as_of):
        msg, errors, table, _ = records.import_candidates(app, file, as_of)
        if errors:
            msg += "\n\n" + "\n".join(f"- 第{n}行：{m}" for n, m in errors)
        return msg, table

    private = {"api_visibility": "private"}
    write = {"concurrency_id": "records_write", "concurrency_limit": 1}
    form = [r_type, r_date, r_expected, r_present, r_leave, r_voting, r_yes, r_topic, r_chair, r_file, r_year]
    r_add.click(guarded(add, WORKER), form, [r_msg, r_list], **write, **private)
    r_minutes.click(guarded(from_minutes, WORKER), [r_file, r_year], [r_msg, r_list], **write, **private)
    r_import.click(guarded(import_sheet, WORKER), [r_sheet, r_year], [r_msg, r_errors, r_list], **write, **private)
    r_refresh.click(guarded(refresh, WORKER), [r_year], [r_list], **private)
    r_remove.click(guarded(remove, WORKER), [r_remove_id, r_year], [r_msg, r_list], **write, **private)
    r_check.click(guarded(check, WORKER), [r_year, r_until, r_branch, r_committee, r_groups],
                  [r_findings, r_chart, r_counts, r_docx, r_xlsx], concurrency_id="documents", concurrency_limit=4,
                  **private)
    r_export.click(guarded(export, WORKER), [r_year], [r_ledger_xlsx], **private)
    c_show.click(guarded(show_candidates, WORKER), [c_as_of], [c_table], **private)
    c_import.click(guarded(import_candidates, WORKER), [c_sheet, c_as_of], [c_msg, c_table], **write, **private)
    page.components["records_refresh"] = (refresh, [r_year], [r_list])
    page.tabs["records"] = (tab, WORKER)
