"""Fixtures of the records tests, over ``db`` (tests/conftest.py: the application database on
SQLite and on the PostgreSQL server that this test run starts)."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.appdb import Database


@pytest.fixture
def env(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The environment of a CLI run on that database (and a data directory of its own)."""
    monkeypatch.setenv("ASSISTANT_DB_URL", db.url)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    return {"ASSISTANT_DB_URL": db.url, "ASSISTANT_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def app(db: Database, tmp_path: Path):
    """An App whose application database is ``db``."""
    from assistant.root import App
    from assistant.settings import Settings

    return App(Settings.from_env({}, data_dir=tmp_path / "data", db_url=db.url))
