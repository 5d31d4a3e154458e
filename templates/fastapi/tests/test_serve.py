{% set pkg = project.package %}
{% set migrates = db != "none" %}
"""The server command: uvicorn with the app factory{% if migrates %}, only once the migration succeeded{% endif %}."""

{% if migrates %}
import subprocess
import sys
from pathlib import Path
{% endif %}
from typing import Any

import pytest
from fastapi import FastAPI

from {{ pkg }} import main, serve

# What the app factory builds, in these tests: they are about when and how it is served.
APP = FastAPI(title="stand-in")


{% if migrates %}
def migration(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Stands in a child process running `code` for the real migration."""
    started = lambda: subprocess.Popen([sys.executable, "-c", code])  # noqa: E731, S603
    monkeypatch.setattr(serve, "start_migration", started)


def slow_migration(done: Path) -> str:
    """A migration slower than the import, which marks `done` when it ends: serving or building
    the app early would find no mark."""
    return f"import pathlib, time; time.sleep(0.1); pathlib.Path({str(done)!r}).touch()"


{% endif %}
@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What uvicorn.run was called with, instead of serving{% if migrates %}; the migration succeeds
    unless a test stands in another{% endif %}."""
{% if migrates %}
    migration(monkeypatch, "pass")
{% endif %}
    monkeypatch.setattr(main, "create_app", lambda: APP)
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(serve.uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    return calls


def test_serves_the_app_on_the_container_port(runs: list[dict[str, Any]]) -> None:
    serve.main([])
    assert runs == [
        {
            "app": APP,
            "factory": False,
            "host": "0.0.0.0",  # noqa: S104
            "port": {{ values.port }},
            "proxy_headers": True,
            "server_header": False,
            "reload": False,
            "reload_dirs": None,
        }
    ]


def test_reload_watches_the_mounted_source_and_builds_the_app_in_each_worker(
    runs: list[dict[str, Any]],
) -> None:
    serve.main(["--reload"])
    assert runs[0]["app"] == "{{ pkg }}.serve:create_app"
    assert runs[0]["factory"] is True
    assert runs[0]["reload"] is True
    assert runs[0]["reload_dirs"] == ["/app/src"]
{% if migrates %}


def test_serves_only_after_the_migration_finished(
    runs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    done = tmp_path / "migrated"
    migration(monkeypatch, slow_migration(done))
    serving = lambda *_, **__: runs.append({"migrated": done.exists()})  # noqa: E731
    monkeypatch.setattr(serve.uvicorn, "run", serving)
    serve.main([])
    assert runs == [{"migrated": True}]


def test_a_reloading_worker_builds_the_app_only_after_the_migration_finished(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    done = tmp_path / "migrated"
    migration(monkeypatch, slow_migration(done))
    monkeypatch.setattr(main, "create_app", lambda: {"migrated": done.exists()})
    assert serve.create_app() == {"migrated": True}


def test_a_failed_migration_stops_the_container_with_its_exit_code(
    runs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    migration(monkeypatch, "raise SystemExit(3)")
    with pytest.raises(SystemExit) as stopped:
        serve.main([])
    assert stopped.value.code == 3
    assert runs == []
    assert "the migration failed (exit code 3)" in capsys.readouterr().err


def test_run_migrations_0_leaves_migrating_to_someone_else(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUN_MIGRATIONS", "0")
    assert serve.start_migration() is None
{% endif %}
