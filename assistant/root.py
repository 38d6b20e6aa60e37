"""The composition root: one ``App`` per entry point, built from the settings.

It owns the knowledge base (store), the retriever, the answering assistant, the bundled
knowledge files and the model configuration, created on first use so that a command which
needs none of them (a meeting plan) loads none of them. The CLI commands and the web handlers
are thin functions over it; tests build their own.
"""
from __future__ import annotations

import functools
import json
import logging
import threading
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, TypeVar

from .knowledge import Knowledge
from .settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
BUNDLED_IMPORTER = "内置知识卡（随程序发布）"


def _once(build: Callable[["App"], T]) -> T:
    """A property computed on first use, once, even when threads ask for it together."""
    attr = "_" + build.__name__

    @functools.wraps(build)
    def get(self: "App") -> T:
        if attr not in self.__dict__:
            with self._lock:
                if attr not in self.__dict__:
                    self.__dict__[attr] = build(self)
        return self.__dict__[attr]

    return property(get)  # type: ignore[return-value]


class App:
    """Everything an entry point needs, built once from the settings."""

    def __init__(self, settings: Settings, knowledge: Knowledge | None = None) -> None:
        self.settings = settings
        self.knowledge = knowledge or Knowledge.bundled()
        self._lock = threading.RLock()
        self._bundled_done = False  # this process has seen the data dir take the current cards
        self._imports = 0  # imports running in this process (a question meanwhile says so)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "App":
        return cls(settings or Settings.from_env())

    @_once
    def embedder(self):
        from .qa.embed import make_embedder

        return make_embedder(self.settings)

    @_once
    def store(self):
        from .qa.index import Store

        return Store(self.settings, self.embedder)

    @_once
    def retriever(self):
        from .qa.retrieve import Retriever

        return Retriever(self.store, self.knowledge.lexicon())

    @_once
    def chat(self):
        from .qa.llm import ChatConfig

        return ChatConfig.from_settings(self.settings)

    @_once
    def assistant(self):
        from .qa.answer import Assistant

        return Assistant(self.retriever, self.chat, self.knowledge.prompts(), self.knowledge.cases())

    @_once
    def vector_cache(self):
        from .qa.vectors import VectorCache

        return VectorCache.load(self.knowledge.folder / "vectors" / f"{self.embedder.key}.npz")

    @_once
    def db(self):
        """The application database (records now; users, API keys, conversations later)."""
        from .appdb import Database

        return Database.from_settings(self.settings)

    @_once
    def serving(self):
        """Accounts, login sessions, API keys and kept conversations (assistant.serve), in self.db."""
        from .serve import Serving

        return Serving(self.db, self.settings)

    # -- the chat ----------------------------------------------------------
    def stream(self, message: str, history: list[tuple[str, str]] | None = None, out_dir: Path | None = None,
               allowed: Collection[str] | None = None):
        """A chat message: a request ("帮我做一个…方案") gets the document itself (files written to
        out_dir), a question its grounded answer. Yields (text so far, None) then (text, Answer).
        ALLOWED, when given, names the kinds of request the user may make (meeting_plan, checklist,
        plan_tasks); any other is declined in one line. A message that is empty, too long or not text
        raises InputError."""
        from .inputs import parse_question
        from .links import plain_links, unlink_answer
        from .plans.meeting import load_meeting_knowledge
        from .qa.answer import Answer
        from .requests import detect, fulfil

        message = parse_question(message, self.settings.max_question_chars)  # InputError: one rule everywhere
        request = detect(message, load_meeting_knowledge().aliases)
        if request is None:  # links from documents are shown as text with their address, never as links
            for text, answer in self.assistant.stream(message, history):
                yield plain_links(text), unlink_answer(answer)
            return
        if allowed is not None and request.kind not in allowed:
            what = {"meeting_plan": "会议方案", "plan_tasks": "任务规划"}.get(request.kind, "这类文档")
            answer = Answer(f"生成{what}需要党务工作者或管理员的账号；您可以直接提问，例如“组织生活会怎么开？”。",
                            "offline", True, query=message, action={**request.to_json(), "files": [], "refused": True})
            yield answer.answer, answer
            return
        text, files = fulfil(self, request, out_dir)
        answer = Answer(text, "offline", False, query=message, action={**request.to_json(), "files": [str(f) for f in files]})
        yield answer.answer, answer

    def respond(self, message: str, history: list[tuple[str, str]] | None = None, out_dir: Path | None = None,
                allowed: Collection[str] | None = None):
        """The final Answer of stream()."""
        final = None
        for _, final in self.stream(message, history, out_dir, allowed):
            pass
        return final

    # -- knowledge base ----------------------------------------------------
    def ingest(self, paths: Iterable[Path | str], progress: bool = False,
               on_file: Callable[[str, str], None] | None = None, *, importer: str = "",
               cancel: threading.Event | None = None, on_progress: Callable[[str, int, int], None] | None = None):
        """Import files and folders into the knowledge base (see assistant.qa.ingest): each
        document recorded with ``importer`` and the time; ``cancel`` stops it between batches.
        Only the bundled knowledge folder's files are our cards, whatever another file's front matter says."""
        from .qa.ingest import ingest

        with self._lock:
            self._imports += 1
        try:
            return ingest(paths, self.store, self.knowledge.phrasings(), progress=progress, on_file=on_file,
                          cache=self.vector_cache, importer=importer, cancel=cancel, on_progress=on_progress,
                          own_kinds_from=[self.knowledge.folder])
        finally:
            with self._lock:
                self._imports -= 1

    def importing(self) -> bool:
        """An import is running in this process (questions meanwhile are answered from what is
        already committed, without waiting for it)."""
        return self._imports > 0

    def preview_ingest(self, paths: Iterable[Path | str]):
        """What importing these files would do to the documents already there (assistant.qa.ingest.Conflict):
        the ones it would make 已被修订, the ones of the same file name it would replace."""
        from .qa.ingest import preview

        return preview(paths, self.store, self.knowledge.phrasings(), own_kinds_from=[self.knowledge.folder])

    @property
    def _bundled_marker(self) -> Path:
        return self.settings.data_dir / "bundled.json"

    def bundled_pending(self) -> bool:
        """Whether this data directory has not yet taken the current version of our cards."""
        try:
            return json.loads(self._bundled_marker.read_text(encoding="utf-8")).get("fingerprint") != \
                self.knowledge.fingerprint()
        except (OSError, ValueError, AttributeError):
            return True

    def ensure_bundled(self, progress: bool = False, on_file: Callable[[str, str], None] | None = None) -> Any:
        """Load our cards into a data directory that has not taken this version of them yet
        (their vectors ship with them, so this takes seconds). Cards a user removed stay
        removed until the bundled cards change. Returns the ingest report, or None. Cheap once
        done: every question of the web app may call it (the first may come before the warm-up)."""
        if self._bundled_done or not self.bundled_pending():
            self._bundled_done = True
            return None
        with self.store.write_lock(".bundled.lock"):  # not the write lock: the ingest takes that per batch
            if not self.bundled_pending():  # another process (or thread) did it meanwhile
                self._bundled_done = True
                return None
            report = self.ingest(self.knowledge.card_files(), progress=progress, on_file=on_file,
                                 importer=BUNDLED_IMPORTER)
            if not report.failed:
                try:
                    self._bundled_marker.write_text(json.dumps({"fingerprint": self.knowledge.fingerprint()}),
                                                    encoding="utf-8")
                    self._bundled_done = True
                except OSError as exc:
                    log.warning("bundled marker not written: %s", exc)
        return report
