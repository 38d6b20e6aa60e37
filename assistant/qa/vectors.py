"""Embeddings computed before, by model and text: the bundled knowledge ships its vectors
(knowledge/vectors/<model key>.npz, written by scripts/stamp_vectors.py): the passages'
vectors, and the query-side vectors of our own questions (model key "<key>:query"), so a new
data directory answers from our cards at once. A text the file does not hold (an edited card,
another model) is embedded as usual."""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)


def text_key(model_key: str, text: str) -> str:
    """The cache key of one text embedded by one model."""
    return hashlib.sha256(f"{model_key}\0{text}".encode()).hexdigest()[:20]


class VectorCache:
    """text key → vector, read from one .npz file (keys, float16 vectors)."""

    def __init__(self, vectors: dict[str, np.ndarray] | None = None) -> None:
        self._vectors = vectors or {}

    @classmethod
    def load(cls, path: Path) -> "VectorCache":
        """The cache in ``path``; an empty one when the file is absent or unreadable."""
        if not path.is_file():
            return cls()
        try:
            with np.load(path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"].astype(np.float32)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("向量缓存 %s 无法读取，将重新计算：%s", path.name, exc)
            return cls()
        return cls(dict(zip((str(k) for k in keys), vectors)))

    def __len__(self) -> int:
        return len(self._vectors)

    def lookup(self, model_key: str, texts: Sequence[str]) -> list[np.ndarray | None]:
        """The cached vector of each text, or None where there is none."""
        return [self._vectors.get(text_key(model_key, t)) for t in texts]

    @staticmethod
    def write(path: Path, entries: Sequence[tuple[str, str, np.ndarray]]) -> None:
        """Store (model key, text, vector) entries (float16 is plenty for ranking)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array([text_key(model_key, text) for model_key, text, _ in entries])
        vectors = np.vstack([v for _, _, v in entries]).astype(np.float16)
        np.savez_compressed(path, keys=keys, vectors=vectors)
