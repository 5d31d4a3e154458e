{% set pkg = project.package %}
"""Probes for Kubernetes and load balancers."""

{% if db != "none" %}
import asyncio
import logging

from fastapi import APIRouter, HTTPException, status

from {{ pkg }}.dependencies import DatabaseDep

logger = logging.getLogger(__name__)
{% else %}
from fastapi import APIRouter
{% endif %}

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers. It never touches the database."""
    return {"status": "ok"}


{% if db == "none" %}
@router.get("/ready")
async def ready() -> dict[str, str]:
    """Readiness: the data lives in memory, so the service is ready whenever it answers."""
    return {"status": "ok"}
{% else %}
@router.get("/ready", responses={503: {"description": "The database does not answer"}})
async def ready(database: DatabaseDep) -> dict[str, str]:
    """Readiness: the database answers within two seconds."""
    # The ping runs as a task of its own: when the database hangs, the answer still comes after
    # two seconds, while the driver gives up on the connection in the background.
    ping = asyncio.create_task(database.ping())
    try:
        await asyncio.wait_for(asyncio.shield(ping), timeout=2)
    except Exception as error:
        logger.warning("Not ready: the database does not answer (%r)", error)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Database unavailable") from None
    return {"status": "ok"}
{% endif %}
