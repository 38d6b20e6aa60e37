"""Load (issue 7), at test scale: 50 simultaneous gradio_client sessions x 2 questions against the
real app on loopback, offline, over a small knowledge base of three of our cards; and 50 sessions
of which half ask through the OpenAI-compatible API (issue 16). The machinery is
bench/load_test.py (which runs the full 50 x 10); here: no errors, every reply well-formed, the app
still up. No timing assertions: the figures are printed (pytest -s) for the record.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import gradio_client  # noqa: F401  (a test dependency: what the load test drives the app with)
import pytest

REPO = Path(__file__).resolve().parents[1]
CARDS = [REPO / "knowledge" / "cards" / name for name in ("zhiweihui.md", "dangfei.md", "zuzhi-shenghuohui.md")]
ANSWERABLE = ["支委会多久开一次？", "党费怎么算？", "党员每月应交多少党费？", "组织生活会一般什么时候召开？",
              "支委会由谁召集？", "学生党员交多少党费？"]


def _load_module():
    spec = importlib.util.spec_from_file_location("dangwu_load_test", REPO / "bench" / "load_test.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


lt = _load_module()


@pytest.fixture(scope="module")
def small_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("load-kb")
    lt.build_kb(data, CARDS, timeout=300)
    return data


def test_check_answer_names_what_is_wrong() -> None:
    good = {"answer": "答：每月一次。[1]\n依据：\n[1] 《条例》第十二条（现行）", "mode": "offline", "abstained": False,
            "notice": "", "sources": [{"title": "条例", "article": "第十二条", "status": "current", "source": "a.txt",
                                      "text": "……"}]}
    assert lt.check_answer(good) is None
    assert lt.check_answer({**good, "abstained": True, "sources": [], "answer": "没有依据"}) is None
    assert "sources" in lt.check_answer({**good, "abstained": True})
    assert "without sources" in lt.check_answer({**good, "sources": []})
    assert "[1]" in lt.check_answer({**good, "answer": "答：每月一次。"})
    assert "mode" in lt.check_answer({**good, "mode": "llm"})
    assert "missing" in lt.check_answer({"answer": "x"})
    assert "bad source" in lt.check_answer({**good, "sources": [{"title": "", "text": "", "status": "x"}]})
    assert lt.check_answer("答：…") is not None


def test_question_plan_mixes_answerable_and_unanswerable() -> None:
    answerable, unanswerable = lt.load_questions()
    assert len(answerable) > 50 and len(unanswerable) > 10
    plan = lt.question_plan(50, 10, answerable, unanswerable)
    assert len(plan) == 50 and all(len(qs) == 10 for qs in plan)
    asked = [q for qs in plan for q in qs]
    share = sum(q in set(unanswerable) for q in asked) / len(asked)
    assert 0.25 < share < 0.4, share
    assert len(set(asked)) > 60


def test_fifty_sessions_asking_at_once(small_kb: Path, tmp_path: Path) -> None:
    _, unanswerable = lt.load_questions()
    plan = lt.question_plan(50, 2, ANSWERABLE, unanswerable)
    with lt.AppServer(small_kb, tmp_path / "app") as app:
        rss_before = app.rss_kib()
        with lt.RssSampler(app.proc.pid) as sampler:
            res = lt.run_load(app.url, plan, timeout_s=120, deadline_s=240)
        rss_after = app.rss_kib()
        alive = app.proc.poll() is None
        log = app.log()
    print("\n" + lt.report(res, rss_before, sampler.peak, rss_after, app.startup_s, "3 knowledge cards"))
    assert alive, log
    assert not res.errors, res.errors[:10]
    assert not res.malformed, res.malformed[:10]
    assert len(res.latencies) == res.requests == 100
    assert res.answered and res.abstained, (res.answered, res.abstained)


def test_fifty_sessions_mixing_the_api_and_the_web(small_kb: Path, tmp_path: Path) -> None:
    _, unanswerable = lt.load_questions()
    plan = lt.question_plan(50, 2, ANSWERABLE, unanswerable)
    key = lt.create_key(small_kb)
    with lt.AppServer(small_kb, tmp_path / "app") as app:
        rss_before = app.rss_kib()
        with lt.RssSampler(app.proc.pid) as sampler:
            res = lt.run_load(app.url, plan, timeout_s=120, deadline_s=240, api_sessions=25, api_key=key)
        rss_after = app.rss_kib()
        alive = app.proc.poll() is None
        log = app.log()
    print("\n" + lt.report(res, rss_before, sampler.peak, rss_after, app.startup_s, "3 knowledge cards"))
    assert res.api_sessions == 25
    assert alive, log
    assert not res.errors, res.errors[:10]
    assert not res.malformed, res.malformed[:10]
    assert len(res.latencies) == res.requests == 100
    assert res.answered and res.abstained, (res.answered, res.abstained)
