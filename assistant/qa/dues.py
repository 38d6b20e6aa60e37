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

    def line(self) -> str:
        """The direct answer, in the passage's own terms."""
        base = "每月实际领取的离退休费（养老金）" if self.pension else "每月工资收入（税后）"
        if self.lower == 0:
            band = f"{_num(self.upper)}元以下（含）"
        elif math.isinf(self.upper):
            band = f"{_num(self.lower)}元以上"
        else:
            band = f"{_num(self.lower)}元以上至{_num(self.upper)}元（含）"
        return (f"答：按{base}{_num(self.income)}元计，属于{band}一档，按{_num(self.rate)}%交纳，"
                f"每月交纳党费{_num(self.amount)}元。[{self.n}]")

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
    passage whose table fits the kind of income (a pension or a salary)."""
    stated = income_in(question)
    if stated is None:
        return None
    income, pension = stated
    for s in sources:
        if s.kind in OUR_KINDS or s.status == "superseded" or bool(PENSION_RE.search(s.text)) != pension:
            continue
        table = rate_table(s.text)
        if table:
            lower = 0.0
            for upper, rate in table:
                if income <= upper:
                    amount = round(income * rate / 100 + 1e-9, 2)
                    return Dues(income, lower, upper, rate, amount, s.n, pension)
                lower = upper
    return None
