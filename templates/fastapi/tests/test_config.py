{% set jwt = auth == "jwt" %}
{% set pkg = project.package %}
"""Settings come from the environment only; production refuses to start without its secrets."""

{% if jwt %}
import logging
{% endif %}
from pathlib import Path

import pytest
from pydantic import ValidationError

from {{ pkg }}.config import Settings

{% if db == "postgres" %}
REQUIRED = {"database_url": "postgresql://app:secret@db:5432/app"}
{% elif db == "mongo" %}
REQUIRED = {"mongo_url": "mongodb://app:secret@mongo:27017/?authSource=admin"}
{% else %}
REQUIRED: dict[str, str] = {}
{% endif %}
{% if jwt %}
SECRET = "0123456789abcdef" * 4
{% endif %}


def test_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
{% if db == "postgres" %}
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:secret@db:5432/app")
{% elif db == "mongo" %}
    monkeypatch.setenv("MONGO_DB", "catalog")
{% endif %}
{% if jwt %}
    monkeypatch.setenv("JWT_EXPIRE_MINUTES", "5")
{% endif %}
{% if "ratelimit" in extras %}
    monkeypatch.setenv("RATE_LIMIT", "100/hour")
{% endif %}

{% if db == "mongo" %}
    settings = Settings(mongo_url="mongodb://mongo:27017")
{% else %}
    settings = Settings()
{% endif %}

    assert settings.log_level == "DEBUG"
{% if db == "postgres" %}
    assert settings.database_url == "postgresql://app:secret@db:5432/app"
{% elif db == "mongo" %}
    assert settings.mongo_db == "catalog"
{% endif %}
{% if jwt %}
    assert settings.jwt_expire_minutes == 5
{% endif %}
{% if "ratelimit" in extras %}
    assert settings.rate_limit == "100/hour"
{% endif %}


def test_never_reads_a_dotenv_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    Path(tmp_path, ".env").write_text("LOG_LEVEL=ERROR\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    assert Settings(**REQUIRED).log_level == "INFO"


def test_refuses_an_unknown_app_env() -> None:
    with pytest.raises(ValidationError, match="app_env"):
        Settings(app_env="staging", **REQUIRED)
{% if db == "postgres" %}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://app:pw@db:5432/app", "postgresql+psycopg://app:pw@db:5432/app"),
        ("postgres://app:pw@db/app", "postgresql+psycopg://app:pw@db/app"),
        ("sqlite+aiosqlite:///test.db", "sqlite+aiosqlite:///test.db"),
    ],
)
def test_database_url_gets_the_psycopg_driver(url: str, expected: str) -> None:
    assert Settings(database_url=url).sqlalchemy_url == expected
{% endif %}
{% if jwt %}


def test_production_requires_a_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="JWT_SECRET must be set"):
        Settings(app_env="production", **REQUIRED)
    assert Settings(app_env="production", jwt_secret=SECRET, **REQUIRED).jwt_secret


def test_development_signs_with_a_random_key(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    with caplog.at_level(logging.WARNING):
        first, second = Settings(**REQUIRED), Settings(**REQUIRED)

    assert len(first.jwt_secret.get_secret_value()) >= 32
    assert first.jwt_secret != second.jwt_secret
    assert "JWT_SECRET is not set" in caplog.text


def test_refuses_a_short_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(jwt_secret="too-short", **REQUIRED)
{% endif %}
{% if "ratelimit" in extras %}


def test_refuses_a_malformed_rate_limit() -> None:
    with pytest.raises(ValidationError, match="rate_limit"):
        Settings(rate_limit="lots", **REQUIRED)
{% endif %}
