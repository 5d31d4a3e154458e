"""Django settings, read from environment variables only.

Nothing here reads a `.env` file: Docker Compose, Kubernetes or your shell provide the
environment. Development works without any variable set; production (`APP_ENV=production`)
turns DEBUG off and refuses to start without its secrets rather than run with made-up ones.
"""

import logging
import os
{% if "ratelimit" in extras %}
import re
{% endif %}
import secrets
{% if db == "none" %}
import tempfile
from pathlib import Path
{% endif %}

{% if db == "postgres" %}
import dj_database_url
{% endif %}
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

APP_ENV = os.environ.get("APP_ENV", "development")
if APP_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"APP_ENV must be development or production, not {APP_ENV!r}")
PRODUCTION = APP_ENV == "production"
MIN_SECRET_LENGTH = 32


def _secret(name: str) -> str:
    value = os.environ.get(name, "")
    if PRODUCTION and len(value) < MIN_SECRET_LENGTH:
        raise ImproperlyConfigured(
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
    return secrets.token_urlsafe(48)
{% if auth == "jwt" %}


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be a positive whole number, not {raw!r}")
    return value
{% endif %}
{% if "ratelimit" in extras %}


def _rate(text: str) -> tuple[int, int]:
    """'60/minute' (or '60 per minute') as (60 requests, 60 seconds)."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:/|per)\s*(second|minute|hour|day)s?\s*", text)
    if match is None:
        raise ImproperlyConfigured(f"RATE_LIMIT must look like '60/minute', not {text!r}")
    seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[match[2]]
    return int(match[1]), seconds
{% endif %}


DEBUG = not PRODUCTION
SECRET_KEY = _secret("SECRET_KEY")
# Host names this server answers to, comma-separated (`.example.com` includes subdomains). The
# probes /health and /ready answer any host: Kubernetes sends them with the pod's IP address.
ALLOWED_HOSTS = os.environ.get(
    "ALLOWED_HOSTS",
    ".localhost,127.0.0.1,[::1],{{ project.dns }}",
).split(",")

INSTALLED_APPS = [
{% if auth == "jwt" %}
    "django.contrib.auth",
    "django.contrib.contenttypes",
{% endif %}
    "{{ project.package }}",
]

MIDDLEWARE = [
    "{{ project.package }}.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "{{ project.package }}.urls"
WSGI_APPLICATION = "{{ project.package }}.wsgi.application"
# For the API's /docs page (Swagger UI, loaded from a CDN), which django-ninja renders this way.
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates"}]

{% if db == "postgres" %}
# DATABASE_URL is postgresql://USER:PASSWORD@HOST:5432/NAME. Without it, development uses a
# SQLite file in the current folder; production refuses to start.
if PRODUCTION and not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("DATABASE_URL must be set when APP_ENV=production")
DATABASES = {
    "default": dj_database_url.config(
        default="sqlite:///{{ project.package }}.sqlite3",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
{% else %}
# No database server (`labforge new --db none`): Django keeps its data in a SQLite file in the
# temporary folder (the one writable place in the container). It lasts as long as the container,
# and each container has its own; wsgi.py creates the tables when the server starts.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": Path(tempfile.gettempdir()) / "{{ project.package }}.sqlite3",
    }
}
{% endif %}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
{% if auth == "jwt" %}

# Argon2 first: new passwords are hashed with it; older hashes still verify and get upgraded.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

JWT_SECRET = _secret("JWT_SECRET")
JWT_EXPIRE_MINUTES = _positive_int("JWT_EXPIRE_MINUTES", 30)
{% endif %}
{% if "ratelimit" in extras %}

# Requests per client address, counted in this process's memory (Django's local-memory cache).
RATE_LIMIT = os.environ.get("RATE_LIMIT", "60/minute")
RATE_LIMIT_REQUESTS, RATE_LIMIT_SECONDS = _rate(RATE_LIMIT)
{% endif %}

USE_TZ = True
TIME_ZONE = "UTC"

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in logging.getLevelNamesMapping():
    raise ImproperlyConfigured(
        f"unknown LOG_LEVEL {LOG_LEVEL!r}: use DEBUG, INFO, WARNING or ERROR"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
