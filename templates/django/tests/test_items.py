from typing import Any

import pytest
from django.test import Client

ITEM = {"name": "Lamp", "description": "A desk lamp", "quantity": 3}
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


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=many"])
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


@pytest.mark.parametrize("body", [{"name": None}, {"quantity": -1}, {"id": 5}, {"name": ""}])
def test_update_rejects_invalid_input(client: Client, body: dict[str, Any]) -> None:
    item = create(client)
    response = patch(client, f"/items/{item['id']}", body)
    assert response.status_code == 422
    assert client.get(f"/items/{item['id']}").json() == item


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
