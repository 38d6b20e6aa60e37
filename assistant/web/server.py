"""Start the web app: ``python app.py`` or ``dangwu serve`` → http://127.0.0.1:7860.

One process, one port: a FastAPI app (assistant.serve.app) with the login pages, the
OpenAI-compatible API under /v1 and the Gradio page mounted at /, served by uvicorn.
"""
from __future__ import annotations

import ipaddress
import logging
import sys
import threading
import time

from ..errors import AssistantError, InputError
from ..root import App
from ..settings import Settings, apply_offline_env, configure_logging


def parse_auth(raw: str | None) -> list[tuple[str, str]] | None:
    """ASSISTANT_AUTH "user:pass,user2:pass2" → [(user, pass), …]; None when unset."""
    from ..serve.accounts import parse_auth as parse

    pairs = parse(raw)
    return list(pairs.items()) or None


def is_loopback(host: str) -> bool:
    """Whether the server would listen on this machine only."""
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warm_up(app: App) -> None:
    """Load our cards into a new data directory, then the engines, so the first question is quick."""
    log = logging.getLogger(__name__)
    try:
        app.ensure_bundled()
        app.store.snapshot()
        app.assistant
    except Exception as exc:  # the app still serves; the error shows on first use
        log.warning("warm-up failed: %s", exc)


def main(started: float | None = None) -> int:
    """Build and serve the app until interrupted."""
    started = started if started is not None else time.perf_counter()
    apply_offline_env()  # before gradio is imported: analytics and telemetry off
    try:
        settings = Settings.from_env()
        configure_logging(logging.INFO, settings.log_level)
        parse_auth(settings.auth)
        app = App.from_settings(settings)
        login = app.serving.login
    except InputError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except AssistantError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    if not login and not settings.allow_open and not is_loopback(settings.server_name):
        print(f"错误：在 {settings.server_name} 上对外服务必须先建立账号（python -m assistant users add 名字 --role 管理员）"
              "或设置 ASSISTANT_AUTH，否则任何人都能导入和删除文档；确需不设登录，请设置 ASSISTANT_ALLOW_OPEN=true。",
              file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    import gradio  # noqa: F401  (timed on its own: it is most of the start-up)

    t_gradio = time.perf_counter() - t0
    import uvicorn

    from ..serve.app import build_server
    from .layout import CSS, build_app, theme

    demo = build_app(app, login=login)
    demo.queue(default_concurrency_limit=2, max_size=settings.queue_size)
    server_app = build_server(
        app, demo, max_file_size=int(settings.max_file_mb * 1024 * 1024), show_error=False, ssr_mode=False,
        pwa=False, mcp_server=False, enable_monitoring=False, footer_links=[], theme=theme(), css=CSS,
        server_name=settings.server_name, server_port=settings.server_port,
        # the downloads are written under the data dir (web/outputs.py); Gradio serves files only from
        # the working directory, the temp dir and these
        allowed_paths=[str(settings.data_dir / "outputs")],
    )
    config = uvicorn.Config(server_app, host=settings.server_name, port=settings.server_port, log_level="warning",
                            access_log=False, timeout_graceful_shutdown=5, ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            print(f"错误：无法在 {settings.server_name}:{settings.server_port} 上启动（端口被占用？）", file=sys.stderr)
            return 1
        time.sleep(0.02)
    total = time.perf_counter() - started
    url = f"http://{settings.server_name}:{settings.server_port}"
    print(f"党务助手已启动：{url}（启动用时 {total:.1f} 秒，其中导入 Gradio {t_gradio:.1f} 秒）"
          f"{'；已启用登录' if login else ''}；OpenAI 兼容 API：{url}/v1；数据目录：{settings.data_dir}", flush=True)
    threading.Thread(target=warm_up, args=(app,), name="warm-up", daemon=True).start()
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.should_exit = True
        thread.join(10)
        demo.close()
    return 0
