"""Bad input, generated here: every odd file gets a one-line error naming it or a correct ingest.

For each case the batch goes on, the CLI exits non-zero when anything failed and prints the
summary, and the knowledge base holds exactly what it held for a file that failed (chunk ids
compared before and after, including a failed re-ingest of a file that was good before).

Knowledge bases here are tiny (a few short files) so the real embedder costs well under a
second; the one test that needs a 200,000-character line uses a deterministic stand-in.
"""
from __future__ import annotations

import codecs
import io
import json
import os
import random
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import LoadError
from assistant.knowledge import Knowledge
from assistant.qa.index import Store
from assistant.qa.ingest import ingest
from assistant.qa.load import MAX_UNZIPPED_BYTES, decode_text, load_file
from assistant.qa.split import MAX_CHARS
from assistant.root import App
from assistant.settings import Settings

REPO = Path(__file__).resolve().parents[1]
PHRASINGS = Knowledge.bundled().phrasings()

# A short regulation: three articles, so it is split article by article.
RULES = (
    "支部工作规则\n"
    "第一条 党支部是党的基础组织，担负直接教育、管理、监督党员的职责。\n"
    "第二条 党员应当按月交纳党费，因故未交的应当及时补交。\n"
    "第三条 支部委员会一般每月召开一次会议，研究部署支部工作。\n"
)
DOCX_TEXT = "会议记录要写清时间、地点、出席人和议题。"


# --------------------------------------------------------------------------- generators

def make_pdf(lines: list[str], *, cid: bool = False, pages: int = 1) -> bytes:
    """A PDF with a text layer; cid=True draws Chinese with reportlab's built-in STSong-Light."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    if cid:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    for _ in range(pages):
        c.setFont("STSong-Light" if cid else "Helvetica", 12)
        y = 800
        for line in lines:
            c.drawString(50, y, line)
            y -= 20
        c.showPage()
    c.save()
    return buf.getvalue()


def make_image_pdf() -> bytes:
    """A 'scanned' page: one picture, no text layer at all."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(img).rectangle((20, 20, 380, 180), outline="black", width=5)
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawImage(ImageReader(img), 50, 500, width=400, height=200)
    c.showPage()
    c.save()
    return buf.getvalue()


def make_blank_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(100, 100, 200, 200, fill=1)  # vector drawing only
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypt_pdf(raw: bytes, user: str = "secret", owner: str = "owner") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(raw)))
    # RC4-128 needs no extra crypto package (AES would need 'cryptography', not installed here)
    writer.encrypt(user, owner_password=owner, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def en_pdf() -> bytes:
    return make_pdf(["Branch Work Rules", "Article 1 The branch committee meets every month.",
                     "Article 2 Members pay their dues every month."])


def make_docx(path: Path) -> Path:
    """A real .docx with two heading levels, paragraphs and a table."""
    import docx

    d = docx.Document()
    d.add_heading("支部工作手册", 1)
    d.add_heading("会议记录", 2)
    d.add_paragraph(DOCX_TEXT)
    d.add_heading("党费收缴", 2)
    d.add_paragraph("党费由党小组长每月收齐后交支部组织委员。")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "月份", "金额"
    table.cell(1, 0).text, table.cell(1, 1).text = "一月", "二十元"
    d.save(path)
    return path


def docx_bytes() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("正文")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _patch_declared_size(raw: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size an entry declares in its local and central headers."""
    data = bytearray(raw)
    target = name.encode()
    for sig, size_at, name_len_at, header in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        i = data.find(sig)
        while i >= 0:
            n = struct.unpack_from("<H", data, i + name_len_at)[0]
            if bytes(data[i + header:i + header + n]) == target:
                struct.pack_into("<I", data, i + size_at, size)
            i = data.find(sig, i + 4)
    return bytes(data)


def zip_bomb_declared() -> bytes:
    """A .docx whose entry declares ~4 GB uncompressed (the data itself is small)."""
    return _patch_declared_size(docx_bytes(), "word/document.xml", 0xFFFFFFF0)


def zip_bomb_real(inflated: int = MAX_UNZIPPED_BYTES + (8 << 20)) -> bytes:
    """A .docx that honestly inflates past the limit (zeros compress ~1000:1)."""
    src = zipfile.ZipFile(io.BytesIO(docx_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, src.read(info.filename))
        with z.open("word/media/padding.bin", "w", force_zip64=True) as w:
            block = bytes(1 << 20)
            for _ in range(inflated >> 20):
                w.write(block)
    return out.getvalue()


def zip_bomb_lying(inflated: int = 150 << 20) -> bytes:
    """A .docx whose document.xml declares 5 kB but inflates to `inflated` bytes: a check of
    the declared sizes alone lets it through, and zipfile.read() inflates it in one piece."""
    src = zipfile.ZipFile(io.BytesIO(docx_bytes()))
    head, tail = src.read("word/document.xml").split(b"<w:body>", 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                z.writestr(info, src.read(info.filename))
        with z.open("word/document.xml", "w") as w:
            w.write(head + b"<w:body>")
            block = b" " * (1 << 20)
            for _ in range(inflated >> 20):
                w.write(block)
            w.write(tail)
    return _patch_declared_size(out.getvalue(), "word/document.xml", 5000)


# --------------------------------------------------------------------------- helpers

def run_cli(command: str, *args: str, data_dir: Path, env: dict | None = None, cwd: Path = REPO,
            timeout: float = 300):
    """python -m assistant COMMAND --data-dir DIR ARGS… (options first, so ARGS may hold "--")."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", command, "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )


def kb_ids(store: Store) -> dict[str, list[str]]:
    """doc_id → its chunk ids, straight from Chroma."""
    got = store.collection.get(include=["metadatas"])
    out: dict[str, list[str]] = {}
    for cid, meta in zip(got["ids"], got["metadatas"]):
        out.setdefault(meta["doc_id"], []).append(cid)
    return {k: sorted(v) for k, v in out.items()}


def assert_consistent(store: Store) -> None:
    """Dense (Chroma) and lexical indexes hold the same chunk ids; the persisted one too."""
    from assistant.qa.lexical import LexicalIndex

    store.refresh_lexical()
    snap = store.snapshot(max_age=0)
    ids = set(store.collection.get(include=[])["ids"])
    assert set(snap.ids) == ids == set(snap.lexical.ids)
    assert len(snap.ids) == store.collection.count() == snap.matrix.shape[0]
    gen, tokens = LexicalIndex.load_tokens(store.lexical_dir)
    assert gen == store.generation() and set(tokens) == ids


def chunk_texts(store: Store, doc_id: str) -> list[str]:
    got = store.collection.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
    pairs = sorted(zip(got["metadatas"], got["documents"]), key=lambda p: p[0]["seq"])
    return [t for _, t in pairs]


class BigramEmbedder:
    """Deterministic stand-in for the model (bag of character bigrams), for sizes the real
    model would take minutes over. Optionally fails on texts containing a marker."""

    key = "bigram"

    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on = fail_on
        self.calls = 0

    def passages(self, texts):
        self.calls += len(texts)
        if self.fail_on and any(self.fail_on in t for t in texts):
            raise ConnectionError("embedding endpoint unreachable")
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for a, b in zip(t, t[1:]):
                out[i, zlib.crc32((a + b).encode()) % 64] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def query(self, text):
        return self.passages([text])[0]


@pytest.fixture(scope="module")
def real_kb_factory():
    """make(data_dir, **settings) → an App with the real model over DATA_DIR (Settings defaults, not the env)."""
    def make(data_dir: Path, **kw) -> App:
        return App(Settings(data_dir=data_dir, **kw))
    return make


# --------------------------------------------------------------------------- the cases

def _bad_cases(tmp: Path) -> dict[str, tuple[Path, str]]:
    """file name → (path, a word its one-line error must contain)."""
    rng = random.Random(7)
    good_pdf = make_pdf(RULES.split("\n"), cid=True)
    cases: dict[str, tuple[bytes, str]] = {
        "损坏.pdf": (b"%PDF-1.4\n" + bytes(rng.randrange(256) for _ in range(4000)), "PDF"),
        "截断.pdf": (good_pdf[: len(good_pdf) // 2], "PDF"),
        "加密.pdf": (encrypt_pdf(en_pdf()), "加密"),
        "扫描件.pdf": (make_image_pdf(), "文字层"),
        "空白页.pdf": (make_blank_pdf(), "文字层"),
        "空文件.txt": (b"", "空"),
        "空文件.pdf": (b"", "空"),
        "未知类型.xyz": ("第一条 不该导入。".encode(), "不支持"),
        "没有扩展名": ("第一条 不该导入。".encode(), "不支持"),
        "改名的二进制.docx": (bytes(rng.randrange(256) for _ in range(3000)), "docx"),
        "其实是PDF.docx": (en_pdf(), "docx"),
        "其实是docx.pdf": (docx_bytes(), "PDF"),
        "缺正文.docx": (_zip_without_document(), "document.xml"),
        "声明炸弹.docx": (zip_bomb_declared(), "压缩炸弹"),
        "二进制.txt": (b"\x7fELF\x02\x01\x01" + bytes(rng.randrange(256) for _ in range(3000)), "二进制"),
        "乱码.txt": (bytes(rng.randrange(0xA1, 0xFF) for _ in range(3000)), "乱码"),
        "半截UTF16.txt": (codecs.BOM_UTF16_LE + RULES.encode("utf-16-le")[:-1], "UTF-16"),
        "坏BOM.html": (codecs.BOM_UTF8 + "<p>支部</p>".encode() + b"\xff\xfe\xfd", "UTF-8"),
        "只有脚本.html": (b"<html><script>var a = 1;</script><style>p{}</style></html>", "文字"),
        "坏文件头.md": ("---\ntitle: [未闭合\n  tags: x\n---\n正文\n".encode(), "front matter"),
        "超大.txt": (("超大文件。" * 10000).encode(), "过大"),  # 150 kB against a 0.1 MB limit
    }
    out = {}
    for name, (data, why) in cases.items():
        path = tmp / name
        path.write_bytes(data)
        out[name] = (path, why)
    return out


def _zip_without_document() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/other.xml", "<x/>")
    return buf.getvalue()


LIMIT_MB = 0.1  # 100 kB: "超大.txt" trips it, a python-docx file (~37 kB) does not


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    return _bad_cases(tmp_path_factory.mktemp("bad"))


def test_each_bad_file_gets_a_one_line_reason(bad_files) -> None:
    """load_file refuses every bad case with a LoadError: one line, in Chinese, with the reason."""
    for name, (path, why) in bad_files.items():
        with pytest.raises(LoadError) as err:
            load_file(path, {}, max_bytes=int(LIMIT_MB * 1024 * 1024))
        msg = str(err.value)
        assert why in msg, (name, msg)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in msg), (name, msg)


def test_batch_goes_on_and_kb_is_unchanged_for_failed_files(tmp_path: Path, bad_files, real_kb_factory) -> None:
    """One batch of every bad case plus good files: the good ones ingest, each bad one fails
    with a one-line reason naming it, and what the KB held is untouched — including a file
    that was good before and now fails (its old version stays, chunk ids identical)."""
    good = tmp_path / "good"
    good.mkdir()
    (good / "规则.txt").write_text(RULES, encoding="utf-8")
    (good / "手册.docx").write_bytes(make_docx(tmp_path / "x.docx").read_bytes())
    kb = real_kb_factory(tmp_path / "kb", max_file_mb=LIMIT_MB)
    store = kb.store
    first = kb.ingest([good])
    assert sorted(first.added) == ["手册.docx", "规则.txt"] and not first.failed
    before = kb_ids(store)
    count_before = store.collection.count()

    # now the same names, broken: a failed re-ingest of a previously good file
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "规则.txt").write_bytes(b"")
    (broken / "手册.docx").write_bytes(b"PK\x03\x04 not really a zip")
    new = tmp_path / "new"
    new.mkdir()
    (new / "新增.txt").write_text("新增文件\n" + RULES.replace("支部", "党小组"), encoding="utf-8")
    events: list[tuple[str, str]] = []
    batch = [p for p, _ in bad_files.values()] + [broken / "规则.txt", broken / "手册.docx", new / "新增.txt"]
    report = kb.ingest(batch, on_file=lambda n, s: events.append((n, s)))

    failed = dict(report.failed)
    assert set(failed) == set(bad_files) | {"规则.txt", "手册.docx"}, report.failed
    for name, reason in report.failed:
        assert "\n" not in reason and reason.strip(), (name, reason)
    for name, (_, why) in bad_files.items():
        assert why in failed[name], (name, failed[name])
    assert report.added == ["新增.txt"]
    assert ("新增.txt", "已导入") in events and ("规则.txt", "失败：" + failed["规则.txt"]) in events

    after = kb_ids(store)
    assert after.pop("新增.txt")
    assert after == before  # exactly the same chunks for everything that failed
    assert store.collection.count() == count_before + len(kb_ids(store)["新增.txt"])
    assert not set(after) & (set(bad_files) - {"规则.txt", "手册.docx"})
    assert all(d.complete for d in store.documents())
    assert_consistent(store)


def test_cli_exit_status_summary_and_unchanged_kb(tmp_path: Path) -> None:
    """Through the CLI: failures are one line each on stderr naming the file, the summary is
    printed, the exit status is non-zero, no traceback, and the KB keeps its old version."""
    data = tmp_path / "kb"
    src = tmp_path / "src"
    src.mkdir()
    (src / "规则.txt").write_text(RULES, encoding="utf-8")
    ok = run_cli("ingest", str(src / "规则.txt"), "--quiet", data_dir=data)
    assert ok.returncode == 0, ok.stderr
    listed = json.loads(run_cli("list", "--json", data_dir=data).stdout)
    assert [(d["doc_id"], d["chunks"]) for d in listed] == [("规则.txt", 3)]

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "规则.txt").write_bytes(b"\x00\x01\x02binary\x00" * 50)  # the good file, now broken
    (bad / "损坏.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<\n garbage")
    (bad / "加密.pdf").write_bytes(encrypt_pdf(en_pdf()))
    (bad / "空.txt").write_bytes(b"")
    (bad / "大.md").write_text("大文件。" * 3000, encoding="utf-8")
    (bad / "图.png.docx").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(500))
    (bad / "好.txt").write_text("好文件\n" + RULES.replace("支部", "机关"), encoding="utf-8")
    r = run_cli("ingest", str(bad), data_dir=data, env={"ASSISTANT_MAX_FILE_MB": "0.02"})
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("失败 ")]
    named = {ln.split("：", 1)[0][3:] for ln in lines}
    assert named == {"规则.txt", "损坏.pdf", "加密.pdf", "空.txt", "大.md", "图.png.docx"}, r.stderr
    assert all(len(ln.split("：", 1)) == 2 and ln.split("：", 1)[1].strip() for ln in lines)
    assert "加密" in next(ln for ln in lines if "加密.pdf" in ln)
    assert "过大" in next(ln for ln in lines if "大.md" in ln)
    assert "新增 1 篇" in r.stdout and "失败 6 篇" in r.stdout
    listed = {d["doc_id"]: d for d in json.loads(run_cli("list", "--json", data_dir=data).stdout)}
    assert set(listed) == {"规则.txt", "好.txt"}
    assert listed["规则.txt"]["chunks"] == 3 and listed["规则.txt"]["complete"]
    hit = json.loads(run_cli("search", "党费没交怎么办", "--json", "--k", "20", data_dir=data).stdout)
    assert any(h["source"] == "规则.txt" and "补交" in h["text"] for h in hit["results"])


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_text_encodings_decode_to_the_right_chinese(tmp_path: Path, encoding: str) -> None:
    """GBK, GB18030 (with a four-byte character), UTF-16 with BOM and without (LE and BE), and
    UTF-8 with BOM all decode exactly; no BOM or mojibake reaches the text."""
    text = RULES + ("第四条 生僻字𠀀与欧元符号€也要保留。\n" if encoding not in ("gbk",) else "")
    path = tmp_path / f"{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    doc = load_file(path)
    assert doc.text == text.strip()
    assert doc.title == "支部工作规则"


def test_utf16_without_bom_for_pure_chinese_lines() -> None:
    """UTF-16 without BOM carries almost no zero bytes when the text is all hanzi; such lines
    (and GBK/GB18030 ones) must still come out right, not as GB18030 mojibake."""
    lines = [
        "第十二条 党支部委员会是党支部日常工作的领导机构。",
        "各级党政机关、国有企事业单位和其他组织应当按照要求制发材料。",
        "对发展党员工作情况，市（地、州、盟）、县（市、区、旗）党委每年进行检查。",
        "title: 不合格党员处置",
        "## 怎么做",
    ]
    for line in lines:
        for enc in ("utf-16-le", "utf-16-be", "gbk", "gb18030", "utf-8"):
            assert decode_text(line.encode(enc)) == line, (enc, line)


def test_encodings_ingest_and_are_searchable(tmp_path: Path, real_kb_factory) -> None:
    """The decoded files go into the KB with their articles, and a search finds them."""
    folder = tmp_path / "enc"
    folder.mkdir()
    marks = {"gbk": "甲", "gb18030": "乙", "utf-16": "丙", "utf-16-le": "丁", "utf-8-sig": "戊"}
    for enc, mark in marks.items():
        body = RULES.replace("支部工作规则", f"{mark}单位支部工作规则")
        (folder / f"{enc}.txt").write_bytes(body.encode(enc))
    kb = real_kb_factory(tmp_path / "kb")
    store = kb.store
    report = kb.ingest([folder])
    assert not report.failed and len(report.added) == len(marks)
    for enc, mark in marks.items():
        texts = chunk_texts(store, f"{enc}.txt")
        assert texts == [
            "第一条 党支部是党的基础组织，担负直接教育、管理、监督党员的职责。",
            "第二条 党员应当按月交纳党费，因故未交的应当及时补交。",
            "第三条 支部委员会一般每月召开一次会议，研究部署支部工作。",
        ], enc
        titles = {m["title"] for m in store.collection.get(where={"doc_id": f"{enc}.txt"})["metadatas"]}
        assert titles == {f"{mark}单位支部工作规则"}
    assert_consistent(store)


def test_chinese_pdf_with_cid_font(tmp_path: Path, real_kb_factory) -> None:
    """A Chinese PDF drawn with reportlab's STSong-Light: pypdf extracts the CID text, and the
    regulation splits article by article. (An English text layer is checked as well.)"""
    (tmp_path / "条例.pdf").write_bytes(make_pdf(RULES.split("\n"), cid=True))
    (tmp_path / "rules.pdf").write_bytes(en_pdf())
    doc = load_file(tmp_path / "条例.pdf")
    assert "第二条 党员应当按月交纳党费，因故未交的应当及时补交。" in doc.text
    kb = real_kb_factory(tmp_path / "kb")
    store = kb.store
    report = kb.ingest([tmp_path / "条例.pdf", tmp_path / "rules.pdf"])
    assert not report.failed, report.failed
    metas = store.collection.get(where={"doc_id": "条例.pdf"})["metadatas"]
    assert {m["article"] for m in metas} >= {"第一条", "第二条", "第三条"}
    assert "Members pay their dues every month." in " ".join(chunk_texts(store, "rules.pdf"))


def test_pdf_encrypted_with_empty_user_password_opens(tmp_path: Path) -> None:
    """Owner-password-only PDFs (print/copy restrictions) open without a password: ingest them."""
    path = tmp_path / "受限.pdf"
    path.write_bytes(encrypt_pdf(en_pdf(), user=""))
    assert "Branch Work Rules" in load_file(path).text


def test_pdf_needing_a_missing_crypto_package_says_so(tmp_path: Path, monkeypatch) -> None:
    """AES-encrypted PDFs (often owner-password-only) need the 'cryptography' package; without
    it pypdf raises DependencyError, which must become a one-line Chinese reason."""
    import pypdf
    from pypdf.errors import DependencyError

    def reader(*args, **kwargs):
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(pypdf, "PdfReader", reader)
    path = tmp_path / "aes.pdf"
    path.write_bytes(en_pdf())
    with pytest.raises(LoadError, match="AES 加密.*cryptography"):
        load_file(path)


def test_pdf_damage_never_escapes_as_another_exception(tmp_path: Path) -> None:
    """Truncations, flipped bytes and cut-outs of a valid PDF and .docx: each either loads or
    raises LoadError with a one-line message; nothing else escapes, no partial multi-page text."""
    rng = random.Random(3)
    samples = {".pdf": make_pdf(["第一条 甲。", "第二条 乙。"], cid=True, pages=3), ".docx": docx_bytes()}
    path = tmp_path / "x"
    for ext, raw in samples.items():
        target = path.with_suffix(ext)
        for k in range(60):
            data = bytearray(raw)
            if k % 3 == 0:
                data = data[: rng.randrange(1, len(data))]
            elif k % 3 == 1:
                for _ in range(rng.randint(1, 8)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
            else:
                i = rng.randrange(len(data))
                del data[i:i + rng.randint(1, 200)]
            target.write_bytes(bytes(data))
            try:
                doc = load_file(target)
            except LoadError as exc:
                assert "\n" not in str(exc), str(exc)
                continue
            if ext == ".pdf" and k % 3 == 0:  # a truncated multi-page PDF never yields part of itself
                assert doc.text.count("第一条") in (0, 3), doc.text


def test_docx_with_headings_keeps_structure(tmp_path: Path, real_kb_factory) -> None:
    path = make_docx(tmp_path / "手册.docx")
    doc = load_file(path)
    assert doc.title == "支部工作手册"
    assert "## 会议记录" in doc.text and "月份 | 金额" in doc.text
    kb = real_kb_factory(tmp_path / "kb")
    store = kb.store
    assert kb.ingest([path]).added == ["手册.docx"]
    got = store.collection.get(where={"doc_id": "手册.docx"}, include=["documents", "metadatas"])
    by_text = {t: m["chapter"] for t, m in zip(got["documents"], got["metadatas"])}
    assert any(DOCX_TEXT in t and ch == "会议记录" for t, ch in by_text.items()), by_text
    assert any("党小组长" in t and ch == "党费收缴" for t, ch in by_text.items()), by_text


def test_docx_zip_bombs_are_refused_cheaply(tmp_path: Path) -> None:
    """Declared-huge, honestly huge and lying (declares 5 kB, inflates to 150 MB) packages are
    refused; the lying one must not be inflated in one piece (peak memory stays small)."""
    (tmp_path / "declared.docx").write_bytes(zip_bomb_declared())
    (tmp_path / "real.docx").write_bytes(zip_bomb_real())
    (tmp_path / "lying.docx").write_bytes(zip_bomb_lying())
    for name in ("declared.docx", "real.docx"):
        with pytest.raises(LoadError, match="压缩炸弹"):
            load_file(tmp_path / name)
    probe = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from assistant.qa.load import load_file\nfrom assistant.errors import LoadError\n"
        "import docx, pypdf, bs4, yaml\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    load_file(Path(sys.argv[1])); print('LOADED')\n"
        "except LoadError as exc:\n"
        "    print('ERR', exc)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)\n"
    )
    r = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "lying.docx")], capture_output=True,
                       text=True, cwd=REPO, timeout=120)
    out = r.stdout.splitlines()
    assert r.returncode == 0 and out[0].startswith("ERR"), (r.stdout, r.stderr)
    assert int(out[-1]) < 64, f"peak memory grew by {out[-1]} MB while refusing a lying zip"


def test_html_script_and_style_are_not_indexed(tmp_path: Path, real_kb_factory) -> None:
    html = (
        "<!doctype html><html><head><meta charset='utf-8'><title>支部通知</title>"
        "<script>var token = 'SCRIPTMARK'; document.write('脚本里的党费口令');</script>"
        "<style>.x{content:'STYLEMARK'}</style></head><body onload=\"alert('ONLOADMARK')\">"
        "<h1>关于开展主题党日的通知</h1><p>本月主题党日安排在周五下午，地点在三楼会议室。</p>"
        "<noscript>NOSCRIPTMARK</noscript><script type='module'>import('SCRIPTMARK2')</script>"
        "</body></html>"
    )
    path = tmp_path / "通知.html"
    path.write_text(html, encoding="utf-8")
    kb = real_kb_factory(tmp_path / "kb")
    store = kb.store
    assert kb.ingest([path]).added == ["通知.html"]
    texts = " ".join(chunk_texts(store, "通知.html"))
    assert "主题党日安排在周五下午" in texts
    for mark in ("SCRIPTMARK", "STYLEMARK", "ONLOADMARK", "NOSCRIPTMARK", "口令", "alert", "document.write"):
        assert mark not in texts, mark
    tokens = {t for toks in store.snapshot(max_age=0).lexical.tokens for t in toks}
    assert not {"scriptmark", "口令", "stylemark"} & tokens


def test_file_names_with_spaces_dotdot_and_shell_metacharacters(tmp_path: Path) -> None:
    """Odd names go in under their exact names through the CLI; nothing is executed and
    nothing is written outside the data dir."""
    src = tmp_path / "src dir"
    (src / "sub").mkdir(parents=True)
    names = [
        "支部 会议 记录.txt",
        "a;b&c|d$(touch PWNED)`touch PWNED2`.txt",
        "引号'单\"双 $HOME *.txt",
        "-以横线开头.txt",
        "..两个点开头.txt",
    ]
    for n, name in enumerate(names):
        (src / name).write_text(f"文件{n}\n第{n}份材料：支部要按时开展组织生活。", encoding="utf-8")
    (src / "sub" / "下级.txt").write_text("下级\n用../访问上一级目录的文件。", encoding="utf-8")
    data = tmp_path / "kb"
    # relative names from inside the folder; "--" ends the options so a leading "-" is a name
    args = names[:3] + ["--", names[3], f"sub/../{names[4]}", "sub/../sub/下级.txt"]
    outside_before = set(os.listdir(tmp_path))
    inside_before = sorted(p.name for p in src.rglob("*"))
    r = run_cli("ingest", "--quiet", *args, data_dir=data, cwd=src)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "新增 6 篇" in r.stdout
    listed = {d["doc_id"] for d in json.loads(run_cli("list", "--json", data_dir=data).stdout)}
    assert listed == set(names) | {"下级.txt"}
    assert set(os.listdir(tmp_path)) - outside_before == {"kb"}
    assert sorted(p.name for p in src.rglob("*")) == inside_before
    assert not list(tmp_path.rglob("PWNED*")) and not (REPO / "PWNED").exists()
    hit = json.loads(run_cli("search", "按时开展组织生活", "--json", data_dir=data).stdout)
    assert {h["source"] for h in hit["results"]} & set(names)


def test_manifest_cannot_pull_files_from_outside_its_folder(tmp_path: Path, real_kb_factory) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (tmp_path / "outside.txt").write_text("外部\n不应被导入的外部文件。", encoding="utf-8")
    (folder / "inside.txt").write_text("内部\n" + RULES, encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps([
        {"file": "inside.txt", "title": "内部规则"},
        {"file": "../outside.txt", "title": "越界"},
        {"file": str(tmp_path / "outside.txt"), "title": "绝对路径"},
        {"file": 5}, "not an entry",
    ], ensure_ascii=False), encoding="utf-8")
    kb = real_kb_factory(tmp_path / "kb")
    store = kb.store
    report = kb.ingest([folder])
    assert report.added == ["inside.txt"] and not report.failed
    assert set(kb_ids(store)) == {"inside.txt"}


def test_broken_manifest_fails_its_files_not_the_batch(tmp_path: Path, real_kb_factory) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "manifest.json").write_text("[{\"file\": \"x.txt\",", encoding="utf-8")
    (a / "x.txt").write_text(RULES, encoding="utf-8")
    (b / "y.txt").write_text("乙\n" + RULES, encoding="utf-8")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "manifest.json").write_text("42", encoding="utf-8")
    (tmp_path / "c" / "z.txt").write_text("丙\n" + RULES, encoding="utf-8")
    kb = real_kb_factory(tmp_path / "kb")
    store = kb.store
    report = kb.ingest([a, b, tmp_path / "c"])
    assert report.added == ["y.txt"]
    failed = dict(report.failed)
    assert set(failed) == {"x.txt", "z.txt"} and all("manifest.json" in r for r in failed.values())


def test_same_file_name_twice_in_one_batch(tmp_path: Path, real_kb_factory) -> None:
    """Documents are keyed by file name: the second one of a batch fails instead of silently
    replacing the first one's chunks while the report says both were added."""
    for folder, mark in (("一", "甲"), ("二", "乙")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "通知.txt").write_text(f"{mark}通知\n{mark}单位本周五开展主题党日。", encoding="utf-8")
    kb = real_kb_factory(tmp_path / "kb")
    store = kb.store
    report = kb.ingest([tmp_path / "一", tmp_path / "二"])
    assert report.added == ["通知.txt"]
    assert [n for n, _ in report.failed] == ["通知.txt"] and "同名" in report.failed[0][1]
    assert "甲单位" in " ".join(chunk_texts(store, "通知.txt"))


def test_very_long_single_line(tmp_path: Path) -> None:
    """One 200,000-character line (no line breaks; a second file with no punctuation at all)
    splits into bounded chunks that together keep every character."""
    sentence = "党支部应当严格落实三会一课制度，认真开展组织生活。"
    line = (sentence * (200_000 // len(sentence) + 1))[:200_000]
    (tmp_path / "长行.txt").write_text(line, encoding="utf-8")
    (tmp_path / "无标点.md").write_text("党" * 200_000, encoding="utf-8")
    store = Store(Settings(data_dir=tmp_path / "kb"), BigramEmbedder())
    report = ingest([tmp_path / "长行.txt", tmp_path / "无标点.md"], store, PHRASINGS, progress=False)
    assert not report.failed and len(report.added) == 2
    for name, original in (("长行.txt", line), ("无标点.md", "党" * 200_000)):
        texts = chunk_texts(store, name)
        assert all(0 < len(t) <= MAX_CHARS for t in texts), max(map(len, texts))
        assert "".join(t.replace("\n", "") for t in texts) == original
        meta = store.collection.get(where={"doc_id": name}, limit=1)["metadatas"][0]
        assert len(meta["title"]) <= 80
    assert_consistent(store)


def test_full_width_digits_are_kept_and_match_half_width_queries(tmp_path: Path, real_kb_factory) -> None:
    (tmp_path / "党费.txt").write_text(
        "党费标准\n第一条 月工资收入在３０００元以下（含３０００元）者，交纳月工资收入的０．５％。\n"
        "第二条 离退休干部月收入在５０００元以上者，交纳１％。\n第三条 学生党员每月交纳０．２元。\n",
        encoding="utf-8")
    (tmp_path / "会议.txt").write_text(
        "会议规则\n第一条 支部委员会每月召开1次会议。\n第二条 支部党员大会每季度召开1次。\n"
        "第三条 党小组会一般每月召开1次。\n", encoding="utf-8")
    kb = real_kb_factory(tmp_path / "kb")
    store = kb.store
    assert not kb.ingest([tmp_path]).failed
    assert "３０００元以下" in " ".join(chunk_texts(store, "党费.txt"))
    retriever = kb.retriever
    top = retriever.search("工资3000元以下党费交多少", k=3, mode="bm25").results
    assert top and top[0].source == "党费.txt" and top[0].article == "第一条"
    top = retriever.search("党小组会每月召开１次吗", k=3, mode="bm25").results
    assert top and top[0].source == "会议.txt" and top[0].article == "第三条"


def test_size_limit_default_and_setting(tmp_path: Path, real_kb_factory) -> None:
    """The default limit is 50 MB (a sparse 51 MB file is refused without being read);
    Settings(max_file_mb=…) lowers it."""
    big = tmp_path / "大.txt"
    with open(big, "wb") as fh:
        fh.truncate(51 * 1024 * 1024)
    small = tmp_path / "小.txt"
    small.write_text(RULES, encoding="utf-8")
    kb = real_kb_factory(tmp_path / "kb")
    store = kb.store
    report = kb.ingest([big, small])
    assert report.added == ["小.txt"]
    assert report.failed[0][0] == "大.txt" and "过大" in report.failed[0][1] and "50 MB" in report.failed[0][1]
    tight_kb = real_kb_factory(tmp_path / "kb2", max_file_mb=0.0001)
    tight = tight_kb.store
    report = tight_kb.ingest([small])
    assert [n for n, _ in report.failed] == ["小.txt"] and "过大" in report.failed[0][1]
    assert tight.collection.count() == 0


def test_embedding_failure_fails_that_document_only(tmp_path: Path) -> None:
    """The model (or an embedding endpoint) failing on one document: it is reported, the KB
    keeps that document's old version, and the rest of the batch goes in."""
    (tmp_path / "a.txt").write_text(RULES, encoding="utf-8")
    (tmp_path / "b.txt").write_text("乙\n" + RULES, encoding="utf-8")
    store = Store(Settings(data_dir=tmp_path / "kb"), BigramEmbedder())
    ingest([tmp_path / "a.txt"], store, PHRASINGS, progress=False)
    before = kb_ids(store)
    (tmp_path / "a.txt").write_text(RULES + "第四条 BOOM 新增条款。\n", encoding="utf-8")
    store.embedder = BigramEmbedder(fail_on="BOOM")
    report = ingest([tmp_path / "a.txt", tmp_path / "b.txt"], store, PHRASINGS, progress=False)
    assert report.added == ["b.txt"]
    assert report.failed and report.failed[0][0] == "a.txt" and "向量" in report.failed[0][1]
    after = kb_ids(store)
    assert after.pop("b.txt") and after == before
    assert_consistent(store)


def test_failed_write_midway_leaves_no_partial_chunks(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(RULES, encoding="utf-8")
    store = Store(Settings(data_dir=tmp_path / "kb"), BigramEmbedder())
    ingest([tmp_path / "a.txt"], store, PHRASINGS, progress=False)
    before = kb_ids(store)
    (tmp_path / "a.txt").write_text(RULES.replace("党员", "正式党员"), encoding="utf-8")
    store.client.get_max_batch_size = lambda: 1  # one chunk per upsert
    real_upsert, calls = store.collection.upsert, []

    def flaky(**kw):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_upsert(**kw)

    store.collection.upsert = flaky
    report = ingest([tmp_path / "a.txt"], store, PHRASINGS, progress=False)
    assert [n for n, _ in report.failed] == ["a.txt"]
    assert kb_ids(store) == before


def test_a_new_version_leaves_nothing_of_the_old_one_that_the_filtered_delete_missed(tmp_path: Path, real_kb_factory) -> None:
    """If Chroma's delete by filter leaves a chunk of the old version behind (once seen after a
    crashed import), the commit deletes it by id: the KB holds exactly the new version."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "规则.txt").write_text(RULES, encoding="utf-8")
    kb = real_kb_factory(tmp_path / "kb")
    assert kb.ingest([src]).added == ["规则.txt"]
    store = kb.store
    old = set(kb_ids(store)["规则.txt"])
    real_delete = store.collection.delete
    missed: list[str] = []

    def delete_missing_one(ids=None, where=None):
        if where is None:
            return real_delete(ids=ids)
        matched = store.collection.get(where=where, include=[])["ids"]
        missed.append(matched[0])
        return real_delete(ids=matched[1:]) if matched[1:] else None

    store.collection.delete = delete_missing_one
    (src / "规则.txt").write_text(RULES.replace("每月", "每季度"), encoding="utf-8")
    assert kb.ingest([src]).updated == ["规则.txt"]
    assert missed and missed[0] in old
    now = set(kb_ids(store)["规则.txt"])
    assert now and not now & old
    assert_consistent(store)
