"""Fixtures. pytest-django runs each test in a transaction that is rolled back, on a test
database it creates: SQLite in memory, or `test_<name>` next to DATABASE_URL when that is set
(the database DATABASE_URL names is left alone).
"""

{% if auth == "jwt" %}
from datetime import timedelta

{% endif %}
import pytest
{% if auth == "jwt" %}
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import Argon2PasswordHasher
{% endif %}
{% if "ratelimit" in extras %}
from django.core.cache import cache
{% endif %}
from django.test import Client
{% if auth == "jwt" %}

from {{ project.package }}.auth import create_access_token


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 is slow on purpose; tests use its cheapest settings (still argon2id)."""
    monkeypatch.setattr(Argon2PasswordHasher, "time_cost", 1)
    monkeypatch.setattr(Argon2PasswordHasher, "memory_cost", 8)
    monkeypatch.setattr(Argon2PasswordHasher, "parallelism", 1)
{% endif %}
{% if "ratelimit" in extras %}


@pytest.fixture(autouse=True)
def reset_rate_limits() -> None:
    """Request counts live in Django's cache: every test starts with none."""
    cache.clear()
{% endif %}
{% if auth == "jwt" %}


@pytest.fixture
def anonymous(db: None) -> Client:
    """A client that sends no token."""
    return Client()


@pytest.fixture
def client(db: None) -> Client:
    """A client logged in as a fresh user: it sends `Authorization: Bearer <token>`."""
    user = get_user_model().objects.create_user("tester", password="tester-password")
    token = create_access_token(user.pk, timedelta(minutes=5))
    return Client(headers={"Authorization": f"Bearer {token}"})
{% else %}


@pytest.fixture
def client(db: None) -> Client:
    return Client()
{% endif %}
