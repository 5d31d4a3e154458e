from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from {{ project.package }}.auth import create_access_token

ALICE = {"username": "alice", "password": "correct horse battery"}
FAR_FUTURE = 4102444800  # 2100-01-01


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, body, content_type="application/json")


def register(client: Client) -> int:
    response = post(client, "/auth/register", ALICE)
    assert response.status_code == 201, response.content
    user_id: int = response.json()["id"]
    return user_id


def login(client: Client, **fields: str) -> str:
    response = post(client, "/auth/login", {**ALICE, **fields})
    assert response.status_code == 200, response.content
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_register_returns_the_user_without_the_password(anonymous: Client) -> None:
    response = post(anonymous, "/auth/register", ALICE)
    assert response.status_code == 201
    assert set(response.json()) == {"id", "username"}
    assert response.json()["username"] == "alice"


def test_passwords_are_stored_as_argon2_hashes(anonymous: Client) -> None:
    register(anonymous)
    user = get_user_model().objects.get(username="alice")
    assert user.password.startswith("argon2$argon2id$")
    assert ALICE["password"] not in user.password


def test_register_twice_is_409(anonymous: Client) -> None:
    register(anonymous)
    assert post(anonymous, "/auth/register", ALICE).status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": "7chars!"},
        {"username": "alice", "password": "password123"},  # too common
        {"username": "alice", "password": "83920174655"},  # only digits
        {"username": "a", "password": "long enough password"},
        {"username": "no spaces", "password": "long enough password"},
        {"username": "alice"},
    ],
)
def test_register_rejects_invalid_input(anonymous: Client, body: dict[str, str]) -> None:
    response = post(anonymous, "/auth/register", body)
    assert response.status_code == 422
    if "password" in body:
        assert body["password"] not in response.content.decode(), "no password echoed"
    assert not get_user_model().objects.exists()


def test_login_returns_a_token_for_me(anonymous: Client) -> None:
    register(anonymous)
    response = post(anonymous, "/auth/login", ALICE)
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"
    assert response.json()["expires_in"] == 30 * 60

    me = anonymous.get("/auth/me", headers=bearer(response.json()["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


def test_token_lifetime_comes_from_the_settings(anonymous: Client) -> None:
    register(anonymous)
    claims = jwt.decode(login(anonymous), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == settings.JWT_EXPIRE_MINUTES * 60


@pytest.mark.parametrize(
    "fields", [{"password": "wrong password!"}, {"username": "nobody"}], ids=["password", "user"]
)
def test_login_with_wrong_credentials_is_401(anonymous: Client, fields: dict[str, str]) -> None:
    register(anonymous)
    response = post(anonymous, "/auth/login", {**ALICE, **fields})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_me_without_a_token_is_401(anonymous: Client) -> None:
    response = anonymous.get("/auth/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/items"), ("patch", "/items/1"), ("delete", "/items/1")],
)
def test_writes_need_a_token(anonymous: Client, method: str, path: str) -> None:
    response = getattr(anonymous, method)(path, {"name": "Lamp"}, content_type="application/json")
    assert response.status_code == 401


def test_reads_need_no_token(anonymous: Client) -> None:
    assert anonymous.get("/items").status_code == 200


def test_writes_with_a_token_succeed(client: Client) -> None:
    assert post(client, "/items", {"name": "Lamp"}).status_code == 201


def test_an_expired_token_is_refused(anonymous: Client) -> None:
    expired = create_access_token(register(anonymous), timedelta(seconds=-1))

    response = anonymous.post(
        "/items", {"name": "Lamp"}, content_type="application/json", headers=bearer(expired)
    )
    assert response.status_code == 401
    assert anonymous.get("/auth/me", headers=bearer(expired)).status_code == 401


@pytest.mark.parametrize("subject", ["999999", str(2**63), str(2**70), "-1", "not-a-number"])
def test_a_token_for_an_unknown_user_is_refused(anonymous: Client, subject: str) -> None:
    token = jwt.encode({"sub": subject, "exp": 4102444800}, settings.JWT_SECRET, algorithm="HS256")
    assert anonymous.get("/auth/me", headers=bearer(token)).status_code == 401


def test_login_refuses_nul_in_the_username(anonymous: Client) -> None:
    body = {"username": "al\x00ice", "password": "x"}
    response = anonymous.post("/auth/login", body, content_type="application/json")
    assert response.status_code == 422


def test_a_token_for_a_deactivated_user_is_refused(anonymous: Client) -> None:
    register(anonymous)
    token = login(anonymous)
    get_user_model().objects.filter(username="alice").update(is_active=False)
    assert anonymous.get("/auth/me", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize(
    ("claims", "key", "algorithm", "status"),
    [
        ({"exp": FAR_FUTURE}, "the app's secret", "HS256", 200),  # the control: a good token
        ({"exp": FAR_FUTURE}, "another secret, 32 bytes or longer", "HS256", 401),
        ({}, "the app's secret", "HS256", 401),  # no expiry
        ({"exp": FAR_FUTURE}, None, "none", 401),  # unsigned
    ],
    ids=["valid", "other-secret", "no-expiry", "unsigned"],
)
def test_only_signed_unexpired_tokens_are_accepted(
    anonymous: Client, claims: dict[str, int], key: str | None, algorithm: str, status: int
) -> None:
    user_id = register(anonymous)
    if key == "the app's secret":
        key = settings.JWT_SECRET
    token = jwt.encode({"sub": str(user_id), **claims}, key, algorithm=algorithm)

    assert anonymous.get("/auth/me", headers=bearer(token)).status_code == status


@pytest.mark.parametrize("authorization", ["Bearer not-a-jwt", "Basic YWxpY2U6c2VjcmV0", "Bearer"])
def test_malformed_authorization_headers_are_refused(anonymous: Client, authorization: str) -> None:
    response = anonymous.get("/auth/me", headers={"Authorization": authorization})
    assert response.status_code == 401
