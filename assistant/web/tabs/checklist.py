"""工作清单 tab: year/period/branch → table → .xlsx/.ics; the /checklist API."""
from __future__ import annotations

from datetime import date

import gradio as gr

from ...plans.obligations import BRANCH_TYPES
from ..handlers import plans
from . import Page, guarded


def build(page: Page) -> None:
    with gr.Tab("工作清单", id="checklist"):
        with gr.Row():
            c_year = gr.Number(label="年份", value=date.today().year, precision=0, min_width=120)
            c_period = gr.Dropdown(list(plans.PERIODS), value="全年", label="期间", min_width=120, allow_custom_value=True)
            c_branch = gr.Dropdown(list(BRANCH_TYPES), value="机关", label="支部类型", min_width=120,
                                   allow_custom_value=True)
            c_members = gr.Number(label="党员人数（0 或空表示不填）", value=None, precision=0, min_width=120)
        c_go = gr.Button("生成清单", variant="primary", elem_id="make-checklist")
        c_summary = gr.Markdown(label="清单概要")
        with gr.Row():
            c_xlsx = gr.File(label="下载 Excel（.xlsx）", interactive=False, min_width=160)
            c_ics = gr.File(label="下载日历（.ics）", interactive=False, min_width=160)
        c_table = gr.Dataframe(headers=["日期", "事项", "负责人", "合格标准", "依据"], datatype="str",
                               interactive=False, wrap=True, label="清单", column_count=5)
    page.components["checklist_year"] = c_year

    def checklist(year: float, period: str = "全年", branch_type: str = "机关",
                  members: float | None = None) -> tuple[str, list[list], str, str]:
        return plans.checklist(page.app, page.outputs.folder(), year, period, branch_type, members)

    c_go.click(guarded(checklist), [c_year, c_period, c_branch, c_members], [c_summary, c_table, c_xlsx, c_ics],
               api_name="checklist", concurrency_id="documents", concurrency_limit=4)
