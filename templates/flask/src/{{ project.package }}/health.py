"""Probes for Docker and Kubernetes: `/health` (the process answers) and `/ready`."""

{% if db == "postgres" %}
import logging

from flask import Blueprint
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from . import db
from .openapi import describe
from .schemas import Probe

logger = logging.getLogger(__name__)
{% else %}
from flask import Blueprint
from flask.typing import ResponseReturnValue

from .openapi import describe
from .schemas import Probe
{% endif %}

bp = Blueprint("health", __name__)


@bp.get("/health")
@describe("Liveness: the process answers", answers={200: Probe})
def health() -> ResponseReturnValue:
    """Liveness: answers while the process can serve requests; never touches the database."""
    return {"status": "ok"}


@bp.get("/ready")
{% if db == "postgres" %}
@describe("Readiness: the database answers", answers={200: Probe, 503: Probe})
{% else %}
@describe("Readiness: the app answers", answers={200: Probe})
{% endif %}
def ready() -> ResponseReturnValue:
{% if db == "postgres" %}
    """Readiness: 503 until the database answers, so no traffic is sent here before."""
    try:
        with db.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        logger.warning("Not ready, the database does not answer: %s", error)
        return {"status": "unavailable", "detail": "database unreachable"}, 503
    return {"status": "ready"}
{% else %}
    """Readiness: this project has no database, so it is ready as soon as it answers."""
    return {"status": "ready"}
{% endif %}
