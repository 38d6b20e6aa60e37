"""党费 arithmetic: the monthly amount for an income the user states, by the rate table of a
retrieved passage (关于中国共产党党费收缴、使用和管理的规定 第二条 for salaries, 第五条 for
pensions). The rates always come from the passage, never from this code: no table, no sum."""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol

from ..knowledge import OUR_KINDS

# "3000元以下(含3000元)者，交纳…0.5%" / "3000元以上至5000元(含5000元)者，交纳1%" / "10000元以上者，交纳2%"
BOUNDED_RE = re.compile(r"(?:(\d+)元以上至)?(\d+)元(?:以下)?\(含\2元\)[者的]?[^%；;。]*?(\d+(?:\.\d+)?)%")
OPEN_RE = re.compile(r"(\d+)元以上[者的][^%；;。]*?(\d+(?:\.\d+)?)%")
# the income is the number right after an income word: "工资6500" "每月到手2800块" "退休金4000元"
INCOME_RE = re.compile(r"(工资|月薪|薪水|薪资|收入|到手|退休金|退休费|离退休费|养老金)[^\d，,。；;？?！!]{0,4}"
                       r"(\d{3,6}(?:\.\d{1,2})?)(?![\d.]|\s*(?:元|块)?\s*(?:多|余|左右|以上|以下|名|人|个|%))")
PENSION_WORDS = ("退休金", "退休费", "离退休费", "养老金")
PENSION_RE = re.compile(r"退休|离休|养老金")
# sums this table does not cover: fixed amounts, or an income that is not one month's after-tax pay
OTHER_RE = re.compile(r"学生|下岗|失业|农民|低保|最低生活|抚恤|救济|年薪|年收入|每年|全年|一年|税前|扣税前")


class Passage(Protocol):
    n: int
    text: str
    kind: str
    status: str


@dataclass(frozen=True)
class Dues:
    """The sum for one income, and the tier of the passage it falls in."""

    income: float
    lower: float
    upper: float  # math.inf for the top tier
    rate: float
    amount: float
    n: int  # the source whose table was used
    pension: bool
    from_card: bool = False  # the table is our card's restatement, not the imported regulation

    def line(self) -> str:
        """The direct answer, in the passage's own terms."""
        base = "每月实际领取的离退休费（养老金）" if self.pension else "每月工资收入（税后）"
        if self.lower == 0:
            band = f"{_num(self.upper)}元以下（含）"
        elif math.isinf(self.upper):
            band = f"{_num(self.lower)}元以上"
        else:
            band = f"{_num(self.lower)}元以上至{_num(self.upper)}元（含）"
        note = "（按本助手知识卡中的比例表计算；导入《党费规定》原文后按原文计算）" if self.from_card else ""
        return (f"答：按{base}{_num(self.income)}元计，属于{band}一档，按{_num(self.rate)}%交纳，"
                f"每月交纳党费{_num(self.amount)}元{note}。[{self.n}]")

    def numbers(self) -> frozenset[str]:
        """The numbers this answer adds to its passage: the user's income and the sum."""
        return frozenset({_num(self.income), _num(self.amount)})


def added_numbers(dues: Dues | None) -> frozenset[str]:
    """What the verifier may accept beyond the passages: the numbers of a computed sum, if any."""
    return dues.numbers() if dues else frozenset()


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def rate_table(text: str) -> list[tuple[float, float]] | None:
    """[(upper bound, rate %), …] ending with (inf, rate), when the text states a complete
    tiered table whose bands join up; otherwise None."""
    text = unicodedata.normalize("NFKC", text)
    tiers: list[tuple[float, float, float]] = []  # (lower, upper, rate)
    for m in BOUNDED_RE.finditer(text):
        lower = float(m.group(1)) if m.group(1) else 0.0
        tiers.append((lower, float(m.group(2)), float(m.group(3))))
    top = OPEN_RE.findall(text)
    if not tiers or len(top) != 1:
        return None
    tiers.append((float(top[0][0]), math.inf, float(top[0][1])))
    if tiers[0][0] != 0 or any(b[0] != a[1] for a, b in zip(tiers, tiers[1:])):
        return None
    return [(upper, rate) for _, upper, rate in tiers]


# our cards' own wording of the tables: "| 3000元及以下 | 0.5% |", "| 超过3000元、不超过5000元 | 1% |",
# "3000元以上至5000元1%", "| 超过10000元 | 2% |", "10000元以上2%"; "5000元及以下按0.5%，5000元以上按1%" (离退休)
_SEP = r"\s*(?:\||按|交)?\s*"
CARD_BOUNDED_RE = re.compile(rf"(?:(?:超过)?(\d+)元(?:以上至|、不超过)(\d+)元|(\d+)元及以下){_SEP}(\d+(?:\.\d+)?)%")
CARD_OPEN_RE = re.compile(rf"(?:(?<!不)超过(\d+)元|(\d+)元以上)(?!至|、){_SEP}(\d+(?:\.\d+)?)%")


def card_rate_table(text: str, pension: bool) -> list[tuple[float, float]] | None:
    """The same table as one of our cards words it: for a pension the first 离退休 line that
    states one, for a salary the table's rows or the one line that lists every tier; None unless
    complete and joined up."""
    text = unicodedata.normalize("NFKC", text)
    lines = [ln for ln in text.split("\n") if "%" in ln and ("离退休" in ln or "养老金" in ln) == pension]
    rows = [ln for ln in lines if ln.lstrip().startswith("|")]
    for body in (["\n".join(rows)] if rows and not pension else []) + lines:
        bounded = [(float(a or 0), float(b or c), float(r)) for a, b, c, r in CARD_BOUNDED_RE.findall(body)]
        top = [(float(a or b), float(r)) for a, b, r in CARD_OPEN_RE.findall(body)]
        if not bounded or len(top) != 1:
            continue
        tiers = sorted(bounded) + [(top[0][0], math.inf, top[0][1])]
        if tiers[0][0] == 0 and all(b[0] == a[1] for a, b in zip(tiers, tiers[1:])):
            return [(upper, rate) for _, upper, rate in tiers]
    return None


def income_in(question: str) -> tuple[float, bool] | None:
    """The one monthly income a dues question states, and whether it is a pension; else None."""
    q = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", unicodedata.normalize("NFKC", question))
    if "党费" not in q or OTHER_RE.search(q):
        return None
    found = INCOME_RE.findall(q)
    if len(found) != 1:
        return None
    word, number = found[0]
    return float(number), word in PENSION_WORDS


def dues_for(question: str, sources: list[Passage]) -> Dues | None:
    """The dues for the income in the question, by the first retrieved current regulation
    passage whose table fits the kind of income (a pension or a salary); without one, by the
    table of our 党费 card (marked as such). The regulation's own text wins when both are there."""
    stated = income_in(question)
    if stated is None:
        return None
    income, pension = stated
    regulation = [(s, rate_table(s.text)) for s in sources if s.kind not in OUR_KINDS and s.status != "superseded"
                  and bool(PENSION_RE.search(s.text)) == pension]
    cards = [(s, card_rate_table(s.text, pension)) for s in sources if s.kind in OUR_KINDS]
    for s, table in regulation + cards:
        if table:
            lower = 0.0
            for upper, rate in table:
                if income <= upper:
                    amount = round(income * rate / 100 + 1e-9, 2)
                    return Dues(income, lower, upper, rate, amount, s.n, pension, s.kind in OUR_KINDS)
                lower = upper
    return None
