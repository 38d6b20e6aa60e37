"""Structure-aware splitting: regulations by 第X条 (long ones at 款/项), others by heading and paragraph."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..citations import ARTICLE_LINE_RE as ARTICLE_RE, CHAPTER_LINE_RE as CHAPTER_RE, SECTION_LINE_RE, point_label, section_label
from ..numerals import cn_to_int

MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+)$")
SENTENCE_END_RE = re.compile(r"(?<=[。；！？])")

MAX_CHARS = 380  # the default of Settings.chunk_chars


@dataclass
class Chunk:
    """A retrievable passage with where it sits in its document."""

    text: str
    article: str = ""
    chapter: str = ""
    terms: str = ""  # search-only words indexed with the passage, never shown (see phrasings)
    anchors: str = ""  # JSON [[question, anchor], …]: which words of the passage answer which phrasing


def is_regulation(text: str) -> bool:
    """A text with several lines opening 第X条 is split article by article."""
    return sum(1 for ln in text.split("\n") if ARTICLE_RE.match(ln.strip())) >= 3


def _is_bare_heading(line: str) -> bool:
    """Short unpunctuated lines such as 总则、附则、党费收缴、总　纲."""
    return len(line) <= 12 and not re.search(r"[。；，：、（）()“”]", line) and not line[0].isdigit()


def _pieces(text: str, limit: int) -> list[str]:
    """Cut an over-long line at sentence ends, greedily up to limit characters."""
    if len(text) <= limit:
        return [text]
    out: list[str] = []
    buf = ""
    for sent in (s for s in SENTENCE_END_RE.split(text) if s):
        while len(sent) > limit:
            if buf:
                out.append(buf)
                buf = ""
            out.append(sent[:limit])
            sent = sent[limit:]
        if len(buf) + len(sent) > limit and buf:
            out.append(buf)
            buf = ""
        buf += sent
    if buf:
        out.append(buf)
    return out


def _pairs(lines: list[str]) -> list[str]:
    """The lines with each card question (问：…) joined to its answer (答：…): one passage holds both."""
    out: list[str] = []
    for line in lines:
        if out and line.startswith(("答：", "答:")) and out[-1].startswith(("问：", "问:")) and "\n" not in out[-1]:
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


def _pack(lines: list[str], limit: int, prefix: str = "") -> list[str]:
    """Group whole lines into passages of at most limit characters; each later passage starts with prefix."""
    units = [p for ln in _pairs(lines) for p in _pieces(ln, limit - len(prefix) - 1)]
    out: list[str] = []
    buf: list[str] = []
    size = 0
    for unit in units:
        if buf and size + len(unit) + 1 > limit - (len(prefix) + 1 if out else 0):
            out.append("\n".join(buf))
            buf, size = [], 0
        buf.append(unit)
        size += len(unit) + 1
    if buf:
        out.append("\n".join(buf))
    return [out[0]] + [f"{prefix}\n{p}" if prefix else p for p in out[1:]] if out else []


def _split_article(label: str, lines: list[str], chapter: str, limit: int) -> list[Chunk]:
    body = "\n".join(lines)
    if len(body) <= limit:
        return [Chunk(body, label, chapter)]
    lead = lines[0]
    prefix = lead if len(lead) <= 80 and lead.endswith(("：", ":")) else f"{label}（续）"
    if not prefix.startswith(label):
        prefix = f"{label} {prefix}"
    return [Chunk(p, label, chapter) for p in _pack(lines, limit, prefix)]


def split_regulation(text: str, title: str = "", limit: int = MAX_CHARS) -> list[Chunk]:
    """One chunk per article; a long article splits at its 款/项 with the label repeated."""
    chunks: list[Chunk] = []
    chapter = ""
    label = ""
    body: list[str] = []
    preamble: list[str] = []

    def flush() -> None:
        nonlocal label, body, preamble
        if label:
            chunks.extend(_split_article(label, body, chapter, limit))
        elif preamble:
            chunks.extend(Chunk(p, "", chapter) for p in _pack(preamble, limit))
        label, body, preamble = "", [], []

    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if lines and title and lines[0].replace("《", "").replace("》", "") == title:
        lines = lines[1:]
    for line in lines:
        m = ARTICLE_RE.match(line)
        if m:
            flush()
            label = m.group(1)
            body = [f"{label} {m.group(2)}".strip()]
        elif CHAPTER_RE.match(line) and len(line) <= 40 or (_is_bare_heading(line) and not label):
            flush()
            chapter = re.sub(r"[\s\u3000]+", " ", line)
        elif _is_bare_heading(line) and label and not body[-1].endswith(("：", ":")):
            flush()
            chapter = re.sub(r"[\s\u3000]+", " ", line)
        elif label:
            body.append(line)
        else:
            preamble.append(line)
    flush()
    return chunks


def split_sections(text: str, limit: int = MAX_CHARS) -> list[Chunk]:
    """Split at headings and paragraphs; each chunk carries the nearest heading. In a text
    without articles, a numbered heading (九、严格党的组织生活制度) starts 第九部分 and a numbered
    paragraph (三、对……) starts 第三点: their chunks carry that label as their article; in a
    text of 部分, what comes before the first one is its 序言."""
    chunks: list[Chunk] = []
    heading = article = ""
    paras: list[str] = []

    def flush() -> None:
        nonlocal paras
        if paras:
            chunks.extend(Chunk(p, article, heading) for p in _pack(paras, limit))
        paras = []

    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        md = MD_HEADING_RE.match(line)
        numbered = SECTION_LINE_RE.match(line)
        if md:
            flush()
            heading, article = md.group(2).strip(), ""
            continue
        if numbered and cn_to_int(numbered.group(1)) is not None:
            flush()
            if len(line) <= 40 and "。" not in line[:-1]:
                heading, article = line, section_label(numbered.group(1))
                continue
            article = point_label(numbered.group(1))
        paras.append(line)
    flush()
    if any(c.article.endswith("部分") for c in chunks):  # what precedes the first 部分 is its 序言
        for c in chunks:
            if c.article:
                break
            c.article = "序言"
    return chunks


def split_document(text: str, title: str = "", limit: int = MAX_CHARS) -> list[Chunk]:
    """Choose the splitter by the document's structure."""
    return split_regulation(text, title, limit) if is_regulation(text) else split_sections(text, limit)
