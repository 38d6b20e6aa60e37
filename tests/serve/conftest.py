"""Fixtures of the serving tests: the application database on SQLite and on the session's
PostgreSQL server (tests/conftest.py), and the small knowledge base the served tests ask."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from assistant.appdb import Database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'app.db'}")
    else:
        database = Database(request.getfixturevalue("pg_server").create_database())
    yield database
    database.dispose()
