"""Planning commands: meeting-plan, checklist, plan-tasks, and the branch profile they read (profile set/show)."""
from __future__ import annotations

import argparse
import json
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


def _branch(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in BRANCH_TYPES:
        raise InputError("branch_type", f"支部类型应为 {BRANCH_CHOICES} 之一，收到“{value}”")
    return value


def _profile(app: App, args: argparse.Namespace):
    """--profile FILE, else the profile saved in the data directory, else an empty one; and whether one was given."""
    from ..plans.profile import Profile, load_profile, saved_profile

    if getattr(args, "profile", None):
        return load_profile(args.profile), True
    saved = saved_profile(app.settings.data_dir)
    return (saved, True) if saved is not None else (Profile(), False)


def _warn_profile(profile, given: bool) -> None:
    if not given:
        print("提示：还没有保存支部情况，按默认情况处理（用 python -m assistant profile set … 填写，"
              "或用 --profile 指定文件）", file=sys.stderr)
    for w in profile.warnings():
        print(f"提示：{w}", file=sys.stderr)


def _today(args: argparse.Namespace) -> date:
    return parse_date(args.today, "today") if getattr(args, "today", None) else date.today()


def _records(app: App, duties, window: tuple[date, date], args: argparse.Namespace, branch_type: str | None,
             profile, as_of: date | None = None):
    """What the branch's ledger says of its duties in the window (None: no records, or --no-records)."""
    from ..records.progress import app_progress

    if getattr(args, "no_records", False):
        return None
    kind = branch_type or (profile.branch_type if profile is not None else "机关")
    progress, notice = app_progress(app, duties, window[0], window[1], as_of or _today(args), branch_type=kind,
                                    profile=profile)
    if notice:
        print(f"提示：{notice}", file=sys.stderr)
    return progress


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
    from ..plans.checklist import FORMATS, build_checklist, period_bounds, to_markdown, write_checklist

    year = parse_int(args.year, "year", 1950, 2200)
    quarter = parse_int(args.quarter, "quarter", 1, 4, required=False)
    month = parse_int(args.month, "month", 1, 12, required=False)
    if quarter is not None and month is not None:
        raise InputError("quarter", "季度和月份只能指定一个")
    members = parse_int(args.members, "members", 1, 100000, required=False)
    out = _out(args.out, FORMATS)
    profile, given = _profile(app, args)
    branch_type = _branch(args.branch_type)
    duties = app.knowledge.duties()
    progress = _records(app, duties, period_bounds(year, quarter, month), args, branch_type, profile)
    cl = build_checklist(year, quarter=quarter, month=month, branch_type=branch_type, members=members,
                         duties=duties, profile=profile, progress=progress)
    _warn_profile(profile, given)
    if out is not None:
        write_checklist(cl, out)
    if args.json:
        print(cl.to_json())
    elif out is None:
        sys.stdout.write(to_markdown(cl))
    else:
        print(f"已生成{cl.title}：{out}（{len(cl.items)}项" + (f"，不适用{len(cl.not_applicable)}项" if cl.not_applicable else "") + "）")
    return 0


def cmd_plan_tasks(app: App, args: argparse.Namespace) -> int:
    from ..plans.planner import FORMATS, load_tasks, plan_tasks, plan_window, to_markdown, write_plan

    if not args.file:
        raise InputError("file", "缺少任务文件（YAML，或每行“名称 | 截止日期 | 工时 | 标记”的文本）")
    start = parse_date(args.start, "start")
    today = _today(args)
    if start < today:
        raise InputError("start", f"开始日期不能早于今天（{today.isoformat()}），收到 {start.isoformat()}")
    weeks = parse_int(args.weeks, "weeks", 1, app.settings.max_plan_weeks)
    hours = parse_hours(args.hours_per_week, "hours_per_week", 0.5, 168, required=False)
    members = parse_int(args.members, "members", 1, 100000, required=False)
    out = _out(args.out, FORMATS)
    path = Path(args.file)
    if not path.is_file():
        raise InputError("file", f"任务文件不存在：{args.file}")
    profile, given = _profile(app, args)
    duties = app.knowledge.duties()
    branch_type = _branch(args.branch_type)
    progress = _records(app, duties, plan_window(start, weeks), args, branch_type, profile, as_of=start)
    plan = plan_tasks(load_tasks(path, duties), start, weeks, hours, branch_type=branch_type,
                      members=members, role=args.role, duties=duties, profile=profile,
                      max_tasks=app.settings.max_plan_tasks, max_weeks=app.settings.max_plan_weeks,
                      progress=progress)
    _warn_profile(profile, given)
    if out is not None:
        write_plan(plan, out)
    if args.json:
        print(plan.to_json())
    elif out is None:
        sys.stdout.write(to_markdown(plan))
    else:
        placed = sum(len(w.items) for w in plan.weeks)
        handed = sum(len(v) for v in plan.handoff.values())
        extra = ""
        if plan.records_as_of is not None:
            extra = f"；据台账已完成{len(plan.done)}项不再安排，逾期补做{len({i.group for i in plan.overdue_items})}项"
        print(f"已生成任务规划：{out}（排入{placed}项，交办{handed}项，需调整{len(plan.deferred)}项{extra}）")
    return 0


def _pairs(values: list[str] | None, field: str) -> dict[str, str]:
    """职务=姓名 (or 职务=小时) pairs from repeated options."""
    out: dict[str, str] = {}
    for v in values or []:
        role, sep, rest = v.partition("=")
        if not sep:
            role, sep, rest = v.partition("＝")
        if not sep or not role.strip():
            raise InputError(field, f"分工应写成“职务=姓名”（每周工时写成“职务=小时”），如 组织委员=李强，收到“{v}”")
        out[role.strip()] = rest.strip()
    return out


def cmd_profile(app: App, args: argparse.Namespace) -> int:
    from ..plans.profile import Profile, load_profile, profile_from_mapping, profile_path, save_profile, saved_profile

    data_dir = app.settings.data_dir
    if args.action == "show":
        profile = load_profile(args.profile) if args.profile else saved_profile(data_dir)
        if profile is None:
            print(f"尚未保存支部情况（{profile_path(data_dir)}）。用 python -m assistant profile set --members 20 "
                  "--role 书记=王芳 --worker-role 书记 --hours-per-week 3 … 填写。")
            return 0
        if args.json:
            print(json.dumps(profile.to_dict(), ensure_ascii=False, indent=2))
        else:
            sys.stdout.write(profile.to_yaml())
            print(f"# {profile.describe()}")
        for w in profile.warnings():
            print(f"提示：{w}", file=sys.stderr)
        return 0
    # set: start from the file (--profile), or from what is saved (unless --reset), then apply the options
    if args.profile:
        profile = load_profile(args.profile)
    else:
        profile = (None if args.reset else saved_profile(data_dir)) or Profile()
    changes: dict = {}
    for key in ("branch_type", "branch_name", "members", "probationary", "committee", "worker_role",
                "hours_per_week", "party_groups", "activists", "candidates"):
        value = getattr(args, key)
        if value is not None:
            changes[key] = value
    if args.combine is not None:
        changes["combine_meetings"] = args.combine
    if args.delegate is not None:
        changes["delegate"] = args.delegate
    names = dict(profile.roles)
    hours = dict(profile.role_hours)
    if args.role or args.role_hours or args.clear_role:
        for role, name in _pairs(args.role, "role").items():
            names[role] = name
        for role, h in _pairs(args.role_hours, "role_hours").items():
            hours[role] = h
        for role in args.clear_role or []:
            names.pop(role, None)
            hours.pop(role, None)
        changes["roles"] = {r: ({"name": names.get(r, ""), "hours": hours[r]} if r in hours else names.get(r, ""))
                            for r in dict.fromkeys([*names, *hours])}
    try:
        profile = profile_from_mapping(changes, "支部情况", base=profile)
    except InputError as exc:
        if exc.field == "roles":  # the command line spells it --role 职务=姓名
            raise InputError("role", exc.message) from None
        raise
    path = save_profile(profile, data_dir)
    print(f"已保存支部情况：{path}")
    sys.stdout.write(profile.to_yaml())
    for w in profile.warnings():
        print(f"提示：{w}", file=sys.stderr)
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
    p.add_argument("--branch-type", default=None, metavar="类型", help=f"支部类型：{BRANCH_CHOICES}（默认取支部情况，未填为 机关）")
    p.add_argument("--members", metavar="人数", help="党员人数（用于谈心谈话等按人计的事项；默认取支部情况）")
    p.add_argument("--profile", metavar="文件", help="支部情况 YAML 文件（不给则用已保存的支部情况）")
    p.add_argument("--out", metavar="文件", help="输出文件：.md / .xlsx / .docx / .ics")
    p.add_argument("--json", action="store_true",
                   help='以 JSON 打印：{"items": [{"name","due","owner","basis"}], "not_applicable": [{"name","reason"}]}；'
                        '台账中有记录时每项另有 "status"（done 已完成 / overdue 已逾期 / pending 待办）和 "done"（完成日期）')
    p.add_argument("--no-records", action="store_true", help="不按台账标注完成情况（默认：台账中有记录时标注）")
    p.add_argument("--today", metavar="日期", help=argparse.SUPPRESS)  # fixes "today" for tests
    p.set_defaults(run=cmd_checklist, _parser=p)

    p = sub.add_parser("plan-tasks", parents=[common], help="按每周可用工时规划个人任务和支部规定工作",
                       description="读入任务文件（YAML：name/deadline/hours/flag；或每行“名称 | 截止日期 | 工时 | 标记”），"
                                   "加上规划期内 obligations.yaml 规定的工作，按周排进可用工时；放不下的列出原因和建议。")
    p.add_argument("file", nargs="?", metavar="任务文件", help="任务文件（.yaml/.yml 或文本）")
    p.add_argument("--start", metavar="日期", help="规划开始日期（不早于今天，必填），如 2026-12-07 或 2026年12月7日")
    p.add_argument("--weeks", default="6", metavar="周数", help="规划几周（默认 6）")
    p.add_argument("--hours-per-week", metavar="小时", help="每周可用于党务的小时数（默认取支部情况；都没有时必填）")
    p.add_argument("--branch-type", default=None, metavar="类型", help=f"支部类型：{BRANCH_CHOICES}（默认取支部情况，未填为 机关）")
    p.add_argument("--members", metavar="人数", help="党员人数（用于谈心谈话等按人计的事项；默认取支部情况）")
    p.add_argument("--role", default=None, metavar="职务",
                   help="你的职务：书记 / 副书记 / 组织委员 / 宣传委员 / 纪检委员 / 党小组长（默认取支部情况，未填为 书记）")
    p.add_argument("--profile", metavar="文件", help="支部情况 YAML 文件（不给则用已保存的支部情况）")
    p.add_argument("--out", metavar="文件", help="输出文件：.md / .ics / .json，或 .xlsx（交办清单）")
    p.add_argument("--json", action="store_true",
                   help="把规划以 JSON 打印到标准输出（台账中有记录时另有 done：本期已完成不再安排的工作；"
                        "逾期补做的工作标 overdue）")
    p.add_argument("--no-records", action="store_true", help="不按台账排除已完成、补做逾期的工作（默认：台账中有记录时按台账）")
    p.add_argument("--today", metavar="日期", help=argparse.SUPPRESS)  # fixes "today" for tests
    p.set_defaults(run=cmd_plan_tasks, _parser=p)

    p = sub.add_parser("profile", parents=[common], help="查看或填写支部情况（任务规划和工作清单按它安排）",
                       description="支部情况保存在 数据目录/profile.yaml：支部类型、正式/预备党员人数、是否设支委会、"
                                   "各职务由谁担任、你的职务和每周工时、党小组个数、入党积极分子和发展对象人数。"
                                   "plan-tasks 和 checklist 按它排除不适用的事项、分配交办；--profile 文件可临时替代。")
    p.add_argument("action", choices=("show", "set"), metavar="show|set", help="show 查看；set 修改并保存")
    p.add_argument("--profile", metavar="文件", help="show：查看这个文件；set：以这个文件为底稿")
    p.add_argument("--reset", action="store_true", help="set：不沿用已保存的内容，从空白开始")
    p.add_argument("--json", action="store_true", help="show：以 JSON 打印")
    p.add_argument("--branch-type", metavar="类型", help=f"支部类型：{BRANCH_CHOICES}")
    p.add_argument("--branch-name", metavar="名称", help="支部名称，如 第一党支部")
    p.add_argument("--members", metavar="人数", help="正式党员人数")
    p.add_argument("--probationary", metavar="人数", help="预备党员人数")
    p.add_argument("--committee", metavar="是/否", help="是否设支委会（不填按规定：正式党员7人以上设）")
    p.add_argument("--role", action="append", metavar="职务=姓名", help="谁担任什么职务，可重复：--role 书记=王芳 --role 组织委员=李强")
    p.add_argument("--role-hours", action="append", metavar="职务=小时", help="这位同志每周可用的小时数，可重复")
    p.add_argument("--clear-role", action="append", metavar="职务", help="删去某个职务的人选，可重复")
    p.add_argument("--worker-role", metavar="职务", help="你的职务：书记 / 副书记 / 组织委员 / 宣传委员 / 纪检委员 / 党小组长")
    p.add_argument("--hours-per-week", metavar="小时", help="你每周可用于党务的小时数")
    p.add_argument("--party-groups", metavar="个数", help="党小组个数（0 表示未划分党小组）")
    p.add_argument("--activists", metavar="人数", help="入党积极分子人数")
    p.add_argument("--candidates", metavar="人数", help="发展对象人数")
    p.add_argument("--combine", metavar="是/否", help="条规允许时是否合并召开会议（默认是）")
    p.add_argument("--delegate", metavar="是/否", help="是否总把其他委员的工作交给他们（默认否：你有余力时自己做）")
    p.set_defaults(run=cmd_profile, _parser=p)
