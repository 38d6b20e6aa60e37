"""Document expansion: how workers ask about each article, written by us in knowledge/questions/.

Each file names a regulation by its title and lists, per article, colloquial questions whose
answer is in that article. When a user imports that regulation, the phrasings of an article
are indexed with its passages (embedded and tokenized, never shown), so that "支委会多久开一次"
finds the article that says 党支部委员会会议每月召开. The passages themselves are unchanged.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import yaml

from .config import KNOWLEDGE_DIR
from .load import Document
from .split import NUM, Chunk

PHRASINGS_DIR = KNOWLEDGE_DIR / "questions"
ARTICLE_KEY_RE = re.compile(rf"^第[{NUM}]+条$")
log = logging.getLogger(__name__)


def title_key(title: str) -> str:
    """A title as written in any of its usual forms: 《》, spaces and full-width brackets folded."""
    return re.sub(r"[\s《》]", "", unicodedata.normalize("NFKC", title))


def load_phrasings(folder: Path = PHRASINGS_DIR) -> dict[str, tuple[str, dict[str, tuple[str, ...]]]]:
    """title key → (digest of the file, article → phrasings); re-read when a file changes."""
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    return _load(tuple((p, p.stat().st_mtime_ns, p.stat().st_size) for p in files))


@functools.lru_cache(maxsize=4)
def _load(files: tuple[tuple[Path, int, int], ...]) -> dict[str, tuple[str, dict[str, tuple[str, ...]]]]:
    out: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {}
    for path, _, _ in files:
        try:
            raw = path.read_bytes()
            data = yaml.safe_load(raw)
            if not isinstance(data, dict):
                raise ValueError("不是 title/articles 的映射")
            out[title_key(_title(data))] = (hashlib.sha256(raw).hexdigest(), _articles(data))
        except (OSError, ValueError, yaml.YAMLError) as exc:  # one bad file must not stop an import
            log.warning("问法文件 %s 未使用（需要 title 和 articles: {第X条: [问题, …]}）：%s", path.name, exc)
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
        if not (isinstance(article, str) and ARTICLE_KEY_RE.match(article)):
            raise ValueError(f"条号 {article!r} 应写成 第X条")
        if not isinstance(items, list) or not all(isinstance(p, str) for p in items):
            raise ValueError(f"{article} 的问法应是一个文字列表")
        out[article] = tuple(p.strip() for p in items if p.strip())
    return out


def expand(doc: Document, chunks: Sequence[Chunk], folder: Path | None = None) -> tuple[Document, list[Chunk]]:
    """The document and its chunks with each chunk's phrasings attached (folder: PHRASINGS_DIR).
    The document's sha then covers its phrasings too, so editing a phrasing file re-indexes it."""
    found = load_phrasings(folder or PHRASINGS_DIR).get(title_key(doc.title))
    if not found:
        return doc, list(chunks)
    digest, articles = found
    chunks = [replace(c, terms=" ".join(articles.get(c.article, ()))) for c in chunks]
    return replace(doc, sha=hashlib.sha256(f"{doc.sha}:{digest}".encode()).hexdigest()), chunks
