"""知识库 tab: upload with a result per file, the document list, delete, reindex; the /ingest API."""
from __future__ import annotations

import gradio as gr

from ..handlers import kb
from ...serve.accounts import ADMIN
from . import Page, guarded


def build(page: Page) -> None:
    app = page.app
    with gr.Tab("知识库", id="kb", visible=not page.login) as tab:
        gr.Markdown(f"上传党内法规、本单位文件等（支持 {' '.join(kb.UPLOAD_TYPES)}，"
                    f"单个文件不超过 {app.settings.max_file_mb:g} MB）。同名文件再次上传即更新。")
        k_files = gr.File(label="选择文件", file_count="multiple", file_types=list(kb.UPLOAD_TYPES), type="filepath",
                          elem_id="kb-upload")
        k_go = gr.Button("导入知识库", variant="primary", elem_id="kb-ingest")
        k_status = gr.Markdown(label="导入状态", elem_id="kb-status")
        k_progress = gr.Dataframe(headers=["文件", "结果"], datatype="str", interactive=False, wrap=True,
                                  label="导入进度", column_count=2, elem_id="kb-progress")
        k_docs = gr.Dataframe(headers=kb.DOC_HEADERS, datatype=["str", "str", "str", "str", "number", "str"],
                              interactive=False, wrap=True, label="知识库中的文档", column_count=6, elem_id="kb-docs")
        with gr.Row():
            k_remove_sel = gr.Dropdown(choices=[], multiselect=True, label="选择要删除的文档", min_width=200,
                                       elem_id="kb-remove-select")
            k_remove = gr.Button("删除所选", variant="stop", min_width=100, elem_id="kb-remove")
        with gr.Row():
            k_refresh = gr.Button("刷新列表", min_width=100)
            k_reindex = gr.Button("重新索引", min_width=100, elem_id="kb-reindex")
        k_msg = gr.Markdown(elem_id="kb-message")

    def ingest_files(files: list[str] | None):
        yield from kb.ingest_files(app, files)

    def refresh_docs():
        return kb.doc_rows(app), gr.update(choices=kb.doc_choices(app), value=[])

    def remove_docs(doc_ids: list[str] | None):
        return kb.remove_docs(app, doc_ids), *refresh_docs()

    def reindex():
        return kb.reindex(app), *refresh_docs()

    private = {"api_visibility": "private"}
    kb_opts = {"concurrency_id": "kb_write", "concurrency_limit": 1}
    k_go.click(guarded(ingest_files, ADMIN), [k_files], [k_status, k_progress], api_name="ingest", **kb_opts).then(
        guarded(refresh_docs, ADMIN), None, [k_docs, k_remove_sel], **private)
    k_remove.click(guarded(remove_docs, ADMIN), [k_remove_sel], [k_msg, k_docs, k_remove_sel], **kb_opts, **private)
    k_reindex.click(guarded(reindex, ADMIN), None, [k_msg, k_docs, k_remove_sel], **kb_opts, **private)
    k_refresh.click(guarded(refresh_docs, ADMIN), None, [k_docs, k_remove_sel], **private)
    page.components["kb_refresh"] = (refresh_docs, [k_docs, k_remove_sel])
    page.tabs["kb"] = (tab, ADMIN)
