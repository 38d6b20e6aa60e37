"""The application database: one SQLAlchemy engine per App, sessions, and the schema migrations.

Generic on purpose: the records wing (台账、发展党员) keeps its tables here, and so will users,
API keys and conversations later. Every model derives from ``Base``; every schema change is an
Alembic migration in ``assistant/migrations/versions/`` (shipped inside the package), applied
programmatically on first use — ``Database.engine`` upgrades to head before anyone touches a table.

    db = Database.from_settings(settings)      # ASSISTANT_DB_URL, or SQLite <data_dir>/app.db
    with db.session() as s:                    # commit on success, roll back on any error
        s.add(obj)

Personal data lives in these tables: nothing here logs a row, only counts and the (password-less) URL.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from .errors import StoreError
from .settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x64616E67  # "dang": one advisory lock id for migrations on PostgreSQL


class Base(DeclarativeBase):
    """The declarative base of every table of the application database."""


class DatabaseError(StoreError):
    """The application database cannot be reached, migrated or written (message in Chinese)."""


def database_url(settings: Settings) -> str:
    """ASSISTANT_DB_URL, or SQLite in the data directory; ``postgresql://`` means psycopg 3."""
    if settings.db_url:
        try:
            url = make_url(settings.db_url)
        except ArgumentError:
            raise DatabaseError("环境变量 ASSISTANT_DB_URL 不是有效的数据库地址（应为 SQLAlchemy 格式，"
                                "如 postgresql://用户:密码@主机/库名）") from None
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    return f"sqlite:///{settings.data_dir / 'app.db'}"


def _kind(exc: BaseException) -> str:
    """The driver's error class name: enough to diagnose, never the statement or its values."""
    return type(getattr(exc, "orig", None) or exc).__name__


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


class Database:
    """An engine, a session factory and the migrations of one application database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._sessions: sessionmaker | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        return cls(database_url(settings))

    def __repr__(self) -> str:
        return f"Database({_safe(self.url)!r})"

    @property
    def dialect(self) -> str:
        return make_url(self.url).get_backend_name()

    @property
    def engine(self) -> Engine:
        """The engine, created and migrated to head on first use (thread-safe)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    engine = self._create_engine()
                    try:
                        self._migrate(engine)
                    except BaseException:
                        engine.dispose()
                        raise
                    self._sessions = sessionmaker(engine, expire_on_commit=False)
                    self._engine = engine
        return self._engine

    def _create_engine(self) -> Engine:
        url = make_url(self.url)
        kwargs: dict = {"future": True}
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        try:
            engine = create_engine(url, **kwargs)
        except (ArgumentError, ImportError) as exc:
            raise DatabaseError(f"无法使用数据库 {_safe(self.url)}：{exc}") from None
        if url.get_backend_name() == "sqlite":
            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # foreign keys are off by default in SQLite
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()
        return engine

    # -- migrations ------------------------------------------------------------------
    def _alembic_config(self, connection):
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = connection
        return cfg

    def _migrate(self, engine: Engine) -> None:
        from alembic import command

        lock = None
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            from filelock import FileLock

            lock = FileLock(str(engine.url.database) + ".migrate.lock", timeout=120)
        try:
            with (lock or contextlib.nullcontext()):
                with engine.begin() as conn:
                    if conn.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                    command.upgrade(self._alembic_config(conn), "head")
        except SQLAlchemyError as exc:
            raise DatabaseError(f"无法打开或升级应用数据库 {_safe(self.url)}："
                                f"{_kind(exc)}") from None
        log.debug("application database ready (%s)", engine.dialect.name)

    def migrate(self) -> str:
        """Upgrade the schema to head (also done on first use); returns the revision now in place."""
        engine = self.engine
        return self.revision(engine)

    def revision(self, engine: Engine | None = None) -> str:
        from alembic.runtime.migration import MigrationContext

        with (engine or self.engine).connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() or ""

    # -- sessions --------------------------------------------------------------------
    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back (nothing written) on any error."""
        self.engine  # noqa: B018 - creates and migrates on first use
        assert self._sessions is not None
        s = self._sessions()
        try:
            yield s
            s.commit()
        except SQLAlchemyError as exc:
            s.rollback()
            raise DatabaseError(f"写入应用数据库失败，本次操作未保存任何内容（{_kind(exc)}）") from None
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
