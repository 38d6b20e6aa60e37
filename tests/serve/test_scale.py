"""The many-users deployment of the README: two app processes (as behind nginx) on one PostgreSQL
application database and one Chroma server. A user logs in on one process and continues the
conversation on the other with the same session cookie; an API key made once works on both; a
user removed is refused by both. Loopback only; PostgreSQL is the session's throw-away cluster
(tests/conftest.py), Chroma the `chroma run` helper."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from gradio_client import Client

from assistant.devtools import appserver
from test_served import KB_FILES, MODEL, REPO


def test_two_processes_share_sessions_keys_and_conversations(pg_server, start_chroma, tmp_path: Path) -> None:
    missing = [p for p in KB_FILES if not p.is_file()]
    if missing:
        pytest.skip(f"corpus not found ({', '.join(map(str, missing))}); set ASSISTANT_CORPUS_DIR")
    import openai

    (tmp_path / "chroma").mkdir()
    with start_chroma(tmp_path / "chroma") as (host, port):
        shared = {"ASSISTANT_DB_URL": pg_server.create_database(), "CHROMA_HOST": host, "CHROMA_PORT": str(port)}

        def cli(data: Path, *args: str, stdin: str = "") -> str:
            r = subprocess.run([sys.executable, "-m", "assistant", *args, "--data-dir", str(data)], cwd=REPO,
                               env=appserver.offline_env(**shared), input=stdin, capture_output=True, text=True,
                               timeout=300)
            assert r.returncode == 0, (args, r.stdout, r.stderr)
            return r.stdout

        a_dir, b_dir = tmp_path / "a", tmp_path / "b"  # each process keeps its own BM25 cache
        cli(a_dir, "ingest", *map(str, KB_FILES), "--quiet")
        cli(a_dir, "users", "add", "member1", "--role", "党员", "--password-stdin", stdin="pass-member-1\n")
        key = cli(b_dir, "keys", "create", "--name", "机器人").strip().splitlines()[-1]
        with appserver.AppServer(a_dir, tmp_path / "app-a", **shared) as a, \
                appserver.AppServer(b_dir, tmp_path / "app-b", **shared) as b:
            on_a = Client(a.url, auth=("member1", "pass-member-1"), verbose=False)
            first = on_a.predict("支委会多久开一次？", api_name="/chat")
            assert "[1]" in first["answer"] and first["conversation"]
            cookie = on_a.cookies["dangwu_session"]
            on_b = Client(b.url, verbose=False, httpx_kwargs={"cookies": {"dangwu_session": cookie}})
            follow = on_b.predict("那党小组会呢？", first["conversation"], api_name="/chat")
            assert follow["conversation"] == first["conversation"]
            assert follow["query"].startswith("那党小组会呢？") and "多久" in follow["query"], follow["query"]
            for server in (a, b):
                c = openai.OpenAI(base_url=server.url + "v1", api_key=key, max_retries=0)
                reply = c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "支委会多久开一次？"}])
                assert "依据：" in reply.choices[0].message.content
            cli(b_dir, "users", "remove", "member1")
            for server in (a, b):
                with pytest.raises(Exception):
                    Client(server.url, verbose=False, httpx_kwargs={"cookies": {"dangwu_session": cookie}})
        assert not (a_dir / "chroma").exists() and not (a_dir / "app.db").exists(), "shared stores only"
