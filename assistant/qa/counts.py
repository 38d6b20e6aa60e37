"""Head counts: how many members a question says a body has (我们机关有120名党员), and whether
a rule's condition on members (100人以上的, 不足3人的, 50人以上、100人以下的) holds for that count.

The rules that set up 党组织 by size say "…人以上的，设…；不足…人的，…" in one sentence; the
clause for the user's count is the rule that applies to them, the others are not.
"""
from __future__ import annotations

import re
from typing import Callable

import cn2an

_N = r"(\d+|[零〇一二两三四五六七八九十百千]+)"
# 我们机关有120名党员 / 就两个正式党员 / 党员人数有60人 / 党员共50名 / 正式党员才5个人
_STATED_RES = (re.compile(rf"{_N}\s*(?:名|个|位|人)?(?:正式|在职|预备)?党员"),
               re.compile(rf"党员(?:人数)?(?:有|共|一共|总共|是|为|才|只有|就|只|仅|仅有)?\s*{_N}\s*(?:名|人|个|位)(?!月|多月|星期|工作日)"))
_FEWER = r"(?:不足|不到|少于|不满|未满)"  # fewer than: in a question (不足三人的单位: at most 2) and in a rule's condition
_FEWER_RE = re.compile(rf"{_FEWER}\s*{_N}\s*(?:名|个|位|人)")
_PEOPLE = r"(?:人|名)"
_FEWER_CONDITION_RE = re.compile(rf"{_FEWER}{_N}{_PEOPLE}(?:的|就)")
# a condition on a body's members, as a rule states it: followed by 的 (…以上的单位) or 就 (3人以上就应当…)
_CONDITION_RES: tuple[tuple[re.Pattern, Callable[[int, int, int], bool]], ...] = (
    (re.compile(rf"{_N}{_PEOPLE}以上[、，,至到]?{_N}{_PEOPLE}以下(?:的|就)"), lambda n, a, b: a <= n <= b),
    (_FEWER_CONDITION_RE, lambda n, a, _: n < a),
    (re.compile(rf"{_N}{_PEOPLE}以下(?:的|就)"), lambda n, a, _: n <= a),
    (re.compile(rf"(?:超过|多于){_N}{_PEOPLE}(?:的|就)"), lambda n, a, _: n > a),
    (re.compile(rf"{_N}{_PEOPLE}以上(?:的|就)"), lambda n, a, _: n >= a),
)
_SEGMENT_RE = re.compile(r"[；;。]")


def _int(text: str) -> int | None:
    """A number written in digits or in Chinese (一百五十, 两), or None."""
    try:
        return int(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError, TypeError):
        return None


def stated_count(question: str) -> int | None:
    """The number of members the question states (我们机关有120名党员 → 120; 不足三人的单位 → 2), or None."""
    m = _FEWER_RE.search(question)
    if m and (n := _int(m.group(1))) is not None:
        return n - 1
    for pattern in _STATED_RES:
        m = pattern.search(question)
        if m and (n := _int(m.group(1))) is not None:
            return n
    return None


def stated_fewer(question: str) -> int | None:
    """The bound of a fewer-than case the question states (不足三人的单位 → 3), or None."""
    m = _FEWER_RE.search(question)
    return _int(m.group(1)) if m else None


def _holds(n: int, segment: str, fewer: int | None = None) -> bool | None:
    """Whether the segment's conditions on members hold for n; None when it states none. With
    ``fewer`` (the question's own case is 不足3人), only that case holds; a looser condition that
    n also meets (不足50人的) is another rule's case and says nothing."""
    verdicts = []
    rest = segment
    for pattern, test in _CONDITION_RES:
        for m in pattern.finditer(rest):
            bounds = [_int(g) for g in m.groups()]
            if None in bounds:
                continue
            held = test(n, bounds[0], bounds[-1])
            if fewer is None or not held:
                verdicts.append(held)
            elif pattern is _FEWER_CONDITION_RE and bounds[0] == fewer:
                verdicts.append(True)
        rest = pattern.sub("", rest)  # a range is not read again as its two ends
    return all(verdicts) if verdicts else None


def fits(n: int, text: str, fewer: int | None = None) -> bool | None:
    """Whether a rule is the one for n members: True when one of its clauses' conditions holds,
    False when it states conditions and none holds, None when it states none (``fewer``: see _holds)."""
    held = [h for h in (_holds(n, s, fewer) for s in _SEGMENT_RE.split(text)) if h is not None]
    return any(held) if held else None


def fitting_segments(n: int, text: str) -> str:
    """The segments of a rule (split at ；) whose conditions hold for n, or that state none;
    the whole text when none holds."""
    segments = [s for s in re.split(r"[；;]", text) if s]
    kept = [s for s in segments if _holds(n, s) is not False]
    return "；".join(kept) if kept and len(kept) < len(segments) else text


def without_count(words: list[str], n: int | None) -> list[str]:
    """The subject words but the stated count itself (150): it is the case, which a rule's
    condition meets (100人以上的), never a word a rule repeats."""
    if n is None:
        return words
    return [w for w in words if not (re.fullmatch(rf"{_N}(?:名|个|位|人)?", w) and _int(re.sub(r"[名个位人]$", "", w)) == n)]


def without_conditions(text: str) -> str:
    """The text without its conditions on members (7人以上的): what a rule states besides its case."""
    for pattern, _ in _CONDITION_RES:
        text = pattern.sub("", text)
    return text
