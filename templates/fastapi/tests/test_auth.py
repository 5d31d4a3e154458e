{% set oauth = "oauth" in extras %}
{% set pkg = project.package %}
"""Accounts and tokens: register, sign in, /auth/me, and what a missing or bad token gets."""

{% filter py_imports %}
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from {{ pkg }}.config import Settings
from {{ pkg }}.security import create_access_token, hash_password, verify_password
{% endfilter %}

Headers = dict[str, str]
ALICE = {"email": "alice@example.com", "password": "correct horse battery staple"}


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def test_register(client: TestClient) -> None:
    response = client.post("/auth/register", json=ALICE | {"email": "Alice@Example.com"})

    assert response.status_code == 201
    user = response.json()
    assert set(user) == {"id", "email", "created_at"}  # never the password or its hash
    assert user["email"] == "alice@example.com"


def test_register_twice(client: TestClient) -> None:
    assert client.post("/auth/register", json=ALICE).status_code == 201
    again = client.post("/auth/register", json=ALICE | {"email": "ALICE@example.com"})
    assert again.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        ALICE | {"email": "not-an-email"},
        ALICE | {"password": "short"},
        {"email": "alice@example.com"},
    ],
    ids=["bad email", "short password", "no password"],
)
def test_register_invalid(client: TestClient, body: dict[str, str]) -> None:
    assert client.post("/auth/register", json=body).status_code == 422


def test_sign_in_and_me(client: TestClient, settings: Settings) -> None:
    client.post("/auth/register", json=ALICE)

    response = client.post("/auth/token", data={"username": ALICE["email"], **ALICE})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == settings.jwt_expire_minutes * 60
    me = client.get("/auth/me", headers=bearer(token["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == ALICE["email"]


@pytest.mark.parametrize(
    "form",
    [
        {"username": ALICE["email"], "password": "wrong password"},
        {"username": "bob@example.com", "password": ALICE["password"]},
    ],
    ids=["wrong password", "unknown email"],
)
def test_sign_in_refused(client: TestClient, form: dict[str, str]) -> None:
    client.post("/auth/register", json=ALICE)
    response = client.post("/auth/token", data=form)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_me_needs_a_token(client: TestClient) -> None:
    response = client.get("/auth/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
{% if not oauth %}


def test_reading_items_needs_no_token(client: TestClient) -> None:
    assert client.get("/items").status_code == 200
{% endif %}


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/items"), ("PATCH", "/items/1"), ("DELETE", "/items/1")],
)
def test_writing_items_needs_a_token(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json={"name": "Widget"})
    assert response.status_code == 401


def test_writing_items_with_a_token(client: TestClient, auth: Headers) -> None:
    assert client.post("/items", json={"name": "Widget"}, headers=auth).status_code == 201


def test_expired_token_is_refused(client: TestClient, settings: Settings, auth: Headers) -> None:
    user_id = client.get("/auth/me", headers=auth).json()["id"]
    expired = create_access_token(
        subject=user_id,
        secret=settings.jwt_secret.get_secret_value(),
        expires_in=timedelta(seconds=-1),
{% if oauth %}
        scopes=["items:read", "items:write"],
{% endif %}
    )

    assert client.get("/auth/me", headers=bearer(expired)).status_code == 401
    response = client.post("/items", json={"name": "Widget"}, headers=bearer(expired))
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or expired token"}


def test_forged_token_is_refused(client: TestClient, auth: Headers) -> None:
    user_id = client.get("/auth/me", headers=auth).json()["id"]
    forged = create_access_token(
        subject=user_id,
        secret="not the server's secret, but long enough for HS256",
        expires_in=timedelta(minutes=5),
{% if oauth %}
        scopes=["items:read", "items:write"],
{% endif %}
    )
    assert client.get("/auth/me", headers=bearer(forged)).status_code == 401
    assert client.get("/auth/me", headers=bearer("not-a-jwt")).status_code == 401


def test_passwords_are_hashed_with_argon2() -> None:
    hashed = hash_password("s3cret-passw0rd")
    assert hashed.startswith("$argon2id$")
    assert verify_password("s3cret-passw0rd", hashed)
    assert not verify_password("another password", hashed)
    assert not verify_password("s3cret-passw0rd", "not a hash")
