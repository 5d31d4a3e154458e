"""Settings, read from environment variables only.

Nothing here reads a `.env` file: Docker Compose, Kubernetes or your shell provide the
environment. Development works without any variable set; production (`APP_ENV=production`)
refuses to start without its secrets rather than run with made-up ones.
"""

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

{% if "ratelimit" in extras %}
import limits
{% endif %}
from flask import current_app

logger = logging.getLogger(__name__)

ENVIRONMENTS = ("development", "production")
MIN_SECRET_LENGTH = 32


class SettingsError(RuntimeError):
    """The environment does not hold a usable configuration."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Each field comes from the environment variable of the same name in upper case."""

    app_env: str = "development"
    log_level: str = "INFO"
    secret_key: str
{% if db == "postgres" %}
    database_url: str
{% endif %}
{% if auth == "jwt" %}
    jwt_secret: str
    jwt_expire_minutes: int = 30
{% endif %}
{% if "ratelimit" in extras %}
    rate_limit: str = "60/minute"
{% endif %}

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        env = os.environ if env is None else env
        app_env = env.get("APP_ENV", "development")
        if app_env not in ENVIRONMENTS:
            raise SettingsError(f"APP_ENV must be development or production, not {app_env!r}")
        production = app_env == "production"
        log_level = env.get("LOG_LEVEL", "INFO").upper()
        if log_level not in logging.getLevelNamesMapping():
            raise SettingsError(
                f"unknown LOG_LEVEL {log_level!r}: use DEBUG, INFO, WARNING or ERROR"
            )
        return cls(
            app_env=app_env,
            log_level=log_level,
            secret_key=_secret(env, "SECRET_KEY", production),
{% if db == "postgres" %}
            database_url=database_url_from_env(env),
{% endif %}
{% if auth == "jwt" %}
            jwt_secret=_secret(env, "JWT_SECRET", production),
            jwt_expire_minutes=_positive_int(env, "JWT_EXPIRE_MINUTES", 30),
{% endif %}
{% if "ratelimit" in extras %}
            rate_limit=_rate_limit(env),
{% endif %}
        )


def current_settings() -> Settings:
    """The settings of the app that handles the current request."""
    settings: Settings = current_app.config["SETTINGS"]
    return settings
{% if db == "postgres" %}


def database_url_from_env(env: Mapping[str, str] | None = None) -> str:
    """`DATABASE_URL`; in development a SQLite file in the current folder when it is unset."""
    env = os.environ if env is None else env
    url = env.get("DATABASE_URL", "")
    if url:
        return url
    if env.get("APP_ENV", "development") == "production":
        raise SettingsError("DATABASE_URL must be set when APP_ENV=production")
    return "sqlite:///{{ project.package }}.sqlite3"
{% endif %}


def _secret(env: Mapping[str, str], name: str, production: bool) -> str:
    value = env.get(name, "")
    if production and len(value) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"{name} must be set to at least {MIN_SECRET_LENGTH} random characters "
            "when APP_ENV=production"
        )
    if value:
        return value
    logger.warning(
        "%s is not set: using a random value that lasts as long as this process "
        "(fine for development, never for production)",
        name,
    )
    return secrets.token_urlsafe(32)
{% if auth == "jwt" %}


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SettingsError(f"{name} must be a positive whole number, not {raw!r}")
    return value
{% endif %}
{% if "ratelimit" in extras %}


def _rate_limit(env: Mapping[str, str]) -> str:
    value = env.get("RATE_LIMIT", "60/minute")
    try:
        limits.parse_many(value)
    except ValueError:
        raise SettingsError(
            f"RATE_LIMIT must look like '60/minute' or '1000 per hour', not {value!r}"
        ) from None
    return value
{% endif %}
