"""Shared fixtures: the real corpus, indexed once per test session.

ASSISTANT_TEST_CHROMA=server runs the session's corpus knowledge base on a real Chroma server
(`chroma run` on 127.0.0.1, a free port) instead of the embedded store: the scale path of the
README. CHROMA_HOST/CHROMA_PORT are then set in os.environ for the rest of the session, so the
CLIs the tests start inherit them; the data directory still holds the lexical (BM25) cache.
Meant for the integration tests (tests/test_retrieval.py, tests/test_answer.py; .ci/run runs
that pass): a test that builds a knowledge base of its own would share the server's one
collection with the corpus.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from assistant.resources import knowledge_dir
from assistant.settings import Settings, apply_offline_env

KNOWLEDGE_DIR = knowledge_dir()

apply_offline_env()
REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("ASSISTANT_CORPUS_DIR", REPO.parent / "shared" / "corpus"))
CHROMA_MODE = (os.environ.get("ASSISTANT_TEST_CHROMA") or "embedded").strip().lower()
CHROMA_MODES = ("embedded", "server")
CHROMA_START_LIMIT_S = 90


def pytest_report_header(config: pytest.Config) -> str:
    return f"knowledge base store (ASSISTANT_TEST_CHROMA): {CHROMA_MODE}"


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


@pytest.fixture(scope="session")
def corpus_kb(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A knowledge base holding the whole corpus and our knowledge cards (embedded once, ~2 min);
    on a Chroma server with ASSISTANT_TEST_CHROMA=server."""
    from assistant.index import Store
    from assistant.ingest import ingest

    if CHROMA_MODE not in CHROMA_MODES:
        pytest.fail(f"ASSISTANT_TEST_CHROMA={CHROMA_MODE!r}: expected one of {', '.join(CHROMA_MODES)}")
    with contextlib.ExitStack() as stack:
        if CHROMA_MODE == "server":
            host, port = stack.enter_context(chroma_server(tmp_path_factory.mktemp("chroma-server")))
            env = stack.enter_context(pytest.MonkeyPatch.context())
            env.setenv("CHROMA_HOST", host)
            env.setenv("CHROMA_PORT", str(port))
        settings = Settings.from_env(tmp_path_factory.mktemp("kb"))
        store = Store(settings)
        report = ingest([corpus_dir, KNOWLEDGE_DIR], store, progress=False)
        assert not report.failed, report.failed
        if CHROMA_MODE == "server":
            assert (settings.chroma_host, settings.chroma_port) == (host, port), settings
            assert not (settings.data_dir / "chroma").exists(), "server mode must not create an embedded store"
            assert (settings.data_dir / "lexical").is_dir(), "the lexical cache lives in the data directory"
        yield settings
