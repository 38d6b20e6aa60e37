"""对话记录: each logged-in user's conversations (assistant.serve.conversations) for the chat tab
and the /chat API — list, open, continue, rename, delete, export — as plain functions over App."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from ...errors import InputError
from ...inputs import safe_filename
from ...qa.answer import Source
from ...root import App
from ...serve.conversations import to_markdown, write_docx
from ..render import answer_markdown, esc_md, source_messages


def choices(app: App, user: str | None) -> list[tuple[str, str]]:
    """(label, id) of the user's conversations, newest first."""
    if not user:
        return []
    out = []
    for c in app.serving.conversations.list(user):
        when = _local(c.updated_at).strftime("%m-%d %H:%M") if c.updated_at else ""
        out.append((f"{c.title}（{when}）", c.id))
    return out


def _local(value: datetime) -> datetime:
    """A stored (naive UTC) time in the server's time zone."""
    return value.replace(tzinfo=timezone.utc).astimezone()


class _Shown:
    """What source_messages needs of an answer."""

    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources


def _sources(rows: list[dict]) -> list[Source]:
    fields = set(Source.__dataclass_fields__)
    out = []
    for i, r in enumerate(rows, 1):
        data = {k: v for k, v in r.items() if k in fields}
        data.setdefault("n", i)
        for k in ("title", "article", "status", "source", "text"):
            data.setdefault(k, "")
        out.append(Source(**data))
    return out


def messages_of(turns, lookup=None) -> list[dict]:
    """The chat's messages for kept turns, as the chat showed them (LOOKUP: the imported
    regulations' articles, for the 法规原文 under a 知识卡 source)."""
    messages: list[dict] = []
    for t in turns:
        messages.append({"role": "user", "content": esc_md(t.question)})
        messages.append({"role": "assistant", "content": answer_markdown(t.answer, t.notice)})
        messages.extend(source_messages(_Shown(_sources(t.sources)), None, lookup, str(len(messages))))
    return messages


def open_conversation(app: App, user: str | None, conv_id: str | None) -> tuple[list, list, str]:
    """(chat messages, (question, answer) pairs, id) of one of the user's conversations; empty when none."""
    conv = app.serving.conversations.get(user, conv_id) if user and conv_id else None
    if conv is None:
        return [], [], ""
    from .qa import article_lookup

    return messages_of(conv.turns, article_lookup(app)), [list(p) for p in conv.pairs()], conv.id


def newest(app: App, user: str | None) -> tuple[list, list, str]:
    """The user's most recent conversation (what the chat shows after a reload or a restart)."""
    items = app.serving.conversations.list(user) if user else []
    return open_conversation(app, user, items[0].id) if items else ([], [], "")


def keep(app: App, user: str | None, conv_id: str | None, question: str, answer) -> str:
    """Keep one turn; returns the conversation's id ("" without a user)."""
    if not user or answer is None:
        return conv_id or ""
    return app.serving.conversations.add_turn(user, conv_id, question, answer)


def rename(app: App, user: str | None, conv_id: str | None, title: str) -> str:
    _need(user)
    app.serving.conversations.rename(user, conv_id, title)
    return "已重命名。"


def delete(app: App, user: str | None, conv_id: str | None) -> str:
    _need(user)
    app.serving.conversations.delete(user, conv_id)
    return "已删除这个对话。"


def export(app: App, user: str | None, conv_id: str | None, out: Path, kind: str) -> str:
    """The conversation as .md or .docx in OUT; returns the file's path."""
    _need(user)
    conv = app.serving.conversations.get(user, conv_id)
    if conv is None or not conv.turns:
        raise InputError("conversation", "请先选择一个有内容的对话")
    stem = safe_filename(conv.title, "对话记录")
    if kind == "docx":
        return str(write_docx(conv, out / f"{stem}.docx"))
    path = out / f"{stem}.md"
    path.write_text(to_markdown(conv), encoding="utf-8")
    return str(path)


def converse(app: App, user: str | None, message: str, conv_id: str | None = None,
             allowed=None) -> dict:
    """One turn of a kept conversation (the /chat API): the follow-up is condensed with the
    conversation's earlier turns, as in the chat tab. Returns the answer's JSON with
    ``conversation`` (the id to continue with) and ``query`` (the standalone question)."""
    from .qa import check_question, with_cards

    message = check_question(message)
    pairs = app.serving.conversations.pairs(user, conv_id) if user and conv_id else []
    with_cards(app)
    answer = app.respond(message, pairs[-6:], None, allowed)
    conv = keep(app, user, conv_id, message, answer)
    return {**answer.to_json(), "query": answer.query, "conversation": conv}


def _need(user: str | None) -> None:
    if not user:
        raise InputError("conversation", "未登录时对话只保存在本浏览器中，不能在服务器上管理")
