{% set sql = db == "postgres" %}
{% if sql %}
"""Every error is JSON, in FastAPI's shapes: a bug (500), a value the database refuses (422), a
body that cannot be read (400, documented)."""
{% else %}
"""Every error is JSON, in FastAPI's shapes: a bug (500), a body that cannot be read (400,
documented)."""
{% endif %}

from fastapi import FastAPI
from fastapi.testclient import TestClient
{% if sql %}
from sqlalchemy.exc import DataError
{% endif %}


def lenient(client: TestClient) -> tuple[FastAPI, TestClient]:
    """The client's app, and a client that gets its 500s as a server sends them (not raised)."""
    app = client.app
    assert isinstance(app, FastAPI)
    return app, TestClient(app, raise_server_exceptions=False)


def test_a_bug_answers_json(client: TestClient) -> None:
    app, server = lenient(client)

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("a bug")

    response = server.get("/bug")
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Internal Server Error"}
{% if sql %}


def test_a_value_the_database_refuses_is_a_422(client: TestClient) -> None:
    # The schemas keep such values out (see test_items.py); this is the backstop.
    app, server = lenient(client)

    @app.get("/refused")
    async def refused() -> None:
        raise DataError("INSERT ...", {}, ValueError("integer out of range"))

    response = server.get("/refused")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "database_error"
{% endif %}


def test_a_body_that_is_not_utf8_is_a_documented_400(client: TestClient) -> None:
    headers = {"Content-Type": "application/json"}
    response = client.post("/items", content=b'{"name": "\xff"}', headers=headers)

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    operations = client.get("/openapi.json").json()["paths"]["/items"]
    assert "400" in operations["post"]["responses"]
