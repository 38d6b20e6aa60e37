"""Command line: python -m assistant <command> …  (a thin layer over the library)."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

from .config import Settings, apply_offline_env

PLUGINS = ("assistant.cli_meeting", "assistant.cli_plan_tasks")


def _store(args: argparse.Namespace):
    from .index import Store

    return Store(Settings.from_env(args.data_dir))


def cmd_ingest(args: argparse.Namespace) -> int:
    from .ingest import ingest

    report = ingest([Path(p) for p in args.paths], _store(args), progress=not args.quiet)
    for name, reason in report.failed:
        shown = name.encode("unicode_escape").decode("ascii") if not name.isprintable() else name
        print(f"失败 {shown}：{reason}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed else 0


def cmd_list(args: argparse.Namespace) -> int:
    docs = _store(args).documents()
    if args.json:
        print(json.dumps([d.__dict__ for d in docs], ensure_ascii=False, indent=1))
        return 0
    if not docs:
        print("知识库为空。先运行：python -m assistant ingest <文件或文件夹>")
    status_cn = {"current": "现行", "superseded": "已被修订", "reference": "参考"}
    for d in docs:
        flag = "" if d.complete else "（不完整，请重新导入）"
        print(f"{d.doc_id}\t{d.title}\t{status_cn.get(d.status, d.status)}\t{d.effective or '-'}\t{d.chunks} 段{flag}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    store = _store(args)
    docs = store.documents()
    matches = [d for d in docs if args.doc in (d.doc_id, d.title, Path(d.doc_id).stem)]
    if not matches:
        print(f"知识库中没有文档：{args.doc}（用 list 查看文件名）", file=sys.stderr)
        return 1
    with store.write_lock():
        for d in matches:
            n = store.remove_document(d.doc_id)
            print(f"已删除 {d.doc_id}（{n} 段）")
    store.refresh_lexical()
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from .index import Store
    from .retrieve import Retriever

    retriever = Retriever(Store(Settings.from_env(args.data_dir)))
    questions = (ln.strip() for ln in sys.stdin) if args.stdin else iter([args.query or ""])
    for q in questions:
        if not q:
            continue
        result = retriever.search(q, k=args.k, mode=args.mode)
        if args.json or args.stdin:
            print(json.dumps(result.public(), ensure_ascii=False), flush=True)
        else:
            if result.abstained:
                print("（知识库中没有足够相关的依据）")
            for n, h in enumerate(result.results, 1):
                mark = "【已被修订】" if h.status == "superseded" else ""
                print(f"[{n}] 《{h.title}》{h.article}{mark} {h.chapter}  ({h.source}, {h.score:.4f})")
                print("    " + h.text.replace("\n", "\n    ")[:300])
    return 0


def _print_answer(answer, text_shown: bool = False) -> None:
    if not text_shown:
        print(answer.answer)
    if answer.notice:
        print(f"\n提示：{answer.notice}")
    for src in answer.sources:
        status = {"current": "现行", "superseded": "已被修订"}.get(src.status, src.status)
        print(f"\n[{src.n}] {src.label()}（{status}）  ({src.source})\n    " + src.text.replace("\n", "\n    "))


def cmd_ask(args: argparse.Namespace) -> int:
    from .answer import Assistant

    answer = Assistant(Settings.from_env(args.data_dir)).ask(args.question)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        _print_answer(answer)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from .answer import Assistant

    assistant = Assistant(Settings.from_env(args.data_dir))
    history: list[tuple[str, str]] = []
    print(f"党务助手（{assistant.mode_label}）。输入问题后回车；输入“新对话”清空上下文，Ctrl-D 退出。")
    while True:
        try:
            question = input("\n问：").strip()
        except EOFError:
            print()
            return 0
        if not question:
            continue
        if question in ("新对话", "/new"):
            history.clear()
            print("已开始新对话。")
            continue
        shown = 0
        final = None
        for text, final in assistant.stream(question, history):
            if final is None:
                print(text[shown:], end="", flush=True)
                shown = len(text)
        assert final is not None
        if shown and final.answer != text:  # the model's text was replaced (verified or fallen back)
            print("\n\n（以下为核对后的回答）")
            shown = 0
        _print_answer(final, text_shown=bool(shown))
        history.append((question, final.answer))


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_file, format_table

    kinds = ("document",) if args.documents_only else None
    report = evaluate_file(Path(args.questions), Settings.from_env(args.data_dir), k=args.k, kinds=kinds)
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else format_table(report))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run

    corpus = Path(args.corpus)
    if not (corpus / "manifest.json").is_file():
        print(f"找不到语料目录 {corpus}（需要 manifest.json）", file=sys.stderr)
        return 2
    print(run(corpus, Path(args.out)))
    print(f"\n报告已写入 {args.out}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="知识库目录（默认 ./data 或 ASSISTANT_DATA_DIR）")
    parser = argparse.ArgumentParser(prog="python -m assistant", description="党务助手")
    parser.add_argument("--data-dir", dest="global_data_dir", help="知识库目录（也可写在子命令后）")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", parents=[common], help="导入文件或文件夹")
    p.add_argument("paths", nargs="+")
    p.add_argument("--quiet", action="store_true", help="不显示进度条")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("list", parents=[common], help="列出知识库中的文档")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("remove", parents=[common], help="删除文档（文件名或标题）")
    p.add_argument("doc")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("search", parents=[common], help="检索")
    p.add_argument("query", nargs="?")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
    p.add_argument("--json", action="store_true")
    p.add_argument("--stdin", action="store_true", help="每行一个问题，每行输出一个 JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", parents=[common], help="问一个问题（带依据）")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", parents=[common], help="在终端里连续对话")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", parents=[common], help="在问题集上评测检索（三种模式并列）")
    p.add_argument("questions")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.add_argument("--documents-only", action="store_true", help="只检索导入的文档，不含自带知识卡")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", parents=[common], help="基准测试：质量与速度，写出 Markdown 报告")
    p.add_argument("--corpus", default="../shared/corpus")
    p.add_argument("--out", default="bench/out/report.md")
    p.set_defaults(func=cmd_bench)

    add_parser = sub.add_parser

    def add_with_common(name: str, **kwargs):
        kwargs["parents"] = [common, *kwargs.get("parents", [])]
        return add_parser(name, **kwargs)

    sub.add_parser = add_with_common  # plugin commands accept --data-dir like the others
    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    apply_offline_env()
    args = build_parser().parse_args(argv)
    args.data_dir = args.data_dir or args.global_data_dir
    if args.command == "search" and not args.stdin and not args.query:
        print("请给出问题，或使用 --stdin", file=sys.stderr)
        return 2
    from .index import StoreError

    try:
        return args.func(args)
    except StoreError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into head/less that closed early
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print("已中断。已完成的文档已保存，重新运行即可继续。", file=sys.stderr)
        return 130
