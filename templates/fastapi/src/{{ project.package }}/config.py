"""Settings, read from environment variables only (a `.env` file is never loaded)."""

{% set jwt = auth == "jwt" %}
{% if jwt %}
import logging
import secrets
{% endif %}
from typing import Literal{{ ", Self" if jwt else "" }}

{% if "ratelimit" in extras %}
from limits import parse_many
{% endif %}
from pydantic import {{ "Field, SecretStr, " if jwt else "" }}field_validator{{ ", model_validator" if jwt else "" }}
from pydantic_settings import BaseSettings
{% if auth == "jwt" %}

logger = logging.getLogger(__name__)
{% endif %}


class Settings(BaseSettings):
    """Each field is read from the environment variable of the same name in upper case."""

    app_env: Literal["development", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
{% if db == "postgres" %}
    # libpq form, as psql and the postgres image use it: postgresql://USER:PASSWORD@HOST:5432/DB
    database_url: str
{% elif db == "mongo" %}
    mongo_url: str
    mongo_db: str = {{ project.package | py }}
{% endif %}
{% if auth == "jwt" %}
    jwt_secret: SecretStr = SecretStr("")
    jwt_expire_minutes: int = Field(default=30, gt=0)
{% endif %}
{% if "ratelimit" in extras %}
    # Per client address, across the whole API: "60/minute", "1000/hour", "10/second;200/hour"
    rate_limit: str = "60/minute"
{% endif %}

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
{% if "ratelimit" in extras %}

    @field_validator("rate_limit")
    @classmethod
    def _parse_rate_limit(cls, value: str) -> str:
        parse_many(value)  # raises ValueError on a malformed limit, at startup
        return value
{% endif %}
{% if auth == "jwt" %}

    @model_validator(mode="after")
    def _require_jwt_secret(self) -> Self:
        secret = self.jwt_secret.get_secret_value()
        if secret and len(secret) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters (HS256 needs 256 bits)")
        if not secret and self.app_env == "production":
            raise ValueError("JWT_SECRET must be set when APP_ENV=production")
        if not secret:
            logger.warning(
                "JWT_SECRET is not set: signing tokens with a random key, "
                "so they stop working when the process restarts"
            )
            self.jwt_secret = SecretStr(secrets.token_urlsafe(48))
        return self
{% endif %}
{% if db == "postgres" %}

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL with the driver SQLAlchemy should use: psycopg 3 for PostgreSQL."""
        scheme, sep, rest = self.database_url.partition("://")
        if scheme in ("postgres", "postgresql"):
            return f"postgresql+psycopg{sep}{rest}"
        return self.database_url
{% endif %}
