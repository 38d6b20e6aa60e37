"""知识库 tab: upload with a result per file (and the passages embedded so far), a confirmation
before an import that would supersede or replace a document, the document list (who imported
each and when), delete, reindex; the /ingest API.

Imports run side by side (ASSISTANT_INGEST_CONCURRENCY) and apart from delete and reindex, so
one large file keeps nothing else waiting; a page that goes away stops its import."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from ..handlers import kb
from ...serve.accounts import ADMIN
from . import Page, guarded


def importer(request: gr.Request | None) -> str:
    """Who is importing: the login name (ASSISTANT_AUTH), else the address the upload came from."""
    if request is None:
        return kb.WEB_IMPORTER
    client = getattr(request, "client", None)
    return kb.importer_name(getattr(request, "username", None), getattr(client, "host", None))


@dataclass
class Importer:
    """The components of one staged import (files, button, status, progress, the confirmation
    row): the 知识库 tab has one, the 开始使用 panel another; both import through the same
    handlers (kb.prepare → confirmation when it would supersede or replace → kb.import_staged)."""

    files: Any
    go: Any
    status: Any
    progress: Any
    token: Any
    confirm_row: Any
    yes: Any
    no: Any

    def wire(self, page: Page, after: list[tuple[Callable, list]] = ()) -> None:
        """The events (administrators only); AFTER: (function, outputs) run when an import ends."""
        app = page.app

        def run(token: str, rows, request: gr.Request | None):
            """The import of a staged batch; stopped at its next batch when the page goes away
            (Gradio closes this generator)."""
            cancel = threading.Event()
            try:
                for status, rows in kb.import_staged(app, token, rows, importer(request), cancel):
                    yield status, rows, "", gr.update(visible=False)
            finally:
                cancel.set()

        def start(files: list[str] | None, request: gr.Request):
            batch = kb.prepare(app, files)
            if batch.conflicts:
                yield batch.question(), batch.rows, batch.token, gr.update(visible=True)
                return
            yield f"已接收 {len(batch.rows)} 个文件，正在导入…", batch.rows, "", gr.update(visible=False)
            yield from run(batch.token, batch.rows, request)

        def confirm(token: str, rows, request: gr.Request):
            yield from run(token, [list(r) for r in (rows or [])], request)

        def cancel(token: str):
            return kb.discard(app, token), "", gr.update(visible=False)

        private = {"api_visibility": "private"}
        ingest_opts = {"concurrency_id": "kb_ingest", "concurrency_limit": app.settings.ingest_concurrency}
        outs = [self.status, self.progress, self.token, self.confirm_row]
        for event in (self.go.click(guarded(start, ADMIN), [self.files], outs, **ingest_opts, **private),
                      self.yes.click(guarded(confirm, ADMIN), [self.token, self.progress], outs, **ingest_opts,
                                     **private)):
            for fn, outputs in after:
                event = event.then(guarded(fn, ADMIN), None, outputs, **private)
        self.no.click(guarded(cancel, ADMIN), [self.token], [self.status, self.token, self.confirm_row], queue=False,
                      **private)


def build(page: Page) -> None:
    app = page.app
    with gr.Tab("知识库", id="kb", visible=not page.login) as tab:
        gr.Markdown(f"上传党内法规、本单位文件等（支持 {' '.join(kb.UPLOAD_TYPES)}，可一次选多个文件；"
                    f"单个文件不超过 {app.settings.max_file_mb:g} MB）。同名文件再次上传即更新；"
                    "会取代或替换已有文档的导入，先请你确认。连同 manifest.json 一起上传时，各文件的标题、"
                    "生效日期和状态按清单读取（清单未列出的文件不导入）。")
        k_files = gr.File(label="选择文件", file_count="multiple", file_types=[*kb.UPLOAD_TYPES, ".json"], type="filepath",
                          elem_id="kb-upload")
        k_go = gr.Button("导入知识库", variant="primary", elem_id="kb-ingest")
        k_status = gr.Markdown(label="导入状态", elem_id="kb-status")
        k_token = gr.State("")
        with gr.Row(visible=False, elem_id="kb-confirm-row") as k_confirm_row:
            k_yes = gr.Button("确认导入", variant="stop", min_width=100, elem_id="kb-confirm")
            k_no = gr.Button("取消", min_width=100, elem_id="kb-cancel")
        k_progress = gr.Dataframe(headers=["文件", "结果"], datatype="str", type="array", interactive=False, wrap=True,
                                  label="导入进度", column_count=2, elem_id="kb-progress")
        k_docs = gr.Dataframe(headers=kb.DOC_HEADERS, datatype=kb.DOC_TYPES,
                              interactive=False, wrap=True, label="知识库中的文档", column_count=len(kb.DOC_HEADERS),
                              elem_id="kb-docs")
        with gr.Row():
            k_remove_sel = gr.Dropdown(choices=[], multiselect=True, label="选择要删除的文档", min_width=200,
                                       elem_id="kb-remove-select")
            k_remove = gr.Button("删除所选…", variant="secondary", size="sm", min_width=100, elem_id="kb-remove")
        k_remove_ids = gr.State([])
        with gr.Row(visible=False, elem_id="kb-remove-confirm-row") as k_remove_row:
            k_remove_yes = gr.Button("确认删除", variant="stop", min_width=100, elem_id="kb-remove-confirm")
            k_remove_no = gr.Button("取消", min_width=100, elem_id="kb-remove-cancel")
        with gr.Row():
            k_refresh = gr.Button("刷新列表", min_width=100)
            k_reindex = gr.Button("重新索引", min_width=100, elem_id="kb-reindex")
        k_msg = gr.Markdown(elem_id="kb-message")
        # the /ingest API (files, confirm → status, rows), on components the page does not show
        with gr.Row(visible=False):
            a_go = gr.Button("ingest-api")
            a_confirm = gr.Checkbox(value=False, label="confirm")

    def ingest(files: list[str] | None, confirm: bool = False, request: gr.Request = None):
        cancel = threading.Event()
        try:
            yield from kb.ingest_files(app, files, bool(confirm), importer(request), cancel)
        finally:
            cancel.set()

    def refresh_docs():
        return kb.doc_rows(app), gr.update(choices=kb.doc_choices(app), value=[])

    def ask_remove(doc_ids: list[str] | None):
        """Nothing is deleted yet: the page names what would be, and asks."""
        return kb.removal_question(app, doc_ids), list(doc_ids or []), gr.update(visible=True)

    def remove_docs(doc_ids: list[str] | None):
        return kb.remove_docs(app, doc_ids), *refresh_docs(), [], gr.update(visible=False)

    def keep_docs():
        return "已取消删除，知识库没有改变。", [], gr.update(visible=False)

    def reindex(request: gr.Request):
        return kb.reindex(app, importer(request) + "（重新索引）"), *refresh_docs()

    private = {"api_visibility": "private"}
    ingest_opts = {"concurrency_id": "kb_ingest", "concurrency_limit": app.settings.ingest_concurrency}
    manage_opts = {"concurrency_id": "kb_manage", "concurrency_limit": 1}
    Importer(k_files, k_go, k_status, k_progress, k_token, k_confirm_row, k_yes, k_no).wire(
        page, [(refresh_docs, [k_docs, k_remove_sel]), *page.components.get("after_import", [])])
    a_go.click(guarded(ingest, ADMIN), [k_files, a_confirm], [k_status, k_progress], api_name="ingest", **ingest_opts)
    k_remove.click(guarded(ask_remove, ADMIN), [k_remove_sel], [k_msg, k_remove_ids, k_remove_row], queue=False,
                   **private)
    k_remove_yes.click(guarded(remove_docs, ADMIN), [k_remove_ids],
                       [k_msg, k_docs, k_remove_sel, k_remove_ids, k_remove_row], **manage_opts, **private)
    k_remove_no.click(guarded(keep_docs, ADMIN), None, [k_msg, k_remove_ids, k_remove_row], queue=False, **private)
    k_reindex.click(guarded(reindex, ADMIN), None, [k_msg, k_docs, k_remove_sel], **manage_opts, **private)
    k_refresh.click(guarded(refresh_docs, ADMIN), None, [k_docs, k_remove_sel], **private)
    tab.select(guarded(refresh_docs, ADMIN), None, [k_docs, k_remove_sel], **private)
    page.components["kb_refresh"] = (refresh_docs, [k_docs, k_remove_sel])
    page.tabs["kb"] = (tab, ADMIN)
