"""Knowledge-base commands: ingest, list, remove, search."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..citations import status_word
from ..root import App


def importer() -> str:
    """命令行（user）: who runs the command, as the document list records it."""
    import getpass

    try:
        return f"命令行（{getpass.getuser()}）"
    except Exception:  # no user name in this environment (a container without a passwd entry)
        return "命令行"


def cmd_ingest(app: App, args: argparse.Namespace) -> int:
    report = app.ingest([Path(p) for p in args.paths], progress=not args.quiet, importer=importer())
    for name, reason in report.failed:
        shown = name.encode("unicode_escape").decode("ascii") if not name.isprintable() else name
        print(f"失败 {shown}：{reason}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed else 0


def cmd_list(app: App, args: argparse.Namespace) -> int:
    docs = app.store.documents()
    if args.json:
        print(json.dumps([d.__dict__ for d in docs], ensure_ascii=False, indent=1))
        return 0
    if not docs:
        print("知识库为空。先运行：python -m assistant ingest <文件或文件夹>")
    for d in docs:
        flag = "" if d.complete else "（不完整，请重新导入）"
        print(f"{d.doc_id}\t{d.title}\t{status_word(d.status)}\t{d.effective or '-'}\t{d.chunks} 段{flag}"
              f"\t{d.provenance()}")
    return 0


def cmd_remove(app: App, args: argparse.Namespace) -> int:
    store = app.store
    matches = [d for d in store.documents() if args.doc in (d.doc_id, d.title, Path(d.doc_id).stem)]
    if not matches:
        print(f"知识库中没有文档：{args.doc}（用 list 查看文件名）", file=sys.stderr)
        return 1
    for d in matches:
        print(f"已删除 {d.doc_id}（{store.remove_document(d.doc_id)} 段）")
    store.refresh_lexical()
    return 0


def cmd_search(app: App, args: argparse.Namespace) -> int:
    if not args.stdin and not args.query:
        print("错误：请给出问题，或使用 --stdin", file=sys.stderr)
        return 2
    app.ensure_bundled()
    questions = (ln.strip() for ln in sys.stdin) if args.stdin else iter([args.query])
    for q in questions:
        if not q:
            continue
        result = app.retriever.search(q, k=args.k, mode=args.mode)
        if args.json or args.stdin:
            print(json.dumps(result.public(), ensure_ascii=False), flush=True)
            continue
        if result.abstained:
            print("（知识库中没有足够相关的依据）")
        for n, h in enumerate(result.results, 1):
            mark = "【已被修订】" if h.status == "superseded" else ""
            print(f"[{n}] 《{h.title}》{h.article}{mark} {h.chapter}  ({h.source}, {h.score:.4f})")
            print("    " + h.text.replace("\n", "\n    ")[:300])
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ingest", parents=[common], help="导入文件或文件夹")
    p.add_argument("paths", nargs="+", metavar="文件或文件夹")
    p.add_argument("--quiet", action="store_true", help="不显示进度条")
    p.set_defaults(run=cmd_ingest, _parser=p)

    p = sub.add_parser("list", parents=[common], help="列出知识库中的文档")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.set_defaults(run=cmd_list, _parser=p)

    p = sub.add_parser("remove", parents=[common], help="删除文档（文件名或标题）")
    p.add_argument("doc", metavar="文件名或标题")
    p.set_defaults(run=cmd_remove, _parser=p)

    p = sub.add_parser("search", parents=[common], help="检索")
    p.add_argument("query", nargs="?", metavar="问题")
    p.add_argument("--k", type=int, default=5, help="返回几段（默认 5）")
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid", help="检索方式（默认 hybrid）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.add_argument("--stdin", action="store_true", help="每行一个问题，每行输出一个 JSON")
    p.set_defaults(run=cmd_search, _parser=p)
