"""knowledge/obligations.yaml: schema check, citations, numbers, and the date arithmetic.

The corpus is found at $ASSISTANT_CORPUS_DIR or <repo>/../shared/corpus; tests that
need it are skipped, with the reason, when it is absent.
"""
from __future__ import annotations

import copy
import json
import os
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from assistant.errors import KnowledgeError
from assistant.knowledge import Knowledge
from assistant.numerals import cn_to_int
from assistant.plans.obligations import (
    Duty,
    PrepStep,
    Source,
    applies,
    basis_text,
    duty,
    load_obligations,
    occurrences,
    parse_obligations,
    prep_dates,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = Path(os.environ.get("ASSISTANT_CORPUS_DIR", REPO_ROOT / ".." / "shared" / "corpus"))
OBLIGATIONS = Knowledge.bundled().folder / "obligations.yaml"
RAW = yaml.safe_load(OBLIGATIONS.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- corpus helpers

_CN_RUN = re.compile(r"[零一二两三四五六七八九十百千]+")
_UNIT = r"(?:个月|个工作日|个学时|工作日|学时|季度|年|月|天|日|人|名|次|届|岁|元|倍|个|周|至|到)"


def numbers_in_article(text: str) -> set[float]:
    """Every number an article states: Arabic numbers, Chinese numerals, 半年 as 0.5."""
    out = {float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)}
    for run in _CN_RUN.findall(text):
        n = cn_to_int(run)
        if n is not None:
            out.add(float(n))
    if "半年" in text:
        out.add(0.5)
    return out


def numbers_claimed(text: str) -> set[float]:
    """Numbers a timing/quorum text states: Arabic numbers, Chinese numerals attached to a unit
    (ordinals right after 第 are labels, not quantities), and 半年 as 0.5."""
    out = {float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)}
    for m in re.finditer(_CN_RUN.pattern + r"(?=" + _UNIT + ")", text):
        if m.start() > 0 and text[m.start() - 1] == "第":
            continue
        n = cn_to_int(m.group(0))
        if n is not None:
            out.add(float(n))
    if "半年" in text:
        out.add(0.5)
    return out


def _manifest() -> list[dict] | None:
    path = CORPUS_DIR / "manifest.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus() -> dict:
    manifest = _manifest()
    if manifest is None:
        pytest.skip(f"corpus not found at {CORPUS_DIR} (set ASSISTANT_CORPUS_DIR to the folder with manifest.json)")
    docs = {}
    header = re.compile(r"^(第[零一二三四五六七八九十百]+条)[ \u3000]")
    for entry in manifest:
        text = (CORPUS_DIR / entry["file"]).read_text(encoding="utf-8")
        articles: dict[str, str] = {}
        current = None
        for line in text.splitlines():
            m = header.match(line)
            if m:
                current = m.group(1)
                articles[current] = line
            elif current:
                articles[current] += "\n" + line
        docs[entry["title"]] = {"entry": entry, "articles": articles, "text": text}
    return docs


# --------------------------------------------------------------------------- schema

def test_real_file_loads_and_validates():
    duties = load_obligations()
    assert len(duties) >= 15
    assert all(isinstance(d, Duty) for d in duties)
    ids = [d.id for d in duties]
    assert len(ids) == len(set(ids))
    for d in duties:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", d.id)
        assert d.frequency in ("month", "quarter", "half_year", "year", "event")
        assert d.times >= 1
        assert (d.event is not None) == (d.frequency == "event")
        assert d.sources and all(isinstance(s, Source) for s in d.sources)
        assert all(isinstance(p, PrepStep) and p.offset_days >= 0 and p.hours >= 0 for p in d.prep)
        assert d.effort_hours >= 0 and d.standard and d.timing


def test_required_duties_present_with_rule_frequencies():
    want = {
        "zhibu_dangyuan_dahui": ("quarter", 1),
        "zhiweihui": ("month", 1),
        "dangxiaozu_hui": ("month", 1),
        "zhuti_dangri": ("month", 1),
        "zuzhi_shenghuohui": ("year", 1),
        "minzhu_pingyi_dangyuan": ("year", 1),
        "tanxin_tanhua": ("year", 1),
        "dangfei_shoujiao": ("month", 1),
        "jiji_fenzi_kaocha": ("half_year", 1),
    }
    for duty_id, (freq, times) in want.items():
        d = duty(duty_id)
        assert (d.frequency, d.times) == (freq, times), duty_id
    assert duty("tanxin_tanhua").per_member is True
    assert duty("zuzhi_shenghuohui").due["month"] in (10, 11, 12)  # 一般安排在第四季度
    for event_id, event in [("huanjie_xuanju", "换届"), ("jieshou_yubei_dangyuan", "接收预备党员"),
                            ("yubei_dangyuan_zhuanzheng", "预备期满")]:
        d = duty(event_id)
        assert d.frequency == "event" and d.event == event and d.due == {}


def test_quorum_rules_where_a_rule_sets_one():
    assert "半数以上委员" in duty("zhiweihui").quorum
    assert "半数" in duty("zhibu_dangyuan_dahui").quorum
    for duty_id in ("jieshou_yubei_dangyuan", "yubei_dangyuan_zhuanzheng"):
        q = duty(duty_id).quorum
        assert "超过" in q and "半数" in q
    # no quorum invented where no rule sets one
    assert duty("zhuti_dangri").quorum is None
    assert duty("tanxin_tanhua").quorum is None


def test_organisational_life_meeting_prep_counts_back():
    d = duty("zuzhi_shenghuohui")
    names = " ".join(p.name for p in d.prep)
    for step in ("谈心谈话", "征求", "对照检查", "通知"):
        assert step in names
    talk = next(p for p in d.prep if "谈心谈话" in p.name)
    assert talk.offset_days == 14


def test_duty_lookup_and_unknown_id():
    assert duty("zhiweihui").name == "支部委员会会议"
    with pytest.raises(KeyError, match="未知的事项标识"):
        duty("no_such_duty")


def test_load_is_cached_and_returns_fresh_lists():
    a, b = load_obligations(), load_obligations()
    assert a == b and a is not b
    assert a[0] is b[0]


def _broken(mutate) -> dict:
    data = copy.deepcopy(RAW)
    mutate(data)
    return data


@pytest.mark.parametrize("mutate, duty_id, field", [
    (lambda d: d["duties"][0].pop("timing"), "zhibu_dangyuan_dahui", "timing"),
    (lambda d: d["duties"][1].update(frequency="weekly"), "zhiweihui", "frequency"),
    (lambda d: d["duties"][1].update(due={"month": 3, "day": 1}), "zhiweihui", "due"),
    (lambda d: d["duties"][1]["due"].update(day=32), "zhiweihui", "due.day"),
    (lambda d: d["duties"][0]["prep"][0].update(offset_days=-3), "zhibu_dangyuan_dahui", "prep[0].offset_days"),
    (lambda d: d["duties"][0]["prep"][1].update(owner="主任"), "zhibu_dangyuan_dahui", "prep[1].owner"),
    (lambda d: d["duties"][0].update(owner="局长"), "zhibu_dangyuan_dahui", "owner"),
    (lambda d: d["duties"][0].update(effort_hours=-1), "zhibu_dangyuan_dahui", "effort_hours"),
    (lambda d: d["duties"][0].update(times=0), "zhibu_dangyuan_dahui", "times"),
    (lambda d: d["duties"][0].update(applies_to=["农村"]), "zhibu_dangyuan_dahui", "applies_to"),
    (lambda d: d["duties"][0].update(event="换届"), "zhibu_dangyuan_dahui", "event"),
    (lambda d: d["duties"][0].update(per_member="yes"), "zhibu_dangyuan_dahui", "per_member"),
    (lambda d: d["duties"][0].update(sources=[]), "zhibu_dangyuan_dahui", "sources"),
    (lambda d: d["duties"][0]["sources"][0].update(article="11"), "zhibu_dangyuan_dahui", "sources[0].article"),
    (lambda d: d["duties"][0].update(colour="red"), "zhibu_dangyuan_dahui", "colour"),
    (lambda d: d["duties"][2].update(id="zhiweihui"), "zhiweihui", "id"),
])
def test_broken_copy_raises_naming_duty_and_field(tmp_path, mutate, duty_id, field):
    broken = tmp_path / "obligations.yaml"
    broken.write_text(yaml.safe_dump(_broken(mutate), allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_obligations(broken)
    # the message names the duty and its field: obligations.yaml 事项 'zhiweihui' 的字段 due：…
    assert f"事项 {duty_id!r} 的字段 {field}：" in str(info.value)


def test_broken_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("duties: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="yaml"):
        load_obligations(bad)
    with pytest.raises(KnowledgeError, match="duties"):
        parse_obligations({"items": []})
    with pytest.raises(KnowledgeError, match="path"):
        load_obligations(tmp_path / "missing.yaml")


def test_cache_notices_edits(tmp_path):
    path = tmp_path / "o.yaml"
    path.write_text(yaml.safe_dump(RAW, allow_unicode=True), encoding="utf-8")
    assert load_obligations(path)[0].name == "支部党员大会"
    data = copy.deepcopy(RAW)
    data["duties"][0]["name"] = "支部党员大会（改）"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    os.utime(path, (1, 1))  # force a different mtime even on coarse file systems
    assert load_obligations(path)[0].name == "支部党员大会（改）"


# --------------------------------------------------------------------------- citations and numbers

@pytest.mark.parametrize("d", load_obligations(), ids=lambda d: d.id)
def test_citations_resolve_to_current_articles(d: Duty, corpus: dict):
    for src in d.sources:
        assert src.doc in corpus, f"{d.id}: 《{src.doc}》 is not a manifest title"
        entry = corpus[src.doc]["entry"]
        assert entry["status"] == "current", f"{d.id}: 《{src.doc}》 is {entry['status']}"
        assert src.article in corpus[src.doc]["articles"], f"{d.id}: 《{src.doc}》 has no {src.article}"


@pytest.mark.parametrize("d", load_obligations(), ids=lambda d: d.id)
def test_numbers_in_timing_and_quorum_occur_in_cited_articles(d: Duty, corpus: dict):
    cited = "\n".join(corpus[s.doc]["articles"][s.article] for s in d.sources
                      if s.doc in corpus and s.article in corpus[s.doc]["articles"])
    available = numbers_in_article(cited)
    for field in ("timing", "quorum"):
        text = getattr(d, field) or ""
        missing = numbers_claimed(text) - available
        assert not missing, f"{d.id}.{field}: {sorted(missing)} not in the cited articles"


def test_number_extraction_helpers():
    assert numbers_claimed("公示不少于5个工作日，须有两名介绍人，一般第四季度") == {5.0, 2.0}
    assert numbers_claimed("延长不少于半年、最长不超过1年") == {0.5, 1.0}
    assert numbers_in_article("培训时间一般不少于三天或者不少于二十四个学时") >= {3.0, 24.0}
    assert numbers_claimed("一般每月召开") == set()


def test_no_long_run_copied_from_corpus(corpus: dict):
    run = 30
    windows: set[str] = set()
    texts = [doc["text"] for doc in corpus.values()]
    texts += [p.read_text(encoding="utf-8") for p in sorted(CORPUS_DIR.rglob("*.json*")) if p.name != "manifest.json"]
    for text in texts:
        flat = re.sub(r"\s+", "", text)
        windows.update(flat[i:i + run] for i in range(len(flat) - run + 1))
    for d in load_obligations():
        fields = [d.name, d.timing, d.quorum or "", d.standard] + [p.name for p in d.prep]
        for text in fields:
            flat = re.sub(r"\s+", "", text)
            for i in range(len(flat) - run + 1):
                assert flat[i:i + run] not in windows, f"{d.id}: copied run {flat[i:i + run]!r}"


# --------------------------------------------------------------------------- dates

def test_occurrences_per_frequency_in_a_year():
    y0, y1 = date(2027, 1, 1), date(2027, 12, 31)
    assert len(occurrences(duty("zhiweihui"), y0, y1)) == 12
    assert occurrences(duty("zhibu_dangyuan_dahui"), y0, y1) == [
        date(2027, 3, 20), date(2027, 6, 20), date(2027, 9, 20), date(2027, 12, 20)]
    assert occurrences(duty("jiji_fenzi_kaocha"), y0, y1) == [date(2027, 6, 20), date(2027, 12, 20)]
    assert occurrences(duty("zuzhi_shenghuohui"), y0, y1) == [date(2027, 12, 15)]
    assert occurrences(duty("huanjie_xuanju"), y0, y1) == []


def test_occurrences_window_edges_are_inclusive():
    d = duty("zhiweihui")  # day 8
    assert occurrences(d, date(2027, 3, 8), date(2027, 3, 8)) == [date(2027, 3, 8)]
    assert occurrences(d, date(2027, 3, 9), date(2027, 4, 7)) == []
    assert occurrences(d, date(2026, 12, 9), date(2027, 1, 8)) == [date(2027, 1, 8)]
    assert occurrences(d, date(2027, 2, 1), date(2027, 1, 1)) == []


def _custom(**over) -> Duty:
    base = dict(
        id="x", name="测试", frequency="month", times=1, due={"day": 31}, event=None, per_member=False,
        timing="t", prep=(), owner="书记", applies_to=("通用",), effort_hours=1.0, quorum=None,
        standard="s", sources=(Source("d", "第一条"),),
    )
    base.update(over)
    return Duty(**base)


def test_day_31_is_clamped_to_month_end_including_leap_february():
    got = occurrences(_custom(), date(2028, 1, 1), date(2028, 4, 30))
    assert got == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]


def test_half_year_and_quarter_positions():
    hy = _custom(frequency="half_year", due={"month_in_half": 2, "day": 10})
    assert occurrences(hy, date(2027, 1, 1), date(2027, 12, 31)) == [date(2027, 2, 10), date(2027, 8, 10)]
    q = _custom(frequency="quarter", due={"month_in_quarter": 1, "day": 5})
    assert occurrences(q, date(2027, 5, 1), date(2028, 1, 31)) == [date(2027, 7, 5), date(2027, 10, 5), date(2028, 1, 5)]


def test_times_greater_than_one_spreads_within_period():
    d = _custom(frequency="quarter", times=2, due={"month_in_quarter": 3, "day": 30})
    got = occurrences(d, date(2027, 1, 1), date(2027, 3, 31))
    assert len(got) == 2 and got[-1] == date(2027, 3, 30)
    assert date(2027, 1, 1) <= got[0] < got[1]


def test_prep_dates_count_back_across_month_and_year_ends():
    d = duty("shuji_shuzhi")  # due 1月20日, prep 30 / 14 / 7 days before
    due = occurrences(d, date(2027, 1, 1), date(2027, 12, 31))[0]
    assert due == date(2027, 1, 20)
    got = {p.offset_days: when for p, when in prep_dates(d, due)}
    assert got[30] == date(2026, 12, 21)  # across the year end
    assert got[14] == date(2027, 1, 6)
    m = duty("zhiweihui")  # due day 8, prep 3 / 2 days before
    got = [when for _, when in prep_dates(m, date(2027, 3, 1))]
    assert got == [date(2027, 2, 26), date(2027, 2, 27)]  # across a (non-leap) February end
    assert [w for _, w in prep_dates(m, date(2028, 3, 1))] == [date(2028, 2, 27), date(2028, 2, 28)]


def test_prep_dates_sorted_earliest_first():
    d = duty("zuzhi_shenghuohui")
    dates = [w for _, w in prep_dates(d, date(2027, 12, 15))]
    assert dates == sorted(dates) and dates[0] == date(2027, 11, 15)


def test_applies_and_basis_text():
    jiguan_only = duty("jiguan_dangyuan_ganbu_dahui")
    assert applies(jiguan_only, "机关") and not applies(jiguan_only, "企业")
    assert applies(duty("zhiweihui"), "高校")
    text = basis_text(duty("zhibu_dangyuan_dahui"))
    assert text.startswith("《中国共产党支部工作条例（试行）》第十一条、")
    assert "；《中国共产党党员教育管理工作条例》第十六条" in text


def test_duty_is_hashable_and_frozen():
    d = duty("zhiweihui")
    assert {d: 1}[d] == 1
    with pytest.raises(Exception):
        d.name = "x"  # type: ignore[misc]
