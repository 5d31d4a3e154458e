"""OAuth2 scopes: items:read to read items, items:write to create and change them,
items:delete to delete them; 403 without.

They describe the finished lab: some fail until its steps are done.
"""

from collections.abc import Callable

from fastapi.testclient import TestClient

SignIn = Callable[..., dict[str, str]]  # the `sign_in` fixture from conftest.py


def test_reading_needs_a_token(client: TestClient) -> None:
    response = client.get("/items")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_read_only_token_cannot_write(client: TestClient, sign_in: SignIn) -> None:
    read_only = sign_in(scope="items:read")

    assert client.get("/items", headers=read_only).status_code == 200
    response = client.post("/items", json={"name": "Widget"}, headers=read_only)
    assert response.status_code == 403
    assert 'scope="items:write"' in response.headers["WWW-Authenticate"]


def test_a_write_only_token_cannot_read(client: TestClient, sign_in: SignIn) -> None:
    write_only = sign_in(scope="items:write")

    assert client.post("/items", json={"name": "Widget"}, headers=write_only).status_code == 201
    assert client.get("/items", headers=write_only).status_code == 403


def test_a_token_gets_every_scope_by_default(client: TestClient, sign_in: SignIn) -> None:
    token = sign_in()
    assert client.post("/items", json={"name": "Widget"}, headers=token).status_code == 201
    assert client.get("/items", headers=token).status_code == 200


def test_the_login_grants_what_it_is_asked_for(client: TestClient) -> None:
    account = {"email": "alice@example.com", "password": "correct horse battery staple"}
    client.post("/auth/register", json=account)
    form = {"username": account["email"], **account, "scope": "items:read"}
    response = client.post("/auth/token", data=form)
    assert response.status_code == 200
    assert response.json()["scope"] == "items:read"


def test_deleting_needs_the_delete_scope(client: TestClient, sign_in: SignIn) -> None:
    writer = sign_in(scope="items:write")
    item = client.post("/items", json={"name": "Widget"}, headers=writer).json()

    refused = client.delete(f"/items/{item['id']}", headers=writer)
    assert refused.status_code == 403
    assert 'scope="items:delete"' in refused.headers["WWW-Authenticate"]
    deleter = sign_in(scope="items:delete")
    assert client.delete(f"/items/{item['id']}", headers=deleter).status_code == 204


def test_unknown_scopes_are_refused(client: TestClient) -> None:
    account = {"email": "alice@example.com", "password": "correct horse battery staple"}
    client.post("/auth/register", json=account)
    form = {"username": account["email"], **account, "scope": "items:read admin"}
    response = client.post("/auth/token", data=form)
    assert response.status_code == 400
    assert response.json() == {"detail": "Unknown scope: admin"}
