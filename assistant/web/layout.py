"""The page: title, mode badge and the tabs, put together from tabs/."""
from __future__ import annotations

from datetime import date, timedelta

import gradio as gr

from ..root import App
from .handlers import plans, qa
from .outputs import Outputs
from ..serve.accounts import ADMIN, MEMBER, allows
from .render import badge_html, esc
from .tabs import Page, checklist, guarded, kb, meeting, needs, planner, qa as qa_tab, records, secure

CSS = """
.badge {display:inline-block;padding:2px 10px;border-radius:12px;background:#fde8e8;color:#9b1c1c;
        font-size:0.9em;font-weight:600;margin-right:6px}
.badge.llm {background:#e1effe;color:#1e429f}
.notice {color:#9b1c1c;font-size:0.9em}
.app-title h1 {margin:0.2em 0;font-size:1.6em}
@media (max-width: 640px) {
  .gradio-container {padding: 4px !important}
  #main-tabs [role=tablist] {flex-wrap: wrap; row-gap: 2px}
  #main-tabs [role=tablist] > button {padding: 6px 10px; flex: 0 0 auto}
}
"""
SYSTEM_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei",
                "ui-sans-serif", "system-ui", "sans-serif")
MONO_FONTS = ("Noto Sans Mono CJK SC", "ui-monospace", "Consolas", "monospace")


def theme() -> gr.themes.Base:
    """System CJK fonts only: nothing is fetched from a font service."""
    return gr.themes.Default(primary_hue="red", font=list(SYSTEM_FONTS), font_mono=list(MONO_FONTS))


def build_app(app: App, login: bool = False) -> gr.Blocks:
    """The Gradio Blocks app over one composition root (not launched). LOGIN: users log in (each
    event checks the caller's role; the tabs a role may not use are hidden); otherwise the one
    local user may do everything."""
    page = Page(app, Outputs.from_settings(app.settings), login=login)
    age = max(60, int(app.settings.output_max_age_hours * 3600))  # Gradio's cache: the same age as our downloads
    with gr.Blocks(title="党务助手", analytics_enabled=False, delete_cache=(min(3600, age), age)) as demo:
        with gr.Row():
            gr.Markdown("# 党务助手\n面向机关党务工作者的离线知识助手：回答有依据，方案可下载。", elem_classes="app-title")
            who = gr.Markdown("", elem_id="who", visible=login)
        page.components["badge"] = gr.HTML(badge_html("离线模式"), elem_id="mode-badge")
        # every tab reachable in one tap at phone width: the tab buttons wrap onto a second row
        # instead of hiding behind Gradio's "…" menu
        with gr.Tabs(overflow_behavior="wrap", elem_id="main-tabs"):
            for tab in (qa_tab, meeting, checklist, planner, records, kb):
                tab.build(page)

        for fn, name, opts in page.apis:  # API-only endpoints live outside the tabs
            gr.api(fn, api_name=name, **opts)
        c = page.components

        def fresh_defaults():  # dates relative to today, not to the day the server started
            return ((date.today() + timedelta(days=14)).isoformat(), date.today().year,
                    plans.next_monday().isoformat(), plans.default_tasks())

        def shown_tabs(request: gr.Request):
            """Who is logged in, and the tabs their role may use (the events check it anyway)."""
            name, role = page.user(request)
            tabs = [gr.update(visible=allows(role, needed)) for _, (_, needed) in page.tabs.items()]
            return (f"{esc(name)}（{esc(role or '')}） · [退出登录](logout)" if name else ""), *tabs

        private = {"api_visibility": "private", "show_progress": "hidden"}
        demo.load(needs(MEMBER, fresh_defaults, quiet=True), None,
                  [c["meeting_date"], c["checklist_year"], c["planner_start"], c["planner_tasks"]],
                  queue=False, **private)
        demo.load(needs(MEMBER, lambda: qa.badge(app), quiet=True), None, c["badge"], **private)
        if login:
            demo.load(needs(MEMBER, shown_tabs, quiet=True), None, [who, *(t for t, _ in page.tabs.values())],
                      queue=False, **private)
        restore, r_in, r_out = c["qa_restore"]
        demo.load(restore, r_in, r_out, queue=False, **private)
        refresh, outputs = c["kb_refresh"]
        demo.load(needs(ADMIN, guarded(refresh), quiet=True), None, outputs, **private)
        first_run, outputs = c["first_run"]
        demo.load(first_run, None, outputs, **private)
        c["first_run_importer"].wire(page, [c["first_run_after"], c["kb_refresh"]])
        secure(demo, page)
    demo.queue(default_concurrency_limit=2, max_size=app.settings.queue_size)
    return demo
