"""知识库: uploads staged under safe names, imported with progress; the document list; delete; reindex."""
from __future__ import annotations

import os
import queue
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any, Iterator

from ...citations import status_word
from ...errors import InputError
from ...inputs import safe_filename
from ...root import App
from ...settings import Settings
from ..render import esc_literal, esc_md
from .qa import engine_error

UPLOAD_TYPES = (".txt", ".md", ".docx", ".pdf", ".html")
DOC_HEADERS = ["标题", "文件", "状态", "生效日期", "段数", "完整性"]


def uploads_dir(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


def stage_uploads(paths: list[str], settings: Settings) -> tuple[list[Path], list[list[str]]]:
    """Check type and size, copy into <data_dir>/uploads/ under a safe name.
    Returns the staged files and a progress row per file ([原文件名, 状态])."""
    folder = uploads_dir(settings)
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


def ingest_files(app: App, files: list | None) -> Iterator[tuple[str, list[list[str]]]]:
    """Stage and import uploaded files, yielding (status line, one row per file) as each finishes."""
    paths = [f if isinstance(f, str) else getattr(f, "path", None) or getattr(f, "name", "") for f in (files or [])]
    paths = [p for p in paths if p]
    if not paths:
        raise InputError("file", "请先选择要导入的文件")
    staged, rows = stage_uploads(paths, app.settings)
    yield f"已接收 {len(paths)} 个文件，正在导入…", rows
    if not staged:
        yield "没有可导入的文件。", rows
        return
    index_of = {row[0].split(" → ")[-1]: k for k, row in enumerate(rows) if row[1].startswith("等待")}
    events: queue.Queue = queue.Queue()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["report"] = app.ingest(staged, on_file=lambda name, status: events.put((name, status)))
        except Exception as exc:  # StoreError and the like: reported, never raised raw
            box["error"] = exc
        finally:
            events.put(None)

    threading.Thread(target=work, name="ingest", daemon=True).start()
    while (item := events.get()) is not None:
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
    yield "导入完成：" + box["report"].summary(), rows


def doc_rows(app: App) -> list[list]:
    """One row per document: title, file, status, effective date, passages, completeness."""
    return [[d.title, d.doc_id, status_word(d.status), d.effective or "—", d.chunks,
             "完整" if d.complete else "不完整，请重新导入"] for d in app.store.documents()]


def doc_choices(app: App) -> list[tuple[str, str]]:
    return [(f"{d.title}（{d.doc_id}）", d.doc_id) for d in app.store.documents()]


def remove_docs(app: App, doc_ids: list[str] | None) -> str:
    """Delete the chosen documents (and the app's own copies of their uploads)."""
    if not doc_ids:
        raise InputError("doc", "请先选择要删除的文档")
    store = app.store
    done = []
    uploads = uploads_dir(app.settings).resolve()
    with store.write_lock():
        for doc_id in doc_ids:
            n = store.remove_document(doc_id)
            done.append(f"{doc_id}（{n} 段）")
            copy = (uploads / safe_filename(doc_id)).resolve()
            if copy.parent == uploads and copy.is_file():
                copy.unlink(missing_ok=True)
    store.refresh_lexical()
    return "已删除：" + "、".join(done)


def reindex(app: App) -> str:
    """Re-import every uploaded document from its file in the data dir's uploads folder (paths
    recorded elsewhere are never read: they come from the collection's metadata)."""
    store = app.store
    uploads = uploads_dir(app.settings).resolve()
    paths: dict[str, str] = {}
    for m in store.snapshot(max_age=0).metas:
        paths.setdefault(m["doc_id"], m.get("path", ""))

    def inside(p: str) -> bool:
        try:
            return bool(p) and Path(p).resolve().parent == uploads and Path(p).is_file()
        except OSError:
            return False

    todo = [Path(p) for p in paths.values() if inside(p)]
    kept = [d for d, p in paths.items() if not inside(p)]
    report = app.ingest(todo) if todo else None
    store.refresh_lexical()
    lines = ["索引已重建。" + (report.summary() if report else "")]
    if kept:
        lines.append(f"{len(kept)} 篇文档不是经网页上传的（或原文件已不在），保持原样：" + "、".join(kept[:10]))
    for name, reason in (report.failed if report else []):
        lines.append(f"失败 {name}：{reason}")
    return "\n\n".join(esc_literal(x) for x in lines)
