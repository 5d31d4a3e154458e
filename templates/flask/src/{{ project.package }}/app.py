"""The application factory: `create_app()` builds a configured Flask app."""

import logging

from flask import Flask
{% if "ratelimit" in extras %}
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
{% endif %}

from . import {% if auth == "jwt" %}auth, {% endif %}{% if db == "postgres" %}db, {% endif %}errors, health, items, openapi{% if db == "none" %}, store{% endif %}
from .settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Settings come from the environment unless given (tests pass their own)."""
    settings = settings or Settings.from_env()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    app = Flask(__name__, static_folder=None)  # an API: no /static/<path:filename> route
    app.config.update(SECRET_KEY=settings.secret_key, SETTINGS=settings)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep fields in model order

{% if db == "postgres" %}
    db.init_app(app, settings.database_url)
{% else %}
    store.init_app(app)
{% endif %}
    errors.init_app(app)
    app.register_blueprint(health.bp)
{% if auth == "jwt" %}
    app.register_blueprint(auth.bp)
{% endif %}
    app.register_blueprint(items.bp)
{% if "ratelimit" in extras %}

    # RATE_LIMIT requests per client address over all routes but the probes. 429 responses carry
    # Retry-After; every response carries X-RateLimit-Limit/-Remaining/-Reset. The counts live in
    # this process's memory: for several processes, point storage_uri at Redis or Memcached.
    limiter = Limiter(
        get_remote_address,
        app=app,
        application_limits=[settings.rate_limit],
        headers_enabled=True,
        storage_uri="memory://",
    )
    limiter.exempt(health.bp)
    openapi.init_app(app, rate_limited_except=[health.bp])
{% else %}
    openapi.init_app(app)
{% endif %}
    return app
