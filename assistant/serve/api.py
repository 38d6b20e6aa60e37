"""The OpenAI-compatible API: ``GET /v1/models`` and ``POST /v1/chat/completions`` (streamed or
not), for the chat front ends and bots a 机关 already has (企业微信/钉钉 bots, Open WebUI, Dify …).

* Model id ``dangwu-assistant``. The last user message is the question; the earlier user and
  assistant turns are the history, condensed as the web chat does (the last six pairs).
* The reply's content is the answer with its 依据 lines (and a 提示 line when there is one); the
  sources come as structured data in the extra field ``sources`` ({title, article, status, source,
  text}) with ``dangwu`` ({mode, abstained, direct, notice, query}) beside it — in the response,
  and in the final chunk of a stream.
* ``Authorization: Bearer <key>`` with a key made by ``python -m assistant keys create``; no live
  key at all → the API is off (404). Each key has a rate limit (ASSISTANT_API_RPM, or its own):
  over it → 429 with Retry-After.
* Errors have OpenAI's shape {"error": {"message", "type", "param", "code"}} and status codes.

The same library call as the web chat (App.stream), on worker threads, at most
ASSISTANT_ASK_CONCURRENCY answers at a time.
"""
from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from typing import Any, Iterator

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from ..errors import InputError, StoreError
from ..root import App
from .accounts import requests_allowed

log = logging.getLogger(__name__)

MODEL_ID = "dangwu-assistant"
MAX_BODY_BYTES = 1024 * 1024  # a question is at most 1000 characters; a long history fits well within this
MAX_HISTORY_PAIRS = 6         # as the web chat
MAX_ANSWER_IN_HISTORY = 4000
ROLES_IN = ("system", "developer", "user", "assistant", "tool", "function")


class ApiError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, dict) and p.get("type") in ("text", "input_text") and isinstance(p.get("text"), str):
                parts.append(p["text"])
            elif isinstance(p, str):
                parts.append(p)
        return "\n".join(parts)
    raise ApiError(400, "messages 中 content 应为字符串或内容片段列表", param="messages")


def parse_messages(messages: Any) -> tuple[str, list[tuple[str, str]]]:
    """(the question, the history as (question, answer) pairs) of an OpenAI message list."""
    from ..web.handlers.qa import MAX_QUESTION

    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages 不能为空：至少需要一条 user 消息", param="messages", code="empty_messages")
    turns: list[tuple[str, str]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES_IN:
            raise ApiError(400, f"messages[{i}] 应有 role（system、user 或 assistant）", param=f"messages[{i}]")
        if m["role"] in ("user", "assistant"):
            turns.append((m["role"], _text(m.get("content"))))
    if not turns or turns[-1][0] != "user":
        raise ApiError(400, "最后一条消息应为 user 消息（即要问的问题）", param="messages")
    question = turns[-1][1].strip()
    if not question:
        raise ApiError(400, "问题为空：最后一条 user 消息没有文字", param="messages", code="empty_question")
    if len(question) > MAX_QUESTION:
        raise ApiError(400, f"问题太长（{len(question)} 字），请控制在 {MAX_QUESTION} 字以内", param="messages",
                       code="question_too_long")
    pairs: list[tuple[str, str]] = []
    pending: str | None = None
    for role, text in turns[:-1]:
        if role == "user":
            pending = text.strip()[:MAX_QUESTION]
        elif pending:
            pairs.append((pending, text.strip()[:MAX_ANSWER_IN_HISTORY]))
            pending = None
    return question, pairs[-MAX_HISTORY_PAIRS:]


def content_of(answer) -> str:
    """The answer with its 依据 lines (added when the model's wording lacks them) and its notice."""
    from ..qa.answer import basis_lines

    text = answer.answer.rstrip()
    if answer.sources and "依据：" not in text:
        text += "\n" + basis_lines(answer.sources, text)
    if answer.notice:
        text += f"\n\n提示：{answer.notice}"
    return text


def extra_of(answer) -> dict:
    data = answer.to_json()
    extra = {k: data.get(k) for k in ("mode", "abstained", "direct", "notice")}
    extra["query"] = answer.query
    if data.get("action") is not None:
        extra["action"] = {k: v for k, v in data["action"].items() if k != "files"}
    return {"sources": data["sources"], "dangwu": extra}


def _usage(question: str, pairs: list[tuple[str, str]], content: str) -> dict:
    """Characters, not tokens: the assistant has no tokenizer (and needs none)."""
    prompt = len(question) + sum(len(q) + len(a) for q, a in pairs)
    return {"prompt_tokens": prompt, "completion_tokens": len(content), "total_tokens": prompt + len(content)}


def _engine_message(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, InputError):
        return ApiError(400, str(exc), param="messages")
    if isinstance(exc, StoreError):
        return ApiError(503, str(exc), "server_error", "engine_unavailable")
    log.exception("API answer failed")
    return ApiError(500, "问答引擎出错，请稍后再试或联系管理员（详情见服务器日志）", "server_error", "internal_error")


class Api:
    """The routes of the OpenAI-compatible API over one App."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.serving = app.serving
        self.slots = threading.BoundedSemaphore(app.settings.ask_concurrency)
        self.limiter = anyio.CapacityLimiter(app.settings.ask_concurrency)

    # -- access -------------------------------------------------------------------
    def authorize(self, request: Request):
        """The key of the request (rate limit counted), or ApiError 401/404/429."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        key = self.serving.keys.check(token.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            if not self.serving.keys.any_live():
                raise ApiError(404, "API 未启用：管理员尚未创建 API Key（python -m assistant keys create --name …）",
                               code="api_disabled")
            raise ApiError(401, "API Key 无效或已被吊销（请在 Authorization: Bearer … 中提供有效的 Key）",
                           code="invalid_api_key")
        limit = key.rpm or self.app.settings.api_rpm
        wait = self.serving.limiter.take(key.id, limit)
        if wait:
            raise ApiError(429, f"请求过于频繁：这个 Key 每分钟最多 {limit} 次，请 {math.ceil(wait)} 秒后再试",
                           "requests", "rate_limit_exceeded", headers={"Retry-After": str(math.ceil(wait))})
        return key

    async def body(self, request: Request) -> dict:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise ApiError(413, f"请求太大（超过 {MAX_BODY_BYTES // 1024} KB）：问题请控制在 1000 字以内",
                           code="request_too_large")
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY_BYTES:
                raise ApiError(413, f"请求太大（超过 {MAX_BODY_BYTES // 1024} KB）：问题请控制在 1000 字以内",
                               code="request_too_large")
        try:
            body = json.loads(bytes(raw) or b"null")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "请求体应为 JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "请求体应为 JSON 对象")
        return body

    # -- routes -------------------------------------------------------------------
    def router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/v1/models")
        @router.get("/v1/models/")
        async def models(request: Request):
            try:
                await anyio.to_thread.run_sync(self.authorize, request)
            except ApiError as exc:
                return exc.response()
            return {"object": "list", "data": [self.model_card()]}

        @router.get("/v1/models/{model_id}")
        async def model(model_id: str, request: Request):
            try:
                await anyio.to_thread.run_sync(self.authorize, request)
                if model_id != MODEL_ID:
                    raise ApiError(404, f"没有模型“{model_id}”（只有 {MODEL_ID}）", code="model_not_found",
                                   param="model")
            except ApiError as exc:
                return exc.response()
            return self.model_card()

        @router.post("/v1/chat/completions")
        @router.post("/v1/chat/completions/")
        async def chat_completions(request: Request):
            try:
                key = await anyio.to_thread.run_sync(self.authorize, request)
                body = await self.body(request)
                model = body.get("model")
                if not isinstance(model, str) or not model:
                    raise ApiError(400, "缺少 model 参数（应为 dangwu-assistant）", param="model")
                if model != MODEL_ID:
                    raise ApiError(404, f"没有模型“{model}”（只有 {MODEL_ID}）", code="model_not_found", param="model")
                question, pairs = parse_messages(body.get("messages"))
            except ApiError as exc:
                return exc.response()
            allowed = requests_allowed(key.role)
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage")) \
                    if isinstance(body.get("stream_options"), dict) else False
                return StreamingResponse(self.stream(question, pairs, allowed, include_usage),
                                         media_type="text/event-stream",
                                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
            try:
                answer = await anyio.to_thread.run_sync(self.answer, question, pairs, allowed, limiter=self.limiter)
            except Exception as exc:
                return _engine_message(exc).response()
            content = content_of(answer)
            return JSONResponse({
                "id": "chatcmpl-" + uuid.uuid4().hex, "object": "chat.completion", "created": int(time.time()),
                "model": MODEL_ID, "system_fingerprint": None,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                             "finish_reason": "stop", "logprobs": None}],
                "usage": _usage(question, pairs, content), **extra_of(answer),
            })

        return router

    def model_card(self) -> dict:
        return {"id": MODEL_ID, "object": "model", "created": 1767225600, "owned_by": "dangwu",
                "description": "党务助手：有依据的党务问答（回答附《…》第X条依据）"}

    # -- answering ------------------------------------------------------------------
    def answer(self, question: str, pairs: list[tuple[str, str]], allowed):
        from ..web.handlers.qa import with_cards

        with_cards(self.app)
        return self.app.respond(question, pairs, None, allowed)

    def stream(self, question: str, pairs: list[tuple[str, str]], allowed, include_usage: bool) -> Iterator[str]:
        """Server-sent events: a role chunk, content deltas as the answer is written, then the final
        chunk (finish_reason, sources), the usage chunk when asked for, and [DONE]."""
        from ..web.handlers.qa import with_cards

        cid, created = "chatcmpl-" + uuid.uuid4().hex, int(time.time())

        def chunk(delta: dict, finish: str | None = None, **extra) -> str:
            data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                    "system_fingerprint": None,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
            return "data: " + json.dumps(data, ensure_ascii=False) + "\n\n"

        yield chunk({"role": "assistant", "content": ""})
        sent = ""
        with self.slots:
            try:
                with_cards(self.app)
                final = None
                for text, answer in self.app.stream(question, pairs, None, allowed):
                    if answer is not None:
                        final = answer
                        break
                    if text.startswith(sent) and len(text) > len(sent):
                        yield chunk({"content": text[len(sent):]})
                        sent = text
            except Exception as exc:
                err = _engine_message(exc)
                yield "data: " + json.dumps(err.body(), ensure_ascii=False) + "\n\n"
                yield "data: [DONE]\n\n"
                return
        content = content_of(final)
        if content.startswith(sent):
            rest = content[len(sent):]
        else:  # the model's text was replaced (checked, or fell back to the offline answer)
            rest = "\n\n（以下为核对后的回答）\n" + content
        if rest:
            yield chunk({"content": rest})
        extra = extra_of(final)
        yield chunk({}, "stop", **extra)
        if include_usage:
            data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                    "choices": [], "usage": _usage(question, pairs, content), **extra}
            yield "data: " + json.dumps(data, ensure_ascii=False) + "\n\n"
        yield "data: [DONE]\n\n"
