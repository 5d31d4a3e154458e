"""Hidden tests of the debugging lab: a refused withdrawal answers 409 Conflict."""

# ruff: noqa: S101 (copied to .labforge/, outside the tests/ folder that allows assert)

from fastapi.testclient import TestClient


def test_withdrawing_more_than_the_stock_is_a_conflict(client: TestClient) -> None:
    item = client.post("/items", json={"name": "Bolt", "quantity": 2}).json()

    response = client.post(f"/items/{item['id']}/withdraw", json={"amount": 5})

    assert response.status_code == 409
    assert response.json() == {"detail": "Not enough stock"}
    assert client.get(f"/items/{item['id']}").json()["quantity"] == 2


def test_withdrawing_the_whole_stock_works(client: TestClient) -> None:
    item = client.post("/items", json={"name": "Bolt", "quantity": 2}).json()

    response = client.post(f"/items/{item['id']}/withdraw", json={"amount": 2})

    assert response.status_code == 200
    assert response.json()["quantity"] == 0


def test_withdrawing_from_a_missing_item_is_not_found(client: TestClient) -> None:
    assert client.post("/items/999999/withdraw", json={"amount": 1}).status_code == 404
