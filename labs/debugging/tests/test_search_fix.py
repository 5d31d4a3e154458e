"""Hidden tests of the debugging lab: GET /items?search=... no longer crashes."""

# ruff: noqa: S101 (copied to .labforge/, outside the tests/ folder that allows assert)

from fastapi.testclient import TestClient


def names(client: TestClient, search: str) -> list[str]:
    response = client.get("/items", params={"search": search})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()]


def test_items_without_a_description_do_not_break_the_search(client: TestClient) -> None:
    client.post("/items", json={"name": "Plain"})
    client.post("/items", json={"name": "Lamp", "description": "A Desk Lamp"})
    client.post("/items", json={"name": "Bare", "description": None})

    assert names(client, "desk") == ["Lamp"]
    assert names(client, "DESK LAMP") == ["Lamp"]
    assert names(client, "nothing like it") == []


def test_names_still_match_with_or_without_a_description(client: TestClient) -> None:
    client.post("/items", json={"name": "Plain kettle"})
    client.post("/items", json={"name": "Kettle", "description": "1.7 litres"})
    client.post("/items", json={"name": "Teapot", "description": "For the kettle's water"})

    assert names(client, "KETTLE") == ["Plain kettle", "Kettle", "Teapot"]


def test_a_missing_description_stays_missing(client: TestClient) -> None:
    plain = client.post("/items", json={"name": "Plain"}).json()
    lamp = client.post("/items", json={"name": "Lamp", "description": "A desk lamp"}).json()
    cleared = client.patch(f"/items/{lamp['id']}", json={"description": None})

    assert plain["description"] is None
    assert cleared.json()["description"] is None
    assert names(client, "lamp") == ["Lamp"]
    assert names(client, "desk") == []


def test_no_search_lists_everything(client: TestClient) -> None:
    client.post("/items", json={"name": "Plain"})
    assert names(client, "plain") == ["Plain"]
    assert len(client.get("/items").json()) == 1
