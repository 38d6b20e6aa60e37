"""Ingest files and folders: read, split, embed once, store; unchanged files cost nothing."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .index import Store, StoreError, index_text
from .load import SUPPORTED, Document, LoadError, load_file, read_manifest
from .split import Chunk, split_document

BATCH = 16


@dataclass
class IngestReport:
    """What one ingest run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks_embedded: int = 0
    embed_seconds: float = 0.0
    total_seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"新增 {len(self.added)} 篇，更新 {len(self.updated)} 篇，未变 {len(self.unchanged)} 篇，"
            f"失败 {len(self.failed)} 篇（嵌入 {self.chunks_embedded} 段，用时 {self.total_seconds:.1f} 秒）"
        )


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders. A folder with a manifest.json contributes the files it lists; otherwise
    every supported file below it. Files named explicitly are taken as given (and may fail)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            manifest = read_manifest(path)
            if manifest:
                out.extend(path / name for name in manifest if (path / name).is_file())
            else:
                out.extend(
                    p for p in sorted(path.rglob("*"))
                    if p.is_file() and p.suffix.lower() in SUPPORTED
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
        else:
            out.append(path)
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def ingest(
    paths: Iterable[Path | str],
    store: Store,
    progress: bool = True,
    on_file: Callable[[str, str], None] | None = None,
) -> IngestReport:
    """Ingest files and folders into the store. Per-file failures are reported, not raised;
    a failed file leaves what the store held for it untouched."""
    started = time.perf_counter()
    report = IngestReport()
    max_bytes = int(store.settings.max_file_mb * 1024 * 1024)
    existing = {d.doc_id: d for d in store.documents()}
    todo: list[tuple[Document, list[Chunk], bool]] = []
    manifests: dict[Path, dict] = {}

    def fail(name: str, reason: str) -> None:
        report.failed.append((name, reason))
        if on_file:
            on_file(name, "失败：" + reason)

    for path in collect_files(Path(p) for p in paths):
        name = path.name
        try:
            if not path.exists():
                raise LoadError("文件不存在")
            if path.parent not in manifests:
                manifests[path.parent] = read_manifest(path.parent)
            doc = load_file(path, manifests[path.parent], max_bytes)
            chunks = split_document(doc.text, doc.title)
            if not chunks:
                raise LoadError("没有可检索的正文")
        except LoadError as exc:
            fail(name, str(exc))
            continue
        except OSError as exc:
            fail(name, f"无法读取：{exc.strerror or exc}")
            continue
        old = existing.get(doc.doc_id)
        if old and old.sha == doc.sha and old.complete:
            report.unchanged.append(name)
            if on_file:
                on_file(name, "未变")
            continue
        todo.append((doc, chunks, old is not None))

    total = sum(len(c) for _, c, _ in todo)
    bar = None
    if progress and total:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="嵌入", unit="段", file=sys.stderr, dynamic_ncols=True)
    try:
        for doc, chunks, is_update in todo:
            meta = {"title": doc.title, "short": doc.short}
            texts = [index_text({**meta, "chapter": c.chapter}, c.text) for c in chunks]
            t0 = time.perf_counter()
            parts = []
            for s in range(0, len(texts), BATCH):
                parts.append(store.embedder.passages(texts[s:s + BATCH]))
                if bar:
                    bar.update(len(texts[s:s + BATCH]))
            report.embed_seconds += time.perf_counter() - t0
            vectors = np.vstack(parts)
            try:
                with store.write_lock():
                    store.put_document(doc, chunks, vectors)
            except StoreError as exc:
                fail(doc.source, str(exc))
                continue
            report.chunks_embedded += len(chunks)
            (report.updated if is_update else report.added).append(doc.source)
            if on_file:
                on_file(doc.source, "已更新" if is_update else "已导入")
    finally:
        if bar:
            bar.close()
    if todo:
        store.refresh_lexical()
    report.total_seconds = time.perf_counter() - started
    return report
