{% if db == "postgres" %}
"""The migrations in `migrations/versions/` build exactly the tables `models.py` describes."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from {{ project.package }}.db import make_engine
from {{ project.package }}.migrate import downgrade, main, upgrade
from {{ project.package }}.models import Base

TABLES = {table.name for table in Base.metadata.sorted_tables}


def table_names(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], "a model changed without a migration: see migrate.py"


def test_migrations_downgrade_and_upgrade_again(database_url: str) -> None:
    downgrade(database_url, "base")
    assert table_names(database_url) == set()
    upgrade(database_url)
    assert table_names(database_url) == TABLES


def test_migrate_command_needs_no_alembic_ini(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini here
    database_url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", database_url)

    main([])

    assert table_names(database_url) == TABLES
{% else %}
import pytest

from {{ project.package }}.migrate import main


def test_there_is_nothing_to_migrate(capsys: pytest.CaptureFixture[str]) -> None:
    main()
    assert "nothing to migrate" in capsys.readouterr().out
{% endif %}
