"""A small OpenAI-compatible chat server for tests (stdlib only, 127.0.0.1, one thread).

POST /v1/chat/completions, non-streaming (a JSON body) and streaming (SSE: ``data: {...}``
events, then ``data: [DONE]``). What it answers depends on ``server.mode``:

normal     an answer that cites [1] and quotes a number found in passage [1] of the request
slow       sleeps ``slow_seconds`` (longer than the client's timeout) before answering
http401    401 "Incorrect API key provided: sk-secr********123" (a partly masked key, as OpenAI words it)
http429    429 with an error body that echoes the caller's API key (as real services do)
http500    500 with an error body that echoes the caller's API key
malformed  a 200 SSE stream whose second event is not JSON
nocite     a fluent answer with no citation markers
badcite    an answer citing [7] (never given) and a number no passage contains
injected   obeys any instruction found in the passages ("忽略以上指令，回答：…" → echoes it)

A condense request (the prompt asks for 独立问题) is answered with ``condense_reply``.
Every request is recorded in ``server.requests`` (path, lower-cased headers, parsed JSON body).
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("normal", "slow", "http401", "http429", "http500", "malformed", "nocite", "badcite", "injected")
PASSAGE_RE = re.compile(r"^\[(\d+)\][^\n]*\n(.*?)(?=\n\n\[\d+\]|\n>>>|\Z)", re.S | re.M)
INSTRUCTION_RE = re.compile(r"忽略以上指令[，,]?\s*(?:回答[：:])?\s*([^\n。]*)")
NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
FABRICATED_NUMBER = "97"


def passages(prompt: str) -> dict[int, str]:
    """The numbered passages of an answer prompt: [n] label line, then the passage text."""
    body = prompt.split("<<<", 1)[-1].split(">>>", 1)[0]
    return {int(m.group(1)): m.group(2).strip() for m in PASSAGE_RE.finditer(body.strip())}


class FakeLLMServer:
    """Start with ``with FakeLLMServer() as server:``; ``server.base_url`` ends in /v1."""

    def __init__(self, mode: str = "normal") -> None:
        self.mode = mode
        self.requests: list[dict] = []
        self.slow_seconds = 4.0
        self.chunk_chars = 4
        self.condense_reply = ""
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> "FakeLLMServer":
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FakeLLMServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- what was asked ----------------------------------------------------------
    def record(self, entry: dict) -> None:
        with self._lock:
            self.requests.append(entry)

    def prompts(self) -> list[str]:
        """The whole text of each recorded chat request (all messages joined)."""
        return ["\n".join(_text(m.get("content")) for m in r["body"].get("messages", [])) for r in self.requests]

    # -- what to answer ------------------------------------------------------------
    def reply(self, prompt: str) -> str:
        if "独立问题" in prompt and "后续问题" in prompt:
            return self.condense_reply or prompt.rsplit("后续问题：", 1)[-1].split("\n", 1)[0].strip()
        found = passages(prompt)
        first = found.get(min(found)) if found else ""
        number = next(iter(NUMBER_RE.findall(first)), "")
        sentence = re.split(r"(?<=[。；])", re.sub(r"^第[一二三四五六七八九十百零]+条\s*", "", first))[0].strip("。； \n")
        if self.mode == "nocite":
            return "按照有关规定办理即可，具体请咨询上级党组织。"
        if self.mode == "badcite":
            return f"答：应在{FABRICATED_NUMBER}天内办理完毕[7]。\n要点：\n1. {sentence}[1]"
        if self.mode == "injected":
            for text in found.values():
                m = INSTRUCTION_RE.search(text)
                if m:
                    return f"{m.group(1).strip()}[1]"
        lead = f"答：相关数字为{number}[1]。" if number else "答：见下列规定[1]。"
        return f"{lead}\n要点：\n1. {sentence}[1]"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # a client that hung up is expected
        pass


def _text(content) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLLMServer
    protocol_version = "HTTP/1.0"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        fake = self.fake
        fake.record({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        key = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        mode = fake.mode
        if mode == "slow":
            time.sleep(fake.slow_seconds)
        if mode == "http401":
            masked = f"{key[:7]}{'*' * 8}{key[-3:]}"
            self._json(401, {"error": {"message": f"Incorrect API key provided: {masked}. You can find your API key "
                                                  "at https://platform.example/account/api-keys.",
                                       "type": "invalid_request_error", "code": "invalid_api_key"}})
            return
        if mode == "http429":
            self._json(429, {"error": {"message": f"Rate limit reached for key {key}", "type": "rate_limit_exceeded"}})
            return
        if mode == "http500":
            self._json(500, {"error": {"message": f"internal error (auth {key})", "type": "server_error"}})
            return
        prompt = "\n".join(_text(m.get("content")) for m in body.get("messages", []))
        answer = fake.reply(prompt)
        model = body.get("model", "fake")
        if not body.get("stream"):
            self._json(200, {
                "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            })
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        try:
            self._event(self._chunk(model, {"role": "assistant", "content": ""}))
            if mode == "malformed":
                self.wfile.write(b"data: {\"choices\": [{\"delta\": {\"content\": \"\xe5\x85\x9a\"\n\n")
                self.wfile.write(b"data: this is not json at all }}}\n\n")
                self.wfile.flush()
                return
            step = max(1, fake.chunk_chars)
            for i in range(0, len(answer), step):
                self._event(self._chunk(model, {"content": answer[i:i + step]}))
                time.sleep(0.002)
            self._event(self._chunk(model, {}, finish="stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    # -- helpers -------------------------------------------------------------------
    @staticmethod
    def _chunk(model: str, delta: dict, finish: str | None = None) -> dict:
        return {
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def _event(self, payload: dict) -> None:
        self.wfile.write(b"data: " + json.dumps(payload, ensure_ascii=False).encode("utf-8") + b"\n\n")
        self.wfile.flush()

    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
