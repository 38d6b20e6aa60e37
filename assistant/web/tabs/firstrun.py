"""开始使用 (at the top of the 问答 tab, where a new user looks first): our cards come with the
app, the regulations' texts do not; the regulations our cards cite (knowledge/regulations.yaml),
which of them are imported, where an official copy is found; an import of several files at
once with progress, through the 知识库 tab's own import (administrators only). Open while no
regulation is imported, folded once one is."""
from __future__ import annotations

import gradio as gr

from ...serve.accounts import ADMIN, MEMBER, allows
from ..handlers import firstrun, kb as kb_handlers
from . import Page, needs
from .kb import Importer


def build(page: Page) -> None:
    app = page.app
    with gr.Accordion("开始使用：自带知识卡，法规原文需自行导入", open=True, elem_id="first-run") as panel:
        f_summary = gr.Markdown(firstrun.INTRO, elem_id="first-run-summary")
        f_table = gr.Dataframe(headers=firstrun.HEADERS, datatype="str", type="array", interactive=False, wrap=True,
                               label="知识卡所引用的法规（正式文本请从所列网站获取）", column_count=len(firstrun.HEADERS),
                               elem_id="first-run-list")
        with gr.Group(visible=not page.login, elem_id="first-run-import") as f_import:
            gr.Markdown("**一次导入多个文件**：选中下载好的法规文件（可连同 manifest.json 一起选，"
                        f"按清单读取生效日期和状态；支持 {' '.join(kb_handlers.UPLOAD_TYPES)}），点“导入”。"
                        "导入进度逐个文件显示；会取代已有文档的导入先请你确认。")
            f_files = gr.File(label="选择文件（可多选）", file_count="multiple",
                              file_types=[*kb_handlers.UPLOAD_TYPES, ".json"], type="filepath",
                              elem_id="first-run-upload")
            f_go = gr.Button("导入", variant="primary", elem_id="first-run-ingest")
            f_status = gr.Markdown(elem_id="first-run-status")
            f_token = gr.State("")
            with gr.Row(visible=False, elem_id="first-run-confirm-row") as f_confirm_row:
                f_yes = gr.Button("确认导入", variant="stop", min_width=100, elem_id="first-run-confirm")
                f_no = gr.Button("取消", min_width=100, elem_id="first-run-cancel")
            f_progress = gr.Dataframe(headers=["文件", "结果"], datatype="str", type="array", interactive=False,
                                      wrap=True, label="导入进度", column_count=2, elem_id="first-run-progress")

    def state():
        regs = firstrun.regulations(app)
        return firstrun.summary(app, regs), firstrun.rows(app, regs), regs

    def first_run(request: gr.Request):
        """The panel as this knowledge base stands, for whoever opened the page: open while no
        regulation is imported, folded once one is; the import part for administrators."""
        _, role = page.user(request)
        summary, rows, regs = state()
        return summary, rows, gr.update(open=not any(r.imported for r in regs)), gr.update(visible=allows(role, ADMIN))

    def first_run_after_import():
        """After an import: the list again (the panel stays as it is, its progress in view)."""
        summary, rows, _ = state()
        return summary, rows

    page.components["first_run"] = (needs(MEMBER, first_run, quiet=True), [f_summary, f_table, panel, f_import])
    page.components["first_run_after"] = (first_run_after_import, [f_summary, f_table])
    page.components["first_run_importer"] = Importer(f_files, f_go, f_status, f_progress, f_token, f_confirm_row,
                                                     f_yes, f_no)
