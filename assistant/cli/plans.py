"""Planning commands: meeting-plan, checklist, plan-tasks."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from ..errors import InputError
from ..inputs import parse_date, parse_hours, parse_int
from ..plans.obligations import BRANCH_TYPES
from ..root import App

BRANCH_CHOICES = " / ".join(BRANCH_TYPES)


def _out(value: str | None, allowed: tuple[str, ...]) -> Path | None:
    """The output file named by --out, checked against the formats a command writes."""
    if value is None:
        return None
    path = Path(value)
    if path.suffix.lower() not in allowed:
        raise InputError("out", f"输出文件的扩展名应为 {' / '.join(allowed)} 之一，收到 {path.suffix or '（无扩展名）'}")
    if path.is_dir():
        raise InputError("out", f"输出文件 {value} 是一个目录")
    return path


def _branch(value: str) -> str:
    if value not in BRANCH_TYPES:
        raise InputError("branch_type", f"支部类型应为 {BRANCH_CHOICES} 之一，收到“{value}”")
    return value


def cmd_meeting_plan(app: App, args: argparse.Namespace) -> int:
    from ..plans.meeting import make_meeting_plan

    for name, text in (("type", args.type), ("branch", args.branch), ("date", args.date)):
        if not (text or "").strip():
            raise InputError(name, {"type": "会议类型", "branch": "党支部名称", "date": "会议日期"}[name] + "必须填写")
    out = _out(args.out, (".docx", ".md", ".markdown"))
    plan = make_meeting_plan(args.type, args.branch, args.date, topic=args.topic, members=args.members,
                             today=args.today or None, duties=app.knowledge.duties())
    if args.minutes is not None:
        from ..plans.minutes import write_minutes

        print(f"已生成会议记录模板：{write_minutes(plan, args.minutes or None, out)}",
              file=sys.stderr if out is None else sys.stdout)
    if out is None:
        sys.stdout.write(plan.to_markdown())
        return 0
    print(f"已生成会议方案：{plan.write(out)}")
    for warning in plan.warnings:
        print(f"提示：{warning}")
    return 0


def cmd_checklist(app: App, args: argparse.Namespace) -> int:
    from ..plans.checklist import FORMATS, build_checklist, to_markdown, write_checklist

    year = parse_int(args.year, "year", 1950, 2200)
    quarter = parse_int(args.quarter, "quarter", 1, 4, required=False)
    month = parse_int(args.month, "month", 1, 12, required=False)
    if quarter is not None and month is not None:
        raise InputError("quarter", "季度和月份只能指定一个")
    members = parse_int(args.members, "members", 1, 100000, required=False)
    out = _out(args.out, FORMATS)
    cl = build_checklist(year, quarter=quarter, month=month, branch_type=_branch(args.branch_type), members=members,
                         duties=app.knowledge.duties())
    if out is None:
        sys.stdout.write(to_markdown(cl))
    else:
        write_checklist(cl, out)
        print(f"已生成{cl.title}：{out}（{len(cl.items)}项）")
    return 0


def cmd_plan_tasks(app: App, args: argparse.Namespace) -> int:
    from ..plans.planner import FORMATS, load_tasks, plan_tasks, to_markdown, write_plan

    if not args.file:
        raise InputError("file", "缺少任务文件（YAML，或每行“名称 | 截止日期 | 工时 | 标记”的文本）")
    start = parse_date(args.start, "start")
    today = date.today()
    if start < today:
        raise InputError("start", f"开始日期不能早于今天（{today.isoformat()}），收到 {start.isoformat()}")
    weeks = parse_int(args.weeks, "weeks", 1, 260)
    hours = parse_hours(args.hours_per_week, "hours_per_week", 0.5, 168)
    members = parse_int(args.members, "members", 1, 100000, required=False)
    out = _out(args.out, FORMATS)
    path = Path(args.file)
    if not path.is_file():
        raise InputError("file", f"任务文件不存在：{args.file}")
    duties = app.knowledge.duties()
    plan = plan_tasks(load_tasks(path, duties), start, weeks, hours, branch_type=_branch(args.branch_type),
                      members=members, role=args.role, duties=duties)
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


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("meeting-plan", parents=[common], help="生成会议方案（Word 或 Markdown）",
                       description="按会议类型生成会议方案：主题、时间地点、参加人员和到会要求、会前准备（倒推日期）、"
                                   "议程、会后工作、注意事项和依据。")
    p.add_argument("--type", metavar="类型",
                   help="会议类型，如 支部党员大会、支委会、党小组会、党课、主题党日、组织生活会、民主评议党员、"
                        "接收预备党员的支部党员大会、预备党员转正的支部党员大会")
    p.add_argument("--branch", metavar="支部", help="党支部名称，如 XX党支部")
    p.add_argument("--date", metavar="日期", help="会议日期（今天或以后），如 2026-12-18 或 2026年12月18日")
    p.add_argument("--topic", metavar="主题", help="会议主题（不填则按会议类型给出默认主题）")
    p.add_argument("--members", metavar="人数",
                   help="应到会人数：党员大会类填有表决权的党员数，支委会填委员数，党小组会填小组党员数")
    p.add_argument("--out", metavar="文件", help="输出文件 .docx 或 .md（不填则把 Markdown 打印到屏幕）")
    p.add_argument("--minutes", nargs="?", const="", default=None, metavar="文件",
                   help="同时生成这次会议的会议记录模板（.docx，含台账需要的各项；不写文件名则放在方案旁边）")
    p.add_argument("--today", metavar="日期", help=argparse.SUPPRESS)  # fixes "today" for tests
    p.set_defaults(run=cmd_meeting_plan, _parser=p)

    p = sub.add_parser("checklist", parents=[common], help="生成党支部工作清单（年/季/月）",
                       description="按 knowledge/obligations.yaml 生成一年、一季度或一个月的支部工作清单：到期日、责任人、"
                                   "合格标准、依据、按角色分工和季度自查表。输出格式由 --out 的扩展名决定"
                                   "（.md/.xlsx/.docx/.ics），不给 --out 时打印 Markdown。")
    p.add_argument("--year", metavar="年份", help="年份，例如 2027（必填）")
    p.add_argument("--quarter", metavar="季度", help="只列第几季度（1–4）；与 --month 二选一")
    p.add_argument("--month", metavar="月份", help="只列几月（1–12）；与 --quarter 二选一")
    p.add_argument("--branch-type", default="机关", metavar="类型", help=f"支部类型：{BRANCH_CHOICES}（默认 机关）")
    p.add_argument("--members", metavar="人数", help="党员人数（用于谈心谈话等按人计的事项）")
    p.add_argument("--out", metavar="文件", help="输出文件：.md / .xlsx / .docx / .ics")
    p.set_defaults(run=cmd_checklist, _parser=p)

    p = sub.add_parser("plan-tasks", parents=[common], help="按每周可用工时规划个人任务和支部规定工作",
                       description="读入任务文件（YAML：name/deadline/hours/flag；或每行“名称 | 截止日期 | 工时 | 标记”），"
                                   "加上规划期内 obligations.yaml 规定的工作，按周排进可用工时；放不下的列出原因和建议。")
    p.add_argument("file", nargs="?", metavar="任务文件", help="任务文件（.yaml/.yml 或文本）")
    p.add_argument("--start", metavar="日期", help="规划开始日期（不早于今天，必填），如 2026-12-07 或 2026年12月7日")
    p.add_argument("--weeks", default="6", metavar="周数", help="规划几周（默认 6）")
    p.add_argument("--hours-per-week", metavar="小时", help="每周可用于党务的小时数（必填）")
    p.add_argument("--branch-type", default="机关", metavar="类型", help=f"支部类型：{BRANCH_CHOICES}（默认 机关）")
    p.add_argument("--members", metavar="人数", help="党员人数（用于谈心谈话等按人计的事项）")
    p.add_argument("--role", default=None, metavar="角色",
                   help="只排这个角色负责的规定工作：书记 / 组织委员 / 宣传委员 / 纪检委员 / 党小组长（默认全部）")
    p.add_argument("--out", metavar="文件", help="输出文件：.md / .ics / .json")
    p.add_argument("--json", action="store_true", help="把规划以 JSON 打印到标准输出")
    p.set_defaults(run=cmd_plan_tasks, _parser=p)
