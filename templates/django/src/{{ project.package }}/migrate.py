"""Brings the database up to date:

    python -m {{ project.package }}.migrate

what the container runs before the server (Kubernetes: an init container): `django-admin migrate
--noinput`, once PostgreSQL answers. The server may start together with the database (`labforge
up`, docker compose, Kubernetes): this waits for it first, trying again after a short pause while
it cannot be reached, for up to DATABASE_WAIT_SECONDS (default 60).
"""

import logging
import os
import time

import psycopg
from django.core.management import execute_from_command_line

logger = logging.getLogger(__name__)

{% include "_includes/wait_for_database.py" %}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgresql://", "postgres://")):
        wait_for_database(database_url, float(os.environ.get("DATABASE_WAIT_SECONDS", "60")))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{__package__}.settings")
    execute_from_command_line(["django-admin", "migrate", "--noinput"])


if __name__ == "__main__":
    main()
