"""知识库: uploads staged under safe names, imported with progress; the document list; delete; reindex."""
from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ...citations import same_title, status_word
from ...errors import InputError, LoadError
from ...inputs import safe_filename, shorten
from ...qa.load import read_manifest
from ...root import App
from ...settings import Settings
from ..render import esc_literal, esc_md
from .qa import engine_error

log = logging.getLogger(__name__)
UPLOAD_TYPES = (".txt", ".md", ".docx", ".pdf", ".html")
DOC_HEADERS = ["类别", "标题", "文件", "状态", "生效日期", "段数", "完整性", "导入者", "导入时间"]
DOC_TYPES = ["str", "str", "str", "str", "str", "number", "str", "str", "str"]
KIND_CN = {"card": "知识卡", "practice": "地方实践", "faq": "常见问题"}
MANIFEST = "manifest.json"  # uploaded with the files, it gives their titles, effective dates and statuses
STAGING_MAX_AGE_S = 86400.0  # a batch waiting for a confirmation nobody gave is dropped after a day
WEB_IMPORTER = "网页上传"


def uploads_dir(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


def staging_dir(settings: Settings) -> Path:
    """Where uploads wait until they are imported (or confirmed): nothing in uploads/ — the copies
    reindex reads — is replaced before the import of its new version succeeded."""
    return settings.data_dir / "staging"


def importer_name(username: str | None = None, host: str | None = None) -> str:
    """Who imported, as the document list shows it: the login name when there is one, else the
    address the upload came from."""
    if username:
        return f"{WEB_IMPORTER}：{shorten(username, 40)}"
    return f"{WEB_IMPORTER}（{shorten(host, 45)}，未登录）" if host else WEB_IMPORTER


def _free_name(name: str, taken: set[str]) -> str:
    """name, or name-2, name-3 … before its extension, whichever this batch has not used."""
    if name not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, f".{ext}") if dot else (name, "")
    n = 2
    while f"{stem}-{n}{ext}" in taken:
        n += 1
    return f"{stem}-{n}{ext}"


def stage_uploads(paths: list[str], settings: Settings, folder: Path | None = None) -> tuple[list[Path], list[list[str]]]:
    """Check type and size, copy into a staging folder under a safe name; two uploads whose safe
    names collide are both kept (the second gets -2, the row says so).
    Returns the staged files and a progress row per file ([原文件名, 状态])."""
    folder = folder or staging_dir(settings) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    limit = settings.max_file_mb * 1024 * 1024
    staged: list[Path] = []
    rows: list[list[str]] = []
    taken: dict[str, str] = {}
    for p in paths:
        src = Path(p)
        original = src.name
        name = safe_filename(original)
        ext = Path(name).suffix.lower()
        if original == MANIFEST:
            rows.append(_stage_manifest(src, folder, limit))
            continue
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
        free = _free_name(name, set(taken))
        dest = folder / free
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
        shown = original if free == original else f"{original} → {free}"
        status = "等待导入…" if free == name else f"等待导入…（与本批的 {taken[name]} 同名，已改名保留）"
        taken[free] = original
        rows.append([shown, status])
    return staged, rows


def _stage_manifest(src: Path, folder: Path, limit: int) -> list[str]:
    """A manifest.json uploaded with the files: kept beside them in the staging folder, where the
    import reads each file's title, effective date and status from it (as for a folder)."""
    try:
        if src.stat().st_size > min(limit, 1024 * 1024):
            return [MANIFEST, "失败：清单文件过大"]
        shutil.copyfile(src, folder / MANIFEST)
        entries = read_manifest(folder)
    except OSError as exc:
        return [MANIFEST, f"失败：无法读取清单（{exc.strerror}）"]
    except LoadError as exc:
        (folder / MANIFEST).unlink(missing_ok=True)
        return [MANIFEST, f"失败：{exc}"]
    return [MANIFEST, f"清单：{len(entries)} 项（各文件的标题、生效日期和状态按它读取；它未列出的文件不导入）"]


def _keep_listed(folder: Path, staged: list[Path], rows: list[list[str]]) -> list[Path]:
    """With a manifest in the batch, only the files it lists are imported (as for a folder)."""
    if not (folder / MANIFEST).is_file():
        return staged
    listed = read_manifest(folder)
    kept = []
    for path in staged:
        if path.name in listed:
            kept.append(path)
            continue
        path.unlink(missing_ok=True)
        for row in rows:
            if row[0].split(" → ")[-1] == path.name:
                row[1] = "未导入：manifest.json 没有列出这个文件"
    return kept


def _keep_manifest(folder: Path, uploads: Path, names: list[str]) -> None:
    """The entries of the imported files go into uploads/manifest.json: reindex reads them there."""
    try:
        entries = read_manifest(folder)
        if not entries or not names:
            return
        kept = read_manifest(uploads)
    except LoadError as exc:
        log.warning("manifest not kept: %s", exc)
        return
    kept.update({n: entries[n] for n in names if n in entries})
    tmp = uploads / f".{uuid.uuid4().hex}.part"
    tmp.write_text(json.dumps(list(kept.values()), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, uploads / MANIFEST)


def _prune_staging(settings: Settings) -> None:
    root = staging_dir(settings)
    if not root.is_dir():
        return
    now = time.time()
    for p in root.iterdir():
        try:
            if now - p.stat().st_mtime > STAGING_MAX_AGE_S and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


@dataclass
class Staged:
    """A batch of uploads copied into the staging folder, and what importing it would do."""

    token: str
    files: list[Path]
    rows: list[list[str]]
    conflicts: list[str] = field(default_factory=list)  # 《…》 it would make 已被修订, or replace

    def question(self, how: str = "确认无误请点“确认导入”，否则点“取消”（知识库不会改变）") -> str:
        """The confirmation the page asks for."""
        return "需要确认：" + "；".join(esc_literal(c) for c in self.conflicts) + f"。{how}。"


def _paths(files: list | None) -> list[str]:
    paths = [f if isinstance(f, str) else getattr(f, "path", None) or getattr(f, "name", "") for f in (files or [])]
    return [p for p in paths if p]


def prepare(app: App, files: list | None) -> Staged:
    """Stage the uploads and read them: what importing them would supersede or replace."""
    paths = _paths(files)
    if not paths:
        raise InputError("file", "请先选择要导入的文件")
    _prune_staging(app.settings)
    token = uuid.uuid4().hex
    folder = staging_dir(app.settings) / token
    staged, rows = stage_uploads(paths, app.settings, folder)
    staged = _keep_listed(folder, staged, rows)
    conflicts = [c.text() for c in app.preview_ingest(staged)] if staged else []
    if conflicts:
        rows = [[r[0], "待确认" if r[1].startswith("等待") else r[1]] for r in rows]
    rows = [list(r) for r in rows]
    return Staged(token, staged, rows, conflicts)


def _batch(app: App, token: str) -> Path:
    folder = staging_dir(app.settings) / str(token or "")
    if not token or not str(token).isalnum() or not folder.is_dir():
        raise InputError("file", "没有待确认的导入（可能已过期或已取消），请重新选择文件")
    return folder


def discard(app: App, token: str) -> str:
    """Drop a staged batch that was not confirmed."""
    try:
        shutil.rmtree(_batch(app, token), ignore_errors=True)
    except InputError:
        pass
    return "已取消导入，知识库没有改变。"


def import_staged(app: App, token: str, rows: list[list[str]] | None = None, importer: str = "",
                  cancel: threading.Event | None = None) -> Iterator[tuple[str, list[list[str]]]]:
    """Import a staged batch, yielding (status line, one row per file) as it goes: each file's
    passages embedded so far, then its result. Imported files move into uploads/ (reindex reads
    them there); ``cancel`` set (the page closed) stops it between two batches."""
    folder = _batch(app, token)
    staged = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.name != MANIFEST)
    rows = [list(r) for r in (rows or [[p.name, "等待导入…"] for p in staged])]
    if not staged:
        shutil.rmtree(folder, ignore_errors=True)
        yield "没有可导入的文件。", rows
        return
    index_of = {}
    for k, row in enumerate(rows):
        if not row[1].startswith(("失败", "清单", "未导入")):
            index_of[row[0].split(" → ")[-1]] = k
            rows[k] = [row[0], "等待导入…"]
    events: queue.Queue = queue.Queue()
    box: dict[str, Any] = {}
    cancel = cancel or threading.Event()

    def work() -> None:
        try:
            box["report"] = report = app.ingest(
                staged, on_file=lambda name, status: events.put((name, status)), importer=importer, cancel=cancel,
                on_progress=lambda name, done, total: events.put((name, f"正在嵌入：{done}/{total} 段")))
            if report.cancelled:
                log.info("导入已取消（页面已关闭）：%s", shorten("、".join(p.name for p in staged), 120))
            uploads = uploads_dir(app.settings)
            uploads.mkdir(parents=True, exist_ok=True)
            moved = [p.name for p in staged if p.name in report.added or p.name in report.updated]
            _keep_manifest(folder, uploads, moved)
            for name in moved:
                os.replace(folder / name, uploads / name)
        except Exception as exc:  # StoreError and the like: reported, never raised raw
            box["error"] = exc
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            events.put(None)

    threading.Thread(target=work, name="ingest", daemon=True).start()
    try:
        done = False
        while not done:
            try:
                item = events.get(timeout=1.0)
            except queue.Empty:  # nothing new: still answer, so that a page that went away is noticed
                yield f"正在导入…（{sum(1 for r in rows if r[1] in FINAL)}/{len(index_of)}）", rows
                continue
            while True:  # take every event that is waiting, then show them at once
                if item is None:
                    done = True
                    break
                name, status = item
                k = index_of.get(name)
                if k is None:
                    rows.append([name, status])
                else:
                    rows[k] = [rows[k][0], status]
                try:
                    item = events.get_nowait()
                except queue.Empty:
                    break
            if not done:
                yield f"正在导入…（{sum(1 for k in index_of.values() if rows[k][1] in FINAL or rows[k][1].startswith('失败'))}/{len(index_of)}）", rows
    finally:
        cancel.set()  # the page went away (or we are done): a run still going stops at its next batch
    if "error" in box:
        reason = engine_error(box["error"])
        rows = [[r[0], "失败：" + reason if r[1].startswith(("等待", "正在")) else r[1]] for r in rows]
        yield f"导入失败：{esc_md(reason)}", rows
        return
    yield "导入完成：" + esc_literal(box["report"].summary()), rows


FINAL = ("已导入", "已更新", "未变", "已取消，未写入")


def ingest_files(app: App, files: list | None, confirm: bool = False, importer: str = "",
                 cancel: threading.Event | None = None) -> Iterator[tuple[str, list[list[str]]]]:
    """Stage and import uploaded files, yielding (status line, one row per file) as each goes.
    An import that would make another document 已被修订, or replace one of the same file name, is
    not made without ``confirm``: the answer says what it would do (the page asks, then imports)."""
    batch = prepare(app, files)
    yield f"已接收 {len(_paths(files))} 个文件，正在导入…", batch.rows
    if not batch.files:
        discard(app, batch.token)
        yield "没有可导入的文件。", batch.rows
        return
    if batch.conflicts and not confirm:
        discard(app, batch.token)
        yield batch.question("没有导入；确认无误请把 confirm 设为 true 再提交一次"), batch.rows
        return
    yield from import_staged(app, batch.token, batch.rows, importer, cancel)


def kind_word(app: App, d) -> str:
    """知识卡 / 地方实践 / 常见问题 for ours; 法规原文 for an imported text that is one of the
    regulations our cards cite or has an effective date; 导入文件 for anything else imported."""
    if d.kind in KIND_CN:
        return KIND_CN[d.kind]
    if d.effective or any(same_title(d.title, r["title"]) for r in app.knowledge.regulations()):
        return "法规原文"
    return "导入文件"


def doc_rows(app: App) -> list[list]:
    """One row per document — kind, title, file, status, effective date, passages, completeness,
    who imported it and when: the imported texts first (法规原文 by effective date, newest first),
    then our cards."""
    order = {"法规原文": 0, "导入文件": 1, "知识卡": 2, "地方实践": 3, "常见问题": 4}
    rows = []
    for d in app.store.documents():
        state = "导入中…" if d.writing else ("完整" if d.complete else "不完整，请重新导入")
        when = d.imported_at[:16].replace("T", " ") if d.imported_at else "—"
        kind = kind_word(app, d)
        effective = d.effective or ("—" if kind in KIND_CN.values() else "未注明")
        rows.append([kind, d.title, d.doc_id, status_word(d.status), effective, d.chunks, state,
                     d.imported_by or "—", when])
    by_date = sorted(rows, key=lambda r: r[4] if r[4][:1].isdigit() else "", reverse=True)
    return sorted(by_date, key=lambda r: order.get(r[0], 9))


def doc_choices(app: App) -> list[tuple[str, str]]:
    return [(f"{d.title}（{d.doc_id}）", d.doc_id) for d in app.store.documents()]


def removal_question(app: App, doc_ids: list[str] | None) -> str:
    """What deleting the chosen documents would remove, named one by one, and the question."""
    if not doc_ids:
        raise InputError("doc", "请先选择要删除的文档")
    by_id = {d.doc_id: d for d in app.store.documents()}
    unknown = [d for d in doc_ids if d not in by_id]
    if unknown:
        raise InputError("doc", "知识库中没有这些文档（可能已被删除，请刷新列表）：" + "、".join(shorten(d, 60) for d in unknown))
    named = "；".join(f"{esc_literal(by_id[d].cite())}，文件 {esc_literal(d)}，{by_id[d].chunks} 段" for d in doc_ids)
    return (f"需要确认：将删除 {len(doc_ids)} 篇文档——{named}。删除后不能撤销（网页上传的副本一并删除），"
            "确认无误请点“确认删除”，否则点“取消”。")


def remove_docs(app: App, doc_ids: list[str] | None) -> str:
    """Delete the chosen documents (and the app's own copies of their uploads). Each waits only
    for an import of that same document; imports of others go on."""
    if not doc_ids:
        raise InputError("doc", "请先选择要删除的文档")
    store = app.store
    done = []
    uploads = uploads_dir(app.settings).resolve()
    for doc_id in doc_ids:
        n = store.remove_document(doc_id)
        done.append(f"{doc_id}（{n} 段）")
        copy = (uploads / safe_filename(doc_id)).resolve()
        if copy.parent == uploads and copy.is_file():
            copy.unlink(missing_ok=True)
    store.refresh_lexical()
    return "已删除：" + "、".join(esc_literal(x) for x in done)


def reindex(app: App, importer: str = "") -> str:
    """Re-import every uploaded document from its copy in the data dir's uploads folder, found by
    its file name there (paths recorded in the collection's metadata are never read, nor a
    symlink out of uploads)."""
    store = app.store
    uploads = uploads_dir(app.settings).resolve()

    def copy_of(doc_id: str) -> Path | None:
        try:
            p = uploads / safe_filename(doc_id)
            return p if p.name == doc_id and p.resolve().parent == uploads and p.is_file() else None
        except OSError:
            return None

    doc_ids = list(store.snapshot(max_age=0).docs)
    todo = [p for d in doc_ids if (p := copy_of(d)) is not None]
    kept = [d for d in doc_ids if copy_of(d) is None]
    report = app.ingest(todo, importer=importer) if todo else None
    store.refresh_lexical()
    lines = ["索引已重建。" + (report.summary() if report else "")]
    if kept:
        lines.append(f"{len(kept)} 篇文档不是经网页上传的（或原文件已不在），保持原样：" + "、".join(kept[:10]))
    for name, reason in (report.failed if report else []):
        lines.append(f"失败 {name}：{reason}")
    return "\n\n".join(esc_literal(x) for x in lines)
