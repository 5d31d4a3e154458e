"""The items resource through HTTP: status codes, headers and bodies."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

PUBLIC_FIELDS = {"id", "name", "description", "quantity", "created_at"}

Json = dict[str, Any]
Create = Callable[..., Json]


@pytest.fixture
def create(client: TestClient) -> Create:
    """Creates an item through the API and returns its JSON."""

    def create(name: str = "Widget", **fields: Any) -> Json:
        response = client.post("/items", json={"name": name, **fields})
        assert response.status_code == 201, response.text
        return response.json()

    return create


def test_create(client: TestClient) -> None:
    body = {"name": "Widget", "description": "A fine widget", "quantity": 3}
    response = client.post("/items", json=body)

    assert response.status_code == 201
    item = response.json()
    assert set(item) == PUBLIC_FIELDS
    assert item | body == item
    assert response.headers["Location"].endswith(f"/items/{item['id']}")
    assert client.get(response.headers["Location"]).json() == item


def test_list_pages_oldest_first(client: TestClient, create: Create) -> None:
    names = [create(f"Item {n}")["name"] for n in range(5)]

    everything = client.get("/items").json()
    page = client.get("/items", params={"offset": 1, "limit": 2}).json()

    assert [item["name"] for item in everything] == names
    assert [item["name"] for item in page] == names[1:3]


def test_get(client: TestClient, create: Create) -> None:
    item = create()
    response = client.get(f"/items/{item['id']}")
    assert response.status_code == 200
    assert response.json() == item
