{% set pkg = project.package %}
{% set migrates = db != "none" %}
"""Runs the server, the image's command (`labforge up` adds `--reload` for development):

    python -m {{ pkg }}.serve [--reload]

uvicorn serves the app factory on port {{ values.port }} of the container's every interface.
{% if migrates %}

The app is served once the database is up to date, unless RUN_MIGRATIONS=0 (Kubernetes, where an
init container migrates once per rollout): the process that builds the app runs

    python -m {{ pkg }}.migrate

in a child process while it imports the app, so a container starts in the time of the slower of
the two rather than of both. Nothing is served before the migration has succeeded. A failed one
stops the server with its exit code; with --reload, the failed worker waits for the next edit,
and each worker a change starts migrates again (a new migration file applies on save).
{% endif %}
"""

{% if migrates %}
import os
import subprocess
{% endif %}
import sys
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from fastapi import FastAPI

PORT = {{ values.port }}
APP = "{{ pkg }}.serve:create_app"
{% if migrates %}


def start_migration() -> subprocess.Popen[bytes] | None:
    """The migration, started; None when RUN_MIGRATIONS=0."""
    if os.environ.get("RUN_MIGRATIONS", "1") != "1":
        return None
    print("serve: applying database migrations", file=sys.stderr, flush=True)
    # A fixed command: this interpreter and this package's own migrate module.
    return subprocess.Popen([sys.executable, "-m", f"{__package__}.migrate"])  # noqa: S603
{% endif %}


def create_app() -> "FastAPI":
    """The app{% if migrates %}, once the database is up to date{% endif %}: uvicorn's factory (with --reload, each
    worker process runs it)."""
{% if migrates %}
    migration = start_migration()
    # Imported while the migration runs.
    from {{ pkg }}.main import create_app as app_factory

    if migration is not None and (code := migration.wait()) != 0:
        print(f"serve: the migration failed (exit code {code}); not serving", file=sys.stderr)
        sys.exit(code)
{% else %}
    from {{ pkg }}.main import create_app as app_factory

{% endif %}
    return app_factory()


def main(argv: list[str] | None = None) -> None:
    reload = "--reload" in (sys.argv[1:] if argv is None else argv)
    uvicorn.run(
        # A reloading server builds the app in a fresh worker process for every change.
        APP if reload else create_app(),
        factory=reload,
        host="0.0.0.0",  # noqa: S104 - inside the container; labforge publishes it on 127.0.0.1
        port=PORT,
        proxy_headers=True,
        server_header=False,
        reload=reload,
        reload_dirs=["/app/src"] if reload else None,
    )


if __name__ == "__main__":
    main()
