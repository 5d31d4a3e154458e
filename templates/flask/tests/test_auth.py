from datetime import timedelta

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from {{ project.package }} import auth
from {{ project.package }}.store import user_store

ALICE = {"username": "alice", "password": "correct horse battery"}


def register(client: FlaskClient, **fields: str) -> None:
    response = client.post("/auth/register", json={**ALICE, **fields})
    assert response.status_code == 201, response.json


def login(client: FlaskClient, **fields: str) -> str:
    response = client.post("/auth/login", json={**ALICE, **fields})
    assert response.status_code == 200, response.json
    assert response.json is not None
    token: str = response.json["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_register_returns_the_user_without_the_password(anonymous: FlaskClient) -> None:
    response = anonymous.post("/auth/register", json=ALICE)
    assert response.status_code == 201
    assert response.json is not None
    assert set(response.json) == {"id", "username"}
    assert response.json["username"] == "alice"


def test_passwords_are_stored_as_argon2_hashes(app: Flask, anonymous: FlaskClient) -> None:
    register(anonymous)
    with app.app_context():
        user = user_store().get_by_username("alice")
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert ALICE["password"] not in user.password_hash


def test_register_twice_is_409(anonymous: FlaskClient) -> None:
    register(anonymous)
    response = anonymous.post("/auth/register", json=ALICE)
    assert response.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": "7chars!"},
        {"username": "a", "password": "long enough password"},
        {"username": "no spaces", "password": "long enough password"},
        {"username": "alice"},
    ],
)
def test_register_rejects_invalid_input(anonymous: FlaskClient, body: dict[str, str]) -> None:
    response = anonymous.post("/auth/register", json=body)
    assert response.status_code == 422
    if "password" in body:
        assert body["password"] not in response.get_data(as_text=True), "no password echoed"


def test_login_returns_a_token_for_me(anonymous: FlaskClient) -> None:
    register(anonymous)
    response = anonymous.post("/auth/login", json=ALICE)
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["token_type"] == "bearer"
    assert response.json["expires_in"] == 30 * 60

    me = anonymous.get("/auth/me", headers=bearer(response.json["access_token"]))
    assert me.status_code == 200
    assert me.json is not None
    assert me.json["username"] == "alice"


def test_token_lifetime_comes_from_the_settings(app: Flask, anonymous: FlaskClient) -> None:
    register(anonymous)
    claims = jwt.decode(login(anonymous), options={"verify_signature": False})
    minutes = app.config["SETTINGS"].jwt_expire_minutes
    assert claims["exp"] - claims["iat"] == minutes * 60


@pytest.mark.parametrize(
    "fields", [{"password": "wrong password!"}, {"username": "nobody"}], ids=["password", "user"]
)
def test_login_with_wrong_credentials_is_401(
    anonymous: FlaskClient, fields: dict[str, str]
) -> None:
    register(anonymous)
    response = anonymous.post("/auth/login", json={**ALICE, **fields})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_me_without_a_token_is_401(anonymous: FlaskClient) -> None:
    response = anonymous.get("/auth/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/items"), ("patch", "/items/1"), ("delete", "/items/1")],
)
def test_writes_need_a_token(anonymous: FlaskClient, method: str, path: str) -> None:
    response = getattr(anonymous, method)(path, json={"name": "Lamp"})
    assert response.status_code == 401


def test_reads_need_no_token(anonymous: FlaskClient) -> None:
    assert anonymous.get("/items").status_code == 200


def test_writes_with_a_token_succeed(client: FlaskClient) -> None:
    response = client.post("/items", json={"name": "Lamp"})
    assert response.status_code == 201


def test_an_expired_token_is_refused(app: Flask, anonymous: FlaskClient) -> None:
    register(anonymous)
    with app.app_context():
        user = user_store().get_by_username("alice")
        assert user is not None
        expired = auth.create_access_token(user.id, timedelta(seconds=-1))

    response = anonymous.post("/items", json={"name": "Lamp"}, headers=bearer(expired))
    assert response.status_code == 401
    assert anonymous.get("/auth/me", headers=bearer(expired)).status_code == 401


@pytest.mark.parametrize("subject", ["999999", str(2**31), str(2**63), "-1", "not-a-number"])
def test_a_token_for_an_unknown_user_is_refused(
    app: Flask, anonymous: FlaskClient, subject: str
) -> None:
    key = app.config["SETTINGS"].jwt_secret
    token = jwt.encode({"sub": subject, "exp": 4102444800}, key, algorithm="HS256")
    assert anonymous.get("/auth/me", headers=bearer(token)).status_code == 401


def test_login_refuses_nul_in_the_username(anonymous: FlaskClient) -> None:
    response = anonymous.post("/auth/login", json={"username": "al\x00ice", "password": "x"})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("claims", "key", "algorithm", "status"),
    [
        ({"exp": 4102444800}, "the app's secret", "HS256", 200),  # the control: a good token
        ({"exp": 4102444800}, "another secret, 32 bytes or longer", "HS256", 401),
        ({}, "the app's secret", "HS256", 401),  # no expiry
        ({"exp": 4102444800}, None, "none", 401),  # unsigned
    ],
    ids=["valid", "other-secret", "no-expiry", "unsigned"],
)
def test_only_signed_unexpired_tokens_are_accepted(
    app: Flask,
    anonymous: FlaskClient,
    claims: dict[str, int],
    key: str | None,
    algorithm: str,
    status: int,
) -> None:
    register(anonymous)
    with app.app_context():
        user = user_store().get_by_username("alice")
    assert user is not None
    if key == "the app's secret":
        key = app.config["SETTINGS"].jwt_secret
    token = jwt.encode({"sub": str(user.id), **claims}, key, algorithm=algorithm)

    assert anonymous.get("/auth/me", headers=bearer(token)).status_code == status


@pytest.mark.parametrize("authorization", ["Bearer not-a-jwt", "Basic YWxpY2U6c2VjcmV0", "Bearer"])
def test_malformed_authorization_headers_are_refused(
    anonymous: FlaskClient, authorization: str
) -> None:
    response = anonymous.get("/auth/me", headers={"Authorization": authorization})
    assert response.status_code == 401
