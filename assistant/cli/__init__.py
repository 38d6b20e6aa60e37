"""Command line: ``python -m assistant <command> …`` (or ``dangwu …``), a thin layer over the library.

One parser, Chinese help and errors for every subcommand; the commands are registered
explicitly below, each as ``run(app, args) -> exit code`` over the composition root.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from ..errors import AssistantError, InputError
from ..inputs import shorten
from ..root import App
from ..settings import Settings, apply_offline_env, configure_logging

EXIT_BAD_INPUT = 2
# argparse's own texts, in Chinese (argparse looks its module-level ``_`` up at call time)
_ZH = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
    "show this help message and exit": "显示帮助并退出",
    "the following arguments are required: %s": "缺少参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择：%(value)r（可选 %(choices)s）",
    "expected one argument": "需要一个值",
    "expected at least one argument": "至少需要一个值",
    "expected at most one argument": "最多一个值",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值：%(value)r",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ambiguous option: %(option)s could match %(matches)s": "选项不明确：%(option)s 可以指 %(matches)s",
    "one of the arguments %s is required": "必须给出参数 %s 之一",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
}
argparse._ = lambda text: _ZH.get(text, text)  # type: ignore[attr-defined]


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one Chinese line (exit status 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        print(f"错误：{message}（用 {self.prog} --help 查看用法）", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _commands():
    from . import admin, ask, dev, kb, plans, records, serve

    return (kb.register, ask.register, plans.register, records.register, serve.register, admin.register, dev.register)


def build_parser() -> Parser:
    """The whole command line: every subcommand accepts --data-dir before or after its name."""
    common = Parser(add_help=False)
    common.add_argument("--data-dir", metavar="目录", help="数据目录（默认 ./data 或 ASSISTANT_DATA_DIR）")
    parser = Parser(prog="python -m assistant", description="党务助手：有依据的党务问答、会议方案、工作清单与任务规划")
    parser.add_argument("--data-dir", dest="global_data_dir", metavar="目录", help="数据目录（也可写在子命令后）")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令", parser_class=Parser)
    sub.required = True
    for register in _commands():
        register(sub, common)
    return parser


def _flag_hint(args: argparse.Namespace, field: str) -> str:
    """（--start） when the failing field is an option of the command that ran."""
    parser = getattr(args, "_parser", None)
    flag = "--" + field.replace("_", "-")
    if parser is not None and flag in parser._option_string_actions:  # noqa: SLF001 - argparse has no public API for this
        return f"（{flag}）"
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status."""
    apply_offline_env()
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help (0), or a usage error already printed as one Chinese line (2)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    try:
        settings = Settings.from_env(data_dir=getattr(args, "data_dir", None) or args.global_data_dir)
        configure_logging(logging.WARNING, settings.log_level)
        return args.run(App.from_settings(settings), args)
    except InputError as exc:
        print(f"错误：{exc}{_flag_hint(args, exc.field)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except AssistantError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into head/less that closed early
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print("已中断。已完成的部分已保存，重新运行即可继续。", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"错误：读写文件失败（{exc.strerror or exc}）：{shorten(exc.filename or '', 120)}", file=sys.stderr)
        return 1
