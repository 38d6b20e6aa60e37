"""The web app (app.py / assistant/web/) served for real and driven through gradio_client.

What only a served app shows: the page and its API as Gradio serves them, the start-up line,
twenty askers at once, a file sent through the /ingest API, the login, and refusing to serve the
network without one. The handlers themselves are tested in-process (test_web_handlers.py).

One app process per module, on a free loopback port, over a small knowledge base built once
from ../shared/corpus (or $ASSISTANT_CORPUS_DIR): 支部工作条例, 党费规定 and the 支委会 work card.
A second process checks the login (ASSISTANT_AUTH). Nothing leaves the machine.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from assistant.devtools import appserver

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = Path(os.environ.get("ASSISTANT_CORPUS_DIR") or REPO_ROOT.parent / "shared" / "corpus")
KB_FILES = [
    CORPUS_DIR / "zhibu-gongzuo-tiaoli-2018.txt",
    CORPUS_DIR / "dangfei-shoujiao-shiyong-guanli-guiding-2008.txt",
    REPO_ROOT / "knowledge" / "cards" / "zhiweihui.md",
]


# --------------------------------------------------------------------------- helpers

def build_kb(data_dir: Path) -> None:
    """Ingest the small knowledge base in a child process (the app opens it afterwards)."""
    missing = [p for p in KB_FILES if not p.is_file()]
    if missing:
        pytest.skip(f"corpus not found ({', '.join(str(p) for p in missing)}); set ASSISTANT_CORPUS_DIR")
    appserver.build_kb(data_dir, KB_FILES, timeout=300)


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("kb")
    build_kb(data)
    return data


@pytest.fixture(scope="module")
def app(kb_dir, tmp_path_factory):
    proc = appserver.AppServer(kb_dir, tmp_path_factory.mktemp("app")).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url, verbose=False)


def http(url: str, method: str = "GET", data: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def assert_cited(result: dict) -> None:
    assert isinstance(result, dict), result
    assert not result["abstained"], result["answer"]
    assert result["sources"], result
    assert "[1]" in result["answer"] and "依据：" in result["answer"], result["answer"]
    for s in result["sources"]:
        assert s["title"] and s["text"] and s["status"] in ("current", "superseded", "reference")


# --------------------------------------------------------------------------- start-up and pages

def test_reports_its_startup_and_keeps_library_chatter_out(app, client) -> None:
    """The app says where it serves and how long it took to start (figures for the record: the
    benchmark measures them); library DEBUG lines (bm25s "Building index…") stay out of its output."""
    assert_cited(client.predict("支委会多久开一次？", api_name="/ask"))  # the indexes are built by now
    log = app.log()
    m = re.search(r"党务助手已启动：http://127\.0\.0\.1:\d+（启动用时 ([\d.]+) 秒，其中导入 Gradio ([\d.]+) 秒）", log)
    assert m, log
    print(f"\nstart-up to first page: {app.startup_s:.1f} s (app's own count {m.group(1)} s, "
          f"import gradio {m.group(2)} s)")
    assert "DEBUG" not in log, log


def test_page_is_chinese_and_offline(app):
    status, body = http(app.url)
    assert status == 200
    config = json.loads(re.search(rb"window\.gradio_config = (.*?);</script>", body, re.S).group(1))
    assert config["title"] == "党务助手"
    labels = {c.get("props", {}).get("label") for c in config["components"]}
    assert {"问答", "会议方案", "工作清单", "任务规划", "知识库"} <= labels
    # no web fonts or CDN: the theme names system fonts only
    status, css = http(app.url + "theme.css")
    assert status == 200
    assert b"googleapis" not in css and b"@import" not in css and b"Noto Sans CJK SC" in css
    assert config.get("analytics_enabled") is False
    # Gradio's own strings (upload area, buttons) follow the browser's language: the page says zh-CN
    head = body.split(b"</head>")[0]
    assert head.index(b"'zh-CN'") < head.index(b'type="module"')
    # no FastAPI docs pages
    assert http(app.url + "openapi.json")[0] == 404
    assert http(app.url + "docs")[0] == 404


def test_api_lists_the_named_endpoints(client):
    info = client.view_api(return_format="dict", print_info=False)
    names = set(info["named_endpoints"])
    assert {"/ask", "/meeting_plan", "/checklist", "/plan_tasks", "/ingest"} <= names
    ask = info["named_endpoints"]["/ask"]["parameters"]
    assert ask[0]["parameter_name"] == "question" and not ask[0]["parameter_has_default"]
    assert all(p["parameter_has_default"] for p in ask[1:])


# --------------------------------------------------------------------------- 问答

def test_ask_returns_a_cited_answer(client):
    result = client.predict("支委会多久开一次？", api_name="/ask")
    assert_cited(result)
    assert result["mode"] == "offline"
    assert "每月" in result["answer"]
    assert any("支部工作条例" in s["title"] or "支委会" in s["title"] for s in result["sources"])


def test_ask_rejects_an_empty_question(client):
    with pytest.raises(Exception, match="请输入问题"):
        client.predict("   ", api_name="/ask")


def test_twenty_simultaneous_askers_all_get_answers(app):
    questions = ["支委会多久开一次？", "党员每月应交多少党费？", "组织生活会一般什么时候召开？", "党费由谁收缴？"]
    results: list = [None] * 20
    errors: list = []
    barrier = threading.Barrier(20)

    def user(i: int) -> None:
        try:
            c = Client(app.url, verbose=False)
            barrier.wait(30)
            results[i] = c.predict(questions[i % len(questions)], api_name="/ask")
        except Exception as exc:  # collected and reported below
            errors.append(f"{i}: {type(exc).__name__}: {exc}")

    t0 = time.perf_counter()  # printed for the record, never asserted
    threads = [threading.Thread(target=user, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    elapsed = time.perf_counter() - t0
    assert not errors, errors
    for r in results:
        assert_cited(r)
    print(f"\n20 simultaneous /ask calls: {elapsed:.1f} s in all")


# --------------------------------------------------------------------------- 知识库

def test_ingest_makes_a_new_document_findable(client, kb_dir, tmp_path):
    doc = tmp_path / "机关读书 分享;会$(x).txt"
    doc.write_text("机关读书分享会办法\n\n第一条 机关党支部每季度组织一次青年读书分享会，由宣传委员负责召集并做好记录。\n",
                   encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    status, progress = client.predict([handle_file(str(doc)), handle_file(str(empty))], api_name="/ingest")
    assert status.startswith("导入完成"), status
    results = dict((r[0].split(" → ")[0], r[1]) for r in progress["data"])
    assert any(v == "已导入" for v in results.values()), progress
    assert any(v.startswith("失败") and "空" in v for v in results.values()), progress
    staged = sorted(p.name for p in (kb_dir / "uploads").iterdir())
    assert all(re.fullmatch(r"[\w\u4e00-\u9fff.\-（）]+", n) for n in staged), staged
    assert not any(c in "".join(staged) for c in " ;$()/\\"), staged
    result = client.predict("青年读书分享会由谁负责召集？", api_name="/ask")
    assert_cited(result)
    assert "宣传委员" in result["answer"]
    assert any(s["title"] == "机关读书分享会办法" for s in result["sources"])


# --------------------------------------------------------------------------- login

def test_login_guards_every_page_and_endpoint(kb_dir, tmp_path):
    """ASSISTANT_AUTH, the quick start: its users log in on our login page (a session in the
    application database) and everything of Gradio's needs that session."""
    app = appserver.AppServer(kb_dir, tmp_path, ASSISTANT_AUTH="admin:s3cret-pass,viewer:another").start()
    try:
        base = app.url
        status, body = http(base, headers={"Accept": "text/html"})
        assert status == 200  # redirected to the login page: a form, no components, no API description
        assert "登录" in body.decode() and b"gradio_config" not in body and b"gradio_api_info" not in body
        assert b"named_endpoints" not in body and b"/ask" not in body
        assert http(base)[0] == 401
        for path in ("config", "gradio_api/info", "gradio_api/openapi.json", "gradio_api/queue/status",
                     "gradio_api/file=" + str(kb_dir / ".write.lock"), "monitoring"):
            assert http(base + path)[0] in (401, 403, 404), path
        j = {"Content-Type": "application/json"}
        for path, payload in (("gradio_api/call/ask", {"data": ["支委会多久开一次？"]}),
                              ("gradio_api/run/ask", {"data": ["支委会多久开一次？"]}),
                              ("gradio_api/queue/join", {"data": ["x"], "fn_index": 0, "session_hash": "abc"})):
            code, text = http(base + path, "POST", json.dumps(payload).encode(), j)
            assert code == 401, (path, code, text[:200])
        boundary = "XyZ"
        body_up = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n"
                   f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n").encode()
        code, _ = http(base + "gradio_api/upload", "POST", body_up,
                       {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert code == 401
        with pytest.raises(Exception):
            Client(base, verbose=False)
        with pytest.raises(Exception):
            Client(base, auth=("admin", "wrong"), verbose=False)
        c = Client(base, auth=("viewer", "another"), verbose=False)
        summary, *_ = c.predict(2027, "1月", "机关", api_name="/checklist")
        assert "2027年1月" in summary
        assert_cited(c.predict("支委会多久开一次？", api_name="/ask"))
    finally:
        app.stop()


def test_downloads_work_wherever_the_data_dir_is(tmp_path: Path) -> None:
    """The downloads are written under the data dir: Gradio must be told to serve them even when
    the data dir is neither under the working directory nor under the temp dir."""
    data, own_tmp = tmp_path / "data", tmp_path / "app-tmp"
    own_tmp.mkdir()
    with appserver.AppServer(data, tmp_path / "app", TMPDIR=str(own_tmp)) as server:
        day = time.strftime("%Y-%m-%d", time.localtime(time.time() + 30 * 86400))
        preview, docx_path, md_path = Client(server.url, verbose=False).predict(
            "支委会", "第一党支部", day, "", 5, api_name="/meeting_plan")
    assert "第一党支部" in preview
    assert Path(docx_path).stat().st_size > 1000 and Path(md_path).read_text(encoding="utf-8").startswith("# 第一党支部")
    assert list((data / "outputs").glob("run-*/*/*.docx")), "written under the data dir"


def test_open_address_without_login_is_refused(tmp_path: Path) -> None:
    """Serving the network without ASSISTANT_AUTH would let anyone import and delete documents:
    the app refuses to start, in one line naming both ways out; ASSISTANT_ALLOW_OPEN=true is the opt-out."""
    env = appserver.offline_env(ASSISTANT_DATA_DIR=str(tmp_path / "data"), GRADIO_SERVER_NAME="0.0.0.0",
                                GRADIO_SERVER_PORT=str(appserver.free_port()))
    code = "import sys; from assistant.web.server import main; sys.exit(main())"
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误：") and "0.0.0.0" in lines[0], r.stderr
    assert "ASSISTANT_AUTH" in lines[0] and "ASSISTANT_ALLOW_OPEN=true" in lines[0]
    assert "党务助手已启动" not in r.stdout and not (tmp_path / "data").exists()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_needs_no_login(host: str) -> None:
    from assistant.web.server import is_loopback

    assert is_loopback(host)
    assert not any(is_loopback(h) for h in ("0.0.0.0", "", "192.168.1.10", "::", "example.org"))
