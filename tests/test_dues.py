"""党费 arithmetic from the rate table of the real 党费规定 (第二条 salaries, 第五条 pensions)."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from assistant.qa.answer import verify
from assistant.qa.dues import dues_for, income_in, rate_table
from assistant.qa.load import load_file, read_manifest
from assistant.qa.split import split_document

DANGFEI = "dangfei-shoujiao-shiyong-guanli-guiding-2008.txt"


@dataclass
class P:
    n: int
    text: str
    kind: str = "document"
    status: str = "current"


@pytest.fixture(scope="module")
def articles(corpus_dir: Path) -> dict[str, str]:
    doc = load_file(corpus_dir / DANGFEI, read_manifest(corpus_dir))
    return {c.article: c.text for c in split_document(doc.text, doc.title)}


def test_tables_of_the_real_regulation(articles: dict[str, str]) -> None:
    assert rate_table(articles["第二条"]) == [(3000, 0.5), (5000, 1.0), (10000, 1.5), (math.inf, 2.0)]
    assert rate_table(articles["第五条"]) == [(5000, 0.5), (math.inf, 1.0)]
    for other in ("第一条", "第六条", "第十二条"):
        assert rate_table(articles[other]) is None, other


@pytest.mark.parametrize(("income", "rate", "amount"), [
    (2800, 0.5, 14), (3000, 0.5, 15), (3001, 1.0, 30.01), (5000, 1.0, 50), (6500, 1.5, 97.5),
    (10000, 1.5, 150), (12000, 2.0, 240),
])
def test_salary_tiers_and_their_bounds(articles: dict[str, str], income: int, rate: float, amount: float) -> None:
    d = dues_for(f"我工资{income}党费交多少", [P(1, articles["第二条"])])
    assert d is not None and (d.rate, d.amount, d.pension) == (rate, amount, False)


def test_pension_uses_the_pension_table(articles: dict[str, str]) -> None:
    sources = [P(1, articles["第二条"]), P(2, articles["第五条"])]
    d = dues_for("退休党员每月退休金6000，党费怎么算", sources)
    assert d is not None and (d.n, d.rate, d.amount, d.pension) == (2, 1.0, 60, True)
    assert "离退休费" in d.line() and "5000元以上一档" in d.line()
    assert dues_for("我工资6000党费交多少", sources).n == 1


def test_no_sum_without_a_table_or_a_single_income(articles: dict[str, str]) -> None:
    table = [P(1, articles["第二条"])]
    assert dues_for("党费按什么比例交", table) is None
    assert dues_for("我工资6500党费交多少", [P(1, articles["第六条"])]) is None, "no table, no sum"
    assert dues_for("我工资6500党费交多少", [P(1, articles["第二条"], "card")]) is None, "only regulation text"
    assert dues_for("退休金4000党费交多少", table) is None, "a salary table is not a pension table"
    assert dues_for("我工资6500党费交多少", [P(1, articles["第二条"], status="superseded")]) is None
    assert income_in("2024年工资6500党费交多少") == (6500, False)
    assert income_in("工资6,500元党费交多少") == (6500, False)
    assert income_in("我工资３０００党费交多少") == (3000, False)
    assert income_in("我爱人退休了，我工资6500党费交多少") == (6500, False), "the word before the number decides"
    for q in ("学生党员每月生活费1500交多少党费", "工资6500，收入还有奖金2000，党费交多少", "工资6500交多少",
              "自愿多交1000元党费要上缴中央吗", "我每月党费交100元对吗", "支部有120名党员党费怎么收",
              "年薪78000党费交多少", "税前工资8000党费交多少", "工资3000元以上党费交多少", "工资6500多党费交多少"):
        assert income_in(q) is None, q


def test_a_table_with_a_gap_is_refused() -> None:
    gap = "3000元以下（含3000元）者，交纳0.5％；4000元以上至5000元（含5000元）者，交纳1％；5000元以上者，交纳2％。"
    assert rate_table(gap) is None
    assert rate_table(gap.replace("4000元以上", "3000元以上")) == [(3000, 0.5), (5000, 1.0), (math.inf, 2.0)]


def test_verifier_accepts_the_computed_sum_and_flags_a_wrong_one(articles: dict[str, str]) -> None:
    from assistant.qa.answer import Source

    src = [Source(1, "党费规定", "第二条", "current", DANGFEI, articles["第二条"])]
    d = dues_for("我工资6500党费交多少", src)
    allowed = d.numbers()
    assert verify(d.line(), src, allowed)[1] == []
    assert verify(d.line(), src)[1], "without the computation the sum is not in the passage"
    _, notes = verify("答：工资6500元，每月交98元。[1]", src, allowed)
    assert notes and "98" in notes[0]


def test_card_tables_in_our_words() -> None:
    from assistant.qa.dues import card_rate_table

    rows = ("| 3000元及以下 | 0.5% |\n| 超过3000元、不超过5000元 | 1% |\n"
            "| 超过5000元、不超过10000元 | 1.5% |\n| 超过10000元 | 2% |")
    assert card_rate_table(rows, pension=False) == [(3000, 0.5), (5000, 1), (10000, 1.5), (float("inf"), 2)]
    line = "再乘比例：3000元及以下0.5%，3000元以上至5000元1%，5000元以上至10000元1.5%，10000元以上2%。"
    assert card_rate_table(line, pension=False) == [(3000, 0.5), (5000, 1), (10000, 1.5), (float("inf"), 2)]
    pension = "- 离退休党员：以实际领取的离退休费或养老金总额为基数，5000元及以下按0.5%，5000元以上按1%。"
    assert card_rate_table(pension, pension=True) == [(5000, 0.5), (float("inf"), 1)]
    assert card_rate_table(pension, pension=False) is None
    assert card_rate_table("例：科员小王每月税后固定收入6500元，落在超过5000元、不超过10000元这一档，比例1.5%。", False) is None


def test_a_fresh_machine_computes_from_our_card_and_says_so(fresh_app, corpus_app) -> None:
    fresh_app.ensure_bundled()  # a new data dir takes our cards (as the CLI and the web app do)
    fresh = fresh_app.assistant.ask("我工资6500党费交多少？")
    assert "97.5元" in fresh.answer.splitlines()[0] and "知识卡" in fresh.answer.splitlines()[0], fresh.answer
    assert fresh.sources[int(re.search(r"\[(\d)\]", fresh.answer).group(1)) - 1].kind in ("card", "faq")
    product = corpus_app.assistant.ask("我工资6500党费交多少？")  # the imported regulation's own table wins
    assert "97.5元" in product.answer.splitlines()[0] and "知识卡" not in product.answer.splitlines()[0]


class _EveryWord:
    """A lexical stub: every word is known and weighs the same."""

    df = type("All", (), {"__contains__": lambda self, word: True})()

    @staticmethod
    def idf(word: str) -> float:
        return 1.0


def test_the_table_a_sum_rests_on_is_a_key_point(articles: dict[str, str]) -> None:
    """The computed sum replaces the first ask's own line, so the statement that line was built
    from (here the table itself, scored best) must not be dropped as already shown: the table
    the sum rests on leads the key points, with its citation."""
    from assistant.qa.answer import Source, compose_offline

    question = "我工资6500党费交多少？"
    anchors = json.dumps([["工资6500党费交多少", "交纳1.5％"]], ensure_ascii=False)  # our phrasing, in the table
    table = Source(1, "关于中国共产党党费收缴、使用和管理的规定", "第二条", "current", DANGFEI, articles["第二条"],
                   anchors=anchors)
    ours = Source(2, "常见问答：党费", "第二条", "current", "dangfei-guiding.md",
                  "问：工资过万党费按多少比例交\n答：超过10000元的交2％，正好10000元的按1.5％", kind="faq")
    for order in ([table, ours], [ours, table]):
        sources = [replace(s, n=i) for i, s in enumerate(order, 1)]
        n = next(s.n for s in sources if s.kind != "faq")  # the regulation's table
        dues = dues_for(question, sources)
        assert dues is not None and (dues.rate, dues.amount, dues.n) == (1.5, 97.5, n)
        text, direct = compose_offline(question, sources, _EveryWord(), {}, dues)
        first, rest = text.split("\n", 1)
        assert direct and first == dues.line() and "1.5%" in first and first.endswith(f"[{n}]"), text
        points = rest.split("要点：\n", 1)[1].splitlines()
        assert points[0].startswith("1. ") and "10000元以上者" in points[0] and points[0].endswith(f"[{n}]"), text
