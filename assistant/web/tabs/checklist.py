"""工作清单 tab: year/period/branch → a table that wraps its text (one card per duty on a phone) →
.xlsx/.ics, for the saved branch profile. The /checklist API keeps returning the table rows.
A 党务工作者 or 管理员 (or the local user without login) sees each duty's status from the branch's
records; a 党员 gets the plain checklist (the records are not theirs to see)."""
from __future__ import annotations

from datetime import date

import gradio as gr

from ...plans.obligations import BRANCH_TYPES
from ..handlers import plans
from ...serve.accounts import MEMBER, WORKER, allows
from . import Page, guarded


def build(page: Page) -> None:
    with gr.Tab("工作清单", id="checklist") as tab:
        with gr.Row():
            c_year = gr.Number(label="年份", value=date.today().year, min_width=120)
            c_period = gr.Dropdown(list(plans.PERIODS), value="全年", label="期间", min_width=120, allow_custom_value=True)
            c_branch = gr.Dropdown(["按支部情况"] + list(BRANCH_TYPES), value="按支部情况", label="支部类型",
                                   min_width=120)
            c_members = gr.Number(label="党员人数（空表示按支部情况）", value=None, min_width=120)
        c_go = gr.Button("生成清单", variant="primary", elem_id="make-checklist")
        c_summary = gr.Markdown(label="清单概要", elem_id="checklist-summary")
        with gr.Row():
            c_xlsx = gr.File(label="下载 Excel（.xlsx，含遇事即办表）", interactive=False, min_width=160,
                             elem_id="checklist-xlsx")
            c_ics = gr.File(label="下载日历（.ics）", interactive=False, min_width=160)
        c_table = gr.HTML("", elem_id="checklist-table", padding=False)
        # the /checklist API as before (rows, files to download), on components the page does not show
        with gr.Row(visible=False):
            a_go = gr.Button("checklist-api")
            a_branch = gr.Dropdown(list(BRANCH_TYPES), value="机关", allow_custom_value=True)
            a_summary = gr.Markdown()
            a_table = gr.Dataframe(headers=["日期", "事项", "负责人", "合格标准", "依据"], datatype="str", interactive=False,
                                   column_count=5)
            a_xlsx = gr.File(interactive=False)
            a_ics = gr.File(interactive=False)
    page.components["checklist_year"] = c_year
    page.tabs["checklist"] = (tab, MEMBER)

    def branch_of(value: str | None) -> str | None:
        return None if value in (None, "", "按支部情况") else value

    def sees_records(request: gr.Request | None) -> bool:
        """The records (what was done, when) only for those allowed to manage them (党务工作者 and up)."""
        return allows(page.user(request)[1], WORKER)

    def checklist_page(year: float, period: str = "全年", branch_type: str = "按支部情况",
                       members: float | None = None, request: gr.Request = None) -> tuple[str, str, str, str]:
        return plans.checklist_page(page.app, page.outputs.folder(), year, period, branch_of(branch_type), members,
                                    records=sees_records(request))

    c_go.click(guarded(checklist_page, MEMBER), [c_year, c_period, c_branch, c_members], [c_summary, c_table, c_xlsx, c_ics],
               api_visibility="private", concurrency_id="documents", concurrency_limit=4)

    def checklist(year: float, period: str = "全年", branch_type: str = "机关",
                  members: float | None = None, request: gr.Request = None) -> tuple[str, list[list], str, str]:
        return plans.checklist(page.app, page.outputs.folder(), year, period, branch_of(branch_type), members,
                               records=sees_records(request))

    a_go.click(guarded(checklist, MEMBER), [c_year, c_period, a_branch, c_members], [a_summary, a_table, a_xlsx, a_ics],
               api_name="checklist", concurrency_id="documents", concurrency_limit=4)
