{% set jwt = auth == "jwt" %}
{% set pkg = project.package %}
{% if db == "postgres" %}
"""Fixtures: the app against SQLite in a temporary folder, or against PostgreSQL.

    pytest                                                            # SQLite
    DATABASE_URL=postgresql://USER:PASSWORD@localhost:5432/DB pytest  # PostgreSQL

With DATABASE_URL set the tests leave that database alone: like Django's test runner, they
create a `test_<DB>` database on the same server and drop it at the end. Either way the schema
comes from the Alembic migrations, applied once per test session.
"""

import asyncio
import os
{% if jwt %}
import secrets
{% endif %}
{% elif db == "mongo" %}
"""Fixtures: the app with in-memory repositories, or against MongoDB when MONGO_URL is set.

    pytest                                            # in memory
    MONGO_URL=mongodb://USER:PASSWORD@localhost:27017/?authSource=admin pytest

Against MongoDB each test gets a database of its own, dropped afterwards.
"""

import os
{% if jwt %}
import secrets
{% endif %}
import uuid
{% else %}
"""Fixtures: the app, a test client{{ " and a signed-in user" if jwt else "" }}."""

{% if jwt %}
import secrets
{% endif %}
{% endif %}
from collections.abc import {{ "Callable, " if jwt or db == "postgres" else "" }}Iterator
{% if db == "postgres" %}
from contextlib import contextmanager
from pathlib import Path
{% endif %}

import pytest
{% if jwt %}
from argon2 import PasswordHasher, profiles
{% endif %}
from fastapi.testclient import TestClient
{% if db == "postgres" %}
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
{% elif db == "mongo" %}
from pymongo import MongoClient
{% endif %}

{% if db == "postgres" and jwt %}
from {{ pkg }} import migrate, security
{% elif db == "postgres" %}
from {{ pkg }} import migrate
{% elif jwt %}
from {{ pkg }} import security
{% endif %}
from {{ pkg }}.config import Settings
from {{ pkg }}.main import create_app
{% if db == "postgres" %}
from {{ pkg }}.models import Base
{% elif db == "mongo" %}
from {{ pkg }}.memory import InMemoryDatabase

MONGO_URL = os.environ.get("MONGO_URL")
{% endif %}
{% if jwt %}

PASSWORD = "correct horse battery staple"
{% endif %}
{% if db == "postgres" %}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The database under test, migrated to the latest revision."""
    if os.environ.get("DATABASE_URL"):
        server = Settings(database_url=os.environ["DATABASE_URL"]{{ ", jwt_secret=secrets.token_hex(32)" if jwt else "" }})
        with _throwaway_database(server.sqlalchemy_url) as url:
            migrate.upgrade(url)
            yield url
    else:
        url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('db'), 'test.db')}"
        migrate.upgrade(url)
        yield url


@contextmanager
def _throwaway_database(server_url: str) -> Iterator[str]:
    """`test_<name>` on the server of `server_url`, made afresh and dropped at the end."""
    url = make_url(server_url)
    name = f"test_{url.database}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with admin.connect() as connection:
        connection.execute(drop)
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(drop)
        admin.dispose()


@pytest.fixture(scope="session")
def empty_tables(database_url: str) -> Iterator[Callable[[], None]]:
    """Deletes every row, with one engine (and event loop) for the whole session."""
    with asyncio.Runner() as runner:
        engine = create_async_engine(database_url)

        async def empty() -> None:
            async with engine.begin() as connection:
                for table in reversed(Base.metadata.sorted_tables):
                    await connection.execute(table.delete())

        yield lambda: runner.run(empty())
        runner.run(engine.dispose())


@pytest.fixture
def settings(database_url: str, empty_tables: Callable[[], None]) -> Settings:
    """Settings for a test, whose tables start empty."""
    empty_tables()
    return Settings(database_url=database_url{{ ", jwt_secret=secrets.token_hex(32)" if jwt else "" }})


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client
{% elif db == "mongo" %}


@pytest.fixture
def settings() -> Iterator[Settings]:
    """Settings for a test; against MongoDB, a fresh database dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield Settings(
        mongo_url=MONGO_URL or "mongodb://unused",
        mongo_db=name,
{% if jwt %}
        jwt_secret=secrets.token_hex(32),
{% endif %}
    )
    if MONGO_URL:
        with MongoClient(MONGO_URL) as mongo:
            mongo.drop_database(name)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    # database=None: the app connects to MONGO_URL, as in production.
    database = None if MONGO_URL else InMemoryDatabase()
    with TestClient(create_app(settings, database)) as client:
        yield client
{% else %}


@pytest.fixture
def settings() -> Settings:
    return Settings({{ "jwt_secret=secrets.token_hex(32)" if jwt else "" }})


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client
{% endif %}
{% if jwt %}


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its cheapest: production parameters would cost ~50 ms a hash."""
    cheapest = PasswordHasher.from_parameters(profiles.CHEAPEST)
    monkeypatch.setattr(security, "password_hasher", cheapest)


SignIn = Callable[..., dict[str, str]]


@pytest.fixture
def sign_in(client: TestClient) -> SignIn:
    """Registers a user (if new) and returns the Authorization header of a fresh token."""

    def sign_in(email: str = "alice@example.com", **form: str) -> dict[str, str]:
        client.post("/auth/register", json={"email": email, "password": PASSWORD})
        data = {"username": email, "password": PASSWORD, **form}
        response = client.post("/auth/token", data=data)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return sign_in


@pytest.fixture
def auth(sign_in: SignIn) -> dict[str, str]:
    """The Authorization header of a signed-in user."""
    return sign_in()
{% endif %}
