"""问答 tab: streamed chat with source cards, example questions, new conversation; the user's kept
conversations (list newest first, rename, delete, export .md/.docx) when users log in, the
browser's own storage when they do not; the /ask and /chat APIs."""
from __future__ import annotations

import gradio as gr

from ...serve.accounts import MEMBER, requests_allowed
from ..handlers import conversations as convs
from ..handlers import qa
from ..handlers.firstrun import WELCOME
from . import Page, firstrun, guarded, needs


def build(page: Page) -> None:
    badge = page.components["badge"]
    login = page.login
    with gr.Tab("问答", id="qa") as tab:
        firstrun.build(page)
        pairs = gr.State([])
        conv_id = gr.State("")
        # without login the conversation is kept in this browser only (restored on reload)
        saved = gr.BrowserState({"messages": [], "pairs": []}, storage_key="dangwu-chat",
                                secret=page.browser_secret)
        with gr.Accordion("我的对话", open=False, visible=login, elem_id="conversations"):
            with gr.Row():
                c_list = gr.Dropdown(choices=[], value=None, label="对话（最近的在前）", min_width=220, scale=3,
                                     elem_id="conv-list")
                c_open = gr.Button("打开", size="sm", min_width=60, scale=1, elem_id="conv-open")
            with gr.Row():
                c_title = gr.Textbox(label="新名称", value="", max_length=100, min_width=160, scale=3,
                                     elem_id="conv-title")
                c_rename = gr.Button("重命名", size="sm", min_width=60, scale=1, elem_id="conv-rename")
                c_delete = gr.Button("删除", size="sm", variant="stop", min_width=60, scale=1, elem_id="conv-delete")
            with gr.Row():
                c_md = gr.Button("导出 .md", size="sm", min_width=80, elem_id="conv-export-md")
                c_docx = gr.Button("导出 Word", size="sm", min_width=80, elem_id="conv-export-docx")
                c_file = gr.File(label="导出的文件", interactive=False, min_width=160, height=70, elem_id="conv-file")
            c_msg = gr.Markdown(elem_id="conv-message")
        chatbot = gr.Chatbot(label="对话", height=520, elem_id="chat", sanitize_html=True, allow_tags=False,
                             render_markdown=True, feedback_options=None, buttons=["copy"],
                             placeholder=WELCOME)
        with gr.Row(equal_height=True):
            # no max_length: the browser would cut a long message silently; the handler refuses it and says why
            question = gr.Textbox(show_label=False, placeholder="输入问题，按回车发送", scale=5, min_width=180,
                                  elem_id="question")
            send = gr.Button("发送", variant="primary", scale=1, min_width=70, elem_id="send")
        with gr.Row():
            examples = [gr.Button(q, size="sm", min_width=120) for q in qa.EXAMPLE_QUESTIONS]
        clear = gr.Button("新对话", size="sm", elem_id="new-chat")
    page.tabs["qa"] = (tab, MEMBER)
    page.components["after_import"] = [page.components["first_run_after"]]

    def user_of(request: gr.Request):
        name, role = page.user(request)
        return name, role

    def listing(user: str | None, selected: str | None = None):
        return gr.update(choices=convs.choices(page.app, user), value=selected or None)

    def stream_turn(message: str, messages: list, history: list, current: str, browser: dict, request: gr.Request):
        user, role = user_of(request)
        kept = {"id": current or ""}

        def on_answer(q, answer):
            kept["id"] = convs.keep(page.app, user, kept["id"], q, answer)

        for messages, history, new_badge in qa.chat(page.app, message, messages, history, page.outputs.folder(),
                                                    requests_allowed(role), on_answer):
            done = new_badge is not None
            yield (messages, history, "", gr.skip() if new_badge is None else new_badge, kept["id"],
                   listing(user, kept["id"]) if done and user else gr.skip(),
                   {"messages": messages, "pairs": history} if done and not login else gr.skip())

    def ask(question: str, history: list[list[str]] | None = None) -> dict:
        """Answer a question from the knowledge base. Returns {answer, mode, abstained, notice,
        sources: [{title, article, status, source, text, imported}]} (imported: who imported that
        file and when); the answer text ends with its 依据 lines ([n] 《title》第X条（现行）)."""
        return qa.ask(page.app, question, history)

    def chat_api(message: str, conversation: str = "", request: gr.Request = None) -> dict:
        """One turn of a conversation kept on the server for the logged-in user: the follow-up is
        condensed with its earlier turns. Returns the /ask fields plus conversation (the id to pass
        next time; empty without login) and query (the question as understood)."""
        user, role = user_of(request)
        return convs.converse(page.app, user, message, conversation or None, requests_allowed(role))

    def restore(browser: dict, request: gr.Request):
        user, _ = user_of(request)
        if user:
            messages, history, cid = convs.newest(page.app, user)
            return messages, history, cid, listing(user, cid)
        browser = browser if isinstance(browser, dict) else {}
        return browser.get("messages") or [], browser.get("pairs") or [], "", gr.skip()

    def open_selected(selected: str | None, request: gr.Request):
        user, _ = user_of(request)
        messages, history, cid = convs.open_conversation(page.app, user, selected)
        return messages, history, cid, ""

    def rename(selected: str | None, title: str, request: gr.Request):
        user, _ = user_of(request)
        msg = convs.rename(page.app, user, selected, title)
        return msg, listing(user, selected), ""

    def delete(selected: str | None, current: str, request: gr.Request):
        user, _ = user_of(request)
        msg = convs.delete(page.app, user, selected)
        if selected == current:
            return msg, listing(user), [], [], ""
        return msg, listing(user, current), gr.skip(), gr.skip(), gr.skip()

    def export_md(selected: str | None, request: gr.Request):
        return convs.export(page.app, user_of(request)[0], selected, page.outputs.folder(), "md")

    def export_docx(selected: str | None, request: gr.Request):
        return convs.export(page.app, user_of(request)[0], selected, page.outputs.folder(), "docx")

    def new_chat():
        return [], [], "", "", {"messages": [], "pairs": []} if not login else gr.skip()

    private = {"api_visibility": "private"}
    answer_opts = {"concurrency_id": "answer", "concurrency_limit": page.app.settings.ask_concurrency}
    chat_fn = needs(MEMBER, stream_turn)
    chat_io = {"inputs": [question, chatbot, pairs, conv_id, saved],
               "outputs": [chatbot, pairs, question, badge, conv_id, c_list, saved]}
    question.submit(chat_fn, **chat_io, **answer_opts, **private)
    send.click(chat_fn, **chat_io, **answer_opts, **private)
    for b, q in zip(examples, qa.EXAMPLE_QUESTIONS):
        b.click(needs(MEMBER, lambda q=q: q), None, question, queue=False, **private).then(
            chat_fn, **chat_io, **answer_opts, **private)
    clear.click(needs(MEMBER, new_chat), None, [chatbot, pairs, question, conv_id, saved], queue=False, **private)
    c_open.click(guarded(open_selected, MEMBER), [c_list], [chatbot, pairs, conv_id, c_msg], **private)
    c_rename.click(guarded(rename, MEMBER), [c_list, c_title], [c_msg, c_list, c_title], **private)
    c_delete.click(guarded(delete, MEMBER), [c_list, conv_id], [c_msg, c_list, chatbot, pairs, conv_id], **private)
    c_md.click(guarded(export_md, MEMBER), [c_list], [c_file], **private)
    c_docx.click(guarded(export_docx, MEMBER), [c_list], [c_file], **private)
    page.components["qa_restore"] = (needs(MEMBER, restore, quiet=True), [saved], [chatbot, pairs, conv_id, c_list])
    page.apis.append((guarded(ask, MEMBER), "ask", answer_opts))
    page.apis.append((guarded(chat_api, MEMBER), "chat", answer_opts))
