{% set pkg = project.package %}
"""The Alembic migrations: they run both ways, they match the models, and they wait for the
database."""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from {{ pkg }} import migrate
from {{ pkg }}.models import Base


async def _inspect(url: str, look: Callable[[Connection], Any]) -> Any:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        result = await connection.run_sync(look)
    await engine.dispose()
    return result


def _differences(connection: Connection) -> list[Any]:
    return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def test_the_migrations_match_the_models(database_url: str) -> None:
    """Fails when a model changed without a migration: `alembic revision --autogenerate`."""
    # database_url is the tests' database, upgraded to head by conftest.py.
    assert asyncio.run(_inspect(database_url, _differences)) == []


def test_upgrade_and_downgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    model_tables = set(Base.metadata.tables)

    migrate.upgrade(url)
    assert asyncio.run(_inspect(url, _tables)) == model_tables | {"alembic_version"}

    command.downgrade(migrate.alembic_config(url), "base")
    assert asyncio.run(_inspect(url, _tables)) == {"alembic_version"}

    migrate.upgrade(url)
    assert asyncio.run(_inspect(url, _tables)) == model_tables | {"alembic_version"}


def _connect_failing(times: int, message: str, calls: list[str]) -> Callable[..., Any]:
    """psycopg.connect failing `times` times with `message`, then connecting."""

    class Connection:
        def close(self) -> None:
            calls.append("closed")

    def connect(url: str, **_: Any) -> Connection:
        calls.append(url)
        if len(calls) <= times:
            raise migrate.psycopg.OperationalError(message)
        return Connection()

    return connect


def test_the_migration_waits_for_a_database_that_is_not_up_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    failing = _connect_failing(3, "connection refused", calls)
    monkeypatch.setattr(migrate.psycopg, "connect", failing)
    monkeypatch.setattr(migrate.time, "sleep", lambda _: None)
    migrate.wait_for_database("postgresql://db/x", timeout=5)
    assert calls == ["postgresql://db/x"] * 4 + ["closed"]


def test_the_wait_gives_up_at_its_deadline_and_at_once_on_a_refused_login(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nothing listens on port 1: the wait ends with the last error after its deadline.
    with pytest.raises(migrate.psycopg.OperationalError):
        migrate.wait_for_database("postgresql://u@127.0.0.1:1/x?connect_timeout=1", timeout=0.2)
    calls: list[str] = []
    refusal = 'FATAL:  password authentication failed for user "u"'
    monkeypatch.setattr(migrate.psycopg, "connect", _connect_failing(9, refusal, calls))
    with pytest.raises(migrate.psycopg.OperationalError, match="password authentication failed"):
        migrate.wait_for_database("postgresql://db/x", timeout=5)
    assert len(calls) == 1, "waiting cannot fix a wrong password"
