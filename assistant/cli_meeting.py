"""``meeting-plan`` subcommand: write a 会议方案 as .docx or .md.

    python -m assistant meeting-plan --type 组织生活会 --branch "XX党支部" \\
        --date 2026-12-18 [--topic …] [--members 23] --out plan.docx

Bad input prints one Chinese line naming the option on stderr and exits 2.
Without --out the plan is printed to stdout as Markdown.
"""
from __future__ import annotations

import argparse
import sys

from .meeting import FIELD_LABELS, MeetingPlanError, make_meeting_plan

__all__ = ["register", "run", "main"]

_REQUIRED = ("type", "branch", "date")
_SUFFIXES = (".docx", ".md", ".markdown")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    # Options are optional at the argparse level so that a missing one gets our Chinese message.
    p.add_argument("--type", dest="type", metavar="类型",
                   help="会议类型，如 支部党员大会、支委会、党小组会、党课、主题党日、组织生活会、"
                        "民主评议党员、接收预备党员的支部党员大会、预备党员转正的支部党员大会")
    p.add_argument("--branch", metavar="支部", help="党支部名称，如 XX党支部")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="会议日期（今天或以后）")
    p.add_argument("--topic", metavar="主题", help="会议主题（不填则按会议类型给出默认主题）")
    p.add_argument("--members", metavar="人数",
                   help="应到会人数：党员大会类填有表决权的党员数，支委会填委员数，党小组会填小组党员数")
    p.add_argument("--out", metavar="文件", help="输出文件 .docx 或 .md（不填则把 Markdown 打印到屏幕）")
    p.add_argument("--today", metavar="YYYY-MM-DD", help=argparse.SUPPRESS)  # fixes "today" for tests


def register(subparsers) -> None:
    """Add the ``meeting-plan`` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser("meeting-plan", help="生成会议方案（Word 或 Markdown）",
                              description="按会议类型生成会议方案：主题、时间地点、参加人员和到会要求、"
                                          "会前准备（倒推日期）、议程、会后工作、注意事项和依据。")
    _add_arguments(p)
    p.set_defaults(func=run)


def _fail(field: str, problem: str) -> int:
    label = FIELD_LABELS.get(field, field)
    print(f"错误：{label}（--{field}）{problem}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Carry out ``meeting-plan`` for parsed arguments; returns the exit code."""
    for name in _REQUIRED:
        if not (getattr(args, name, None) or "").strip():
            return _fail(name, "必须填写")
    out = getattr(args, "out", None)
    if out is not None and not out.lower().endswith(_SUFFIXES):
        return _fail("out", f"扩展名应为 .docx 或 .md，收到：“{out}”")
    try:
        plan = make_meeting_plan(
            args.type, args.branch, args.date,
            topic=getattr(args, "topic", None),
            members=getattr(args, "members", None),
            today=getattr(args, "today", None) or None,
        )
        if out is None:
            sys.stdout.write(plan.to_markdown())
            return 0
        path = plan.write(out)
    except MeetingPlanError as exc:
        return _fail(exc.field, exc.problem)
    except OSError as exc:
        print(f"错误：输出文件（--out）无法写入 {out}：{exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"已生成会议方案：{path}")
    for warning in plan.warnings:
        print(f"提示：{warning}")
    return 0


class _Parser(argparse.ArgumentParser):
    """Stand-alone parser whose usage errors are one Chinese line (exit 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        print(f"错误：命令参数有误（{message}）。用 --help 查看用法。", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    """Run ``meeting-plan`` on its own (``argv`` without the subcommand name)."""
    parser = _Parser(prog="python -m assistant meeting-plan", description="生成会议方案")
    _add_arguments(parser)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)  # accepted and ignored
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
