{% set jwt = auth == "jwt" %}
{% set oauth = "oauth" in extras %}
{% set w = ", headers=auth" if jwt else "" %}
{% set r = ", headers=auth" if oauth else "" %}
{% set wp = ", auth: Headers" if jwt else "" %}
{% set rp = ", auth: Headers" if oauth else "" %}
{% if oauth %}
"""The items resource through HTTP, with a token that has every scope (see test_scopes.py)."""
{% elif jwt %}
"""The items resource through HTTP, signed in for the writes (see test_auth.py)."""
{% else %}
"""The items resource through HTTP: status codes, headers and bodies."""
{% endif %}

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

{% if db == "mongo" %}
MISSING_ID = "0123456789abcdef01234567"  # a well-formed ObjectId that no item has
{% else %}
MISSING_ID = 999_999
{% endif %}
PUBLIC_FIELDS = {"id", "name", "description", "quantity", "created_at"}

{% if jwt %}
Headers = dict[str, str]
{% endif %}
Json = dict[str, Any]
Create = Callable[..., Json]


@pytest.fixture
def create(client: TestClient{{ wp }}) -> Create:
    """Creates an item through the API and returns its JSON."""

    def create(name: str = "Widget", **fields: Any) -> Json:
        response = client.post("/items", json={"name": name, **fields}{{ w }})
        assert response.status_code == 201, response.text
        return response.json()

    return create


def test_create(client: TestClient{{ wp }}) -> None:
    body = {"name": "Widget", "description": "A fine widget", "quantity": 3}
    response = client.post("/items", json=body{{ w }})

    assert response.status_code == 201
    item = response.json()
    assert set(item) == PUBLIC_FIELDS
    assert item | body == item
    assert response.headers["Location"].endswith(f"/items/{item['id']}")
    assert client.get(response.headers["Location"]{{ r }}).json() == item


def test_create_fills_in_defaults(create: Create) -> None:
    item = create("Gadget")
    assert item["description"] is None
    assert item["quantity"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "Widget", "quantity": -1},
        {"name": "Widget", "quantity": "many"},
        {"name": "Widget", "id": 7},
    ],
    ids=["no name", "empty", "blank", "too long", "negative", "not a number", "unknown field"],
)
def test_create_invalid(client: TestClient{{ wp }}, body: Json) -> None:
    assert client.post("/items", json=body{{ w }}).status_code == 422


def test_list_pages_oldest_first(client: TestClient, create: Create{{ rp }}) -> None:
    names = [create(f"Item {n}")["name"] for n in range(5)]

    everything = client.get("/items"{{ r }}).json()
    page = client.get("/items", params={"offset": 1, "limit": 2}{{ r }}).json()

    assert [item["name"] for item in everything] == names
    assert [item["name"] for item in page] == names[1:3]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}])
def test_list_bad_paging(client: TestClient{{ rp }}, params: dict[str, int]) -> None:
    assert client.get("/items", params=params{{ r }}).status_code == 422


def test_get(client: TestClient, create: Create{{ rp }}) -> None:
    item = create()
    response = client.get(f"/items/{item['id']}"{{ r }})
    assert response.status_code == 200
    assert response.json() == item


def test_get_missing(client: TestClient{{ rp }}) -> None:
    response = client.get(f"/items/{MISSING_ID}"{{ r }})
    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}
{% if db == "mongo" %}


def test_get_with_an_id_that_cannot_exist(client: TestClient{{ rp }}) -> None:
    assert client.get("/items/not-an-object-id"{{ r }}).status_code == 404
{% else %}


def test_get_with_a_malformed_id(client: TestClient{{ rp }}) -> None:
    assert client.get("/items/not-a-number"{{ r }}).status_code == 422
{% endif %}


def test_update_is_partial(client: TestClient, create: Create{{ wp }}) -> None:
    item = create("Widget", description="Old", quantity=1)

    response = client.patch(f"/items/{item['id']}", json={"quantity": 5}{{ w }})

    assert response.status_code == 200
    assert response.json() == item | {"quantity": 5}
    assert client.get(f"/items/{item['id']}"{{ r }}).json() == item | {"quantity": 5}


def test_update_clears_the_description(client: TestClient, create: Create{{ wp }}) -> None:
    item = create("Widget", description="Old")
    response = client.patch(f"/items/{item['id']}", json={"description": None}{{ w }})
    assert response.json()["description"] is None


def test_update_with_empty_body(client: TestClient, create: Create{{ wp }}) -> None:
    item = create()
    response = client.patch(f"/items/{item['id']}", json={}{{ w }})
    assert response.status_code == 200
    assert response.json() == item


@pytest.mark.parametrize("body", [{"name": None}, {"quantity": None}, {"quantity": -5}])
def test_update_invalid(client: TestClient, create: Create{{ wp }}, body: Json) -> None:
    item = create()
    assert client.patch(f"/items/{item['id']}", json=body{{ w }}).status_code == 422


def test_update_missing(client: TestClient{{ wp }}) -> None:
    response = client.patch(f"/items/{MISSING_ID}", json={"name": "New"}{{ w }})
    assert response.status_code == 404


def test_delete(client: TestClient, create: Create{{ wp }}) -> None:
    item = create()

    response = client.delete(f"/items/{item['id']}"{{ w }})

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/items/{item['id']}"{{ r }}).status_code == 404
    assert client.delete(f"/items/{item['id']}"{{ w }}).status_code == 404
