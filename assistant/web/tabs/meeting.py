"""会议方案 tab: form → preview → .docx/.md; the /meeting_plan API."""
from __future__ import annotations

from datetime import date, timedelta

import gradio as gr

from ...plans.meeting import meeting_types
from ..handlers import plans
from ...serve.accounts import WORKER
from . import Page, guarded


def build(page: Page) -> None:
    with gr.Tab("会议方案", id="meeting", visible=not page.login) as tab:
        with gr.Row():
            m_type = gr.Dropdown(meeting_types(), value=meeting_types()[0], label="会议类型", min_width=200,
                                 allow_custom_value=True)
            m_branch = gr.Textbox(label="党支部名称", value="", elem_id="plan-branch", placeholder="如：XX局机关第一党支部",
                                  min_width=200)
        with gr.Row():
            m_date = gr.Textbox(label="会议日期（如 2026-12-18 或 2026年12月18日）",
                                value=(date.today() + timedelta(days=14)).isoformat(), min_width=160)
            m_members = gr.Number(label="人数（0 或空表示不填；支委会填委员人数）", value=None,
                                  elem_id="plan-members", min_width=160)
        m_topic = gr.Textbox(label="会议主题（可空，留空按会议类型给出）", value="", max_length=80)
        m_go = gr.Button("生成方案", variant="primary", elem_id="make-plan")
        with gr.Row():
            m_docx = gr.File(label="下载 Word（.docx）", interactive=False, elem_id="plan-docx", min_width=160)
            m_md = gr.File(label="下载 Markdown（.md）", interactive=False, elem_id="plan-md", min_width=160)
        m_preview = gr.Markdown(label="方案预览", show_label=False, elem_id="plan-preview", sanitize_html=True)
    page.components["meeting_date"] = m_date
    page.tabs["meeting"] = (tab, WORKER)

    def meeting_plan(meeting_type: str, branch: str, meeting_date: str, topic: str = "",
                     members: float | None = None) -> tuple[str, str, str]:
        return plans.meeting_plan(page.app, page.outputs.folder(), meeting_type, branch, meeting_date, topic, members)

    m_go.click(guarded(meeting_plan, WORKER), [m_type, m_branch, m_date, m_topic, m_members], [m_preview, m_docx, m_md],
               api_name="meeting_plan", concurrency_id="documents", concurrency_limit=4)
