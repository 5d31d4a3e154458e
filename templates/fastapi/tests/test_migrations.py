{% set pkg = project.package %}
"""The Alembic migrations: they run both ways, and they match the models."""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
