"""Text for the page. Everything a page shows that came from a document, a model or a user
is escaped here: nothing is ever rendered as raw HTML."""
from __future__ import annotations

import html
import re
from typing import Any, Callable

from ..citations import cited_refs, status_word
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


def source_kind(s) -> str:
    """知识卡 for one of our cards (our own words, with the articles they rest on), 法规原文 for a
    passage of an imported text."""
    from ..knowledge import OUR_KINDS

    return "知识卡" if getattr(s, "kind", "") in OUR_KINDS else "法规原文"


def _cut(text: str, n: int = 90) -> str:
    return text if len(text) <= n else text[:n - 2] + "…"


def source_title(s) -> str:
    """The head of a source card: [1] 知识卡：《支委会》·会议频次 · 依据《…》第十条 for one of our
    cards, [2] 法规原文：《…》第十条 · 现行 for an imported text."""
    if source_kind(s) == "知识卡":
        part = f"·{s.chapter}" if s.chapter else ""
        head = f"《{s.title}》{part}" + (f" · 依据{s.basis}" if s.basis else "")
        return f"[{s.n}] 知识卡：{_cut(head)}"
    return f"[{s.n}] 法规原文：{_cut(f'《{s.title}》{s.article}')} · {status_word(s.status)}"


_BASIS_BLOCK_RE = re.compile(r"\n*^依据：[ \t]*\n(?:[ \t]*\[\d+\][^\n]*(?:\n|\Z))+\s*\Z", re.M)


def without_basis(text: str) -> str:
    """The answer without its closing 依据 block (the chat shows the sources once, as cards; the
    exports and the API keep the block)."""
    return _BASIS_BLOCK_RE.sub("", text or "").rstrip()


def answer_markdown(text: str, notice: str = "", basis: bool = False) -> str:
    """An answer for the chat: escaped, links from documents shown as text with their address
    (never clickable); its 依据 block left out (the source cards below say it), or with BASIS
    kept and set apart from the last list item."""
    text = text if basis else without_basis(text)
    out = re.sub(r"\n(依据：)", r"\n\n\1", esc_answer(text).strip())
    if notice:
        out += "\n\n> 提示：" + esc_answer(notice)
    return out


def esc_answer(text: Any) -> str:
    """Answer text (which may carry Markdown formatting) for the chat: HTML neutralised, Markdown
    links and autolinks turned into text with their address, bare addresses not linked."""
    return no_autolinks(esc_md(plain_links(str(text if text is not None else ""))))


#: (title, article) → (official title, article, status, text) of an imported regulation, or None
ArticleLookup = Callable[[str, str], "tuple[str, str, str, str] | None"]


def source_messages(answer, provenance: dict[str, str] | None = None, lookup: ArticleLookup | None = None,
                    key: str = "") -> list[dict]:
    """One collapsible card per source, all escaped. A 法规原文 card: the article's passage, the
    file and who imported it when (``provenance``: doc_id → 导入：…). A 知识卡 card: the card's
    section in our words and the articles it rests on; under it, one nested card per cited
    article whose regulation is imported (``lookup``), else a line saying the text is not
    imported. KEY makes the nested cards' ids unique within a conversation."""
    out = []
    for s in answer.sources:
        foot = f"\n\n来源文件：{esc_literal(s.source)}"
        if provenance is not None:
            foot += f"（{esc_literal(provenance.get(s.source) or '导入：未记录')}）"
        if s.status == "superseded":
            foot += "（该文件已被修订，仅供对照，请以现行规定为准）"
        card_id = f"src-{key}-{s.n}"
        if source_kind(s) == "法规原文":
            out.append({"role": "assistant", "content": "**法规原文**\n\n" + esc_literal(s.text) + foot,
                        "metadata": {"title": esc_md(source_title(s)), "status": "done", "id": card_id}})
            continue
        refs = list(dict.fromkeys(cited_refs(s.basis or "")))
        found = [(ref, lookup(*ref) if lookup else None) for ref in refs]
        lines = ["**知识卡**（我们自己的话，附条款；不是法规原文）", esc_literal(s.text)]
        if s.basis:
            lines.append("本卡依据：" + esc_literal(s.basis))
        missing = [f"《{t}》{a}" for (t, a), hit in found if hit is None]
        if missing:
            lines.append("原文未导入：" + esc_literal("、".join(missing)) + "（导入后可在此展开条文，见“开始使用”）")
        elif refs:
            lines.append("展开下面的条目可查看所依据的法规原文。")
        out.append({"role": "assistant", "content": "\n\n".join(lines) + foot,
                    "metadata": {"title": esc_md(source_title(s)), "status": "done", "id": card_id}})
        for k, ((title, article), hit) in enumerate(found):
            if hit is None:
                continue
            official, label, status, text = hit
            out.append({"role": "assistant",
                        "content": "**法规原文**\n\n" + esc_literal(text),
                        "metadata": {"title": esc_md(f"法规原文：{_cut(f'《{official}》{label}')} · {status_word(status)}"),
                                     "status": "done", "id": f"{card_id}-{k}", "parent_id": card_id}})
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
