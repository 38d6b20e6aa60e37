"""任务规划 tab: the branch profile (prefilled from the saved one, saved back), the task table (fixed
columns, a visible 添加一行 button, a delete mark per row), then the weekly focus first, the hand-off
tables per post and the full plan; downloads .md, .ics and the hand-off lists as .xlsx.
The /plan_tasks API keeps its signature (task table, start, weeks, hours, branch type, head count)."""
from __future__ import annotations

from typing import Any

import gradio as gr

from ...plans.obligations import BRANCH_TYPES
from ...plans.profile import WORKER_ROLES
from ..handlers import plans
from ...serve.accounts import WORKER
from . import Page, guarded, needs

# the task table: headers on one line, the 工时 column wide enough for its header, the delete column narrow
TABLE_CSS = """
<style>
#tasks th, #tasks th * {white-space: nowrap !important; word-break: keep-all !important}
#tasks .body-cell.static {text-align: center; color: #9b1c1c; cursor: pointer; font-weight: 600}
#add-row {max-width: 10em}
</style>
"""


def build(page: Page) -> None:
    app = page.app

    with gr.Tab("任务规划", id="planner", visible=not page.login) as tab:
        gr.HTML(TABLE_CSS, elem_id="planner-style", padding=False)
        gr.Markdown("先填支部情况（保存后下次自动带出），再在表格中写下自己的任务。条规规定的支部工作会自动并入；"
                    "不适用的事项会说明依据；排不下的按分工交给相应委员，再不行才延后，并说明还差多少工时。")
        with gr.Accordion("支部情况", open=True, elem_id="profile-form"):
            with gr.Row():
                f_type = gr.Dropdown(list(BRANCH_TYPES), value="机关", label="支部类型", min_width=110)
                f_name = gr.Textbox(label="支部名称（可空）", value="", min_width=160, max_length=60)
                f_members = gr.Number(label="正式党员人数", value=None, min_width=110,
                                      elem_id="profile-members")
                f_prob = gr.Number(label="预备党员人数", value=None, min_width=110)
                f_committee = gr.Dropdown(list(plans.COMMITTEE_CHOICES), value=plans.COMMITTEE_CHOICES[0], label="支委会", min_width=170,
                                          elem_id="profile-committee")
            with gr.Row():
                f_role = gr.Dropdown(list(WORKER_ROLES), value="书记", label="我的职务", min_width=110,
                                     elem_id="profile-role")
                f_hours = gr.Number(label="我每周可用小时", value=4, min_width=110, elem_id="profile-hours")
                f_groups = gr.Number(label="党小组个数（0＝未划分）", value=None,
                                     min_width=130)
                f_act = gr.Number(label="入党积极分子人数", value=None,
                                  min_width=130, elem_id="profile-activists")
                f_cand = gr.Number(label="发展对象人数", value=None,
                                   min_width=110)
            gr.Markdown("各职务由谁担任（空着表示未配备；未配备职务的工作由你承担）：")
            with gr.Row():
                f_names = [gr.Textbox(label=role, value="", min_width=100, max_length=40,
                                      elem_id=f"profile-name-{k}")
                           for k, role in enumerate(plans.NAMED_ROLES)]
            with gr.Row():
                f_save = gr.Button("保存支部情况", variant="secondary", elem_id="save-profile", min_width=140)
                f_status = gr.Markdown("", elem_id="profile-status")
        form = [f_type, f_name, f_members, f_prob, f_committee, f_role, f_hours, *f_names, f_groups, f_act, f_cand]

        p_tasks = gr.Dataframe(value=plans.default_tasks(), headers=plans.TASK_HEADERS, datatype="str", type="array",
                               interactive=True, column_count=(len(plans.TASK_HEADERS), "fixed"),  # no column menu
                               static_columns=[len(plans.TASK_HEADERS) - 1],
                               column_widths=["28%", "24%", "15%", "15%", "18%"], wrap=True,
                               label="我的任务（类型：刚性 / 重要 / 可延后，可空；点 ✕ 删除该行）", elem_id="tasks")
        with gr.Row():
            p_add = gr.Button("添加一行", variant="secondary", elem_id="add-row", min_width=100)
        with gr.Row():
            p_start = gr.Textbox(label="开始日期（如 2026-12-07）", value=plans.next_monday().isoformat(), min_width=140)
            p_weeks = gr.Number(label="周数", value=4, min_width=100)
        p_go = gr.Button("生成规划", variant="primary", elem_id="make-tasks")
        p_notice = gr.Markdown("", elem_id="plan-notice")
        gr.Markdown("#### 每周要事")
        p_focus = gr.Markdown(elem_id="plan-focus", sanitize_html=True)
        gr.Markdown("#### 交办清单")
        p_handoff = gr.Markdown(elem_id="plan-handoff", sanitize_html=True)
        with gr.Row():
            p_md = gr.File(label="下载 Markdown（.md）", interactive=False, min_width=160, elem_id="plan-md")
            p_ics = gr.File(label="下载日历（.ics）", interactive=False, min_width=160)
            p_xlsx = gr.File(label="下载交办清单（.xlsx）", interactive=False, min_width=160, elem_id="plan-xlsx")
        with gr.Accordion("完整规划（每周明细、放不下的任务、不适用的事项、小结）", open=False):
            p_plan = gr.Markdown(label="规划结果", elem_id="task-plan", sanitize_html=True)
        # the /plan_tasks API as before (task table, start, weeks, hours, branch type, head count → plan, .md, .ics),
        # on components the page does not show
        with gr.Row(visible=False):
            a_go = gr.Button("plan-tasks-api")
            a_hours = gr.Number(value=4)
            a_branch = gr.Dropdown(list(BRANCH_TYPES), value="机关", allow_custom_value=True)
            a_members = gr.Number(value=None)
            a_plan = gr.Markdown()
            a_md = gr.File(interactive=False)
            a_ics = gr.File(interactive=False)
    page.components.update(planner_start=p_start, planner_tasks=p_tasks)
    page.tabs["planner"] = (tab, WORKER)

    def save(*values: Any) -> str:
        return plans.save_form(page.app, *values)

    def plan_page(tasks: Any, start: str, weeks: float, *values: Any):
        return plans.plan_page(page.app, page.outputs.folder(), tasks, start, weeks, *values)

    def delete(tasks: Any, evt: gr.SelectData):
        # only a click on a row's ✕ changes the table; any other click leaves it alone, so an answer
        # arriving late never overwrites what the user is typing
        if not isinstance(evt.index, (list, tuple)) or len(evt.index) < 2 or evt.index[1] != len(plans.TASK_HEADERS) - 1:
            return gr.skip()
        return plans.delete_row(tasks, evt.index)

    private = {"api_visibility": "private"}
    # the form is filled from the saved profile each time the page loads (not when the server started)
    gr.on(None, needs(WORKER, lambda: plans.saved_form(app).values(), quiet=True), None, form, queue=False, show_progress="hidden", **private)
    f_save.click(guarded(save, WORKER), form, f_status, **private)
    p_add.click(needs(WORKER, plans.add_row), p_tasks, p_tasks, queue=False, show_progress="hidden", **private)
    p_tasks.select(needs(WORKER, delete), p_tasks, p_tasks, queue=False, show_progress="hidden", **private)
    p_go.click(guarded(plan_page, WORKER), [p_tasks, p_start, p_weeks, *form],
               [p_notice, p_focus, p_handoff, p_plan, p_md, p_ics, p_xlsx],
               concurrency_id="documents", concurrency_limit=4, **private)

    def plan_tasks(tasks: Any, start: str = "", weeks: float = 4, hours_per_week: float = 4,
                   branch_type: str = "机关", members: float | None = None) -> tuple[str, str, str]:
        return plans.plan_tasks(page.app, page.outputs.folder(), tasks, start, weeks, hours_per_week, branch_type,
                                members)

    a_go.click(guarded(plan_tasks, WORKER), [p_tasks, p_start, p_weeks, a_hours, a_branch, a_members], [a_plan, a_md, a_ics],
               api_name="plan_tasks", concurrency_id="documents", concurrency_limit=4)
