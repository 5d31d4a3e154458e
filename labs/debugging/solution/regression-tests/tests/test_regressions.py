"""Regression tests: each reproduces a bug found in production, and failed before its fix."""

from fastapi.testclient import TestClient


def test_search_skips_items_without_a_description(client: TestClient) -> None:
    """GET /items?search=... answered 500: AttributeError on an item whose description is None."""
    client.post("/items", json={"name": "Plain"})
    client.post("/items", json={"name": "Lamp", "description": "A desk lamp"})

    response = client.get("/items", params={"search": "desk"})

    assert response.status_code == 200
    assert [item["name"] for item in response.json()] == ["Lamp"]


def test_withdrawing_more_than_the_stock_answers_409(client: TestClient) -> None:
    """POST /items/{id}/withdraw answered 200 OK when it refused: clients took it for done."""
    item = client.post("/items", json={"name": "Bolt", "quantity": 2}).json()

    response = client.post(f"/items/{item['id']}/withdraw", json={"amount": 5})

    assert response.status_code == 409
    assert response.json() == {"detail": "Not enough stock"}
    assert client.get(f"/items/{item['id']}").json()["quantity"] == 2
