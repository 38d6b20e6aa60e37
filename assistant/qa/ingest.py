"""Ingest files and folders: read, split, embed once, store; unchanged files cost nothing."""
from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from ..errors import LoadError, StoreError
from ..knowledge import OUR_KINDS
from .index import Store, index_texts
from .load import SUPPORTED, Document, load_file, read_manifest
from .phrasings import Phrasings, expand
from .split import Chunk, split_document
from .compose import ask_key, our_questions
from .vectors import VectorCache

BATCH = 16
# bump whenever what a document's chunks hold changes (splitting, search terms, anchors): every
# document is then indexed again on its next import, as when its file changes
INDEX_VERSION = 3


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


def _inside(folder: Path, name: str) -> Path | None:
    """folder/name when it stays inside folder (a manifest may not point at ../ or /etc)."""
    candidate = folder / name
    try:
        if candidate.resolve().is_relative_to(folder.resolve()) and candidate.is_file():
            return candidate
    except (OSError, ValueError):
        pass
    return None


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders. A folder with a manifest.json contributes the files it lists; otherwise
    every supported file below it. Files named explicitly are taken as given (and may fail).
    An unreadable manifest.json does not stop the batch: the folder's files are taken and
    each of them fails with the manifest's error when it is read."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            try:
                manifest = read_manifest(path)
            except LoadError:
                manifest = {}
            if manifest:
                out.extend(p for name in manifest if (p := _inside(path, name)) is not None)
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


def read_document(path: Path, manifest: dict, phrasings: Phrasings, chunk_chars: int,
                  max_bytes: int = 50 * 1024 * 1024) -> tuple[Document, list[Chunk]]:
    """A file as the knowledge base indexes it: the document and its chunks, phrasings attached."""
    doc = load_file(path, manifest, max_bytes)
    doc = replace(doc, sha=hashlib.sha256(f"{doc.sha}:{INDEX_VERSION}:{chunk_chars}".encode()).hexdigest())
    chunks = split_document(doc.text, doc.title, chunk_chars)
    if not chunks:
        raise LoadError("没有可检索的正文")
    if doc.kind in OUR_KINDS and doc.extra.get("tags"):  # a card's tags: search terms of every passage
        tags = " ".join(str(t) for t in doc.extra["tags"])
        chunks = [replace(c, terms=tags) for c in chunks]
    return expand(doc, chunks, phrasings)


def _embed(texts: list[str], store: Store, cache: VectorCache | None, bar) -> np.ndarray:
    """The passage vectors of texts: from the cache where it has them, else from the embedder."""
    found = cache.lookup(store.embedder.key, texts) if cache else [None] * len(texts)
    missing = [i for i, v in enumerate(found) if v is None]
    if bar and len(missing) < len(texts):
        bar.update(len(texts) - len(missing))
    for s in range(0, len(missing), BATCH):
        rows = missing[s:s + BATCH]
        for i, v in zip(rows, store.embedder.passages([texts[i] for i in rows])):
            found[i] = v
        if bar:
            bar.update(len(rows))
    return np.vstack(found) if found else np.zeros((0, 1), dtype=np.float32)


def _embed_questions(doc: Document, chunks: Sequence[Chunk], store: Store, cache: VectorCache | None) -> None:
    """Store the query vectors of our own questions in these chunks (card 问 lines, anchored
    phrasings) that the store does not have yet: the answer composer compares them with the
    user's question."""
    questions = list(dict.fromkeys(q for c in chunks for q in our_questions(c.text, c.anchors)))
    if not questions:
        return
    keys = [ask_key(store.embedder.key, q) for q in questions]
    todo = set(store.missing_asks(keys))
    rows = [(k, q) for k, q in zip(keys, questions) if k in todo]
    if not rows:
        return
    found = cache.lookup(f"{store.embedder.key}:query", [q for _, q in rows]) if cache else [None] * len(rows)
    missing = [i for i, v in enumerate(found) if v is None]
    for s in range(0, len(missing), BATCH):
        part = missing[s:s + BATCH]
        for i, v in zip(part, store.embedder.queries([rows[i][1] for i in part])):
            found[i] = v
    store.put_asks([k for k, _ in rows], np.vstack(found))


def ingest(
    paths: Iterable[Path | str],
    store: Store,
    phrasings: Phrasings,
    progress: bool = True,
    on_file: Callable[[str, str], None] | None = None,
    cache: VectorCache | None = None,
) -> IngestReport:
    """Ingest files and folders into the store, attaching the phrasings (knowledge/questions)
    to the articles they were written for; vectors found in ``cache`` are not computed again.
    Per-file failures are reported, not raised; a failed file leaves what the store held for
    it untouched."""
    started = time.perf_counter()
    report = IngestReport()
    max_bytes = int(store.settings.max_file_mb * 1024 * 1024)
    existing = {d.doc_id: d for d in store.documents()}
    todo: list[tuple[Document, list[Chunk], bool]] = []
    manifests: dict[Path, dict] = {}

    def fail(name: str, reason: str) -> None:
        reason = " ".join(reason.split())[:300]  # one line, whatever a library put in its message
        report.failed.append((name, reason))
        if on_file:
            on_file(name, "失败：" + reason)

    taken: dict[str, Path] = {}
    for path in collect_files(Path(p) for p in paths):
        name = path.name
        try:
            if not path.is_file():
                raise LoadError("不是文件" if path.exists() else "文件不存在")
            if path.parent not in manifests:
                manifests[path.parent] = read_manifest(path.parent)
            doc, chunks = read_document(path, manifests[path.parent], phrasings, store.settings.chunk_chars, max_bytes)
        except LoadError as exc:
            fail(name, str(exc))
            continue
        except OSError as exc:
            fail(name, f"无法读取：{exc.strerror or exc}")
            continue
        except RecursionError:
            fail(name, "文件结构嵌套过深，无法解析")
            continue
        except Exception as exc:  # a parser bug on one odd file must not stop the batch
            fail(name, f"无法读取：{type(exc).__name__}: {exc}")
            continue
        if doc.doc_id in taken:
            # Documents are keyed by file name: a second file of that name would silently
            # replace the first one's chunks in this very run.
            fail(name, f"与本批中的 {taken[doc.doc_id]} 同名（知识库按文件名区分文档），请改名后再导入")
            continue
        taken[doc.doc_id] = path
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
    write_error = ""
    try:
        for doc, chunks, is_update in todo:
            if write_error:
                # After a failed write (disk full, read-only, I/O error) Chroma's next write can
                # hang for good: stop writing and let the re-run pick these documents up.
                fail(doc.source, f"未写入：本次导入中知识库写入已出错（{write_error}），请排除后重新运行")
                if bar:
                    bar.update(len(chunks))
                continue
            texts = index_texts(doc, chunks)
            t0 = time.perf_counter()
            try:
                _embed_questions(doc, chunks, store, cache)
                vectors = _embed(texts, store, cache, bar)
                if vectors.shape[0] != len(chunks) or not np.isfinite(vectors).all():
                    raise ValueError(f"得到 {vectors.shape[0]} 个向量，应为 {len(chunks)} 个或含非数值")
            except Exception as exc:  # embedding endpoint down, model error: this document fails
                fail(doc.source, f"向量计算失败：{type(exc).__name__}: {exc}")
                continue
            finally:
                report.embed_seconds += time.perf_counter() - t0
            try:
                with store.write_lock():
                    store.put_document(doc, chunks, vectors)
            except StoreError as exc:
                fail(doc.source, str(exc))
                write_error = " ".join(str(exc).split())[:200]
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
