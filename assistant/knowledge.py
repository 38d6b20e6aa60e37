"""The bundled knowledge base as the code reads it: cards, duties, meeting templates, lexicon,
distinct cases, phrasings, prompts and the regulations our cards cite (knowledge/ and prompts/ of the repository)."""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from .resources import knowledge_dir, prompts_dir

CARD_FOLDERS = ("cards", "practices", "faq")
#: document kinds of our own knowledge (work cards, local-practice cards, FAQ cards); "document" is a user's import
OUR_KINDS = ("card", "practice", "faq")


@functools.lru_cache(maxsize=16)
def _yaml_at(path: str, mtime: float, size: int) -> dict:
    import yaml

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    return data if isinstance(data, dict) else {}


def _read_yaml(path: Path) -> dict:
    """A knowledge YAML file as a dict (read once per version of the file); {} when absent."""
    try:
        st = path.stat()
    except OSError:
        return {}
    return _yaml_at(str(path), st.st_mtime, st.st_size)


@dataclass(frozen=True)
class Knowledge:
    """Read-only access to the shipped knowledge files (each parsed once per version of the file)."""

    folder: Path
    prompts_folder: Path

    @classmethod
    def bundled(cls) -> "Knowledge":
        return cls(knowledge_dir(), prompts_dir())

    def duties(self) -> list:
        """The branch duties of obligations.yaml (assistant.plans.obligations.Duty)."""
        from .plans.obligations import load_obligations

        return load_obligations(self.folder / "obligations.yaml")

    def cases(self) -> list:
        """Groups of distinct cases of one thing (cases.yaml; assistant.qa.cases.Group)."""
        from .qa.cases import load_cases

        return load_cases(self.folder / "cases.yaml")

    def lexicon(self) -> dict[str, list[str]]:
        """Colloquial term → the regulations' terms (lexicon.yaml)."""
        from .qa.retrieve import load_lexicon

        return load_lexicon(self.folder / "lexicon.yaml")

    def phrasings(self):
        """The colloquial questions written per article (questions/*.yaml)."""
        from .qa.phrasings import load_phrasings

        return load_phrasings(self.folder / "questions")

    def prompts(self) -> dict[str, str]:
        """The prompt templates, by name."""
        from .qa.llm import load_prompts

        return load_prompts(self.prompts_folder)

    def regulations(self) -> list[dict]:
        """The regulations our cards cite (regulations.yaml ``regulations``): title, short,
        issued_by, doc_number, effective, status, official_copy — one dict each, in file order."""
        return [dict(r) for r in _read_yaml(self.folder / "regulations.yaml").get("regulations") or []
                if isinstance(r, dict) and r.get("title")]

    def card_files(self) -> list[Path]:
        """Our work cards, local-practice cards and FAQ cards (the documents of the bundled knowledge base)."""
        return sorted(p for sub in CARD_FOLDERS for p in (self.folder / sub).glob("*.md"))

    def fingerprint(self) -> str:
        """A digest of every card file's name and bytes and of how passages are indexed: changes
        when the bundled cards change or when an upgrade splits them differently."""
        from .qa.ingest import INDEX_VERSION

        h = hashlib.sha256(f"index:{INDEX_VERSION}\0".encode())
        for p in self.card_files():
            h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
        return h.hexdigest()[:16]

    def index_texts(self, chunk_chars: int) -> tuple[list[str], list[str]]:
        """What ingest embeds for our cards (the texts knowledge/vectors/ holds): the passages'
        index texts, and our own questions in them."""
        from .qa.compose import our_questions
        from .qa.index import index_texts
        from .qa.ingest import read_document

        phrasings = self.phrasings()
        passages: list[str] = []
        questions: list[str] = []
        for path in self.card_files():
            doc, chunks = read_document(path, {}, phrasings, chunk_chars)
            passages += index_texts(doc, chunks)
            questions += [q for c in chunks for q in our_questions(c.text, c.anchors)]
        return list(dict.fromkeys(passages)), list(dict.fromkeys(questions))
