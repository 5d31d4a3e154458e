{% if db == "postgres" %}
"""Fixtures: a fresh app for every test, on SQLite or, when DATABASE_URL is set, on PostgreSQL.

With DATABASE_URL set the tests leave that database alone: like Django's test runner, they
create a `test_<name>` database on the same server and drop it at the end.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
{% if auth == "jwt" %}
from datetime import timedelta
{% endif %}

import pytest
{% if auth == "jwt" %}
from argon2 import PasswordHasher
{% endif %}
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

{% if auth == "jwt" %}
from {{ project.package }} import auth
{% endif %}
from {{ project.package }}.app import create_app
from {{ project.package }}.db import sqlalchemy_url
from {{ project.package }}.migrate import upgrade
from {{ project.package }}.models import Base
from {{ project.package }}.settings import Settings
{% if auth == "jwt" %}
from {{ project.package }}.store import user_store
{% endif %}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to the latest schema, for the whole test session."""
    if "DATABASE_URL" in os.environ:
        with _throwaway_database(os.environ["DATABASE_URL"]) as url:
            upgrade(url)
            yield url
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        upgrade(url)
        yield url


@contextmanager
def _throwaway_database(server_url: str) -> Iterator[str]:
    url = make_url(sqlalchemy_url(server_url))
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


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        secret_key="test-secret-key-0123456789abcdef",
        database_url=database_url,
{% if auth == "jwt" %}
        jwt_secret="test-jwt-secret-0123456789abcdef",
{% endif %}
{% if "ratelimit" in extras %}
        rate_limit="5/minute",
{% endif %}
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    yield app
    # Empty every table, so each test starts from a clean database.
    engine = app.extensions["db_engine"]
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()
{% else %}
"""Fixtures: a fresh app, with empty in-memory storage, for every test."""

{% if auth == "jwt" %}
from datetime import timedelta

{% endif %}
import pytest
{% if auth == "jwt" %}
from argon2 import PasswordHasher
{% endif %}
from flask import Flask
from flask.testing import FlaskClient

{% if auth == "jwt" %}
from {{ project.package }} import auth
{% endif %}
from {{ project.package }}.app import create_app
from {{ project.package }}.settings import Settings
{% if auth == "jwt" %}
from {{ project.package }}.store import user_store
{% endif %}


@pytest.fixture
def settings() -> Settings:
    return Settings(
        secret_key="test-secret-key-0123456789abcdef",
{% if auth == "jwt" %}
        jwt_secret="test-jwt-secret-0123456789abcdef",
{% endif %}
{% if "ratelimit" in extras %}
        rate_limit="5/minute",
{% endif %}
    )


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings)
{% endif %}
{% if auth == "jwt" %}


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 is slow on purpose; tests use its cheapest settings (still argon2id)."""
    monkeypatch.setattr(auth, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    """A client that sends no token."""
    return app.test_client()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A client logged in as a fresh user: it sends `Authorization: Bearer <token>`."""
    with app.app_context():
        user = user_store().create("tester", auth.hasher.hash("tester-password"))
        token = auth.create_access_token(user.id, timedelta(minutes=5))
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client
{% else %}


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
{% endif %}
