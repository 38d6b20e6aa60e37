"""``serve``: the web app (the same as ``python app.py``)."""
from __future__ import annotations

import argparse

from ..root import App


def cmd_serve(app: App, args: argparse.Namespace) -> int:
    from ..web.server import main

    return main()


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="启动网页（默认 http://127.0.0.1:7860）",
                       description="启动网页应用；监听地址和端口见 GRADIO_SERVER_NAME / GRADIO_SERVER_PORT。")
    p.set_defaults(run=cmd_serve, _parser=p)
