"""What a question asks: the kind of answer (a reason, a number, a frequency, a time limit, a body or
role, yes or no, steps, a definition, a list) and about what (its subject words).

A question may hold several asks (能不能…？最多几家？); each is answered on its own. This is
rule-based on purpose: it runs offline, in microseconds, and is the same with or without a model.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

#: Answer kinds, most specific first: the first kind whose cue a part holds is its kind.
KINDS = ("reason", "definition", "frequency", "duration", "when", "who", "rate", "number", "yes_no", "steps", "list", "other")

_CUES: dict[str, str] = {
    "reason": r"为什么|为何|为啥|怎么来的|由来|来历|起源|缘由|什么原因|何种原因|啥原因",
    "definition": r"什么是|是什么|指什么|是指什么|啥是|啥叫|什么叫|何为|何谓|含义|什么意思|啥意思|怎么理解|如何理解|怎样理解|性质|概念",
    "frequency": (r"多久(?:要|得|需要|应当|应该)?(?:开|召开|举行|进行|搞|组织|考察|汇报|报告|公布|交|缴|评议|讲|上|谈)?[^，。？?]{0,8}(?:一次|一回)"
                  r"|多长时间(?:开|召开|举行|进行|搞)?[^，。？?]{0,4}(?:一次|一回)|(?:一年|每年|每月|每季度|一个月|一季度|半年)[^，。？?]{0,6}(?:几次|几回|多少次)"
                  r"|(?:几次|几回|多少次)|频次|频率|多久(?:开|召开|举行|进行|考察|汇报|公布|交纳|缴纳|交|缴)"),
    "duration": (r"多长时间|多久|几年|几个月|多少天|几天|多少年|多少个月|几周|期限|时限|多长|最长|最短|几个工作日|多少个工作日|"
                 r"任期|有效期|多少学时|几个学时|几学时|多少小时|几小时"),
    "when": r"什么时候|何时|哪天|哪一天|几月|哪个月|什么时间|从哪天|从何时|何日|起算|哪一年|时间节点|哪个时候|啥时候|几时|哪个季度|什么季节",
    "who": (r"谁|哪些人|由哪|哪个部门|哪级|哪一级|什么人|什么组织|哪个组织|什么部门|找哪|归哪|哪里批|哪批|哪个单位|哪个党组织|"
            r"什么机关|哪个机关|什么级别|什么党组织|设什么|成立什么|建什么|组建什么|建立什么|哪种组织|哪个层级|还是"),
    "rate": r"比例|百分之|多少钱|交多少|缴多少|标准是多少|按什么标准|什么标准|(?:党费|交纳|缴纳|收缴|交|缴)[^，。？?]{0,3}标准",
    "number": r"几个|几名|多少人|几人|多少名|几位|多少个|多少|几家|几所|人数|几级|几种|几类|几项|几条|几届|几票|几成|几分之",
    "yes_no": (r"能不能|可不可以|可以不|能否|可否|是否|要不要|需不需要|需要不需要|用不用|算不算|是不是|有没有|行不行|会不会|"
               r"该不该|应不应该|可以吗|能吗|行吗|要吗|需要吗|必须吗|算吗|有吗|吗[？?]?$|(?<![什怎为多那这])么[？?]?$|"
               r"(?:能|可以|要|用|算|是|会|行)[^，,。？?不]{1,12}不[？?]?$"),  # 能单独建个支部不
    "steps": (r"怎么办|怎样办|如何办|咋办|怎么处理|如何处理|怎样处理|流程|程序|步骤|手续|(?:怎么|咋)(?:办理|做|开|写|转|交|算|确定|选|补|进行|操作|弄|搞|整)|"
              r"如何(?:办理|做|开展|进行|确定|转|交|选|补|操作|计算)|怎样(?:办理|做|开展|进行|确定|转|交|选|补)|怎么|如何|怎样|咋"),
    "list": r"哪些|哪几|全文|有什么|包括|包含|有啥|都有|分为|几种|几类|条件|要求|原则|范围|用途|情形|内容|职责|任务",
}
CUE_RE = {kind: re.compile(pattern) for kind, pattern in _CUES.items()}
# words that carry the question's form, not its subject (dropped after segmentation)
FILLER_WORDS = frozenset("""
请问 问一下 想问 咨询 一下 我们 咱们 我的 我 你 你们 您 你好 谢谢 急 网友 各位 大家 请教 这个 那个 这些 那些 一般 通常 到底 究竟 具体
规定 要求 有关 相关 关于 的话 情况 情况下 时候 为什么 什么 怎么 怎样 如何 为何 啥 咋 多久 多长 多长时间 多少 几 几个 几次 几回 几年
几天 几个月 一次 一回 哪些 哪个 哪里 哪儿 哪 谁 吗 呢 啊 吧 呀 么 能否 是否 可否 可以 可不可以 能不能 要不要 需不需要 是不是
有没有 算不算 行不行 能 能够 要 需要 应该 应当 必须 得 会 该 最多 最少 最长 最短 至少 最早 最晚 上限 下限 大概 大约 左右
才能 才 就 都 也 还 又 再 已经 现在 目前 是 有 在 给 当 把 被 让 对 和 与 或 或者 及 以及 等 的 了 着 过 呢 吗 么 嘛 哈 呗 啦
多 最 按 开 搞 弄 做 办 下 上 中 里 后 前 一年 一个 一名 每 该怎么 怎么办 怎么样 如何是好 理解 意思 含义 是指 指
最低 最高 最大 最小 起码 顶多 最迟 最多能 最少要 至少要 最长能 最多要 起来 这次 对于 概念 以后 之后
""".split())
_PART_SPLIT_RE = re.compile(r"[？?；;]|(?<=[吗么呢])[，,]|，(?=(?:最多|最少|最长|最短|多久|几|多少|什么时候|谁|能不能|可不可以|是否|要不要|那|还有|另外))|、(?=(?:最多|最少|最长|最短))")
_YES_WORDS = (
    (re.compile(r"需不需要|需要不需要|是否需要|需要吗|需要.*吗"), "需要", "不需要"),
    (re.compile(r"要不要|要.*吗$|用不用"), "要", "不需要"),
    (re.compile(r"算不算|算吗|算.*吗$"), "算", "不算"),
    (re.compile(r"有没有|有(?!效|关|个|位|名|人|一)[^，,]*吗$"), "有", "没有"),  # not 有个党员……，能…吗
    (re.compile(r"必须.*吗|是否必须"), "必须", "不是必须"),
    (re.compile(r"是不是|是.*吗$"), "是", "不是"),
    (re.compile(r"会不会|(?<![大委集例开])会(?!议).*吗$"), "会", "不会"),  # not 大会、会议
)

_ASKS_MODAL_RE = re.compile(r"能|可以|可否|可不可以|行不行|行吗")  # the asking clause's own modal


@dataclass(frozen=True)
class Ask:
    """One thing a question asks: its kind and the words it is about."""

    kind: str
    text: str
    kinds: tuple[str, ...] = ()  # every kind the part's cues allow, most specific first
    subject: tuple[str, ...] = field(default_factory=tuple)
    follows: bool = False  # its text says it whole: the previous ask put to another subject (…？那党小组会呢？), a facet

    @property
    def bound(self) -> str:
        """'max' for 最多/最长/上限, 'min' for 最少/至少/起码, '' otherwise."""
        if re.search(r"最多|最长|上限|最晚|不超过|最迟|顶多|最大", self.text):
            return "max"
        if re.search(r"最少|至少|起码|最短|下限|最早|最低|最小", self.text):
            return "min"
        return ""

    def yes_no_words(self) -> tuple[str, str]:
        """The words a yes and a no open with for this question (可以/不可以, 需要/不需要 …), as the clause
        that asks says it (这次支部大会要讨论两个发展对象，能一起表决吗: 可以, not 要)."""
        last = re.split(r"[，,]", self.text)[-1]
        # the whole question only when the asking clause has no modal of its own
        for scope in (last,) if last == self.text or _ASKS_MODAL_RE.search(last) else (last, self.text):
            for pattern, yes, no in _YES_WORDS:
                if pattern.search(scope):
                    return yes, no
        return "可以", "不可以"


def _kinds(text: str) -> tuple[str, ...]:
    found = tuple(k for k in KINDS if k in CUE_RE and CUE_RE[k].search(text))
    # a situation told first (支委会任期满三年了，换届咋弄): the clause that asks comes last and says what is asked
    last = re.split(r"[，,]", text)[-1]
    if last != text:
        found = tuple(k for k in found if CUE_RE[k].search(last)) or found
    # "多久…一次" is a frequency, not a duration; "几次" is a frequency, not a count
    if "frequency" in found:
        found = tuple(k for k in found if k not in ("duration", "number"))
    if "rate" in found:
        found = tuple(k for k in found if k != "number")
    # "…的流程（程序、手续、步骤）是什么" asks for the steps, not for a definition
    if "definition" in found and "steps" in found and _STEPS_NOUN_RE.search(text):
        found = tuple(k for k in found if k != "definition")
    # "…是如何规定的" asks what the rules say on the subject, not for steps
    if "steps" in found and _HOW_RULED_RE.search(text):
        found = tuple(k for k in found if k != "steps") + ("list",) * ("list" not in found)
    # a bare 怎么/如何 (怎样过组织生活, …怎么处理) asks in what way: a rule on the subject may say it without steps
    if found and found[0] == "steps" and not _PROCEDURE_ASK_RE.search(text):
        found = found + ("other",)
    return found or ("other",)


_HOW_RULED_RE = re.compile(r"(?:如何|怎么|怎样|怎么样)(?:作出?|做出?)?规定|有何规定")
#: words that name a procedure: they say what kind of answer is wanted more than what it is about
PROCEDURE_WORDS = frozenset("流程 程序 手续 步骤".split())
_STEPS_NOUN_RE = re.compile("|".join(sorted(PROCEDURE_WORDS)))
# what makes 怎么/如何 ask for steps: 怎么办, a procedure word, or a verb of holding or doing (咋开, 怎么写);
# 怎么处理 a case (半年不交党费) asks what the rule does with it
_PROCEDURE_ASK_RE = re.compile(rf"怎么办|怎样办|如何办|咋办|{_STEPS_NOUN_RE.pattern}|"
                               r"(?:怎么|如何|怎样|咋)(?:去|来|才能)?(?:开|召开|举行|组织|做|写|填|办|开展|操作|进行|搞|弄|整)")


# cue words that also name what is asked about: kept in the subject
CONTENT_CUES = frozenset("任期 期限 时限 有效期 人数 比例 标准 程序 流程 手续 步骤 条件 要求 原则 范围 用途 情形 内容 职责 任务 "
                         "性质 含义 频次 频率 学时 工作日".split())
_KEEP_ONE = frozenset("村镇县省市区乡校院所厂团票岁党")


# 多少人才能表决, 几个人到会: 人 is the count's unit, not the start of 人才 or 人到
_PERSON_UNIT_RE = re.compile(r"(?<=[几多少个两三四五六七八九十百\d])人(?=[才到])")
_BRANCH_SPLIT_RE = re.compile(r"(?<=支部)(?=分[了成为开])")  # 支部分了党小组: 支部 分了, not 支 部分


_GLUE = frozenset("能要可得会该需才就都也还又再从个")  # one-character fillers the segmenter's guesses glue onto a word
_BOUNDS = ("最多", "最少", "最长", "最短", "至少", "最晚", "最早")  # … and bounds (最多延 in 最少延多久、最多延多久)


def _unglued(jieba, token: str) -> list[str]:
    """A token the segmenter guessed (no dictionary word) that a filler starts or ends or a bound starts (能合 in
    最多能合几家, 内要 in 多长时间内要交, 最多延), cut again by the dictionary alone; any other token as it is."""
    if len(token) > 1 and (token[0] in _GLUE or token[-1] in _GLUE or token.startswith(_BOUNDS)) and not jieba.has_word(token):
        return list(jieba.cut(token, False))
    return [token]


# the regulation a question names as where to look (党章对于…是如何规定的, 《…条例》中的“加重一档”): not what it asks about
_NAMED_DOC_RE = re.compile(r"(?:根据|按照|依据|依照)?(?:《[^》]{2,40}》|党章|党纪处分条例|纪律处分条例|党纪条例|处分条例|支部工作条例|"
                           r"发展党员工作细则|工作细则|准则|条例|细则)(?:[（(]试行[）)])?(?=中|里|对于?|关于|上|是(?:如何|怎么|怎样)|如何|怎么|怎样)")

_ASKER_RE = re.compile(r"^[^，,。？?：:]{0,12}问[:：]")  # 网友“小林”问：, 问：


def subject_words(text: str) -> list[str]:
    """The content words of a question (precise segmentation, fillers and cue words dropped); a
    regulation it names as where to look is left out when other words remain."""
    text = _ASKER_RE.sub("", text)
    if (unnamed := _NAMED_DOC_RE.sub(" ", text)) != text and (words := _subject_words(unnamed)):
        return words
    return _subject_words(text)


def _subject_words(text: str) -> list[str]:
    from .lexical import _jieba

    jieba = _jieba()
    out = []
    for w in (piece for token in jieba.cut(_BRANCH_SPLIT_RE.sub(" ", _PERSON_UNIT_RE.sub("人 ", unicodedata.normalize("NFKC", text))))
              for piece in _unglued(jieba, token)):
        w = w.strip()
        if (not w or w in FILLER_WORDS or re.fullmatch(r"[\W_]+|(?:19|20)\d\d年?版?", w) or (len(w) == 1 and w not in _KEEP_ONE)
                or (w not in CONTENT_CUES and any(CUE_RE[k].fullmatch(w) for k in CUE_RE))):
            continue
        out.append(w)
    return list(dict.fromkeys(out))


_FOLLOW_UP_RE = re.compile(r"(?:那|那么|那如果|如果是|要是)?([^，,。]{1,12})呢")


def _follow_up(previous: str, part: str) -> str | None:
    """The previous ask put to another subject (支委会多久开一次？那党小组会呢？ → 党小组会多久开一次): the word
    it replaces is the previous subject word ending alike (支委会 / 党小组会) or named within it (警告 / 严重警告),
    else the first; None when the part is no such follow-up or the previous part has no subject word."""
    m = _FOLLOW_UP_RE.fullmatch(part)
    new = subject_words(m.group(1)) if m else []
    old = subject_words(previous)
    if not new or not old:
        return None
    head = new[0]
    replaced = next((w for w in old if w[-1] == head[-1] or w in head), old[0])
    return previous.replace(replaced, head, 1)


_FACET = r"[^的及和与、，,]{0,6}?(?:用途|原则|条件|程序|流程|职责|任务|要求|范围|标准|期限)"
_TWO_FACETS_RE = re.compile(rf"(?P<head>.*?的)?(?P<a>{_FACET})(?:及其?|以及|和|与)(?P<b>{_FACET})(?P<tail>.*)")


def _facets(part: str) -> list[str]:
    """Two facets of one subject asked together (党费的用途及使用原则, 入党的条件和程序是什么) as two parts."""
    m = _TWO_FACETS_RE.fullmatch(part)
    if not m:
        return [part]
    head, tail = m.group("head") or "", m.group("tail")
    return [f"{head}{m.group('a')}{tail}", f"{head}{m.group('b')}{tail}"]


def analyse(question: str) -> list[Ask]:
    """The asks of a question, in the order asked; a part without a cue of its own joins its neighbour."""
    text = unicodedata.normalize("NFKC", question).strip()
    parts = [p.strip(" ，,。") for p in _PART_SPLIT_RE.split(text) if p and p.strip(" ，,。")]
    asks: list[Ask] = []
    for part in parts or [text]:
        if len(facets := _facets(part)) > 1:  # each says its question whole
            asks.extend(Ask((kinds := _kinds(f))[0], f, kinds, follows=True) for f in facets)
            continue
        kinds = _kinds(part)
        if kinds == ("other",) and asks and (follow := _follow_up(asks[-1].text, part)):  # …多久不能提拔？严重警告呢？
            asks.append(Ask(asks[-1].kind, follow, asks[-1].kinds, follows=True))
            continue
        if kinds == ("other",) and asks:  # context for the previous part (…，我工资6500)
            prev = asks[-1]
            asks[-1] = Ask(prev.kind, f"{prev.text}，{part}", prev.kinds)
            continue
        asks.append(Ask(kinds[0], part, kinds))
    whole = subject_words(text)
    return [Ask(a.kind, a.text, a.kinds, tuple(subject_words(a.text) if a.follows else dict.fromkeys(subject_words(a.text) + whole)),
                a.follows) for a in asks]
