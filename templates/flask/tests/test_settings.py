import logging

import pytest

{% if db == "postgres" %}
from {{ project.package }}.db import sqlalchemy_url
{% endif %}
from {{ project.package }}.settings import Settings, SettingsError

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


def test_development_needs_no_environment(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        settings = Settings.from_env({})

    assert not settings.production
    assert len(settings.secret_key) >= 32
    assert "SECRET_KEY is not set" in caplog.text
{% if auth == "jwt" %}
    assert "JWT_SECRET is not set" in caplog.text
    assert settings.jwt_secret != settings.secret_key
    assert settings.jwt_expire_minutes == 30
{% endif %}
{% if db == "postgres" %}
    assert settings.database_url.startswith("sqlite:///")
{% endif %}
{% if "ratelimit" in extras %}
    assert settings.rate_limit == "60/minute"
{% endif %}


def test_development_secrets_are_random_per_process() -> None:
    assert Settings.from_env({}).secret_key != Settings.from_env({}).secret_key


def test_production_reads_everything_from_the_environment() -> None:
    settings = Settings.from_env({**PRODUCTION, "LOG_LEVEL": "debug"})
    assert settings.production
    assert settings.secret_key == SECRET
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize("name", [name for name in PRODUCTION if name != "APP_ENV"])
def test_production_refuses_to_start_without(name: str) -> None:
    env = {key: value for key, value in PRODUCTION.items() if key != name}
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)
{% if auth == "jwt" %}


def test_production_refuses_a_short_jwt_secret() -> None:
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        Settings.from_env({**PRODUCTION, "JWT_SECRET": "secret"})
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
def test_invalid_values_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(env)
{% if db == "postgres" %}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@db:5432/app", "postgresql+psycopg://u:p@db:5432/app"),
        ("postgres://u:p@db/app", "postgresql+psycopg://u:p@db/app"),
        ("postgresql+psycopg://u:p@db/app", "postgresql+psycopg://u:p@db/app"),
        ("sqlite:///app.sqlite3", "sqlite:///app.sqlite3"),
    ],
)
def test_database_url_uses_psycopg_3(url: str, expected: str) -> None:
    assert sqlalchemy_url(url) == expected
{% endif %}
