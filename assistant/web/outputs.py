"""Generated downloads (plans, checklists): a private folder per process, old files removed.

The folder is created with mode 0700 by ``tempfile.mkdtemp`` inside the data directory, so no
other local user can plant anything in it; Gradio copies what a handler returns into its own
cache, so a file here is needed only until the handler returns.
"""
from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path


class Outputs:
    """Where the web handlers write the files they offer for download."""

    def __init__(self, data_dir: Path, max_age_s: float = 86400.0) -> None:
        self.parent = data_dir / "outputs"
        self.max_age_s = max_age_s
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        if self._root is None:
            self.parent.mkdir(parents=True, exist_ok=True)
            self.prune()
            self._root = Path(tempfile.mkdtemp(prefix="run-", dir=self.parent))
        return self._root

    def folder(self) -> Path:
        """A new folder for one request's files."""
        path = self.root / uuid.uuid4().hex
        path.mkdir(mode=0o700)
        return path

    def prune(self) -> None:
        """Remove what earlier requests and processes left that is older than max_age_s."""
        now = time.time()
        for base in (self.parent, self._root):
            if base is None or not base.is_dir():
                continue
            for p in base.iterdir():
                try:
                    if p != self._root and now - p.stat().st_mtime > self.max_age_s and not p.is_symlink():
                        shutil.rmtree(p, ignore_errors=True)
                except OSError:
                    pass
