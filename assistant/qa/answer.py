"""Grounded answers: standalone question → hybrid retrieval → answer (model or offline) → verify.

Offline (the default) the answer is assembled from the retrieved passages and is
deterministic. With a chat model configured, an LCEL chain (prompt | model | parser) words
it; any failure of the model falls back to the offline answer with a visible notice.
"""
from __future__ import annotations

import json
import logging
import re
import time
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from typing import Iterator, Sequence

from ..citations import cited_refs, same_title, status_word
from ..inputs import simplified
from ..numerals import cn_to_int
from .cases import Group
from .compose import Passage, QuestionVectors, answer_parts, first_line, key_points, related
from .dues import Dues, added_numbers, dues_for, income_in
from .llm import ChatConfig, chat_model, provider_problem, strip_reasoning
from .retrieve import Hit, Retriever
from ..knowledge import OUR_KINDS

log = logging.getLogger(__name__)
K = 10
MAX_SOURCES = 3  # sources shown under an answer, and the passages a model reads
RATE_TABLE_QUERY = "党员交纳党费的比例 每月工资收入（税后） 离退休费 比例表"  # where a dues sum's table is found

INJECTION_RE = re.compile(
    r"(?:忽略|无视|忘记|忘掉|不要理会|不必理会|不用理会|不要管|不用管)(?:以上|之前|前面|上面|上述|前述|此前|先前|刚才|所有)"
    r"|ignore\s+(?:all\s+|the\s+)?(?:previous|above|prior)"
    r"|你现在(?:是|扮演)|system\s*prompt|系统提示词|新的指令|请改为回答|disregard",
    re.I,
)
FOLLOW_UP_RE = re.compile(r"^(?:那|那么|还有|如果|要是|它|这个|那个|上面|刚才|另外|再问)")
INTENT_RE = re.compile(r"多久|多长时间|几次|多少|怎么(?:办|算|交|开|写)|什么时候|谁来|谁批|哪些|开一次|交多少|几年|几天|几个月")
MARKER_RE = re.compile(r"\[(\d{1,2})\]")
NOT_DIRECT_RE = re.compile(r"(?:答[：:])?\s*(?:没有找到直接规定|知识库中没有找到)")
CIRCLED_RE = re.compile(r"[\u2460-\u24ff\u2776-\u2793]")  # ①…⑳ enumerate steps; NFKC would make them digits
UNIT = r"(?:个月|年|月|日|天|人|次|名|周|小时|学时|届|个|元|倍|%|％)"


@dataclass
class Source:
    """A passage shown under an answer, with its citation number."""

    n: int
    title: str
    article: str
    status: str
    source: str
    text: str
    chapter: str = ""
    kind: str = ""
    basis: str = ""
    anchors: str = ""

    def label(self) -> str:
        """《title》第X条 for a regulation; for one of our cards, the card and what it rests on."""
        if self.kind in OUR_KINDS:
            part = f"·{self.chapter}" if self.chapter else ""
            return f"《{self.title}》{part}（知识卡{'，依据' + self.basis if self.basis else ''}）"
        return f"《{self.title}》{self.article}"


@dataclass
class Answer:
    """What the user sees: the answer, its mode, and the sources its markers point to."""

    answer: str
    mode: str
    abstained: bool
    notice: str = ""
    sources: list[Source] = field(default_factory=list)
    query: str = ""
    direct: bool = True  # the first line states what was asked (False: no rule found states it directly)
    action: dict | None = None  # a request fulfilled: {"kind", "params", "missing", "files"}

    def to_json(self) -> dict:
        out = {
            "answer": self.answer, "mode": self.mode, "abstained": self.abstained,
            "direct": self.direct and not self.abstained, "notice": self.notice,
            "sources": [{k: asdict(s)[k] for k in ("title", "article", "status", "source", "text")} for s in self.sources],
        }
        if self.action is not None:
            out["action"] = self.action
        return out


# -- numbers ---------------------------------------------------------------
def numbers_in(text: str) -> set[str]:
    """Quantities in a text as Arabic numerals: 1.5, 3000, and Chinese numbers before a unit (三个月 → 3)."""
    text = unicodedata.normalize("NFKC", CIRCLED_RE.sub(" ", text))
    found = set(re.findall(r"\d+(?:\.\d+)?", text))
    for m in re.finditer(rf"([零〇一二两三四五六七八九十百]+){UNIT}", text):
        value = cn_to_int(m.group(1))
        if value is not None:
            found.add(str(value))
    return found


# -- verification ----------------------------------------------------------
def verify(text: str, sources: list[Source], allowed: frozenset[str] = frozenset()) -> tuple[str, list[str]]:
    """Drop citation markers that point nowhere, flag 《…》第X条 that was not retrieved, and flag
    numbers that none of the passages a line cites (or, uncited, any passage) contains, except
    the allowed ones (an income the user stated and the dues computed from it)."""
    notes: list[str] = []
    valid = {s.n: s for s in sources}
    bad = sorted({int(n) for n in MARKER_RE.findall(text) if int(n) not in valid})
    if bad:
        text = MARKER_RE.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", text)
        notes.append("已删除不存在的引用编号：" + "、".join(f"[{n}]" for n in bad))
    # a retrieved passage, and whatever that passage itself cites (a card's 依据, 党章第五条 quoted in a rule)
    known = {(s.title, s.article) for s in sources}
    for s in sources:
        known.update(cited_refs(s.text))
        known.update(cited_refs(s.basis))
    for title, article in dict.fromkeys(cited_refs(text)):
        if not any(same_title(t, title) for t, a in known if a == article):
            note = f"答案提到的《{title}》{article}不在检索到的段落中，请以原文为准"
            if note not in notes:
                notes.append(note)

    def pool_of(group: list[Source]) -> set[str]:
        return set().union(*(numbers_in(s.text) | numbers_in(s.title) for s in group)) if group else set()

    all_numbers = pool_of(sources)
    unsupported: list[str] = []
    for line in text.splitlines():
        cited = [valid[int(n)] for n in MARKER_RE.findall(line) if int(n) in valid]
        pool = pool_of(cited) if cited else all_numbers
        stripped = re.sub(r"^\s*(?:\d{1,2}[.、](?!\d)|[-*])\s*", "", MARKER_RE.sub("", line))
        unsupported += [n for n in sorted(numbers_in(stripped))
                        if n not in pool and n not in allowed and n not in unsupported]
    if unsupported:
        notes.append("以下数字未在所引段落中找到，请核对原文：" + "、".join(unsupported))
    return text, notes


# -- offline answer ----------------------------------------------------------
def compose_offline(question: str, sources: list[Source], lexical, lexicon: dict[str, list[str]],
                    dues: Dues | None = None, vectors: QuestionVectors = QuestionVectors(),
                    cases: Sequence[Group] = ()) -> tuple[str, bool]:
    """(text, direct): a first line that states what was asked — or, when no passage states it,
    says so and lists the most relevant rules — then up to three key points."""
    passages = [Passage(s.n, s.text, s.title, s.chapter, s.kind, s.anchors) for s in sources]
    parts = answer_parts(question, passages, lexical, lexicon, vectors, cases)
    direct = bool(dues) or any(p.direct for p in parts)
    lines: list[str] = []
    if dues:
        lines.append(dues.line())
    elif direct:
        lines.append(first_line(parts))
    else:
        lines.append("答：没有找到直接规定这一点的条文。以下是最相关的规定，请对照原文判断：")
        lines += [f"{i}. {text}[{n}]" for i, (n, text) in enumerate(related(passages, question, lexical, lexicon), 1)]
        return "\n".join(lines), False
    points = key_points(parts, first=dues.line(), basis=dues.n) if dues else key_points(parts)
    if points:
        lines.append("要点：")
        lines += [f"{i}. {text}[{n}]" for i, (n, text) in enumerate(points, 1)]
    return "\n".join(lines), True


def basis_lines(sources: list[Source], text: str = "") -> str:
    """依据: one line per source the answer TEXT cites (all of them when it cites none),
    《title》第X条（现行）."""
    cited = {int(n) for n in MARKER_RE.findall(text)}
    used = [s for s in sources if s.n in cited] or sources
    return "\n".join(["依据："] + [f"[{s.n}] {s.label()}（{status_word(s.status)}）" for s in used])


def renumber(text: str, sources: list[Source]) -> tuple[str, list[Source]]:
    """Number the sources in the order the answer first cites them, so [1] backs the direct answer."""
    order: list[int] = []
    for n in MARKER_RE.findall(text):
        if int(n) not in order and any(s.n == int(n) for s in sources):
            order.append(int(n))
    order += [s.n for s in sources if s.n not in order]
    mapping = {old: new for new, old in enumerate(order, 1)}
    by_n = {s.n: s for s in sources}
    renumbered = [Source(**{**asdict(by_n[old]), "n": mapping[old]}) for old in order]
    return MARKER_RE.sub(lambda m: f"[{mapping.get(int(m.group(1)), m.group(1))}]", text), renumbered


def _card_refs(text: str, extra: str) -> list[tuple[str, str]]:
    """What a card passage cites; the card's whole source list only when it cites nothing."""
    refs = list(dict.fromkeys(cited_refs(text)))
    if not refs and extra:
        refs = [(str(r["doc"]), str(r.get("article", ""))) for r in json.loads(extra).get("sources") or []
                if isinstance(r, dict) and r.get("doc")]
    return refs


def _group(refs: list[tuple[str, str]]) -> str:
    """《A》第一条、第二条；《B》第三条"""
    grouped: dict[str, list[str]] = {}
    for doc, article in refs:
        articles = grouped.setdefault(doc, [])
        if article and article not in articles:
            articles.append(article)
    return "；".join(f"《{doc}》{'、'.join(arts)}" for doc, arts in grouped.items())


def narrow_basis(text: str, sources: list[Source], limit: int = 2) -> list[Source]:
    """A card source's 依据 names what backs the sentences the answer took from it: the
    articles those lines cite, else the first one or two its passage cites."""
    out = []
    for s in sources:
        if s.kind in OUR_KINDS:
            used = "\n".join(ln for ln in text.splitlines() if f"[{s.n}]" in ln)
            refs = list(dict.fromkeys(cited_refs(used))) or cited_refs(s.basis)
            s = replace(s, basis=_group(refs[:limit]))
        out.append(s)
    return out


def _sources(hits: list[Hit]) -> tuple[list[Source], int]:
    """The distinct passages retrieved, skipping any that carries instructions."""
    out: list[Source] = []
    skipped = 0
    seen: set[str] = set()
    for h in hits:
        if INJECTION_RE.search(h.text):
            skipped += 1
            continue
        if h.chunk_id in seen:
            continue
        seen.add(h.chunk_id)
        basis = _group(_card_refs(h.text, h.extra)) if h.kind in OUR_KINDS else ""
        out.append(Source(len(out) + 1, h.title, h.article, h.status, h.source, h.text, h.chapter, h.kind, basis,
                          h.anchors))
    return out, skipped


def _shown(text: str, sources: list[Source]) -> list[Source]:
    """The sources the answer cites, then the best-ranked others, up to MAX_SOURCES."""
    cited = {int(n) for n in MARKER_RE.findall(text)}
    keep = [s for s in sources if s.n in cited]
    keep += [s for s in sources if s.n not in cited][:max(0, MAX_SOURCES - len(keep))]
    return sorted(keep, key=lambda s: s.n)


def _context(sources: list[Source]) -> str:
    return "\n\n".join(f"[{s.n}] {s.label()}（{status_word(s.status)}）\n{s.text}" for s in sources)


# -- the assistant -----------------------------------------------------------
class Assistant:
    """Answers questions from one knowledge base; safe to share between threads."""

    def __init__(self, retriever: Retriever, chat: ChatConfig, prompts: dict[str, str],
                 cases: Sequence[Group] = ()) -> None:
        self.retriever = retriever
        self.cases = cases
        self.chat = chat
        self.prompts = prompts
        self.model = chat_model(chat)
        self.mode_label = f"模型：{chat.model}" if self.model else "离线模式"
        self._answer_chain = self._condense_chain = None
        if self.model is not None:
            from langchain_core.output_parsers import StrOutputParser
            from langchain_core.prompts import ChatPromptTemplate

            answer_prompt = ChatPromptTemplate.from_messages([("system", prompts["system"]), ("human", prompts["answer"])])
            self._answer_chain = answer_prompt | self.model | StrOutputParser()
            self._condense_chain = ChatPromptTemplate.from_template(prompts["condense"]) | self.model | StrOutputParser()

    def _safe(self, message: str) -> str:
        """An error message with any secret removed, cut to one short line."""
        if self.chat.api_key:
            message = message.replace(self.chat.api_key, "***")
        return re.sub(r"\s+", " ", message)[:160]

    def standalone(self, question: str, history: list[tuple[str, str]] | None) -> str:
        """Rewrite a follow-up into a question that stands alone."""
        if not history:
            return question
        last_user = history[-1][0]
        if self._condense_chain is not None:
            try:
                text = "\n".join(f"问：{u}\n答：{a[:200]}" for u, a in history[-3:])
                rewritten = strip_reasoning(self._condense_chain.invoke({"history": text, "question": question}))
                if 2 <= len(rewritten) <= 200:
                    return rewritten.splitlines()[0]
            except Exception:  # the offline rewrite below still works
                pass
        if len(question) <= 12 or FOLLOW_UP_RE.match(question):
            intent = INTENT_RE.findall(last_user)
            return f"{question} {' '.join(intent)}" if intent else f"{last_user} {question}"
        return question

    def _offline(self, query: str, sources: list[Source], notices: list[str], dues: Dues | None,
                 qvec=None) -> Answer:
        snap = self.retriever.store.snapshot()
        vectors = QuestionVectors(qvec, snap.asks, self.retriever.store.embedder.key)
        text, direct = compose_offline(query, sources, snap.lexical, self.retriever.lexicon, dues, vectors, self.cases)
        text, sources = renumber(text, sources)
        sources = _shown(text, sources)
        # the 依据 lines are built from the sources themselves: verify what the answer says, then add them
        text, notes = verify(text, sources, added_numbers(dues))
        sources = narrow_basis(text, sources)
        return Answer(text + "\n" + basis_lines(sources, text), "offline", False, "；".join(notices + notes), sources, query,
                      direct=direct)

    def _dues(self, query: str, sources: list[Source]) -> tuple[Dues | None, list[Source]]:
        """The dues for an income the question states, by the retrieved passages' rate table; when
        none of them holds one, by the table found with a search for it (the regulation's, else our
        card's), which then joins the sources."""
        dues = dues_for(query, sources)
        if dues is not None or income_in(query) is None:
            return dues, sources
        extra, _ = _sources(self.retriever.search(RATE_TABLE_QUERY, k=K).results)
        known = {s.text for s in sources}
        extra = [replace(s, n=len(sources) + i) for i, s in enumerate((s for s in extra if s.text not in known), 1)]
        dues = dues_for(query, extra)
        if dues is None:
            return None, sources
        table = next(s for s in extra if s.n == dues.n)
        return dues, sources + [table]

    def stream(self, question: str, history: list[tuple[str, str]] | None = None) -> Iterator[tuple[str, Answer | None]]:
        """Yield (text so far, None) while the model writes, then (final text, Answer)."""
        question = simplified((question or "").strip())
        if not question:
            answer = Answer("请输入问题。", "offline", True, "", [], "")
            yield answer.answer, answer
            return
        query = self.standalone(question, history)
        result = self.retriever.search(query, k=K)
        sources, skipped = _sources(result.results)
        notices = ["已忽略含有指令性文字的段落（文档内容只作资料，不作指令）"] if skipped else []
        if result.abstained or not sources:
            answer = Answer(self.prompts["no_basis"], "offline", True,
                            "；".join(notices), [], query)
            yield answer.answer, answer
            return
        dues, sources = self._dues(query, sources)
        if self._answer_chain is None:
            answer = self._offline(query, sources, notices, dues, result.vector)
            yield answer.answer, answer
            return
        text = ""
        given = sources[:MAX_SOURCES]  # what the model reads; the offline fallback still weighs them all
        deadline = time.monotonic() + self.chat.timeout * (self.chat.max_retries + 1)
        try:
            for chunk in self._answer_chain.stream({"context": _context(given), "question": query}):
                text += chunk
                if time.monotonic() > deadline:
                    raise TimeoutError(f"回答超过 {self.chat.timeout * (self.chat.max_retries + 1):.0f} 秒仍未结束")
                yield text, None
        except Exception as exc:  # the provider's own text is for the administrator's log, not for every user
            log.warning("模型服务调用失败，已改用离线模式：%s", self._safe(f"{type(exc).__name__}: {exc}"))
            answer = self._offline(query, sources, notices + [f"模型服务不可用（{provider_problem(exc)}），已改用离线模式"],
                                   dues, result.vector)
            yield answer.answer, answer
            return
        checked, notes = verify(strip_reasoning(text), given, added_numbers(dues))
        if not MARKER_RE.search(checked) or len(checked) < 4:
            answer = self._offline(query, sources, notices + ["模型回答没有引用依据，已改用离线模式"], dues,
                                   result.vector)
            yield answer.answer, answer
            return
        answer = Answer(checked, "llm", False, "；".join(notices + notes), narrow_basis(checked, _shown(checked, given)), query,
                        direct=not NOT_DIRECT_RE.match(checked.lstrip()))
        yield answer.answer, answer

    def ask(self, question: str, history: list[tuple[str, str]] | None = None) -> Answer:
        final = None
        for _, final in self.stream(question, history):
            pass
        assert final is not None
        return final
