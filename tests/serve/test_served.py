"""The served app (python app.py) with accounts and API keys, driven from outside as a 机关's
front ends would: the official `openai` client and LangChain's ChatOpenAI on /v1, gradio_client
on Gradio's named API as each role, the login page, and a conversation continued across a restart.

One app process for the module, on a free loopback port, over a small knowledge base (支部工作条例,
党费规定, the 支委会 card), with three users (管理员, 党务工作者, 党员) made by `users add` before it
starts, and API keys made by `keys create` while it runs. Offline, loopback only.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from assistant.devtools import appserver

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("ASSISTANT_CORPUS_DIR") or REPO.parent / "shared" / "corpus")
KB_FILES = [CORPUS / "zhibu-gongzuo-tiaoli-2018.txt", CORPUS / "dangfei-shoujiao-shiyong-guanli-guiding-2008.txt",
            REPO / "knowledge" / "cards" / "zhiweihui.md"]
USERS = {"管理员": ("admin1", "pass-admin-1"), "党务工作者": ("worker1", "pass-worker-1"),
         "党员": ("member1", "pass-member-1")}
MODEL = "dangwu-assistant"


def cli(data_dir: Path, *args: str, stdin: str = "") -> str:
    r = subprocess.run([sys.executable, "-m", "assistant", *args, "--data-dir", str(data_dir)], cwd=REPO,
                       env=appserver.offline_env(), input=stdin, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def http(url: str, method: str = "GET", data: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory) -> Path:
    missing = [p for p in KB_FILES if not p.is_file()]
    if missing:
        pytest.skip(f"corpus not found ({', '.join(map(str, missing))}); set ASSISTANT_CORPUS_DIR")
    data = tmp_path_factory.mktemp("served-kb")
    appserver.build_kb(data, KB_FILES, timeout=300)
    for role, (name, password) in USERS.items():
        cli(data, "users", "add", name, "--role", role, "--password-stdin", stdin=password + "\n")
    cli(data, "users", "add", "victim", "--role", "党员", "--password-stdin", stdin="pass-victim-1\n")
    return data


@pytest.fixture(scope="module")
def server(kb_dir, tmp_path_factory):
    srv = appserver.AppServer(kb_dir, tmp_path_factory.mktemp("served-app")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def api_off(server) -> tuple[int, dict]:
    """GET /v1/models before any key exists (the fixture order makes it run first)."""
    status, _, body = http(server.url + "v1/models", headers={"Authorization": "Bearer dw-anything"})
    return status, json.loads(body)


@pytest.fixture(scope="module")
def key(api_off, kb_dir) -> str:
    return cli(kb_dir, "keys", "create", "--name", "企业微信机器人").strip().splitlines()[-1]


@pytest.fixture(scope="module")
def openai_client(server, key):
    from openai import OpenAI

    return OpenAI(base_url=server.url + "v1", api_key=key, max_retries=0, timeout=60)


def assert_cited_content(content: str) -> None:
    assert "[1]" in content and "依据：" in content, content
    assert "第十二条" in content, content


# --------------------------------------------------------------------------- the API is off without a key

def test_api_is_off_until_an_administrator_creates_a_key(api_off, key, server) -> None:
    status, body = api_off
    assert status == 404 and body["error"]["code"] == "api_disabled" and "keys create" in body["error"]["message"]
    status, _, body = http(server.url + "v1/models", headers={"Authorization": f"Bearer {key}"})
    assert status == 200 and [m["id"] for m in json.loads(body)["data"]] == [MODEL]


# --------------------------------------------------------------------------- the official openai client

def test_openai_client_gets_a_cited_answer_with_structured_sources(openai_client) -> None:
    assert [m.id for m in openai_client.models.list()] == [MODEL]
    r = openai_client.chat.completions.create(model=MODEL, messages=[
        {"role": "system", "content": "你是助手"}, {"role": "user", "content": "支委会多久开一次？"}])
    content = r.choices[0].message.content
    assert_cited_content(content)
    assert r.choices[0].finish_reason == "stop" and r.model == MODEL and r.usage.completion_tokens == len(content)
    sources = r.model_extra["sources"]
    assert sources and all({"title", "article", "status", "source", "text"} <= set(s) for s in sources)
    assert any("第十二条" in (s["article"] + s["text"]) for s in sources)
    assert r.model_extra["dangwu"]["mode"] == "offline" and r.model_extra["dangwu"]["abstained"] is False


def test_openai_client_streams_and_the_last_chunk_carries_the_sources(openai_client) -> None:
    stream = openai_client.chat.completions.create(model=MODEL, stream=True, stream_options={"include_usage": True},
                                                   messages=[{"role": "user", "content": "支委会多久开一次？"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert_cited_content(text)
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"]
    assert len(finals) == 1 and finals[0].model_extra["sources"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == len(text)
    whole = openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "支委会多久开一次？"}])
    assert whole.choices[0].message.content == text


def test_openai_client_follow_up_is_condensed_with_the_history(openai_client) -> None:
    first = openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "支委会多久开一次？"}])
    follow = openai_client.chat.completions.create(model=MODEL, messages=[
        {"role": "user", "content": "支委会多久开一次？"},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "那党小组会呢？"}])
    query = follow.model_extra["dangwu"]["query"]
    assert query.startswith("那党小组会呢？") and "多久" in query, query
    alone = openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "那党小组会呢？"}])
    assert alone.model_extra["dangwu"]["query"] == "那党小组会呢？"


def test_openai_client_errors_have_openai_shapes(openai_client, server, kb_dir) -> None:
    import openai

    bad = openai.OpenAI(base_url=server.url + "v1", api_key="dw-not-a-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as exc:
        bad.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "支委会多久开一次？"}])
    assert exc.value.status_code == 401 and exc.value.body["code"] == "invalid_api_key"
    with pytest.raises(openai.BadRequestError) as exc:
        openai_client.chat.completions.create(model=MODEL, messages=[])
    assert exc.value.status_code == 400 and exc.value.body["param"] == "messages"
    with pytest.raises(openai.NotFoundError) as exc:
        openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert exc.value.body["code"] == "model_not_found"
    with pytest.raises((openai.BadRequestError, openai.APIStatusError)) as exc:
        openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "党" * 200_000}])
    assert exc.value.status_code in (400, 413)
    assert "太长" in exc.value.message or "太大" in exc.value.message
    with pytest.raises(openai.BadRequestError):
        openai_client.chat.completions.create(model=MODEL, messages=[
            {"role": "user", "content": "支委会多久开一次？"}, {"role": "assistant", "content": "答：每月一次"}])


def test_a_revoked_key_is_refused(server, kb_dir) -> None:
    import openai

    key = cli(kb_dir, "keys", "create", "--name", "临时").strip().splitlines()[-1]
    c = openai.OpenAI(base_url=server.url + "v1", api_key=key, max_retries=0)
    assert c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "党费怎么交？"}]).choices
    cli(kb_dir, "keys", "revoke", "临时")
    with pytest.raises(openai.AuthenticationError):
        c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "党费怎么交？"}])


def test_over_the_rate_limit_is_429_with_retry_after(server, kb_dir) -> None:
    import openai

    key = cli(kb_dir, "keys", "create", "--name", "限流", "--rpm", "2").strip().splitlines()[-1]
    c = openai.OpenAI(base_url=server.url + "v1", api_key=key, max_retries=0)
    for _ in range(2):
        c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "党费怎么交？"}])
    with pytest.raises(openai.RateLimitError) as exc:
        c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "党费怎么交？"}])
    assert exc.value.status_code == 429 and exc.value.body["code"] == "rate_limit_exceeded"
    retry = int(exc.value.response.headers["retry-after"])
    assert 1 <= retry <= 60


# --------------------------------------------------------------------------- LangChain's ChatOpenAI

def test_langchain_chat_openai(server, key) -> None:
    import openai
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=server.url + "v1", api_key=key, model=MODEL, max_retries=0, timeout=60)
    reply = llm.invoke("支委会多久开一次？")
    assert_cited_content(reply.content)
    streamed = "".join(chunk.content for chunk in llm.stream("支委会多久开一次？"))
    assert streamed == reply.content
    follow = llm.invoke([HumanMessage("支委会多久开一次？"), AIMessage(reply.content), HumanMessage("那党小组会呢？")])
    assert "党小组" in follow.content or "依据" in follow.content
    bad = ChatOpenAI(base_url=server.url + "v1", api_key="dw-wrong", model=MODEL, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.invoke("支委会多久开一次？")


# --------------------------------------------------------------------------- login

def test_login_page_and_a_login_that_fails_says_only_that(server) -> None:
    status, headers, _ = http(server.url, headers={"Accept": "text/html"})
    assert status == 303 and headers["location"].endswith("login")
    status, _, page = http(server.url + "login")
    assert status == 200 and "用户名" in page.decode() and "密码" in page.decode()
    form = {"Accept": "text/html", "Content-Type": "application/x-www-form-urlencoded"}
    s1, _, wrong_pw = http(server.url + "login", "POST", "username=member1&password=nope".encode(), form)
    s2, _, no_user = http(server.url + "login", "POST", "username=nobody&password=nope".encode(), form)
    assert s1 == s2 == 401 and wrong_pw == no_user and "用户名或密码不正确" in wrong_pw.decode()
    status, headers, _ = http(server.url + "login", "POST", "username=member1&password=pass-member-1".encode(), form)
    assert status == 303 and "dangwu_session=" in headers["set-cookie"] and "HttpOnly" in headers["set-cookie"]
    cookie = headers["set-cookie"].split(";")[0]
    status, _, body = http(server.url, headers={"Accept": "text/html", "Cookie": cookie})
    assert status == 200 and b"gradio_config" in body
    # without a session Gradio's API answers nothing
    for path in ("config", "gradio_api/info", "gradio_api/queue/status"):
        assert http(server.url + path)[0] in (401, 403, 404), path
    code = http(server.url + "gradio_api/call/ask", "POST", json.dumps({"data": ["支委会多久开一次？"]}).encode(),
                {"Content-Type": "application/json"})[0]
    assert code == 401
    status, headers, _ = http(server.url + "logout", headers={"Cookie": cookie})
    assert status == 303
    assert http(server.url + "config", headers={"Cookie": cookie})[0] == 401  # the session has ended


def test_failed_logins_are_rate_limited(server) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    codes = [http(server.url + "login", "POST", "username=victim&password=guess".encode(), form)[0] for _ in range(5)]
    assert codes == [401] * 5
    status, _, body = http(server.url + "login", "POST", "username=victim&password=pass-victim-1".encode(), form)
    assert status == 429 and "次数过多" in json.loads(body)["message"]
    with pytest.raises(Exception):
        Client(server.url, auth=("victim", "pass-victim-1"), verbose=False)


# --------------------------------------------------------------------------- roles on Gradio's named API

def _client(server, role: str) -> Client:
    return Client(server.url, auth=USERS[role], verbose=False)


def _refused(call) -> bool:
    try:
        call()
    except Exception as exc:  # gradio_client raises AppError with the message shown
        if "权限" in str(exc):
            return True
        raise
    return False


def test_each_named_endpoint_with_each_role(server, tmp_path) -> None:
    doc = tmp_path / "读书会办法.txt"
    doc.write_text("机关读书会办法\n\n第一条 机关党支部每季度组织一次读书会，由宣传委员负责召集。\n", encoding="utf-8")
    day = time.strftime("%Y-%m-%d", time.localtime(time.time() + 30 * 86400))
    tasks = {"headers": ["任务名称", "截止日期", "工时", "类型", "删除"], "data": [["撰写年度工作总结", day, "3", "", "✕"]]}
    calls = {
        "/ask": (("支委会多久开一次？",), "党员"),
        "/chat": (("支委会多久开一次？",), "党员"),
        "/checklist": ((2027, "1月", "机关"), "党员"),
        "/meeting_plan": (("支委会", "第一党支部", day, "", 5), "党务工作者"),
        "/plan_tasks": ((tasks, day, 4, 3, "机关"), "党务工作者"),
        "/ingest": (([handle_file(str(doc))],), "管理员"),
    }
    rank = ["党员", "党务工作者", "管理员"]
    seen = {}
    for role in rank:
        c = _client(server, role)
        names = set(c.view_api(return_format="dict", print_info=False)["named_endpoints"])
        assert set(calls) <= names
        for name, (args, needed) in calls.items():
            refused = _refused(lambda: c.predict(*args, api_name=name))
            seen[(name, role)] = refused
            assert refused == (rank.index(role) < rank.index(needed)), (name, role)
    assert seen[("/ingest", "党务工作者")] and not seen[("/ingest", "管理员")]


# --------------------------------------------------------------------------- a conversation across a restart

def test_a_conversation_continues_after_a_restart(server) -> None:
    c = _client(server, "党员")
    first = c.predict("支委会多久开一次？", api_name="/chat")
    assert first["conversation"] and first["query"] == "支委会多久开一次？" and "[1]" in first["answer"]
    server.stop()
    server.start()
    c = _client(server, "党员")  # a new login: the old process's memory is gone, the database is not
    follow = c.predict("那党小组会呢？", first["conversation"], api_name="/chat")
    assert follow["conversation"] == first["conversation"]
    assert follow["query"].startswith("那党小组会呢？") and "多久" in follow["query"], follow["query"]
    other = _client(server, "党务工作者").predict("那党小组会呢？", first["conversation"], api_name="/chat")
    assert other["conversation"] != first["conversation"] and other["query"] == "那党小组会呢？"  # not theirs
