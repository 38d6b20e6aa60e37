"""Integrity checks for the retrieval dev set (bench/devset.jsonl) against the real corpus.

Each line of the dev set is
    {"question": str, "doc": str | null, "articles": [str], "must_contain": str | null}
where ``doc`` is a corpus file name without ``.txt`` (null = the corpus cannot answer),
``articles`` are 第X条 labels and ``must_contain`` is an exact substring of one of
those articles that carries the answer. The answer keys may follow: ``keys`` (groups of
acceptable strings for the answer's first line, one of each group), ``ask`` (the kind of
question) and ``not`` (strings a correct first line must not say).
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEVSET = REPO_ROOT / "bench" / "devset.jsonl"
CORPUS_DIR = Path(os.environ.get("ASSISTANT_CORPUS_DIR", REPO_ROOT / ".." / "shared" / "corpus"))

MIN_ANSWERABLE = 60
MIN_UNANSWERABLE = 10
COPY_RUN = 12  # a question may not share a run this long with its document
ANSWER_KEY_FIELDS = {"keys", "ask", "not"}

NUM = "一二三四五六七八九十百千零〇"
ARTICLE_RE = re.compile(rf"^(第[{NUM}]+条)[ \u3000]")
HEADING_RE = re.compile(rf"^第[{NUM}]+[章编节](?:[ \u3000]|$)")
HEADING_PUNCT = set("，。；：、（）《》“”！？,.;:()")


def _is_heading(line: str) -> bool:
    """Chapter/part heading (第X章/第X编/第X节) or a short bare heading such as 总则 or 党费收缴."""
    if HEADING_RE.match(line):
        return True
    compact = re.sub(r"\s", "", line)
    return 0 < len(compact) <= 8 and not (set(compact) & HEADING_PUNCT)


def parse_articles(text: str) -> dict[str, str]:
    """Map 第X条 label -> article text (from its label line to the next article or heading)."""
    articles: dict[str, str] = {}
    label: str | None = None
    buf: list[str] = []

    def flush() -> None:
        if label is not None:
            assert label not in articles, f"duplicate article label {label}"
            articles[label] = "\n".join(buf)

    for raw in text.splitlines():
        line = raw.strip()
        m = ARTICLE_RE.match(line)
        if m:
            flush()
            label, buf = m.group(1), [line]
        elif _is_heading(line):
            flush()
            label, buf = None, []
        elif label is not None:
            buf.append(line)
    flush()
    return articles


@pytest.fixture(scope="module")
def corpus_dir() -> Path:
    if not CORPUS_DIR.is_dir():
        pytest.skip(
            f"../shared/corpus not present: looked for the corpus folder at {CORPUS_DIR} "
            "(set ASSISTANT_CORPUS_DIR to point elsewhere)"
        )
    return CORPUS_DIR


@lru_cache(maxsize=None)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def manifest(corpus_dir: Path) -> dict[str, dict]:
    path = corpus_dir / "manifest.json"
    if not path.is_file():
        return {}
    return {Path(e["file"]).stem: e for e in json.loads(path.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    assert DEVSET.is_file(), f"dev set missing: {DEVSET}"
    out = []
    for n, line in enumerate(DEVSET.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        row["_line"] = n
        out.append(row)
    return out


def _answerable(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["doc"] is not None]


def _unanswerable(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["doc"] is None]


def test_parser_on_known_structure():
    text = (
        "某某条例\n第一章 总则\n第一条 甲。\n（一）乙；\n第二条　丙。\n"
        "党费收缴\n说明文字，不属于任何条。\n第三条 丁。\n第二编　分则\n尾注。\n"
    )
    arts = parse_articles(text)
    assert list(arts) == ["第一条", "第二条", "第三条"]
    assert "（一）乙；" in arts["第一条"]
    assert "说明文字" not in arts["第二条"]
    assert "尾注" not in arts["第三条"]


def test_schema(rows):
    for r in rows:
        where = f"line {r['_line']}"
        assert set(r) - {"_line"} - ANSWER_KEY_FIELDS == {"question", "doc", "articles", "must_contain"}, where
        keys, ask, refuted = r.get("keys"), r.get("ask"), r.get("not", [])
        assert keys is None or (isinstance(keys, list) and keys and all(
            isinstance(g, list) and g and all(isinstance(k, str) and k for k in g) for g in keys)), where
        assert ask is None or (isinstance(ask, str) and ask), where
        assert isinstance(refuted, list) and all(isinstance(k, str) and k for k in refuted), where
        if r["doc"] is None:
            assert keys is None and not refuted, where
        assert isinstance(r["question"], str) and r["question"].strip(), where
        assert isinstance(r["articles"], list), where
        if r["doc"] is None:
            assert r["articles"] == [] and r["must_contain"] is None, where
        else:
            assert isinstance(r["doc"], str) and not r["doc"].endswith(".txt"), where
            mc = r["must_contain"]
            assert isinstance(mc, str) and 4 <= len(mc) <= 20, f"{where}: must_contain length {mc!r}"
            assert "\n" not in mc and mc == mc.strip(), where
            assert all(re.fullmatch(rf"第[{NUM}]+条", a) for a in r["articles"]), where


def test_counts(rows):
    assert len(_answerable(rows)) >= MIN_ANSWERABLE
    assert len(_unanswerable(rows)) >= MIN_UNANSWERABLE


def test_questions_unique(rows):
    seen: dict[str, int] = {}
    for r in rows:
        key = re.sub(r"\s", "", r["question"])
        assert key not in seen, f"duplicate question on lines {seen[key]} and {r['_line']}: {r['question']}"
        seen[key] = r["_line"]


def test_docs_exist_and_current(rows, corpus_dir, manifest):
    for r in _answerable(rows):
        path = corpus_dir / f"{r['doc']}.txt"
        assert path.is_file(), f"line {r['_line']}: no corpus file {path.name}"
        status = manifest.get(r["doc"], {}).get("status")
        assert status != "superseded", f"line {r['_line']}: gold doc {r['doc']} is superseded"


def test_must_contain_inside_listed_article(rows, corpus_dir):
    failures = []
    for r in _answerable(rows):
        text = _read(corpus_dir / f"{r['doc']}.txt")
        arts = parse_articles(text)
        mc = r["must_contain"]
        if not r["articles"]:
            # Only allowed for documents that have no 第X条 structure at all.
            if arts:
                failures.append(f"line {r['_line']}: {r['doc']} has articles but none listed")
            elif mc not in text:
                failures.append(f"line {r['_line']}: {mc!r} not in {r['doc']}")
            continue
        missing = [a for a in r["articles"] if a not in arts]
        if missing:
            failures.append(f"line {r['_line']}: {r['doc']} has no {missing}")
        if not any(mc in arts.get(a, "") for a in r["articles"]):
            failures.append(f"line {r['_line']}: {mc!r} not inside {r['articles']} of {r['doc']}")
    assert not failures, "\n".join(failures)


def _shared_run(question: str, text: str, n: int = COPY_RUN) -> str | None:
    q = re.sub(r"\s", "", question)
    for i in range(len(q) - n + 1):
        if q[i : i + n] in text:
            return q[i : i + n]
    return None


def test_questions_do_not_copy_their_document(rows, corpus_dir):
    failures = []
    for r in _answerable(rows):
        run = _shared_run(r["question"], _read(corpus_dir / f"{r['doc']}.txt"))
        if run:
            failures.append(f"line {r['_line']}: question copies {run!r} from {r['doc']}")
    texts = [_read(p) for p in sorted(corpus_dir.glob("*.txt"))]
    for r in _unanswerable(rows):
        for t in texts:
            run = _shared_run(r["question"], t)
            if run:
                failures.append(f"line {r['_line']}: unanswerable question copies {run!r} from the corpus")
    assert not failures, "\n".join(failures)
