"""Shared fixtures: an isolated environment for every test, an App over a fresh data directory,
and the real corpus, indexed once per test session.

Every test runs with a clean environment (``isolated_env``, autouse): whatever model, store,
Gradio or assistant settings the developer's shell carries (OPENAI_*, ASSISTANT_*, CHROMA_*,
GRADIO_*) are removed, the offline switches (settings.OFFLINE_ENV) are set, and the default data
directory points into the test's own tmp_path, so nothing a test runs can reach a model
endpoint, a Chroma server or the checkout's ./data. The suite's own switches
(ASSISTANT_TEST_CHROMA, ASSISTANT_CORPUS_DIR) stay.

The corpus knowledge base's vectors are left in test-artifacts/corpus-vectors.npz (not in git)
for the next run: the Chroma-server pass of .ci/run takes them from the first pass instead of
embedding the whole corpus again (a text the file does not hold is embedded as usual).

ASSISTANT_TEST_CHROMA=server runs the session's corpus knowledge base on a real Chroma server
(`chroma run` on 127.0.0.1, a free port) instead of the embedded store: the scale path of the
README. CHROMA_HOST/CHROMA_PORT are then set for the rest of the session (SESSION_ENV: the
isolation keeps them), so the CLIs the tests start inherit them; the data directory still holds
the lexical (BM25) cache. Meant for the integration tests (tests/test_retrieval.py,
tests/test_answer.py; .ci/run runs that pass): a test that builds a knowledge base of its own
would share the server's one collection with the corpus.
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest

from assistant.qa.index import index_text
from assistant.qa.ingest import ingest
from assistant.qa.vectors import VectorCache, text_key
from assistant.root import App
from assistant.settings import OFFLINE_ENV, Settings, apply_offline_env

apply_offline_env()  # for the session fixtures too, which run outside any test's isolated_env
REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("ASSISTANT_CORPUS_DIR", REPO.parent / "shared" / "corpus"))
CHROMA_MODE = (os.environ.get("ASSISTANT_TEST_CHROMA") or "embedded").strip().lower()
CHROMA_MODES = ("embedded", "server")
CHROMA_START_LIMIT_S = 90
CORPUS_VECTORS = REPO / "test-artifacts" / "corpus-vectors.npz"

#: Variables a developer's shell may carry that change what the assistant does.
ISOLATED_PREFIXES = ("OPENAI_", "ASSISTANT_", "CHROMA_", "GRADIO_")
#: The test suite's own switches (not settings of the assistant): kept.
SUITE_SWITCHES = ("ASSISTANT_TEST_CHROMA", "ASSISTANT_CORPUS_DIR")
#: What the session itself sets for every test (the Chroma server of ASSISTANT_TEST_CHROMA=server).
SESSION_ENV: dict[str, str] = {}


def pytest_report_header(config: pytest.Config) -> str:
    return f"knowledge base store (ASSISTANT_TEST_CHROMA): {CHROMA_MODE}"


def _isolate(patch: pytest.MonkeyPatch, data_dir: Path) -> None:
    for key in list(os.environ):
        if key.startswith(ISOLATED_PREFIXES) and key not in SUITE_SWITCHES:
            patch.delenv(key)
    for key, value in OFFLINE_ENV.items():
        patch.setenv(key, value)
    patch.setenv("ASSISTANT_DATA_DIR", str(data_dir))
    for key, value in SESSION_ENV.items():
        patch.setenv(key, value)


@pytest.fixture(scope="session", autouse=True)
def isolated_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same clean environment for the session and module fixtures (they run before any test's own)."""
    with pytest.MonkeyPatch.context() as patch:
        _isolate(patch, tmp_path_factory.mktemp("default-data"))
        yield


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A clean environment for each test: no model, store, Gradio or assistant settings from the
    caller's shell, the offline switches on, the default data directory inside tmp_path."""
    _isolate(monkeypatch, tmp_path / "default-data")


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., App]:
    """make_app(data_dir=None, **settings) → an App over DATA_DIR (default: a new folder in tmp_path),
    its settings read from the (isolated) environment with the given overrides."""
    def make(data_dir: Path | None = None, **overrides) -> App:
        return App(Settings.from_env(data_dir=data_dir or tmp_path / "data", **overrides))
    return make


@pytest.fixture
def fresh_app(make_app: Callable[..., App]) -> App:
    """An App over a fresh, empty data directory."""
    return make_app()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def chroma_server(root: Path) -> Iterator[tuple[str, int]]:
    """`chroma run` (the CLI beside this Python) on a free loopback port with its data under ROOT;
    yields (host, port) once its heartbeat answers, stops it afterwards."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.is_file():
        pytest.fail(f"ASSISTANT_TEST_CHROMA=server, but there is no chroma CLI at {chroma} (pip install chromadb)")
    host, port = "127.0.0.1", _free_port()
    log_path = root / "chroma.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(chroma), "run", "--path", str(root / "data"), "--host", host, "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        try:
            deadline = time.monotonic() + CHROMA_START_LIMIT_S
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"chroma run exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
                try:
                    with urllib.request.urlopen(f"http://{host}:{port}/api/v2/heartbeat", timeout=2) as r:
                        if r.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"chroma run did not answer within {CHROMA_START_LIMIT_S} s:\n"
                                f"{log_path.read_text(errors='replace')[-3000:]}")
                time.sleep(0.2)
            yield host, port
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(15)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS / "manifest.json").is_file():
        pytest.skip(f"../shared/corpus not present at {CORPUS}: the real regulation texts are needed")
    return CORPUS


def save_vectors(store, path: Path) -> None:
    """Every vector the store holds, by the text it was computed from (float32, as stored), for VectorCache."""
    got = store.collection.get(include=["embeddings", "metadatas", "documents"])
    keys = [text_key(store.embedder.key, index_text(m, d)) for m, d in zip(got["metadatas"], got["documents"])]
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.stem}-{os.getpid()}.npz")
    np.savez_compressed(part, keys=np.array(keys), vectors=np.asarray(got["embeddings"], dtype=np.float32))
    os.replace(part, path)


@pytest.fixture(scope="session")
def corpus_app(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The App that holds the whole corpus and our knowledge cards (embedded once, ~2 min, unless
    CORPUS_VECTORS has the vectors); on a Chroma server with ASSISTANT_TEST_CHROMA=server."""
    if CHROMA_MODE not in CHROMA_MODES:
        pytest.fail(f"ASSISTANT_TEST_CHROMA={CHROMA_MODE!r}: expected one of {', '.join(CHROMA_MODES)}")
    with contextlib.ExitStack() as stack:
        if CHROMA_MODE == "server":
            host, port = stack.enter_context(chroma_server(tmp_path_factory.mktemp("chroma-server")))
            SESSION_ENV.update(CHROMA_HOST=host, CHROMA_PORT=str(port))
            stack.callback(SESSION_ENV.clear)
            patch = stack.enter_context(pytest.MonkeyPatch.context())
            for key, value in SESSION_ENV.items():
                patch.setenv(key, value)
        settings = Settings.from_env(data_dir=tmp_path_factory.mktemp("kb"))
        app = App(settings)
        cache = VectorCache.load(CORPUS_VECTORS) if CORPUS_VECTORS.is_file() else app.vector_cache
        report = ingest([corpus_dir, app.knowledge.folder], app.store, app.knowledge.phrasings(), progress=False,
                        cache=cache)
        assert not report.failed, report.failed
        save_vectors(app.store, CORPUS_VECTORS)
        marked = app.ensure_bundled()  # the cards are in already: this only marks them as taken (bundled.json)
        assert marked is not None and not marked.failed and not marked.added, marked
        if CHROMA_MODE == "server":
            assert (settings.chroma_host, settings.chroma_port) == (host, port), settings
            assert not (settings.data_dir / "chroma").exists(), "server mode must not create an embedded store"
            assert (settings.data_dir / "lexical").is_dir(), "the lexical cache lives in the data directory"
        yield app


@pytest.fixture(scope="session")
def corpus_kb(corpus_app: App) -> Settings:
    """The settings of the corpus knowledge base (corpus_app): its data_dir for CLIs, or App(corpus_kb)."""
    return corpus_app.settings


# --------------------------------------------------------------------------- PostgreSQL
# The application database on a real PostgreSQL server that this test run starts (Debian's
# postgresql package: initdb/pg_ctl from /usr/lib/postgresql/*/bin, a throw-away cluster in a
# temporary folder, a free loopback port). PostgreSQL refuses to run as root; CI runs as root, so
# the cluster then runs as the system user ``postgres`` (created by the Debian package) through
# runuser, with its folder owned by that user. Tests on PostgreSQL are skipped, with the reason,
# only where the server cannot be had. Used by tests/records/ and the serving tests.

PG_START_TIMEOUT_S = 60


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
def db(request, tmp_path: Path) -> Iterator["Database"]:
    """A fresh, empty application database: SQLite in a temporary folder, or a new database on
    the session's PostgreSQL server (the records and serving tests run on both)."""
    from assistant.appdb import Database

    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'app.db'}")
    else:
        database = Database(request.getfixturevalue("pg_server").create_database())
    yield database
    database.dispose()


@pytest.fixture
def start_chroma() -> Callable:
    """chroma_server (above) for tests in subfolders, whose own conftest shadows this module's name."""
    return chroma_server
