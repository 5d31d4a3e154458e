{% if db == "postgres" %}
"""Errors as JSON: `{"detail": ...}`, the same shape for every status code, 500 included.

The schemas bound what the database can store (see schemas.py); a value that slips through anyway
and that the database refuses (`DataError`) is the client's mistake: a 422, not a 500.
"""
{% else %}
"""Errors as JSON: `{"detail": ...}`, the same shape for every status code, 500 included."""
{% endif %}

import json
{% if db == "postgres" %}
import logging
{% endif %}

from flask import Flask
from flask.typing import ResponseReturnValue
from pydantic import ValidationError
{% if db == "postgres" %}
from sqlalchemy.exc import DataError
{% endif %}
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
{% if db == "postgres" %}

logger = logging.getLogger(__name__)
{% endif %}


def init_app(app: Flask) -> None:
    # An unhandled exception reaches _http_error too, as an InternalServerError.
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ValidationError, _validation_error)
{% if db == "postgres" %}
    app.register_error_handler(DataError, _data_error)
{% endif %}


def _http_error(error: HTTPException) -> Response:
    # Keeps the headers the error carries (WWW-Authenticate, Allow, Retry-After, ...).
    response = error.get_response()
    response.set_data(json.dumps({"detail": error.description}))
    response.content_type = "application/json"
    return response


def _validation_error(error: ValidationError) -> ResponseReturnValue:
    # Each error says where (`loc`) and what (`msg`); the rejected input is not echoed back.
    return {"detail": json.loads(error.json(include_url=False, include_input=False))}, 422
{% if db == "postgres" %}


def _data_error(error: DataError) -> ResponseReturnValue:
    logger.warning("the database refused a value: %s", error.orig)
    detail = [{"type": "database_error", "loc": [], "msg": "The database refused a value"}]
    return {"detail": detail}, 422
{% endif %}
