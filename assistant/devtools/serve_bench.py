"""`python -m assistant bench-serve`: throughput of the served app against the engine itself.

The same questions (200 by default, from bench/devset.jsonl, answerable and unanswerable, in a
fixed order) go, in one run on this machine, through

  (a) ``ask --stdin`` in one process (the engine, one question after another),
  (b) the OpenAI-compatible endpoint (POST /v1/chat/completions, not streamed) with 16 concurrent clients,
  (c) Gradio's /ask with 16 concurrent gradio_client sessions,

and it prints questions per second, p50/p95 latency and the server's memory (peak VmRSS of the
process and its children) for each, and the ratios b/a and c/a (the bar: b/a ≥ 0.6, 0 errors).
The clients run in this process, on the same cores as the server: what they cost is in b and c.
Offline (no model endpoint), loopback only, bounded in count and time.
"""
from __future__ import annotations

import http.client
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .appserver import REPO, AppServer, offline_env, rss_kib

DEVSET = REPO / "bench" / "devset.jsonl"
CORPUS_VECTORS = REPO / "test-artifacts" / "corpus-vectors.npz"


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    rss_peak_kib: int = 0
    server_cpu_s: float = 0.0  # CPU time the server (or the ask process) spent during the run
    client_cpu_s: float = 0.0  # CPU time the clients (this process) spent during the run

    @property
    def qps(self) -> float:
        return len(self.latencies) / self.wall_s if self.wall_s else 0.0

    def pct(self, p: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))] if xs else float("nan")

    def per_q_ms(self, cpu_s: float) -> float:
        return cpu_s / len(self.latencies) * 1000 if self.latencies else float("nan")

    def row(self) -> str:
        return (f"| {self.name} | {len(self.latencies)} | {len(self.errors)} | {self.qps:.1f} | "
                f"{self.pct(50) * 1000:.0f} | {self.pct(95) * 1000:.0f} | {self.rss_peak_kib / 1024:.0f} | "
                f"{self.per_q_ms(self.server_cpu_s):.1f} | {self.per_q_ms(self.client_cpu_s):.1f} |")

    def to_json(self) -> dict:
        return {"name": self.name, "completed": len(self.latencies), "errors": len(self.errors),
                "qps": self.qps, "p50_ms": self.pct(50) * 1000, "p95_ms": self.pct(95) * 1000,
                "mean_ms": statistics.fmean(self.latencies) * 1000 if self.latencies else None,
                "wall_s": self.wall_s, "rss_peak_mib": self.rss_peak_kib / 1024,
                "server_cpu_ms_per_q": self.per_q_ms(self.server_cpu_s),
                "client_cpu_ms_per_q": self.per_q_ms(self.client_cpu_s), "first_errors": self.errors[:5]}


def questions(n: int) -> list[str]:
    rows = [json.loads(line) for line in DEVSET.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [r["question"] for r in rows]
    return [qs[i % len(qs)] for i in range(n)]


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of PID so far (its own threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


class Sampler:
    """Peak RSS of a process tree, sampled in the background; the CPU it and this process used."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self.cpu0, self.own0 = cpu_s(pid), own_cpu_s()
        self.cpu = self.own = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            self._stop.wait(0.2)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join(5)
        self.peak = max(self.peak, rss_kib(self.pid))
        self.cpu, self.own = cpu_s(self.pid) - self.cpu0, own_cpu_s() - self.own0


def build_kb(data_dir: Path, docs: list[Path]) -> str:
    """The knowledge base: DOCS and our cards (vectors from test-artifacts when a test run left them)."""
    from ..qa.ingest import ingest
    from ..qa.vectors import VectorCache
    from ..root import App
    from ..settings import Settings

    app = App(Settings.from_env(env=offline_env(), data_dir=data_dir))
    cache = VectorCache.load(CORPUS_VECTORS) if CORPUS_VECTORS.is_file() else app.vector_cache
    report = ingest([*docs, app.knowledge.folder], app.store, app.knowledge.phrasings(), cache=cache)
    if report.failed:
        raise RuntimeError(f"ingest failed: {report.failed}")
    app.ensure_bundled()
    return f"{len(report.added)} documents, {report.chunks_embedded} chunks embedded"


def run_engine(data_dir: Path, qs: list[str], timeout_s: float) -> Run:
    """(a) one `ask --stdin` process: a warm-up question, then each question in turn (write, read its line)."""
    run = Run("(a) ask --stdin, 1 process")
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ask", "--stdin", "--data-dir", str(data_dir)],
                            cwd=REPO, env=offline_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, encoding="utf-8", bufsize=1)
    deadline = time.monotonic() + timeout_s
    try:
        with Sampler(proc.pid) as sampler:
            proc.stdin.write("支委会多久开一次？\n")
            proc.stdin.flush()
            proc.stdout.readline()  # the engines are loaded: the clock starts now
            sampler.cpu0, sampler.own0 = cpu_s(proc.pid), own_cpu_s()
            t_all = time.perf_counter()
            for q in qs:
                if time.monotonic() > deadline:
                    run.errors.append("deadline passed")
                    break
                t0 = time.perf_counter()
                proc.stdin.write(q.replace("\n", " ") + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
                dt = time.perf_counter() - t0
                try:
                    out = json.loads(line)
                    assert isinstance(out.get("answer"), str) and out["answer"]
                    run.latencies.append(dt)
                except (ValueError, AssertionError, AttributeError):
                    run.errors.append(f"{q!r}: {line[:120]!r}")
            run.wall_s = time.perf_counter() - t_all
        run.rss_peak_kib = sampler.peak
        run.server_cpu_s, run.client_cpu_s = sampler.cpu, sampler.own
    finally:
        proc.stdin.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return run


def _pool(run: Run, qs: list[str], clients: int, ask, timeout_s: float) -> None:
    """CLIENTS threads taking questions from one queue; ASK(client_state, question) → None or an error."""
    todo: queue.Queue = queue.Queue()
    for q in qs:
        todo.put(q)
    lock = threading.Lock()
    deadline = time.monotonic() + timeout_s
    barrier = threading.Barrier(clients + 1)

    def worker(i: int) -> None:
        state: dict = {}
        try:
            ask(state, None)  # connect (not timed)
        except Exception as exc:
            with lock:
                run.errors.append(f"client {i} connect: {type(exc).__name__}: {exc}"[:200])
        barrier.wait(120)
        while time.monotonic() < deadline:
            try:
                q = todo.get_nowait()
            except queue.Empty:
                break
            t0 = time.perf_counter()
            try:
                problem = ask(state, q)
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
                state.clear()
                try:
                    ask(state, None)
                except Exception:
                    pass
            dt = time.perf_counter() - t0
            with lock:
                if problem:
                    run.errors.append(f"{q!r}: {problem}"[:200])
                else:
                    run.latencies.append(dt)
        if state.get("close"):
            state["close"]()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait(150)
    t0 = time.perf_counter()
    for t in threads:
        t.join(max(1.0, deadline - time.monotonic()) + 60)
    run.wall_s = time.perf_counter() - t0
    left = todo.qsize()
    if left:
        run.errors.append(f"{left} questions not asked before the deadline")


def run_api(server: AppServer, key: str, qs: list[str], clients: int, timeout_s: float) -> Run:
    """(b) POST /v1/chat/completions, one keep-alive connection per client."""
    run = Run(f"(b) /v1/chat/completions, {clients} clients")

    def ask(state: dict, q: str | None):
        if q is None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            state["conn"], state["close"] = conn, conn.close
            return None
        body = json.dumps({"model": "dangwu-assistant", "messages": [{"role": "user", "content": q}]},
                          ensure_ascii=False).encode()
        conn = state["conn"]
        conn.request("POST", "/v1/chat/completions", body,
                     {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            return f"HTTP {r.status}: {data[:120]!r}"
        out = json.loads(data)
        content = out["choices"][0]["message"]["content"]
        if not content or "sources" not in out:
            return "malformed reply"
        return None

    with Sampler(server.proc.pid) as sampler:
        _pool(run, qs, clients, ask, timeout_s)
    run.rss_peak_kib = sampler.peak
    run.server_cpu_s, run.client_cpu_s = sampler.cpu, sampler.own
    return run


def run_gradio(server: AppServer, qs: list[str], clients: int, timeout_s: float) -> Run:
    """(c) Gradio's /ask through gradio_client, one session per client."""
    from gradio_client import Client

    run = Run(f"(c) Gradio /ask, {clients} clients")

    def ask(state: dict, q: str | None):
        if q is None:
            c = Client(server.url, verbose=False, httpx_kwargs={"timeout": 120}, analytics_enabled=False)
            state["client"], state["close"] = c, c.close
            return None
        out = state["client"].submit(q, api_name="/ask").result(timeout=120)
        if not isinstance(out, dict) or not out.get("answer"):
            return "malformed reply"
        return None

    with Sampler(server.proc.pid) as sampler:
        _pool(run, qs, clients, ask, timeout_s)
    run.rss_peak_kib = sampler.peak
    run.server_cpu_s, run.client_cpu_s = sampler.cpu, sampler.own
    return run


def create_key(data_dir: Path) -> str:
    out = subprocess.run([sys.executable, "-m", "assistant", "keys", "create", "--name", "bench", "--rpm", "100000",
                          "--data-dir", str(data_dir)], cwd=REPO, env=offline_env(), capture_output=True, text=True,
                         check=True, timeout=120)
    return out.stdout.strip().splitlines()[-1]


def run(data_dir: Path | None, docs: list[Path], n: int = 200, clients: int = 16, timeout_s: float = 900,
        only: str = "abc", profile: Path | None = None) -> dict:
    """Measure (a), (b) and (c) in one run; returns the figures (and prints them as a table)."""
    import platform

    qs = questions(n)
    with tempfile.TemporaryDirectory(prefix="dangwu-serve-bench-") as tmp:
        work = Path(tmp)
        if data_dir is None:
            data_dir = work / "kb"
            t0 = time.perf_counter()
            print(f"building the knowledge base from {', '.join(map(str, docs)) or 'our cards'} …", flush=True)
            kb = build_kb(data_dir, docs) + f" in {time.perf_counter() - t0:.0f} s"
        else:
            kb = f"{data_dir} (given)"
        print(f"knowledge base: {kb}", flush=True)
        key = create_key(data_dir)
        runs: list[Run] = []
        if "a" in only:
            runs.append(run_engine(data_dir, qs, timeout_s))
            print(runs[-1].row(), flush=True)
        if "b" in only or "c" in only:
            with AppServer(data_dir, work / "app") as server:
                server_run(server, "支委会多久开一次？", key)  # warm: the engines load in the background
                spy = _py_spy(server.proc.pid, profile) if profile else None
                if "b" in only:
                    runs.append(run_api(server, key, qs, clients, timeout_s))
                    print(runs[-1].row(), flush=True)
                if "c" in only:
                    runs.append(run_gradio(server, qs, clients, timeout_s))
                    print(runs[-1].row(), flush=True)
                if spy is not None:  # py-spy writes its profile on SIGINT
                    import signal

                    spy.send_signal(signal.SIGINT)
                    spy.wait(60)
    by = {r.name[1]: r for r in runs}
    ratios = {f"{x}/a": by[x].qps / by["a"].qps for x in ("b", "c") if x in by and "a" in by and by["a"].qps}
    lines = [f"machine: {platform.node()} · {os.cpu_count()} CPU · Python {platform.python_version()} · "
             f"load average {os.getloadavg()[0]:.2f}",
             f"{n} questions (bench/devset.jsonl, in order, repeated), offline, loopback; clients in the same process",
             "", "| run | answered | errors | questions/s | p50 ms | p95 ms | server peak RSS MiB | "
             "server CPU ms/question | client CPU ms/question |",
             "|---|---|---|---|---|---|---|---|---|", *[r.row() for r in runs], "",
             "  ".join(f"{k} = {v:.2f}" for k, v in ratios.items())]
    print("\n".join(lines), flush=True)
    return {"knowledge_base": kb, "questions": n, "clients": clients, "runs": [r.to_json() for r in runs],
            "ratios": ratios}


def server_run(server: AppServer, question: str, key: str, wait_s: float = 120) -> None:
    """One API question, retried until the engines answer (the warm-up runs in the background)."""
    deadline = time.monotonic() + wait_s
    body = json.dumps({"model": "dangwu-assistant", "messages": [{"role": "user", "content": question}]}).encode()
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            conn.request("POST", "/v1/chat/completions", body,
                         {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not answer its first question")
        time.sleep(0.5)


def _py_spy(pid: int, out: Path):
    """py-spy record of the server while the load runs (a profile, for finding where the time goes)."""
    import shutil

    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--output", str(out), "--format", "speedscope",
                             "--rate", "100", "--subprocesses", "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
