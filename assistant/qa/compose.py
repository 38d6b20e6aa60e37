"""The offline answer: a first line that states what was asked, or says honestly that no
retrieved passage states it.

For each ask of the question (assistant.qa.asks) every sentence of the retrieved passages is a
candidate. A candidate scores by how much of the ask's subject it covers (IDF-weighted, the
lexicon's formal words standing in for colloquial ones), how well it states the kind of thing
asked (a number, a frequency, a body, a list…), how closely one of our own questions about it
matches the user's (a card's 问/答 pair, or a phrasing of knowledge/questions anchored in that
sentence), whether it sits in the card section that answers this kind of ask (什么时候, 谁来做,
怎么做…), whether it is the rule's clause for the case the question states (书记出差了 → 书记不能
参加会议的，…) or whose condition the head count it states meets (120名党员 → 100人以上的，…), and
by its passage's rank. The best candidate answers the ask only when one of our questions matches
it closely and it covers some of the subject, or when it states the kind asked and covers the
subject well enough (or all of it, from one of the best two passages, or as the clause for the
case stated); a steps ask that nothing answers so gets the 怎么做 of the card about exactly its subject;
otherwise the answer says that no rule found states it and lists the most relevant passages.
Yes/no asks open with the yes or no the sentence supports (when the best says none, a direct one of
the next few that does, covering as much and fitting the head count stated, answers instead); steps and lists carry the
enumeration that follows their lead sentence. A fill-in-the-blank question (assistant.qa.blanks)
is answered by the sentence that quotes the words around its blanks, with what it puts in them.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ..citations import CITED_RUN_RE, LABEL_RE
from ..knowledge import OUR_KINDS
from .asks import PROCEDURE_WORDS, Ask, analyse, subject_words
from .blanks import fill, pieces, shared_pairs
from .cases import Group, another_case, same_case
from .counts import fits, fitting_segments, stated_count, stated_fewer, without_conditions, without_count
from .lexical import char_pairs
from .retrieve import expand_query

# Weights and thresholds, chosen on bench/devset.jsonl + bench/realdev.jsonl (and, for the per-kind
# thresholds below, bench/holdout*.jsonl but holdout3) for the product configuration and a fresh
# machine together, never on the blind sets: the most correct first lines while answers that state
# something else stay near 5 % of each set (README "实测数据").
W_COVER, W_CONTEXT, W_KIND, W_MATCH, W_SECTION, W_BOUND, W_RANK, W_POS = 1.5, 0.0, 0.5, 1.0, 0.5, 0.0, 0.25, 0.03
W_DENSE, DENSE_FLOOR = 20.0, 0.85  # the dense similarity of our closest question, above the floor
W_EXCEPTION = 2.0       # a question stating an absence (书记出差了、没单位) wants the clause for that case
W_COUNT = 1.0           # a question stating a head count (有120名党员) wants the rule whose condition it meets
ABSENT_NOUN = 4         # a word this long the passages never use (思想汇报) names a thing asked about: it weighs as the rarest
IDF_CAP = 4.0           # a very rare word weighs no more than this
GENERIC_CAP = 1.0       # nor a word naming a procedure more than this (入党的流程: 入党 is the subject)
MIN_MATCH = 0.55        # one of our questions this close to the user's (in words) makes its answer direct
MIN_MATCH_COVER = 0.3   # (when the answer also covers this much of the asked subject)…
SAME_QUESTION = 0.95    # …or whatever it covers, when the user's question is one of ours in words
MIN_COVER = (0.4, 0.96)  # …or the sentence states the kind asked, covers this much, and our question is this close in meaning
# …or it states the kind asked and covers (exactly) this much of the subject, with our closest question
# at least this close in meaning, from a passage ranked at most this (0 = best): nearly all of it in general,
# less where the statement has the form of the kind asked (a frequency, a body, a term: 每届5年, 1个月内; an
# enumeration: 共5种：警告；严重警告；…) or a yes/no rule matches closely in meaning; a term with no close
# question of ours must cover more of the subject
FULL_COVER = (0.9, 0.93, 1)
CASE_COVER = 0.5  # …or it is the clause for the case the question states and covers this much of the subject
KIND_COVER = {"frequency": ((0.5, 0.0, 99),), "who": ((0.5, 0.0, 99),), "yes_no": ((0.4, 0.94, 1),),
              "duration": ((0.6, 0.9, 1), (0.7, 0.0, 1)), "list": ((0.6, 0.93, 3), (0.7, 0.95, 1))}
PRACTICE_COVER = {"steps": 0.45, "definition": 0.9}  # a local-practice card covering this much of a how-to / what-is ask's subject answers it
MAX_LINE = 220          # characters of a first line built from an enumeration
MIN_CLAUSE_COVER = 0.3  # a yes or no is said only when the deciding clause is about the subject
PRACTICE_REACH = 5      # a local-practice card answers when the best of the top five passages' statements is its
VERDICT_REACH = 5       # how far below the best a direct statement is looked for (a yes or no; the case asked)
CLOSE_SCORE, CLOSE_DENSE = 0.1, 0.94  # a statement scored within this of a best that is not direct, with one of our
                                      # questions this close in meaning, answers in its place when it is direct

# which section of a card answers which kind of ask
SECTION_KINDS = {
    "是什么": ("definition", "list", "other"), "做什么": ("definition", "list", "other"),
    "什么时候": ("when", "frequency", "duration"), "谁来做": ("who",),
    "怎么做": ("steps",), "支部可以怎么做": ("steps", "list", "other"),
    "合格标准": ("list", "other"), "要解决的问题": ("list", "other"),
}

_LIST_MARK_RE = re.compile(r"^(?:[-*•·]\s*|\d{1,2}[.、．](?!\d)\s*|[（(][一二三四五六七八九十]+[）)]\s*|#+\s*)+")
_ENUM_RE = re.compile(r"^(?:[（(][一二三四五六七八九十]+[）)]|\d{1,2}[.、．](?!\d)|[-*•·])")
_MD_RE = re.compile(r"\*\*|__|`|^\s*>\s*|^\s*#+\s*")
_TABLE_ROW_RE = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE_RE = re.compile(r"^\s*\|?\s*:?-{2,}")
# lines of a card that are not answers: typical mistakes, worked examples, the practice mark
_NOT_ANSWER_RE = re.compile(r"^(?:常见错误|例：|示例|算例|资料边界|（地方实践)")
# a card's 依据 line (《…》第X条：shorthand of the article): a pointer, not an answer
_BASIS_LINE_RE = re.compile(r"^《[^》]+》(?:第[零〇一二两三四五六七八九十百千]+(?:条|部分|点)|序言)(?:、第[^：]+)?[：:]")
_NO_RULE_RE = re.compile(r"没有(?:具体|明确|统一)?(?:规定|步骤|内容)|未作(?:具体|明确)?规定|没有写|不涉及|收录的文件(?:里|中)没有|未见规定|没有找到")

_NUM = r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千半]+)"
_FORMS: dict[str, re.Pattern] = {
    "number": re.compile(rf"{_NUM}\s*(?:个|名|人|家|次|元|%|％|级|种|类|项|所|岁|学时|届|票|倍|分之|至{_NUM})|半数|过半|多数|三分之二|二分之一"),
    "frequency": re.compile(rf"每(?:年|月|季度|半年|周|届|个月)|一般每|定期|至少.{{0,8}}{_NUM}\s*次|{_NUM}\s*次|按月|逐月|一年一次|每年度|随时召开"),
    "duration": re.compile(rf"{_NUM}\s*(?:个月|年|日|天|个工作日|工作日|周|学时|小时)|期限"),
    "when": re.compile(rf"年底|年初|年末|第[一二三四]季度|[一二三四]季度|{_NUM}\s*月(?!份工资)|之日|当月|次月|届满前|期满前|会前|会后|以前|之前|前{_NUM}|"
                      rf"后的?{_NUM}\s*(?:个月|个工作日|工作日|日|天|周|年)内"),  # 批复后的一个月内: a deadline
    "who": re.compile(r"党委|党组|党支部|支部委员会|支委会|党员大会|书记|副书记|委员|组织部门|纪委|纪律检查委员会|上级党组织|"
                      r"基层党委|党总支|总支部|机关党委|介绍人|本人|党小组|培养联系人|组织员|党组织|工委|派驻"),
    "rate": re.compile(r"%|％|百分之|元"),
    "yes_no": re.compile(r"可以|可|应当|应|必须|须|不得|不能|不可|不予|禁止|严禁|不准|允许|有权|无权|不再|不宜|能够|一律|视为|不作为|"
                         r"不列为|享有|没有"),
    "reason": re.compile(r"为了|旨在|目的是|是为|因为|由于|的需要|源于|起源于|始于"),
    "definition": re.compile(r"是指|是党|是.{0,30}的|即|称为|指的是|分为|包括|为"),
}
_SENTENCE_END_RE = re.compile(r"(?<=[。！？])")
_PERIODIC_RE = re.compile(rf"每{_NUM}\s*(?:个月|年|周|天)")  # every so long: a frequency, not a span
_STEP_WORDS_RE = re.compile(r"手续是|程序是|步骤|流程|程序：|手续：|依次|按照以下|首先|先[^，。；]{1,30}[，；]再")
_STEP_CLAUSE_RE = re.compile(r"[，,](?:要|须|应当|并且|然后|再|经|报)")
_PRINCIPLES_RE = re.compile(r"坚持|原则")
_ENUMERATES_RE = re.compile(r"包括|分为|下列|以下|有[一二两三四五六七八九十\d]+(?:种|类|项|个方面)")
_ASKS_NEGATION_RE = re.compile(r"(?:能|可以|可|要|得|会|准)\S{0,4}不(?!能|可以|行|要|会|用|是)|不\S{0,3}(?:可以吗|行吗|行不行|可不可以)")
# a question that states an absence or an exception (书记出差了, 我现在没单位, 单位没建党组织) …
_ASKS_EXCEPTION_RE = re.compile(r"没有?(?!问题|关系|事|转)|未(?!转)|不在|出差|休假|生病|病了|住院|不够|不足|空着|请假|不能参加|来不了|去不了")
# … is answered by the rule's clause for that case (书记不能参加会议的，…; 没有工作、学习单位…的，…), not by the default
_STATES_EXCEPTION_RE = re.compile(r"(?:未|没有|不能|不足|无法|不在|空缺|缺额|因故|尚未)[^，。；？]{0,30}的(?:[，,]|人|党员)|不能参加|不能履行|无法履行|"
                                  r"(?:没有?|未)(?:建立?|成立|设)?(?:党组织|党支部|单位)")
# our answer to a yes/no question opens with its verdict (不算。…): it answers that question, not a number or a body
_VERDICT_RE = re.compile(r"(?:一般)?(?:不?(?:可以|能|需要|要|算|是|会|必须|应当|允许)|有|没有|不一定|不用)[。，,]")
_CITED_THEN_CLAUSE_RE = re.compile(rf"（{CITED_RUN_RE.pattern}[^）]*）[；;]")  # …（《…》第十六条）；then more
_OWN_VERDICT_RE = re.compile(r"[^，。；：,;:（(]{1,6}。")  # a short first sentence of ours: its verdict
_PROHIBITS_RE = re.compile(r"严禁|禁止|不得|不准|不允许")
# the facet of a subject a question asks about, by the words that name it
_FACETS = ((("条件",), ("条件", "资格", "谁能", "谁可以", "什么人", "哪些人")),  # (words the user names it by, its forms)
           (("任务", "职责"), ("任务", "职责", "做哪些", "干什么", "做什么", "负责")),
           (("区别",), ("区别", "不同")),
           (("用途",), ("用途", "用于", "用在", "花在", "能用", "使用范围")),
           (("原则",), ("原则",)))
_MAX_RE = re.compile(r"不超过|最多|最长|以内|之内|不得超过|不多于|上限|为限|至多|(?:天|日|周|月|年|工作日)内")
_MIN_RE = re.compile(r"不少于|至少|以上|不低于|起码|满")
_BOUND_RE = {"max": _MAX_RE, "min": _MIN_RE}  # how a statement states the bound an ask names
_EXTENDED_RE = re.compile(r"延长[^。]*(?:不得超过|不超过|最长|至多)")  # 可以适当延长…，但不得超过六个月: the real ceiling
_NEGATIVE_RE = re.compile(r"不得|不能|一律不|不可|不予|不准|禁止|严禁|不应|不宜|不再|无权|不允许|不作为|不列为|不算|不计|不需要|不必|无需|"
                          r"不是|没有(?:表决权|选举权|被选举权)|不享有|不发展|不收|不转|不接收|不批准|不承认|不一律|不一定")


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as the composer reads it."""

    n: int          # its citation number
    text: str
    title: str = ""
    chapter: str = ""
    kind: str = ""  # document / card / practice
    anchors: str = ""  # JSON [[phrasing, anchor], …] (see assistant.qa.phrasings)

    @property
    def context(self) -> str:
        return f"{self.title} {self.chapter}"

    @property
    def section(self) -> str:
        """The card section the passage is (是什么, 怎么做 …); "" for a regulation."""
        return self.chapter if self.kind in OUR_KINDS else ""


@dataclass(frozen=True)
class QuestionVectors:
    """The user's question vector and the stored vectors of our own questions (by ask_key)."""

    query: object = None  # np.ndarray
    stored: dict = field(default_factory=dict)
    model_key: str = ""

    def similarity(self, question: str) -> float:
        """Cosine similarity of the user's question and one of ours; 0 when either is missing."""
        v = self.stored.get(ask_key(self.model_key, question)) if self.query is not None else None
        return float(v @ self.query) if v is not None else 0.0


@dataclass
class Candidate:
    """One sentence of a retrieved passage that could answer an ask."""

    text: str
    passage: Passage
    rank: int       # the passage's rank among the retrieved ones (0 = best)
    pos: int        # the sentence's place in its passage
    asked: str = ""  # the card question this sentence answers
    tail: tuple[str, ...] = ()  # the enumeration after a lead sentence ending in "："
    no_rule: bool = False  # the sentence (our answer: its first) says the texts set no rule for this
    phrasings: tuple[str, ...] = ()  # our colloquial questions anchored in this sentence

    @property
    def full(self) -> str:
        return self.text + "；".join(self.tail)

    @property
    def said(self) -> str:
        """What the candidate is about: the card question it answers, then the statement."""
        return f"{self.asked} {self.full}"


@dataclass
class Part:
    """The answer to one ask: the line, the source it rests on, whether it is direct, and the
    other candidates in the order they scored (for key points)."""

    ask: Ask
    line: str
    n: int | None
    direct: bool
    ranked: list = field(default_factory=list)
    best: object = None  # the statement the line was built from (a _Scored)


# -- reading passages ---------------------------------------------------------------------------
def clean(line: str) -> str:
    """A line of a card or regulation as plain text: no Markdown, no list mark, no article label."""
    line = re.sub(rf"^{LABEL_RE.pattern}(?:（续）)?[\s\u3000]*", "", line.strip())
    line = _MD_RE.sub("", line)
    return _LIST_MARK_RE.sub("", line).strip()


def _plain(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _lines(text: str) -> list[str]:
    """A passage's lines as plain text: a Markdown table becomes one sentence per row."""
    lines = text.split("\n")
    out: list[str] = []
    header: list[str] | None = None
    for i, raw in enumerate(lines):
        if _TABLE_RULE_RE.match(raw):
            continue
        if not _TABLE_ROW_RE.match(raw):
            header = None
            out.append(raw)
            continue
        cells = [clean(c) for c in raw.strip().strip("|").split("|") if c.strip()]
        if header is None and i + 1 < len(lines) and _TABLE_RULE_RE.match(lines[i + 1]):
            header = cells
        elif header and len(header) == len(cells) > 1:
            out.append("- " + "；".join(f"{h}：{c}" for h, c in zip(header, cells)) + "。")
        else:
            out.append("- " + "，".join(cells) + "。")
    return out


def our_questions(text: str, anchors: str) -> list[str]:
    """Our own questions in a passage: a card's 问： lines and the phrasings anchored in it."""
    asked = [clean(ln)[2:].strip() for ln in text.split("\n") if clean(ln).startswith(("问：", "问:"))]
    return list(dict.fromkeys(asked + [q for q, _ in (json.loads(anchors) if anchors else [])]))


def ask_key(model_key: str, question: str) -> str:
    """The store key of one of our questions' vector (assistant.qa.index.Store.put_asks)."""
    from .vectors import text_key

    return text_key(f"{model_key}:query", question)


def _statements(sentence: str) -> list[str]:
    """A sentence of a card as its statements: a rule with its citation and then what no rule says
    (…书记每年至少讲1次（《…》第十六条）；其他领导干部的具体次数…没有规定) are two."""
    m = _CITED_THEN_CLAUSE_RE.search(sentence)
    if m and _NO_RULE_RE.search(sentence[m.end():]) and not _NO_RULE_RE.search(sentence[:m.end()]):
        return [sentence[:m.end() - 1] + "。", sentence[m.end():]]
    return [sentence]


def candidates(p: Passage, rank: int) -> list[Candidate]:
    """Every statement of a passage: card answers with their questions, sentences with the
    phrasings anchored in them, enumerations kept with their lead, Markdown removed."""
    out: list[Candidate] = []
    lines = _lines(p.text)
    asked = ""
    i = 0
    while i < len(lines):
        line = clean(lines[i])
        i += 1
        if not line:
            continue
        if line.startswith(("问：", "问:")):
            asked = line[2:].strip()
            continue
        this_asked = ""
        if line.startswith(("答：", "答:")):
            line, this_asked = line[2:].strip(), asked
        asked = ""
        if _NOT_ANSWER_RE.match(line) or _BASIS_LINE_RE.match(line):
            continue
        tail: list[str] = []
        if line.endswith(("：", ":")):  # a lead: the enumeration below belongs to it
            while i < len(lines) and (_ENUM_RE.match(lines[i].strip()) or (lines[i].strip() and not tail)):
                item = clean(lines[i])
                if not item or item.startswith(("问：", "答：")) or _BASIS_LINE_RE.match(item):
                    break
                tail.append(item.rstrip("。；;"))
                i += 1
        # our own answers stay whole (一般不能。临时党支部不发展党员…) but for what no rule says after a cited rule;
        # a regulation's lines split into sentences
        sentences = _statements(line) if this_asked else [t for s in _SENTENCE_END_RE.split(line) if s.strip()
                                                          for t in _statements(s.strip())]
        for sent in sentences:
            if len(sent) > 3 and not sent.endswith(("？", "?")):
                lead = sent.endswith(("：", ":"))
                out.append(Candidate(sent, p, rank, len(out), this_asked, tuple(tail) if lead else (),
                                     bool(_NO_RULE_RE.search(_SENTENCE_END_RE.split(sent)[0]))))
    for question, anchor in (json.loads(p.anchors) if p.anchors else []):
        a = _plain(anchor)
        for c in out:
            if a in _plain(c.full):
                c.phrasings += (question,)
                break
    return out


# -- coverage -----------------------------------------------------------------------------------
class Coverage:
    """How much of a question's subject a text covers: IDF-weighted, with the lexicon's formal
    words standing in for colloquial ones and partial credit for shared character pairs."""

    def __init__(self, words: Sequence[str], idf: Callable[[str], float], lexicon: dict[str, list[str]]) -> None:
        self.words = list(words)

        def formal_idf(form: str) -> float:  # a phrase of the regulations: by its character pairs
            pairs = char_pairs(form) or [form]
            return sum(idf(p) for p in pairs) / len(pairs)

        groups = []
        for w in words:
            forms = [w] + [t for k, terms in lexicon.items() if k == w or (len(k) > 1 and k in w) for t in terms]
            # a colloquial word the passages never use (休假) weighs as much as its formal forms (不能参加)
            groups.append((tuple(dict.fromkeys(forms)),
                           idf(w) or max((formal_idf(f) for f in forms[1:]), default=0.0)
                           or (IDF_CAP if len(w) >= ABSENT_NOUN else 0.0)))
        # a noun this long that neither the passages nor the lexicon know (直系亲属): only a text naming it can answer
        self.absent = [forms for w, (forms, _) in zip(words, groups)
                       if len(w) >= ABSENT_NOUN and not idf(w) and not any(formal_idf(f) for f in forms[1:])
                       and not re.search(r"[\d零〇一二两三四五六七八九十百千]", w)]  # 七八十个 is a count
        self.all_forms = [forms for forms, _ in groups]
        self.groups = [(forms, weight) for forms, weight in groups if weight > 0]
        self.total = sum(weight for _, weight in self.groups) or 1.0
        self.lexicon = lexicon

    def names_all(self, text: str) -> bool:
        """Whether the text names every subject word (or a formal form of it), weightless ones too."""
        return self._names(self.all_forms, text)

    def names_absent(self, text: str) -> bool:
        """Whether the text names every subject noun the knowledge base never uses (true when there is none)."""
        return self._names(self.absent, text)

    def _names(self, words: list[tuple[str, ...]], text: str) -> bool:
        text = expand_query(unicodedata.normalize("NFKC", text), self.lexicon)
        return all(any(f in text for f in forms) for forms in words)

    def __call__(self, text: str, partial: float = 0.5) -> float:
        """The covered share; a word not in the text still earns ``partial`` times the share of
        its character pairs that are (党小组长 in 党小组), for ranking — 0 for deciding. The
        text's own colloquial words count through their formal forms too (支书不在 covers 书记休假)."""
        text = expand_query(unicodedata.normalize("NFKC", text), self.lexicon)
        got = 0.0
        for forms, weight in self.groups:
            if any(f in text for f in forms):
                got += weight
                continue
            pairs = char_pairs(forms[0])
            if pairs and partial:
                got += partial * weight * sum(p in text for p in pairs) / len(pairs)
        return got / self.total


def idf_of(lexical) -> Callable[[str], float]:
    """The weight of a question word: its IDF over the passages, capped. A word the knowledge
    base never uses (colloquial: 隔、调走、借出去) weighs nothing here: retrieval, the lexicon
    and the phrasings have already bridged it, and no passage can contain it."""
    def idf(word: str) -> float:
        return min(lexical.idf(word), GENERIC_CAP if word in PROCEDURE_WORDS else IDF_CAP) if word in lexical.df else 0.0
    return idf


# -- the kind of answer -------------------------------------------------------------------------
def kind_strength(kind: str, text: str) -> float:
    """How well a sentence states the kind of thing asked, from 0 to 1: a list or steps by
    how many items it enumerates, the other kinds by the form of their answer."""
    if kind in ("list", "steps"):
        if kind == "steps" and _PRINCIPLES_RE.search(text):  # principles to hold to (坚持…；坚持…) are no steps
            return 0.0
        clauses = text.count("；") + text.count(";")  # steps are clauses (…，要…，要…，并且…); a list may be a run of 、
        items = (max(clauses, len(_STEP_CLAUSE_RE.findall(text))) if kind == "steps"
                 else max(text.count("、"), clauses)) + 1
        strength = min(1.0, (items - 1) / 3)
        if kind == "steps" and _STEP_WORDS_RE.search(text):
            strength += 0.5
        if _ENUMERATES_RE.search(text):
            strength += 0.3
        return min(1.0, strength)
    if kind == "other":
        return 0.5
    form = _FORMS.get(kind)
    return 1.0 if form is None or form.search(text) else 0.0


def _strength(ask: Ask, c: Candidate, count: int | None = None) -> float:
    """How well the candidate states the kind asked; with a stated head count, a number in the
    rule's condition (7人以上的) is the case, not the number asked (支委会设几个人)."""
    section_fits = any(k in SECTION_KINDS.get(c.passage.section, ()) for k in ask.kinds)
    if section_fits or (ask.kind == "yes_no" and c.asked and _OWN_VERDICT_RE.match(c.text)):
        return 1.0  # our answer to a yes/no question opens with its verdict (一般不办理。…)
    text = c.full if count is None else without_conditions(c.full)
    unit = _asked_unit(ask.text)
    return max(0.0 if (k == "number" and unit is not None and not unit.search(text)
                       or k == "definition" and not _defines(ask, text)) else kind_strength(k, text)
               for k in ask.kinds)


_DEFINES_RE = re.compile(r"[^，。；：]{0,6}?(?:是指|指的是|是|即|称为|分为|包括|为)")


def _defines(ask: Ask, text: str) -> bool:
    """Whether a sentence says what one of the asked words is: the word, then within a few characters 是/即/
    指/分为… (党组织应当采取吸收入党积极分子听党课…等方法 names 入党积极分子 but defines nothing)."""
    return any(re.search(re.escape(w) + _DEFINES_RE.pattern, text) for w in ask.subject)


# the unit a count asked for names (多少人, 几家, 几届): a number of another unit (每月召开1次) does not answer it
_UNITS = ((re.compile(r"多少人|几个?人|多少名|几名|几位|人数"),
           re.compile(rf"{_NUM}\s*(?:个人|人|名|位)|半数|过半|多数|三分之二|二分之一|{_NUM}\s*至\s*{_NUM}\s*(?:人|名)")),
          (re.compile(r"几家|多少家"), re.compile(rf"{_NUM}\s*(?:家|个单位|个)")),
          (re.compile(r"几所|多少所"), re.compile(rf"{_NUM}\s*(?:所|个)")),
          (re.compile(r"几届|多少届"), re.compile(rf"{_NUM}\s*届")),
          (re.compile(r"几票|多少票"), re.compile(rf"{_NUM}\s*票|半数|过半|多数|三分之二|二分之一")),
          (re.compile(r"几级|多少级"), re.compile(rf"{_NUM}\s*级")))


def _asked_unit(text: str) -> re.Pattern | None:
    """The form of a number in the unit the question's count asks for; None when it names none."""
    return next((form for cue, form in _UNITS if cue.search(text)), None)


def _polarity(ask: Ask, c: Candidate, cover: Coverage, count: int | None = None) -> str | None:
    """'yes' or 'no' as the sentence's deciding clause says it: of the clauses that carry a
    modal (可以, 应当, 不得…), the one most about the question's subject. None when unclear —
    no such clause says much of the subject, or the question itself asks about a negation
    (能不收吗、可以不参加吗), where the rule's own words answer better than a bare yes or no."""
    if _ASKS_NEGATION_RE.search(ask.text) or (count is not None and fits(count, c.text) is False):
        return None  # (a rule for another size says nothing of this one: 5人 is not 7人以上的)
    text = c.text if count is None else fitting_segments(count, c.text)  # 120名: the 100人以上的 clause decides
    clauses = [x for x in re.split(r"[，；,;]", text) if (_FORMS["yes_no"].search(x) or _NEGATIVE_RE.search(x))
               and not x.endswith("的")]  # …不能参加会议的, is the case, not the rule
    if not clauses:
        return None
    best = max(clauses, key=cover)
    if cover(best) < MIN_CLAUSE_COVER:
        return None
    if ask.yes_no_words()[0] in ("会", "算") and _PROHIBITS_RE.search(best):
        return None  # 会不会算公款旅游: a ban on the thing does not say whether this case is it
    return "no" if _NEGATIVE_RE.search(best) else "yes"


_WHO_DOES_RE = re.compile(r"(?:由谁|谁来|谁|哪个部门|哪个组织|哪级|哪一级|哪个党组织|哪个单位)(?:来|负责|去|进行)?(.+)")


def _who_does(ask: Ask) -> list[str]:
    """For a who ask (由谁保管, 谁来主持), the word of what the body or role does: a statement that
    never says it does not say who does it."""
    m = _WHO_DOES_RE.search(ask.text) if ask.kind == "who" else None
    return [w for w in ask.subject if m and m.group(1).startswith(w)][:1]


_CITED_PAREN_RE = re.compile(rf"（{CITED_RUN_RE.pattern}[^）]*）")
_DENIED_RE = re.compile(r"(?:不能|不得|不可|不予|不再|无权|不)\w{0,4}")


def _affirmed(text: str) -> str:
    """What a statement says is done, without our card's citation (《…收缴、使用和管理的规定》 does not say who
    收缴) or what it says is not done (党组不能审批预备党员 does not say who 审批)."""
    return _DENIED_RE.sub("", _CITED_PAREN_RE.sub("", text))


def _only_frequency(text: str) -> bool:
    """Whether a sentence gives a time only as a frequency (每半年考察一次), no span besides it
    (每届任期3年 and 只能延长一次，不少于半年 state a duration)."""
    if not _FORMS["frequency"].search(text):
        return False
    rest = _PERIODIC_RE.sub("", _FORMS["frequency"].sub("", text))
    return not _FORMS["duration"].search(rest)


def _about(words: Sequence[str], ask: Ask) -> list[str]:
    """The words an ask is about: for steps, not the word naming the procedure (入党的流程 is
    about 入党; whether a sentence gives steps is its kind's strength, and 流程 ≠ 程序 in words)."""
    return [w for w in dict.fromkeys(words) if ask.kind != "steps" or w not in PROCEDURE_WORDS]


# -- matching our own questions -----------------------------------------------------------------
def _match(question_cover: Coverage, asked: str, idf: Callable[[str], float], lexicon: dict[str, list[str]],
           question: str, ask: Ask, states_bound: bool = False) -> float:
    """How closely one of our questions matches the user's: the harmonic mean of how much of
    the user's subject it covers and how much of its own the user's question covers (exact
    words, IDF-weighted); 0 when it asks another kind of thing (多久一次 is not 最长几年) — a
    bound (最长、至少) the answer itself states needs no echo in our question."""
    ours = analyse(asked)
    if not ({k for a in ours for k in a.kinds} & set(ask.kinds)) or (
            ask.bound and not states_bound and not any(a.bound == ask.bound for a in ours)):
        return 0.0
    forward = question_cover(asked, partial=0.0)
    back = Coverage(_about(subject_words(asked), ask), idf, lexicon)(question, partial=0.0)
    return 2 * forward * back / (forward + back) if forward and back else 0.0


def _other_facet(question: str, asked: str) -> bool:
    """Whether our question asks another facet of the subject than the user's names (入党介绍人有什么条件
    is not 入党介绍人要做哪些事): the user asks for a facet by its word and ours names none of its forms. A facet
    word is asked for where it is what the question wants (什么条件, 党费的用途, 职责有哪些), not where it names
    something else (为专项任务临时组建的临时党支部)."""
    return any(any(re.search(rf"(?:哪些|什么|啥|的){n}|{n}(?:是|有|包括|都|[？?]|$)", question) for n in names)
               and not any(f in asked for f in forms) for names, forms in _FACETS)


def _best_match(question_cover: Coverage, c: Candidate, idf: Callable[[str], float], lexicon: dict[str, list[str]],
                question: str, ask: Ask, vectors: QuestionVectors) -> tuple[float, float]:
    """(word match, meaning match) of the closest of our questions this sentence answers."""
    asked = tuple(a for a in ((c.asked,) if c.asked else ()) + c.phrasings if not _other_facet(question, a))
    bound = _BOUND_RE.get(ask.bound)
    states_bound = bool(bound and bound.search(c.full))
    words = max((_match(question_cover, a, idf, lexicon, question, ask, states_bound) for a in asked), default=0.0)
    meaning = max((vectors.similarity(a) for a in asked), default=0.0)
    return words, meaning


# -- choosing and shaping -----------------------------------------------------------------------
@dataclass
class _Scored:
    c: Candidate
    score: float
    cover: float   # with partial credit (ranking)
    match: float   # word match of our closest question
    strength: float = 0.0
    exact: float = 0.0  # coverage without partial credit (deciding)
    dense: float = 0.0  # meaning match of our closest question
    case: bool = False  # the clause for the absence or exception the question states (书记不能参加会议的，…)


def _score(ask: Ask, c: Candidate, cover: Coverage, match: float, dense: float = 0.0,
           exception: bool = False, count: int | None = None, fewer: int | None = None) -> _Scored:
    """A candidate's score for an ask; ``exception``: the question states an absence or exception;
    ``count``: the head count it states (a rule for another size scores lower, our own answer excepted);
    ``fewer``: the bound of the fewer-than case it states (不足三人 → 3; see assistant.qa.counts.fits)."""
    text = c.said
    cov = cover(text)
    case = exception and (bool(_STATES_EXCEPTION_RE.search(text)) if fewer is None  # 不足三人: the rule for 不足3人的
                          else fits(count, c.full, fewer) is True)  # (count is then fewer − 1: stated_count)
    strength = _strength(ask, c, count)
    if count is not None and ask.kind == "number" and not strength:
        match = dense = 0.0  # our question asked the size a rule sets a body up at; this one states it
    bound = _BOUND_RE.get(ask.bound)
    section_fits = any(k in SECTION_KINDS.get(c.passage.section, ()) for k in ask.kinds)
    score = (W_COVER * cov + W_CONTEXT * cover(c.passage.context) + W_KIND * strength + W_MATCH * match
             + (W_SECTION if section_fits else 0.0) + (W_BOUND if bound is not None and bound.search(c.text) else 0.0)
             + W_DENSE * max(0.0, dense - DENSE_FLOOR) - W_RANK * c.rank - W_POS * c.pos
             + (W_EXCEPTION if case else 0.0))
    holds = fits(count, c.full, fewer) if count is not None and ask.kind != "number" else None
    if holds or (holds is False and not c.asked):
        score += W_COUNT if holds else -W_COUNT
    return _Scored(c, score, cov, match, strength, cover(text, partial=0.0), dense, case)


def _section_line(c: Candidate, pool: list[Candidate]) -> str:
    """Steps or a list from a card section: its statements in order, numbered."""
    items = [x.text.rstrip("。；") for x in pool if x.passage is c.passage and not x.asked]
    return "；".join(f"{i}. {t}" for i, t in enumerate(items, 1)) + "。" if len(items) > 1 else c.text


def _line_for(ask: Ask, s: _Scored, cover: Coverage, pool: list[Candidate], count: int | None = None) -> str:
    """The first-line text for a chosen sentence: yes/no first, enumeration carried along."""
    c = s.c
    text = c.text
    if c.tail:
        joined = "；".join(t if re.match(r"[（(]", t) else f"（{i}）{t}" for i, t in enumerate(c.tail, 1))
        text = f"{text}{joined}"
    elif ask.kind in ("steps", "list") and c.passage.section in SECTION_KINDS and not c.asked:
        text = _section_line(c, pool)
    ceiling = _ceiling(ask, c, pool)
    if ceiling is not None:
        text = f"{text.rstrip('。；')}。{_without_verdict(ceiling.text) if ceiling.asked else ceiling.text}"
    if len(text) > MAX_LINE:
        text = text[:MAX_LINE].rstrip("；，、") + "……"
    if c.asked and ask.kind != "yes_no":
        text = _without_verdict(text)
    if ask.kind == "yes_no" and _one_by_one(ask, text) and not _VERDICT_RE.match(text):
        return f"{ask.yes_no_words()[1]}。{text}"  # 能一起表决吗 → 必须逐个表决: no, even in an answer of ours
    if ask.kind == "yes_no" and not c.asked:  # our own answers already open with their yes or no
        verdict = _polarity(ask, c, cover, count)
        if verdict:
            yes, no = ask.yes_no_words()
            text = f"{yes if verdict == 'yes' else no}。{text}"
    return text


_TOGETHER_RE = re.compile(r"一起|一块|一同|一并|同时|合并|打包|放在一起")
_ONE_BY_ONE_RE = re.compile(r"(?:必须|应当|应|须|要)(?:[^，。；]{0,6})?(?:逐个|逐一|分别|单独|逐人)")


def _one_by_one(ask: Ask, text: str) -> bool:
    """Whether the question asks if things may be done together and the rule says one by one (逐个讨论和表决)."""
    return bool(_TOGETHER_RE.search(ask.text) and _ONE_BY_ONE_RE.search(text) and not _ASKS_NEGATION_RE.search(ask.text))


def _without_verdict(text: str) -> str:
    """Our answer without the 不是。/可以。 it opens with: that answers another question than the one asked."""
    theirs = _VERDICT_RE.match(text)
    return text[theirs.end():] if theirs and theirs.group().endswith("。") and len(text) > theirs.end() else text


def _ceiling(ask: Ask, c: Candidate, pool: list[Candidate]) -> Candidate | None:
    """For a 最长/最多 ask, the sentence right after the chosen one that caps an extension of its time
    limit (三个月内审批。如遇特殊情况可以适当延长…，但不得超过六个月): the longest is that cap."""
    if ask.bound != "max" or _EXTENDED_RE.search(c.full):
        return None
    cites = set(LABEL_RE.findall(c.text))  # (in a card, the next item is another rule when it cites another article)
    return next((x for x in pool if x.passage is c.passage and x.pos == c.pos + 1 and _EXTENDED_RE.search(x.text)
                 and set(LABEL_RE.findall(x.text)) <= cites), None)


def _states(ask: Ask, s: _Scored) -> bool:
    """Whether a statement states the kind of thing asked (and the bound asked, 最长、至少)."""
    bound = _BOUND_RE.get(ask.bound)
    return s.strength >= 0.5 and (bound is None or bool(bound.search(s.c.full))) and not (
        ask.kind == "duration" and _only_frequency(s.c.full))


def _says_verdict(ask: Ask, s: _Scored, cover: Coverage, count: int | None) -> bool:
    """Whether a yes/no ask's first line from this statement opens with a yes or no."""
    if not s.c.asked:
        return _polarity(ask, s.c, cover, count) is not None
    if ask.yes_no_words()[0] in ("会", "算") and _PROHIBITS_RE.search(s.c.text):
        return False  # 会不会算公款旅游: our 不能。严禁… answers whether it may be done, not whether this case is it
    return bool(_VERDICT_RE.match(s.c.text) or _OWN_VERDICT_RE.match(s.c.text))


def _direct(ask: Ask, best: _Scored, cov: float, states_it: bool) -> bool:
    """Whether the best statement answers the ask (the thresholds above, in their order)."""
    verdict_only = ask.kind != "yes_no" and _VERDICT_RE.match(best.c.text)  # our answer to another kind of question
    if best.match >= (MIN_MATCH if cov >= MIN_MATCH_COVER else SAME_QUESTION) and not verdict_only:
        return True
    if states_it and best.case and best.exact >= CASE_COVER:
        return True  # the rule for the very case the question states, naming all of its subject
    bars = (FULL_COVER, *KIND_COVER.get(ask.kind, ())) if _own_form(ask, best) else (FULL_COVER,)
    return states_it and (cov >= MIN_COVER[0] and best.dense >= MIN_COVER[1] or any(
        best.exact >= e and best.dense >= d and best.c.rank <= r for e, d, r in bars))


def _own_form(ask: Ask, s: _Scored) -> bool:
    """Whether a statement states the ask's own kind (not only one of its other readings), in the
    form of that kind's answer or in the card section for it: only then does the kind's lower bar apply."""
    if ask.kind == "yes_no":
        return True  # its form, a modal rule or our verdict, is what _states already asks of it
    return ask.kind in SECTION_KINDS.get(s.c.passage.section, ()) or kind_strength(ask.kind, s.c.full) >= 0.5


def _close_direct(ask: Ask, best: _Scored, scored: list[_Scored], also: Callable[[_Scored], bool]) -> _Scored:
    """The first of the statements just below the best (VERDICT_REACH) that states a rule, meets ``also`` and
    answers the ask directly; the best itself when none does."""
    return next((s for s in scored[1:VERDICT_REACH] if not s.c.no_rule and also(s) and _direct(ask, s, s.exact, _states(ask, s))),
                best)


def _card_steps(ask: Ask, s: _Scored, cover: Coverage, question: str) -> bool:
    """Whether a statement is a card's 怎么做 steps for a steps ask about exactly that card's subject:
    the title names every word of the ask's subject and the question every word of the card's topic
    (党小组会怎么开 → the card 党小组会; not 支委增补的程序 → a card on 支部委员会 that never says 增补,
    nor 入党流程 → the card 发展党员①：入党申请, one stage of it). When no statement answers
    directly, such steps do, wherever they ranked."""
    p = s.c.passage
    topic = p.title.split("：")[-1]
    return (ask.kind == "steps" and p.kind == "card" and p.section == "怎么做" and not s.c.asked
            and not s.c.no_rule and cover.names_all(p.title)
            and all(w in question for w in subject_words(topic)))


def _practice(ask: Ask, best: _Scored, scored: list[_Scored], states_it: bool) -> _Scored | None:
    """The statement of a local-practice card that answers the ask, or None: a how-to ask
    (先紧后松怎么办, 领办项目怎么做) gets what the card says a branch can do, when that part was
    retrieved (never the problem the card names); a what-is ask the card's statement of it, when
    it names the whole subject. Other asks (where to find, a rule of another body) are not
    answered from a city's practice."""
    if best.exact < PRACTICE_COVER.get(ask.kind, 2.0):
        return None
    if ask.kind == "steps":
        return next((s for s in scored if s.c.passage.title == best.c.passage.title
                     and s.c.passage.section in ("支部可以怎么做", "怎么做")), None)
    return best if states_it else None


def _filled(question: str, pool: list[Candidate]) -> Part | None:
    """The answer to a fill-in-the-blank question (…每（）举行一次): of the sentences that quote the
    words around its blanks, the one that quotes most and shares most of the question's other words,
    with what it puts in them first; None when none quotes them."""
    blank = pieces(question)
    if blank is None:
        return None
    found = [(f, c) for c in pool if not c.no_rule and (f := fill(blank, c.text))]
    if not found:
        return None
    (fills, quoted), c = max(found, key=lambda x: (x[0][1] + shared_pairs(blank, x[1].text, x[0][0]), -x[1].rank, -x[1].pos))
    line = "".join(f"“{f}”" for f in fills) + "。" + c.text
    ask = Ask("blank", question, ("blank",), tuple(subject_words(question)))  # no kind of assistant.qa.asks: a quote
    return Part(ask, line, c.passage.n, True, [], _Scored(c, float(quoted), 1.0, 0.0))


def answer_parts(question: str, passages: Sequence[Passage], lexical, lexicon: dict[str, list[str]],
                 vectors: QuestionVectors = QuestionVectors(), cases: Sequence[Group] = ()) -> list[Part]:
    """The answer to each ask of the question from the retrieved passages (best first); a
    fill-in-the-blank question has one, what the sentence quoting it puts in the blanks.
    ``cases``: groups of distinct cases (assistant.qa.cases); a statement about another case of
    one than the question names is not direct."""
    idf = idf_of(lexical)
    pool = [c for rank, p in enumerate(passages) for c in candidates(p, rank)]
    if (filled := _filled(question, pool)) is not None:
        return [filled]
    count, fewer = stated_count(question), stated_fewer(question)
    whole_words = without_count(subject_words(question), count)
    whole = Coverage(whole_words, idf, lexicon)
    parts: list[Part] = []
    used: set[str] = set()
    exception = bool(_ASKS_EXCEPTION_RE.search(question)) or fewer is not None  # 不满100人: a case too
    asks = analyse(question)
    for i, ask in enumerate(asks):
        if (ask.bound and i and asks[i - 1].bound not in ("", ask.bound) and set(ask.subject) == set(asks[i - 1].subject)
                and parts[-1].direct and _BOUND_RE[ask.bound].search(parts[-1].best.c.text)):
            continue  # 最少延多久、最多延多久: 不少于半年，最长不超过1年 answered both bounds
        # a part is about its own words and the parts before it, not a later part's (…多久开一次？要表决得来多少人？)
        scope = whole_words if len(asks) == 1 else without_count(
            subject_words(ask.text if ask.follows else "，".join(a.text for a in asks[:i + 1])), count)
        cover = Coverage(_about(without_count(subject_words(ask.text), count) + scope, ask), idf, lexicon)
        match_cover = Coverage(_about(scope, ask), idf, lexicon) if ask.kind == "steps" else Coverage(scope, idf, lexicon)
        asked = ask.text if ask.follows else question
        scored = [_score(ask, c, cover, *_best_match(match_cover, c, idf, lexicon, asked, ask, vectors), exception, count,
                          fewer)
                  for c in pool if c.text not in used]
        if not scored:
            parts.append(Part(ask, "", None, False))
            continue
        scored.sort(key=lambda s: -s.score)
        best = scored[0]
        if another_case(cases, question, best.c.said):  # 警告 is not 严重警告: a close statement of the case asked
            best = _close_direct(ask, best, scored, lambda s: same_case(cases, question, s.c.said))
        cov = best.exact
        if ask.kind in ("definition", "list", "steps", "other"):  # a card section is about its card's title
            cov = min(1.0, cov + 0.5 * cover(best.c.passage.context, partial=0.0))
        direct = (not best.c.no_rule and _direct(ask, best, cov, _states(ask, best))
                  and not another_case(cases, question, best.c.said)
                  and (best.match >= SAME_QUESTION or cover.names_absent(best.c.said)
                       and Coverage(_who_does(ask), idf, lexicon).names_all(_affirmed(best.c.said))))
        if direct and ask.kind == "yes_no" and not _says_verdict(ask, best, cover, count):
            best = _close_direct(ask, best, scored, lambda s: s.exact >= best.exact
                                 and (count is None or fits(count, s.c.full) is not False)
                                 and not another_case(cases, question, s.c.said) and _says_verdict(ask, s, cover, count))
        if not direct and not best.c.no_rule:  # a statement scored as high as the best that does answer directly
            close = _close_direct(ask, best, scored, lambda s: best.score - s.score <= CLOSE_SCORE and s.dense >= CLOSE_DENSE
                                  and not another_case(cases, question, s.c.said))
            best, direct = close, close is not best
        states_it = _states(ask, best)
        steps = None if direct or best.c.no_rule else next((s for s in scored if _card_steps(ask, s, cover, question)), None)
        if steps is not None:
            best, direct = steps, True
        lead = None if direct else next((s for s in scored if s.c.rank < PRACTICE_REACH), None)
        practice = (_practice(ask, lead, scored, _states(ask, lead))
                    if lead is not None and lead.c.passage.kind == "practice" else None)
        if practice is not None:
            best, direct = practice, True
        cap = _ceiling(ask, parts[-1].best.c, pool) if not direct and parts and parts[-1].direct else None
        if cap is not None:  # 一般多久内批？最长能拖多久？: the cap right after the term just answered
            best, direct = next((s for s in scored if s.c is cap), best), True
        line = ("（地方实践，非党内法规规定）" if practice is not None else "") + _line_for(ask, best, cover, pool, count)
        if direct:  # a part not answered leaves its best statement to the others
            used.add(best.c.text)
        parts.append(Part(ask, line, best.c.passage.n, direct, [s for s in scored if s is not best], best))
    return parts


def key_points(parts: list[Part], limit: int = 3, max_sources: int = 3, first: str | None = None,
               basis: int | None = None) -> list[tuple[int, str]]:
    """Up to ``limit`` further statements for the first ask, best first, drawing on at most
    ``max_sources`` passages in all. ``first``: the first line shown instead of the asks' own
    lines (a computed sum) — the first ask's best statement is then a key point too; ``basis``:
    the passage that line rests on (the rate table), whose best statement leads."""
    if not parts:
        return []
    if first is None:
        shown, ranked = {p.line for p in parts}, list(parts[0].ranked)
    else:
        shown, ranked = {first}, [s for s in [parts[0].best, *parts[0].ranked] if s is not None]
    if not ranked:
        return []
    floor = ranked[0].score / 2
    lead = next((s for s in ranked if s.c.passage.n == basis), None)
    if lead is not None:
        ranked = [lead] + [s for s in ranked if s is not lead]
    cited = [p.n for p in parts if p.direct and p.n is not None] if first is None else ([basis] if basis else [])
    out: list[tuple[int, str]] = []
    for s in ranked:
        n = s.c.passage.n
        text = s.c.full if len(s.c.full) <= MAX_LINE else s.c.full[:MAX_LINE] + "……"
        if any(text in x or s.c.text in x for x in shown):
            continue
        if s.c.asked:  # a card's answer after the question it answers, the two kept apart
            text = s.c.asked.rstrip("？?：:，, ") + "？" + text
        if any(text in x for x in shown) or (s.score < floor and s is not lead):
            continue
        if n not in cited and len(set(cited)) >= max_sources:
            continue
        out.append((n, text))
        shown.add(text)
        cited.append(n)
        if len(out) == limit:
            break
    return out


def related(passages: Sequence[Passage], question: str, lexical, lexicon: dict[str, list[str]],
            limit: int = 3) -> list[tuple[int, str]]:
    """The most relevant sentence of each passage (for the key points, or for an answer that
    found no direct rule)."""
    cover = Coverage(subject_words(question), idf_of(lexical), lexicon)
    out = []
    for rank, p in enumerate(passages[:limit]):
        cands = [c for c in candidates(p, rank) if not c.no_rule]
        if cands:
            best = max(cands, key=lambda c: (cover(c.said), -c.pos))
            text = f"{best.text}{'；'.join(best.tail)}" if best.tail else best.text
            out.append((p.n, text if len(text) <= MAX_LINE else text[:MAX_LINE] + "……"))
    return out


def first_line(parts: list[Part]) -> str:
    """答：… for the direct parts, each with its source marker, naming a part without basis as such."""
    if len(parts) == 1:
        line = parts[0].line if parts[0].line.endswith(("。", "……")) else parts[0].line + "。"
        return f"答：{line}[{parts[0].n}]"
    pieces = [f"{p.line.rstrip('。')}[{p.n}]" if p.direct else f"（“{p.ask.text}”）没有找到直接规定这一点的条文"
              for p in parts]
    return "答：" + "；".join(pieces)
