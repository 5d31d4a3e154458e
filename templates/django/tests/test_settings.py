"""settings.py, run again with a chosen environment (the running Django keeps its settings)."""

import importlib
import logging
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
from django.core.exceptions import ImproperlyConfigured

from {{ project.package }} import settings as settings_module

SECRET = "s" * 32
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": SECRET,
{% if db == "postgres" %}
    "DATABASE_URL": "postgresql://{{ project.package }}:pw@postgres:5432/{{ project.package }}",
{% endif %}
{% if auth == "jwt" %}
    "JWT_SECRET": SECRET,
{% endif %}
}
VARIABLES = [
    "APP_ENV",
    "LOG_LEVEL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
{% if db == "postgres" %}
    "DATABASE_URL",
{% endif %}
{% if auth == "jwt" %}
    "JWT_SECRET",
    "JWT_EXPIRE_MINUTES",
{% endif %}
{% if "ratelimit" in extras %}
    "RATE_LIMIT",
{% endif %}
]

Loader = Callable[[dict[str, str]], ModuleType]


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch) -> Iterator[Loader]:
    def load(env: dict[str, str]) -> ModuleType:
        for name in VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return importlib.reload(settings_module)

    yield load
    monkeypatch.undo()
    importlib.reload(settings_module)


def test_development_needs_no_environment(load: Loader, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        settings = load({})

    assert settings.DEBUG
    assert len(settings.SECRET_KEY) >= 50
    assert "SECRET_KEY is not set" in caplog.text
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
{% if auth == "jwt" %}
    assert "JWT_SECRET is not set" in caplog.text
    assert settings.JWT_SECRET != settings.SECRET_KEY
    assert settings.JWT_EXPIRE_MINUTES == 30
{% endif %}
{% if "ratelimit" in extras %}
    assert (settings.RATE_LIMIT_REQUESTS, settings.RATE_LIMIT_SECONDS) == (60, 60)
{% endif %}


def test_development_secrets_are_random_per_process(load: Loader) -> None:
    assert load({}).SECRET_KEY != load({}).SECRET_KEY


def test_production_reads_everything_from_the_environment(load: Loader) -> None:
    settings = load({**PRODUCTION, "ALLOWED_HOSTS": "api.example.com,.example.org"})

    assert not settings.DEBUG
    assert settings.SECRET_KEY == SECRET
    assert settings.ALLOWED_HOSTS == ["api.example.com", ".example.org"]
{% if db == "postgres" %}
    database = settings.DATABASES["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["HOST"] == "postgres"
    assert database["NAME"] == "{{ project.package }}"
{% endif %}


@pytest.mark.parametrize("name", [name for name in PRODUCTION if name != "APP_ENV"])
def test_production_refuses_to_start_without(load: Loader, name: str) -> None:
    env = {key: value for key, value in PRODUCTION.items() if key != name}
    with pytest.raises(ImproperlyConfigured, match=name):
        load(env)
{% if auth == "jwt" %}


def test_production_refuses_a_short_jwt_secret(load: Loader) -> None:
    with pytest.raises(ImproperlyConfigured, match="JWT_SECRET"):
        load({**PRODUCTION, "JWT_SECRET": "secret"})


def test_argon2_hashes_new_passwords(load: Loader) -> None:
    assert load({}).PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
{% endif %}
{% if "ratelimit" in extras %}


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("5/second", (5, 1)), ("100 per hour", (100, 3600)), ("1000/days", (1000, 86400))],
)
def test_rate_limit_formats(load: Loader, rate: str, parsed: tuple[int, int]) -> None:
    settings = load({"RATE_LIMIT": rate})
    assert parsed == (settings.RATE_LIMIT_REQUESTS, settings.RATE_LIMIT_SECONDS)
{% endif %}


@pytest.mark.parametrize(
    "env",
    [
        {"APP_ENV": "staging"},
        {"LOG_LEVEL": "chatty"},
{% if auth == "jwt" %}
        {"JWT_EXPIRE_MINUTES": "0"},
        {"JWT_EXPIRE_MINUTES": "soon"},
{% endif %}
{% if "ratelimit" in extras %}
        {"RATE_LIMIT": "lots"},
{% endif %}
    ],
)
def test_invalid_values_are_refused(load: Loader, env: dict[str, str]) -> None:
    with pytest.raises(ImproperlyConfigured):
        load(env)
