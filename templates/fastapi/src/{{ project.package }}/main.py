{% set jwt = auth == "jwt" %}
{% set pkg = project.package %}
{% set graphql = "graphql" in extras %}
{% set ratelimit = "ratelimit" in extras %}
"""The application factory, `create_app`: uvicorn calls it to build the app (`--factory`).

{% if db == "none" %}
Nothing happens at import time: the settings are read, and the in-memory storage is made, when
the app is created.
{% else %}
Nothing happens at import time: the settings are read when the app is created, and the
connection to the database opens when it starts.
{% endif %}
"""

import logging
{% if db != "none" %}
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
{% endif %}
{% if ratelimit %}
from typing import Any
{% endif %}

from fastapi import FastAPI

from {{ pkg }}.api import {{ "auth, " if jwt else "" }}health, items
{% if graphql %}
from {{ pkg }}.api.graphql import create_graphql_router
{% endif %}
from {{ pkg }}.config import Settings
{% if db == "postgres" %}
from {{ pkg }}.database import Database
{% elif db == "mongo" %}
from {{ pkg }}.database import Database, MongoDatabase
{% endif %}
from {{ pkg }}.errors import add_error_handlers
{% if db == "none" %}
from {{ pkg }}.memory import InMemoryDatabase
{% endif %}
{% if ratelimit %}
from {{ pkg }}.ratelimit import add_rate_limiting
{% endif %}


{% if db == "mongo" %}
def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Builds the app from the environment, or from the settings and database tests pass."""
{% else %}
def create_app(settings: Settings | None = None) -> FastAPI:
    """Builds the app from the environment, or from the settings tests pass."""
{% endif %}
    if settings is None:
        settings = Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
{% if db != "none" %}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
{% if db == "postgres" %}
        app.state.database = Database(settings.sqlalchemy_url)
{% else %}
        app.state.database = database or MongoDatabase(settings.mongo_url, settings.mongo_db)
        await app.state.database.create_indexes()
{% endif %}
        try:
            yield
        finally:
            await app.state.database.close()
{% endif %}

    app = FastAPI(title={{ project.title | py }}{{ ", lifespan=lifespan" if db != "none" else "" }})
    app.state.settings = settings
    add_error_handlers(app)
{% if db == "none" %}
    app.state.database = InMemoryDatabase()
{% endif %}
{% if ratelimit %}
    # Every route but the probes is limited: its OpenAPI entry lists the 429.
    limited: dict[int | str, dict[str, Any]] = {429: {"description": "Over RATE_LIMIT"}}
{% set limited = ", responses=limited" %}
{% else %}
{% set limited = "" %}
{% endif %}
    app.include_router(health.router)
{% if jwt %}
    app.include_router(auth.router{{ limited }})
{% endif %}
    app.include_router(items.router{{ limited }})
{% if graphql %}
    app.include_router(create_graphql_router(), prefix="/graphql"{{ limited }})
{% endif %}
{% if ratelimit %}
    add_rate_limiting(app, settings.rate_limit)
{% endif %}
    return app
