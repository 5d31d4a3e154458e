"""The Alembic migrations: they run both ways, and they match the models."""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from {{ project.package }} import migrate
from {{ project.package }}.models import Base

Schema = dict[str, dict[str, Any]]


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


def _schema(connection: Connection) -> Schema:
    """Each table's columns (name, type, nullable) and indexes, Alembic's own table left out."""
    inspector = inspect(connection)
    return {
        table: {
            "columns": [
                (column["name"], str(column["type"]), column["nullable"])
                for column in inspector.get_columns(table)
            ],
            "indexes": sorted(index["name"] or "" for index in inspector.get_indexes(table)),
        }
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }


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


def test_each_migration_steps_down_and_up_again(tmp_path: Path) -> None:
    """Each downgrade() undoes its upgrade(): the schema is as it was before, and the upgrade
    applies again (a `pass` there leaves the change behind, and the next upgrade fails)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'stairway.db'}"
    config = migrate.alembic_config(url)
    oldest_first = reversed(list(ScriptDirectory.from_config(config).walk_revisions()))

    before = asyncio.run(_inspect(url, _schema))
    for script in oldest_first:
        command.upgrade(config, script.revision)
        after = asyncio.run(_inspect(url, _schema))

        command.downgrade(config, "-1")
        assert asyncio.run(_inspect(url, _schema)) == before, f"{script.revision}'s downgrade()"

        command.upgrade(config, script.revision)
        assert asyncio.run(_inspect(url, _schema)) == after, f"{script.revision}'s upgrade()"
        before = after
