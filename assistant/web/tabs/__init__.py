"""One module per tab: its components and events. Handlers are called through ``guarded`` so
that a user's mistake becomes a one-line notice and a fault a general one (details in the log).

Roles: every event function declares the role it needs (``needs(role, fn)``, or ``guarded(fn, role)``);
``secure(demo, page)`` then wraps every function of the Blocks — named API, private events, page
loads — so that it checks the caller's role on the server before doing anything, and refuses to
build a page with a function that declared none. Hiding a tab is only a convenience on top."""
from __future__ import annotations

import functools
import inspect
import logging
import os
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

from ...errors import AssistantError, InputError, log_fault
from ...root import App
from ..outputs import Outputs

log = logging.getLogger(__name__)


@dataclass
class Page:
    """What the tabs share: the composition root, the download folder, page-wide components, and
    whether users log in (False: one local user, with every right)."""

    app: App
    outputs: Outputs
    components: dict[str, Any] = field(default_factory=dict)
    apis: list[tuple[Callable, str, dict]] = field(default_factory=list)  # (function, api_name, options)
    login: bool = False
    tabs: dict[str, tuple[Any, str]] = field(default_factory=dict)  # tab id → (gr.Tab, role it needs)

    @functools.cached_property
    def browser_secret(self) -> str:
        """The key the browser-kept conversation is encrypted with: random, made once per data
        directory (so it survives a restart), readable by this user only."""
        import secrets

        path = self.app.settings.data_dir / ".browser-secret"
        try:
            return path.read_text(encoding="ascii").strip()
        except OSError:
            pass
        value = secrets.token_urlsafe(24)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(value)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
        except OSError as exc:  # a read-only data dir: this process's own key
            log.warning("browser secret not kept: %s", exc)
        return value

    def user(self, request: Any) -> tuple[str | None, str | None]:
        """(user name, role) of the caller of an event: (None, 管理员) without login; (name, None)
        for a session whose user is gone."""
        from ...serve.accounts import ADMIN

        if not self.login:
            return None, ADMIN
        name = getattr(request, "username", None)
        return name, self.app.serving.accounts.role_of(name) if name else None


ROLE_ATTR = "__dangwu_role__"
QUIET_ATTR = "__dangwu_quiet__"


def needs(role: str, fn: Callable, quiet: bool = False) -> Callable:
    """Declare that FN needs ROLE (党员 / 党务工作者 / 管理员). QUIET: refused callers get no
    change instead of an error (for page loads, which every user triggers)."""
    setattr(fn, ROLE_ATTR, role)
    setattr(fn, QUIET_ATTR, quiet)
    return fn


class Forbidden(Exception):
    pass


def _refusal(role: str | None, needed: str):
    import gradio as gr

    if role is None:
        return gr.Error("请先登录（登录已过期或账号已被删除）", title="需要登录", print_exception=False)
    return gr.Error(f"这项操作需要{needed}或更高的权限，您的账号是{role}", title="没有权限", print_exception=False)


def _skips(n_outputs: int):
    import gradio as gr

    if n_outputs == 0:
        return None
    return gr.skip() if n_outputs == 1 else tuple(gr.skip() for _ in range(n_outputs))


def require(page: Page, fn: Callable, needed: str, quiet: bool, n_outputs: int) -> Callable:
    """FN behind a server-side role check: its signature gains a leading gr.Request parameter
    (Gradio fills it in; the API description skips it)."""
    import gradio as gr

    from ...serve.accounts import allows

    sig = inspect.signature(fn)
    params = [inspect.Parameter("_dangwu_request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request),
              *sig.parameters.values()]

    def check(request) -> bool:
        name, role = page.user(request)
        if allows(role, needed):
            return True
        log.info("refused an event needing %s (role %s)", needed, role)
        if quiet:
            return False
        raise _refusal(role, needed)

    if inspect.isgeneratorfunction(fn):
        def wrapper(_dangwu_request, *args, **kwargs):
            if not check(_dangwu_request):
                yield _skips(n_outputs)
                return
            yield from fn(*args, **kwargs)
    else:
        def wrapper(_dangwu_request, *args, **kwargs):
            if not check(_dangwu_request):
                return _skips(n_outputs)
            return fn(*args, **kwargs)
    functools.update_wrapper(wrapper, fn)
    del wrapper.__wrapped__  # Gradio reads the signature below, not the wrapped function's
    wrapper.__signature__ = sig.replace(parameters=params)
    try:  # resolved here, in FN's own module (the wrapper's globals are not FN's)
        hints = typing.get_type_hints(fn)
    except (NameError, TypeError):
        hints = {}
    wrapper.__annotations__ = {**hints, "_dangwu_request": gr.Request}
    setattr(wrapper, ROLE_ATTR, needed)
    wrapper.__dangwu_checked__ = True
    return wrapper


def secure(demo: Any, page: Page) -> None:
    """Put every function of DEMO behind its declared role; a function without one is a bug."""
    missing = []
    for block_fn in demo.fns.values():
        fn = block_fn.fn
        if fn is None or getattr(fn, "__dangwu_checked__", False):
            continue
        needed = getattr(fn, ROLE_ATTR, None)
        if needed is None:
            missing.append(getattr(block_fn, "api_name", None) or block_fn.name)
            continue
        block_fn.fn = require(page, fn, needed, getattr(fn, QUIET_ATTR, False), len(block_fn.outputs))
    if missing:
        raise RuntimeError(f"event functions without a declared role: {missing}")


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


def guarded(fn: Callable, role: str | None = None) -> Callable:
    """``fn`` with its errors shown as Gradio notices (generators too); the signature is kept,
    because Gradio's API description is read from it. ROLE: the role it needs (see needs())."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise _gradio_error(exc) from None
        return needs(role, gen) if role else gen

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise _gradio_error(exc) from None
    return needs(role, call) if role else call
