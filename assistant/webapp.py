"""The web app (Gradio): 问答 · 会议方案 · 工作清单 · 任务规划 · 知识库.

    python app.py            # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT)

Environment: ASSISTANT_DATA_DIR (knowledge base), ASSISTANT_AUTH="user:pass,…" (optional
login), ASSISTANT_MAX_FILE_MB (upload limit), ASSISTANT_ASK_CONCURRENCY (answers in parallel).

Named API endpoints for gradio_client: /ask, /meeting_plan, /checklist, /plan_tasks, /ingest.

Everything a page shows that came from a document, a model or a user is escaped here:
nothing is ever rendered as raw HTML. Heavy modules (Chroma, the embedder, the answer
engine) are imported on first use, so the page is up before they load.
"""
from __future__ import annotations

import html
import logging
import os
import queue
import re
import shutil
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator

from .config import Settings, apply_offline_env

apply_offline_env()  # before gradio is imported: analytics and telemetry off

log = logging.getLogger(__name__)

UPLOAD_TYPES = (".txt", ".md", ".docx", ".pdf", ".html")
MAX_QUESTION = 1000
STATUS_CN = {"current": "现行", "superseded": "已被修订", "reference": "参考资料"}
EXAMPLE_QUESTIONS = (
    "支委会多久开一次？",
    "党员每月应交多少党费？",
    "组织生活会一般什么时候召开？",
    "发展党员要经过哪些程序？",
)
PERIODS = ("全年", "第一季度", "第二季度", "第三季度", "第四季度") + tuple(f"{m}月" for m in range(1, 13))
TASK_HEADERS = ["任务名称", "截止日期", "工时（小时）", "类型（可空）"]
DOC_HEADERS = ["标题", "文件", "状态", "生效日期", "段数", "完整性"]
CSS = """
.badge {display:inline-block;padding:2px 10px;border-radius:12px;background:#fde8e8;color:#9b1c1c;
        font-size:0.9em;font-weight:600;margin-right:6px}
.badge.llm {background:#e1effe;color:#1e429f}
.notice {color:#9b1c1c;font-size:0.9em}
.app-title h1 {margin:0.2em 0;font-size:1.6em}
@media (max-width: 640px) { .gradio-container {padding: 4px !important} }
"""
SYSTEM_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei",
                "ui-sans-serif", "system-ui", "sans-serif")
MONO_FONTS = ("Noto Sans Mono CJK SC", "ui-monospace", "Consolas", "monospace")


# --------------------------------------------------------------------------- escaping

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+\-!|~])")


def esc(text: Any) -> str:
    """Text for an HTML context: every tag and entity shown as typed."""
    return html.escape(str(text if text is not None else ""), quote=True)


def esc_md(text: Any) -> str:
    """Markdown that may carry formatting (answers, generated plans), with HTML neutralised."""
    return html.escape(str(text if text is not None else ""), quote=False)


def esc_literal(text: Any) -> str:
    """Document text for a Markdown context: no HTML, no Markdown formatting."""
    out = _MD_SPECIAL.sub(r"\\\1", esc_md(text))
    return re.sub(r"(?m)^(\s*\d+)\.", r"\1\\.", out)


# --------------------------------------------------------------------------- file names

_UNSAFE = re.compile(r"[^0-9A-Za-z\u3400-\u9fff\uf900-\ufaff（）《》【】、，。_.\-]+")


def safe_filename(name: str, default: str = "文件") -> str:
    """A file name that stays inside its folder: no path parts, no shell metacharacters,
    no leading dot, at most 120 characters; the extension is kept."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = base.replace("\x00", "")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = _UNSAFE.sub("_", stem).strip("._-") or default
    ext = re.sub(r"[^0-9A-Za-z]", "", ext).lower()
    stem = stem[: 120 - len(ext) - 1]
    return f"{stem}.{ext}" if ext else stem


def _out_dir() -> Path:
    """A fresh folder for generated downloads (Gradio copies them into its cache)."""
    root = Path(tempfile.gettempdir()) / "dangwu-assistant-out"
    path = root / uuid.uuid4().hex
    path.mkdir(parents=True, exist_ok=True)
    return path


def _clean_old_outputs(max_age_s: float = 86400) -> None:
    root = Path(tempfile.gettempdir()) / "dangwu-assistant-out"
    if not root.is_dir():
        return
    now = time.time()
    for p in root.iterdir():
        try:
            if now - p.stat().st_mtime > max_age_s:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


# --------------------------------------------------------------------------- shared state

class Services:
    """Process-wide engines, created on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._store = None

    def assistant(self):
        from .answer import get_assistant

        return get_assistant(self.settings)

    def store(self):
        """The Store the answer engine searches (so an ingest is visible at once), or our own."""
        with self._lock:
            if self._store is None:
                found = None
                try:
                    a = self.assistant()
                    for path in ("store", "retriever.store", "_store", "_retriever.store"):
                        obj: Any = a
                        for part in path.split("."):
                            obj = getattr(obj, part, None)
                        if obj is not None and hasattr(obj, "documents"):
                            found = obj
                            break
                except ImportError:
                    found = None
                if found is None:
                    from .index import Store

                    found = Store(self.settings)
                self._store = found
            return self._store

    def warm_up(self) -> None:
        """Load the engines in the background so the first question is quick."""
        try:
            store = self.store()
            store.snapshot()
        except Exception as exc:  # the app still serves; the error shows on first use
            log.warning("warm-up failed: %s", exc)


# --------------------------------------------------------------------------- 问答

def _source_title(s) -> str:
    status = STATUS_CN.get(s.status, s.status or "")
    label = s.label() if hasattr(s, "label") else f"《{s.title}》{s.article}"
    if len(label) > 90:
        label = label[:88] + "…"
    return f"[{s.n}] {label} · {status}"


def answer_markdown(text: str, notice: str = "") -> str:
    """An answer for the chat: escaped, with the 依据 block set apart from the last list item."""
    out = re.sub(r"\n(依据：)", r"\n\n\1", esc_md(text).strip())
    if notice:
        out += "\n\n> 提示：" + esc_md(notice)
    return out


def source_messages(answer) -> list[dict]:
    """One collapsible card per source: title, article, status, passage (all escaped)."""
    out = []
    for s in answer.sources:
        foot = f"\n\n来源文件：{esc_literal(s.source)}"
        if s.status == "superseded":
            foot += "（该文件已被修订，仅供对照，请以现行规定为准）"
        out.append({
            "role": "assistant",
            "content": esc_literal(s.text) + foot,
            "metadata": {"title": esc_md(_source_title(s)), "status": "done"},
        })
    return out


def engine_error(exc: Exception) -> str:
    """A message for the user: the knowledge base's own (Chinese) errors as they are, anything
    else in general terms (the details go to the server log, not to the page)."""
    from .index import StoreError

    if isinstance(exc, StoreError):
        return str(exc)
    log.exception("answer failed")
    return "问答引擎出错，请稍后再试或联系管理员（详情见服务器日志）"


def badge_html(label: str, notice: str = "") -> str:
    offline = not label or label == "离线模式"
    cls = "badge" if offline else "badge llm"
    text = "离线模式" if offline else (label if label.startswith("模型") else f"模型：{label}")
    out = f'<span class="{cls}">{esc(text)}</span>'
    if notice:
        out += f'<span class="notice">{esc(notice)}</span>'
    return out


# --------------------------------------------------------------------------- 知识库 helpers

def doc_rows(store) -> list[list]:
    rows = []
    for d in store.documents():
        rows.append([d.title, d.doc_id, STATUS_CN.get(d.status, d.status), d.effective or "—", d.chunks,
                     "完整" if d.complete else "不完整，请重新导入"])
    return rows


def doc_choices(store) -> list[tuple[str, str]]:
    return [(f"{d.title}（{d.doc_id}）", d.doc_id) for d in store.documents()]


def stage_uploads(paths: list[str], settings: Settings) -> tuple[list[Path], list[list[str]]]:
    """Check type and size, copy into <data_dir>/uploads/ under a safe name.
    Returns the staged files and a progress row per file ([原文件名, 状态])."""
    folder = settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    limit = settings.max_file_mb * 1024 * 1024
    staged: list[Path] = []
    rows: list[list[str]] = []
    for p in paths:
        src = Path(p)
        original = src.name
        name = safe_filename(original)
        ext = Path(name).suffix.lower()
        if ext not in UPLOAD_TYPES:
            rows.append([original, f"失败：不支持的文件类型 {ext or '（无扩展名）'}（支持 {' '.join(UPLOAD_TYPES)}）"])
            continue
        try:
            size = src.stat().st_size
        except OSError as exc:
            rows.append([original, f"失败：无法读取上传的文件（{exc.strerror}）"])
            continue
        if size > limit:
            rows.append([original, f"失败：文件过大（{size / 1048576:.1f} MB，上限 {settings.max_file_mb:g} MB）"])
            continue
        dest = folder / name
        if dest.resolve().parent != folder.resolve():
            rows.append([original, "失败：文件名不合法"])
            continue
        tmp = folder / f".{uuid.uuid4().hex}.part"
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            rows.append([original, f"失败：无法保存到知识库目录（{exc.strerror}）"])
            continue
        staged.append(dest)
        shown = original if name == original else f"{original} → {name}"
        rows.append([shown, "等待导入…"])
    return staged, rows


# --------------------------------------------------------------------------- the app

class PageMiddleware:
    """ASGI middleware for the HTML page itself (GET /):

    * Gradio picks the language of its own texts (upload area, buttons, errors) from the
      browser; a script at the top of <head> reports zh-CN so they are Chinese everywhere.
    * Gradio's login page embeds the full API description (window.gradio_api_info) even for a
      visitor who has not logged in: it is blanked there.
    """

    _INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.S)
    _ZH = (b"<head><script>(()=>{const p=Navigator.prototype;"
           b"Object.defineProperty(p,'language',{get:()=>'zh-CN',configurable:true});"
           b"Object.defineProperty(p,'languages',{get:()=>['zh-CN','zh'],configurable:true});})();</script>")

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET" or scope.get("path", "").startswith(
                ("/gradio_api", "/assets", "/static", "/file", "/theme", "/manifest", "/favicon")):
            await self.app(scope, receive, send)
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks)
                ctype = dict(start.get("headers", [])).get(b"content-type", b"")
                if ctype.startswith(b"text/html"):
                    body = body.replace(b"<head>", self._ZH, 1)
                    if re.search(rb'"auth_required":\s*true', body):
                        body = self._INFO.sub(b"window.gradio_api_info = null;</script>", body)
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, capture)


def _auth_from_env() -> list[tuple[str, str]] | None:
    raw = os.environ.get("ASSISTANT_AUTH", "").strip()
    if not raw:
        return None
    pairs = []
    for item in raw.split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not user or not password:
            raise SystemExit("ASSISTANT_AUTH 格式应为“用户名:密码,用户名:密码”")
        pairs.append((user, password))
    return pairs


def _int_or_none(value: Any, label: str, zero_is_none: bool = False) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{label}应为整数，收到“{value}”") from None
    if f != f or f in (float("inf"), float("-inf")) or f != int(f):
        raise ValueError(f"{label}应为整数，收到“{value}”")
    if zero_is_none and f == 0:
        return None
    return int(f)


def _next_monday(today: date | None = None) -> date:
    today = today or date.today()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def _default_tasks() -> list[list[str]]:
    start = _next_monday()
    return [
        ["撰写支部年度工作总结", (start + timedelta(days=18)).isoformat(), "6", "重要"],
        ["整理党员学习笔记检查情况", (start + timedelta(days=11)).isoformat(), "2", ""],
        ["更新党建宣传栏", "", "3", "可延后"],
    ]


def build_app(settings: Settings | None = None):
    """The Gradio Blocks app (not launched)."""
    import gradio as gr

    from . import meeting as meeting_mod
    from .obligations import BRANCH_TYPES

    settings = settings or Settings.from_env()
    services = Services(settings)
    ask_limit = int(os.environ.get("ASSISTANT_ASK_CONCURRENCY") or 8)

    theme = gr.themes.Default(primary_hue="red", font=list(SYSTEM_FONTS), font_mono=list(MONO_FONTS))

    def user_error(exc: Exception) -> gr.Error:
        return gr.Error(str(exc), title="输入有误", print_exception=False)

    # ---------------------------------------------------------------- handlers: 问答
    def ask(question: str, history: list[list[str]] | None = None) -> dict:
        """Answer a question from the knowledge base. Returns {answer, mode, abstained, notice,
        sources: [{title, article, status, source, text}]}; the answer text ends with its
        依据 lines ([n] 《title》第X条（现行）)."""
        question = (question or "").strip()
        if not question:
            raise gr.Error("请输入问题", title="输入有误")
        if len(question) > MAX_QUESTION:
            raise gr.Error(f"问题太长（{len(question)} 字），请控制在 {MAX_QUESTION} 字以内", title="输入有误")
        pairs = [(str(p[0]), str(p[1])) for p in (history or []) if len(p) >= 2 and p[0]]
        try:
            answer = services.assistant().ask(question, pairs)
        except Exception as exc:
            raise gr.Error(engine_error(exc), title="暂时无法回答") from None
        return answer.to_json()

    def chat(message: str, messages: list, pairs: list) -> Iterator[tuple]:
        message = (message or "").strip()
        messages = list(messages or [])
        pairs = list(pairs or [])
        if not message:
            yield messages, pairs, "", gr.skip()
            return
        message = message[:MAX_QUESTION]
        messages.append({"role": "user", "content": esc_md(message)})
        messages.append({"role": "assistant", "content": "正在检索知识库…"})
        yield messages, pairs, "", gr.skip()
        final = None
        try:
            assistant = services.assistant()
            for text, answer in assistant.stream(message, pairs[-6:]):
                messages[-1] = {"role": "assistant", "content": esc_md(text) or "…"}
                if answer is not None:
                    final = answer
                yield messages, pairs, "", gr.skip()
        except Exception as exc:
            messages[-1] = {"role": "assistant", "content": "暂时无法回答：" + esc_md(engine_error(exc))}
            yield messages, pairs, "", gr.skip()
            return
        if final is not None:
            messages[-1] = {"role": "assistant", "content": answer_markdown(final.answer, final.notice)}
            messages.extend(source_messages(final))
            pairs.append((message, final.answer))
            badge = badge_html(assistant.mode_label, final.notice)
        else:
            badge = gr.skip()
        yield messages, pairs, "", badge

    def new_conversation():
        return [], [], ""

    def show_badge() -> str:
        try:
            return badge_html(services.assistant().mode_label)
        except Exception as exc:
            return badge_html("离线模式", "问答引擎未就绪：" + engine_error(exc))

    # ---------------------------------------------------------------- handlers: 会议方案
    def meeting_plan(meeting_type: str, branch: str, meeting_date: str, topic: str = "",
                     members: float | None = None) -> tuple[str, str, str]:
        try:
            n = _int_or_none(members, "人数", zero_is_none=True)
            plan = meeting_mod.make_meeting_plan(meeting_type, branch, (meeting_date or "").strip(),
                                                 topic=(topic or None), members=n)
        except (meeting_mod.MeetingPlanError, ValueError) as exc:
            raise user_error(exc) from None
        folder = _out_dir()
        stem = safe_filename(plan.title, "会议方案")
        docx = plan.write(folder / f"{stem}.docx")
        md = plan.write(folder / f"{stem}.md")
        return esc_md(plan.to_markdown()), str(docx), str(md)

    # ---------------------------------------------------------------- handlers: 工作清单
    def checklist(year: float, period: str = "全年", branch_type: str = "机关",
                  members: float | None = None) -> tuple[str, list[list], str, str]:
        from .checklist import ChecklistError, build_checklist, write_checklist

        try:
            y = _int_or_none(year, "年份")
            if y is None:
                raise ValueError("请填写年份")
            n = _int_or_none(members, "党员人数", zero_is_none=True)
            quarter, month = parse_period(period)
            cl = build_checklist(y, quarter=quarter, month=month, branch_type=branch_type, members=n)
        except (ChecklistError, ValueError) as exc:
            raise user_error(exc) from None
        rows = [[i.due.isoformat(), i.name, i.owner, i.standard, i.basis] for i in cl.items]
        folder = _out_dir()
        stem = safe_filename(cl.title, "工作清单")
        xlsx = write_checklist(cl, folder / f"{stem}.xlsx")
        ics = write_checklist(cl, folder / f"{stem}.ics")
        summary = f"**{esc_md(cl.title)}** {esc_md(cl.subtitle)}：共 {len(cl.items)} 项"
        if cl.events:
            summary += f"；另有 {len(cl.events)} 项按事件触发的工作（如换届、转正），见 Excel 文件"
        return summary, rows, str(xlsx), str(ics)

    # ---------------------------------------------------------------- handlers: 任务规划
    def plan_tasks(tasks: Any, start: str = "", weeks: float = 4, hours_per_week: float = 4,
                   branch_type: str = "机关", members: float | None = None) -> tuple[str, str, str]:
        from .planner import PlanError, TaskFileError, plan_tasks as make_plan, to_markdown, write_plan

        rows = _table_rows(tasks)
        items = []
        for row in rows:
            cells = [("" if c is None else str(c)).strip() for c in (list(row) + ["", "", "", ""])[:4]]
            if not any(cells):
                continue
            items.append({"name": cells[0], "deadline": cells[1], "hours": cells[2], "flag": cells[3]})
        try:
            start_day = _parse_iso(start, "开始日期") if (start or "").strip() else _next_monday()
            w = _int_or_none(weeks, "周数")
            try:
                h = float(hours_per_week) if hours_per_week not in (None, "") else 4.0
            except (TypeError, ValueError):
                raise ValueError(f"每周可用小时应为数字，收到“{hours_per_week}”") from None
            plan = make_plan(items, start_day, 4 if w is None else w, h, branch_type=branch_type,
                             members=_int_or_none(members, "党员人数", zero_is_none=True))
        except (PlanError, TaskFileError, ValueError) as exc:
            raise user_error(exc) from None
        folder = _out_dir()
        stem = f"任务规划_{plan.start.isoformat()}"
        md = write_plan(plan, folder / f"{stem}.md")
        ics = write_plan(plan, folder / f"{stem}.ics")
        return esc_md(to_markdown(plan)), str(md), str(ics)

    # ---------------------------------------------------------------- handlers: 知识库
    def ingest_files(files: list[str] | None) -> Iterator[tuple[str, list[list[str]]]]:
        from .ingest import ingest

        paths = [f if isinstance(f, str) else getattr(f, "path", None) or getattr(f, "name", "") for f in (files or [])]
        paths = [p for p in paths if p]
        if not paths:
            raise gr.Error("请先选择要导入的文件", title="没有文件")
        staged, rows = stage_uploads(paths, settings)
        yield f"已接收 {len(paths)} 个文件，正在导入…", rows
        if not staged:
            yield "没有可导入的文件。", rows
            return
        index_of = {}
        for k, row in enumerate(rows):
            if row[1].startswith("等待"):
                index_of[row[0].split(" → ")[-1]] = k
        events: queue.Queue = queue.Queue()
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["report"] = ingest(staged, services.store(), progress=False,
                                       on_file=lambda name, status: events.put((name, status)))
            except Exception as exc:  # StoreError and the like: reported, never raised raw
                box["error"] = exc
            finally:
                events.put(None)

        threading.Thread(target=work, name="ingest", daemon=True).start()
        while True:
            item = events.get()
            if item is None:
                break
            name, status = item
            k = index_of.get(name)
            if k is None:
                rows.append([name, status])
            else:
                rows[k] = [rows[k][0], status]
            yield f"正在导入…（{sum(1 for r in rows if not r[1].startswith('等待'))}/{len(rows)}）", rows
        if "error" in box:
            reason = engine_error(box["error"])
            rows = [[r[0], "失败：" + reason if r[1].startswith("等待") else r[1]] for r in rows]
            yield f"导入失败：{esc_md(reason)}", rows
            return
        report = box["report"]
        yield "导入完成：" + report.summary(), rows

    def refresh_docs():
        store = services.store()
        return doc_rows(store), gr.update(choices=doc_choices(store), value=[])

    def remove_docs(doc_ids: list[str] | None):
        if not doc_ids:
            raise gr.Error("请先选择要删除的文档", title="没有选择")
        store = services.store()
        done = []
        uploads = (settings.data_dir / "uploads").resolve()
        with store.write_lock():
            for doc_id in doc_ids:
                n = store.remove_document(doc_id)
                done.append(f"{doc_id}（{n} 段）")
                copy = (uploads / safe_filename(doc_id)).resolve()
                if copy.parent == uploads and copy.is_file():  # the app's own copy of an upload
                    copy.unlink(missing_ok=True)
        store.refresh_lexical()
        return "已删除：" + "、".join(done), *refresh_docs()

    def reindex():
        from .ingest import ingest

        store = services.store()
        snap = store.snapshot(max_age=0)
        paths: dict[str, str] = {}
        for m in snap.metas:
            paths.setdefault(m["doc_id"], m.get("path", ""))
        todo = [Path(p) for p in paths.values() if p and Path(p).is_file()]
        missing = [d for d, p in paths.items() if not p or not Path(p).is_file()]
        report = ingest(todo, store, progress=False) if todo else None
        store.refresh_lexical()
        lines = ["索引已重建。" + (report.summary() if report else "")]
        if missing:
            lines.append(f"{len(missing)} 篇文档的原文件已不在原处，保持原样：" + "、".join(missing[:10]))
        for name, reason in (report.failed if report else []):
            lines.append(f"失败 {name}：{reason}")
        return "\n\n".join(esc_literal(x) for x in lines), *refresh_docs()

    # ---------------------------------------------------------------- layout
    with gr.Blocks(title="党务助手", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        gr.Markdown("# 党务助手\n面向机关党务工作者的离线知识助手：回答有依据，方案可下载。",
                    elem_classes="app-title")
        badge = gr.HTML(badge_html("离线模式"), elem_id="mode-badge")
        with gr.Tabs():
            with gr.Tab("问答", id="qa"):
                pairs = gr.State([])
                chatbot = gr.Chatbot(label="对话", height=520, elem_id="chat", sanitize_html=True, allow_tags=False,
                                     render_markdown=True, feedback_options=None, buttons=["copy"],
                                     placeholder="请输入党务工作问题，例如“支委会多久开一次？”。回答附有依据条文，点击可展开原文。")
                with gr.Row(equal_height=True):
                    question = gr.Textbox(show_label=False, placeholder="输入问题，按回车发送", scale=5, min_width=180,
                                          elem_id="question", max_length=500)
                    send = gr.Button("发送", variant="primary", scale=1, min_width=70, elem_id="send")
                with gr.Row():
                    examples = [gr.Button(q, size="sm", min_width=120) for q in EXAMPLE_QUESTIONS]
                clear = gr.Button("新对话", size="sm", elem_id="new-chat")
            with gr.Tab("会议方案", id="meeting"):
                with gr.Row():
                    m_type = gr.Dropdown(meeting_mod.meeting_types(), value=meeting_mod.meeting_types()[0],
                                         label="会议类型", min_width=200, allow_custom_value=True)
                    m_branch = gr.Textbox(label="党支部名称", value="", elem_id="plan-branch", placeholder="如：XX局机关第一党支部", min_width=200)
                with gr.Row():
                    m_date = gr.Textbox(label="会议日期（YYYY-MM-DD）", value=(date.today() + timedelta(days=14)).isoformat(),
                                        min_width=160)
                    m_members = gr.Number(label="人数（0 或空表示不填；支委会填委员人数）", value=None, precision=0, elem_id="plan-members",
                                          min_width=160)
                m_topic = gr.Textbox(label="会议主题（可空，留空按会议类型给出）", value="", max_length=80)
                m_go = gr.Button("生成方案", variant="primary", elem_id="make-plan")
                with gr.Row():
                    m_docx = gr.File(label="下载 Word（.docx）", interactive=False, elem_id="plan-docx", min_width=160)
                    m_md = gr.File(label="下载 Markdown（.md）", interactive=False, elem_id="plan-md", min_width=160)
                m_preview = gr.Markdown(label="方案预览", show_label=False, elem_id="plan-preview", sanitize_html=True)
            with gr.Tab("工作清单", id="checklist"):
                with gr.Row():
                    c_year = gr.Number(label="年份", value=date.today().year, precision=0, min_width=120)
                    c_period = gr.Dropdown(list(PERIODS), value="全年", label="期间", min_width=120,
                                           allow_custom_value=True)
                    c_branch = gr.Dropdown(list(BRANCH_TYPES), value="机关", label="支部类型", min_width=120,
                                           allow_custom_value=True)
                    c_members = gr.Number(label="党员人数（0 或空表示不填）", value=None, precision=0, min_width=120)
                c_go = gr.Button("生成清单", variant="primary", elem_id="make-checklist")
                c_summary = gr.Markdown(label="清单概要")
                with gr.Row():
                    c_xlsx = gr.File(label="下载 Excel（.xlsx）", interactive=False, min_width=160)
                    c_ics = gr.File(label="下载日历（.ics）", interactive=False, min_width=160)
                c_table = gr.Dataframe(headers=["日期", "事项", "负责人", "合格标准", "依据"], datatype="str",
                                       interactive=False, wrap=True, label="清单", column_count=5)
            with gr.Tab("任务规划", id="planner"):
                gr.Markdown("在表格中填写自己的任务（可增删行）。条规规定的支部工作会自动并入，按周排期；"
                            "放不下的任务会给出延后、拆分或交办的建议。")
                p_tasks = gr.Dataframe(value=_default_tasks(), headers=TASK_HEADERS, datatype="str", type="array",
                                       interactive=True, column_count=4, row_count=3,
                                       label="我的任务（类型：刚性 / 重要 / 可延后，可空）", elem_id="tasks")
                with gr.Row():
                    p_start = gr.Textbox(label="开始日期（YYYY-MM-DD）", value=_next_monday().isoformat(), min_width=140)
                    p_weeks = gr.Number(label="周数", value=4, precision=0, min_width=100)
                    p_hours = gr.Number(label="每周可用小时", value=4, min_width=100)
                with gr.Row():
                    p_branch = gr.Dropdown(list(BRANCH_TYPES), value="机关", label="支部类型", min_width=120,
                                           allow_custom_value=True)
                    p_members = gr.Number(label="党员人数（0 或空表示不填）", value=None, precision=0, min_width=120)
                p_go = gr.Button("生成规划", variant="primary", elem_id="make-tasks")
                with gr.Row():
                    p_md = gr.File(label="下载 Markdown（.md）", interactive=False, min_width=160)
                    p_ics = gr.File(label="下载日历（.ics）", interactive=False, min_width=160)
                p_plan = gr.Markdown(label="规划结果", elem_id="task-plan", sanitize_html=True)
            with gr.Tab("知识库", id="kb"):
                gr.Markdown(f"上传党内法规、本单位文件等（支持 {' '.join(UPLOAD_TYPES)}，"
                            f"单个文件不超过 {settings.max_file_mb:g} MB）。同名文件再次上传即更新。")
                k_files = gr.File(label="选择文件", file_count="multiple", file_types=list(UPLOAD_TYPES),
                                  type="filepath", elem_id="kb-upload")
                k_go = gr.Button("导入知识库", variant="primary", elem_id="kb-ingest")
                k_status = gr.Markdown(label="导入状态", elem_id="kb-status")
                k_progress = gr.Dataframe(headers=["文件", "结果"], datatype="str", interactive=False, wrap=True,
                                          label="导入进度", column_count=2, elem_id="kb-progress")
                k_docs = gr.Dataframe(headers=DOC_HEADERS, datatype=["str", "str", "str", "str", "number", "str"],
                                      interactive=False, wrap=True, label="知识库中的文档", column_count=6,
                                      elem_id="kb-docs")
                with gr.Row():
                    k_remove_sel = gr.Dropdown(choices=[], multiselect=True, label="选择要删除的文档", min_width=200,
                                               elem_id="kb-remove-select")
                    k_remove = gr.Button("删除所选", variant="stop", min_width=100, elem_id="kb-remove")
                with gr.Row():
                    k_refresh = gr.Button("刷新列表", min_width=100)
                    k_reindex = gr.Button("重新索引", min_width=100, elem_id="kb-reindex")
                k_msg = gr.Markdown(elem_id="kb-message")

        # ---------------------------------------------------------------- events
        private = {"api_visibility": "private"}
        answer_opts = {"concurrency_id": "answer", "concurrency_limit": ask_limit}
        chat_io = {"inputs": [question, chatbot, pairs], "outputs": [chatbot, pairs, question, badge]}
        question.submit(chat, **chat_io, **answer_opts, **private)
        send.click(chat, **chat_io, **answer_opts, **private)
        for b, q in zip(examples, EXAMPLE_QUESTIONS):
            b.click(lambda q=q: q, None, question, queue=False, **private).then(chat, **chat_io, **answer_opts,
                                                                                   **private)
        clear.click(new_conversation, None, [chatbot, pairs, question], queue=False, **private)
        gr.api(ask, api_name="ask", **answer_opts)

        docs_opts = {"concurrency_id": "documents", "concurrency_limit": 4}
        m_go.click(meeting_plan, [m_type, m_branch, m_date, m_topic, m_members], [m_preview, m_docx, m_md],
                   api_name="meeting_plan", **docs_opts)
        c_go.click(checklist, [c_year, c_period, c_branch, c_members], [c_summary, c_table, c_xlsx, c_ics],
                   api_name="checklist", **docs_opts)
        p_go.click(plan_tasks, [p_tasks, p_start, p_weeks, p_hours, p_branch, p_members], [p_plan, p_md, p_ics],
                   api_name="plan_tasks", **docs_opts)

        kb_opts = {"concurrency_id": "kb_write", "concurrency_limit": 1}
        k_go.click(ingest_files, [k_files], [k_status, k_progress], api_name="ingest", **kb_opts).then(
            refresh_docs, None, [k_docs, k_remove_sel], **private)
        k_remove.click(remove_docs, [k_remove_sel], [k_msg, k_docs, k_remove_sel], **kb_opts, **private)
        k_reindex.click(reindex, None, [k_msg, k_docs, k_remove_sel], **kb_opts, **private)
        k_refresh.click(refresh_docs, None, [k_docs, k_remove_sel], **private)

        def fresh_defaults():  # dates relative to today, not to the day the server started
            return ((date.today() + timedelta(days=14)).isoformat(), date.today().year,
                    _next_monday().isoformat(), _default_tasks())

        demo.load(fresh_defaults, None, [m_date, c_year, p_start, p_tasks], queue=False, show_progress="hidden",
                  **private)
        demo.load(show_badge, None, badge, show_progress="hidden", **private)
        demo.load(refresh_docs, None, [k_docs, k_remove_sel], show_progress="hidden", **private)

    demo.queue(default_concurrency_limit=2, max_size=int(os.environ.get("ASSISTANT_QUEUE_SIZE") or 256))
    demo._dangwu_theme = theme  # launch() takes the theme and CSS in Gradio 6
    demo._dangwu_services = services
    return demo


def parse_period(text: str | None) -> tuple[int | None, int | None]:
    """全年 / 第一季度 (第1季度, Q1) / 3月 → (quarter, month)."""
    t = re.sub(r"\s+", "", str(text or "全年")).upper()
    if t in ("全年", "年度", ""):
        return None, None
    m = re.fullmatch(r"(?:第)?([一二三四1-4])季度|Q([1-4])", t)
    if m:
        q = m.group(1) or m.group(2)
        return ("一二三四".index(q) + 1 if q in "一二三四" else int(q)), None
    m = re.fullmatch(r"(1[0-2]|[1-9])月?", t)
    if m:
        return None, int(m.group(1))
    raise ValueError(f"期间应为 全年、第一季度…第四季度 或 1月…12月，收到“{text}”")


def _table_rows(value: Any) -> list[list]:
    """Rows from a Dataframe value: list of lists, {'headers', 'data'} or a pandas frame."""
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value.get("data") or [])
    if hasattr(value, "values") and hasattr(value, "columns"):
        return value.values.tolist()
    return [list(r) for r in value]


def _parse_iso(text: str, label: str) -> date:
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", (text or "").strip())
    try:
        if not m:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"{label}应写成 YYYY-MM-DD（如 2026-12-01），收到“{text}”") from None


def _app_kwargs() -> dict:
    """No FastAPI docs pages; the page middleware (Chinese texts, nothing for guests)."""
    from starlette.middleware import Middleware

    return {"openapi_url": None, "docs_url": None, "redoc_url": None, "middleware": [Middleware(PageMiddleware)]}


def main(started: float | None = None) -> None:
    """Build and serve the app until interrupted."""
    started = started if started is not None else time.perf_counter()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "bm25s", "chromadb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    t0 = time.perf_counter()
    import gradio  # noqa: F401  (imported here only to time it separately)

    t_gradio = time.perf_counter() - t0
    settings = Settings.from_env()
    auth = _auth_from_env()
    _clean_old_outputs()
    demo = build_app(settings)
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",
        server_port=int(os.environ.get("GRADIO_SERVER_PORT") or 7860),
        auth=auth,
        auth_message="党务助手：请登录" if auth else None,
        max_file_size=int(settings.max_file_mb * 1024 * 1024),
        show_error=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        footer_links=[],
        theme=demo._dangwu_theme,
        css=CSS,
        quiet=True,
        prevent_thread_lock=True,
        app_kwargs=_app_kwargs(),
    )
    total = time.perf_counter() - started
    url = f"http://{demo.server_name}:{demo.server_port}"
    print(f"党务助手已启动：{url}（启动用时 {total:.1f} 秒，其中导入 Gradio {t_gradio:.1f} 秒）"
          f"{'；已启用登录' if auth else ''}；知识库目录：{settings.data_dir}", flush=True)
    threading.Thread(target=demo._dangwu_services.warm_up, name="warm-up", daemon=True).start()
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
