{% set pkg = project.package %}
{% if db == "postgres" %}
"""Brings the database schema up to date:

    python -m {{ pkg }}.migrate

The server command (`serve.py`) runs this before it serves; in Kubernetes, an init container.
The server may start together with the database (`labforge up`, docker compose, Kubernetes): this
waits for PostgreSQL first, trying again after a short pause while it cannot be reached, for up
to DATABASE_WAIT_SECONDS (default 60).
The Alembic migrations ship inside the package, in its `migrations` folder, so it needs no
alembic.ini. After changing `models.py`, write the next migration with
`alembic revision --autogenerate -m "..."` (the `alembic` command reads `[tool.alembic]` in
pyproject.toml and DATABASE_URL).
"""

import importlib
import logging
import os
import time

import psycopg
from alembic import command
from alembic.config import Config

from {{ pkg }}.config import Settings

logger = logging.getLogger(__name__)

{% include "_includes/wait_for_database.py" %}


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "{{ pkg }}:migrations")
    config.attributes["database_url"] = database_url  # read by migrations/env.py
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    # What the migrations import, imported while the database may still be starting: once it
    # answers, only the migration itself is left.
    importlib.import_module("{{ pkg }}.models")
    importlib.import_module("sqlalchemy.ext.asyncio")
    importlib.import_module("alembic.runtime.migration")
    wait_for_database(settings.database_url, float(os.environ.get("DATABASE_WAIT_SECONDS", "60")))
    upgrade(settings.sqlalchemy_url)
{% elif db == "mongo" %}
"""Creates the MongoDB indexes:

    python -m {{ pkg }}.migrate

The server command (`serve.py`) runs this before it serves; in Kubernetes, an init container.
The app also creates them at startup; both are safe to repeat, since MongoDB skips indexes that
exist. The server may start together with MongoDB: this waits for it, for up to
DATABASE_WAIT_SECONDS (default 60).
"""

import asyncio
import logging
import os
import time

from pymongo.errors import ServerSelectionTimeoutError

from {{ pkg }}.config import Settings
from {{ pkg }}.database import MongoDatabase

logger = logging.getLogger(__name__)


async def create_indexes(settings: Settings, wait_seconds: float = 0) -> None:
    """Creates the indexes, trying again while MongoDB cannot be reached, until `wait_seconds`
    have passed (the driver itself waits for a server for a few seconds on each try)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        database = MongoDatabase(settings.mongo_url, settings.mongo_db)
        try:
            await database.create_indexes()
            return
        except ServerSelectionTimeoutError:
            if time.monotonic() > deadline:
                raise
            logger.info("Waiting for MongoDB")
        finally:
            await database.close()


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(create_indexes(settings, float(os.environ.get("DATABASE_WAIT_SECONDS", "60"))))
    logger.info("Indexes are in place in database %r", settings.mongo_db)
{% else %}
"""Schema migrations: `python -m {{ pkg }}.migrate`.

This service keeps its data in memory, so there is nothing to migrate. The command exists so
that every labforge project has one; give it real work when the service gets a database (and
have `serve.py` run it before it serves, as the database variants do).
"""

import logging

logger = logging.getLogger(__name__)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logger.info("Nothing to migrate: the data lives in memory")
{% endif %}


if __name__ == "__main__":
    main()
