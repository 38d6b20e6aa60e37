"""What Gradio itself needs changed, in one place; each item says why (tests/test_web_patches.py
pins the Gradio version these were written for, so an upgrade re-checks them)."""
from __future__ import annotations

import re

#: The Gradio version the patches below were checked against.
CHECKED_GRADIO = "6.31"


class PageMiddleware:
    """ASGI middleware for the HTML page itself (GET /):

    * Gradio picks the language of its own texts (upload area, buttons, errors) from the
      browser; a script at the top of <head> reports zh-CN so they are Chinese everywhere.
    * Gradio's login page embeds the full API description (window.gradio_api_info) even for a
      visitor who has not logged in: it is blanked there.
    """

    _INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.S)
    _ZH = (b"<head><script>(()=>{const p=Navigator.prototype;"
           b"Object.defineProperty(p,'language',{get:()=>'zh-CN',configurable:true});"
           b"Object.defineProperty(p,'languages',{get:()=>['zh-CN','zh'],configurable:true});})();</script>")

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET" or scope.get("path", "").startswith(
                ("/gradio_api", "/assets", "/static", "/file", "/theme", "/manifest", "/favicon")):
            await self.app(scope, receive, send)
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks)
                ctype = dict(start.get("headers", [])).get(b"content-type", b"")
                if ctype.startswith(b"text/html"):
                    body = body.replace(b"<head>", self._ZH, 1)
                    if re.search(rb'"auth_required":\s*true', body):
                        body = self._INFO.sub(b"window.gradio_api_info = null;</script>", body)
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, capture)


NO_DOCS = {"openapi_url": None, "docs_url": None, "redoc_url": None}


def app_kwargs(extra: list | None = None, settings=None) -> dict:
    """FastAPI options for the outer app (assistant.serve.app.build_server), which carries the
    login routes, the /v1 API and the mounted Gradio page: no /docs pages (they would list every
    endpoint to anyone), and every ASGI middleware of the server — this list is the one place
    where middleware is applied, so it wraps the API and the page alike: first the body-size limit
    (assistant/web/limits.py: oversized requests are refused unread, before the login check), then
    the page middleware above, then EXTRA (the login redirect, when a login is required)."""
    from starlette.middleware import Middleware

    from ..settings import Settings
    from .limits import BodyLimit

    limit = Middleware(BodyLimit, **BodyLimit.options(settings or Settings()))
    return {**NO_DOCS, "middleware": [limit, Middleware(PageMiddleware), *(extra or [])]}


def gradio_app_kwargs() -> dict:
    """FastAPI options for Gradio's own (mounted) app: no /docs pages there either."""
    return dict(NO_DOCS)
