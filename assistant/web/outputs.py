"""Generated downloads (plans, checklists): a private folder per process, bounded on disk.

The folder is created with mode 0700 by ``tempfile.mkdtemp`` inside the data directory, so no
other local user can plant anything in it; Gradio copies what a handler returns into its own
cache, so a file here is needed only until the handler returns. What requests leave is removed
once it is older than ASSISTANT_OUTPUT_MAX_AGE_HOURS, and the oldest first whenever the folder
holds more than ASSISTANT_OUTPUT_MAX_MB (Gradio's own cache is cleaned by its delete_cache,
set from the same age in layout.py).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

PRUNE_EVERY_S = 60.0


def _size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


class Outputs:
    """Where the web handlers write the files they offer for download."""

    def __init__(self, data_dir: Path, max_age_s: float = 86400.0, max_bytes: int | None = None) -> None:
        self.parent = data_dir / "outputs"
        self.max_age_s = max_age_s
        self.max_bytes = max_bytes
        self._root: Path | None = None
        self._pruned = 0.0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> "Outputs":
        return cls(settings.data_dir, settings.output_max_age_hours * 3600, int(settings.output_max_mb * 1024 * 1024))

    @property
    def root(self) -> Path:
        if self._root is None:
            self.parent.mkdir(parents=True, exist_ok=True)
            self.prune()
            self._root = Path(tempfile.mkdtemp(prefix="run-", dir=self.parent))
        return self._root

    def folder(self) -> Path:
        """A new folder for one request's files (what is old, or over the size cap, goes first)."""
        if time.monotonic() - self._pruned > PRUNE_EVERY_S:
            self.prune()
        if self._root is not None and not self._root.is_dir():  # another process pruned it
            self._root = None
        path = self.root / uuid.uuid4().hex
        path.mkdir(mode=0o700)
        return path

    def _entries(self) -> list[Path]:
        """Request folders (and files) left by this and earlier processes, oldest first."""
        out: list[tuple[float, Path]] = []
        for base in (self.parent, self._root):
            if base is None or not base.is_dir():
                continue
            for p in base.iterdir():
                try:
                    if p != self._root and not p.is_symlink():
                        out.append((p.stat().st_mtime, p))
                except OSError:
                    pass
        return [p for _, p in sorted(out)]

    @staticmethod
    def _remove(p: Path) -> None:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)

    def prune(self) -> None:
        """Remove what is older than max_age_s, then the oldest until the folder is under max_bytes."""
        with self._lock:
            self._pruned = time.monotonic()
            now = time.time()
            entries = self._entries()
            for p in list(entries):
                try:
                    old = now - p.stat().st_mtime > self.max_age_s
                except OSError:
                    old = False
                if old:
                    self._remove(p)
                    entries.remove(p)
            if self.max_bytes is None or not self.parent.is_dir():
                return
            total = _size(self.parent)
            for p in entries:  # oldest first
                if total <= self.max_bytes:
                    break
                size = _size(p) if p.is_dir() else p.lstat().st_size
                self._remove(p)
                total -= size
