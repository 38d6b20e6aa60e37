"""assistant/web/patches.py, pinned to the Gradio version its patches were checked against.

Each patch changes something Gradio does; if Gradio is upgraded, the first test fails until
someone has re-run the others against the new version (they check that each patch still does
its job, and that the reason for it is still there) and updated CHECKED_GRADIO.
The page is served in this process (demo.launch on a free loopback port), without a browser.
"""
from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request
from contextlib import contextmanager
from typing import Iterator

import gradio
import pytest

from assistant.root import App
from assistant.settings import Settings
from assistant.web import patches
from assistant.web.layout import CSS, build_app, theme

API_INFO_RE = re.compile(rb"window\.gradio_api_info = (.*?);</script>", re.S)


def test_gradio_is_the_version_the_patches_were_checked_against() -> None:
    assert gradio.__version__ == patches.CHECKED_GRADIO or gradio.__version__.startswith(patches.CHECKED_GRADIO + "."), (
        f"Gradio {gradio.__version__}: re-check every patch of assistant/web/patches.py against it (the tests "
        f"below), then set CHECKED_GRADIO; they were written for {patches.CHECKED_GRADIO}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return App(Settings.from_env(data_dir=tmp_path_factory.mktemp("patches") / "data"))


@contextmanager
def served(app: App, *, auth: list[tuple[str, str]] | None, patched: bool) -> Iterator[str]:
    """The page on a free loopback port, launched as server.main launches it (with the patches or without)."""
    demo = build_app(app)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, auth=auth, prevent_thread_lock=True, quiet=True,
                ssr_mode=False, pwa=False, mcp_server=False, enable_monitoring=False, theme=theme(), css=CSS,
                app_kwargs=patches.app_kwargs() if patched else {})
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def head_of(page: bytes) -> bytes:
    return page.split(b"</head>", 1)[0]


def test_the_page_reports_zh_cn_before_gradio_starts(app: App) -> None:
    """Gradio's own texts follow the browser's language: our script says zh-CN before Gradio's module runs."""
    with served(app, auth=None, patched=True) as url:
        status, page = get(url)
    assert status == 200
    head = head_of(page)
    assert head.index(b"'zh-CN'") < head.index(b'type="module"'), head[:400]
    with served(app, auth=None, patched=False) as url:
        assert b"zh-CN" not in head_of(get(url)[1]), "Gradio now reports the language itself: is the patch still needed?"


def test_the_login_page_carries_no_api_description(app: App) -> None:
    """Behind a login, the page a visitor sees first must not describe every endpoint."""
    with served(app, auth=[("admin", "s3cret")], patched=True) as url:
        status, page = get(url)
    assert status == 200 and re.search(rb'"auth_required":\s*true', page)
    assert API_INFO_RE.search(page).group(1) == b"null"
    assert b"named_endpoints" not in page and b"/ask" not in page
    assert b"'zh-CN'" in head_of(page), "the language script is on the login page too"
    with served(app, auth=[("admin", "s3cret")], patched=False) as url:
        unpatched = get(url)[1]
    assert b"named_endpoints" in API_INFO_RE.search(unpatched).group(1), (
        "Gradio no longer embeds the API description in its login page: is the patch still needed?")


def test_without_login_the_api_description_stays(app: App) -> None:
    """The blanking is for the login page only: an open page keeps what gradio_client reads."""
    with served(app, auth=None, patched=True) as url:
        page = get(url)[1]
    assert b"named_endpoints" in API_INFO_RE.search(page).group(1)


def test_no_fastapi_docs_pages(app: App) -> None:
    with served(app, auth=None, patched=True) as url:
        assert get(url + "openapi.json")[0] == 404
        assert get(url + "docs")[0] == 404
        assert get(url + "redoc")[0] == 404
        assert get(url + "gradio_api/info")[0] == 200, "Gradio's own API description is left alone"

