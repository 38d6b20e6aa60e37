"""API keys for the OpenAI-compatible endpoint: created by an administrator (``keys create``,
shown once), stored as SHA-256, listed by name and prefix, revoked; and the per-key rate limit
(requests per minute over a sliding minute, counted in this process).

No live key at all → the API is off.
"""
from __future__ import annotations

import collections
import hashlib
import math
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from ..appdb import Database
from ..errors import InputError
from .accounts import MEMBER, check_role
from .models import ApiKey, now

PREFIX = "dw-"
LAST_USED_EVERY_S = 60.0  # last_used_at is written at most once a minute per key


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    prefix: str
    role: str
    rpm: int | None
    created_at: object = None
    last_used_at: object = None
    revoked_at: object = None


def _info(k: ApiKey) -> KeyInfo:
    return KeyInfo(k.id, k.name, k.prefix, k.role, k.rpm, k.created_at, k.last_used_at, k.revoked_at)


class Keys:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._used: dict[int, float] = {}
        self._lock = threading.Lock()

    def create(self, name: str, role: str = MEMBER, rpm: int | None = None) -> tuple[KeyInfo, str]:
        """A new key: (its record, the key itself — shown once, never stored)."""
        name = (name or "").strip()
        if not name or len(name) > 80:
            raise InputError("name", "请给 Key 起一个名字（80 字以内），如“企业微信机器人”")
        role = check_role(role)
        if rpm is not None and not 1 <= int(rpm) <= 100000:
            raise InputError("rpm", "每分钟请求上限应在 1—100000 之间")
        key = PREFIX + secrets.token_urlsafe(32)
        with self.db.session() as s:
            row = ApiKey(name=name, prefix=key[:10], key_hash=key_hash(key), role=role,
                         rpm=int(rpm) if rpm is not None else None)
            s.add(row)
            s.flush()
            info = _info(row)
        return info, key

    def list(self) -> list[KeyInfo]:
        with self.db.session() as s:
            return [_info(k) for k in s.scalars(select(ApiKey).order_by(ApiKey.id)).all()]

    def revoke(self, which: str) -> list[KeyInfo]:
        """Revoke the live keys whose id, name or prefix is WHICH; returns them."""
        which = (which or "").strip()
        if not which:
            raise InputError("key", "请给出 Key 的编号、名字或前缀")
        with self.db.session() as s:
            conds = [ApiKey.name == which, ApiKey.prefix == which]
            if which.isdigit():
                conds.append(ApiKey.id == int(which))
            rows = s.scalars(select(ApiKey).where(or_(*conds), ApiKey.revoked_at.is_(None))).all()
            if not rows:
                raise InputError("key", f"没有未吊销的 Key“{which}”（keys list 查看）")
            for r in rows:
                r.revoked_at = now()
            return [_info(r) for r in rows]

    def any_live(self) -> bool:
        with self.db.session() as s:
            return bool(s.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None))))

    def check(self, key: str | None) -> KeyInfo | None:
        """The live key KEY is, else None."""
        if not key or len(key) > 200:
            return None
        with self.db.session() as s:
            row = s.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash(key)))
            if row is None or row.revoked_at is not None:
                return None
            info = _info(row)
            t = time.monotonic()
            with self._lock:
                due = t - self._used.get(row.id, -math.inf) >= LAST_USED_EVERY_S
                if due:
                    self._used[row.id] = t
            if due:
                row.last_used_at = now()
        return info


class RateLimiter:
    """At most N requests per sliding minute for each key (in this process)."""

    def __init__(self, window_s: float = 60.0) -> None:
        self.window_s = window_s
        self._hits: dict[int, collections.deque] = {}
        self._lock = threading.Lock()

    def take(self, key_id: int, limit: int) -> float:
        """0 when the request may go ahead (and counts it), else the seconds until it may."""
        t = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key_id, collections.deque())
            while hits and t - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= limit:
                return max(0.001, self.window_s - (t - hits[0]))
            hits.append(t)
            return 0.0
