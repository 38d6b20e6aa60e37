"""问答: one answer for the API, a streamed conversation for the chat."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Iterator

from ...errors import InputError, StoreError, log_fault
from ...inputs import parse_question
from ...links import unlink_answer
from ...root import App
from ...settings import default
from ...citations import same_title
from ...knowledge import OUR_KINDS
from ..render import answer_markdown, badge_html, esc_answer, esc_md, source_messages, without_basis

log = logging.getLogger(__name__)
MAX_QUESTION = default("max_question_chars")
EXAMPLE_QUESTIONS = (
    "支委会多久开一次？",
    "党员每月应交多少党费？",
    "组织生活会一般什么时候召开？",
    "发展党员要经过哪些程序？",
)


def check_question(question: str | None, max_len: int = MAX_QUESTION) -> str:
    """The question as asked, or InputError when it is empty, too long or not text (the chat and
    the API alike: assistant.inputs.parse_question)."""
    return parse_question(question, max_len)


def engine_error(exc: Exception) -> str:
    """A message for the user: the knowledge base's own (Chinese) errors as they are, anything
    else in general terms (the details go to the server log, not to the page)."""
    if isinstance(exc, StoreError):
        return str(exc)
    log_fault(log, "answer failed", exc)
    return "问答引擎出错，请稍后再试或联系管理员（详情见服务器日志）"


def with_cards(app: App) -> None:
    """Our cards in the data dir before a question is answered: the warm-up loads them into a new
    data dir, but a first question may come before it has finished (this waits for it, then is
    free). A store that cannot take them (read-only) still answers from what it holds."""
    try:
        app.ensure_bundled()
    except StoreError as exc:
        log.warning("bundled cards not loaded: %s", exc)


IMPORTING_NOTICE = "知识库正在导入新文件：本次回答依据已导入完成的内容，导入完成后再问可得到包括新文件的回答"


def importing(app: App) -> bool:
    """An import is writing to the knowledge base in this process right now."""
    return app.importing()


def article_lookup(app: App):
    """(title, article) → (official title, article, status, text) of an imported regulation's
    article (its passages joined; a current text before one 已被修订), or None when that
    regulation is not imported. For the nested 法规原文 cards under a 知识卡 source."""
    snap = app.store.snapshot()
    rank = {"current": 0, "reference": 1, "superseded": 2, "pending": 3}

    def look(title: str, article: str):
        hits: dict[str, list[int]] = {}
        for i, m in enumerate(snap.metas):
            if (m.get("kind") not in OUR_KINDS and article and m.get("article") == article
                    and same_title(m.get("title", ""), title)):
                hits.setdefault(m["doc_id"], []).append(i)
        if not hits:
            return None
        doc = min(hits, key=lambda d: (rank.get(snap.status[hits[d][0]], 9), d))
        idx = hits[doc]
        text = "\n".join(dict.fromkeys(snap.texts[i] for i in idx))
        return snap.metas[idx[0]]["title"], article, snap.status[idx[0]], text

    return look


def ask(app: App, question: str, history: list | None = None) -> dict:
    """Answer a question from the knowledge base: {answer, mode, abstained, notice, sources}."""
    question = check_question(question, app.settings.max_question_chars)
    pairs = [(str(p[0]), str(p[1])) for p in (history or []) if len(p) >= 2 and p[0]]
    with_cards(app)
    busy = importing(app)
    out = unlink_answer(app.assistant.ask(question, pairs)).to_json()
    if busy or importing(app):  # answered from what is committed: say that more is coming
        out["notice"] = "；".join(x for x in (out.get("notice"), IMPORTING_NOTICE) if x)
    provenance = app.store.provenance()
    for s in out["sources"]:  # the file, and who imported it when
        s["imported"] = provenance.get(s["source"], "")
    return out


def chat(app: App, message: str, messages: list | None, pairs: list | None,
         out_dir: Path | None = None, allowed=None,
         on_answer: Callable[[str, Any], None] | None = None) -> Iterator[tuple[list, list, str | None]]:
    """Stream one turn of the conversation: (chat messages, (question, answer) pairs, new badge or None).
    A request for a plan or checklist gets the document: its preview, then its files (written to out_dir);
    ALLOWED names the kinds of document the user may ask for (None: all). ON_ANSWER(question, Answer)
    is called with the final answer (to keep the turn) before the last step is yielded."""
    messages = list(messages or [])
    pairs = list(pairs or [])
    try:
        message = check_question(message, app.settings.max_question_chars)
    except InputError as exc:
        if (message or "").strip():
            messages.append({"role": "assistant", "content": esc_md(str(exc))})
        yield messages, pairs, None
        return
    messages.append({"role": "user", "content": esc_md(message)})
    messages.append({"role": "assistant", "content": "正在检索知识库…"})
    yield messages, pairs, None
    final = None
    try:
        with_cards(app)
        assistant = app.assistant
        busy = importing(app)  # answered from what is committed; the import goes on beside it
        for text, answer in app.stream(message, pairs[-6:], out_dir, allowed):
            messages[-1] = {"role": "assistant", "content": esc_answer(without_basis(text)) or "…"}
            if answer is not None:
                final = answer
            yield messages, pairs, None
    except Exception as exc:  # shown as the answer, never raised into Gradio
        messages[-1] = {"role": "assistant", "content": "暂时无法回答：" + esc_md(engine_error(exc))}
        yield messages, pairs, None
        return
    if final is not None:
        notice = "；".join(x for x in (final.notice, IMPORTING_NOTICE if busy or importing(app) else "") if x)
        messages[-1] = {"role": "assistant", "content": answer_markdown(final.answer, notice)}
        messages.extend(source_messages(final, app.store.provenance(), article_lookup(app), str(len(messages))))
        messages.extend({"role": "assistant", "content": {"path": f}} for f in (final.action or {}).get("files", []))
        pairs.append((message, final.answer))
        if on_answer is not None:
            on_answer(message, final)
        yield messages, pairs, badge_html(assistant.mode_label, notice)


def badge(app: App) -> str:
    """The mode badge for a page that just loaded."""
    try:
        return badge_html(app.assistant.mode_label)
    except Exception as exc:
        return badge_html("离线模式", "问答引擎未就绪：" + engine_error(exc))
