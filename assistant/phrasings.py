"""Document expansion: how workers ask about each article, written by us in knowledge/questions/.

Each file names a regulation by its title and lists, per article, colloquial questions whose
answer is in that article. When a user imports that regulation, the phrasings of an article
are indexed with its passages (embedded and tokenized, never shown), so that "支委会多久开一次"
finds the article that says 党支部委员会会议每月召开. The passages themselves are unchanged.
"""
from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import yaml

from .config import KNOWLEDGE_DIR
from .load import Document
from .split import Chunk

PHRASINGS_DIR = KNOWLEDGE_DIR / "questions"


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
        raw = path.read_bytes()
        try:
            data = yaml.safe_load(raw)
            articles = {str(a): tuple(str(p).strip() for p in ps or [] if str(p).strip())
                        for a, ps in (data.get("articles") or {}).items()}
            out[title_key(str(data["title"]))] = (hashlib.sha256(raw).hexdigest(), articles)
        except (yaml.YAMLError, AttributeError, KeyError, TypeError) as exc:
            raise ValueError(f"问法文件 {path.name} 格式有误（需要 title 和 articles）：{exc}") from exc
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
