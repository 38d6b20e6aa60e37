"""knowledge/questions/: every article's colloquial phrasings, our own words, indexed with it."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from assistant.knowledge import Knowledge
from assistant.qa.load import load_file, read_manifest
from assistant.qa.phrasings import anchor_of, article_digests, expand, load_phrasings, question_of, title_key
from assistant.qa.split import split_document
from assistant.resources import prompts_dir
from assistant.root import App
from assistant.settings import Settings

PHRASINGS_DIR = Knowledge.bundled().folder / "questions"
FILES = sorted(PHRASINGS_DIR.glob("*.yaml"))
COPY_RUN = 15  # a phrasing never repeats this many characters of its regulation


def _manifest_docs(corpus_dir: Path) -> dict[str, Path]:
    return {title_key(e["title"]): corpus_dir / name for name, e in read_manifest(corpus_dir).items()}


def test_phrasing_files_are_shipped() -> None:
    assert len(FILES) >= 8, FILES
    table = load_phrasings(PHRASINGS_DIR)
    assert not table.by_title, "every shipped file carries digests (scripts/stamp_phrasings.py)"
    assert len({file for entries in table.by_opening.values() for _, _, file, _ in entries}) == len(FILES)


def test_digests_are_current_and_every_article_gets_its_phrasings(corpus_dir: Path) -> None:
    """Each regulation of the corpus, imported as it is, gets for every article the phrasings
    written for it (scripts/stamp_phrasings.py has been run since the texts or the split changed)."""
    manifest = read_manifest(corpus_dir)
    shipped = {title_key(yaml.safe_load(p.read_text(encoding="utf-8"))["title"]): p for p in FILES}
    for name in manifest:
        doc = load_file(corpus_dir / name, manifest)
        chunks = split_document(doc.text, doc.title)
        _, expanded = expand(doc, chunks, load_phrasings(PHRASINGS_DIR))
        if title_key(doc.title) not in shipped:
            continue
        data = yaml.safe_load(shipped[title_key(doc.title)].read_text(encoding="utf-8"))
        assert article_digests(chunks) == data["digests"], f"{name}: run scripts/stamp_phrasings.py"
        for c in expanded:
            if c.article:
                assert c.terms == " ".join(question_of(q) for q in data["articles"][c.article]), (name, c.article)


def test_an_edition_never_borrows_another_editions_article(corpus_dir: Path) -> None:
    """The 2014 细则 imported under the current title (as its own first line reads): an article
    gets only phrasings written for an article that opens with the same words."""
    manifest = read_manifest(corpus_dir)
    old = load_file(corpus_dir / "fazhan-dangyuan-gongzuo-xize-2014.txt", manifest)
    new = load_file(corpus_dir / "fazhan-dangyuan-gongzuo-xize-2026rev.txt", manifest)
    old = replace(old, title=new.title)
    chunks = split_document(old.text, old.title)
    by_digest: dict[str, set[str]] = {}
    for p in FILES:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
        for article, digest in data["digests"].items():
            by_digest.setdefault(digest, set()).add(" ".join(question_of(q) for q in data["articles"][article]))
    digests = article_digests(chunks)
    _, expanded = expand(old, chunks, load_phrasings(PHRASINGS_DIR))
    moved = 0
    for c in expanded:
        if c.article:
            assert c.terms in by_digest[digests[c.article]], c.article
            new_terms = " ".join(question_of(q) for q in yaml.safe_load((PHRASINGS_DIR / "fazhan-dangyuan-gongzuo-xize.yaml")
                                 .read_text(encoding="utf-8"))["articles"].get(c.article, []))
            moved += c.terms != new_terms
    assert moved > 10, "the editions' numbering differs: numbers alone would have attached the wrong phrasings"


def test_shared_boilerplate_alone_attaches_nothing(tmp_path: Path) -> None:
    src = tmp_path / "other.txt"
    src.write_text(REGULATION.replace("本规则自发布之日起施行。", "本条例由中央组织部负责解释。"), encoding="utf-8")
    doc = load_file(src)
    chunks = split_document(doc.text, doc.title)
    assert "f1d0bac84b0a" in article_digests(chunks).values(), "the test needs the shared 解释 article"
    assert all(not c.terms for c in expand(doc, chunks, load_phrasings(PHRASINGS_DIR))[1])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_article_has_phrasings_and_no_unknown_article(path: Path, corpus_dir: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    docs = _manifest_docs(corpus_dir)
    assert title_key(data["title"]) in docs, f"{path.name}: title {data['title']!r} names no corpus document"
    source = docs[title_key(data["title"])]
    doc = load_file(source, read_manifest(corpus_dir))
    articles = list(dict.fromkeys(c.article for c in split_document(doc.text, doc.title) if c.article))
    assert list(data["articles"]) == articles, f"{path.name}: articles differ from {source.name} (order or coverage)"
    text = {c.article: "" for c in split_document(doc.text, doc.title)}
    for c in split_document(doc.text, doc.title):
        text[c.article] += c.text
    plain = lambda s: "".join(unicodedata.normalize("NFKC", s).split())  # noqa: E731
    for article, items in data["articles"].items():
        assert items and all(isinstance(p, str) and 2 <= len(question_of(p)) <= 30 for p in items), (path.name, article, items)
        for p in items:  # "问题 => 锚点": the anchor is 4–14 characters of the article that answers it
            anchor = anchor_of(p)
            assert anchor, f"{path.name} {article}: phrasing without an anchor: {p!r}"
            assert 4 <= len(plain(anchor)) <= 14 and plain(anchor) in plain(text[article]), (path.name, article, p)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_phrasings_are_our_own_words(path: Path, corpus_dir: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    text = re.sub(r"\s+", "", _manifest_docs(corpus_dir)[title_key(data["title"])].read_text(encoding="utf-8"))
    copied = [p for items in data["articles"].values() for p in items
              if any(p[i:i + COPY_RUN] in text for i in range(len(p) - COPY_RUN + 1))]
    assert not copied, f"{path.name}: phrasings repeating {COPY_RUN}+ characters of the regulation: {copied}"


REGULATION = """示例工作规则

第一条 为了说明检索扩展，制定本规则。
第二条 小组例会每两周召开一次，由组长主持。
第三条 经费报销单据由出纳在月底前汇总。
第四条 本规则自发布之日起施行。
"""


def _app_with_phrasings(tmp_path: Path) -> tuple[App, Path]:
    """An App whose knowledge folder is tmp_path/knowledge: its phrasings are what a test writes
    into the returned questions/ folder."""
    knowledge = Knowledge(tmp_path / "knowledge", prompts_dir())
    return App(Settings.from_env(data_dir=tmp_path / "kb"), knowledge), knowledge.folder / "questions"


def _write_phrasings(folder: Path, second: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    body = {"title": "示例工作规则", "articles": {"第一条": ["这个规则干什么用"], "第二条": second,
                                                 "第三条": ["发票找谁交"], "第四条": ["规则哪天生效"]}}
    (folder / "demo.yaml").write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")


def test_expand_attaches_terms_and_changes_identity(tmp_path: Path) -> None:
    src = tmp_path / "rule.txt"
    src.write_text(REGULATION, encoding="utf-8")
    doc = load_file(src)
    chunks = split_document(doc.text, doc.title)
    folder = tmp_path / "questions"
    _write_phrasings(folder, ["碰头会多久开一回"])
    expanded, with_terms = expand(doc, chunks, load_phrasings(folder))
    assert [c.text for c in with_terms] == [c.text for c in chunks], "the passages themselves are unchanged"
    assert {c.article: c.terms for c in with_terms}["第二条"] == "碰头会多久开一回"
    assert expanded.sha != doc.sha
    _write_phrasings(folder, ["碰头会多久开一回", "例会谁来主持"])
    assert expand(doc, chunks, load_phrasings(folder))[0].sha not in (doc.sha, expanded.sha), "an edited file re-indexes"
    assert expand(doc, chunks, load_phrasings(tmp_path / "none"))[0].sha == doc.sha, "no phrasings, no change"


def test_ingest_indexes_phrasings_but_shows_only_the_passage(tmp_path: Path) -> None:
    src = tmp_path / "docs" / "rule.txt"
    src.parent.mkdir()
    src.write_text(REGULATION, encoding="utf-8")
    app, folder = _app_with_phrasings(tmp_path)
    _write_phrasings(folder, ["碰头会多久开一回"])
    first = app.ingest([src.parent])
    assert first.added and not first.failed
    result = app.retriever.search("碰头会", k=2, mode="bm25")
    assert result.results and result.results[0].article == "第二条", "found through its phrasing only"
    assert "碰头会" not in result.results[0].text, "the phrasing is indexed, not shown"
    assert app.ingest([src.parent]).unchanged
    _write_phrasings(folder, ["碰头会多久开一回", "周会谁主持"])
    again = app.ingest([src.parent])
    assert again.updated, "an edited phrasing file re-indexes its regulation"
    assert app.retriever.search("周会", k=1, mode="bm25").results[0].article == "第二条"


@pytest.mark.parametrize("body", [
    "articles: [unclosed\n", "title: 示例工作规则\n", "title: 示例工作规则\narticles:\n  第二条: 碰头会多久开一回\n",
    "title: 示例工作规则\narticles:\n  2: [碰头会多久开一回]\n", "- just a list\n",
])
def test_a_broken_phrasing_file_is_skipped_and_named(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                     body: str) -> None:
    src = tmp_path / "docs" / "rule.txt"
    src.parent.mkdir()
    src.write_text(REGULATION, encoding="utf-8")
    app, folder = _app_with_phrasings(tmp_path)
    _write_phrasings(folder, ["周会谁主持"])
    (folder / "bad.yaml").write_text(body, encoding="utf-8")
    with caplog.at_level("WARNING"):
        report = app.ingest([src.parent])
    assert report.added and not report.failed, "the import goes on; the good file still applies"
    assert any("bad.yaml" in r.getMessage() for r in caplog.records), caplog.text
    assert list(load_phrasings(folder).by_title) == [title_key("示例工作规则")]
