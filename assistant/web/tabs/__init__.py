"""One module per tab: its components and events. Handlers are called through ``guarded`` so
that a user's mistake becomes a one-line notice and a fault a general one (details in the log)."""
from __future__ import annotations

import functools
import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from ...errors import AssistantError, InputError, log_fault
from ...root import App
from ..outputs import Outputs

log = logging.getLogger(__name__)


@dataclass
class Page:
    """What the tabs share: the composition root, the download folder, page-wide components."""

    app: App
    outputs: Outputs
    components: dict[str, Any] = field(default_factory=dict)
    apis: list[tuple[Callable, str, dict]] = field(default_factory=list)  # (function, api_name, options)


def _gradio_error(exc: Exception):
    import gradio as gr

    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, InputError):
        return gr.Error(str(exc), title="输入有误", print_exception=False)
    if isinstance(exc, AssistantError):
        return gr.Error(str(exc), title="暂时无法完成", print_exception=False)
    log_fault(log, "handler failed", exc)
    return gr.Error("出错了，请稍后再试或联系管理员（详情见服务器日志）", title="暂时无法完成", print_exception=False)


def guarded(fn: Callable) -> Callable:
    """``fn`` with its errors shown as Gradio notices (generators too); the signature is kept,
    because Gradio's API description is read from it."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise _gradio_error(exc) from None
        return gen

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise _gradio_error(exc) from None
    return call
