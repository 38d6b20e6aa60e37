"""Fill-in-the-blank questions, as people paste them from a quiz (党的全国代表大会每（）举行一次):
the blanks, the words around them, and what a sentence that quotes those words puts in each blank.

A sentence answers such a question only when it holds the words on both sides of every blank (or
on the one side a blank at either end has), in order; what stands between them is the answer.
"""
from __future__ import annotations

import re
import unicodedata

from .lexical import char_pairs

# （）, (), ____, ＿＿, or a space between two Chinese characters (党的全国代表大会每 一次)
BLANK_RE = re.compile(r"[（(]\s*[）)]|_{2,}|＿+|(?<=[\u4e00-\u9fff])[ \u3000]+(?=[\u4e00-\u9fff])")
_TRAILING_RE = re.compile(r"(?:不少于|不多于|不超过|不低于|不得少于|不得超过|应当达到|达到)$")  # 到会人数不少于…
_END_PUNCT = "。？?！!；;，,：: "
_STOP = "，,。；;：:、？?！!（("
_NOT_IN_BLANK = "，,。；;：:（()）"  # a blank holds a word, a phrase or a title, never a clause or a bracket
MAX_FILL = 40   # characters one blank may take
MIN_SIDE = 2    # characters a side must match
MIN_QUOTED = 6  # characters of the question's own words a sentence must hold
NEAR = 20       # characters either side of a fill whose words count as shared with the question


def _norm(text: str) -> str:
    return re.sub(r"[\s“”‘’\"']", "", unicodedata.normalize("NFKC", text))


def pieces(question: str) -> list[str] | None:
    """The question's words between its blanks (the first or last piece "" for a blank at an end),
    or None when it has no blank."""
    text = unicodedata.normalize("NFKC", question).strip()
    parts = BLANK_RE.split(text)
    if len(parts) == 1:
        stripped = text.rstrip(_END_PUNCT)
        if not _TRAILING_RE.search(stripped):
            return None
        parts = [stripped, ""]
    parts = [_norm(p) for p in parts]
    parts[-1] = parts[-1].rstrip(_END_PUNCT)
    return parts if any(len(p) >= MIN_SIDE for p in parts) else None


def _tails_in(piece: str, text: str) -> list[tuple[int, int]]:
    """Each place of the longest end of ``piece`` (at least MIN_SIDE characters) found in text: (begin, end)."""
    for k in range(min(len(piece), 16), MIN_SIDE - 1, -1):
        found = [(m.start(), m.start() + k) for m in re.finditer(re.escape(piece[-k:]), text)]
        if found:
            return found
    return []


def _head_in(piece: str, text: str, start: int, whole: bool) -> tuple[int, int] | None:
    """Where ``piece`` (whole, or its longest start of at least MIN_SIDE characters) follows
    within MAX_FILL characters after start: (begin, end)."""
    sizes = [len(piece)] if whole else range(min(len(piece), 16), MIN_SIDE - 1, -1)
    for k in sizes:
        at = text.find(piece[:k], start + 1)
        if 0 <= at <= start + MAX_FILL:
            return at, at + k
    return None


_FUNCTION_WORDS = frozenset("的 地 得 了 和 与 及 或 之 等 也 都 并 而".split())


def shared_pairs(question_pieces: list[str], sentence: str, fills: list[str]) -> int:
    """How many of the character pairs of the question's own words the sentence holds within NEAR
    characters of the first fill (a card saying 党员每年集中学习培训一般不少于32学时 shares more of
    …培训时间一般不少于____学时 than one on 积极分子培训 that quotes 时间一般不少于…学时 more closely;
    a long sentence sharing words far from the blank gains nothing by it)."""
    text = _norm(sentence)
    at = max(0, text.find(fills[0]))
    near = text[max(0, at - NEAR):at + len(fills[0]) + NEAR]
    return len({p for piece in question_pieces for p in char_pairs(piece) if p in near})


def fill(question_pieces: list[str], sentence: str) -> tuple[list[str], int] | None:
    """What the sentence puts in each blank and how many of the question's characters it quotes,
    or None when it does not hold the words around every blank: from the place of the words
    before the first blank that quotes most, then leaves the shortest fill."""
    text = _norm(sentence)
    if not question_pieces[0]:
        return _fill_from(question_pieces, text, 0, -1)
    found = [f for at, end in _tails_in(question_pieces[0], text)
             if (f := _fill_from(question_pieces, text, end - at, end - 1)) is not None]
    return max(found, key=lambda f: (f[1], -sum(map(len, f[0]))), default=None)


def _fill_from(question_pieces: list[str], text: str, quoted: int, pos: int) -> tuple[list[str], int] | None:
    """fill() with the words before the first blank found to end at ``pos`` (-1: a blank at the start)."""
    first, rest = question_pieces[0], question_pieces[1:]
    fills: list[str] = []
    for i, piece in enumerate(rest):
        if not piece:  # a blank at the end: up to the clause's end
            m = re.match(rf"[^{_STOP}]{{1,{MAX_FILL}}}", text[pos + 1:])
            if m is None:
                return None
            fills.append(m.group())
            break
        found = _head_in(piece, text, pos, whole=i < len(rest) - 1)
        if found is None and not first and i == 0:  # a blank at the start may be far from the sentence's start
            found = _head_in(piece, text, max(-1, text.find(piece[:MIN_SIDE]) - 1), whole=len(rest) > 1)
        if found is None:
            return None
        at, end = found
        if not first and i == 0:  # a blank at the start: from the clause's start
            filler = text[max(text.rfind(ch, 0, at) for ch in _STOP) + 1:at]
        else:
            filler = text[pos + 1:at]
        if not filler or len(filler) > MAX_FILL or any(ch in filler for ch in _NOT_IN_BLANK) or filler in _FUNCTION_WORDS:
            return None  # 指定的正式党员 does not fill 指定____正式党员: a blank holds a word, not 的
        fills.append(filler)
        quoted += end - at
        pos = end - 1
    return (fills, quoted) if fills and quoted >= MIN_QUOTED else None
