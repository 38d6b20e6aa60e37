"""Grading answers against answer keys: does the first line state what was asked?

An item's ``keys`` is a list of groups of acceptable strings: the first line of the answer is
right when it holds at least one string of every group and none of the item's ``not`` strings.
An answer that abstains, or says no rule found states it directly, is *declined*.
"""
from __future__ import annotations

import statistics
import tempfile
import time
import unicodedata
from dataclasses import replace
from pathlib import Path

from ..root import App
from ..settings import Settings
from .evaluate import _pct, load_questions

OUTCOMES_ANSWERABLE = ("correct", "declined", "wrong")
OUTCOMES_UNANSWERABLE = ("declined", "answered")


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def first_line(answer_text: str) -> str:
    """The answer's first line without its 答： lead."""
    line = next((ln for ln in answer_text.splitlines() if ln.strip()), "")
    line = line.strip()
    return line[2:] if line.startswith(("答：", "答:")) else line


def grade(item: dict, answer) -> str:
    """correct / declined / wrong for an answerable item; declined / answered for the others."""
    declined = answer.abstained or not answer.direct
    if not item.get("doc"):
        return "declined" if declined else "answered"
    if declined:
        return "declined"
    line = _norm(first_line(answer.answer))
    keys = item.get("keys") or []
    hit = all(any(_norm(k) in line for k in group) for group in keys)
    banned = any(_norm(k) in line for k in item.get("not") or [])
    return "correct" if hit and not banned else "wrong"


def grade_set(items: list[dict], app: App) -> dict:
    """Outcome counts and rates over a question set, answered offline by one App."""
    counts = {f"answerable_{o}": 0 for o in OUTCOMES_ANSWERABLE} | {f"unanswerable_{o}": 0 for o in OUTCOMES_UNANSWERABLE}
    lat: list[float] = []
    rows = []
    app.assistant.ask("预热")
    for item in items:
        t0 = time.perf_counter()
        answer = app.assistant.ask(item["question"])
        lat.append((time.perf_counter() - t0) * 1000)
        outcome = grade(item, answer)
        counts[("answerable_" if item.get("doc") else "unanswerable_") + outcome] += 1
        rows.append({"question": item["question"], "outcome": outcome, "first_line": first_line(answer.answer)})
    n_a = sum(counts[f"answerable_{o}"] for o in OUTCOMES_ANSWERABLE)
    n_u = sum(counts[f"unanswerable_{o}"] for o in OUTCOMES_UNANSWERABLE)
    rate = lambda n, d: round(n / d, 3) if d else None  # noqa: E731
    return {
        "answerable": n_a, "unanswerable": n_u, **counts,
        "correct": rate(counts["answerable_correct"], n_a),
        "declined_answerable": rate(counts["answerable_declined"], n_a),
        "wrong_answerable": rate(counts["answerable_wrong"], n_a),
        "declined_unanswerable": rate(counts["unanswerable_declined"], n_u),
        "wrong_all": rate(counts["answerable_wrong"] + counts["unanswerable_answered"], n_a + n_u),
        "p50_ms": round(statistics.median(lat), 1) if lat else 0.0, "p95_ms": round(_pct(lat, 0.95), 1),
        "rows": rows,
    }


def offline(settings: Settings) -> Settings:
    """The same settings with no chat model: the offline answers are what is graded."""
    return replace(settings, chat_model=None)


def evaluate_answers(path: Path, settings: Settings) -> dict:
    """The question set graded side by side: the product configuration (this data dir, which
    should hold the regulations; our cards are added if missing) and a fresh machine (a new
    data dir with only our cards)."""
    items = load_questions(path)
    product = App(offline(settings))
    product.ensure_bundled()
    out = {"questions": str(path), "product": grade_set(items, product)}
    with tempfile.TemporaryDirectory() as tmp:
        fresh = App(offline(replace(settings, data_dir=Path(tmp))))
        fresh.ensure_bundled()
        out["fresh"] = grade_set(items, fresh)
    return out


ROWS = (("correct", "可答：答对"), ("declined_answerable", "可答：未直接回答"), ("wrong_answerable", "可答：答错"),
        ("declined_unanswerable", "不可答：拒答或说明无直接规定"), ("wrong_all", "答错占全部（答错 + 不可答却作答）"),
        ("p95_ms", "ask p95 ms"))


def format_answers(report: dict) -> str:
    """The two configurations as columns."""
    p, f = report["product"], report["fresh"]
    lines = [f"{report['questions']}：可答 {p['answerable']} 个，不可答 {p['unanswerable']} 个",
             f"{'指标':<30}{'产品配置（法规+知识卡）':>16}{'新机器（仅知识卡）':>14}"]
    for key, label in ROWS:
        lines.append(f"{label:<30}{str(p[key]):>16}{str(f[key]):>14}")
    return "\n".join(lines)
