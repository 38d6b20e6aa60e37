"""The errors the library raises on purpose. Each carries a Chinese message for the user;
an entry point prints it as one line (CLI) or shows it as a notice (web), never a traceback."""
from __future__ import annotations


class AssistantError(Exception):
    """Base class: ``str(exc)`` is the whole message, in Chinese."""


class InputError(AssistantError, ValueError):
    """A value a user typed, uploaded or configured is not acceptable.

    ``field`` names the input (e.g. ``date``, ``members``); the message speaks of the field by
    its Chinese label, never of a command-line flag or a form widget."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


class StoreError(AssistantError):
    """The knowledge base cannot be opened or written."""


class LoadError(AssistantError):
    """A document cannot be read."""


class KnowledgeError(AssistantError):
    """A file of the bundled knowledge (knowledge/*.yaml) is malformed."""


class Cancelled(AssistantError):
    """Long work (an ingest) was stopped on request, or because its client went away."""

    def __init__(self, message: str = "已取消") -> None:
        super().__init__(message)
