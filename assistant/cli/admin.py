"""Administration: ``users add/list/passwd/remove`` (accounts with roles) and ``keys create/list/revoke``
(API keys of the OpenAI-compatible endpoint), in the application database."""
from __future__ import annotations

import argparse
import getpass
import sys

from ..errors import InputError
from ..root import App
from ..serve.accounts import ROLES


def _password(args: argparse.Namespace, prompt: str = "密码") -> str:
    """The password from standard input (--password-stdin: its first line) or typed twice."""
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError("password", "没有终端可输入密码：请用 --password-stdin 从标准输入传入")
    first = getpass.getpass(f"{prompt}：")
    second = getpass.getpass(f"再输入一次{prompt}：")
    if first != second:
        raise InputError("password", "两次输入的密码不一致")
    return first


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def cmd_users_add(app: App, args: argparse.Namespace) -> int:
    account = app.serving.accounts.add(args.name, args.role, _password(args))
    print(f"已添加用户“{account.name}”（{account.role}）。")
    return 0


def cmd_users_list(app: App, args: argparse.Namespace) -> int:
    accounts = app.serving.accounts.list()
    if not accounts:
        print("还没有用户（python -m assistant users add 名字 --role 管理员）。")
        return 0
    print("用户名\t角色\t来源\t建立时间")
    for a in accounts:
        print(f"{a.name}\t{a.role}\t{a.source}\t{_when(a.created_at)}")
    return 0


def cmd_users_passwd(app: App, args: argparse.Namespace) -> int:
    if args.role:
        app.serving.accounts.set_role(args.name, args.role)
    if not args.role or args.password_stdin or sys.stdin.isatty():
        app.serving.accounts.set_password(args.name, _password(args, "新密码"))
        print(f"已修改“{args.name}”的密码；此前的登录已全部失效。")
    if args.role:
        print(f"“{args.name}”的角色已改为{args.role}。")
    return 0


def cmd_users_remove(app: App, args: argparse.Namespace) -> int:
    app.serving.accounts.remove(args.name)
    print(f"已删除用户“{args.name}”（其登录随即失效；对话记录保留，可再建同名用户找回）。")
    return 0


def cmd_keys_create(app: App, args: argparse.Namespace) -> int:
    info, key = app.serving.keys.create(args.name, args.role, args.rpm)
    limit = info.rpm or app.settings.api_rpm
    print(f"已创建 API Key #{info.id}“{info.name}”（{info.role}，每分钟最多 {limit} 次）。"
          "它只显示这一次，请立即保存：")
    print(key)
    return 0


def cmd_keys_list(app: App, args: argparse.Namespace) -> int:
    keys = app.serving.keys.list()
    if not keys:
        print("还没有 API Key（python -m assistant keys create --name 名字）；API 处于关闭状态。")
        return 0
    print("编号\t名字\t前缀\t角色\t每分钟上限\t建立时间\t最近使用\t状态")
    for k in keys:
        state = f"已吊销（{_when(k.revoked_at)}）" if k.revoked_at else "有效"
        print(f"{k.id}\t{k.name}\t{k.prefix}…\t{k.role}\t{k.rpm or app.settings.api_rpm}\t{_when(k.created_at)}\t"
              f"{_when(k.last_used_at)}\t{state}")
    return 0


def cmd_keys_revoke(app: App, args: argparse.Namespace) -> int:
    for k in app.serving.keys.revoke(args.key):
        print(f"已吊销 API Key #{k.id}“{k.name}”（{k.prefix}…）。")
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    users = sub.add_parser("users", parents=[common], help="账号与角色（党员 / 党务工作者 / 管理员）",
                           description="网页登录的账号，保存在应用数据库（密码以 argon2 散列保存）。"
                                       "有了账号，网页和所有接口都要求登录。")
    usub = users.add_subparsers(dest="users_command", required=True, metavar="操作")
    p = usub.add_parser("add", parents=[common], help="添加用户")
    p.add_argument("name", metavar="用户名")
    p.add_argument("--role", required=True, choices=ROLES, help="角色")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读密码（第一行），不提示")
    p.set_defaults(run=cmd_users_add, _parser=p)
    p = usub.add_parser("list", parents=[common], help="列出用户")
    p.set_defaults(run=cmd_users_list, _parser=p)
    p = usub.add_parser("passwd", parents=[common], help="修改密码（和角色）")
    p.add_argument("name", metavar="用户名")
    p.add_argument("--role", choices=ROLES, help="同时改为这个角色")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读新密码（第一行）")
    p.set_defaults(run=cmd_users_passwd, _parser=p)
    p = usub.add_parser("remove", parents=[common], help="删除用户")
    p.add_argument("name", metavar="用户名")
    p.set_defaults(run=cmd_users_remove, _parser=p)

    keys = sub.add_parser("keys", parents=[common], help="OpenAI 兼容 API 的 Key",
                          description="/v1/chat/completions 的 Bearer Key，保存其 SHA-256；没有有效的 Key 时 API 关闭。")
    ksub = keys.add_subparsers(dest="keys_command", required=True, metavar="操作")
    p = ksub.add_parser("create", parents=[common], help="创建 Key（只显示一次）")
    p.add_argument("--name", required=True, metavar="名字", help="用途，如 企业微信机器人")
    p.add_argument("--role", default="党员", choices=ROLES, help="用这个 Key 的请求按哪个角色处理（默认 党员）")
    p.add_argument("--rpm", type=int, metavar="次数", help="每分钟请求上限（默认 ASSISTANT_API_RPM）")
    p.set_defaults(run=cmd_keys_create, _parser=p)
    p = ksub.add_parser("list", parents=[common], help="列出 Key（不显示 Key 本身）")
    p.set_defaults(run=cmd_keys_list, _parser=p)
    p = ksub.add_parser("revoke", parents=[common], help="吊销 Key")
    p.add_argument("key", metavar="编号或名字或前缀")
    p.set_defaults(run=cmd_keys_revoke, _parser=p)
