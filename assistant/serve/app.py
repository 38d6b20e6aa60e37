"""The one FastAPI app of ``python app.py`` / ``dangwu serve``: the login pages, the
OpenAI-compatible API (/v1/…) and the Gradio page mounted at / — one process, one port.

Login: when ASSISTANT_AUTH is set or a user exists in the application database, the page and all
of Gradio's API need a login. It happens on our own routes (/login, /logout), not Gradio's (which
keeps its tokens in memory): the session lives in the database and the browser holds its token
in an HttpOnly cookie, so any app process behind the proxy knows the user. Gradio learns the user
through mount_gradio_app's auth_dependency; each event then checks the user's role itself
(assistant/web/tabs: every endpoint, named or private). A failed login says only that it failed.

ASGI middleware is applied in one place: patches.app_kwargs() builds the outer app's list.
"""
from __future__ import annotations

import html
import logging
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from ..root import App
from .accounts import FAIL_WINDOW, TooManyFailures
from .sessions import COOKIE

log = logging.getLogger(__name__)

LOGIN_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>党务助手：请登录</title>
<style>
body{{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;background:#f7f7f8;margin:0}}
main{{max-width:360px;margin:12vh auto;background:#fff;padding:28px 28px 20px;border-radius:10px;
box-shadow:0 1px 6px rgba(0,0,0,.12)}}
h1{{font-size:1.4em;margin:0 0 18px;color:#9b1c1c}} label{{display:block;margin:12px 0 4px}}
input{{width:100%;box-sizing:border-box;padding:8px;font-size:1em;border:1px solid #ccc;border-radius:6px}}
button{{margin-top:18px;width:100%;padding:10px;font-size:1em;background:#b91c1c;color:#fff;border:0;border-radius:6px}}
.msg{{color:#9b1c1c;margin:10px 0 0;min-height:1.2em}}
</style></head><body><main>
<h1>党务助手</h1>
<form method="post" action="login">
<label for="username">用户名</label><input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">密码</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">登录</button>
<p class="msg" id="login-message">{message}</p>
</form></main></body></html>"""
FAILED = "登录失败：用户名或密码不正确。"
TOO_MANY = f"登录失败次数过多，请 {int(FAIL_WINDOW.total_seconds() // 60)} 分钟后再试。"


def client_address(request: Request) -> str:
    """The client's address (the proxy's X-Forwarded-For first entry when there is one)."""
    forwarded = request.headers.get("x-forwarded-for", "")
    if forwarded:
        return forwarded.split(",")[0].strip()[:64]
    return (request.client.host if request.client else "")[:64]


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


class LoginRedirect:
    """Send a browser that asks for the page without a live session to the login page (Gradio's
    own answer would be a bare 401)."""

    def __init__(self, app, serving) -> None:
        self.app, self.serving = app, serving

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") == "http" and scope.get("method") in ("GET", "HEAD") and scope.get("path") in ("/", ""):
            request = Request(scope)
            if _wants_html(request):
                user = await anyio.to_thread.run_sync(current_user, self.serving, request)
                if user is None:
                    await RedirectResponse("login", status_code=303)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def current_user(serving, request: Request) -> str | None:
    """The logged-in user of a request (a live session of a user who still exists), else None."""
    name = serving.sessions.user(request.cookies.get(COOKIE))
    return name if name is not None and serving.accounts.role_of(name) is not None else None


def add_login_routes(api: FastAPI, serving) -> None:
    @api.get("/login", response_class=HTMLResponse)
    @api.get("/login/", response_class=HTMLResponse, include_in_schema=False)
    async def login_page() -> HTMLResponse:
        return HTMLResponse(LOGIN_PAGE.format(message=""))

    @api.post("/login")
    @api.post("/login/", include_in_schema=False)
    async def login(request: Request):
        form = await request.form()
        name, password = str(form.get("username") or ""), str(form.get("password") or "")
        address = client_address(request)
        try:
            user = await anyio.to_thread.run_sync(serving.accounts.verify, name, password, address)
        except TooManyFailures:
            return _login_failed(request, TOO_MANY, 429)
        if user is None:
            return _login_failed(request, FAILED, 401)
        token = await anyio.to_thread.run_sync(serving.sessions.create, user)
        response: Any = RedirectResponse("./", status_code=303) if _wants_html(request) else JSONResponse({"success": True})
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax", path="/",
                            max_age=int(serving.sessions.lifetime.total_seconds()),
                            secure=request.headers.get("x-forwarded-proto", request.url.scheme) == "https")
        return response

    @api.get("/logout")
    @api.get("/logout/", include_in_schema=False)
    async def logout(request: Request):
        await anyio.to_thread.run_sync(serving.sessions.end, request.cookies.get(COOKIE))
        response = RedirectResponse("login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response


def _login_failed(request: Request, message: str, status: int):
    if _wants_html(request):
        return HTMLResponse(LOGIN_PAGE.format(message=html.escape(message)), status_code=status)
    return JSONResponse({"success": False, "message": message}, status_code=status)


def build_server(app: App, demo, **gradio: Any) -> FastAPI:
    """The outer FastAPI app: login routes, /v1 API, Gradio's page mounted at / (with GRADIO options)."""
    import gradio as gr

    from ..web.patches import app_kwargs, gradio_app_kwargs
    from .api import Api

    serving = app.serving
    login = serving.login
    from starlette.middleware import Middleware

    extra = [Middleware(LoginRedirect, serving=serving)] if login else []
    api = FastAPI(**app_kwargs(extra, app.settings))
    api.include_router(Api(app).router())
    if login:
        add_login_routes(api, serving)

    @api.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"ok": True}

    async def auth_dependency(request: Request) -> str | None:  # Gradio awaits it: the lookup runs off the loop
        return await anyio.to_thread.run_sync(current_user, serving, request)

    gr.mount_gradio_app(api, demo, path="/", auth_dependency=auth_dependency if login else None,
                        app_kwargs=gradio_app_kwargs(), **gradio)
    return api
