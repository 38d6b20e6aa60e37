"""Text for the page. Everything a page shows that came from a document, a model or a user
is escaped here: nothing is ever rendered as raw HTML."""
from __future__ import annotations

import html
import re
from typing import Any

from ..citations import status_word

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+\-!|~])")


def esc(text: Any) -> str:
    """Text for an HTML context: every tag and entity shown as typed."""
    return html.escape(str(text if text is not None else ""), quote=True)


def esc_md(text: Any) -> str:
    """Markdown that may carry formatting (answers, generated plans), with HTML neutralised."""
    return html.escape(str(text if text is not None else ""), quote=False)


def esc_literal(text: Any) -> str:
    """Document text for a Markdown context: no HTML, no Markdown formatting."""
    out = _MD_SPECIAL.sub(r"\\\1", esc_md(text))
    return re.sub(r"(?m)^(\s*\d+)\.", r"\1\\.", out)


def source_title(s) -> str:
    """[1] 《title》第X条 · 现行 — the head of a source card."""
    label = s.label()
    if len(label) > 90:
        label = label[:88] + "…"
    return f"[{s.n}] {label} · {status_word(s.status)}"


def answer_markdown(text: str, notice: str = "") -> str:
    """An answer for the chat: escaped, with the 依据 block set apart from the last list item."""
    out = re.sub(r"\n(依据：)", r"\n\n\1", esc_md(text).strip())
    if notice:
        out += "\n\n> 提示：" + esc_md(notice)
    return out


def source_messages(answer) -> list[dict]:
    """One collapsible card per source: title, article, status, passage (all escaped)."""
    out = []
    for s in answer.sources:
        foot = f"\n\n来源文件：{esc_literal(s.source)}"
        if s.status == "superseded":
            foot += "（该文件已被修订，仅供对照，请以现行规定为准）"
        out.append({
            "role": "assistant",
            "content": esc_literal(s.text) + foot,
            "metadata": {"title": esc_md(source_title(s)), "status": "done"},
        })
    return out


def badge_html(label: str, notice: str = "") -> str:
    """The mode badge (离线模式 / 模型：…) with an optional notice beside it."""
    offline = not label or label == "离线模式"
    cls = "badge" if offline else "badge llm"
    text = "离线模式" if offline else (label if label.startswith("模型") else f"模型：{label}")
    out = f'<span class="{cls}">{esc(text)}</span>'
    if notice:
        out += f'<span class="notice">{esc(notice)}</span>'
    return out
