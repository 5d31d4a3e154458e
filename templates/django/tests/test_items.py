from typing import Any

import pytest
from django.test import Client

ITEM = {"name": "Lamp", "description": "A desk lamp", "quantity": 3}
MAX_INT = 2**31 - 1  # PostgreSQL's integer, the type of quantities
MAX_ID = 2**63 - 1  # PostgreSQL's bigint, the type of ids
READ_FIELDS = {"id", "name", "description", "quantity", "created_at", "updated_at"}


def create(client: Client, **fields: Any) -> dict[str, Any]:
    response = client.post("/items", {**ITEM, **fields}, content_type="application/json")
    assert response.status_code == 201, response.content
    item: dict[str, Any] = response.json()
    return item


def patch(client: Client, path: str, body: Any) -> Any:
    return client.patch(path, body, content_type="application/json")


def test_create_returns_201_with_location(client: Client) -> None:
    response = client.post("/items", ITEM, content_type="application/json")

    assert response.status_code == 201
    body = response.json()
    assert body.items() >= ITEM.items()
    assert set(body) == READ_FIELDS
    assert response.headers["Location"] == f"/items/{body['id']}"
    assert client.get(response.headers["Location"]).json() == body


def test_create_fills_in_defaults(client: Client) -> None:
    response = client.post("/items", {"name": "Bare"}, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["description"] is None
    assert response.json()["quantity"] == 0


def test_get_returns_the_item(client: Client) -> None:
    item = create(client)
    response = client.get(f"/items/{item['id']}")
    assert response.status_code == 200
    assert response.json() == item


def test_the_largest_quantity(client: Client) -> None:
    item = create(client, quantity=MAX_INT)
    assert client.get(f"/items/{item['id']}").json() == item


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("item_id", [MAX_ID + 1, 2**70, 0])
def test_ids_the_database_cannot_hold(client: Client, method: str, item_id: int) -> None:
    response = client.generic(method, f"/items/{item_id}", "{}", content_type="application/json")
    assert response.status_code == 422


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_the_largest_id(client: Client, method: str) -> None:
    response = client.generic(method, f"/items/{MAX_ID}", "{}", content_type="application/json")
    assert response.status_code == 404


def test_get_missing_item_is_404(client: Client) -> None:
    response = client.get("/items/999999")
    assert response.status_code == 404
    assert response.json() == {"detail": "Item 999999 not found"}


def test_list_returns_items_in_creation_order(client: Client) -> None:
    first, second, third = (create(client, name=name) for name in ("a", "b", "c"))

    response = client.get("/items")
    assert response.status_code == 200
    assert response.json() == [first, second, third]

    page = client.get("/items", {"limit": 1, "offset": 1})
    assert page.status_code == 200
    assert page.json() == [second]


def test_list_far_beyond_the_last_item(client: Client) -> None:
    create(client)
    response = client.get("/items", {"offset": MAX_ID})
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "offset=-1", "limit=many", f"offset={MAX_ID + 1}"]
)
def test_list_rejects_bad_paging(client: Client, query: str) -> None:
    assert client.get(f"/items?{query}").status_code == 422


def test_update_changes_only_the_given_fields(client: Client) -> None:
    item = create(client)

    response = patch(client, f"/items/{item['id']}", {"quantity": 7})

    assert response.status_code == 200
    updated = response.json()
    assert updated == {**item, "quantity": 7, "updated_at": updated["updated_at"]}
    assert updated["updated_at"] >= item["updated_at"]
    assert client.get(f"/items/{item['id']}").json() == updated


def test_update_can_clear_the_description(client: Client) -> None:
    item = create(client)
    response = patch(client, f"/items/{item['id']}", {"description": None})
    assert response.status_code == 200
    assert response.json()["description"] is None


def test_update_missing_item_is_404(client: Client) -> None:
    assert patch(client, "/items/999999", {"quantity": 1}).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"quantity": None},
        {"quantity": -1},
        {"quantity": True},
        {"quantity": MAX_INT + 1},
        {"id": 5},
        {"name": ""},
        {"name": "\x00"},
    ],
)
def test_update_rejects_invalid_input(client: Client, body: dict[str, Any]) -> None:
    item = create(client)
    response = patch(client, f"/items/{item['id']}", body)
    assert response.status_code == 422
    assert client.get(f"/items/{item['id']}").json() == item


def test_the_schema_says_which_fields_may_be_null(client: Client) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    update = schemas["ItemUpdate"]["properties"]
    null = {"type": "null"}
    nullable = {name for name, field in update.items() if null in field.get("anyOf", [])}
    assert nullable == {"description"}  # as test_update_rejects_invalid_input shows


def test_delete_returns_204_and_removes_the_item(client: Client) -> None:
    item = create(client)

    response = client.delete(f"/items/{item['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/items/{item['id']}").status_code == 404
    assert client.delete(f"/items/{item['id']}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "Lamp", "quantity": -1},
        {"name": "Lamp", "quantity": "many"},
        {"name": "Lamp", "quantity": "3"},
        {"name": "Lamp", "quantity": False},
        {"name": "Lamp", "quantity": MAX_INT + 1},
        {"name": "Lamp", "quantity": 2**70},
        {"name": "La\x00mp"},
        {"name": "Lamp", "description": "NUL \x00"},
        {"name": "Lamp", "id": 42},
        ["not", "an", "object"],
    ],
)
def test_create_rejects_invalid_input(client: Client, body: Any) -> None:
    response = client.post("/items", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"], "says what is wrong"
    assert client.get("/items").json() == []


def test_invalid_input_details_name_the_field(client: Client) -> None:
    response = client.post(
        "/items", {"name": "Lamp", "quantity": -1}, content_type="application/json"
    )
    [error] = response.json()["detail"]
    assert error["loc"][-1] == "quantity"
    assert "input" not in error, "the rejected value is not echoed back"


def test_malformed_json_is_400(client: Client) -> None:
    response = client.post("/items", "{not json", content_type="application/json")
    assert response.status_code == 400
