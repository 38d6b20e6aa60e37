"""The optional chat model: any OpenAI-compatible endpoint, configured by the settings."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import Settings


@dataclass(frozen=True)
class ChatConfig:
    """The endpoint, key and model (OPENAI_BASE_URL, OPENAI_API_KEY, ASSISTANT_CHAT_MODEL); timeouts bound every call."""

    base_url: str | None
    api_key: str | None = field(default=None, repr=False)
    model: str | None = None
    timeout: float = 30.0
    max_retries: int = 1

    @classmethod
    def from_settings(cls, settings: Settings) -> "ChatConfig":
        return cls(settings.chat_base_url, settings.chat_api_key, settings.chat_model,
                   settings.llm_timeout, settings.llm_retries)

    @property
    def enabled(self) -> bool:
        return bool(self.model and (self.base_url or self.api_key))


def chat_model(config: ChatConfig):
    """A streaming LangChain chat model for the endpoint, or None when none is configured."""
    if not config.enabled:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=config.model,
        base_url=config.base_url,
        api_key=config.api_key or "not-needed",
        timeout=config.timeout,
        max_retries=config.max_retries,
        temperature=0.1,
        streaming=True,
    )


def strip_reasoning(text: str) -> str:
    """Drop a reasoning model's <think>…</think> block (some Ollama models put it in the content)."""
    return re.sub(r"<think>.*?(?:</think>|$)", "", text, flags=re.S).strip()


def load_prompts(folder: Path) -> dict[str, str]:
    """Every prompt template of the folder (prompts/<name>.md), by name."""
    return {p.stem: p.read_text(encoding="utf-8").strip() for p in sorted(folder.glob("*.md"))}


def provider_problem(exc: BaseException) -> str:
    """What went wrong with the model provider, in the words a user sees (鉴权失败, 超时, 限流…).
    The provider's own text — which may quote a key, an account or a quota — is for the
    administrator's log only."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    if status in (401, 403) or name in ("AuthenticationError", "PermissionDeniedError"):
        return "鉴权失败"
    if status == 429 or name == "RateLimitError":
        return "限流"
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        return "超时"
    if "Connect" in name or isinstance(exc, ConnectionError):
        return "无法连接"
    if isinstance(status, int) and status >= 500 or name == "InternalServerError":
        return "服务出错"
    if isinstance(status, int) and 400 <= status < 500:
        return "请求被拒绝"
    return "返回异常"
