"""Request bodies refused by size before they are read — in front of everything, login included.

A plain ASGI middleware (no Gradio, no FastAPI): it wraps whatever app serves the page (Gradio's
today; a FastAPI app with Gradio mounted works the same). A body that declares a length over the
limit gets 413 at once, unread; a body without a declared length (chunked) is counted as it
arrives and cut off at the limit. Either way at most the limit is ever held in memory, and the
application behind (login check, JSON parser) never sees the oversized request.

File uploads (Gradio's /upload, streamed to disk by Gradio) have their own, larger limit.
"""
from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

MB = 1024 * 1024
UPLOAD_SUFFIXES = ("/upload",)  # /gradio_api/upload (and /upload under any mount point)


class BodyLimit:
    """ASGI middleware: ``max_body`` bytes for any request, ``max_upload`` for file uploads."""

    def __init__(self, app: Callable[..., Awaitable[None]], max_body: int, max_upload: int | None = None) -> None:
        self.app = app
        self.max_body = int(max_body)
        self.max_upload = int(max_upload if max_upload is not None else max_body)

    @classmethod
    def options(cls, settings: Any) -> dict:
        """The keyword arguments for Starlette's ``Middleware(BodyLimit, **options)`` from the settings."""
        return {"max_body": int(settings.max_body_mb * MB), "max_upload": int(settings.max_upload_mb * MB)}

    def limit_for(self, scope: dict) -> tuple[int, str]:
        path = scope.get("path", "")
        if scope.get("method") == "POST" and path.rstrip("/").endswith(UPLOAD_SUFFIXES):
            return self.max_upload, "上传文件"
        return self.max_body, "请求"

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        limit, what = self.limit_for(scope)
        declared = None
        for key, value in scope.get("headers") or []:
            if key.lower() == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _refuse(send, 400, "请求头 Content-Length 无效")
                    return
        if declared is not None and declared > limit:
            await _refuse(send, 413, _too_large(what, limit))
            return

        received = 0
        refused = False
        started = False

        async def counted_receive() -> dict:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # a chunked body (or one longer than it declared)
                    refused = True
                    if not started:
                        await _refuse(send, 413, _too_large(what, limit))
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer; the app's own, if any, is dropped
            if message.get("type") == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)


def _too_large(what: str, limit: int) -> str:
    return f"{what}内容超过 {limit / MB:g} MB 的上限，已拒绝（未读取）"


async def _refuse(send: Callable, status: int, message: str) -> None:
    body = json.dumps({"error": message, "detail": message}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
