"""Without a database server, the server creates its SQLite tables when it starts."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def test_the_server_creates_its_tables_on_start(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # where settings.py puts the SQLite file
    subprocess.run(
        [sys.executable, "-c", "import {{ project.package }}.wsgi"],
        env=env,
        check=True,
    )

    database = sqlite3.connect(tmp_path / "{{ project.package }}.sqlite3")
    tables = {name for (name,) in database.execute("SELECT name FROM sqlite_master")}
    database.close()
    assert "{{ project.package }}_item" in tables
{% if auth == "jwt" %}
    assert "auth_user" in tables
{% endif %}
