"""Fixtures of the records tests: the application database on SQLite and on a real PostgreSQL
server that this test run starts (Debian's postgresql package: initdb/pg_ctl from
/usr/lib/postgresql/*/bin, a throw-away cluster in a temporary folder, a free loopback port).

PostgreSQL refuses to run as root; CI runs as root, so the cluster then runs as the system user
``postgres`` (created by the Debian package) through runuser, with its folder owned by that user.
The tests on PostgreSQL are skipped, with the reason, only where the server cannot be had.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from assistant.appdb import Database

PG_START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


class PgServer:
    def __init__(self, root: Path, bindir: Path, user: str | None) -> None:
        self.root, self.bindir, self.user = root, bindir, user
        self.port = _free_port()
        self.data = root / "data"
        self.log = root / "server.log"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, stdin=subprocess.DEVNULL,
                              env={**os.environ, "LC_ALL": "C.UTF-8"}, timeout=PG_START_TIMEOUT_S)

    def start(self) -> None:
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "-t",
                  str(PG_START_TIMEOUT_S), "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server for this test run; skipped with the reason where it cannot be started."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb missing): "
                    "apt-get install -y postgresql (scripts/test.sh does)")
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no system user 'postgres' to run the server as")
        if shutil.which("runuser") is None:
            pytest.skip("running as root and runuser (util-linux) is missing")
        user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="records-pg-"))
    server = PgServer(root, bindir, user)
    try:
        try:
            server.start()
        except subprocess.CalledProcessError as exc:
            log = server.log.read_text(errors="replace")[-2000:] if server.log.exists() else ""
            pytest.fail(f"PostgreSQL did not start: {exc.stderr or exc.stdout}\n{log}")
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


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
