"""The knowledge base: chunks and vectors in Chroma, a BM25 index kept beside it with the same ids.

Chroma is the source of truth. Every write bumps a generation stamp in the collection's
metadata; a reader whose lexical index carries another stamp rebuilds it from Chroma, so the
two indexes never disagree, even after a process was killed between the two writes.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from filelock import FileLock, Timeout

from ..citations import family
from ..errors import Cancelled, StoreError
from ..settings import Settings
from .embed import AssistantEmbeddingFunction, Embedder
from .lexical import LexicalIndex, tokenize
from .load import Document
from .split import Chunk

log = logging.getLogger(__name__)
PAGE = 2000
WRITE_BATCH = 256  # passages per upsert: the write lock is held this long at most


@dataclass
class DocInfo:
    """One document as the knowledge base holds it."""

    doc_id: str
    title: str
    source: str
    status: str
    effective: str
    kind: str
    sha: str
    chunks: int
    complete: bool
    recorded: str = ""  # the status its manifest or front matter gave (status is what holds today)
    imported_by: str = ""
    imported_at: str = ""
    writing: bool = False  # an ingest in this process is writing it right now

    def cite(self) -> str:
        """《title》（2022-10-22）: the document as a confirmation or a report names it."""
        return f"《{self.title}》（{self.effective or self.doc_id}）"

    def provenance(self) -> str:
        """导入：王芳，2026-12-01 09:30 (or what is known of it)."""
        return provenance_text(self.imported_by, self.imported_at)


@dataclass
class Snapshot:
    """Everything a search needs, loaded once per generation: the committed version of each
    document (a version still being written, or left incomplete by a crash, is not in it)."""

    generation: str
    ids: list[str]
    texts: list[str]
    metas: list[dict]
    matrix: np.ndarray
    lexical: LexicalIndex
    status: list[str]
    asks: dict[str, np.ndarray] = field(default_factory=dict)  # text key → query vector of our own questions
    day: date = field(default_factory=date.today)  # the statuses hold on this day (effective dates against it)
    docs: dict[str, dict] = field(default_factory=dict)  # doc_id → the metadata of its first passage

    @property
    def searchable(self) -> np.ndarray:
        """Passages an answer may rest on: not those of a text that is not in force yet (尚未施行)."""
        return np.fromiter((s != "pending" for s in self.status), dtype=bool, count=len(self.status))


def provenance_text(by: str, at: str) -> str:
    """导入：王芳，2026-12-01 09:30 — who imported a document and when, as far as it is known."""
    when = at[:16].replace("T", " ") if at else ""
    parts = [x for x in (by, when) if x]
    return "导入：" + "，".join(parts) if parts else "导入：时间未记录（早于记录导入信息的版本）"


def index_text(meta: dict, text: str) -> str:
    """What gets embedded and tokenized: the passage with its document and chapter for context,
    and the search-only terms of its chunk."""
    parts = (meta.get("short") or meta.get("title", ""), meta.get("chapter", ""), text, meta.get("terms", ""))
    return " ".join(x for x in parts if x)


def index_texts(doc: Document, chunks: Sequence[Chunk]) -> list[str]:
    """index_text of each chunk of a document, as ingest embeds them."""
    return [index_text({"title": doc.title, "short": doc.short, "chapter": c.chapter, "terms": c.terms}, c.text)
            for c in chunks]


_DAY_RE = re.compile(r"\s*(\d{4})(?:\s*[-/.年]\s*(\d{1,2}))?(?:\s*[-/.月]\s*(\d{1,2}))?")


def effective_day(text: object) -> date | None:
    """The day a text takes effect from its effective field: 2022-10-22, 2025-05 (the 1st), 2015
    (1 January), 2099年1月1日; None when there is no date in it."""
    m = _DAY_RE.match(str(text or ""))
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return None


def effective_status(metas: Sequence[dict], today: date | None = None) -> dict[str, str]:
    """doc_id → status on ``today``. Authority is earned, not claimed: a text whose effective date
    is after today is 尚未施行 (pending) whatever its manifest or front matter says, and supersedes
    nothing until that day. A recorded 已被修订 or 参考资料 stands; among the documents of one family
    in force, only the one with the latest effective date stays current."""
    today = today or date.today()
    first: dict[str, dict] = {}
    for m in metas:
        first.setdefault(m["doc_id"], m)
    out: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for d, m in first.items():
        recorded = m.get("status") or "current"
        days[d] = day = effective_day(m.get("effective"))
        if recorded in ("current", "pending"):
            out[d] = "pending" if (day and day > today) or (recorded == "pending" and day is None) else "current"
        else:
            out[d] = recorded
    newest: dict[str, tuple[date, str]] = {}
    for d, m in first.items():
        day = days[d]
        if out[d] == "current" and day:
            key = family(m["title"])
            if key not in newest or day > newest[key][0]:
                newest[key] = (day, d)
    for d, m in first.items():
        key = family(m["title"])
        if out[d] == "current" and days[d] and newest.get(key, (None, d))[1] != d:
            out[d] = "superseded"
    return out


def committed(metas: Sequence[dict]) -> set[tuple[str, str]]:
    """(doc_id, sha) of the version of each document that searches use: a version all of whose
    passages are stored, the latest imported if two are (between writing a new version and
    dropping the old one). A version still being written, or cut short, is not committed."""
    versions: dict[str, dict[str, list]] = {}
    for m in metas:
        v = versions.setdefault(m["doc_id"], {}).setdefault(m["sha"], [0, m.get("n_chunks", 0), ""])
        v[0] += 1
        v[2] = max(v[2], str(m.get("imported_at") or ""))
    keep: set[tuple[str, str]] = set()
    for doc_id, by_sha in versions.items():
        complete = {sha: v for sha, v in by_sha.items() if v[0] == v[1]}
        if complete:
            latest = max(v[2] for v in complete.values())
            keep.update((doc_id, sha) for sha, v in complete.items() if v[2] == latest)
    return keep


def status_meta(d: "DocInfo | Document") -> dict:
    """What effective_status reads of a document."""
    recorded = d.recorded if isinstance(d, DocInfo) else d.status
    return {"doc_id": d.doc_id, "title": d.title, "status": recorded, "effective": d.effective}


def displaced(before: Sequence["DocInfo"], after: Sequence[dict], today: date | None = None) -> list[tuple["DocInfo", str]]:
    """The documents in force in ``before`` that the state ``after`` (status_meta of every
    document) makes 已被修订, each with the doc_id of the document that now stands in its place."""
    status = effective_status(after, today)
    stands = {family(m["title"]): m["doc_id"] for m in after  # one per family: the latest in force
              if status.get(m["doc_id"]) == "current" and effective_day(m.get("effective"))}
    return [(d, stands.get(family(d.title), "")) for d in before
            if d.status == "current" and status.get(d.doc_id) == "superseded"]


def _explain(exc: Exception) -> str:
    """A storage error in words a user can act on."""
    text = str(exc)
    if any(k in text.lower() for k in ("disk is full", "no space", "disk i/o", "database or disk is full")):
        return "磁盘已满或无法写入，请清理磁盘空间后重新导入"
    if "readonly" in text.lower() or "read-only" in text.lower():
        return "数据目录只读，请检查权限"
    return text


class Store:
    """Chroma (embedded PersistentClient, or a server with CHROMA_HOST) plus the lexical index."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._ef = AssistantEmbeddingFunction(self.embedder.key)
        self.name = f"kb_{self.embedder.key}"
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self._lock = threading.RLock()
        self._load_lock = threading.Lock()  # one thread loads a new snapshot; the others answer from the last one
        self._doc_locks: dict[str, threading.Lock] = {}
        self._writing: set[str] = set()
        self._asks_collection = None
        if settings.chroma_host:
            self.client = self._connect()
            self.collection = self._open_collection()
        else:  # two processes creating a new embedded store at once would race on its tables
            with self.write_lock():
                self.client = self._connect()
                self.collection = self._open_collection()

    # -- connection --------------------------------------------------------
    def _connect(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if self.settings.chroma_host:
                return chromadb.HttpClient(
                    host=self.settings.chroma_host, port=self.settings.chroma_port, settings=chroma_settings
                )
            path = self.settings.data_dir / "chroma"
            path.mkdir(parents=True, exist_ok=True)
            if not os.access(path, os.W_OK):
                raise StoreError(f"数据目录只读：{path}（嵌入式知识库需要写权限；只读部署请改用 Chroma 服务器）")
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except StoreError:
            raise
        except PermissionError as exc:
            raise StoreError(f"数据目录不可写：{self.settings.data_dir}（{exc}）") from exc
        except Exception as exc:
            where = (
                f"Chroma 服务 {self.settings.chroma_host}:{self.settings.chroma_port}"
                if self.settings.chroma_host
                else f"数据目录 {self.settings.data_dir}"
            )
            raise StoreError(f"无法打开知识库（{where}）：{exc}") from exc

    def _open_collection(self, client=None):
        try:
            return (client or self.client).get_or_create_collection(
                self.name, embedding_function=self._ef, configuration={"hnsw": {"space": "cosine"}}
            )
        except Exception as exc:
            raise StoreError(f"无法打开知识库集合 {self.name}：{exc}") from exc

    @property
    def lexical_dir(self) -> Path:
        return self.settings.data_dir / "lexical" / self.name

    @contextlib.contextmanager
    def write_lock(self, name: str = ".write.lock") -> Iterator[None]:
        """Serialise writes on this machine (threads, and processes on one embedded store). Held
        for one batch of passages at a time, never for a whole document: a large import does not
        keep deletes and other imports waiting. Re-entrant within a thread (the filelock library)."""
        try:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.settings.data_dir / name), is_singleton=True)
            lock.acquire()
        except (OSError, Timeout) as exc:
            raise StoreError(f"数据目录不可写：{self.settings.data_dir}（{getattr(exc, 'strerror', None) or exc}）") from exc
        try:
            yield
        finally:
            lock.release()

    @contextlib.contextmanager
    def doc_lock(self, doc_id: str) -> Iterator[None]:
        """One writer per document in this process (two imports of one file, an import and a
        delete): taken before write_lock, never inside it."""
        with self._lock:
            lock = self._doc_locks.setdefault(doc_id, threading.Lock())
        with lock:
            yield

    # -- reads -------------------------------------------------------------
    def generation(self) -> str:
        col = self.client.get_collection(self.name, embedding_function=self._ef)
        return str((col.metadata or {}).get("generation", ""))

    def _all(self, include: list[str]) -> dict:
        out: dict[str, list] = {key: [] for key in ["ids", *include]}
        offset = 0
        while True:
            page = self.collection.get(include=include, limit=PAGE, offset=offset)
            for key in out:
                values = page[key]
                out[key].extend(list(values) if values is not None else [])
            if len(page["ids"]) < PAGE:
                return out
            offset += PAGE

    def documents(self, today: date | None = None) -> list[DocInfo]:
        """Documents in the knowledge base, from their chunks' metadata: the committed version of
        each (else the one being written), its status on ``today``, who imported it and when."""
        metas = self._all(["metadatas"])["metadatas"]
        keep = committed(metas)
        groups: dict[str, dict] = {}
        for meta in metas:
            g = groups.setdefault(meta["doc_id"], {"meta": meta, "shas": {}})
            g["shas"][meta["sha"]] = g["shas"].get(meta["sha"], 0) + 1
            chosen = (meta["doc_id"], meta["sha"]) in keep
            if meta["seq"] == 0 and (chosen or (meta["doc_id"], g["meta"]["sha"]) not in keep):
                g["meta"] = meta
        status = effective_status([g["meta"] for g in groups.values()], today)
        docs = []
        for doc_id, g in sorted(groups.items()):
            m = g["meta"]
            complete = g["shas"].get(m["sha"], 0) == m["n_chunks"] and len(g["shas"]) == 1
            docs.append(
                DocInfo(doc_id, m["title"], m["source"], status[doc_id], m.get("effective", ""),
                        m.get("kind", ""), m["sha"], sum(g["shas"].values()), complete,
                        m.get("status") or "current", m.get("imported_by", ""), m.get("imported_at", ""),
                        doc_id in self._writing)
            )
        return docs

    def snapshot(self, max_age: float = 1.0) -> Snapshot:
        """The committed searchable state; re-read only when the generation changed. While one
        thread reads a new generation the others keep answering from the last one (a caller
        asking for max_age=0 waits for it)."""
        snap = self._snapshot
        if snap is not None and time.monotonic() - self._checked < max_age:
            return self._dated(snap)
        if not self._load_lock.acquire(blocking=snap is None or max_age <= 0):
            return self._dated(snap)
        try:
            checked = time.monotonic()
            gen = self.generation()
            if self._snapshot is None or self._snapshot.generation != gen:
                try:
                    self._snapshot = self._load(gen)
                except Exception:
                    if self.settings.chroma_host:
                        raise
                    # another process wrote: an embedded client's vector segment is stale
                    self._reopen()
                    gen = self.generation()
                    self._snapshot = self._load(gen)
            self._checked = checked
            return self._dated(self._snapshot)
        finally:
            self._load_lock.release()

    def _dated(self, snap: Snapshot) -> Snapshot:
        """The snapshot with its statuses as they hold today (a text takes effect at midnight)."""
        today = date.today()
        if snap.day == today:
            return snap
        by_doc = effective_status(list(snap.docs.values()), today)
        fresh = replace(snap, status=[by_doc[m["doc_id"]] for m in snap.metas], day=today)
        if self._snapshot is snap:
            self._snapshot = fresh
        return fresh

    def provenance(self) -> dict[str, str]:
        """doc_id → 导入：王芳，2026-12-01 09:30 (for the source cards under an answer)."""
        return {d: provenance_text(m.get("imported_by", ""), m.get("imported_at", ""))
                for d, m in self.snapshot().docs.items()}

    def _reopen(self) -> None:
        """A fresh embedded Chroma client for this path (the cached one may be stale)."""
        from chromadb.api.shared_system_client import SharedSystemClient

        with self._lock:  # searches on other threads see the old pair or the new one, never a mix
            SharedSystemClient._identifier_to_system.pop(self.client._identifier, None)
            client = self._connect()
            collection = self._open_collection(client)
            self.client, self.collection, self._asks_collection = client, collection, None

    def _load(self, gen: str) -> Snapshot:
        data = self._all(["documents", "metadatas", "embeddings"])
        keep = committed(data["metadatas"])
        order = sorted((i for i, m in enumerate(data["metadatas"]) if (m["doc_id"], m["sha"]) in keep),
                       key=lambda i: (data["metadatas"][i]["doc_id"], data["metadatas"][i]["seq"]))
        ids = [data["ids"][i] for i in order]
        texts = [data["documents"][i] for i in order]
        metas = [data["metadatas"][i] for i in order]
        matrix = (np.asarray([data["embeddings"][i] for i in order], dtype=np.float32) if ids
                  else np.zeros((0, 1), dtype=np.float32))
        lexical = self._lexical(gen, ids, texts, metas)
        docs: dict[str, dict] = {}
        for m in metas:
            docs.setdefault(m["doc_id"], m)
        today = date.today()
        status_by_doc = effective_status(list(docs.values()), today)
        return Snapshot(gen, ids, texts, metas, matrix, lexical, [status_by_doc[m["doc_id"]] for m in metas],
                        self._ask_vectors(), today, docs)

    # -- our own questions (phrasings, card questions): their query vectors, by text ----------
    def _asks(self):
        if self._asks_collection is None:
            self._asks_collection = (self.client.get_or_create_collection(
                f"asks_{self.embedder.key}", embedding_function=self._ef, configuration={"hnsw": {"space": "cosine"}}))
        return self._asks_collection

    def _ask_vectors(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        offset = 0
        while True:
            page = self._asks().get(include=["embeddings"], limit=PAGE, offset=offset)
            out.update(zip(page["ids"], np.asarray(page["embeddings"], dtype=np.float32)))
            if len(page["ids"]) < PAGE:
                return out
            offset += PAGE

    def missing_asks(self, keys: Sequence[str]) -> list[str]:
        """The keys (assistant.qa.vectors.text_key) whose question vectors are not stored yet."""
        have: set[str] = set()
        for s in range(0, len(keys), PAGE):
            have.update(self._asks().get(ids=list(keys[s:s + PAGE]), include=[])["ids"])
        return [k for k in keys if k not in have]

    def put_asks(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store question vectors (a cache by text: nothing to delete, nothing to roll back)."""
        step = max(1, min(self.client.get_max_batch_size(), 1000))
        try:
            for s in range(0, len(keys), step):
                self._asks().upsert(ids=list(keys[s:s + step]), embeddings=vectors[s:s + step].tolist())
        except Exception as exc:
            raise StoreError(f"写入知识库失败：{_explain(exc)}") from exc

    def _lexical(self, gen: str, ids: list[str], texts: list[str], metas: list[dict]) -> LexicalIndex:
        saved_gen, cached = LexicalIndex.load_tokens(self.lexical_dir)
        if saved_gen == gen and set(cached) == set(ids):
            return LexicalIndex(ids, [cached[i] for i in ids])
        tokens = [cached.get(i) or tokenize(index_text(m, t)) for i, t, m in zip(ids, texts, metas)]
        index = LexicalIndex(ids, tokens)
        try:
            index.save(self.lexical_dir, gen)
        except OSError as exc:  # a read-only data dir still searches; it rebuilds next time
            log.warning("lexical index not saved: %s", exc)
        return index

    # -- writes ------------------------------------------------------------
    def _bump(self) -> None:
        self.collection.modify(metadata={"generation": uuid.uuid4().hex})

    def put_document(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray, *,
                     cancel: threading.Event | None = None) -> int:
        """Store a document's chunks, then drop any older version of it: the document is
        replaced whole or, if interrupted (a crash, a failed write, ``cancel`` set), its old
        version stays. The write lock is held for one batch at a time; searches go on using the
        old version (see ``committed``) until the new one is complete."""
        n = len(chunks)
        ids = [f"{doc.doc_id}::{doc.sha[:16]}::{i:04d}" for i in range(n)]
        extra = json.dumps(doc.extra, ensure_ascii=False, default=str)
        metas = [
            {
                "doc_id": doc.doc_id, "sha": doc.sha, "seq": i, "n_chunks": n, "title": doc.title,
                "short": doc.short, "article": c.article, "chapter": c.chapter, "status": doc.status,
                "effective": doc.effective, "source": doc.source, "superseded_by": doc.superseded_by,
                "kind": doc.kind, "path": doc.path, "extra": extra, "terms": c.terms, "anchors": c.anchors,
                "imported_by": doc.imported_by, "imported_at": doc.imported_at,
            }
            for i, c in enumerate(chunks)
        ]
        step = max(1, min(self.client.get_max_batch_size(), WRITE_BATCH))
        with self.doc_lock(doc.doc_id):
            self._writing.add(doc.doc_id)
            try:
                try:
                    had = set(self.collection.get(ids=ids, include=[])["ids"])
                except Exception as exc:
                    raise StoreError(f"读取知识库失败：{exc}") from exc
                try:
                    for s in range(0, n, step):
                        if cancel is not None and cancel.is_set():
                            raise Cancelled("导入已取消")
                        with self.write_lock():
                            self.collection.upsert(
                                ids=ids[s:s + step], embeddings=vectors[s:s + step].tolist(),
                                documents=[c.text for c in chunks[s:s + step]], metadatas=metas[s:s + step],
                            )
                    with self.write_lock():  # the commit: the new version whole, the old one gone
                        self.collection.delete(where={"$and": [{"doc_id": doc.doc_id}, {"sha": {"$ne": doc.sha}}]})
                        # and by id whatever the filtered delete left (seen once after a crashed import)
                        new = set(ids)
                        left = [i for i in self.collection.get(where={"doc_id": doc.doc_id}, include=[])["ids"]
                                if i not in new]
                        if left:
                            log.warning("%s：旧版本残留 %d 段，按编号删除", doc.title, len(left))
                            self.collection.delete(ids=left)
                        self._bump()
                except Exception as exc:
                    with contextlib.suppress(Exception), self.write_lock():  # roll back this call's new chunks
                        # (after a failed write, Chroma's next write can hang: write only when needed)
                        landed = [i for i in self.collection.get(ids=ids, include=[])["ids"] if i not in had]
                        if landed:
                            self.collection.delete(ids=landed)
                    if isinstance(exc, Cancelled):
                        raise
                    if not self.settings.chroma_host:
                        with contextlib.suppress(Exception):
                            self._reopen()
                    raise StoreError(f"写入知识库失败：{_explain(exc)}") from exc
            finally:
                self._writing.discard(doc.doc_id)
        return n

    def remove_document(self, doc_id: str) -> int:
        """Delete every chunk of a document (after any import of it in this process has
        finished); returns how many were removed."""
        with self.doc_lock(doc_id), self.write_lock():
            found = self.collection.get(where={"doc_id": doc_id}, include=[])
            if found["ids"]:
                self.collection.delete(where={"doc_id": doc_id})
                self._bump()
        return len(found["ids"])

    def refresh_lexical(self) -> None:
        """Bring the persisted lexical index up to date now (end of an ingest)."""
        self.snapshot(max_age=0)
