"""Read one file into a Document: format, encoding, title and version metadata."""
from __future__ import annotations

import codecs
import hashlib
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SUPPORTED = (".txt", ".md", ".docx", ".pdf", ".html", ".htm")
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a .docx inflating beyond this is treated as a zip bomb


class LoadError(Exception):
    """A file that cannot become a document; the message says why, in Chinese."""


@dataclass
class Document:
    """A whole document as read from disk, before splitting."""

    doc_id: str
    source: str
    path: str
    title: str
    text: str
    sha: str
    status: str = "current"
    effective: str = ""
    short: str = ""
    superseded_by: str = ""
    kind: str = "document"
    extra: dict = field(default_factory=dict)


def read_manifest(folder: Path) -> dict[str, dict]:
    """manifest.json beside the documents (format of ../shared/corpus/manifest.json), by file name."""
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise LoadError(f"manifest.json 无法解析：{exc}") from exc
    return {e["file"]: e for e in entries if isinstance(e, dict) and "file" in e}


def decode_text(raw: bytes) -> str:
    """Decode text in UTF-8 (with or without BOM), UTF-16 or GB18030/GBK."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", errors="strict")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    half = max(len(raw) // 2, 1)
    if raw[1::2].count(0) > half // 3:
        return raw.decode("utf-16-le", errors="strict")
    if raw[0::2].count(0) > half // 3:
        return raw.decode("utf-16-be", errors="strict")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise LoadError("无法识别文本编码（支持 UTF-8、UTF-16、GB18030/GBK）")
    return str(best)


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    text = re.sub(r"[\u200b-\u200d\u2060]", "", text)
    lines = [ln.rstrip() for ln in text.split("\n")]
    return "\n".join(lines).strip()


def _check_textual(text: str) -> None:
    if not text.strip():
        raise LoadError("没有可提取的文字（空文件，或 PDF 为扫描件没有文字层）")
    sample = text[:20000]
    bad = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\t")
    if bad > len(sample) * 0.01:
        raise LoadError("内容不像文本（含大量控制字符），可能是二进制文件")


def _split_front_matter(text: str) -> tuple[dict, str]:
    m = re.match(r"^---\n(.*?)\n---\n?", text, re.S)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"文件头（front matter）不是合法的 YAML：{exc}") from exc
    return (meta if isinstance(meta, dict) else {}), text[m.end():]


def _read_docx(path: Path) -> str:
    if not zipfile.is_zipfile(path):
        raise LoadError("不是有效的 .docx 文件（不是 zip 格式，可能是改了扩展名的其他文件）")
    try:
        with zipfile.ZipFile(path) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_UNZIPPED_BYTES:
                raise LoadError("解压后体积异常巨大（疑似压缩炸弹），已拒绝")
            if "word/document.xml" not in zf.namelist():
                raise LoadError("不是有效的 .docx 文件（缺少 word/document.xml）")
    except zipfile.BadZipFile as exc:
        raise LoadError(f"不是有效的 .docx 文件：{exc}") from exc
    import docx

    try:
        d = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many types on malformed packages
        raise LoadError(f".docx 无法打开：{exc}") from exc
    lines: list[str] = []
    for block in d.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = docx.text.paragraph.Paragraph(block, d)
            text = para.text.strip()
            style = (para.style.name or "") if para.style is not None else ""
            level = re.match(r"(?:Heading|标题)\s*(\d)", style)
            if text:
                lines.append(("#" * int(level.group(1)) + " " + text) if level else text)
        elif tag == "tbl":
            table = docx.table.Table(block, d)
            for row in table.rows:
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    lines.append(" | ".join(cells))
    return "\n".join(lines)


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("PDF 已加密，请先解除密码保护")
        pages = [(page.extract_text() or "") for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"PDF 已损坏或不完整：{exc}") from exc
    except Exception as exc:  # pypdf surfaces crypto and parser errors of many kinds
        raise LoadError(f"PDF 无法读取：{type(exc).__name__}: {exc}") from exc
    text = "\n".join(pages)
    if not text.strip():
        raise LoadError("PDF 没有文字层（可能是扫描件），请先做文字识别（OCR）再导入")
    return text


def _read_html(raw: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(raw), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe"]):
        tag.decompose()
    for level in range(1, 7):
        for h in soup.find_all(f"h{level}"):
            h.string = "#" * level + " " + h.get_text(" ", strip=True)
    text = soup.get_text("\n")
    return "\n".join(ln.strip() for ln in text.split("\n") if ln.strip())


def _first_line_title(text: str) -> str:
    for line in text.split("\n"):
        line = line.strip().lstrip("#").strip()
        if line:
            return line.replace("《", "").replace("》", "")[:80]
    return ""


def load_file(path: Path, manifest: dict[str, dict] | None = None, max_bytes: int = 50 * 1024 * 1024) -> Document:
    """Read a supported file; raise LoadError with a one-line Chinese reason otherwise."""
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise LoadError(f"不支持的文件类型 {ext or '（无扩展名）'}（支持 {' '.join(SUPPORTED)}）")
    size = path.stat().st_size
    if size == 0:
        raise LoadError("文件为空")
    if size > max_bytes:
        raise LoadError(f"文件过大（{size / 1048576:.1f} MB，上限 {max_bytes / 1048576:.0f} MB）")
    raw = path.read_bytes()
    meta: dict = {}
    if ext in (".txt", ".md"):
        try:
            text = decode_text(raw)
        except UnicodeDecodeError as exc:
            raise LoadError(f"文本编码无法解码：{exc.reason}") from exc
        meta, text = _split_front_matter(_clean(text))
    elif ext == ".docx":
        text = _read_docx(path)
    elif ext == ".pdf":
        text = _read_pdf(path)
    else:
        text = _read_html(raw)
    text = _clean(text)
    _check_textual(text)

    entry = (manifest or {}).get(path.name, {})
    title = str(entry.get("title") or meta.get("title") or _first_line_title(text))
    status = str(entry.get("status") or meta.get("status") or "current")
    sig = json.dumps([entry, meta], ensure_ascii=False, sort_keys=True, default=str).encode()
    return Document(
        doc_id=path.name,
        source=path.name,
        path=str(path.resolve()),
        title=title,
        text=text,
        sha=hashlib.sha256(raw + sig).hexdigest(),
        status=status,
        effective=str(entry.get("effective") or meta.get("effective") or ""),
        short=str(entry.get("short") or meta.get("short") or ""),
        superseded_by=str(entry.get("superseded_by") or meta.get("superseded_by") or ""),
        kind=str(meta.get("kind") or ("card" if meta.get("sources") else "document")),
        extra={k: v for k, v in meta.items() if k in ("sources", "tags", "applies_to", "updated")},
    )
