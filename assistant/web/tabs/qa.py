"""问答 tab: streamed chat with source cards, example questions, new conversation; the /ask API."""
from __future__ import annotations

import gradio as gr

from ..handlers import qa
from . import Page, guarded


def build(page: Page) -> None:
    badge = page.components["badge"]
    with gr.Tab("问答", id="qa"):
        pairs = gr.State([])
        chatbot = gr.Chatbot(label="对话", height=520, elem_id="chat", sanitize_html=True, allow_tags=False,
                             render_markdown=True, feedback_options=None, buttons=["copy"],
                             placeholder="请输入党务工作问题，例如“支委会多久开一次？”。回答附有依据条文，点击可展开原文。")
        with gr.Row(equal_height=True):
            # no max_length: the browser would cut a long message silently; the handler refuses it and says why
            question = gr.Textbox(show_label=False, placeholder="输入问题，按回车发送", scale=5, min_width=180,
                                  elem_id="question")
            send = gr.Button("发送", variant="primary", scale=1, min_width=70, elem_id="send")
        with gr.Row():
            examples = [gr.Button(q, size="sm", min_width=120) for q in qa.EXAMPLE_QUESTIONS]
        clear = gr.Button("新对话", size="sm", elem_id="new-chat")

    def chat(message: str, messages: list, history: list):
        for messages, history, new_badge in qa.chat(page.app, message, messages, history, page.outputs.folder()):
            yield messages, history, "", gr.skip() if new_badge is None else new_badge

    def ask(question: str, history: list[list[str]] | None = None) -> dict:
        """Answer a question from the knowledge base. Returns {answer, mode, abstained, notice,
        sources: [{title, article, status, source, text, imported}]} (imported: who imported that
        file and when); the answer text ends with its 依据 lines ([n] 《title》第X条（现行）)."""
        return qa.ask(page.app, question, history)

    private = {"api_visibility": "private"}
    answer_opts = {"concurrency_id": "answer", "concurrency_limit": page.app.settings.ask_concurrency}
    chat_io = {"inputs": [question, chatbot, pairs], "outputs": [chatbot, pairs, question, badge]}
    question.submit(chat, **chat_io, **answer_opts, **private)
    send.click(chat, **chat_io, **answer_opts, **private)
    for b, q in zip(examples, qa.EXAMPLE_QUESTIONS):
        b.click(lambda q=q: q, None, question, queue=False, **private).then(chat, **chat_io, **answer_opts, **private)
    clear.click(lambda: ([], [], ""), None, [chatbot, pairs, question], queue=False, **private)
    page.apis.append((guarded(ask), "ask", answer_opts))
