"""Every function of the page — Gradio's named API, the private events, the page loads — checks
the caller's role on the server (in-process, over the real Blocks): called as each role, it runs
or refuses exactly as its declared role says, and the declared roles are the ones the issue names."""
from __future__ import annotations

import inspect
import typing
from pathlib import Path

import gradio as gr
import pytest

from assistant.root import App
from assistant.serve.accounts import ADMIN, MEMBER, ROLES, WORKER, allows
from assistant.settings import Settings
from assistant.web.layout import build_app
from assistant.web.tabs import ROLE_ATTR

EXPECTED = {
    MEMBER: {"ask", "chat_api", "stream_turn", "checklist", "checklist_page", "open_selected", "rename", "delete",
             "export_md", "export_docx", "new_chat", "restore", "fresh_defaults", "shown_tabs", "first_run"},
    WORKER: {"meeting_plan", "plan_tasks", "plan_page", "save", "add_row", "add", "from_minutes", "import_sheet",
             "refresh", "remove", "check", "export", "show_candidates", "import_candidates"},
    ADMIN: {"start", "confirm", "cancel", "ingest", "ask_remove", "remove_docs", "keep_docs", "reindex", "refresh_docs",
            "first_run_after_import"},
}
USERS = {MEMBER: "member1", WORKER: "worker1", ADMIN: "admin1"}


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    data = tmp_path_factory.mktemp("roles")
    app = App(Settings.from_env({}, data_dir=data / "data"))
    for role, name in USERS.items():
        app.serving.accounts.add(name, role, "long enough 1")
    app.serving.accounts.add("gone", MEMBER, "long enough 1")
    demo = build_app(app, login=True)
    app.serving.accounts.remove("gone")  # a session whose user was removed meanwhile
    return app, demo


def _args(fn, request) -> list:
    """Arguments for a call: the request wherever a gr.Request goes, None elsewhere."""
    hints = typing.get_type_hints(fn)
    out = []
    for i, p in enumerate(inspect.signature(fn).parameters.values()):
        if i == 0:
            continue  # the checker's own request parameter: passed separately
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        out.append(request if hints.get(p.name) is gr.Request else None)
    return out


def _call(fn, request):
    """('refused', message) or ('ran', result or the exception the handler raised on None inputs)."""
    try:
        result = fn(request, *_args(fn, request))
        if inspect.isgenerator(result):
            result = next(result, None)
    except gr.Error as exc:
        if exc.title in ("没有权限", "需要登录"):
            return "refused", str(exc)
        return "ran", exc
    except Exception as exc:  # the handler itself ran (and disliked the None inputs)
        return "ran", exc
    skips = result if isinstance(result, tuple) else (result,)
    if result is not None and all(isinstance(x, dict) and x == {"__type__": "update"} for x in skips):
        return "refused", "quiet"
    return "ran", result


def test_every_function_declares_its_role_and_the_roles_are_the_issues(page) -> None:
    app, demo = page
    declared: dict[str, set[str]] = {r: set() for r in ROLES}
    for block_fn in demo.fns.values():
        if block_fn.fn is None:
            continue
        assert getattr(block_fn.fn, "__dangwu_checked__", False), block_fn.name
        declared[getattr(block_fn.fn, ROLE_ATTR)].add(block_fn.name)
    for role, names in EXPECTED.items():
        assert names <= declared[role], (role, names - declared[role])
    assert not (declared[MEMBER] & (EXPECTED[WORKER] | EXPECTED[ADMIN]))
    named = {block_fn.api_name: getattr(block_fn.fn, ROLE_ATTR) for block_fn in demo.fns.values()
             if block_fn.fn is not None and block_fn.api_visibility != "private"}
    assert named == {"ask": MEMBER, "chat": MEMBER, "checklist": MEMBER, "meeting_plan": WORKER,
                     "plan_tasks": WORKER, "ingest": ADMIN}


def test_each_function_called_as_each_role(page) -> None:
    app, demo = page
    callers = {role: gr.Request(username=name) for role, name in USERS.items()}
    callers["removed user"] = gr.Request(username="gone")
    checked = 0
    for block_fn in demo.fns.values():
        fn = block_fn.fn
        if fn is None:
            continue
        needed = getattr(fn, ROLE_ATTR)
        for who, request in callers.items():
            outcome, detail = _call(fn, request)
            should_run = who in ROLES and allows(who, needed)
            assert (outcome == "ran") == should_run, (block_fn.name, who, needed, detail)
            if outcome == "refused" and detail != "quiet":
                assert ("需要" + needed in detail) or "请先登录" in detail, detail
            checked += 1
    assert checked == 4 * len([f for f in demo.fns.values() if f.fn is not None]) > 150


def test_without_login_the_local_user_may_do_everything(tmp_path: Path) -> None:
    app = App(Settings.from_env({}, data_dir=tmp_path / "data"))
    demo = build_app(app, login=False)
    for block_fn in demo.fns.values():
        if block_fn.fn is not None:
            assert _call(block_fn.fn, gr.Request())[0] == "ran", block_fn.name


def test_a_member_is_not_given_a_meeting_plan_through_the_chat(page) -> None:
    app, demo = page
    stream = next(f.fn for f in demo.fns.values() if f.name == "stream_turn")
    steps = list(stream(gr.Request(username=USERS[MEMBER]), "帮我做一个2027年1月15日第一党支部组织生活会的方案",
                        [], [], "", {}, gr.Request(username=USERS[MEMBER])))
    text = steps[-1][0][-1]["content"]
    assert "需要党务工作者" in text and not list((app.settings.data_dir / "outputs").glob("run-*/*/*.docx"))
    steps = list(stream(gr.Request(username=USERS[WORKER]), "帮我做一个2027年1月15日第一党支部组织生活会的方案",
                        [], [], "", {}, gr.Request(username=USERS[WORKER])))
    assert any(isinstance(m["content"], dict) for m in steps[-1][0]), "the worker gets the files"


def test_without_login_the_conversation_is_kept_in_the_browser(tmp_path: Path) -> None:
    app = App(Settings.from_env({}, data_dir=tmp_path / "data"))
    demo = build_app(app, login=False)
    fns = {f.name: f.fn for f in demo.fns.values() if f.fn is not None}
    request = gr.Request()
    *_, last = fns["stream_turn"](request, "支委会多久开一次？", [], [], "", {}, request)
    messages, pairs, _, _, conv, _, saved = last
    assert conv == "" and saved == {"messages": messages, "pairs": pairs} and pairs[0][0] == "支委会多久开一次？"
    restored = fns["restore"](request, saved, request)
    assert restored[:3] == (messages, pairs, "")
    assert app.serving.conversations.list("") == []  # nothing kept on the server


def test_the_first_run_panel_offers_its_import_to_administrators_only(page) -> None:
    """Every user sees 开始使用 and its list; only an administrator is shown its import (whose
    events refuse anyone else anyway, see above)."""
    app, demo = page
    first_run = next(f.fn for f in demo.fns.values() if f.name == "first_run")
    for role, name in USERS.items():
        request = gr.Request(username=name)
        summary, rows, _panel, import_part = first_run(request, request)
        assert "法规原文需自行导入" in summary and len(rows) == len(app.knowledge.regulations())
        assert import_part["visible"] is (role == ADMIN), role
