"""Faults: kill -9 mid-ingest, a crash mid-replace, read-only and unwritable data dirs, a full
disk, two ingests at once, and what re-ingesting costs.

Every check of a knowledge base after a fault runs in a fresh process (`inspect_kb`), the way
a restarted assistant would open it. Knowledge bases are small generated texts (a few
thousand characters in all), embedded by the real model.
"""
from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.knowledge import Knowledge

REPO = Path(__file__).resolve().parents[1]


def child_env() -> dict[str, str]:
    """The (isolated) environment of the test, for the processes it starts."""
    return {**os.environ, "PYTHONPATH": str(REPO)}

PHRASES = [
    "党支部应当加强对党员的教育管理监督", "按照规定的程序发展党员", "认真落实三会一课制度",
    "组织党员参加集中学习培训", "定期开展谈心谈话", "每年召开一次组织生活会", "开展民主评议党员",
    "按月收缴党费并及时公布", "做好流动党员的联系服务", "严格执行请示报告制度", "及时转接组织关系",
    "加强支部班子建设", "推动党建与业务深度融合", "落实全面从严治党主体责任", "做好入党积极分子培养",
    "严肃认真开展批评和自我批评", "重要事项提交支部委员会讨论", "健全完善工作台账", "规范召开党员大会",
    "加强对预备党员的教育考察", "依照规定做好党务公开", "关心帮扶生活困难党员",
]
CN_DIGITS = "零一二三四五六七八九"
CARDS = {p.name for p in Knowledge.bundled().card_files()}


def cn_number(n: int) -> str:
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def regulation(title: str, articles: int, seed: int) -> str:
    """A made-up regulation: one title line and `articles` articles of ~60 characters."""
    rng = random.Random(seed)
    lines = [title]
    for i in range(1, articles + 1):
        lines.append(f"第{cn_number(i)}条 " + "，".join(rng.sample(PHRASES, 3)) + f"（{title}第{i}项）。")
    return "\n".join(lines) + "\n"


def run_cli(command: str, *args: str, data_dir: Path, prefix: list[str] | None = None, timeout: float = 300,
            **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "assistant", command, "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, timeout=timeout, cwd=REPO, env=child_env(), **kw,
    )


INSPECT = r"""
import json, sys
import numpy as np
from assistant.qa.lexical import LexicalIndex
from assistant.root import App
from assistant.settings import Settings
store = App(Settings.from_env(data_dir=sys.argv[1])).store
gen_now = store.generation()
left_gen, left_tokens = LexicalIndex.load_tokens(store.lexical_dir)  # as the last writer left it
snap = store.snapshot(max_age=0)
got = store.collection.get(include=["metadatas"])
ids_by_doc = {}
versions = {}  # doc_id -> sha -> [ids, n_chunks, latest imported_at]
for cid, m in zip(got["ids"], got["metadatas"]):
    ids_by_doc.setdefault(m["doc_id"], []).append(cid)
    v = versions.setdefault(m["doc_id"], {}).setdefault(m["sha"], [[], m["n_chunks"], ""])
    v[0].append(cid)
    v[2] = max(v[2], m.get("imported_at", ""))
committed_ids = []  # what searches may use: each document's complete version, the latest imported if two are
for by_sha in versions.values():
    complete = [v for v in by_sha.values() if len(v[0]) == v[1]]
    if complete:
        latest = max(v[2] for v in complete)
        committed_ids += [i for v in complete if v[2] == latest for i in v[0]]
hits = 0
if snap.ids:
    # near-identical card passages (cosine 0.997) may outrank each other in the approximate search:
    # a stored vector counts when it is among its own three nearest
    res = store.collection.query(query_embeddings=snap.matrix.tolist(), n_results=3, include=[])
    hits = sum(i in r for r, i in zip(res["ids"], snap.ids))
gen, tokens = LexicalIndex.load_tokens(store.lexical_dir)
print(json.dumps({
    "count": store.collection.count(),
    "ids": sorted(got["ids"]),
    "committed_ids": sorted(committed_ids),
    "snapshot_ids": sorted(snap.ids),
    "lexical_ids": sorted(snap.lexical.ids),
    "persisted_lexical_ids": sorted(tokens),
    "persisted_generation_matches": gen == store.generation(),
    "left_lexical_current": left_gen == gen_now,
    "left_lexical_ids": sorted(left_tokens),
    "matrix_rows": int(snap.matrix.shape[0]),
    "min_norm": float(np.linalg.norm(snap.matrix, axis=1).min()) if snap.ids else None,
    "dense_self_hits": int(hits),
    "ids_by_doc": {d: sorted(v) for d, v in ids_by_doc.items()},
    "docs": {d.doc_id: {"chunks": d.chunks, "complete": d.complete, "sha": d.sha} for d in store.documents()},
}, ensure_ascii=False))
"""


def inspect_kb(data_dir: Path) -> dict:
    """Open the KB in a fresh process and report what it holds."""
    r = subprocess.run([sys.executable, "-c", INSPECT, str(data_dir)], capture_output=True, text=True,
                       timeout=300, cwd=REPO, env=child_env())
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def assert_consistent(state: dict, settled: bool = True) -> None:
    """Dense and lexical indexes hold the same chunk ids, counts agree, vectors are sound.
    A search uses each document's committed version only (all its chunks stored; the latest
    imported when a crash left two): after a fault, chunks of a version cut short stay in Chroma
    until the re-run but no search sees them. The lexical file the dead process left may be
    stale (a reader rebuilds it: the snapshot ids above are what a search uses); after a run
    that finished (settled) the file on disk is current and Chroma holds exactly what searches use."""
    ids = state["committed_ids"]
    assert state["snapshot_ids"] == ids == state["lexical_ids"] == state["persisted_lexical_ids"]
    if settled:
        assert state["left_lexical_current"], "a finished ingest left a stale lexical index"
        assert state["left_lexical_ids"] == ids == state["ids"]
    assert state["count"] == len(state["ids"]) and state["matrix_rows"] == len(ids)
    assert state["persisted_generation_matches"]
    if ids:
        assert state["min_norm"] > 0.99
        assert state["dense_self_hits"] == len(ids)  # the HNSW index holds every stored vector


def embeddings_in(data_dir: Path) -> int:
    """Rows Chroma has committed, read straight from its SQLite file (read-only, no lock held)."""
    db = data_dir / "chroma" / "chroma.sqlite3"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            return con.execute("SELECT count(*) FROM embeddings").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def assert_clean_failure(r: subprocess.CompletedProcess, *must: str) -> None:
    """Non-zero exit, a Chinese error on stderr, no traceback."""
    assert r.returncode != 0, (r.stdout, r.stderr)
    out = r.stdout + r.stderr
    assert "Traceback" not in out, out[-3000:]
    assert "错误" in r.stderr or "失败" in r.stderr, r.stderr
    for word in must:
        assert word in out, (word, out[-2000:])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    """One short document and three of ~1,500 characters (≈ 1.5 s of embedding each)."""
    folder = tmp_path_factory.mktemp("docs")
    texts = {
        "a-短文.txt": regulation("短规则", 4, 1),
        "b-条例.txt": regulation("乙条例", 24, 2),
        "c-细则.txt": regulation("丙细则", 24, 3),
        "d-办法.txt": regulation("丁办法", 24, 4),
    }
    out = {}
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        out[name] = folder / name
    return out


@pytest.fixture(scope="module")
def clean_run(corpus, tmp_path_factory) -> dict:
    """The reference: all four documents ingested in one uninterrupted run."""
    data = tmp_path_factory.mktemp("clean") / "kb"
    r = run_cli("ingest", "--quiet", *map(str, corpus.values()), data_dir=data)
    assert r.returncode == 0, r.stderr
    state = inspect_kb(data)
    assert_consistent(state)
    assert set(state["docs"]) == set(corpus)
    return state


# --------------------------------------------------------------------------- kill -9

def test_kill_9_mid_ingest_then_rerun_completes(tmp_path: Path, corpus, clean_run) -> None:
    data = tmp_path / "kb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ingest", "--data-dir", str(data), "--quiet", *map(str, corpus.values())],
        cwd=REPO, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 180
        while embeddings_in(data) == 0:
            assert proc.poll() is None, ("ingest ended before any document was seen", proc.communicate())
            assert time.monotonic() < deadline, "no document was stored within 180 s"
            time.sleep(0.02)
        still_running = proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert still_running and proc.returncode == -signal.SIGKILL

    state = inspect_kb(data)  # the KB opens
    assert_consistent(state, settled=False)
    stored = set(state["docs"])
    assert stored and stored < set(corpus), stored  # interrupted: some, not all
    for doc_id in stored:
        if state["docs"][doc_id]["complete"]:
            assert state["ids_by_doc"][doc_id] == clean_run["ids_by_doc"][doc_id]
    listed = run_cli("list", data_dir=data)
    assert listed.returncode == 0 and "a-短文.txt" in listed.stdout, listed.stderr
    found = run_cli("search", "组织生活会多久开一次", "--json", data_dir=data)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["results"]

    rerun = run_cli("ingest", "--quiet", *map(str, corpus.values()), data_dir=data)
    assert rerun.returncode == 0, rerun.stderr
    assert "失败 0 篇" in rerun.stdout and "未变" in rerun.stdout
    after = inspect_kb(data)
    assert_consistent(after)
    assert set(after["docs"]) - set(corpus) <= CARDS, "only our cards were added (by `search`, to a new data dir)"
    mine = {d: ids for d, ids in after["ids_by_doc"].items() if d in corpus}
    assert mine == clean_run["ids_by_doc"]
    assert sum(map(len, mine.values())) == clean_run["count"]
    assert all(d["complete"] for d in after["docs"].values())


def test_crash_between_new_version_and_old_delete(tmp_path: Path) -> None:
    """The process dies after a changed file's new chunks are written but before the old ones
    are deleted: the KB opens and answers, `list` flags the document, a re-run finishes the
    replacement: old ids gone, every new chunk kept."""
    src = tmp_path / "src"
    src.mkdir()
    doc = src / "规则.txt"
    doc.write_text(regulation("规则", 5, 10), encoding="utf-8")
    data = tmp_path / "kb"
    assert run_cli("ingest", "--quiet", str(doc), data_dir=data).returncode == 0
    old_ids = set(inspect_kb(data)["ids"])
    doc.write_text(regulation("规则", 6, 11), encoding="utf-8")
    crash = (
        "import os, sys\n"
        "from assistant.qa import index\n"
        "real = index.Store.put_document\n"
        "def put(self, doc, chunks, vectors, **kw):\n"
        "    self.collection.delete = lambda **kw: os._exit(137)\n"
        "    return real(self, doc, chunks, vectors, **kw)\n"
        "index.Store.put_document = put\n"
        "from assistant.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    r = subprocess.run([sys.executable, "-c", crash, "ingest", "--data-dir", str(data), "--quiet", str(doc)],
                       capture_output=True, text=True, timeout=300, cwd=REPO, env=child_env())
    assert r.returncode == 137, r.stderr
    state = inspect_kb(data)
    assert_consistent(state, settled=False)
    assert old_ids < set(state["ids"])  # the old version is all still there
    assert not old_ids & set(state["snapshot_ids"]), "searches use the new version, complete and imported later"
    assert not state["docs"]["规则.txt"]["complete"]
    listed = run_cli("list", data_dir=data)
    assert listed.returncode == 0 and "不完整" in listed.stdout
    assert run_cli("search", "谈心谈话", "--json", data_dir=data).returncode == 0

    rerun = run_cli("ingest", "--quiet", str(doc), data_dir=data)
    assert rerun.returncode == 0 and "更新 1 篇" in rerun.stdout, rerun.stdout + rerun.stderr
    after = inspect_kb(data)
    assert_consistent(after)
    # exactly the new version, all of it (`search` above also brought our cards into this new data dir)
    assert set(after["ids_by_doc"]["规则.txt"]) == set(state["ids_by_doc"]["规则.txt"]) - old_ids
    assert after["docs"]["规则.txt"]["chunks"] == 6 and after["docs"]["规则.txt"]["complete"]


# --------------------------------------------------------------------------- read-only, unwritable, full

def _drop_root() -> list[str]:
    """A command prefix under which file permissions apply (root ignores them): none for an
    ordinary user, setpriv without the DAC-override capabilities for root; skip if neither."""
    if os.geteuid() != 0:
        return []
    prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: cannot make a directory read-only for the test")
    return prefix


def _probe_read_only(prefix: list[str], folder: Path) -> None:
    r = subprocess.run([*prefix, "sh", "-c", f"touch '{folder}/probe'"], capture_output=True)
    if r.returncode == 0:
        pytest.skip("cannot make a directory read-only here (capabilities)")


def _chmod_tree(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | 0o200 if writable else mode & ~0o222)


def test_read_only_data_dir_gives_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "一.txt").write_text(regulation("一号规则", 3, 20), encoding="utf-8")
    (src / "二.txt").write_text(regulation("二号规则", 3, 21), encoding="utf-8")
    data = tmp_path / "kb"
    assert run_cli("ingest", "--quiet", str(src / "一.txt"), data_dir=data).returncode == 0
    before = inspect_kb(data)
    prefix = _drop_root()
    _chmod_tree(data, writable=False)
    try:
        _probe_read_only(prefix, data)
        r = run_cli("ingest", "--quiet", str(src / "二.txt"), data_dir=data, prefix=prefix)
        assert_clean_failure(r, str(data))
        # reading a read-only KB: it answers, or it says clearly why not — never a traceback
        for args in (("list",), ("search", "组织生活会", "--json")):
            r = run_cli(*args, data_dir=data, prefix=prefix)
            if r.returncode != 0:
                assert_clean_failure(r, str(data))
            else:
                assert "Traceback" not in r.stderr
    finally:
        _chmod_tree(data, writable=True)
    after = inspect_kb(data)
    assert after["ids_by_doc"] == before["ids_by_doc"]


def test_unwritable_data_dir_paths(tmp_path: Path) -> None:
    (tmp_path / "一.txt").write_text(regulation("一号规则", 3, 22), encoding="utf-8")
    a_file = tmp_path / "普通文件"
    a_file.write_text("x", encoding="utf-8")
    r = run_cli("ingest", "--quiet", str(tmp_path / "一.txt"), data_dir=a_file / "kb")
    assert_clean_failure(r, str(a_file / "kb"))

    locked = tmp_path / "locked"
    locked.mkdir()
    prefix = _drop_root()
    locked.chmod(0o555)
    try:
        _probe_read_only(prefix, locked)
        r = run_cli("ingest", "--quiet", str(tmp_path / "一.txt"), data_dir=locked / "kb", prefix=prefix)
        assert_clean_failure(r, str(locked / "kb"))
        assert not (locked / "kb").exists()
    finally:
        locked.chmod(0o755)


def test_disk_full_fails_cleanly_and_keeps_the_kb(tmp_path: Path) -> None:
    """Writes fail part-way (a file-size limit stands in for a full disk): the run ends — no
    hang — with every document reported failed, the KB as it was, and a later run completes."""
    src = tmp_path / "src"
    src.mkdir()
    names = ["一.txt", "二.txt", "三.txt", "四.txt"]
    for n, name in enumerate(names):
        (src / name).write_text(regulation(f"第{n}号规则", 4, 30 + n), encoding="utf-8")
    data = tmp_path / "kb"
    assert run_cli("ingest", "--quiet", str(src / names[0]), data_dir=data).returncode == 0
    before = inspect_kb(data)
    limit = (data / "chroma" / "chroma.sqlite3").stat().st_size + 4096

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # Python ignores SIGXFSZ: EFBIG

    r = run_cli("ingest", "--quiet", *(str(src / n) for n in names[1:]), data_dir=data,
                preexec_fn=small_disk, timeout=120)
    assert_clean_failure(r)
    failed = [ln for ln in r.stderr.splitlines() if ln.startswith("失败 ")]
    assert sorted(ln.split("：")[0][3:] for ln in failed) == sorted(names[1:]), r.stderr
    assert "失败 3 篇" in r.stdout
    assert inspect_kb(data)["ids_by_doc"] == before["ids_by_doc"]

    r = run_cli("ingest", "--quiet", str(src), data_dir=data)
    assert r.returncode == 0 and "新增 3 篇" in r.stdout and "未变 1 篇" in r.stdout, r.stdout + r.stderr
    after = inspect_kb(data)
    assert_consistent(after)
    assert set(after["docs"]) == set(names)


LONG_RUNNING = """
import resource, signal, sys, json
from pathlib import Path
from assistant.root import App
from assistant.settings import Settings, apply_offline_env

apply_offline_env()
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
src, data = Path(sys.argv[1]), Path(sys.argv[2])
app = App(Settings.from_env(data_dir=data))
first = app.ingest([src / "一.txt"])
limit = (data / "chroma" / "chroma.sqlite3").stat().st_size + 4096
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
full = app.ingest([src])
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # the disk is freed
freed = app.ingest([src])
print(json.dumps({"first": first.added, "full_failed": len(full.failed), "freed": sorted(freed.added),
                  "freed_failed": freed.failed}, ensure_ascii=False))
"""


def test_long_running_process_writes_again_after_the_disk_is_freed(tmp_path: Path) -> None:
    """The app's process stays up through a full disk: once space is back, its next import
    completes without a restart (the embedded Chroma client is reopened after a failed write)."""
    src = tmp_path / "src"
    src.mkdir()
    names = ["一.txt", "二.txt", "三.txt", "四.txt"]
    for n, name in enumerate(names):
        (src / name).write_text(regulation(f"第{n}号规则", 4, 60 + n), encoding="utf-8")
    r = subprocess.run([sys.executable, "-c", LONG_RUNNING, str(src), str(tmp_path / "kb")], capture_output=True,
                       text=True, timeout=180, cwd=REPO, env=child_env())
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["first"] == ["一.txt"] and out["full_failed"] == 3, out
    assert out["freed"] == sorted(names[1:]) and not out["freed_failed"], out
    state = inspect_kb(tmp_path / "kb")
    assert_consistent(state)
    assert set(state["docs"]) == set(names)


# --------------------------------------------------------------------------- concurrency

def test_two_processes_ingest_into_one_data_dir(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    left = [src / f"左{n}.txt" for n in range(3)]
    right = [src / f"右{n}.txt" for n in range(3)]
    for n, path in enumerate(left + right):
        path.write_text(regulation(path.stem + "规定", 6, 40 + n), encoding="utf-8")
    data = tmp_path / "kb"
    procs = [
        subprocess.Popen([sys.executable, "-m", "assistant", "ingest", "--data-dir", str(data), "--quiet",
                          *map(str, files)], cwd=REPO, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for files in (left, right)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, (out, err)
        assert "新增 3 篇" in out and "失败 0 篇" in out, (out, err)
    state = inspect_kb(data)
    assert_consistent(state, settled=False)  # the last lexical save may come from the slower process
    assert set(state["docs"]) == {p.name for p in left + right}
    assert all(d["complete"] and d["chunks"] == 6 for d in state["docs"].values())


def test_open_reader_sees_documents_another_process_added(tmp_path: Path, make_app) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "先.txt").write_text(regulation("先到规定", 3, 50), encoding="utf-8")
    (src / "后.txt").write_text(regulation("后到规定", 3, 51), encoding="utf-8")
    data = tmp_path / "kb"
    assert run_cli("ingest", "--quiet", str(src / "先.txt"), data_dir=data).returncode == 0
    retriever = make_app(data).retriever
    assert retriever.search("谈心谈话").results
    assert run_cli("ingest", "--quiet", str(src / "后.txt"), data_dir=data).returncode == 0
    retriever.store._checked = 0.0  # skip the one-second re-check delay
    sources = {h.source for h in retriever.search("后到规定", k=10).results}
    assert "后.txt" in sources


# --------------------------------------------------------------------------- re-ingest

def test_reingest_unchanged_embeds_nothing_changed_replaces(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "甲.txt").write_text(regulation("甲规定", 4, 60), encoding="utf-8")
    (src / "乙.txt").write_text(regulation("乙规定", 4, 61), encoding="utf-8")
    data = tmp_path / "kb"
    assert run_cli("ingest", "--quiet", str(src), data_dir=data).returncode == 0
    first = inspect_kb(data)

    again = run_cli("ingest", "--quiet", str(src), data_dir=data)
    assert again.returncode == 0
    assert "未变 2 篇" in again.stdout and "嵌入 0 段" in again.stdout, again.stdout
    assert inspect_kb(data)["ids_by_doc"] == first["ids_by_doc"]

    (src / "乙.txt").write_text(regulation("乙规定", 5, 62), encoding="utf-8")
    changed = run_cli("ingest", "--quiet", str(src), data_dir=data)
    assert changed.returncode == 0
    assert "更新 1 篇" in changed.stdout and "未变 1 篇" in changed.stdout, changed.stdout
    after = inspect_kb(data)
    assert_consistent(after)
    assert after["ids_by_doc"]["甲.txt"] == first["ids_by_doc"]["甲.txt"]
    old, new = set(first["ids_by_doc"]["乙.txt"]), set(after["ids_by_doc"]["乙.txt"])
    assert len(new) == 5 and not old & new
    assert after["count"] == 4 + 5

    # in-process, with an embedder that counts: the unchanged files cost no embedding at all
    from assistant.qa.embed import make_embedder
    from assistant.qa.index import Store
    from assistant.qa.ingest import ingest
    from assistant.settings import Settings

    settings = Settings.from_env(data_dir=data)
    real = make_embedder(settings)

    class Counting:
        key = real.key
        calls = 0

        def passages(self, texts):
            Counting.calls += len(texts)
            return real.passages(texts)

        def query(self, text):
            return real.query(text)

    report = ingest([src], Store(settings, Counting()), Knowledge.bundled().phrasings(), progress=False)
    assert sorted(report.unchanged) == ["乙.txt", "甲.txt"] and Counting.calls == 0
