"""Start the web app: ``python app.py`` or ``dangwu serve`` → http://127.0.0.1:7860."""
from __future__ import annotations

import ipaddress
import logging
import sys
import threading
import time

from ..errors import InputError
from ..root import App
from ..settings import Settings, apply_offline_env, configure_logging


def parse_auth(raw: str | None) -> list[tuple[str, str]] | None:
    """ASSISTANT_AUTH "user:pass,user2:pass2" → [(user, pass), …]; None when unset."""
    if not (raw or "").strip():
        return None
    pairs = []
    for item in str(raw).split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not user or not password:
            raise InputError("ASSISTANT_AUTH", "ASSISTANT_AUTH 格式应为“用户名:密码,用户名:密码”")
        pairs.append((user, password))
    return pairs


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
        auth = parse_auth(settings.auth)
    except InputError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    if not auth and not settings.allow_open and not is_loopback(settings.server_name):
        print(f"错误：在 {settings.server_name} 上对外服务必须先设置登录（ASSISTANT_AUTH），否则任何人都能导入和删除文档；"
              "确需不设登录，请设置 ASSISTANT_ALLOW_OPEN=true。", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    import gradio  # noqa: F401  (timed on its own: it is most of the start-up)

    t_gradio = time.perf_counter() - t0
    from .layout import CSS, build_app, theme
    from .patches import app_kwargs

    app = App.from_settings(settings)
    demo = build_app(app)
    demo.launch(
        server_name=settings.server_name, server_port=settings.server_port, auth=auth,
        auth_message="党务助手：请登录" if auth else None, max_file_size=int(settings.max_file_mb * 1024 * 1024),
        show_error=False, ssr_mode=False, pwa=False, mcp_server=False, enable_monitoring=False, footer_links=[],
        theme=theme(), css=CSS, quiet=True, prevent_thread_lock=True, app_kwargs=app_kwargs(settings),
        # the downloads are written under the data dir (web/outputs.py); Gradio serves files only from
        # the working directory, the temp dir and these
        allowed_paths=[str(settings.data_dir / "outputs")],
    )
    total = time.perf_counter() - started
    url = f"http://{demo.server_name}:{demo.server_port}"
    print(f"党务助手已启动：{url}（启动用时 {total:.1f} 秒，其中导入 Gradio {t_gradio:.1f} 秒）"
          f"{'；已启用登录' if auth else ''}；数据目录：{settings.data_dir}", flush=True)
    threading.Thread(target=warm_up, args=(app,), name="warm-up", daemon=True).start()
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
    return 0
