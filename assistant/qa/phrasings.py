"""Document expansion: how workers ask about each article, written by us in knowledge/questions/.

Each file names a regulation by its title and lists, per article, colloquial questions whose
answer is in that article, and a short digest of the article's opening words. When a user
imports a regulation, an article gets the phrasings written for an article that opens with the
same words (whatever its number or the document's title: an older edition with other numbering
never borrows the wrong article's phrasings). A file without digests applies by title and
number. The phrasings are indexed with the passages (embedded and tokenized, never shown), so
that "支委会多久开一次" finds the article on 党支部委员会会议. The passages themselves are unchanged.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import yaml

from ..citations import ARTICLE_LINE_RE, LABEL_FULL_RE
from .load import Document
from .split import Chunk

ANCHOR_SEP = " => "  # a phrasing may name the words of its article that answer it: "问题 => 锚点"
OPENING_CHARS = 60  # an article is recognised by the first characters of its text
MIN_KNOWN = 0.5  # phrasings apply when at least this share of a document's articles is recognised
log = logging.getLogger(__name__)


@dataclass
class Phrasings:
    """Every phrasing file: by title (for files without digests) and by article digest."""

    by_title: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = field(default_factory=dict)
    by_opening: dict[str, list[tuple[str, str, str, tuple[str, ...]]]] = field(default_factory=dict)  # (title, article, file, …)


def title_key(title: str) -> str:
    """A title as written in any of its usual forms: 《》, spaces and full-width brackets folded."""
    return re.sub(r"[\s《》]", "", unicodedata.normalize("NFKC", title))


def opening_digest(first_line: str) -> str:
    """Digest of an article's opening words: label, spaces and punctuation ignored."""
    m = ARTICLE_LINE_RE.match(first_line.strip())
    text = m.group(2) if m else first_line
    plain = "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum())
    return hashlib.sha256(plain[:OPENING_CHARS].encode()).hexdigest()[:12]


def article_digests(chunks: Sequence[Chunk]) -> dict[str, str]:
    """article → opening digest, from the first chunk of each article."""
    out: dict[str, str] = {}
    for c in chunks:
        if c.article and c.article not in out:
            out[c.article] = opening_digest(c.text.split("\n", 1)[0])
    return out


def load_phrasings(folder: Path) -> Phrasings:
    """Every phrasing file of the folder; re-read when a file changes."""
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    return _load(tuple((p, p.stat().st_mtime_ns, p.stat().st_size) for p in files))


@functools.lru_cache(maxsize=4)
def _load(files: tuple[tuple[Path, int, int], ...]) -> Phrasings:
    out = Phrasings()
    for path, _, _ in files:
        try:
            raw = path.read_bytes()
            data = yaml.safe_load(raw)
            if not isinstance(data, dict):
                raise ValueError("不是 title/articles 的映射")
            title, articles, digests = _title(data), _articles(data), _digests(data)
        except (OSError, ValueError, yaml.YAMLError) as exc:  # one bad file must not stop an import
            log.warning("问法文件 %s 未使用（需要 title 和 articles: {第X条: [问题, …]}）：%s", path.name, exc)
            continue
        file_digest = hashlib.sha256(raw).hexdigest()
        if digests:
            for article, items in articles.items():
                if article in digests:  # an opening shared by two regulations (施行/解释) is listed twice
                    out.by_opening.setdefault(digests[article], []).append((title_key(title), article, file_digest, items))
        else:
            out.by_title[title_key(title)] = (file_digest, articles)
    return out


def _title(data: dict) -> str:
    if not isinstance(data.get("title"), str) or not data["title"].strip():
        raise ValueError("缺少 title")
    return data["title"]


def _articles(data: dict) -> dict[str, tuple[str, ...]]:
    articles = data.get("articles")
    if not isinstance(articles, dict) or not articles:
        raise ValueError("缺少 articles")
    out = {}
    for article, items in articles.items():
        if not (isinstance(article, str) and LABEL_FULL_RE.match(article)):
            raise ValueError(f"条号 {article!r} 应写成 第X条（无条文的文件写 第X部分 或 第X点）")
        if not isinstance(items, list) or not all(isinstance(p, str) for p in items):
            raise ValueError(f"{article} 的问法应是一个文字列表")
        out[article] = tuple(p.strip() for p in items if p.strip())
    return out


def _digests(data: dict) -> dict[str, str]:
    digests = data.get("digests") or {}
    if not isinstance(digests, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in digests.items()):
        raise ValueError("digests 应是 第X条: 摘要 的映射")
    return digests


def question_of(phrasing: str) -> str:
    """The question of a phrasing written "问题 => 锚点"."""
    return phrasing.split(ANCHOR_SEP, 1)[0].strip()


def anchor_of(phrasing: str) -> str:
    """The anchor of a phrasing (the words of the article that answer it), or ""."""
    return phrasing.split(ANCHOR_SEP, 1)[1].strip() if ANCHOR_SEP in phrasing else ""


def _anchors_in(text: str, phrasings: Sequence[str]) -> str:
    """JSON [[question, anchor], …] of the phrasings whose anchor is in this chunk's text."""
    plain = _plain(text)
    pairs = [[question_of(p), anchor_of(p)] for p in phrasings if anchor_of(p) and _plain(anchor_of(p)) in plain]
    return json.dumps(pairs, ensure_ascii=False) if pairs else ""


def _plain(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def expand(doc: Document, chunks: Sequence[Chunk], table: Phrasings) -> tuple[Document, list[Chunk]]:
    """The document and its chunks with each chunk's phrasings attached (table: load_phrasings).
    The document's sha then covers the phrasing files used, so editing one re-indexes it."""
    found: dict[str, tuple[str, ...]] = {}
    used: set[str] = set()
    title = title_key(doc.title)
    digests = article_digests(chunks)
    for article, digest in digests.items():
        if digest in table.by_opening:
            # an opening shared by several articles (boilerplate such as 有下列行为之一…): the
            # same title and number first, then the same number, then the same title
            candidates = sorted(table.by_opening[digest], key=lambda c: (c[1] != article or c[0] != title,
                                                                           c[1] != article, c[0] != title))
            _, _, file_digest, found[article] = candidates[0]
            used.add(file_digest)
    if len(found) < MIN_KNOWN * len(digests):  # a few shared boilerplate articles: another regulation
        found, used = {}, set()
    if not found and title in table.by_title:
        file_digest, found = table.by_title[title]
        used.add(file_digest)
    if not found:
        return doc, list(chunks)
    chunks = [replace(c, terms=" ".join(question_of(p) for p in found.get(c.article, ())),
                      anchors=_anchors_in(c.text, found.get(c.article, ()))) for c in chunks]
    stamp = ":".join([doc.sha, *sorted(used)])
    return replace(doc, sha=hashlib.sha256(stamp.encode()).hexdigest()), chunks
