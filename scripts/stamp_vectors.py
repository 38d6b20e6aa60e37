"""Maintainers: write the vectors of the bundled cards (knowledge/vectors/e5small.npz).

    python scripts/stamp_vectors.py

Run after editing a card: a new data directory then loads our cards without embedding them
(tests/test_bundled.py fails while the file is out of date). Texts no card has any more are
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


def main() -> int:
    apply_offline_env()
    knowledge = Knowledge.bundled()
    texts = knowledge.index_texts(Settings().chunk_chars)
    e5 = LocalE5()
    path = knowledge.folder / "vectors" / f"{e5.key}.npz"
    old = VectorCache.load(path).lookup(e5.key, texts)
    todo = [i for i, v in enumerate(old) if v is None]
    print(f"{len(texts)} 段，其中 {len(todo)} 段需要计算向量…", flush=True)
    for s in range(0, len(todo), 16):
        rows = todo[s:s + 16]
        for i, v in zip(rows, e5.passages([texts[i] for i in rows])):
            old[i] = v
    VectorCache.write(path, e5.key, texts, np.vstack(old))
    print(f"已写入 {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
