"""The rules of the records wing live in our knowledge files, and every one of them stands on an
article that really states it: checked here against the regulation texts of the corpus."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from assistant.citations import ARTICLE_LINE_RE, CHAPTER_LINE_RE
from assistant.knowledge import Knowledge
from assistant.numerals import cn_to_int
from assistant.plans.meeting import load_meeting_knowledge
from assistant.records.rules import development_rules, ledger_rules
from assistant.resources import knowledge_dir

RULE_FILES = ("ledger_rules.yaml", "development_rules.yaml")
COPY_RUN = 30


@pytest.fixture(scope="module")
def articles(corpus_dir: Path) -> dict[str, dict[str, str]]:
    """title → {第X条: the article's whole text (its numbered items too)}."""
    manifest = json.loads((corpus_dir / "manifest.json").read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for entry in manifest:
        arts: dict[str, str] = {}
        current = None
        for line in (corpus_dir / entry["file"]).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            m = ARTICLE_LINE_RE.match(line)
            if m:
                current = m.group(1)
                arts[current] = m.group(2)
            elif CHAPTER_LINE_RE.match(line):
                current = None
            elif current:
                arts[current] += "\n" + line
        out[entry["title"]] = arts
    return out


def _states(articles, title: str, article: str, states: str) -> None:
    assert title in articles, f"{title} is not in the corpus"
    assert article in articles[title], f"《{title}》has no {article}"
    text = re.sub(r"\s+", "", articles[title][article])
    assert states and re.sub(r"\s+", "", states) in text, f"《{title}》{article} does not say “{states}”"


NUMBER_RE = re.compile(r"([一二两三四五六七八九十]+)(?:个)?(月|年|工作日|天|学时)|(半年)")
UNIT = {"月": "month", "年": "year", "工作日": "working_day", "天": "day", "学时": "hour"}


def _numbers(states: str) -> set[tuple[int, str]]:
    """The (value, unit) pairs a phrase states; a year is also 12 months, half a year 6."""
    out: set[tuple[int, str]] = set()
    for m in NUMBER_RE.finditer(states):
        if m.group(3):
            out.add((6, "month"))
            continue
        value, unit = cn_to_int(m.group(1)), UNIT[m.group(2)]
        out.add((value, unit))
        if unit == "year":
            out.add((12 * value, "month"))
    return out


def test_every_frequency_rests_on_an_article_that_states_it(articles):
    rules = ledger_rules()
    duties = {d.id: d for d in Knowledge.bundled().duties()}
    word = {"month": "月", "quarter": "季度", "year": "年"}
    checked = 0
    for t in rules.types:
        assert t.duty in duties, t
        if not t.check:
            continue
        _states(articles, t.basis.doc, t.basis.article, t.basis.states)
        d = duties[t.duty]
        if t.floor:  # no count in the regulations: our floor, and the text says so
            continue
        assert word[d.frequency] in t.basis.states, (t.name, d.frequency, t.basis.states)
        # the count is written (每月召开1次, 公布一次) or, for once, implied (按月交纳, 每年…述职)
        written = re.search(rf"(?<!\d){d.times}(?!\d)", t.basis.states) or (d.times == 1 and (
            "一次" in t.basis.states or re.search(rf"[按每]{word[d.frequency]}", t.basis.states)))
        assert written, t
        checked += 1
    assert checked >= 10


def test_every_quorum_and_order_rule_rests_on_its_article_in_each_version(articles):
    rules = ledger_rules()
    for q in rules.quorum:
        _states(articles, q.current.doc, q.current.article, q.current.states)
        assert "半数" in q.current.states or "相同" in q.current.states
        if q.previous is not None:
            _states(articles, q.previous.doc, q.previous.article, q.previous.states)
    for o in rules.order:
        _states(articles, o.basis.doc, o.basis.article, o.basis.states)
    current, previous = rules.xize_current[0], rules.xize_previous[0]
    assert {q.current.doc for q in rules.quorum if q.previous} == {current}
    assert {q.previous.doc for q in rules.quorum if q.previous} == {previous}


def test_every_time_limit_of_the_xize_is_stated_by_its_article_in_both_versions(articles):
    lrules, drules = ledger_rules(), development_rules()
    current, previous = lrules.xize_current[0], lrules.xize_previous[0]
    for limit in drules.limits:
        versions = [(current, limit.current)] + ([(previous, limit.previous)] if limit.previous else [])
        for title, v in versions:
            _states(articles, title, v.article, v.states)
            stated = _numbers(v.states)
            if limit.kind in ("within", "at_least", "every"):
                assert (limit.value, limit.unit) in stated, (limit.id, title, v)
            elif limit.kind == "amount":
                assert {(int(limit.min_days), "day"), (int(limit.min_hours), "hour")} <= stated, (limit.id, v)
            elif limit.kind == "extension":
                assert {(limit.min_months, "month"), (limit.max_months, "month")} <= stated, (limit.id, v)
        if limit.extended:
            _states(articles, current, limit.current.article, "不得超过六个月")
    # the list: 第七、十一、十三、十七、十九、二十五、二十九、三十一、三十三条 — all covered
    assert {lim.current.article for lim in drules.limits} >= {
        "第七条", "第十一条", "第十三条", "第十七条", "第十九条", "第二十五条", "第二十九条", "第三十一条", "第三十三条"}
    # where the 2014 text set no limit, the rule says so (previous: null) — and the 2014 article indeed lacks it
    assert {lim.id for lim in drules.limits if lim.previous is None} == {
        "publicity_before_target", "meeting_within_month_of_prereview", "oath_within_month"}
    assert "一个月" not in articles[previous]["第二十条"] and "一个月" not in articles[previous]["第三十条"]
    assert "公示" not in articles[previous]["第十三条"]


def test_every_milestone_article_exists_in_its_version(articles):
    lrules, drules = ledger_rules(), development_rules()
    for m in drules.milestones:
        assert m.current in articles[lrules.xize_current[0]], m
        if m.previous:
            assert m.previous in articles[lrules.xize_previous[0]], m


def test_every_meeting_type_and_every_duty_is_a_ledger_type():
    rules = ledger_rules()
    for name in load_meeting_knowledge().types:
        assert rules.resolve(name).name, name
    for d in Knowledge.bundled().duties():
        assert rules.by_duty(d.id) is not None, d.id
        assert rules.resolve(re.sub(r"（.*?）", "", d.name)).duty == d.id, d.name


def test_the_rule_files_copy_no_run_of_the_corpus(corpus_dir: Path):
    corpus = "".join(re.sub(r"\s+", "", p.read_text(encoding="utf-8")) for p in sorted(corpus_dir.glob("*.txt")))
    for name in RULE_FILES:
        data = yaml.safe_load((knowledge_dir() / name).read_text(encoding="utf-8"))
        texts: list[str] = []

        def walk(node):
            if isinstance(node, dict):
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
            elif isinstance(node, str):
                texts.append(re.sub(r"\s+", "", node))

        walk(data)
        for text in texts:
            for i in range(0, max(0, len(text) - COPY_RUN) + 1):
                run = text[i:i + COPY_RUN]
                assert len(run) < COPY_RUN or run not in corpus, f"{name} copies the corpus: {run}"
