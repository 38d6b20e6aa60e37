"""Fixtures of the records tests: the application database on SQLite and on a real PostgreSQL
server that this test run starts (the session fixture ``pg_server`` of tests/conftest.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from assistant.appdb import Database



@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path: Path) -> Iterator[Database]:
    """A fresh, empty application database: SQLite in a temporary folder, or a new database on
    the session's PostgreSQL server."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'app.db'}")
    else:
        database = Database(request.getfixturevalue("pg_server").create_database())
    yield database
    database.dispose()


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
