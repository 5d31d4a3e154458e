"""The application factory: `uvicorn {{ project.package }}.main:create_app --factory`.

Nothing happens at import time: the settings are read, and the in-memory storage is made, when
the app is created.
"""

import logging

from fastapi import FastAPI

from {{ project.package }}.api import health, inventory, items
from {{ project.package }}.config import Settings
from {{ project.package }}.errors import add_error_handlers
from {{ project.package }}.memory import InMemoryDatabase


def create_app(settings: Settings | None = None) -> FastAPI:
    """Builds the app from the environment, or from the settings tests pass."""
    if settings is None:
        settings = Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    app = FastAPI(title="Lab Testing Linting")
    app.state.settings = settings
    add_error_handlers(app)
    app.state.database = InMemoryDatabase()
    app.include_router(health.router)
    app.include_router(items.router)
    app.include_router(inventory.router)
    return app
