"""The default set-up: only knowledge/ ingested (as scripts/run.sh does) already answers everyday
questions; and a data dir nobody ingested into answers them the same way (the first question
loads our cards, whose vectors ship in knowledge/vectors/)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fresh_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("fresh")
    out = subprocess.run([sys.executable, "-m", "assistant", "ingest", "knowledge", "--quiet", "--data-dir", str(data)],
                         cwd=REPO, capture_output=True, text=True, timeout=900, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    assert "失败 0 篇" in out.stdout
    return data


def ask(question: str, data: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "assistant", "ask", question, "--json", "--data-dir", str(data)],
                         cwd=REPO, capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_zhiweihui_from_the_cards(fresh_data_dir: Path) -> None:
    ans = ask("支委会多久开一次？", fresh_data_dir)
    assert not ans["abstained"] and ans["mode"] == "offline"
    first_line = ans["answer"].splitlines()[0]
    assert "每月" in first_line and "[1]" in first_line
    assert ans["sources"][0]["source"].endswith(".md")
    assert "第十二条" in ans["answer"], "the card's citation of 支部工作条例第十二条 is shown"


def test_dangfei_from_the_cards(fresh_data_dir: Path) -> None:
    ans = ask("党费怎么算？", fresh_data_dir)
    assert not ans["abstained"]
    text = ans["answer"] + "".join(s["text"] for s in ans["sources"])
    assert all(rate in text for rate in ("0.5", "1.5")), text
    assert "关于中国共产党党费收缴、使用和管理的规定" in ans["answer"] and "第二条" in ans["answer"]


def test_no_basis_without_documents(fresh_data_dir: Path) -> None:
    ans = ask("女职工产假一共多少天", fresh_data_dir)
    assert ans["abstained"] and not ans["sources"]


@pytest.mark.parametrize("question", ["支委会多久开一次？", "党费怎么算？", "女职工产假一共多少天"])
def test_without_the_ingest_the_same_answers(fresh_data_dir: Path, tmp_path: Path, question: str) -> None:
    assert ask(question, tmp_path / "never-ingested") == ask(question, fresh_data_dir)


def test_an_upgrade_that_indexes_passages_differently_reloads_our_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    """A data dir that took our cards takes them again when the code splits or indexes passages
    differently (INDEX_VERSION), not only when a card file changes: otherwise it keeps the old passages."""
    from assistant.knowledge import Knowledge
    from assistant.qa import ingest

    before = Knowledge.bundled().fingerprint()
    monkeypatch.setattr(ingest, "INDEX_VERSION", ingest.INDEX_VERSION + 1)
    assert Knowledge.bundled().fingerprint() != before


def test_our_cards_load_without_embedding(fresh_app, monkeypatch: pytest.MonkeyPatch) -> None:
    """knowledge/vectors/ holds every passage and question vector of our cards (scripts/stamp_vectors.py
    after editing a card): a new data directory takes them in seconds, computing none."""
    computed: list[str] = []
    embedder = fresh_app.store.embedder
    for name in ("passages", "queries"):
        real = getattr(embedder, name)
        monkeypatch.setattr(embedder, name, lambda texts, _real=real: (computed.extend(texts), _real(texts))[1])
    report = fresh_app.ensure_bundled()
    assert not report.failed and report.added
    assert not computed, f"{len(computed)} texts embedded, e.g. {computed[:2]}: run scripts/stamp_vectors.py"
