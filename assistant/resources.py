"""The files we ship beside the code: knowledge/ (cards, duties, phrasings…) and prompts/.

In a checkout they sit at the top of the repository (as the design card lays them out); a
built wheel maps them into the package as ``assistant/_bundled/`` (pyproject.toml), and both
are found through importlib.resources.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parents[1]


def _bundled(name: str) -> Path:
    packaged = resources.files("assistant") / "_bundled" / name
    if packaged.is_dir():
        return Path(str(packaged))
    return _SOURCE_ROOT / name


def knowledge_dir() -> Path:
    """The bundled knowledge base: cards/, practices/, questions/, *.yaml."""
    return _bundled("knowledge")


def prompts_dir() -> Path:
    """The prompt templates (prompts/*.md)."""
    return _bundled("prompts")
