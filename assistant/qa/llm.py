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
