from typing import Any

import pytest
from flask.testing import FlaskClient

ITEM = {"name": "Lamp", "description": "A desk lamp", "quantity": 3}
MAX_INT = 2**31 - 1  # PostgreSQL's integer, the type of ids and quantities
READ_FIELDS = {"id", "name", "description", "quantity", "created_at", "updated_at"}


def create(client: FlaskClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/items", json={**ITEM, **fields})
    assert response.status_code == 201, response.json
    assert response.json is not None
    item: dict[str, Any] = response.json
    return item


def test_create_returns_201_with_location(client: FlaskClient) -> None:
    response = client.post("/items", json=ITEM)

    assert response.status_code == 201
    assert response.json is not None
    assert response.json.items() >= ITEM.items()
    assert set(response.json) == READ_FIELDS
    assert response.headers["Location"] == f"/items/{response.json['id']}"
    assert client.get(response.headers["Location"]).json == response.json


def test_create_fills_in_defaults(client: FlaskClient) -> None:
    response = client.post("/items", json={"name": "Bare"})
    assert response.status_code == 201
    assert response.json is not None
    assert response.json["description"] is None
    assert response.json["quantity"] == 0


def test_get_returns_the_item(client: FlaskClient) -> None:
    item = create(client)
    response = client.get(f"/items/{item['id']}")
    assert response.status_code == 200
    assert response.json == item


def test_the_largest_quantity(client: FlaskClient) -> None:
    item = create(client, quantity=MAX_INT)
    assert client.get(f"/items/{item['id']}").json == item


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("item_id", [MAX_INT, MAX_INT + 1, 2**63, 2**70, 0])
def test_ids_no_item_can_have_are_404(client: FlaskClient, method: str, item_id: int) -> None:
    assert client.open(f"/items/{item_id}", method=method, json={}).status_code == 404


def test_get_missing_item_is_404(client: FlaskClient) -> None:
    response = client.get("/items/999999")
    assert response.status_code == 404
    assert response.json == {"detail": "Item 999999 not found"}


def test_list_returns_items_in_creation_order(client: FlaskClient) -> None:
    first, second, third = (create(client, name=name) for name in ("a", "b", "c"))

    response = client.get("/items")
    assert response.status_code == 200
    assert response.json == [first, second, third]

    page = client.get("/items?limit=1&offset=1")
    assert page.status_code == 200
    assert page.json == [second]


def test_list_far_beyond_the_last_item(client: FlaskClient) -> None:
    create(client)
    response = client.get(f"/items?offset={MAX_INT}")
    assert response.status_code == 200
    assert response.json == []


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "offset=-1", "limit=many", f"offset={MAX_INT + 1}"]
)
def test_list_rejects_bad_paging(client: FlaskClient, query: str) -> None:
    assert client.get(f"/items?{query}").status_code == 422


def test_update_changes_only_the_given_fields(client: FlaskClient) -> None:
    item = create(client)

    response = client.patch(f"/items/{item['id']}", json={"quantity": 7})

    assert response.status_code == 200
    assert response.json is not None
    updated: dict[str, Any] = response.json
    assert updated == {**item, "quantity": 7, "updated_at": updated["updated_at"]}
    assert updated["updated_at"] >= item["updated_at"]
    assert client.get(f"/items/{item['id']}").json == updated


def test_update_can_clear_the_description(client: FlaskClient) -> None:
    item = create(client)
    response = client.patch(f"/items/{item['id']}", json={"description": None})
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["description"] is None


def test_update_missing_item_is_404(client: FlaskClient) -> None:
    assert client.patch("/items/999999", json={"quantity": 1}).status_code == 404


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
def test_update_rejects_invalid_input(client: FlaskClient, body: dict[str, Any]) -> None:
    item = create(client)
    response = client.patch(f"/items/{item['id']}", json=body)
    assert response.status_code == 422
    assert client.get(f"/items/{item['id']}").json == item


def test_delete_returns_204_and_removes_the_item(client: FlaskClient) -> None:
    item = create(client)

    response = client.delete(f"/items/{item['id']}")

    assert response.status_code == 204
    assert response.data == b""
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
def test_create_rejects_invalid_input(client: FlaskClient, body: Any) -> None:
    response = client.post("/items", json=body)
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["detail"], "says what is wrong"
    assert client.get("/items").json == []


def test_invalid_input_details_name_the_field(client: FlaskClient) -> None:
    response = client.post("/items", json={"name": "Lamp", "quantity": -1})
    assert response.json is not None
    [error] = response.json["detail"]
    assert error["loc"] == ["quantity"]
    assert "input" not in error, "the rejected value is not echoed back"


def test_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post("/items", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json is not None
    assert "detail" in response.json


def test_a_body_that_is_not_json_is_415(client: FlaskClient) -> None:
    response = client.post("/items", data="name=Lamp")
    assert response.status_code == 415
