{% set pkg = project.package %}
"""Probes for Kubernetes and load balancers."""

{% if db != "none" %}
import asyncio
import logging

from fastapi import APIRouter, HTTPException, status

from {{ pkg }} import LOADED_AT
from {{ pkg }}.dependencies import DatabaseDep, SettingsDep

logger = logging.getLogger(__name__)
{% else %}
from fastapi import APIRouter

from {{ pkg }} import LOADED_AT
from {{ pkg }}.dependencies import SettingsDep
{% endif %}

router = APIRouter(tags=["health"])


def ready_answer(settings: SettingsDep) -> dict[str, str | float]:
    """`{"status": "ok"}`; in development also `loaded_at`, when this process loaded the code (Unix
    time), so that a tool can wait until the reloading server serves the latest edit."""
    if settings.app_env == "development":
        return {"status": "ok", "loaded_at": LOADED_AT}
    return {"status": "ok"}


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers. It never touches the database."""
    return {"status": "ok"}


{% if db == "none" %}
@router.get("/ready")
async def ready(settings: SettingsDep) -> dict[str, str | float]:
    """Readiness: the data lives in memory, so the service is ready whenever it answers."""
    return ready_answer(settings)
{% else %}
@router.get("/ready", responses={503: {"description": "The database does not answer"}})
async def ready(database: DatabaseDep, settings: SettingsDep) -> dict[str, str | float]:
    """Readiness: the database answers within two seconds."""
    # The ping runs as a task of its own: when the database hangs, the answer still comes after
    # two seconds, while the driver gives up on the connection in the background.
    ping = asyncio.create_task(database.ping())
    try:
        await asyncio.wait_for(asyncio.shield(ping), timeout=2)
    except Exception as error:
        logger.warning("Not ready: the database does not answer (%r)", error)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Database unavailable") from None
    return ready_answer(settings)
{% endif %}
