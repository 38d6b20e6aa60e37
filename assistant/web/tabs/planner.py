"""任务规划 tab: editable task table + weekly hours → weekly plan → .md/.ics; the /plan_tasks API."""
from __future__ import annotations

from typing import Any

import gradio as gr

from ...plans.obligations import BRANCH_TYPES
from ..handlers import plans
from . import Page, guarded


def build(page: Page) -> None:
    with gr.Tab("任务规划", id="planner"):
        gr.Markdown("在表格中填写自己的任务（可增删行）。条规规定的支部工作会自动并入，按周排期；"
                    "放不下的任务会给出延后、拆分或交办的建议。")
        p_tasks = gr.Dataframe(value=plans.default_tasks(), headers=plans.TASK_HEADERS, datatype="str", type="array",
                               interactive=True, column_count=4, row_count=3,
                               label="我的任务（类型：刚性 / 重要 / 可延后，可空）", elem_id="tasks")
        with gr.Row():
            p_start = gr.Textbox(label="开始日期（如 2026-12-07）", value=plans.next_monday().isoformat(), min_width=140)
            p_weeks = gr.Number(label="周数", value=4, precision=0, min_width=100)
            p_hours = gr.Number(label="每周可用小时", value=4, min_width=100)
        with gr.Row():
            p_branch = gr.Dropdown(list(BRANCH_TYPES), value="机关", label="支部类型", min_width=120,
                                   allow_custom_value=True)
            p_members = gr.Number(label="党员人数（0 或空表示不填）", value=None, precision=0, min_width=120)
        p_go = gr.Button("生成规划", variant="primary", elem_id="make-tasks")
        with gr.Row():
            p_md = gr.File(label="下载 Markdown（.md）", interactive=False, min_width=160)
            p_ics = gr.File(label="下载日历（.ics）", interactive=False, min_width=160)
        p_plan = gr.Markdown(label="规划结果", elem_id="task-plan", sanitize_html=True)
    page.components.update(planner_start=p_start, planner_tasks=p_tasks)

    def plan_tasks(tasks: Any, start: str = "", weeks: float = 4, hours_per_week: float = 4,
                   branch_type: str = "机关", members: float | None = None) -> tuple[str, str, str]:
        return plans.plan_tasks(page.app, page.outputs.folder(), tasks, start, weeks, hours_per_week, branch_type,
                                members)

    p_go.click(guarded(plan_tasks), [p_tasks, p_start, p_weeks, p_hours, p_branch, p_members], [p_plan, p_md, p_ics],
               api_name="plan_tasks", concurrency_id="documents", concurrency_limit=4)
