{% set jwt = auth == "jwt" %}
{% set oauth = "oauth" in extras %}
{% set w = ", headers=auth" if jwt else "" %}
{% set r = ", headers=auth" if oauth else "" %}
{% set wp = ", auth: Headers" if jwt else "" %}
{% set rp = ", auth: Headers" if oauth else "" %}
{% set id_type = "ID" if db == "mongo" else "Int" %}
"""GraphQL at /graphql: the items query and the createItem mutation, over HTTP."""

{% if oauth %}
from collections.abc import Callable
{% endif %}
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

Headers = dict[str, str]
{% if oauth %}
SignIn = Callable[..., Headers]  # the `sign_in` fixture from conftest.py
{% endif %}
{% if db == "mongo" %}
MISSING_ID = "0123456789abcdef01234567"
{% else %}
MISSING_ID = 999_999
{% endif %}
ITEMS = "{ items { id name description quantity createdAt } }"
ITEM = "query Item($id: {{ id_type }}!) { item(id: $id) { name } }"
CREATE = "mutation Create($data: ItemInput!) { createItem(data: $data) { id name quantity } }"


def graphql(
    client: TestClient, query: str, headers: Headers | None = None, **variables: Any
) -> Any:
    """POSTs a GraphQL request and returns the JSON result."""
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_items_query(client: TestClient{{ wp }}) -> None:
    created = client.post("/items", json={"name": "Widget", "quantity": 2}{{ w }}).json()

    items = graphql(client, ITEMS{{ r }})["data"]["items"]

    assert items == [
        {
            "id": created["id"],
            "name": "Widget",
            "description": None,
            "quantity": 2,
            "createdAt": items[0]["createdAt"],
        }
    ]
    assert datetime.fromisoformat(items[0]["createdAt"]) == datetime.fromisoformat(
        created["created_at"]
    )


def test_item_query(client: TestClient{{ wp }}) -> None:
    created = client.post("/items", json={"name": "Widget"}{{ w }}).json()

    found = graphql(client, ITEM{{ r }}, id=created["id"])
    missing = graphql(client, ITEM{{ r }}, id=MISSING_ID)

    assert found == {"data": {"item": {"name": "Widget"}}}
    assert missing == {"data": {"item": None}}


def test_create_item_mutation(client: TestClient{{ wp }}) -> None:
    result = graphql(client, CREATE{{ w }}, data={"name": "Gadget", "quantity": 2})

    created = result["data"]["createItem"]
    assert created["name"] == "Gadget"
    rest = client.get(f"/items/{created['id']}"{{ r }}).json()
    assert (rest["name"], rest["quantity"]) == ("Gadget", 2)


def test_create_item_mutation_validates(client: TestClient{{ wp }}) -> None:
    result = graphql(client, CREATE{{ w }}, data={"name": "", "quantity": -1})

    assert result["data"] is None
    assert "name" in result["errors"][0]["message"]
    assert client.get("/items"{{ r }}).json() == []
{% if oauth %}


def test_queries_need_the_read_scope(client: TestClient, sign_in: SignIn) -> None:
    result = graphql(client, ITEMS, headers=sign_in(scope="items:write"))
    assert result["errors"][0]["message"] == "Needs a token with the items:read scope"


def test_mutations_need_the_write_scope(client: TestClient, sign_in: SignIn) -> None:
    result = graphql(client, CREATE, headers=sign_in(scope="items:read"), data={"name": "X"})
    assert result["errors"][0]["message"] == "Needs a token with the items:write scope"
{% elif jwt %}


def test_mutations_need_a_token(client: TestClient) -> None:
    result = graphql(client, CREATE, data={"name": "Gadget"})

    assert result["data"] is None
    assert result["errors"][0]["message"] == "Not authenticated"
    assert client.get("/items").json() == []
{% endif %}
{% if jwt %}


def test_a_bad_token_gets_401(client: TestClient) -> None:
    response = client.post(
        "/graphql", json={"query": ITEMS}, headers={"Authorization": "Bearer not-a-jwt"}
    )
    assert response.status_code == 401
{% endif %}
