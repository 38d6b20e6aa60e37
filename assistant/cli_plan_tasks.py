"""CLI subcommands ``checklist`` and ``plan-tasks``.

    python -m assistant checklist --year 2027 [--quarter 1 | --month 3] --branch-type 机关 [--members 23] --out x.xlsx|x.md|x.docx|x.ics
    python -m assistant plan-tasks tasks.yaml --start 2026-12-01 --weeks 6 --hours-per-week 4 [--out plan.md|plan.ics|plan.json] [--json]

``register(subparsers)`` adds both to the main parser; each subparser sets
``func`` so the caller runs ``sys.exit(args.func(args))``. Every flag is parsed
as text and checked here, so bad input gives one Chinese line naming the field
on stderr and exit status 2 — whatever ArgumentParser class the caller uses.
``main(argv)`` runs the two commands stand-alone (also ``python -m assistant.cli_plan_tasks``).
"""
from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path
from typing import Sequence

__all__ = ["register", "main", "run_checklist", "run_plan_tasks", "CliError"]

EXIT_BAD_INPUT = 2
BRANCH_CHOICES = "机关 / 企业 / 高校 / 社区 / 通用"


class CliError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


def _today() -> date:
    return date.today()


def _int(value: str | None, flag: str, label: str, lo: int, hi: int) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise CliError(f"{flag}（{label}）应为整数，收到 {text!r}")
    n = int(text)
    if not lo <= n <= hi:
        raise CliError(f"{flag}（{label}）应在 {lo}–{hi} 之间，收到 {n}")
    return n


def _float(value: str | None, flag: str, label: str) -> float | None:
    if value is None:
        return None
    text = str(value).strip()
    try:
        x = float(text)
    except ValueError:
        raise CliError(f"{flag}（{label}）应为数字，收到 {text!r}") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise CliError(f"{flag}（{label}）应为有限数字，收到 {text!r}")
    if x < 0:
        raise CliError(f"{flag}（{label}）不能为负数，收到 {text}")
    return x


def _date(value: str | None, flag: str, label: str) -> date | None:
    if value is None:
        return None
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    try:
        if not m:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise CliError(f"{flag}（{label}）应为 YYYY-MM-DD 格式的日期，收到 {text!r}") from None


def _branch(value: str) -> str:
    from .obligations import BRANCH_TYPES

    if value not in BRANCH_TYPES:
        raise CliError(f"--branch-type（支部类型）应为 {BRANCH_CHOICES} 之一，收到 {value!r}")
    return value


def _out(value: str | None, allowed: tuple[str, ...]) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise CliError(f"--out（输出文件）扩展名应为 {' / '.join(allowed)} 之一，收到 {suffix or '（无扩展名）'}")
    if path.exists() and path.is_dir():
        raise CliError(f"--out（输出文件）{value} 是一个目录")
    return path


# --------------------------------------------------------------------------- handlers

def run_checklist(args: argparse.Namespace) -> int:
    from .checklist import FORMATS, ChecklistError, build_checklist, to_markdown, write_checklist

    try:
        if args.year is None:
            raise CliError("缺少 --year（年份），例如 --year 2027")
        year = _int(args.year, "--year", "年份", 1950, 2200)
        quarter = _int(args.quarter, "--quarter", "季度", 1, 4)
        month = _int(args.month, "--month", "月份", 1, 12)
        if quarter is not None and month is not None:
            raise CliError("--quarter（季度）和 --month（月份）只能指定一个")
        members = _int(args.members, "--members", "党员人数", 1, 100000)
        branch = _branch(args.branch_type)
        out = _out(args.out, FORMATS)
        cl = build_checklist(year, quarter=quarter, month=month, branch_type=branch, members=members)
        if out is None:
            sys.stdout.write(to_markdown(cl))
        else:
            write_checklist(cl, out)
            print(f"已生成{cl.title}：{out}（{len(cl.items)}项）")
        return 0
    except ChecklistError as exc:
        raise CliError(str(exc)) from None


def run_plan_tasks(args: argparse.Namespace) -> int:
    from .planner import FORMATS, PlanError, TaskFileError, load_tasks, plan_tasks, to_markdown, write_plan

    try:
        if not args.file:
            raise CliError("缺少任务文件 FILE（YAML 或每行一项的文本）")
        if args.start is None:
            raise CliError("缺少 --start（开始日期），例如 --start 2026-12-01")
        start = _date(args.start, "--start", "开始日期")
        today = _today()
        if start < today:
            raise CliError(f"--start（开始日期）不能早于今天（{today.isoformat()}），收到 {start.isoformat()}")
        weeks = _int(args.weeks, "--weeks", "周数", 1, 260)
        if args.hours_per_week is None:
            raise CliError("缺少 --hours-per-week（每周可用工时），例如 --hours-per-week 4")
        hours = _float(args.hours_per_week, "--hours-per-week", "每周可用工时")
        if hours == 0:
            raise CliError("--hours-per-week（每周可用工时）应大于0")
        members = _int(args.members, "--members", "党员人数", 1, 100000)
        branch = _branch(args.branch_type)
        role = args.role
        out = _out(args.out, FORMATS)
        path = Path(args.file)
        if not path.is_file():
            raise CliError(f"FILE（任务文件）不存在：{args.file}")
        tasks = load_tasks(path)
        plan = plan_tasks(tasks, start, weeks, hours, branch_type=branch, members=members, role=role)
        if out is not None:
            write_plan(plan, out)
        if args.json:
            print(plan.to_json())
        elif out is None:
            sys.stdout.write(to_markdown(plan))
        else:
            placed = sum(len(w.items) for w in plan.weeks)
            print(f"已生成任务规划：{out}（排入{placed}项，需调整{len(plan.deferred)}项）")
        return 0
    except (TaskFileError, PlanError) as exc:
        raise CliError(str(exc)) from None


def _guard(handler):
    """Turn CliError (and schema errors) into one stderr line and exit status 2."""
    def run(args: argparse.Namespace) -> int:
        from .obligations import ObligationsError

        try:
            return handler(args)
        except CliError as exc:
            print(f"错误：{exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except ObligationsError as exc:
            print(f"错误：{exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except BrokenPipeError:  # e.g. piped into `head`
            return 0
        except OSError as exc:
            print(f"错误：写入或读取文件失败（{exc.strerror or exc}）：{exc.filename or ''}", file=sys.stderr)
            return EXIT_BAD_INPUT
    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


# --------------------------------------------------------------------------- registration

def register(subparsers) -> None:
    """Add ``checklist`` and ``plan-tasks`` to an argparse subparsers object."""
    p = subparsers.add_parser(
        "checklist", help="生成党支部工作清单（年/季/月）",
        description="按 knowledge/obligations.yaml 生成一年、一季度或一个月的支部工作清单：到期日、责任人、合格标准、依据、"
                    "按角色分工和季度自查表。输出格式由 --out 的扩展名决定（.md/.xlsx/.docx/.ics），不给 --out 时打印 Markdown。")
    p.add_argument("--year", metavar="YYYY", help="年份，例如 2027（必填）")
    p.add_argument("--quarter", metavar="Q", help="只列第几季度（1–4）；与 --month 二选一")
    p.add_argument("--month", metavar="M", help="只列几月（1–12）；与 --quarter 二选一")
    p.add_argument("--branch-type", default="机关", metavar="类型", help=f"支部类型：{BRANCH_CHOICES}（默认 机关）")
    p.add_argument("--members", metavar="N", help="党员人数（用于谈心谈话等按人计的事项）")
    p.add_argument("--out", metavar="FILE", help="输出文件：.md / .xlsx / .docx / .ics")
    p.set_defaults(func=_guard(run_checklist))

    p = subparsers.add_parser(
        "plan-tasks", help="按每周可用工时规划个人任务和支部规定工作",
        description="读入任务文件（YAML：name/deadline/hours/flag；或每行“名称 | 截止日期 | 工时 | 标记”），加上规划期内"
                    "obligations.yaml 规定的工作，按周排进可用工时；放不下的列出原因和建议。")
    p.add_argument("file", nargs="?", metavar="FILE", help="任务文件（.yaml/.yml 或文本）")
    p.add_argument("--start", metavar="YYYY-MM-DD", help="规划开始日期（不早于今天，必填）")
    p.add_argument("--weeks", default="6", metavar="N", help="规划几周（默认 6）")
    p.add_argument("--hours-per-week", metavar="H", help="每周可用于党务的小时数（必填）")
    p.add_argument("--branch-type", default="机关", metavar="类型", help=f"支部类型：{BRANCH_CHOICES}（默认 机关）")
    p.add_argument("--members", metavar="N", help="党员人数（用于谈心谈话等按人计的事项）")
    p.add_argument("--role", default=None, metavar="角色",
                   help="只排这个角色负责的规定工作：书记 / 组织委员 / 宣传委员 / 纪检委员 / 党小组长（默认全部）")
    p.add_argument("--out", metavar="FILE", help="输出文件：.md / .ics / .json")
    p.add_argument("--json", action="store_true", help="把规划以 JSON 打印到标准输出")
    p.set_defaults(func=_guard(run_plan_tasks))


class _Parser(argparse.ArgumentParser):
    """Stand-alone parser whose own errors are one Chinese line and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        message = (message.replace("unrecognized arguments", "无法识别的参数")
                   .replace("the following arguments are required", "缺少参数")
                   .replace("invalid choice", "无效的选项")
                   .replace("not allowed with argument", "不能与此参数同时使用：")
                   .replace("argument ", "参数 "))
        print(f"错误：{message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="python -m assistant", description="党务助手：工作清单与任务规划")
    parser.add_argument("--data-dir", default=None, help="数据目录（这两个命令不使用）")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    register(sub)
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
