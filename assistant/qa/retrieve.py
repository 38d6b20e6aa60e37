"""Hybrid retrieval: dense (e5 vectors from Chroma) + BM25, fused by reciprocal rank fusion."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import yaml

from ..inputs import simplified
from .index import Snapshot, Store

RRF_K = 5
CANDIDATES = 50
SUPERSEDED_PENALTY = 0.5
MODES = ("dense", "bm25", "hybrid")
# Abstention: relevance = best dense similarity − MISSING_WEIGHT × share of the question's
# vocabulary absent from the top MISSING_TOP passages. Calibrated on bench/devset.jsonl (the
# lowest threshold that reaches its plateau), checked on bench/holdout*.jsonl (README "检索评测").
# BM25-only mode has no dense score and abstains when the question's vocabulary is mostly
# absent from the whole knowledge base (MAX_UNSEEN).
MISSING_WEIGHT = 0.02
MISSING_TOP = 3
MIN_RELEVANCE = 0.876
MAX_UNSEEN = 0.8
# …unless the best passage holds one of the question's rare terms (four characters or more,
# in at most TERM_MAX_SHARE of the passages) and the dense similarity is not far off.
TERM_MAX_SHARE = 0.01
MIN_RELEVANCE_WITH_TERM = 0.84


@dataclass
class Hit:
    """One retrieved passage."""

    title: str
    article: str
    chapter: str
    status: str
    source: str
    score: float
    text: str
    doc_id: str = ""
    chunk_id: str = ""
    kind: str = ""
    extra: str = ""
    anchors: str = ""

    def public(self) -> dict:
        """The fields of the documented JSON output."""
        d = asdict(self)
        return {k: d[k] for k in ("title", "article", "chapter", "status", "source", "score", "text")}


@dataclass
class SearchResult:
    """Ranked passages and whether the knowledge base has a basis for the question at all."""

    query: str
    abstained: bool
    results: list[Hit]
    signals: dict = field(default_factory=dict)
    vector: np.ndarray | None = None  # the question's query vector (dense and hybrid modes)

    def public(self) -> dict:
        return {"query": self.query, "abstained": self.abstained, "results": [h.public() for h in self.results]}


def load_lexicon(path: Path) -> dict[str, list[str]]:
    """Colloquial term → the regulations' terms, for query expansion."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): [str(v) for v in vs] for k, vs in data.items()}


def expand_query(query: str, lexicon: dict[str, list[str]]) -> str:
    """Append the formal terms for any colloquial term the question uses."""
    extra = [t for k, terms in lexicon.items() if k in query for t in terms if t not in query]
    return query + (" " + " ".join(dict.fromkeys(extra)) if extra else "")


def _ranks(scores: np.ndarray, keep: np.ndarray | None = None) -> dict[int, int]:
    """Rank (0-based) of the best CANDIDATES indices, among those kept."""
    order = np.argsort(-scores, kind="stable")
    if keep is not None:
        order = order[keep[order]]
    return {int(i): r for r, i in enumerate(order[:CANDIDATES])}


class Retriever:
    """Searches a Store; one instance per process, cheap per query."""

    def __init__(self, store: Store, lexicon: dict[str, list[str]]) -> None:
        self.store = store
        self.lexicon = lexicon
        self.known_terms = frozenset(self.lexicon)

    def search(self, query: str, k: int = 5, mode: str = "hybrid", kinds: tuple[str, ...] | None = None) -> SearchResult:
        """Top-k passages; kinds limits the search to documents of those kinds
        ("document" = imported texts, "card"/"practice" = our knowledge cards). Passages of a
        text that is not in force yet (尚未施行) are never returned."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        query = simplified(query.strip())
        snap = self.store.snapshot()
        if not query or not snap.ids:
            return SearchResult(query, True, [], {"reason": "empty"})
        expanded = expand_query(query, self.lexicon)
        # a text not in force yet (尚未施行) is no basis for an answer: its passages are not candidates
        usable = snap.searchable
        allowed = usable if not kinds else (
            usable & np.array([m.get("kind", "document") in kinds for m in snap.metas], dtype=bool))
        if allowed.all():
            allowed = None
        fused: dict[int, float] = {}
        dense = qvec = None
        if mode in ("dense", "hybrid"):
            qvec = self.store.embedder.query(query)
            dense = snap.matrix @ qvec
            for i, r in _ranks(dense, allowed).items():
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + r)
        if mode in ("bm25", "hybrid"):
            bm25 = snap.lexical.scores(expanded)
            keep = bm25 > 0 if allowed is None else (bm25 > 0) & allowed
            for i, r in _ranks(bm25, keep).items():
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + r)
        for i in fused:
            if snap.status[i] == "superseded":
                fused[i] *= SUPERSEDED_PENALTY
        ranked = sorted(fused, key=lambda i: (-fused[i], i))
        hits = [self._hit(snap, i, fused[i]) for i in ranked[:k]]
        if dense is not None and not usable.all():  # relevance is judged on the passages that may be used
            dense = np.where(usable, dense, -1.0)
        signals = self._signals(snap, query, dense, ranked[:MISSING_TOP])  # whatever k is
        return SearchResult(query, self._abstain(signals), hits, signals, qvec)

    @staticmethod
    def _hit(snap: Snapshot, i: int, score: float) -> Hit:
        m = snap.metas[i]
        return Hit(
            title=m["title"], article=m.get("article", ""), chapter=m.get("chapter", ""), status=snap.status[i],
            source=m["source"], score=round(float(score), 6), text=snap.texts[i], doc_id=m["doc_id"],
            chunk_id=snap.ids[i], kind=m.get("kind", ""), extra=m.get("extra", ""), anchors=m.get("anchors", ""),
        )

    def _signals(self, snap: Snapshot, query: str, dense: np.ndarray | None, best: list[int]) -> dict:
        """Relevance evidence: the best dense similarity (when computed), the share of the
        question's vocabulary that the knowledge base never uses, and the share that its best
        passages do not use."""
        unseen, missing = snap.lexical.absent(query, best, self.known_terms)
        top_text = snap.texts[best[0]] if best else ""
        return {
            "dense_top": round(float(dense.max()), 4) if dense is not None and len(dense) else None,
            "unseen": round(unseen, 3),
            "missing": round(missing, 3),
            "term": next((t for t in snap.lexical.rare_terms(query, TERM_MAX_SHARE) if t in top_text), ""),
        }

    @staticmethod
    def _abstain(signals: dict) -> bool:
        if signals["dense_top"] is None:
            return signals["unseen"] >= MAX_UNSEEN
        if signals["term"] and signals["dense_top"] >= MIN_RELEVANCE_WITH_TERM:
            return False  # the best passage uses the question's own rare term (先紧后松, 眉毛胡子一把抓)
        return signals["dense_top"] - MISSING_WEIGHT * signals["missing"] < MIN_RELEVANCE
