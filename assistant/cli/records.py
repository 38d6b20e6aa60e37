"""Records commands: ledger (台账), candidates (发展党员), self-check (自查)."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from ..errors import InputError
from ..inputs import parse_date, parse_int
from ..plans.obligations import BRANCH_TYPES
from ..root import App

BRANCH_CHOICES = " / ".join(BRANCH_TYPES)


def _ledger(app: App):
    from ..records.ledger import Ledger

    return Ledger(app.db)


def _candidates(app: App):
    from ..records.candidates import Candidates

    return Candidates(app.db)


def _json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _out(value: str | None, allowed: tuple[str, ...]) -> Path:
    if not value:
        raise InputError("out", f"请指定输出文件（{' / '.join(allowed)}）")
    path = Path(value)
    if path.suffix.lower() not in allowed:
        raise InputError("out", f"输出文件的扩展名应为 {' / '.join(allowed)} 之一，收到 {path.suffix or '（无扩展名）'}")
    if path.is_dir():
        raise InputError("out", f"输出文件 {value} 是一个目录")
    return path


def _report_import(report, what: str) -> int:
    print(f"{what}：{report.summary()}")
    for number, message in report.errors:
        print(f"  第{number}行：{message}")
    return 1 if report.errors else 0


def _branch(value: str) -> str:
    if value not in BRANCH_TYPES:
        raise InputError("branch_type", f"支部类型应为 {BRANCH_CHOICES} 之一，收到“{value}”")
    return value


# --------------------------------------------------------------------------- ledger

def cmd_ledger_add(app: App, args: argparse.Namespace) -> int:
    ledger = _ledger(app)
    if args.from_minutes:
        from ..plans.minutes import read_minutes

        values = read_minutes(Path(args.from_minutes))
        for key in ("type", "date", "expected", "present", "leave", "voting", "yes", "topic", "chair"):
            if getattr(args, key, None) not in (None, ""):
                values[key] = getattr(args, key)  # a flag given on the command line wins
        rec = ledger.add(source="会议记录", attachment=Path(args.from_minutes), **values)
    else:
        rec = ledger.add(type=args.type, date=args.date, expected=args.expected, present=args.present,
                         leave=args.leave, voting=args.voting, yes=args.yes, topic=args.topic, chair=args.chair,
                         attachment=Path(args.file) if args.file else None)
    print(f"已记入台账：编号 {rec.id}，{rec.date.isoformat()} {rec.type}" + (f"（附件 {rec.file_name}）" if rec.file_name else ""))
    return 0


def cmd_ledger_list(app: App, args: argparse.Namespace) -> int:
    year = parse_int(args.year, "year", 1921, 2200, required=False)
    records = _ledger(app).list(year)
    if args.json:
        _json({"activities": [r.to_json() for r in records]})
        return 0
    if not records:
        print("台账中还没有记录" + (f"（{year}年）" if year else "") + "。")
        return 0
    for r in records:
        people = "" if r.expected is None else f" 应到{r.expected} 实到{r.present if r.present is not None else '—'}"
        if r.leave is not None:
            people += f" 请假{r.leave}"
        if r.yes is not None:
            people += f" 赞成{r.yes}" + (f"/{r.voting}" if r.voting is not None else "")
        print(f"{r.id:>5}  {r.date.isoformat()}  {r.type}{people}  {r.topic}")
    print(f"共 {len(records)} 条")
    return 0


def cmd_ledger_remove(app: App, args: argparse.Namespace) -> int:
    rec = _ledger(app).remove(args.id)
    print(f"已删除：编号 {rec.id}，{rec.date.isoformat()} {rec.type}")
    return 0


def cmd_ledger_import(app: App, args: argparse.Namespace) -> int:
    if not args.file:
        raise InputError("file", "缺少要导入的文件（.xlsx 或 .csv）")
    return _report_import(_ledger(app).import_file(Path(args.file)), "台账导入")


def cmd_ledger_export(app: App, args: argparse.Namespace) -> int:
    out = _out(args.out, (".xlsx", ".csv"))
    year = parse_int(args.year, "year", 1921, 2200, required=False)
    print(f"已导出台账：{_ledger(app).export(out, year)}")
    return 0


# --------------------------------------------------------------------------- candidates

def cmd_candidates_add(app: App, args: argparse.Namespace) -> int:
    cands = _candidates(app)
    values: dict = {"name": args.name, "training_days": args.training_days, "training_hours": args.training_hours,
                    "extension_months": args.extension_months, "note": args.note}
    for item in args.set or []:
        step, sep, when = item.partition("=")
        if not sep:
            raise InputError("step", f"环节应写成“环节=日期”，如 谈话=2026-02-16，收到“{item[:40]}”")
        key = cands.step_key(step)
        values[key] = (values[key] + "、" if isinstance(values.get(key), str) else "") + when
    rec = cands.add(values)
    print(f"已保存：{rec.name}（{len(rec.milestones)} 个环节有日期）")
    return 0


def cmd_candidates_list(app: App, args: argparse.Namespace) -> int:
    cands = _candidates(app)
    records = cands.list()
    if args.json:
        _json({"candidates": [{"name": c.name, "milestones": {cands.rules.name(k): [d.isoformat() for d in v]
                                                             for k, v in c.milestones.items()},
                               "training_days": c.training_days, "training_hours": c.training_hours,
                               "extension_months": c.extension_months, "note": c.note} for c in records]})
        return 0
    if not records:
        print("还没有发展党员记录。")
        return 0
    order = [m.key for m in cands.rules.milestones]
    for c in records:
        steps = "；".join(f"{cands.rules.name(k)} " + "、".join(d.isoformat() for d in c.milestones[k])
                         for k in order if c.milestones.get(k))
        print(f"{c.name}：{steps or '（无日期）'}")
    return 0


def cmd_candidates_remove(app: App, args: argparse.Namespace) -> int:
    _candidates(app).remove(args.name)
    print("已删除。")
    return 0


def cmd_candidates_import(app: App, args: argparse.Namespace) -> int:
    if not args.file:
        raise InputError("file", "缺少要导入的文件（.xlsx 或 .csv）")
    return _report_import(_candidates(app).import_file(Path(args.file)), "发展党员导入")


def cmd_candidates_export(app: App, args: argparse.Namespace) -> int:
    out = _out(args.out, (".xlsx", ".csv"))
    print(f"已导出发展党员记录：{_candidates(app).export(out)}")
    return 0


def cmd_candidates_check(app: App, args: argparse.Namespace) -> int:
    as_of = parse_date(args.as_of, "as_of", required=False) or date.today()
    checks = _candidates(app).check(as_of)
    if args.json:
        _json({"as_of": as_of.isoformat(), "candidates": [c.to_json() for c in checks]})
        return 0
    if not checks:
        print("还没有发展党员记录。")
        return 0
    for c in checks:
        print(f"【{c.name}】{c.stage}")
        for f in c.findings:
            print(f"  问题：{f.detail}（{f.basis}）\n        建议：{f.fix}")
        for n in c.next:
            when = f"，不晚于 {n.due.isoformat()}" if n.due else (f"，不早于 {n.earliest.isoformat()}" if n.earliest else "")
            print(f"  下一步：{n.step}{when}" + ("（已逾期）" if n.overdue else "") + (f"（{n.basis}）" if n.basis else ""))
    flagged = sum(1 for c in checks if c.findings)
    print(f"共 {len(checks)} 人，{flagged} 人有问题（核对日期 {as_of.isoformat()}）")
    return 0


# --------------------------------------------------------------------------- self-check

def cmd_self_check(app: App, args: argparse.Namespace) -> int:
    from ..records.report import FORMATS, write_report
    from ..records.rules import ledger_rules
    from ..records.selfcheck import self_check

    year = parse_int(args.year, "year", 1921, 2200)
    until = parse_date(args.until, "until", required=False)
    if until is None:
        today = date.today()
        until = today if today.year == year else date(year, 12, 31)
    if until.year != year:
        raise InputError("until", f"截止日期应在 {year} 年内，收到 {until.isoformat()}")
    out = _out(args.out, FORMATS) if args.out else None
    records = _ledger(app).list(year)
    check = self_check(records, year, until, app.knowledge.duties(), ledger_rules(),
                       branch_type=_branch(args.branch_type), has_committee=not args.no_committee,
                       has_groups=not args.no_groups)
    if out is not None:
        cands = _candidates(app).check(until) if out.suffix.lower() != ".xlsx" else None
        write_report(check, out, branch=args.branch or "", candidates=cands or None)
    if args.json:
        _json(check.to_json())
        return 0
    if out is not None:
        print(f"已生成自查报告：{out}（问题 {len(check.findings)} 项）")
        return 0
    print(f"{check.year}年自查（{check.period_label}，共 {check.total} 项活动）")
    if not check.findings:
        print("没有发现问题。")
    for i, f in enumerate(check.findings, 1):
        print(f"{i}. [{'红' if f.severity == 'red' else '黄'}] {f.duty}：{f.detail}\n   依据：{f.basis}\n   建议：{f.fix}")
    if check.due:
        print("年内尚待完成：" + "；".join(f"{d['duty']}（{'、'.join(d['labels'])}）" for d in check.due))
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ledger", help="支部台账：记录、列出、删除、导入、导出活动",
                       description="支部台账（三会一课、主题党日、谈心谈话、党费收缴……）。数据保存在应用数据库中"
                                   "（默认 数据目录/app.db，或 ASSISTANT_DB_URL）。")
    ls = p.add_subparsers(dest="action", required=True, metavar="操作", parser_class=type(p))
    a = ls.add_parser("add", parents=[common], help="记一项活动")
    a.add_argument("--type", metavar="类型", help="活动类型，如 支委会、支部党员大会、党小组会、党课、主题党日、组织生活会、谈心谈话、党费收缴")
    a.add_argument("--date", metavar="日期", help="活动日期，如 2026-03-10")
    a.add_argument("--expected", metavar="人数", help="应到人数（支委会填委员数）")
    a.add_argument("--present", metavar="人数", help="实到人数")
    a.add_argument("--leave", metavar="人数", help="请假人数")
    a.add_argument("--voting", metavar="人数", help="有表决时：应到会有表决权的党员人数")
    a.add_argument("--yes", metavar="人数", help="有表决时：赞成人数")
    a.add_argument("--topic", metavar="主题", help="主题或议题")
    a.add_argument("--chair", metavar="姓名", help="主持人")
    a.add_argument("--file", metavar="文件", help="附件（如会议记录），保存在数据库中")
    a.add_argument("--from-minutes", metavar="文件",
                   help="从填好的会议记录（meeting-plan --minutes 生成的 .docx）读取各项并记入台账")
    a.set_defaults(run=cmd_ledger_add, _parser=a)
    a = ls.add_parser("list", parents=[common], help="列出活动")
    a.add_argument("--year", metavar="年份", help="只列这一年的")
    a.add_argument("--json", action="store_true", help="以 JSON 输出")
    a.set_defaults(run=cmd_ledger_list, _parser=a)
    a = ls.add_parser("remove", parents=[common], help="按编号删除一项活动")
    a.add_argument("id", metavar="编号", help="ledger list 显示的编号")
    a.set_defaults(run=cmd_ledger_remove, _parser=a)
    a = ls.add_parser("import", parents=[common], help="从 .xlsx / .csv 导入（表头：类型/日期/应到/实到/请假/主题）",
                      description="导入支部的台账表格：表头需有 类型、日期，可有 应到、实到、请假、有表决权、赞成、主题、"
                                  "主持人。有误的行逐行报告行号，其余行照常导入；已在台账中的（类型、日期、主题相同）跳过。"
                                  "有行出错时退出码为 1。")
    a.add_argument("file", nargs="?", metavar="文件", help=".xlsx 或 .csv 文件")
    a.set_defaults(run=cmd_ledger_import, _parser=a)
    a = ls.add_parser("export", parents=[common], help="导出为 .xlsx / .csv")
    a.add_argument("--out", metavar="文件", help="输出文件 .xlsx 或 .csv")
    a.add_argument("--year", metavar="年份", help="只导出这一年的")
    a.set_defaults(run=cmd_ledger_export, _parser=a)

    p = sub.add_parser("candidates", help="发展党员：记录各环节日期并按细则核对时限",
                       description="发展党员的各环节（递交入党申请书、谈话、确定入党积极分子、半年考察、确定发展对象、"
                                   "公示、政治审查、集中培训、基层党委预审、支部党员大会讨论、党委审批、入党宣誓、转正……），"
                                   "按《中国共产党发展党员工作细则》逐条核对时限。")
    cs = p.add_subparsers(dest="action", required=True, metavar="操作", parser_class=type(p))
    a = cs.add_parser("add", parents=[common], help="新增一人或补记环节日期")
    a.add_argument("name", nargs="?", metavar="姓名")
    a.add_argument("--set", action="append", metavar="环节=日期", help="如 --set 谈话=2026-02-16（可重复；半年考察可多次）")
    a.add_argument("--training-days", metavar="天数", help="集中培训天数")
    a.add_argument("--training-hours", metavar="学时", help="集中培训学时")
    a.add_argument("--extension-months", metavar="月数", help="延长预备期的月数")
    a.add_argument("--note", metavar="备注", help="备注")
    a.set_defaults(run=cmd_candidates_add, _parser=a)
    a = cs.add_parser("list", parents=[common], help="列出")
    a.add_argument("--json", action="store_true", help="以 JSON 输出")
    a.set_defaults(run=cmd_candidates_list, _parser=a)
    a = cs.add_parser("remove", parents=[common], help="删除一人的记录")
    a.add_argument("name", metavar="姓名")
    a.set_defaults(run=cmd_candidates_remove, _parser=a)
    a = cs.add_parser("import", parents=[common], help="从 .xlsx / .csv 导入（每人一行，表头 姓名 和各环节名称）")
    a.add_argument("file", nargs="?", metavar="文件")
    a.set_defaults(run=cmd_candidates_import, _parser=a)
    a = cs.add_parser("export", parents=[common], help="导出为 .xlsx / .csv")
    a.add_argument("--out", metavar="文件", help="输出文件 .xlsx 或 .csv")
    a.set_defaults(run=cmd_candidates_export, _parser=a)
    a = cs.add_parser("check", parents=[common], help="按细则核对每人的时限，列出问题和下一步")
    a.add_argument("--as-of", metavar="日期", help="核对日期（默认今天）")
    a.add_argument("--json", action="store_true", help="以 JSON 输出")
    a.set_defaults(run=cmd_candidates_check, _parser=a)

    p = sub.add_parser("self-check", parents=[common], help="自查：台账对照工作清单和条规，列出问题和已开展的工作",
                       description="把台账与 obligations.yaml 的频次和条规的到会、表决、顺序要求对照：未达频次（按月份列出）、"
                                   "先紧后松、到会或表决不合规、程序顺序；并统计已开展的工作。--out 生成 Word（公文格式）、"
                                   "Excel（问题和统计两张表）或 Markdown 报告。")
    p.add_argument("--year", metavar="年份", help="自查年份（必填）")
    p.add_argument("--until", metavar="日期", help="截止日期（默认今天或年底）")
    p.add_argument("--branch-type", default="机关", metavar="类型", help=f"支部类型：{BRANCH_CHOICES}（默认 机关）")
    p.add_argument("--no-committee", action="store_true", help="支部不设支部委员会（正式党员不足7人）")
    p.add_argument("--no-groups", action="store_true", help="支部未划分党小组")
    p.add_argument("--branch", metavar="支部", help="报告标题中的党支部名称")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.add_argument("--out", metavar="文件", help="报告文件：.docx / .xlsx / .md")
    p.set_defaults(run=cmd_self_check, _parser=p)
