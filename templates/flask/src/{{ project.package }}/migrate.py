{% if db == "postgres" %}
"""Database migrations with Alembic, driven from code: no alembic.ini needed.

    python -m {{ project.package }}.migrate
        upgrades the database to the latest schema. The container runs this before the server
        starts; Kubernetes runs it in an init container. It may start together with the
        database (`labforge up`, docker compose, Kubernetes): it waits for PostgreSQL first,
        trying again after a short pause while it cannot be reached, for up to
        DATABASE_WAIT_SECONDS (default 60).

    python -m {{ project.package }}.migrate revision "add price"
        generates a migration from what changed in models.py. Review it, then commit it.

The scripts live in `migrations/versions/`, inside the package, so they ship with it.
"""

import argparse
import logging
import os
import time
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config

from .settings import database_url_from_env

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# New migration scripts get the same lint and format as the rest of the code (ruff: dev extra).
RUFF_HOOKS = {
    "hooks": "ruff_fix ruff_format",
    "ruff_fix.type": "module",
    "ruff_fix.module": "ruff",
    "ruff_fix.options": "check --fix --exit-zero --quiet REVISION_SCRIPT_FILENAME",
    "ruff_format.type": "module",
    "ruff_format.module": "ruff",
    "ruff_format.options": "format --quiet REVISION_SCRIPT_FILENAME",
}


{% include "_includes/wait_for_database.py" %}


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url  # read by migrations/env.py
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m {{ project.package }}.migrate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("upgrade", help="upgrade to the latest schema (the default)")
    revision = commands.add_parser("revision", help="generate a migration from models.py")
    revision.add_argument("message", help="what the migration changes")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    database_url = database_url_from_env()
    if database_url.startswith(("postgresql://", "postgres://")):
        wait_for_database(database_url, float(os.environ.get("DATABASE_WAIT_SECONDS", "60")))
    config = alembic_config(database_url)
    if args.command == "revision":
        for option, value in RUFF_HOOKS.items():
            config.set_section_option("post_write_hooks", option, value)
        command.revision(config, message=args.message, autogenerate=True)
    else:
        command.upgrade(config, "head")


if __name__ == "__main__":
    main()
{% else %}
"""Database migrations: none, this project has no database (`labforge new --db none`).

The container entrypoint and the Kubernetes init container run this module before the server,
for every project; here it only says that there is nothing to do.
"""


def main() -> None:
    print("This project has no database: nothing to migrate.")


if __name__ == "__main__":
    main()
{% endif %}
