"""The items resource through HTTP: status codes, headers and bodies."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

MISSING_ID = 999_999
PUBLIC_FIELDS = {"id", "name", "description", "quantity", "price_cents", "created_at"}

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
    body = {"name": "Widget", "description": "A fine widget", "quantity": 3, "price_cents": 1250}
    response = client.post("/items", json=body)

    assert response.status_code == 201
    item = response.json()
    assert set(item) == PUBLIC_FIELDS
    assert item | body == item
    assert response.headers["Location"].endswith(f"/items/{item['id']}")
    assert client.get(response.headers["Location"]).json() == item


def test_create_fills_in_defaults(create: Create) -> None:
    item = create("Gadget")
    assert item["description"] is None
    assert item["quantity"] == 0
    assert item["price_cents"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "Widget", "quantity": -1},
        {"name": "Widget", "quantity": "many"},
        {"name": "Widget", "price_cents": -1},
        {"name": "Widget", "price_cents": 12.5},
        {"name": "Widget", "id": 7},
    ],
    ids=[
        "no name",
        "empty",
        "blank",
        "too long",
        "negative",
        "not a number",
        "negative price",
        "fractional cents",
        "unknown field",
    ],
)
def test_create_invalid(client: TestClient, body: Json) -> None:
    assert client.post("/items", json=body).status_code == 422


def test_list_pages_oldest_first(client: TestClient, create: Create) -> None:
    names = [create(f"Item {n}")["name"] for n in range(5)]

    everything = client.get("/items").json()
    page = client.get("/items", params={"offset": 1, "limit": 2}).json()

    assert [item["name"] for item in everything] == names
    assert [item["name"] for item in page] == names[1:3]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}])
def test_list_bad_paging(client: TestClient, params: dict[str, int]) -> None:
    assert client.get("/items", params=params).status_code == 422


def test_get(client: TestClient, create: Create) -> None:
    item = create()
    response = client.get(f"/items/{item['id']}")
    assert response.status_code == 200
    assert response.json() == item


def test_get_missing(client: TestClient) -> None:
    response = client.get(f"/items/{MISSING_ID}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}


def test_get_with_a_malformed_id(client: TestClient) -> None:
    assert client.get("/items/not-a-number").status_code == 422


def test_update_is_partial(client: TestClient, create: Create) -> None:
    item = create("Widget", description="Old", quantity=1)

    response = client.patch(f"/items/{item['id']}", json={"quantity": 5})

    assert response.status_code == 200
    assert response.json() == item | {"quantity": 5}
    assert client.get(f"/items/{item['id']}").json() == item | {"quantity": 5}


def test_update_clears_the_description(client: TestClient, create: Create) -> None:
    item = create("Widget", description="Old")
    response = client.patch(f"/items/{item['id']}", json={"description": None})
    assert response.json()["description"] is None


def test_update_with_empty_body(client: TestClient, create: Create) -> None:
    item = create()
    response = client.patch(f"/items/{item['id']}", json={})
    assert response.status_code == 200
    assert response.json() == item


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"quantity": None},
        {"quantity": -5},
        {"price_cents": None},
        {"price_cents": -5},
    ],
)
def test_update_invalid(client: TestClient, create: Create, body: Json) -> None:
    item = create()
    assert client.patch(f"/items/{item['id']}", json=body).status_code == 422


def test_update_missing(client: TestClient) -> None:
    response = client.patch(f"/items/{MISSING_ID}", json={"name": "New"})
    assert response.status_code == 404


def test_delete(client: TestClient, create: Create) -> None:
    item = create()

    response = client.delete(f"/items/{item['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/items/{item['id']}").status_code == 404
    assert client.delete(f"/items/{item['id']}").status_code == 404
