"""Evaluation commands (for maintainers, in a checkout): eval, bench."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..root import App


def cmd_eval(app: App, args: argparse.Namespace) -> int:
    from ..devtools.evaluate import evaluate, format_table, load_questions

    kinds = ("document",) if args.documents_only else None
    report = evaluate(load_questions(Path(args.questions)), app.retriever, k=args.k, kinds=kinds)
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else format_table(report))
    return 0


def cmd_eval_answers(app: App, args: argparse.Namespace) -> int:
    from ..devtools.grade import evaluate_answers, format_answers

    report = evaluate_answers(Path(args.questions), app.settings)
    if not args.rows:
        for config in ("product", "fresh"):
            report[config].pop("rows")
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else format_answers(report))
    return 0


def cmd_bench(app: App, args: argparse.Namespace) -> int:
    from ..devtools.bench import run

    corpus = Path(args.corpus)
    if not (corpus / "manifest.json").is_file():
        print(f"错误：找不到语料目录 {corpus}（需要 manifest.json）", file=sys.stderr)
        return 2
    print(run(corpus, Path(args.out)))
    print(f"\n报告已写入 {args.out}", file=sys.stderr)
    return 0


def cmd_bench_serve(app: App, args: argparse.Namespace) -> int:
    from ..devtools.serve_bench import run

    docs = [Path(d) for d in args.docs] if args.docs else [p for p in (Path(args.corpus),) if (p / "manifest.json").is_file()]
    result = run(Path(args.kb).resolve() if args.kb else None, docs, args.questions, args.clients, only=args.only,
                 profile=Path(args.profile).resolve() if args.profile else None)
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    runs = result["runs"]
    ok = all(r["errors"] == 0 for r in runs) and result["ratios"].get("b/a", 1.0) >= 0.6
    return 0 if ok else 1


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("bench-serve", parents=[common], help="吞吐基准：ask --stdin、OpenAI 兼容 API、Gradio /ask 三者对比",
                       description="同一批问题依次经过 (a) 单进程 ask --stdin，(b) /v1/chat/completions 16 个并发客户端，"
                                   "(c) Gradio /ask 16 个并发客户端；打印每秒问题数、p50/p95 延迟、服务进程内存和 b/a、c/a。"
                                   "要求 b/a ≥ 0.6 且没有错误（否则退出码 1）。")
    p.add_argument("--kb", metavar="目录", help="已有的知识库数据目录（默认临时建一个：语料 + 自带知识卡）")
    p.add_argument("--corpus", default="../shared/corpus", help="建库用的语料目录（含 manifest.json；不存在时只用知识卡）")
    p.add_argument("--docs", nargs="+", metavar="路径", help="改用这些文件或文件夹建库")
    p.add_argument("--questions", type=int, default=200, help="问题数（默认 200，取自 bench/devset.jsonl）")
    p.add_argument("--clients", type=int, default=16, help="(b)(c) 的并发客户端数（默认 16）")
    p.add_argument("--only", default="abc", help="只跑其中几项，如 ab")
    p.add_argument("--profile", metavar="文件", help="同时用 py-spy 记录服务进程（speedscope 格式）")
    p.add_argument("--json", metavar="文件", help="同时把数字写成 JSON")
    p.set_defaults(run=cmd_bench_serve, _parser=p)

    p = sub.add_parser("eval", parents=[common], help="在问题集上评测检索（三种模式并列）")
    p.add_argument("questions", metavar="问题集.jsonl")
    p.add_argument("--k", type=int, default=5, help="看前几段（默认 5）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.add_argument("--documents-only", action="store_true", help="只检索导入的文档，不含自带知识卡")
    p.set_defaults(run=cmd_eval, _parser=p)

    p = sub.add_parser("eval-answers", parents=[common], help="按答案要点评测离线回答（产品配置与新机器并列）",
                       description="问题集每行含 keys（可接受字符串的分组）：回答第一行须包含每组中的至少一个。"
                                   "可答题分为答对 / 未直接回答 / 答错，不可答题分为拒答 / 作答；数据目录应含法规原文。")
    p.add_argument("questions", metavar="问题集.jsonl")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.add_argument("--rows", action="store_true", help="JSON 中列出每题的结果和第一行")
    p.set_defaults(run=cmd_eval_answers, _parser=p)

    p = sub.add_parser("bench", parents=[common], help="基准测试：质量与速度，写出 Markdown 报告")
    p.add_argument("--corpus", default="../shared/corpus", help="语料目录（含 manifest.json）")
    p.add_argument("--out", default="bench/out/report.md", help="报告文件")
    p.set_defaults(run=cmd_bench, _parser=p)
