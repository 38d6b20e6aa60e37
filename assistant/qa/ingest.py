"""Ingest files and folders: read, split, embed once, store; unchanged files cost nothing."""
from __future__ import annotations

import hashlib
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from ..errors import Cancelled, LoadError, StoreError
from ..knowledge import OUR_KINDS
from .index import DocInfo, Store, displaced, index_texts, status_meta
from .load import SUPPORTED, Document, Limits, load_file, read_manifest
from .phrasings import Phrasings, expand
from .split import Chunk, split_document
from .compose import ask_key, our_questions
from .vectors import VectorCache

BATCH = 16
# bump whenever what a document's chunks hold changes (splitting, search terms, anchors): every
# document is then indexed again on its next import, as when its file changes, and every data dir
# takes our cards again (Knowledge.fingerprint)
INDEX_VERSION = 4


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
    superseded: list[tuple[str, str]] = field(default_factory=list)  # (《title》（effective）, by which file)
    cancelled: bool = False

    def summary(self) -> str:
        text = (
            f"新增 {len(self.added)} 篇，更新 {len(self.updated)} 篇，未变 {len(self.unchanged)} 篇，"
            f"失败 {len(self.failed)} 篇（嵌入 {self.chunks_embedded} 段，用时 {self.total_seconds:.1f} 秒）"
        )
        if self.superseded:
            text += "；" + "；".join(f"{old}已被 {new} 取代（现为已被修订）" for old, new in self.superseded)
        return ("已取消，未完成的文件没有写入：" + text) if self.cancelled else text


@dataclass
class Conflict:
    """What importing a file would do to a document already in the knowledge base."""

    source: str  # the file to import
    kind: str  # "supersedes": makes it 已被修订; "replaces": the same file name, its text replaced
    target: DocInfo

    def text(self) -> str:
        if self.kind == "supersedes":
            return f"{self.source} 将取代{self.target.cite()}"
        return f"{self.source} 将替换已有的同名文档{self.target.cite()}（{self.target.provenance()}）"


def now_text() -> str:
    """The time an import is recorded with (local time, to the microsecond: it also orders versions)."""
    return datetime.now().isoformat(timespec="microseconds")


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
                  max_bytes: int | None = None, limits: Limits | None = None) -> tuple[Document, list[Chunk]]:
    """A file as the knowledge base indexes it: the document and its chunks, phrasings attached.
    Over a limit (size, archive part, characters, passages) it fails before the work."""
    limits = limits or Limits()
    doc = load_file(path, manifest, max_bytes, limits)
    doc = replace(doc, sha=hashlib.sha256(f"{doc.sha}:{INDEX_VERSION}:{chunk_chars}".encode()).hexdigest())
    chunks = split_document(doc.text, doc.title, chunk_chars)
    if not chunks:
        raise LoadError("没有可检索的正文")
    limits.check_chunks(len(chunks))
    if doc.kind in OUR_KINDS and doc.extra.get("tags"):  # a card's tags: search terms of every passage
        tags = " ".join(str(t) for t in doc.extra["tags"])
        chunks = [replace(c, terms=tags) for c in chunks]
    return expand(doc, chunks, phrasings)


def _embed(texts: list[str], store: Store, cache: VectorCache | None, bar,
           cancel: threading.Event | None = None, step: Callable[[int], None] | None = None) -> np.ndarray:
    """The passage vectors of texts: from the cache where it has them, else from the embedder,
    one batch at a time (``cancel`` is looked at between batches, ``step`` told how many are done)."""
    found = cache.lookup(store.embedder.key, texts) if cache else [None] * len(texts)
    missing = [i for i, v in enumerate(found) if v is None]
    if bar and len(missing) < len(texts):
        bar.update(len(texts) - len(missing))
    for s in range(0, len(missing), BATCH):
        if cancel is not None and cancel.is_set():
            raise Cancelled("导入已取消")
        rows = missing[s:s + BATCH]
        for i, v in zip(rows, store.embedder.passages([texts[i] for i in rows])):
            found[i] = v
        if bar:
            bar.update(len(rows))
        if step:
            step(len(texts) - len(missing) + s + len(rows))
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


def _inside_any(path: Path, folders: Sequence[Path]) -> bool:
    try:
        return any(path.resolve().is_relative_to(f.resolve()) for f in folders)
    except (OSError, ValueError):
        return False


def _read_all(paths: Iterable[Path | str], store: Store, phrasings: Phrasings, fail: Callable[[str, str], None],
              cancel: threading.Event | None = None,
              own_kinds_from: Sequence[Path] | None = None) -> list[tuple[Path, Document, list[Chunk]]]:
    """Every file read and split (each checked against the limits), in order; the failures told
    to ``fail``. Two files of one name: the second fails (documents are keyed by file name).
    With ``own_kinds_from``, a file outside those folders that calls itself one of our cards
    (front matter ``kind: faq``, or ``sources:``) is imported as an ordinary document: the trust
    our cards get is not claimed by writing a line of front matter."""
    limits = Limits.from_settings(store.settings)
    manifests: dict[Path, dict] = {}
    taken: dict[str, Path] = {}
    out: list[tuple[Path, Document, list[Chunk]]] = []
    for path in collect_files(Path(p) for p in paths):
        if cancel is not None and cancel.is_set():
            raise Cancelled("导入已取消")
        name = path.name
        try:
            if not path.is_file():
                raise LoadError("不是文件" if path.exists() else "文件不存在")
            if path.parent not in manifests:
                manifests[path.parent] = read_manifest(path.parent)
            doc, chunks = read_document(path, manifests[path.parent], phrasings, store.settings.chunk_chars,
                                        limits=limits)
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
        if own_kinds_from is not None and doc.kind in OUR_KINDS and not _inside_any(path, own_kinds_from):
            tags = " ".join(str(t) for t in doc.extra.get("tags") or [])
            doc = replace(doc, kind="document")
            chunks = [replace(c, terms="") if tags and c.terms == tags else c for c in chunks]  # a card's tags
        out.append((path, doc, chunks))
    return out


def conflicts(docs: Sequence[Document], existing: Sequence[DocInfo]) -> list[Conflict]:
    """What importing these documents would do to those in the knowledge base: the documents in
    force they would make 已被修订 (a same-family text with a later effective date already in
    force), and those of the same file name whose text they would replace."""
    new_ids = {d.doc_id for d in docs}
    by_id = {d.doc_id: d for d in existing}
    after = [status_meta(d) for d in existing if d.doc_id not in new_ids] + [status_meta(d) for d in docs]
    out = [Conflict(by_doc, "supersedes", old) for old, by_doc in displaced(
        [d for d in existing if d.doc_id not in new_ids], after)]
    for d in docs:
        old = by_id.get(d.doc_id)
        if old is not None and old.sha != d.sha and old.kind not in OUR_KINDS:
            out.append(Conflict(d.doc_id, "replaces", old))
    return out


def preview(paths: Iterable[Path | str], store: Store, phrasings: Phrasings,
            own_kinds_from: Sequence[Path] | None = None) -> list[Conflict]:
    """conflicts() of the files that can be read (the others fail again, with their reason, in the ingest)."""
    docs = [doc for _, doc, _ in _read_all(paths, store, phrasings, lambda name, reason: None,
                                           own_kinds_from=own_kinds_from)]
    return conflicts(docs, store.documents()) if docs else []


def ingest(
    paths: Iterable[Path | str],
    store: Store,
    phrasings: Phrasings,
    progress: bool = True,
    on_file: Callable[[str, str], None] | None = None,
    cache: VectorCache | None = None,
    *,
    importer: str = "",
    cancel: threading.Event | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
    own_kinds_from: Sequence[Path] | None = None,
) -> IngestReport:
    """Ingest files and folders into the store, attaching the phrasings (knowledge/questions)
    to the articles they were written for; vectors found in ``cache`` are not computed again.
    Per-file failures are reported, not raised; a failed file leaves what the store held for
    it untouched. Each document is recorded with who imported it (``importer``) and when.

    ``on_progress(file, passages done, passages)`` is told how the embedding goes; ``cancel`` set
    stops the run between two batches: the document being written is rolled back, those
    committed before stay, the rest are not read (``report.cancelled``). Questions meanwhile are
    answered from what is committed; the write lock is held for one batch at a time.
    ``own_kinds_from``: the folders whose files may be our cards (see _read_all)."""
    started = time.perf_counter()
    report = IngestReport()
    before = store.documents()
    existing = {d.doc_id: d for d in before}

    def fail(name: str, reason: str) -> None:
        reason = " ".join(reason.split())[:300]  # one line, whatever a library put in its message
        report.failed.append((name, reason))
        if on_file:
            on_file(name, "失败：" + reason)

    todo: list[tuple[Document, list[Chunk], bool]] = []
    try:
        for _, doc, chunks in _read_all(paths, store, phrasings, fail, cancel, own_kinds_from):
            old = existing.get(doc.doc_id)
            if old and old.sha == doc.sha and old.complete:
                report.unchanged.append(doc.source)
                if on_file:
                    on_file(doc.source, "未变")
                continue
            todo.append((doc, chunks, old is not None))
    except Cancelled:
        report.cancelled = True

    total = sum(len(c) for _, c, _ in todo)
    bar = None
    if progress and total and not report.cancelled:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="嵌入", unit="段", file=sys.stderr, dynamic_ncols=True)
    write_error = ""
    written = 0
    try:
        for doc, chunks, is_update in todo:
            if report.cancelled:
                if on_file:
                    on_file(doc.source, "已取消，未写入")
                continue
            if write_error:
                # After a failed write (disk full, read-only, I/O error) Chroma's next write can
                # hang for good: stop writing and let the re-run pick these documents up.
                fail(doc.source, f"未写入：本次导入中知识库写入已出错（{write_error}），请排除后重新运行")
                if bar:
                    bar.update(len(chunks))
                continue
            doc = replace(doc, imported_by=importer, imported_at=now_text())
            texts = index_texts(doc, chunks)
            t0 = time.perf_counter()
            step = (lambda done, name=doc.source, n=len(chunks): on_progress(name, done, n)) if on_progress else None
            try:
                _embed_questions(doc, chunks, store, cache)
                vectors = _embed(texts, store, cache, bar, cancel, step)
                if vectors.shape[0] != len(chunks) or not np.isfinite(vectors).all():
                    raise ValueError(f"得到 {vectors.shape[0]} 个向量，应为 {len(chunks)} 个或含非数值")
            except Cancelled:
                report.cancelled = True
                if on_file:
                    on_file(doc.source, "已取消，未写入")
                continue
            except Exception as exc:  # embedding endpoint down, model error: this document fails
                fail(doc.source, f"向量计算失败：{type(exc).__name__}: {exc}")
                continue
            finally:
                report.embed_seconds += time.perf_counter() - t0
            try:
                store.put_document(doc, chunks, vectors, cancel=cancel)
            except Cancelled:
                report.cancelled = True
                if on_file:
                    on_file(doc.source, "已取消，未写入")
                continue
            except StoreError as exc:
                fail(doc.source, str(exc))
                write_error = " ".join(str(exc).split())[:200]
                continue
            written += 1
            report.chunks_embedded += len(chunks)
            (report.updated if is_update else report.added).append(doc.source)
            if on_file:
                on_file(doc.source, "已更新" if is_update else "已导入")
    finally:
        if bar:
            bar.close()
    if written:
        store.refresh_lexical()
        after = store.documents()
        report.superseded = [(old.cite(), by) for old, by in displaced(before, [status_meta(d) for d in after])]
    report.total_seconds = time.perf_counter() - started
    return report
