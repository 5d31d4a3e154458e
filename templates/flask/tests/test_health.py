{% if db == "postgres" %}
import dataclasses
from pathlib import Path

{% endif %}
from flask import Flask
from flask.testing import FlaskClient
{% if db == "postgres" %}
from sqlalchemy.exc import DataError

from {{ project.package }}.app import create_app
from {{ project.package }}.settings import Settings
{% endif %}


def test_health_answers_without_the_database(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_ready_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json == {"status": "ready"}
{% if db == "postgres" %}


def test_not_ready_when_the_database_is_down(settings: Settings, tmp_path: Path) -> None:
    unreachable = f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}"
    app = create_app(dataclasses.replace(settings, database_url=unreachable))
    client = app.test_client()

    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["status"] == "unavailable"
    assert client.get("/health").status_code == 200, "liveness does not need the database"
    app.extensions["db_engine"].dispose()
{% endif %}


def test_errors_are_json(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.json is not None
    assert "detail" in response.json


def test_a_bug_answers_json(app: Flask) -> None:
    @app.get("/bug")
    def bug() -> None:
        raise RuntimeError("a bug")

    response = app.test_client().get("/bug")
    assert response.status_code == 500
    assert response.json is not None
    assert "detail" in response.json
{% if db == "postgres" %}


def test_a_value_the_database_refuses_is_a_422(app: Flask) -> None:
    # The schemas keep such values out (see test_items.py); this is the backstop.
    @app.get("/refused")
    def refused() -> None:
        raise DataError("INSERT ...", {}, ValueError("integer out of range"))

    response = app.test_client().get("/refused")
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["detail"][0]["type"] == "database_error"
{% endif %}
