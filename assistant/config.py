"""Settings from the environment, and the offline defaults every entry point applies."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",
    "ORT_DISABLE_TELEMETRY": "1",
    "OMP_WAIT_POLICY": "PASSIVE",
    "NO_PROXY": "localhost,127.0.0.1",
}

PROJECT_ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
PROMPTS_DIR = PROJECT_ROOT / "prompts"


def apply_offline_env() -> None:
    """Set telemetry/analytics/download switches off unless the user set them."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


@dataclass(frozen=True)
class Settings:
    """Where the knowledge base lives and which engines it uses."""

    data_dir: Path
    chroma_host: str | None = None
    chroma_port: int = 8000
    embed_base_url: str | None = None
    embed_model: str = "multilingual-e5-small"
    embed_api_key: str | None = None
    max_file_mb: float = 50.0

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None) -> "Settings":
        env = os.environ
        return cls(
            data_dir=Path(data_dir or env.get("ASSISTANT_DATA_DIR") or "data").expanduser().resolve(),
            chroma_host=env.get("CHROMA_HOST") or None,
            chroma_port=int(env.get("CHROMA_PORT") or 8000),
            embed_base_url=env.get("ASSISTANT_EMBED_BASE_URL") or None,
            embed_model=env.get("ASSISTANT_EMBED_MODEL") or "multilingual-e5-small",
            embed_api_key=env.get("ASSISTANT_EMBED_API_KEY") or None,
            max_file_mb=float(env.get("ASSISTANT_MAX_FILE_MB") or 50),
        )
