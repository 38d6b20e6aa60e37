"""Alembic environment for the application database (assistant.appdb).

Run programmatically only: ``Database`` passes an open connection in
``config.attributes["connection"]``; there is no alembic.ini and no URL here. To write a new
migration, add a file to versions/ by hand (revision = the next number, down_revision = the
current head) — ``alembic revision`` is not wired up on purpose, nothing here autogenerates.
"""
from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the alembic CLI
    raise RuntimeError("assistant/migrations 只能由 assistant.appdb.Database 调用（需要传入数据库连接）")

context.configure(
    connection=connection,
    target_metadata=None,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things: batch mode copies
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
