"""Accounts, login sessions, failed-login limits, API keys and kept conversations over the
application database — on SQLite and on PostgreSQL — and the admin commands (users, keys)."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.cli import main
from assistant.errors import InputError
from assistant.qa.answer import Answer, Source
from assistant.serve import Serving
from assistant.serve.accounts import (ADMIN, FAILS_PER_ADDRESS, FAILS_PER_USER, MEMBER, WORKER, Accounts,
                                      TooManyFailures, allows, requests_allowed)
from assistant.serve.conversations import Conversations, to_markdown, write_docx
from assistant.serve.keys import Keys, RateLimiter
from assistant.serve.models import ApiKey, LoginSession, User
from assistant.serve.sessions import Sessions
from assistant.settings import Settings


def test_roles_include_the_ones_below() -> None:
    assert allows(ADMIN, WORKER) and allows(ADMIN, MEMBER) and allows(WORKER, MEMBER)
    assert not allows(MEMBER, WORKER) and not allows(WORKER, ADMIN) and not allows(None, MEMBER)
    assert not allows("访客", MEMBER)
    assert requests_allowed(MEMBER) == {"checklist"}
    assert requests_allowed(WORKER) == {"checklist", "meeting_plan", "plan_tasks"}


def test_passwords_are_argon2_and_a_login_says_only_whether_it_worked(db) -> None:
    accounts = Accounts(db)
    assert not accounts.login_required()
    accounts.add("王芳", ADMIN, "correct horse 1")
    with db.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.name == "王芳"))
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert accounts.login_required()
    assert accounts.verify("王芳", "correct horse 1", "10.0.0.1") == "王芳"
    assert accounts.verify("王芳", "wrong", "10.0.0.1") is None
    assert accounts.verify("李四", "correct horse 1", "10.0.0.1") is None  # same answer for an unknown name
    assert accounts.role_of("王芳") == ADMIN and accounts.role_of("李四") is None
    with pytest.raises(InputError, match="已存在"):
        accounts.add("王芳", MEMBER, "another pass")
    with pytest.raises(InputError, match="至少 8"):
        accounts.add("李强", MEMBER, "short")
    with pytest.raises(InputError, match="角色"):
        accounts.add("李强", "书记", "long enough")


def test_failed_logins_are_limited_per_name_and_per_address(db) -> None:
    accounts = Accounts(db)
    accounts.add("王芳", WORKER, "correct horse 1")
    for _ in range(FAILS_PER_USER):
        assert accounts.verify("王芳", "guess", "10.0.0.1") is None
    with pytest.raises(TooManyFailures):  # even the right password now waits
        accounts.verify("王芳", "correct horse 1", "10.0.0.2")
    # another address trying many names is limited too
    for i in range(FAILS_PER_ADDRESS):
        assert accounts.verify(f"用户{i}", "guess", "10.0.0.9") is None
    with pytest.raises(TooManyFailures):
        accounts.verify("别人", "guess", "10.0.0.9")
    # a success clears that name's failures
    accounts.add("李强", MEMBER, "correct horse 2")
    for _ in range(FAILS_PER_USER - 1):
        accounts.verify("李强", "guess", "10.0.0.3")
    assert accounts.verify("李强", "correct horse 2", "10.0.0.3") == "李强"
    for _ in range(FAILS_PER_USER - 1):
        assert accounts.verify("李强", "guess", "10.0.0.3") is None
    assert accounts.verify("李强", "correct horse 2", "10.0.0.3") == "李强"


def test_quick_start_users_are_administrators_and_a_database_user_wins(db) -> None:
    accounts = Accounts(db, "admin:s3cret-pass,viewer:another")
    assert accounts.login_required()
    assert accounts.verify("admin", "s3cret-pass") == "admin" and accounts.role_of("viewer") == ADMIN
    assert accounts.verify("admin", "nope") is None
    accounts.add("viewer", MEMBER, "database pass")
    assert accounts.role_of("viewer") == MEMBER
    assert accounts.verify("viewer", "another") is None and accounts.verify("viewer", "database pass") == "viewer"
    assert {(a.name, a.role, a.source) for a in accounts.list()} == {
        ("viewer", MEMBER, "数据库"), ("admin", ADMIN, "ASSISTANT_AUTH")}


def test_sessions_are_kept_hashed_and_end_with_the_user(db) -> None:
    accounts, sessions = Accounts(db), Sessions(db, hours=1)
    accounts.add("王芳", ADMIN, "correct horse 1")
    token = sessions.create("王芳")
    assert sessions.user(token) == "王芳" and sessions.user(token + "x") is None and sessions.user("") is None
    with db.session() as s:
        assert token not in {r.token_hash for r in s.scalars(select(LoginSession))}
    other = Sessions(db)  # another process on the same database knows the session
    assert other.user(token) == "王芳"
    sessions.end(token)
    assert other.user(token) is None
    token = sessions.create("王芳")
    accounts.set_password("王芳", "new horse 22")  # logs out everywhere
    assert sessions.user(token) is None
    token = sessions.create("王芳")
    accounts.remove("王芳")
    assert sessions.user(token) is None and accounts.role_of("王芳") is None


def test_expired_sessions_are_refused(db) -> None:
    sessions = Sessions(db, hours=1)
    token = sessions.create("王芳")
    with db.session() as s:
        row = s.scalars(select(LoginSession)).one()
        row.expires_at = row.created_at.replace(year=2000)
    assert sessions.user(token) is None


def test_api_keys_are_stored_hashed_listed_and_revoked(db) -> None:
    keys = Keys(db)
    assert not keys.any_live()
    info, key = keys.create("企业微信机器人", rpm=5)
    assert key.startswith("dw-") and len(key) > 40 and info.prefix == key[:10]
    with db.session() as s:
        row = s.scalars(select(ApiKey)).one()
        assert row.key_hash != key and key not in row.key_hash
    assert keys.check(key).name == "企业微信机器人" and keys.check(key).rpm == 5 and keys.check("dw-wrong") is None
    assert keys.any_live()
    assert [k.name for k in keys.revoke("企业微信机器人")] == ["企业微信机器人"]
    assert keys.check(key) is None and not keys.any_live()
    with pytest.raises(InputError, match="没有未吊销"):
        keys.revoke("企业微信机器人")


def test_rate_limit_counts_a_sliding_minute_per_key() -> None:
    limiter = RateLimiter(window_s=60)
    assert [limiter.take(1, 3) for _ in range(3)] == [0, 0, 0]
    wait = limiter.take(1, 3)
    assert 0 < wait <= 60
    assert limiter.take(2, 3) == 0  # another key has its own budget


def _answer(text: str, query: str) -> Answer:
    src = Source(1, "中国共产党支部工作条例（试行）", "第十二条", "current", "zhibu.txt", "支部委员会会议一般每月召开1次……")
    return Answer(text + "\n依据：\n[1] 《中国共产党支部工作条例（试行）》第十二条（现行）", "offline", False, "", [src], query)


def test_conversations_are_each_users_own_newest_first_and_export(db, tmp_path: Path) -> None:
    convs = Conversations(db)
    first = convs.add_turn("王芳", None, "支委会多久开一次？", _answer("答：一般每月召开1次。[1]", "支委会多久开一次？"))
    convs.add_turn("王芳", first, "那党小组会呢？", _answer("答：党小组会一般每月召开1次。[1]", "那党小组会呢？ 多久 开一次"))
    second = convs.add_turn("王芳", None, "党费怎么交？", _answer("答：按月交纳。[1]", "党费怎么交？"))
    assert [c.id for c in convs.list("王芳")] == [second, first]
    convs.add_turn("王芳", first, "还有呢？", _answer("答：……[1]", "还有呢？"))
    assert [c.id for c in convs.list("王芳")] == [first, second]  # the one used last comes first
    assert convs.pairs("王芳", first)[0] == ("支委会多久开一次？", convs.get("王芳", first).turns[0].answer)
    assert convs.get("王芳", first).turns[1].query == "那党小组会呢？ 多久 开一次"
    assert convs.list("李强") == [] and convs.get("李强", first) is None and convs.pairs("李强", first) == []
    with pytest.raises(InputError):
        convs.rename("李强", first, "偷看")
    other = convs.add_turn("李强", first, "我的问题", _answer("答：x[1]", "我的问题"))  # not李强's: a new one
    assert other != first and len(convs.get("王芳", first).turns) == 3
    convs.rename("王芳", first, "支委会与党小组会")
    assert convs.list("王芳")[0].title == "支委会与党小组会"
    md = to_markdown(convs.get("王芳", first))
    assert md.startswith("# 支委会与党小组会") and "## 2. 问：那党小组会呢？" in md and "第十二条" in md
    path = write_docx(convs.get("王芳", first), tmp_path / "对话.docx")
    from docx import Document

    doc = Document(str(path))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "支委会与党小组会" and any(t.startswith("一、支委会多久开一次") for t in texts)
    assert doc.paragraphs[0].runs[0].font.name == "方正小标宋简体"
    convs.delete("王芳", first)
    assert [c.id for c in convs.list("王芳")] == [second] and convs.get("王芳", first) is None


# --------------------------------------------------------------------------- the admin commands

def run(capsys, monkeypatch, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_users_commands(db, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_DB_URL", db.url)
    d = ["--data-dir", str(tmp_path / "data")]
    code, out, err = run(capsys, monkeypatch, "users", "add", "王芳", "--role", "管理员", "--password-stdin", *d,
                         stdin="correct horse 1\n")
    assert code == 0 and "王芳" in out and "correct horse" not in out + err
    code, out, err = run(capsys, monkeypatch, "users", "add", "李强", "--role", "党员", *d)  # no terminal, no stdin flag
    assert code == 2 and "--password-stdin" in err
    code, out, err = run(capsys, monkeypatch, "users", "add", "李强", "--role", "书记", "--password-stdin", *d,
                         stdin="x" * 10 + "\n")
    assert code == 2 and "书记" in err
    run(capsys, monkeypatch, "users", "add", "李强", "--role", "党员", "--password-stdin", *d, stdin="member pass 1\n")
    code, out, _ = run(capsys, monkeypatch, "users", "list", *d)
    assert code == 0 and "王芳\t管理员" in out and "李强\t党员" in out and "horse" not in out
    code, out, _ = run(capsys, monkeypatch, "users", "passwd", "李强", "--role", "党务工作者", "--password-stdin", *d,
                       stdin="member pass 2\n")
    assert code == 0
    accounts = Accounts(db)
    assert accounts.role_of("李强") == WORKER and accounts.verify("李强", "member pass 2") == "李强"
    code, out, _ = run(capsys, monkeypatch, "users", "remove", "李强", *d)
    assert code == 0 and accounts.role_of("李强") is None
    code, _, err = run(capsys, monkeypatch, "users", "remove", "李强", *d)
    assert code == 2 and "李强" in err


def test_keys_commands_print_the_key_once_alone_on_its_last_line(db, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_DB_URL", db.url)
    d = ["--data-dir", str(tmp_path / "data")]
    code, out, _ = run(capsys, monkeypatch, "keys", "list", *d)
    assert code == 0 and "API 处于关闭状态" in out
    code, out, _ = run(capsys, monkeypatch, "keys", "create", "--name", "企业微信机器人", "--rpm", "30", *d)
    assert code == 0
    key = out.strip().splitlines()[-1]
    assert key.startswith("dw-") and " " not in key and out.count(key) == 1
    assert Keys(db).check(key).name == "企业微信机器人"
    code, out, _ = run(capsys, monkeypatch, "keys", "list", *d)
    assert code == 0 and "企业微信机器人" in out and key not in out and key[:10] in out and "30" in out
    code, out, _ = run(capsys, monkeypatch, "keys", "revoke", "企业微信机器人", *d)
    assert code == 0 and Keys(db).check(key) is None
    code, out, _ = run(capsys, monkeypatch, "keys", "list", *d)
    assert "已吊销" in out


def test_serving_decides_the_login_without_creating_a_database(tmp_path: Path) -> None:
    serving = Serving(__import__("assistant.appdb", fromlist=["Database"]).Database.from_settings(
        Settings.from_env({}, data_dir=tmp_path / "data")), Settings.from_env({}, data_dir=tmp_path / "data"))
    assert serving.login is False and not (tmp_path / "data").exists()
