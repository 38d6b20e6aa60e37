"""The optional chat model: any OpenAI-compatible endpoint, configured by the environment."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from .config import PROMPTS_DIR


@dataclass(frozen=True)
class ChatConfig:
    """OPENAI_BASE_URL, OPENAI_API_KEY and ASSISTANT_CHAT_MODEL; timeouts bound every call."""

    base_url: str | None
    api_key: str | None
    model: str | None
    timeout: float = 30.0
    max_retries: int = 1

    @classmethod
    def from_env(cls) -> "ChatConfig":
        env = os.environ
        return cls(
            base_url=env.get("OPENAI_BASE_URL") or None,
            api_key=env.get("OPENAI_API_KEY") or None,
            model=env.get("ASSISTANT_CHAT_MODEL") or None,
            timeout=float(env.get("ASSISTANT_LLM_TIMEOUT") or 30),
            max_retries=int(env.get("ASSISTANT_LLM_RETRIES") or 1),
        )

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


@lru_cache(maxsize=None)
def prompt_text(name: str) -> str:
    """A prompt template from prompts/<name>.md (read once)."""
    return (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8").strip()
