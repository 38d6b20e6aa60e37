"""Retrieval evaluation: hit@1, hit@k, MRR, abstention and latency for each search mode, side by side."""
from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path

from ..citations import cited_refs, same_title
from ..knowledge import OUR_KINDS
from ..qa.answer import K, Assistant, Source
from ..qa.retrieve import MODES, Retriever, SearchResult

COMPANY_MARKERS = ("5G", "CHBN", "力量大厦", "公司", "移动", "集团", "网格", "客户")


def load_questions(path: Path) -> list[dict]:
    """Lines of {"question", "doc", "articles", "must_contain"}; doc null = unanswerable."""
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: 不是合法 JSON：{exc}") from exc
            if "question" not in item:
                raise ValueError(f"{path}:{n}: 缺少 question 字段")
            items.append(item)
    return items


def first_hit(result: SearchResult, doc: str, must_contain: str | None) -> int | None:
    """1-based rank of the first result from doc whose text contains must_contain."""
    for rank, h in enumerate(result.results, 1):
        if Path(h.source).stem == doc and (not must_contain or must_contain in h.text):
            return rank
    return None


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def evaluate(items: list[dict], retriever: Retriever, k: int = 5, modes: tuple[str, ...] = MODES,
             kinds: tuple[str, ...] | None = None) -> dict:
    """Metrics per mode over the same questions, in one process (kinds: see Retriever.search)."""
    retriever.search("预热", k=k)  # load the snapshot and the model before timing
    out: dict = {"k": k, "answerable": sum(1 for i in items if i.get("doc")),
                 "unanswerable": sum(1 for i in items if not i.get("doc")), "modes": {}}
    for mode in modes:
        hits1 = hitsk = 0
        rr = 0.0
        lat: list[float] = []
        abst_ans = abst_unans = 0
        misses = []
        for item in items:
            t0 = time.perf_counter()
            result = retriever.search(item["question"], k=k, mode=mode, kinds=kinds)
            lat.append((time.perf_counter() - t0) * 1000)
            if item.get("doc"):
                rank = first_hit(result, item["doc"], item.get("must_contain"))
                hits1 += rank == 1
                hitsk += rank is not None
                rr += 1.0 / rank if rank else 0.0
                abst_ans += result.abstained
                if rank is None:
                    misses.append(item["question"])
            else:
                abst_unans += result.abstained
        n_a, n_u = out["answerable"], out["unanswerable"]
        abstained = abst_ans + abst_unans
        out["modes"][mode] = {
            "hit@1": round(hits1 / n_a, 3) if n_a else None,
            f"hit@{k}": round(hitsk / n_a, 3) if n_a else None,
            "mrr": round(rr / n_a, 3) if n_a else None,
            "abstain_precision": round(abst_unans / abstained, 3) if abstained else None,
            "abstain_recall": round(abst_unans / n_u, 3) if n_u else None,
            "answerable_abstained": round(abst_ans / n_a, 3) if n_a else None,
            "p50_ms": round(statistics.median(lat), 1),
            "p95_ms": round(_pct(lat, 0.95), 1),
            "misses": misses,
        }
    return out


def is_gold_source(item: dict, source: Source, titles: dict[str, tuple[str, str]]) -> bool:
    """The source is the item's gold article or, for one of our cards, rests on it: the card
    passage cites that article of that regulation (titles: doc → (title, short title))."""
    if source.kind in OUR_KINDS:
        names = titles.get(item["doc"], ())
        return any((not item["articles"] or a in item["articles"]) and any(same_title(t, n) for n in names if n)
                   for t, a in cited_refs(source.basis))
    return Path(source.source).stem == item["doc"] and (not item["articles"] or source.article in item["articles"])


def evaluate_answers(items: list[dict], assistant: Assistant, titles: dict[str, tuple[str, str]]) -> dict:
    """Offline answers to a question set: how often the first citation of a direct answer is the
    gold article (or one of our cards resting on it), citations to passages that were not
    retrieved, how often the unanswerable are declined, latency."""
    lat, gold_first, answerable, direct, abstained, unanswerable, fabricated = [], 0, 0, 0, 0, 0, 0
    for item in items:
        t0 = time.perf_counter()
        ans = assistant.ask(item["question"])
        lat.append((time.perf_counter() - t0) * 1000)
        retrieved = {(h.title, h.article) for h in assistant.retriever.search(ans.query or item["question"], k=K).results}
        fabricated += sum((s.title, s.article) not in retrieved for s in ans.sources)
        if item.get("doc"):
            answerable += 1
            if ans.direct and not ans.abstained:
                direct += 1
                gold_first += bool(ans.sources and is_gold_source(item, ans.sources[0], titles))
        else:
            unanswerable += 1
            abstained += ans.abstained or not ans.direct  # declined: abstained, or no rule states it directly
    return {"answerable": answerable, "direct": direct, "gold_first": gold_first, "unanswerable": unanswerable,
            "abstained": abstained, "fabricated": fabricated,
            "p50_ms": statistics.median(lat) if lat else 0.0, "p95_ms": _pct(lat, 0.95)}


def format_table(report: dict) -> str:
    """The modes as columns, metrics as rows."""
    modes = list(report["modes"])
    rows = [key for key in next(iter(report["modes"].values())) if key != "misses"]
    lines = [f"问题 {report['answerable']} 个可答 + {report['unanswerable']} 个不可答，k={report['k']}",
             "指标".ljust(22) + "".join(m.rjust(10) for m in modes)]
    for key in rows:
        cells = ["-" if report["modes"][m][key] is None else str(report["modes"][m][key]) for m in modes]
        lines.append(key.ljust(22) + "".join(c.rjust(10) for c in cells))
    for m in modes:
        if report["modes"][m]["misses"]:
            lines.append(f"{m} 未命中：" + "；".join(report["modes"][m]["misses"][:12]))
    return "\n".join(lines)


def quiz_items(quiz_path: Path, corpus_dir: Path) -> list[dict]:
    """Quiz items whose answer, with the words around the blank, occurs in a corpus text;
    company-specific items are dropped. Each item gets the doc that holds it as gold."""
    texts = {p.stem: re.sub(r"\s+", "", p.read_text(encoding="utf-8")) for p in sorted(corpus_dir.glob("*.txt"))}
    items = []
    for line in quiz_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        question, answer = q["question"], str(q["answer"]).strip()
        if len(answer) < 2 or any(m in question + answer for m in COMPANY_MARKERS):
            continue
        parts = re.split(r"[（(]\s*[）)]", question, maxsplit=1)
        if len(parts) != 2:
            continue
        left, right = re.sub(r"\s+", "", parts[0])[-4:], re.sub(r"\s+", "", parts[1])[:4]
        for probe in (left + answer, answer + right):
            if len(probe) <= len(answer):
                continue
            doc = next((d for d, t in texts.items() if probe in t), None)
            if doc:
                items.append({"question": re.sub(r"[（(]\s*[）)]", "____", question), "doc": doc,
                              "articles": [], "must_contain": answer})
                break
    return items
