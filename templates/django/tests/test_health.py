from collections.abc import Callable

import pytest
from django.db import DataError, OperationalError
from django.test import Client

from {{ project.package }} import health
from {{ project.package }}.models import Item


def test_health_answers_without_the_database(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_the_database_answers(client: Client) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


class BrokenConnection:
    def cursor(self) -> None:
        raise OperationalError("connection refused")


def test_not_ready_when_the_database_is_down(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "connection", BrokenConnection())

    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert client.get("/health").status_code == 200, "liveness does not need the database"


def test_probes_answer_any_host_header(client: Client) -> None:
    # Kubernetes probes send the pod's IP address as Host.
    assert client.get("/health", headers={"Host": "10.244.0.7:8000"}).status_code == 200
    assert client.get("/ready", headers={"Host": "10.244.0.7:8000"}).status_code == 200


def test_other_requests_need_an_allowed_host(client: Client) -> None:
    response = client.get("/items", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad Request"}
    assert client.get("/items", headers={"Host": "localhost:8000"}).status_code == 200


def test_errors_are_json(client: Client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_the_api_documents_itself(client: Client) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/items" in schema["paths"]
    # The errors too, so that clients (and schemathesis) know every answer.
    assert {"200", "404", "422"} <= set(schema["paths"]["/items/{item_id}"]["get"]["responses"])


def raising(error: Exception) -> Callable[..., None]:
    def raise_it(*args: object, **kwargs: object) -> None:
        raise error

    return raise_it


def test_a_bug_answers_json(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Item.objects, "get", raising(RuntimeError("a bug")))
    response = client.get("/items/1")
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"detail": "Internal Server Error"}


def test_a_value_the_database_refuses_is_a_422(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The schemas keep such values out (see test_items.py); this is the backstop.
    monkeypatch.setattr(Item.objects, "get", raising(DataError("integer out of range")))
    response = client.get("/items/1")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "database_error"
