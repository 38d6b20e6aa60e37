"""Users with roles, their passwords (argon2, through argon2-cffi) and the login check with its
rate limit on failures (per user name and per address, kept in the database so that every app
process counts the same failures).

Roles, each including the ones before it:
    党员        asks questions, reads the work checklist (工作清单)
    党务工作者  also makes plans (会议方案、任务规划、支部情况) and keeps the branch's records (台账、发展党员)
    管理员      also manages the knowledge base (import, delete, reindex), users and API keys

ASSISTANT_AUTH ("user:pass,…") still works for a quick start: those users are 管理员, checked
against the variable (never stored); a user in the database with the same name wins.
"""
from __future__ import annotations

import datetime as dt
import hmac
import logging
import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from ..appdb import Database
from ..errors import InputError
from .models import LoginFailure, LoginSession, User, now

log = logging.getLogger(__name__)

MEMBER, WORKER, ADMIN = "党员", "党务工作者", "管理员"
ROLES = (MEMBER, WORKER, ADMIN)
MIN_PASSWORD = 8
MAX_PASSWORD = 200
NAME_RE = re.compile(r"^[\w\u4e00-\u9fff.\-@]{1,60}$")
#: failed logins allowed in FAIL_WINDOW for one user name, and for one address (any names)
FAILS_PER_USER = 5
FAILS_PER_ADDRESS = 20
FAIL_WINDOW = dt.timedelta(minutes=15)


def rank(role: str | None) -> int:
    """0 党员 < 1 党务工作者 < 2 管理员; -1 for anything else."""
    return ROLES.index(role) if role in ROLES else -1


def allows(role: str | None, needed: str) -> bool:
    """Whether a user of ROLE may do what NEEDED requires."""
    return rank(role) >= rank(needed) >= 0


def check_role(role: str) -> str:
    role = (role or "").strip()
    if role not in ROLES:
        raise InputError("role", f"角色应为 {' / '.join(ROLES)} 之一")
    return role


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise InputError("name", "用户名应为 1—60 个汉字、字母、数字或 . - _ @")
    return name


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise InputError("password", f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password) > MAX_PASSWORD:
        raise InputError("password", f"密码不能超过 {MAX_PASSWORD} 个字符")
    return password


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, the library's current defaults (memory-hard)


def parse_auth(raw: str | None) -> dict[str, str]:
    """ASSISTANT_AUTH "user:pass,user2:pass2" → {user: pass}; empty when unset."""
    if not (raw or "").strip():
        return {}
    pairs: dict[str, str] = {}
    for item in str(raw).split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not user or not password:
            raise InputError("ASSISTANT_AUTH", "ASSISTANT_AUTH 格式应为“用户名:密码,用户名:密码”")
        pairs[user] = password
    return pairs


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    source: str = "数据库"  # 数据库 / ASSISTANT_AUTH
    created_at: dt.datetime | None = None


class TooManyFailures(Exception):
    """Too many failed logins for this name or address: try later (the page says only that)."""


class Accounts:
    """The users of one application database (plus the quick-start ASSISTANT_AUTH users)."""

    def __init__(self, db: Database, auth: str | None = None) -> None:
        self.db = db
        self.env_users = parse_auth(auth)
        self._dummy: str | None = None

    # -- administration ------------------------------------------------------
    def add(self, name: str, role: str, password: str) -> Account:
        name, role, password = check_name(name), check_role(role), check_password(password)
        digest = _hasher().hash(password)
        with self.db.session() as s:
            if s.scalar(select(User).where(User.name == name)) is not None:
                raise InputError("name", f"用户“{name}”已存在（改密码用 users passwd）")
            s.add(User(name=name, role=role, password_hash=digest))
        log.info("user added (role %s)", role)
        return Account(name, role)

    def set_password(self, name: str, password: str) -> None:
        password = check_password(password)
        digest = _hasher().hash(password)
        with self.db.session() as s:
            user = s.scalar(select(User).where(User.name == name))
            if user is None:
                raise InputError("name", f"没有用户“{name}”")
            user.password_hash, user.updated_at = digest, now()
            s.execute(delete(LoginSession).where(LoginSession.username == name))  # log out everywhere

    def set_role(self, name: str, role: str) -> None:
        role = check_role(role)
        with self.db.session() as s:
            user = s.scalar(select(User).where(User.name == name))
            if user is None:
                raise InputError("name", f"没有用户“{name}”")
            user.role, user.updated_at = role, now()

    def remove(self, name: str) -> None:
        with self.db.session() as s:
            user = s.scalar(select(User).where(User.name == name))
            if user is None:
                raise InputError("name", f"没有用户“{name}”")
            s.delete(user)
            s.execute(delete(LoginSession).where(LoginSession.username == name))

    def list(self) -> list[Account]:
        with self.db.session() as s:
            rows = s.scalars(select(User).order_by(User.name)).all()
            out = [Account(u.name, u.role, "数据库", u.created_at) for u in rows]
        names = {a.name for a in out}
        out += [Account(n, ADMIN, "ASSISTANT_AUTH") for n in self.env_users if n not in names]
        return out

    def count(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(User)) or 0)

    def login_required(self) -> bool:
        """Whether the web app asks for a login: ASSISTANT_AUTH is set or a user exists (a SQLite
        database that does not exist yet has no users: it is not created to find that out)."""
        if self.env_users:
            return True
        from sqlalchemy.engine import make_url

        url = make_url(self.db.url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            from pathlib import Path

            if not Path(url.database).exists():
                return False
        return self.count() > 0

    def role_of(self, name: str | None) -> str | None:
        """The role of a user who exists (database first, then ASSISTANT_AUTH), else None."""
        if not name:
            return None
        with self.db.session() as s:
            role = s.scalar(select(User.role).where(User.name == name))
        if role is not None:
            return role
        return ADMIN if name in self.env_users else None

    # -- login -----------------------------------------------------------------
    def _failures(self, name: str, address: str) -> tuple[int, int]:
        since = now() - FAIL_WINDOW
        with self.db.session() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.at < since))
            by_name = s.scalar(select(func.count()).select_from(LoginFailure)
                               .where(LoginFailure.username == name, LoginFailure.at >= since)) or 0
            by_addr = s.scalar(select(func.count()).select_from(LoginFailure)
                               .where(LoginFailure.address == address, LoginFailure.at >= since)) or 0
        return int(by_name), int(by_addr)

    def verify(self, name: str, password: str, address: str = "") -> str | None:
        """The user's name when NAME/PASSWORD are right; None when not (whichever part was wrong).
        Raises TooManyFailures once the name or the address has failed too often lately."""
        name = (name or "").strip()[:60]
        address = (address or "")[:64]
        by_name, by_addr = self._failures(name, address)
        if by_name >= FAILS_PER_USER or by_addr >= FAILS_PER_ADDRESS:
            raise TooManyFailures()
        ok = self._check(name, password or "")
        if ok:
            with self.db.session() as s:  # a success clears this name's failures
                s.execute(delete(LoginFailure).where(LoginFailure.username == name))
            return name
        with self.db.session() as s:
            s.add(LoginFailure(username=name, address=address))
        log.info("failed login")  # neither the name nor the address is logged
        return None

    def _check(self, name: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        with self.db.session() as s:
            digest = s.scalar(select(User.password_hash).where(User.name == name))
        if digest is None:
            if name in self.env_users:
                return hmac.compare_digest(password.encode(), self.env_users[name].encode())
            # the same work as for a real user, so the time taken does not tell which names exist
            if self._dummy is None:
                self._dummy = _hasher().hash("not-a-password")
            digest = self._dummy
            try:
                _hasher().verify(digest, password + "\x00")
            except (VerificationError, InvalidHashError):
                pass
            return False
        try:
            return _hasher().verify(digest, password)
        except (VerificationError, InvalidHashError):
            return False


#: What each kind of chat request (assistant.requests) needs.
REQUEST_ROLES = {"checklist": MEMBER, "meeting_plan": WORKER, "plan_tasks": WORKER}


def requests_allowed(role: str | None) -> frozenset[str]:
    """The kinds of document a user of ROLE may ask the chat for."""
    return frozenset(k for k, needed in REQUEST_ROLES.items() if allows(role, needed))
