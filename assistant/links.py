"""Links that come from documents, shown as text.

An imported document is material, not a page of ours: a Markdown link in it
(``[党费缴纳官方平台](https://evil.example/login)``) or an autolink (``<https://…>``) must never
become a clickable link that carries the document's wording. Every answer (the chat, /ask, the
command line, exports) shows it as its wording followed by the address in full
(``党费缴纳官方平台（链接：https://evil.example/login）``), and a page that renders Markdown also
keeps a bare address from being turned into a link (``web/render.py``).
"""
from __future__ import annotations

import re

# [wording](address "title") and ![alt](address); the address may be <bracketed>
MD_LINK_RE = re.compile(r"!?\[([^\[\]\n]{0,300})\]\(\s*<?([^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*)>?(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)")
# <https://…>, <mailto:…>: CommonMark autolinks (any scheme)
AUTOLINK_RE = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\s]*)>")
# [wording][ref] … [ref]: address
REF_LINK_RE = re.compile(r"\[([^\[\]\n]{1,300})\]\[([^\[\]\n]{0,100})\]")
REF_DEF_RE = re.compile(r"(?m)^[ \t]{0,3}\[([^\[\]\n]{1,100})\]:[ \t]*<?(\S+?)>?(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*$")
# a bare address a Markdown renderer (GFM) would turn into a link
BARE_URL_RE = re.compile(r"(?i)\b(?:(?:https?|ftp|file|mailto|javascript|data|vbscript):|www\.)[^\s<>（）]*")


def _shown(wording: str, address: str) -> str:
    wording, address = wording.strip(), address.strip()
    if not address:
        return wording
    if not wording or wording == address:
        return f"（链接：{address}）"
    return f"{wording}（链接：{address}）"


def plain_links(text: str) -> str:
    """Markdown links, reference links and autolinks as text: their wording, then the address in full."""
    if not text or ("](" not in text and "<" not in text and "][" not in text and "]:" not in text):
        return text
    refs = {m.group(1).strip().lower(): m.group(2) for m in REF_DEF_RE.finditer(text)}
    text = MD_LINK_RE.sub(lambda m: _shown(m.group(1), m.group(2)), text)
    if refs:
        text = REF_LINK_RE.sub(lambda m: _shown(m.group(1), refs.get((m.group(2) or m.group(1)).strip().lower(), ""))
                               if (m.group(2) or m.group(1)).strip().lower() in refs else m.group(0), text)
        text = REF_DEF_RE.sub(lambda m: f"[{m.group(1)}]（链接：{m.group(2)}）", text)
    return AUTOLINK_RE.sub(lambda m: m.group(1), text)


def has_link(text: str) -> bool:
    """Whether a text holds a link a Markdown renderer would make clickable."""
    return bool(MD_LINK_RE.search(text) or AUTOLINK_RE.search(text) or BARE_URL_RE.search(text))


def unlink_answer(answer):
    """An Answer (assistant.qa.answer) whose text and passages show their links as text."""
    from dataclasses import replace

    if answer is None:
        return None
    sources = [replace(s, text=plain_links(s.text)) if has_link(s.text) else s for s in answer.sources]
    return replace(answer, answer=plain_links(answer.answer), sources=sources)
