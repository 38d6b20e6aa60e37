"""Maintainers: write the vectors of the bundled cards (knowledge/vectors/e5small.npz).

    python scripts/stamp_vectors.py

Run after editing a card: a new data directory then loads our cards without embedding them
(tests/test_fresh_setup.py::test_our_cards_load_without_embedding fails while the file is out of date). Texts no card has any more are
dropped; unchanged ones are not embedded again.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.knowledge import Knowledge  # noqa: E402
from assistant.qa.embed import LocalE5  # noqa: E402
from assistant.qa.vectors import VectorCache  # noqa: E402
from assistant.settings import Settings, apply_offline_env  # noqa: E402


def _complete(cache: VectorCache, key: str, texts: list[str], embed) -> list[np.ndarray]:
    """The cached vectors of texts, the missing ones computed."""
    found = cache.lookup(key, texts)
    todo = [i for i, v in enumerate(found) if v is None]
    print(f"{key}: {len(texts)} 段，其中 {len(todo)} 段需要计算向量…", flush=True)
    for s in range(0, len(todo), 16):
        rows = todo[s:s + 16]
        for i, v in zip(rows, embed([texts[i] for i in rows])):
            found[i] = v
    return found


def main() -> int:
    apply_offline_env()
    knowledge = Knowledge.bundled()
    passages, questions = knowledge.index_texts(Settings().chunk_chars)
    e5 = LocalE5()
    path = knowledge.folder / "vectors" / f"{e5.key}.npz"
    old = VectorCache.load(path)
    entries = list(zip([e5.key] * len(passages), passages, _complete(old, e5.key, passages, e5.passages)))
    qkey = f"{e5.key}:query"
    entries += list(zip([qkey] * len(questions), questions, _complete(old, qkey, questions, e5.queries)))
    VectorCache.write(path, entries)
    print(f"已写入 {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
