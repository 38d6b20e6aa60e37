"""Serving a 机关: accounts with roles and login sessions (accounts.py, sessions.py), API keys with a
rate limit (keys.py), conversations kept per user (conversations.py), the OpenAI-compatible API
(api.py) and the one FastAPI app that carries it, the login pages and the mounted Gradio page (app.py).

Everything is kept in the application database (assistant.appdb; tables in models.py, schema in
migration 0002), so several app processes on one PostgreSQL share users, sessions, keys and
conversations: any process serves any user.
"""
from __future__ import annotations

import functools

from ..appdb import Database
from ..settings import Settings


class Serving:
    """The accounts, sessions, API keys, rate limiter and conversations of one App."""

    def __init__(self, db: Database, settings: Settings) -> None:
        from .accounts import Accounts
        from .conversations import Conversations
        from .keys import Keys, RateLimiter
        from .sessions import Sessions

        self.settings = settings
        self.accounts = Accounts(db, settings.auth)
        self.sessions = Sessions(db, settings.session_hours)
        self.keys = Keys(db)
        self.limiter = RateLimiter()
        self.conversations = Conversations(db)

    @functools.cached_property
    def login(self) -> bool:
        """Whether the web app asks for a login (decided once per process, at start-up)."""
        return self.accounts.login_required()
