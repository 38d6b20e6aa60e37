"""Text for the page. Everything a page shows that came from a document, a model or a user
is escaped here: nothing is ever rendered as raw HTML."""
from __future__ import annotations

import html
import re
from typing import Any

from ..citations import status_word
from ..links import BARE_URL_RE, plain_links

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+\-!|~])")
_EMAIL_AT_RE = re.compile(r"(?<=[A-Za-z0-9._+\-])@(?=[A-Za-z0-9\-]+\.)")


def esc(text: Any) -> str:
    """Text for an HTML context: every tag and entity shown as typed."""
    return html.escape(str(text if text is not None else ""), quote=True)


def esc_md(text: Any) -> str:
    """Markdown that may carry formatting (answers, generated plans), with HTML neutralised."""
    return html.escape(str(text if text is not None else ""), quote=False)


def no_autolinks(markdown: str) -> str:
    """Markdown in which a bare address (https://…, www.…, a@b.cn) stays text: GFM would make it
    a link, so the characters it recognises one by are escaped (the page still shows them)."""
    out = BARE_URL_RE.sub(lambda m: re.sub(r"(?<!\\)([:.@])", r"\\\1", m.group(0)), markdown)
    return _EMAIL_AT_RE.sub(r"\\@", out)


def esc_literal(text: Any) -> str:
    """Document text for a Markdown context: no HTML, no Markdown formatting, no links."""
    out = _MD_SPECIAL.sub(r"\\\1", esc_md(text))
    return no_autolinks(re.sub(r"(?m)^(\s*\d+)\.", r"\1\\.", out))


def source_title(s) -> str:
    """[1] 《title》第X条 · 现行 — the head of a source card."""
    label = s.label()
    if len(label) > 90:
        label = label[:88] + "…"
    return f"[{s.n}] {label} · {status_word(s.status)}"


def answer_markdown(text: str, notice: str = "") -> str:
    """An answer for the chat: escaped, links from documents shown as text with their address
    (never clickable), the 依据 block set apart from the last list item."""
    out = re.sub(r"\n(依据：)", r"\n\n\1", esc_answer(text).strip())
    if notice:
        out += "\n\n> 提示：" + esc_answer(notice)
    return out


def esc_answer(text: Any) -> str:
    """Answer text (which may carry Markdown formatting) for the chat: HTML neutralised, Markdown
    links and autolinks turned into text with their address, bare addresses not linked."""
    return no_autolinks(esc_md(plain_links(str(text if text is not None else ""))))


def source_messages(answer, provenance: dict[str, str] | None = None) -> list[dict]:
    """One collapsible card per source: title, article, status, passage, the file and who
    imported it when (``provenance``: doc_id → 导入：…), all escaped."""
    out = []
    for s in answer.sources:
        foot = f"\n\n来源文件：{esc_literal(s.source)}"
        if provenance is not None:
            foot += f"（{esc_literal(provenance.get(s.source) or '导入：未记录')}）"
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
