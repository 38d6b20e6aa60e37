"""Shared fixtures: the real corpus, indexed once per test session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.config import KNOWLEDGE_DIR, Settings, apply_offline_env

apply_offline_env()
REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("ASSISTANT_CORPUS_DIR", REPO.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS / "manifest.json").is_file():
        pytest.skip(f"../shared/corpus not present at {CORPUS}: the real regulation texts are needed")
    return CORPUS


@pytest.fixture(scope="session")
def corpus_kb(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A knowledge base holding the whole corpus and our knowledge cards (embedded once, ~2 min)."""
    from assistant.index import Store
    from assistant.ingest import ingest

    settings = Settings.from_env(tmp_path_factory.mktemp("kb"))
    store = Store(settings)
    report = ingest([corpus_dir, KNOWLEDGE_DIR], store, progress=False)
    assert not report.failed, report.failed
    return settings
