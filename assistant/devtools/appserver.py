"""Run the web app (python app.py) in a child process on a free loopback port: for the
benchmark, the load test and the end-to-end tests, which all need the same thing."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..settings import OFFLINE_ENV

REPO = Path(__file__).resolve().parents[2]  # the checkout: app.py, bench/, tests/


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def offline_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any model, assistant or Gradio settings, plus the offline switches."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_", "GRADIO_"))}
    env.update(OFFLINE_ENV)
    env.update(extra)
    return env


def build_kb(data_dir: Path, paths: list[Path], timeout: float = 900) -> str:
    """Ingest PATHS into DATA_DIR with the CLI (a child process, as a user would); returns its summary."""
    proc = subprocess.run([sys.executable, "-m", "assistant", "ingest", *map(str, paths), "--quiet",
                           "--data-dir", str(data_dir)], cwd=REPO, env=offline_env(), capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"ingest failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout.strip()


def rss_kib(pid: int) -> int:
    """VmRSS of PID and all its descendants, in KiB (0 when it has gone)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


class AppServer:
    """python app.py on a free loopback port: started, waited for, stopped."""

    def __init__(self, data_dir: Path, work_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        work_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = work_dir / f"app-{self.port}.log"
        gradio_tmp = work_dir / "gradio-cache"
        gradio_tmp.mkdir(exist_ok=True)
        self.env = offline_env(ASSISTANT_DATA_DIR=str(data_dir), GRADIO_SERVER_NAME="127.0.0.1",
                               GRADIO_SERVER_PORT=str(self.port), GRADIO_TEMP_DIR=str(gradio_tmp), **env)
        self.proc: subprocess.Popen | None = None
        self.startup_s = 0.0
        self._log = None

    def start(self, timeout: float = 120) -> "AppServer":
        self._log = open(self.log_path, "w")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "healthz", timeout=2) as r:  # answers with or without login
                    if r.status == 200:
                        self.startup_s = time.perf_counter() - t0
                        while "党务助手已启动" not in self.log() and time.perf_counter() - t0 < timeout:
                            time.sleep(0.05)
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"app did not answer within {timeout} s:\n{self.log()}")

    def rss_kib(self) -> int:
        return rss_kib(self.proc.pid) if self.proc else 0

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
