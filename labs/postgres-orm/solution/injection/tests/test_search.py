"""GET /items/search: the items whose name contains a text, ignoring case."""

import pytest
from fastapi.testclient import TestClient


def names(client: TestClient, q: str) -> list[str]:
    response = client.get("/items/search", params={"q": q})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()]


def test_finds_names_containing_the_text(client: TestClient) -> None:
    for name in ["Blue Kettle", "Teapot", "Kettle lid"]:
        client.post("/items", json={"name": name})

    assert names(client, "kettle") == ["Blue Kettle", "Kettle lid"]
    assert names(client, "TEA") == ["Teapot"]
    assert names(client, "mug") == []


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "x" * 101}])
def test_refuses_a_missing_or_bad_query(client: TestClient, params: dict[str, str]) -> None:
    assert client.get("/items/search", params=params).status_code == 422


@pytest.mark.parametrize(
    "q", ["') OR ('1'='1", "'); DROP TABLE items; --", "%", "_", "100%", "a\\b"]
)
def test_the_text_is_data_not_sql(client: TestClient, q: str) -> None:
    client.post("/items", json={"name": "Kettle 1000"})
    assert names(client, q) == []
    assert client.get("/items").status_code == 200  # the table is still there


def test_finds_names_with_quotes_and_wildcards(client: TestClient) -> None:
    for name in ["'); DROP TABLE items; --", "100% cotton", "Kettle 1000"]:
        client.post("/items", json={"name": name})

    assert names(client, "'); DROP") == ["'); DROP TABLE items; --"]
    assert names(client, "100%") == ["100% cotton"]
