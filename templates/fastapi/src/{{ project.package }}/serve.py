{% set pkg = project.package %}
{% set migrates = db != "none" %}
"""Runs the server, the image's command (`labforge up` adds `--reload` for development):

    python -m {{ pkg }}.serve [--reload]

uvicorn serves the app factory on port {{ values.port }} of the container's every interface.
{% if migrates %}

It first brings the database up to date, unless RUN_MIGRATIONS=0 (Kubernetes, where an init
container migrates once per rollout), with

    python -m {{ pkg }}.migrate

in a child process while this one imports the app, so a container starts in the time of the
slower of the two rather than of both. Nothing is served before the migration has succeeded; a
failed one stops the container with its exit code.
{% endif %}
"""

{% if migrates %}
import os
import subprocess
{% endif %}
import sys

import uvicorn

PORT = {{ values.port }}
APP = "{{ pkg }}.main:create_app"
{% if migrates %}


def start_migration() -> subprocess.Popen[bytes] | None:
    """The migration, started; None when RUN_MIGRATIONS=0."""
    if os.environ.get("RUN_MIGRATIONS", "1") != "1":
        return None
    print("serve: applying database migrations", file=sys.stderr, flush=True)
    # A fixed command: this interpreter and this package's own migrate module.
    return subprocess.Popen([sys.executable, "-m", f"{__package__}.migrate"])  # noqa: S603
{% endif %}


def main(argv: list[str] | None = None) -> None:
    reload = "--reload" in (sys.argv[1:] if argv is None else argv)
{% if migrates %}
    migration = start_migration()
    if not reload:
        # Imported while the migration runs: uvicorn then finds the app already loaded. (With
        # --reload a fresh worker process imports it, so there is nothing to gain here.)
        from {{ pkg }} import main as _app  # noqa: F401
    if migration is not None and (code := migration.wait()) != 0:
        print(f"serve: the migration failed (exit code {code}); not starting", file=sys.stderr)
        sys.exit(code)
{% endif %}
    uvicorn.run(
        APP,
        factory=True,
        host="0.0.0.0",  # noqa: S104 - inside the container; labforge publishes it on 127.0.0.1
        port=PORT,
        proxy_headers=True,
        server_header=False,
        reload=reload,
        reload_dirs=["/app/src"] if reload else None,
    )


if __name__ == "__main__":
    main()
