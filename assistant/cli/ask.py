"""Question commands: ask (one question, or one per line with --stdin) and chat."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..citations import status_word
from ..errors import InputError
from ..inputs import shorten
from ..root import App


def _print_answer(answer, text_shown: bool = False) -> None:
    if not text_shown:
        print(answer.answer)
    if answer.notice:
        print(f"\n提示：{answer.notice}")
    for path in (answer.action or {}).get("files", []):
        print(f"\n已写入：{path}")
    for src in answer.sources:
        print(f"\n[{src.n}] {src.label()}（{status_word(src.status)}）  ({src.source})\n    "
              + src.text.replace("\n", "\n    "))


def cmd_ask(app: App, args: argparse.Namespace) -> int:
    app.ensure_bundled()
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    if args.stdin:
        failed = 0
        for line in sys.stdin:
            question = line.strip()
            if not question:
                continue
            try:
                result = app.respond(question, out_dir=out).to_json()
            except InputError as exc:  # this line is refused, the batch goes on
                failed += 1
                result = {"question": shorten(question), "error": str(exc)}
            print(json.dumps(result, ensure_ascii=False), flush=True)
        return 1 if failed else 0
    if not args.question:
        print("错误：请给出问题，或使用 --stdin", file=sys.stderr)
        return 2
    answer = app.respond(args.question, out_dir=out)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        _print_answer(answer)
    return 0


def cmd_chat(app: App, args: argparse.Namespace) -> int:
    app.ensure_bundled(progress=True)
    assistant = app.assistant
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
        text = ""
        final = None
        for text, final in app.stream(question, history):
            if final is None:
                print(text[shown:], end="", flush=True)
                shown = len(text)
        assert final is not None
        if shown and final.answer != text:  # the model's text was replaced (verified or fallen back)
            print("\n\n（以下为核对后的回答）")
            shown = 0
        _print_answer(final, text_shown=bool(shown))
        history.append((question, final.answer))


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ask", parents=[common], help="问一个问题（带依据）")
    p.add_argument("question", nargs="?", metavar="问题")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.add_argument("--stdin", action="store_true", help="每行一个问题，每行输出一个 JSON（一个进程答完整批）")
    p.add_argument("--out", metavar="目录", help="请求生成方案、清单时，把文件写到这个目录")
    p.set_defaults(run=cmd_ask, _parser=p)

    p = sub.add_parser("chat", parents=[common], help="在终端里连续对话")
    p.set_defaults(run=cmd_chat, _parser=p)
