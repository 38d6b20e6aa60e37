"""Read one file into a Document: format, encoding, title and version metadata."""
from __future__ import annotations

import codecs
import contextlib
import hashlib
import json
import logging
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from ..errors import LoadError
from ..settings import Settings, default

SUPPORTED = (".txt", ".md", ".docx", ".pdf", ".html", ".htm")
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a .docx inflating beyond this in all is treated as a zip bomb
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one document may cost, checked before the work it would cause: the file's size before
    it is read, each archive part's inflated size while it is inflated, the text's characters
    before it is split, the passages before they are embedded (ASSISTANT_MAX_* settings)."""

    max_bytes: int = int(default("max_file_mb") * MB)
    max_part_bytes: int = int(default("max_part_mb") * MB)
    max_chars: int = default("max_doc_chars")
    max_chunks: int = default("max_doc_chunks")

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(int(settings.max_file_mb * MB), int(settings.max_part_mb * MB), settings.max_doc_chars,
                   settings.max_doc_chunks)

    def check_chars(self, n: int) -> None:
        if n > self.max_chars:
            raise LoadError(f"正文超过 {self.max_chars:,} 字的单篇上限（ASSISTANT_MAX_DOC_CHARS），已拒绝；"
                            "请拆分成几个文件再导入")

    def check_chunks(self, n: int) -> None:
        if n > self.max_chunks:
            raise LoadError(f"切分后有 {n:,} 段，超过 {self.max_chunks:,} 段的单篇上限（ASSISTANT_MAX_DOC_CHUNKS），"
                            "已拒绝；请拆分成几个文件再导入")

    def part_error(self, name: str) -> LoadError:
        return LoadError(f"压缩包中的 {name[:60]} 解压后超过 {self.max_part_bytes / MB:g} MB 的单个部件上限"
                         "（ASSISTANT_MAX_PART_MB），已拒绝")


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
    imported_by: str = ""  # who imported it (a login name, 命令行（用户）…), set by the ingest
    imported_at: str = ""  # when: ISO date and time, set by the ingest


def read_manifest(folder: Path) -> dict[str, dict]:
    """manifest.json beside the documents (format of ../shared/corpus/manifest.json), by file name."""
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise LoadError(f"manifest.json 无法解析：{exc}") from exc
    if not isinstance(entries, list):
        raise LoadError("manifest.json 格式不对：应为列表，每项含 file 字段")
    return {e["file"]: e for e in entries if isinstance(e, dict) and isinstance(e.get("file"), str) and e["file"]}


# Characters that make up ordinary Chinese office text: CJK ideographs and punctuation,
# full-width forms, ASCII, Latin-1, general punctuation, symbols, box drawing, Greek/Cyrillic.
_PLAUSIBLE = re.compile(
    "[\u4e00-\u9fff\u3400-\u4dbf\u3000-\u303f\uff00-\uffef\u2000-\u206f\u2100-\u27bf"
    "\u2e80-\u2fdf\u3100-\u312f\u0020-\u007e\u00a0-\u00ff\u0370-\u04ff\n\r\t\ufeff]"
)


def _plausibility(text: str, sample: int = 20000) -> float:
    """Share of characters that ordinary Chinese or English text is made of (1.0 = all)."""
    head = text[:sample]
    return len(_PLAUSIBLE.findall(head)) / len(head) if head else 0.0


def _common(text: str, sample: int = 4000) -> float:
    """Share of characters that are printable ASCII or in GB2312 (the everyday hanzi)."""
    head = text[:sample]
    n = 0
    for ch in head:
        if " " <= ch <= "~" or ch in "\n\r\t":
            n += 1
        else:
            try:
                ch.encode("gb2312")
                n += 1
            except UnicodeEncodeError:
                pass
    return n / len(head) if head else 0.0


def _utf16_without_bom(raw: bytes) -> str | None:
    """The UTF-16 (LE or BE) reading of raw when it looks like real text, else None."""
    if len(raw) % 2:
        return None
    best, score = None, 0.0
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        plausible = _plausibility(text)
        if plausible >= 0.9 and plausible + _common(text) > score:
            best, score = text, plausible + _common(text)
    return best


def decode_text(raw: bytes) -> str:
    """Decode text in UTF-8 (with or without BOM), UTF-16 (with or without BOM) or GB18030/GBK.
    Raises LoadError (a UnicodeDecodeError never escapes)."""
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LoadError(f"文件以 UTF-8 标记开头，但第 {exc.start + 3} 字节处不是合法的 UTF-8") from exc
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) and len(raw) % 4 == 0:
        try:
            return raw.decode("utf-32")
        except UnicodeDecodeError:
            pass
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise LoadError("文件以 UTF-16 标记开头，但内容不完整或不是合法的 UTF-16") from exc
    try:
        text = raw.decode("utf-8")
        # UTF-16 of ASCII plus some hanzi can be valid UTF-8 too, full of NULs: prefer UTF-16 then.
        return (_utf16_without_bom(raw) or text) if "\x00" in text else text
    except UnicodeDecodeError:
        pass
    # UTF-16 without a BOM: Chinese text has few zero bytes, so judge by what the decoding yields.
    text16 = _utf16_without_bom(raw)
    if text16 is not None:
        return text16
    # UTF-8 with a stray or truncated byte or two: keep it rather than read it as GB18030 mojibake.
    text = raw.decode("utf-8", errors="replace")
    if text.count("\ufffd") <= max(2, len(text) // 2000) and _plausibility(text) >= 0.9:
        return text
    if b"\x00" in raw[:65536]:
        raise LoadError("内容不像文本（含二进制数据），可能是改了扩展名的其他文件")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best_match = from_bytes(raw).best()
    if best_match is None:
        raise LoadError("无法识别文本编码（支持 UTF-8、UTF-16、GB18030/GBK）")
    return str(best_match)


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
    odd = sum(1 for ch in sample if unicodedata.category(ch) in ("Co", "Cn", "Cs") or ch == "\ufffd")
    if odd > len(sample) * 0.05:
        raise LoadError("内容是乱码（大量无法识别的字符），可能是二进制文件或编码无法识别")


def _split_front_matter(text: str) -> tuple[dict, str]:
    m = re.match(r"^---\n(.*?)\n---\n?", text, re.S)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"文件头（front matter）不是合法的 YAML：{exc}") from exc
    return (meta if isinstance(meta, dict) else {}), text[m.end():]


def _read_docx(path: Path, limits: Limits) -> str:
    if not zipfile.is_zipfile(path):
        raise LoadError("不是有效的 .docx 文件（不是 zip 格式，可能是改了扩展名的其他文件）")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
                raise LoadError("解压后体积异常巨大（疑似压缩炸弹），已拒绝")
            if "word/document.xml" not in zf.namelist():
                raise LoadError("不是有效的 .docx 文件（缺少 word/document.xml）")
            for info in infos:
                if info.file_size > limits.max_part_bytes:
                    raise limits.part_error(info.filename)
            # The declared sizes may lie: inflate every part in bounded steps and count.
            inflated = 0
            for info in infos:
                part_size = 0
                with zf.open(info) as part:
                    while chunk := part.read(1 << 20):
                        inflated += len(chunk)
                        part_size += len(chunk)
                        if part_size > limits.max_part_bytes:
                            raise limits.part_error(info.filename)
                        if inflated > MAX_UNZIPPED_BYTES:
                            raise LoadError("解压后体积异常巨大（疑似压缩炸弹），已拒绝")
    except LoadError:
        raise
    except zlib.error as exc:
        raise LoadError(f"不是有效的 .docx 文件（压缩数据损坏）：{exc}") from exc
    except Exception as exc:  # BadZipFile, bad offsets (OSError), struct errors …: a damaged package
        raise LoadError(f"不是有效的 .docx 文件（已损坏）：{exc}") from exc
    import docx

    try:
        d = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many types on malformed packages
        raise LoadError(f".docx 无法打开：{exc}") from exc
    lines: list[str] = []
    chars = 0
    for block in d.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = docx.text.paragraph.Paragraph(block, d)
            text = para.text.strip()
            style = (para.style.name or "") if para.style is not None else ""
            level = re.match(r"(?:Heading|标题)\s*(\d)", style)
            if text:
                lines.append(("#" * int(level.group(1)) + " " + text) if level else text)
                chars += len(lines[-1])
        elif tag == "tbl":
            table = docx.table.Table(block, d)
            for row in table.rows:
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    lines.append(" | ".join(cells))
                    chars += len(lines[-1])
        limits.check_chars(chars)  # stop reading as soon as the text is over the limit
    return "\n".join(lines)


@contextlib.contextmanager
def _quiet(logger_name: str):
    """Keep a library's warnings ("EOF marker not found" …) off the terminal: the one-line
    error this module raises says what matters."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR + 10)
    try:
        yield
    finally:
        logger.setLevel(level)


def _read_pdf(path: Path, limits: Limits) -> str:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    try:
        with _quiet("pypdf"):
            reader = PdfReader(str(path))
            if reader.is_encrypted and not reader.decrypt(""):
                raise LoadError("PDF 已加密，请先解除密码保护")
            pages, chars = [], 0
            for page in reader.pages:  # stop reading as soon as the text is over the limit
                pages.append(page.extract_text() or "")
                chars += len(pages[-1])
                limits.check_chars(chars)
    except LoadError:
        raise
    except DependencyError as exc:  # AES-encrypted, even with an empty password, needs 'cryptography'
        raise LoadError(f"PDF 使用 AES 加密，本机缺少解密组件 cryptography，无法读取（{exc}）") from exc
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


def load_file(path: Path, manifest: dict[str, dict] | None = None, max_bytes: int | None = None,
              limits: Limits | None = None) -> Document:
    """Read a supported file; raise LoadError with a one-line Chinese reason otherwise (also when
    it is over one of the limits: each is checked before the work it would cause)."""
    limits = limits or Limits()
    if max_bytes is not None:
        limits = replace(limits, max_bytes=max_bytes)
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise LoadError(f"不支持的文件类型 {ext or '（无扩展名）'}（支持 {' '.join(SUPPORTED)}）")
    size = path.stat().st_size
    if size == 0:
        raise LoadError("文件为空")
    if size > limits.max_bytes:
        raise LoadError(f"文件过大（{size / MB:.1f} MB，上限 {limits.max_bytes / MB:g} MB）")
    if ext in (".html", ".htm") and size > limits.max_part_bytes:  # the parser's tree is many times the file
        raise LoadError(f"HTML 文件 {size / MB:.1f} MB，超过 {limits.max_part_bytes / MB:g} MB 的上限"
                        "（ASSISTANT_MAX_PART_MB），已拒绝")
    raw = path.read_bytes()
    meta: dict = {}
    if ext in (".txt", ".md"):
        try:
            text = decode_text(raw)
        except UnicodeDecodeError as exc:
            raise LoadError(f"文本编码无法解码：{exc.reason}") from exc
        meta, text = _split_front_matter(_clean(text))
    elif ext == ".docx":
        text = _read_docx(path, limits)
    elif ext == ".pdf":
        text = _read_pdf(path, limits)
    else:
        text = _read_html(raw)
    text = _clean(text)
    _check_textual(text)
    limits.check_chars(len(text))

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
