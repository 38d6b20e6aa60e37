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


def log_fault(logger, what: str, exc: BaseException) -> None:
    """Log an unexpected failure for the administrator: where it happened (the traceback's frames)
    and the error cut to one short line, so that a value a user typed (100,000 characters of it)
    never lands whole in the log."""
    import traceback

    from .inputs import shorten

    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s: %s\n%s", what, shorten(f"{type(exc).__name__}: {exc}", 300), frames.rstrip())
