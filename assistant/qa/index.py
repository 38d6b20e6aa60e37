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
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from filelock import FileLock, Timeout

from ..citations import family
from ..errors import StoreError
from ..settings import Settings
from .embed import AssistantEmbeddingFunction, Embedder
from .lexical import LexicalIndex, tokenize
from .load import Document
from .split import Chunk

log = logging.getLogger(__name__)
PAGE = 2000


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


@dataclass
class Snapshot:
    """Everything a search needs, loaded once per generation."""

    generation: str
    ids: list[str]
    texts: list[str]
    metas: list[dict]
    matrix: np.ndarray
    lexical: LexicalIndex
    status: list[str]
    asks: dict[str, np.ndarray] = field(default_factory=dict)  # text key → query vector of our own questions


def index_text(meta: dict, text: str) -> str:
    """What gets embedded and tokenized: the passage with its document and chapter for context,
    and the search-only terms of its chunk."""
    parts = (meta.get("short") or meta.get("title", ""), meta.get("chapter", ""), text, meta.get("terms", ""))
    return " ".join(x for x in parts if x)


def index_texts(doc: Document, chunks: Sequence[Chunk]) -> list[str]:
    """index_text of each chunk of a document, as ingest embeds them."""
    return [index_text({"title": doc.title, "short": doc.short, "chapter": c.chapter, "terms": c.terms}, c.text)
            for c in chunks]


def effective_status(metas: Sequence[dict]) -> dict[str, str]:
    """doc_id → status. A recorded status wins; among documents of one family that are all
    marked current, only the one with the latest effective date stays current."""
    first: dict[str, dict] = {}
    for m in metas:
        first.setdefault(m["doc_id"], m)
    out = {d: (m.get("status") or "current") for d, m in first.items()}
    newest: dict[str, tuple[str, str]] = {}
    for d, m in first.items():
        if out[d] == "current" and m.get("effective"):
            key = family(m["title"])
            if key not in newest or m["effective"] > newest[key][0]:
                newest[key] = (m["effective"], d)
    for d, m in first.items():
        key = family(m["title"])
        if out[d] == "current" and m.get("effective") and newest.get(key, ("", d))[1] != d:
            out[d] = "superseded"
    return out


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
    def write_lock(self) -> Iterator[None]:
        """Serialise writers on this machine (two ingest processes on one embedded store).
        Re-entrant within a thread, portable (the filelock library)."""
        try:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.settings.data_dir / ".write.lock"), is_singleton=True)
            lock.acquire()
        except (OSError, Timeout) as exc:
            raise StoreError(f"数据目录不可写：{self.settings.data_dir}（{getattr(exc, 'strerror', None) or exc}）") from exc
        try:
            yield
        finally:
            lock.release()

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

    def documents(self) -> list[DocInfo]:
        """Documents in the knowledge base, from their chunks' metadata."""
        groups: dict[str, dict] = {}
        for meta in self._all(["metadatas"])["metadatas"]:
            g = groups.setdefault(meta["doc_id"], {"meta": meta, "shas": {}})
            g["shas"][meta["sha"]] = g["shas"].get(meta["sha"], 0) + 1
            if meta["seq"] == 0:
                g["meta"] = meta
        status = effective_status([g["meta"] for g in groups.values()])
        docs = []
        for doc_id, g in sorted(groups.items()):
            m = g["meta"]
            complete = g["shas"].get(m["sha"], 0) == m["n_chunks"] and len(g["shas"]) == 1
            docs.append(
                DocInfo(doc_id, m["title"], m["source"], status[doc_id], m.get("effective", ""),
                        m.get("kind", ""), m["sha"], sum(g["shas"].values()), complete)
            )
        return docs

    def snapshot(self, max_age: float = 1.0) -> Snapshot:
        """The current searchable state; re-read only when the generation changed."""
        with self._lock:
            now = time.monotonic()
            if self._snapshot is not None and now - self._checked < max_age:
                return self._snapshot
            gen = self.generation()
            self._checked = now
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
            return self._snapshot

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
        order = sorted(range(len(data["ids"])), key=lambda i: (data["metadatas"][i]["doc_id"], data["metadatas"][i]["seq"]))
        ids = [data["ids"][i] for i in order]
        texts = [data["documents"][i] for i in order]
        metas = [data["metadatas"][i] for i in order]
        matrix = (np.asarray([data["embeddings"][i] for i in order], dtype=np.float32) if ids
                  else np.zeros((0, 1), dtype=np.float32))
        lexical = self._lexical(gen, ids, texts, metas)
        status_by_doc = effective_status(metas)
        return Snapshot(gen, ids, texts, metas, matrix, lexical, [status_by_doc[m["doc_id"]] for m in metas],
                        self._ask_vectors())

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

    def put_document(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray) -> int:
        """Store a document's chunks, then drop any older version of it: the document is
        replaced whole or, if interrupted, its old version stays until the re-run."""
        n = len(chunks)
        ids = [f"{doc.doc_id}::{doc.sha[:16]}::{i:04d}" for i in range(n)]
        extra = json.dumps(doc.extra, ensure_ascii=False, default=str)
        metas = [
            {
                "doc_id": doc.doc_id, "sha": doc.sha, "seq": i, "n_chunks": n, "title": doc.title,
                "short": doc.short, "article": c.article, "chapter": c.chapter, "status": doc.status,
                "effective": doc.effective, "source": doc.source, "superseded_by": doc.superseded_by,
                "kind": doc.kind, "path": doc.path, "extra": extra, "terms": c.terms, "anchors": c.anchors,
            }
            for i, c in enumerate(chunks)
        ]
        step = max(1, min(self.client.get_max_batch_size(), 1000))
        try:
            had = set(self.collection.get(ids=ids, include=[])["ids"])
        except Exception as exc:
            raise StoreError(f"读取知识库失败：{exc}") from exc
        try:
            self._bump()  # before writing too: a crash mid-write leaves a generation nobody cached
            for s in range(0, n, step):
                self.collection.upsert(
                    ids=ids[s:s + step], embeddings=vectors[s:s + step].tolist(),
                    documents=[c.text for c in chunks[s:s + step]], metadatas=metas[s:s + step],
                )
            self.collection.delete(where={"$and": [{"doc_id": doc.doc_id}, {"sha": {"$ne": doc.sha}}]})
            self._bump()
        except Exception as exc:
            with contextlib.suppress(Exception):  # roll back this call's new chunks, if any landed
                # (after a failed write, Chroma's next write can hang: write only when needed)
                landed = [i for i in self.collection.get(ids=ids, include=[])["ids"] if i not in had]
                if landed:
                    self.collection.delete(ids=landed)
                    self._bump()
            if not self.settings.chroma_host:
                with contextlib.suppress(Exception):
                    self._reopen()
            raise StoreError(f"写入知识库失败：{_explain(exc)}") from exc
        return n

    def remove_document(self, doc_id: str) -> int:
        """Delete every chunk of a document; returns how many were removed."""
        found = self.collection.get(where={"doc_id": doc_id}, include=[])
        if found["ids"]:
            self.collection.delete(where={"doc_id": doc_id})
            self._bump()
        return len(found["ids"])

    def refresh_lexical(self) -> None:
        """Bring the persisted lexical index up to date now (end of an ingest)."""
        with self._lock:
            self._checked = 0.0
            self.snapshot()
