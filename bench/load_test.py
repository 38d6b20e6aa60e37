"""Load test: many simultaneous gradio_client sessions asking the running app, offline, on loopback.

    python bench/load_test.py [--sessions 50 --questions 10] [--api-sessions 25] [--data-dir DIR] [--docs PATH ...]

Starts the real app (`python app.py`) on a free 127.0.0.1 port against a knowledge base
(--data-dir, or one built in a temporary directory from knowledge/ or --docs), waits until it
serves, records the server's memory (VmRSS of the process and its children), then runs
SESSIONS concurrent sessions, each its own gradio_client.Client asking QUESTIONS questions one
after another through the /ask endpoint. The questions come from bench/devset.jsonl, answerable
and unanswerable ones interleaved. With --api-sessions N, N of the sessions ask through the
OpenAI-compatible endpoint instead (POST /v1/chat/completions with a key made for the run), the
others through Gradio, all at once. Every reply is checked for shape (see check_answer). Prints
requests, errors, malformed replies, p50/p95/max latency, throughput and RSS before/peak/after,
then stops the app. Exit status 1 when any request failed or a reply was malformed.

No model endpoint is configured (OPENAI_*, ASSISTANT_* and GRADIO_* variables of the caller are
dropped), nothing leaves the machine. tests/test_load.py runs the same code at a small scale.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from assistant.settings import OFFLINE_ENV  # noqa: E402  (light: no heavy imports)

DEVSET = REPO / "bench" / "devset.jsonl"
STATUSES = ("current", "superseded", "reference")
for _k, _v in {**OFFLINE_ENV, "HF_HUB_DISABLE_TELEMETRY": "1"}.items():  # before gradio_client is imported:
    os.environ.setdefault(_k, _v)  # its telemetry ping is off in HF offline mode


# --------------------------------------------------------------------------- the app

from assistant.devtools.appserver import AppServer, build_kb, rss_kib  # noqa: E402


# --------------------------------------------------------------------------- the load

def load_questions(path: Path = DEVSET) -> tuple[list[str], list[str]]:
    """(answerable, unanswerable) questions of the devset."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if r.get("doc")], [r["question"] for r in rows if not r.get("doc")]


def question_plan(sessions: int, per_session: int, answerable: list[str], unanswerable: list[str],
                  every: int = 3) -> list[list[str]]:
    """Each session's questions: every EVERY-th one unanswerable, the rest answerable, spread over the lists."""
    plan, a, u = [], 0, 0
    for s in range(sessions):
        qs = []
        for j in range(per_session):
            if unanswerable and (s + j) % every == every - 1:
                qs.append(unanswerable[u % len(unanswerable)])
                u += 1
            else:
                qs.append(answerable[(a * 7) % len(answerable)])  # a stride, so neighbours ask different things
                a += 1
        plan.append(qs)
    return plan


def check_answer(result: object) -> str | None:
    """None when RESULT is a well-formed /ask reply in offline mode, else what is wrong with it."""
    if not isinstance(result, dict):
        return f"not a dict: {type(result).__name__}"
    missing = {"answer", "mode", "abstained", "notice", "sources"} - set(result)
    if missing:
        return f"missing keys {sorted(missing)}"
    if result["mode"] != "offline":
        return f"mode {result['mode']!r}"
    answer, sources = result["answer"], result["sources"]
    if not isinstance(answer, str) or not answer.strip():
        return "empty answer"
    if not isinstance(sources, list):
        return "sources is not a list"
    if result["abstained"] is True:
        return "abstained but lists sources" if sources else None
    if result["abstained"] is not False:
        return f"abstained is {result['abstained']!r}"
    if not sources:
        return "answered without sources"
    if "[1]" not in answer or "依据：" not in answer:
        return "answer lacks its [1] marker or 依据 lines"
    for s in sources:
        if not isinstance(s, dict) or not s.get("title") or not s.get("text") or s.get("status") not in STATUSES:
            return f"bad source {str(s)[:120]}"
    return None


@dataclass
class LoadResult:
    sessions: int
    per_session: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    answered: int = 0
    abstained: int = 0
    wall_s: float = 0.0
    connect_s: list[float] = field(default_factory=list)
    api_sessions: int = 0

    @property
    def requests(self) -> int:
        return self.sessions * self.per_session

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]  # nearest rank


class ApiSession:
    """A session on the OpenAI-compatible endpoint: one keep-alive connection; replies in /ask's shape."""

    def __init__(self, url: str, key: str, timeout_s: float) -> None:
        import http.client
        from urllib.parse import urlparse

        u = urlparse(url)
        self.key = key
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout_s)

    def ask(self, question: str) -> dict:
        body = json.dumps({"model": "dangwu-assistant", "messages": [{"role": "user", "content": question}]})
        self.conn.request("POST", "/v1/chat/completions", body.encode(),
                          {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}: {data[:200]!r}")
        out = json.loads(data)
        d = out.get("dangwu") or {}
        return {"answer": out["choices"][0]["message"]["content"], "mode": d.get("mode"),
                "abstained": d.get("abstained"), "notice": d.get("notice"), "sources": out.get("sources")}

    def close(self) -> None:
        self.conn.close()


def run_load(url: str, plan: list[list[str]], timeout_s: float = 300, deadline_s: float = 1800,
             api_sessions: int = 0, api_key: str = "") -> LoadResult:
    """One thread per session: connect a Client, wait for all the others, then ask its questions in turn.
    The first API_SESSIONS sessions (of every other one, spread out) use the OpenAI-compatible API with
    API_KEY instead of Gradio. Every call is bounded by TIMEOUT_S and the whole run by DEADLINE_S;
    what did not finish is an error."""
    from gradio_client import Client

    n = len(plan)
    res = LoadResult(n, len(plan[0]) if plan else 0)
    lock = threading.Lock()
    barrier = threading.Barrier(n + 1)
    stop_at = time.monotonic() + deadline_s
    # which sessions use the API: spread over the run (every k-th), so both kinds start together
    api = set(sorted(range(n), key=lambda i: (i % 2, i))[:api_sessions]) if api_sessions else set()
    res.api_sessions = len(api)

    def session(i: int) -> None:
        done = 0
        try:
            t0 = time.perf_counter()
            if i in api:
                client = ApiSession(url, api_key, timeout_s)
            else:
                client = Client(url, verbose=False, httpx_kwargs={"timeout": timeout_s}, analytics_enabled=False)
            with lock:
                res.connect_s.append(time.perf_counter() - t0)
        except Exception as exc:
            with lock:
                res.errors.append(f"session {i} connect: {type(exc).__name__}: {exc}"[:300])
            client = None
        try:
            barrier.wait(timeout_s)
        except threading.BrokenBarrierError:
            pass
        if client is None:
            with lock:
                res.errors.extend(f"session {i} q{j}: not asked (no connection)" for j in range(len(plan[i])))
            return
        try:
            for j, q in enumerate(plan[i]):
                if time.monotonic() > stop_at:
                    raise TimeoutError("run deadline passed")
                t0 = time.perf_counter()
                try:
                    out = client.ask(q) if i in api else client.submit(q, api_name="/ask").result(timeout=timeout_s)
                except Exception as exc:
                    with lock:
                        res.errors.append(f"session {i} q{j} {q!r}: {type(exc).__name__}: {exc}"[:300])
                    done += 1
                    continue
                dt = time.perf_counter() - t0
                problem = check_answer(out)
                with lock:
                    res.latencies.append(dt)
                    if problem:
                        res.malformed.append(f"session {i} q{j} {q!r}: {problem}")
                    elif out["abstained"]:
                        res.abstained += 1
                    else:
                        res.answered += 1
                done += 1
        except Exception as exc:
            with lock:
                res.errors.extend(f"session {i} q{j}: not asked ({type(exc).__name__}: {exc})"
                                  for j in range(done, len(plan[i])))
        finally:
            try:
                client.close()
            except Exception:
                pass

    threads = [threading.Thread(target=session, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    try:
        barrier.wait(timeout_s + 30)  # every session connected (or failed to): the clock starts now
    except threading.BrokenBarrierError:
        pass
    t0 = time.perf_counter()
    for t in threads:
        t.join(max(0.0, stop_at - time.monotonic()) + timeout_s)
    res.wall_s = time.perf_counter() - t0
    stuck = sum(t.is_alive() for t in threads)
    if stuck:
        res.errors.append(f"{stuck} sessions still running at the deadline")
    return res


def create_key(data_dir: Path) -> str:
    """An API key for the run (no rate limit to speak of), made with the CLI as an administrator would."""
    import subprocess

    from assistant.devtools.appserver import offline_env

    out = subprocess.run([sys.executable, "-m", "assistant", "keys", "create", "--name", "load test", "--rpm", "100000",
                          "--data-dir", str(data_dir)], cwd=REPO, env=offline_env(), capture_output=True, text=True,
                         check=True, timeout=120)
    return out.stdout.strip().splitlines()[-1]


class RssSampler:
    """Peak RSS of a process tree, sampled in the background."""

    def __init__(self, pid: int, every_s: float = 0.25) -> None:
        self.pid, self.every_s, self.peak = pid, every_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            self._stop.wait(self.every_s)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self.peak = max(self.peak, rss_kib(self.pid))


# --------------------------------------------------------------------------- report

def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def report(res: LoadResult, rss_before: int, rss_peak: int, rss_after: int, startup_s: float, kb: str) -> str:
    lat = res.latencies
    ok = len(lat) - len(res.malformed)
    lines = [
        f"load test: {res.sessions} sessions x {res.per_session} questions, offline, on loopback: "
        f"{res.sessions - res.api_sessions} on /ask over gradio_client, {res.api_sessions} on /v1/chat/completions",
        f"machine: {platform.node()} · {os.cpu_count()} CPU · Python {platform.python_version()} · "
        f"load average at end {os.getloadavg()[0]:.2f}",
        f"knowledge base: {kb}",
        f"app start-up to first page: {startup_s:.1f} s",
        f"requests: {res.requests}   completed: {len(lat)}   errors: {len(res.errors)}   malformed: {len(res.malformed)}",
        f"answers: {res.answered} with sources, {res.abstained} no-basis (abstained); well-formed {ok}/{res.requests}",
    ]
    if lat:
        lines += [
            f"latency: p50 {res.percentile(50):.2f} s   p95 {res.percentile(95):.2f} s   max {max(lat):.2f} s   "
            f"mean {statistics.fmean(lat):.2f} s",
            f"throughput: {len(lat) / res.wall_s:.2f} requests/s over {res.wall_s:.1f} s "
            f"(all sessions connected first: {max(res.connect_s or [0]):.1f} s for the slowest)",
        ]
    lines.append(f"server RSS (with children): before {mib(rss_before)}   peak {mib(rss_peak)}   after {mib(rss_after)}")
    for title, items in (("errors", res.errors), ("malformed", res.malformed)):
        if items:
            lines.append(f"first {title}:")
            lines += [f"  {e}" for e in items[:10]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=50, help="concurrent sessions (default 50)")
    ap.add_argument("--questions", type=int, default=10, help="questions per session (default 10)")
    ap.add_argument("--data-dir", type=Path, help="an existing knowledge base (default: build one in a temp dir)")
    ap.add_argument("--docs", type=Path, nargs="+", default=[REPO / "knowledge"],
                    help="what to ingest into the temporary knowledge base (default: knowledge/)")
    ap.add_argument("--api-sessions", type=int, default=0,
                    help="how many of the sessions ask through the OpenAI-compatible API instead of Gradio (default 0)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds allowed for one request (default 300)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args(argv)
    if args.sessions < 1 or args.questions < 1:
        ap.error("--sessions and --questions must be at least 1")

    with tempfile.TemporaryDirectory(prefix="dangwu-load-") as tmp:
        work = Path(tmp)
        if args.data_dir:
            data_dir, kb = args.data_dir.resolve(), f"{args.data_dir} (given)"
            if not data_dir.is_dir():
                ap.error(f"no such data directory: {data_dir}")
        else:
            data_dir = work / "kb"
            t0 = time.perf_counter()
            print(f"building a knowledge base from {', '.join(map(str, args.docs))} …", flush=True)
            summary = build_kb(data_dir, args.docs)
            kb = f"built from {', '.join(p.name for p in args.docs)} in {time.perf_counter() - t0:.0f} s ({summary.splitlines()[-1]})"
            print(kb, flush=True)
        answerable, unanswerable = load_questions()
        plan = question_plan(args.sessions, args.questions, answerable, unanswerable)
        key = create_key(data_dir) if args.api_sessions else ""
        with AppServer(data_dir, work / "app") as app:
            print(f"app at {app.url} (pid {app.proc.pid}), started in {app.startup_s:.1f} s; "
                  f"{args.sessions} sessions x {args.questions} questions …", flush=True)
            time.sleep(2)  # let the background warm-up settle before the idle reading
            rss_before = app.rss_kib()
            with RssSampler(app.proc.pid) as sampler:
                res = run_load(app.url, plan, timeout_s=args.timeout, api_sessions=args.api_sessions, api_key=key)
            time.sleep(1)
            rss_after = app.rss_kib()
            alive = app.proc.poll() is None
            log_tail = app.log()
        text = report(res, rss_before, sampler.peak, rss_after, app.startup_s, kb)
        print(text)
        if not alive:
            print("the app died during the run:\n" + log_tail)
        if args.json:
            args.json.write_text(json.dumps({
                "sessions": res.sessions, "api_sessions": res.api_sessions, "questions_per_session": res.per_session,
                "requests": res.requests,
                "completed": len(res.latencies), "errors": len(res.errors), "malformed": len(res.malformed),
                "answered": res.answered, "abstained": res.abstained,
                "p50_s": res.percentile(50), "p95_s": res.percentile(95), "max_s": max(res.latencies, default=None),
                "throughput_rps": len(res.latencies) / res.wall_s if res.wall_s else None, "wall_s": res.wall_s,
                "rss_before_kib": rss_before, "rss_peak_kib": sampler.peak, "rss_after_kib": rss_after,
                "startup_s": app.startup_s, "knowledge_base": kb, "cpus": os.cpu_count(),
            }, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if alive and not res.errors and not res.malformed else 1


if __name__ == "__main__":
    sys.exit(main())
