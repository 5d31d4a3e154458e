{% set jwt = auth == "jwt" %}
{% set oauth = "oauth" in extras %}
{% set pkg = project.package %}
{% set w = ", headers=auth" if jwt else "" %}
{% set r = ", headers=auth" if oauth else "" %}
{% set wp = ", auth: Headers" if jwt else "" %}
{% set rp = ", auth: Headers" if oauth else "" %}
{% if jwt %}
"""What a careless or hostile client may send: numbers beyond what the database stores, NUL
characters, numbers JSON cannot write back, tokens that name no possible account; and the time a
sign-in takes for an unknown email. SQLite and memory store what a database server refuses: run
these against one too (see the README).
"""
{% else %}
"""What a careless or hostile client may send: numbers beyond what the database stores, NUL
characters, numbers JSON cannot write back. SQLite and memory store what a database server
refuses: run these against one too (see the README).
"""
{% endif %}

{% filter py_imports %}
{% if jwt %}
import statistics
import time
from datetime import timedelta
{% endif %}
from typing import Any

import pytest
{% if jwt %}
from argon2 import PasswordHasher
{% endif %}
from fastapi.testclient import TestClient
{% if jwt %}

from {{ pkg }} import security
from {{ pkg }}.config import Settings
from {{ pkg }}.security import create_access_token
{% endif %}
{% endfilter %}

{% if db == "mongo" %}
MAX_INT = 2**63 - 1  # MongoDB's largest whole number
{% else %}
MAX_INT = 2**31 - 1  # PostgreSQL's integer, the type of ids and quantities
{% endif %}

{% if jwt %}
Headers = dict[str, str]
{% endif %}
Json = dict[str, Any]


def create(client: TestClient{{ wp }}, **fields: Any) -> Json:
    response = client.post("/items", json={"name": "Widget", **fields}{{ w }})
    assert response.status_code == 201, response.text
    item: Json = response.json()
    return item


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Widget", "quantity": "3"},
        {"name": "Widget", "quantity": False},
        {"name": "Widget", "quantity": MAX_INT + 1},
        {"name": "Widget", "quantity": 2**70},
        {"name": "Wid\x00get"},
        {"name": "Widget", "description": "NUL \x00"},
    ],
    ids=[
        "a number in a string",
        "a boolean",
        "beyond the column",
        "beyond 64 bits",
        "NUL in name",
        "NUL in description",
    ],
)
def test_create_refuses(client: TestClient{{ wp }}, body: Json) -> None:
    assert client.post("/items", json=body{{ w }}).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"quantity": True},
        {"quantity": MAX_INT + 1},
        {"name": "\x00"},
        {"description": "\x00"},
    ],
)
def test_update_refuses(client: TestClient{{ wp }}, body: Json) -> None:
    item = create(client{{ ", auth" if jwt else "" }})
    assert client.patch(f"/items/{item['id']}", json=body{{ w }}).status_code == 422


def test_the_largest_quantity(client: TestClient{{ wp }}) -> None:
    item = create(client{{ ", auth" if jwt else "" }}, quantity=MAX_INT)
    assert client.get(f"/items/{item['id']}"{{ r }}).json()["quantity"] == MAX_INT


def test_unreadable_numbers_are_refused_not_echoed(client: TestClient{{ wp }}) -> None:
    # 1e999 reads as infinity, which JSON cannot write back: the 422 must not try to.
    body = b'{"name": "Widget", "quantity": 1e999}'
    headers = {"Content-Type": "application/json"}{{ " | auth" if jwt else "" }}
    response = client.post("/items", content=body, headers=headers)
    assert response.status_code == 422
    assert "input" not in response.json()["detail"][0]


def test_the_schema_says_which_fields_may_be_null(client: TestClient{{ rp }}) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    update = schemas["ItemUpdate"]["properties"]
    null = {"type": "null"}
    nullable = {name for name, field in update.items() if null in field.get("anyOf", [])}
    assert nullable == {"description"}  # as test_items.py's test_update_invalid shows


@pytest.mark.parametrize("offset", [MAX_INT + 1, 2**64])
def test_offsets_too_large(client: TestClient{{ rp }}, offset: int) -> None:
    assert client.get("/items", params={"offset": offset}{{ r }}).status_code == 422


def test_the_largest_offset(client: TestClient{{ wp }}) -> None:
    create(client{{ ", auth" if jwt else "" }})
    response = client.get("/items", params={"offset": MAX_INT}{{ r }})
    assert response.status_code == 200
    assert response.json() == []
{% if db == "mongo" %}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("item_id", [str(2**63), "%00"])
def test_ids_no_item_has(client: TestClient{{ wp }}, method: str, item_id: str) -> None:
    response = client.request(method, f"/items/{item_id}", json={}{{ w }})
    assert response.status_code == 404
{% else %}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("item_id", [MAX_INT + 1, 2**63, 2**70])
def test_ids_too_large(client: TestClient{{ wp }}, method: str, item_id: int) -> None:
    response = client.request(method, f"/items/{item_id}", json={}{{ w }})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "item_id"]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_the_largest_id(client: TestClient{{ wp }}, method: str) -> None:
    assert client.request(method, f"/items/{MAX_INT}", json={}{{ w }}).status_code == 404
{% endif %}
{% if jwt %}


def test_register_refuses_nul_in_the_email(client: TestClient) -> None:
    body = {"email": "alice\x00@example.com", "password": "correct horse battery staple"}
    assert client.post("/auth/register", json=body).status_code == 422


def test_sign_in_refuses_nul_in_the_username(client: TestClient) -> None:
    form = {"username": "alice\x00@example.com", "password": "correct horse battery staple"}
    assert client.post("/auth/token", data=form).status_code == 422


@pytest.mark.parametrize("subject", [2**63, 2**31, -1, "not-a-number"])
def test_a_signed_token_naming_no_possible_user_is_refused(
    client: TestClient, settings: Settings, subject: Any
) -> None:
    token = create_access_token(
        subject=subject,
        secret=settings.jwt_secret.get_secret_value(),
        expires_in=timedelta(minutes=5),
{% if oauth %}
        scopes=["items:read", "items:write"],
{% endif %}
    )
    response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or expired token"}


def test_unknown_emails_take_as_long_as_known_ones(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Argon2 costly enough to outweigh the rest of a request (the tests' default is the cheapest),
    # so that an unknown email answered without hashing would be much faster.
    hasher = PasswordHasher(time_cost=2, memory_cost=32 * 1024, parallelism=1)
    monkeypatch.setattr(security, "password_hasher", hasher)
    alice = {"email": "alice@example.com", "password": "correct horse battery staple"}
    client.post("/auth/register", json=alice)
    known = {"username": alice["email"], "password": "wrong password"}
    unknown = {"username": "nobody@example.com", "password": "wrong password"}
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(7):
        for name, form in (("known", known), ("unknown", unknown)):
            started = time.perf_counter()
            assert client.post("/auth/token", data=form).status_code == 401
            times[name].append(time.perf_counter() - started)

    known_time, unknown_time = (statistics.median(times[k]) for k in ("known", "unknown"))
    assert unknown_time >= known_time / 2, f"{unknown_time=:.4f}s {known_time=:.4f}s"
{% endif %}
