"""Each user's conversations, kept in the application database: listed newest first, renamed,
deleted, restored (their turns become the history a follow-up is condensed with), exported as
Markdown and as a 公文-style Word document (assistant.plans.gongwen). Every call names the user:
nobody reads or changes another user's conversations."""
from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from ..appdb import Database
from ..errors import InputError
from ..inputs import clean_text
from .models import Conversation, Turn, now

TITLE_CHARS = 30
MAX_CONVERSATIONS_LISTED = 200


@dataclass
class TurnData:
    question: str
    answer: str
    notice: str = ""
    query: str = ""
    sources: list[dict] = field(default_factory=list)
    at: object = None


@dataclass
class ConversationData:
    id: str
    title: str
    updated_at: object
    turns: list[TurnData] = field(default_factory=list)

    def pairs(self) -> list[tuple[str, str]]:
        return [(t.question, t.answer) for t in self.turns]


def title_of(question: str) -> str:
    text = " ".join((question or "").split())
    return text if len(text) <= TITLE_CHARS else text[:TITLE_CHARS - 1] + "…"


class Conversations:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _own(self, s, username: str, conv_id: str | None) -> Conversation | None:
        if not conv_id:
            return None
        return s.scalar(select(Conversation).where(Conversation.id == str(conv_id)[:32],
                                                   Conversation.username == username))

    def list(self, username: str) -> list[ConversationData]:
        """The user's conversations, the most recently used first (without their turns)."""
        with self.db.session() as s:
            rows = s.scalars(select(Conversation).where(Conversation.username == username)
                             .order_by(Conversation.updated_at.desc(), Conversation.created_at.desc())
                             .limit(MAX_CONVERSATIONS_LISTED)).all()
            return [ConversationData(c.id, c.title, c.updated_at) for c in rows]

    def get(self, username: str, conv_id: str | None) -> ConversationData | None:
        with self.db.session() as s:
            c = self._own(s, username, conv_id)
            if c is None:
                return None
            turns = [TurnData(t.question, t.answer, t.notice, t.query, json.loads(t.sources or "[]"), t.created_at)
                     for t in c.turns]
            return ConversationData(c.id, c.title, c.updated_at, turns)

    def pairs(self, username: str, conv_id: str | None) -> list[tuple[str, str]]:
        conv = self.get(username, conv_id)
        return conv.pairs() if conv else []

    def add_turn(self, username: str, conv_id: str | None, question: str, answer) -> str:
        """Keep one question and its Answer in the conversation (a new one when CONV_ID is not the
        user's); returns the conversation's id."""
        with self.db.session() as s:
            c = self._own(s, username, conv_id)
            if c is None:
                c = Conversation(id=uuid.uuid4().hex, username=username, title=title_of(question))
                s.add(c)
                s.flush()
                seq = 0
            else:
                seq = (s.scalar(select(func.max(Turn.seq)).where(Turn.conversation_id == c.id)) or 0)
            sources = [asdict(src) for src in answer.sources]  # all of it: the chat shows the cards again
            s.add(Turn(conversation_id=c.id, seq=seq + 1, question=question, answer=answer.answer,
                       notice=answer.notice or "", query=answer.query or "",
                       sources=json.dumps(sources, ensure_ascii=False)))
            c.updated_at = now()
            return c.id

    def rename(self, username: str, conv_id: str | None, title: str) -> None:
        title = clean_text(title, "title", 100)
        if not title:
            raise InputError("title", "请输入对话名称")
        with self.db.session() as s:
            c = self._own(s, username, conv_id)
            if c is None:
                raise InputError("conversation", "请先选择一个对话")
            c.title = title

    def delete(self, username: str, conv_id: str | None) -> None:
        with self.db.session() as s:
            c = self._own(s, username, conv_id)
            if c is None:
                raise InputError("conversation", "请先选择一个对话")
            s.delete(c)


# -- export ----------------------------------------------------------------------------
def _when(value) -> str:
    """A stored (naive UTC) time, in the server's time zone."""
    import datetime as dt

    return value.replace(tzinfo=dt.timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M") if value is not None else ""


def to_markdown(conv: ConversationData) -> str:
    lines = [f"# {conv.title}", "", f"导出自党务助手 · 最后更新 {_when(conv.updated_at)}", ""]
    for i, t in enumerate(conv.turns, 1):
        lines += [f"## {i}. 问：{t.question}", "", t.answer.strip(), ""]
        if t.notice:
            lines += [f"> 提示：{t.notice}", ""]
        for n, src in enumerate(t.sources, 1):
            label = f"《{src.get('title', '')}》{src.get('article', '')}"
            lines += [f"<details><summary>[{n}] {label}</summary>", "", str(src.get("text", "")).strip(), "",
                      "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_docx(conv: ConversationData, path: Path) -> Path:
    """The conversation as a 公文-style Word document: one numbered section per question."""
    from ..plans.gongwen import Section, write_docx as gongwen_docx

    sections = []
    for t in conv.turns:
        paragraphs = [ln for ln in t.answer.strip().splitlines() if ln.strip()]
        if t.notice:
            paragraphs.append(f"提示：{t.notice}")
        sections.append(Section(t.question, 1, paragraphs))
    return gongwen_docx(conv.title, sections, path, subtitle=f"党务助手问答记录（{_when(conv.updated_at)}）")
