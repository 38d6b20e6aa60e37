"""Login sessions kept in the application database, so that any app process behind the proxy
knows a user who logged in on another. The browser holds a random token in an HttpOnly cookie;
the database holds its SHA-256, the user name and when it expires."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select

from ..appdb import Database
from .models import LoginSession, now

COOKIE = "dangwu_session"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class Sessions:
    def __init__(self, db: Database, hours: float = 12.0) -> None:
        self.db = db
        self.lifetime = dt.timedelta(hours=hours)

    def create(self, username: str) -> str:
        """A new session for USERNAME; returns the token for the cookie (shown nowhere else)."""
        token = secrets.token_urlsafe(32)
        with self.db.session() as s:
            s.execute(delete(LoginSession).where(LoginSession.expires_at < now()))
            s.add(LoginSession(token_hash=token_hash(token), username=username, expires_at=now() + self.lifetime))
        return token

    def user(self, token: str | None) -> str | None:
        """The user name of a live session, else None."""
        if not token or len(token) > 200:
            return None
        with self.db.session() as s:
            row = s.scalar(select(LoginSession).where(LoginSession.token_hash == token_hash(token)))
            if row is None or row.expires_at < now():
                return None
            return row.username

    def end(self, token: str | None) -> None:
        if token:
            with self.db.session() as s:
                s.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))
