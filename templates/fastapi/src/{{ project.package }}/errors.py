{% set sql = db == "postgres" %}
"""Errors as JSON, in FastAPI's shapes: `{"detail": ...}` for every status, 500 included.

{% if sql %}
The schemas bound what the database can store (see schemas.py); a value that slips through anyway
and that the database refuses (`DataError`) is the client's mistake: a 422, not a 500.
{% endif %}
A 500 is a bug: the answer gives no details (the server logs them).
"""

import logging
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
{% if sql %}
from sqlalchemy.exc import DataError
{% endif %}

logger = logging.getLogger(__name__)

# FastAPI answers 400 to a body it cannot read (JSON that is not UTF-8, a broken form): the
# operations that take a body say so.
UNREADABLE_BODY: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body cannot be read (not UTF-8, or a malformed form)"}
}


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
{% if sql %}
    app.add_exception_handler(DataError, _data_error)
{% endif %}
    # Starlette answers an unhandled exception in plain text, then re-raises it for the server
    # to log; this handler only gives the answer the JSON shape of the others.
    app.add_exception_handler(Exception, _internal_error)
{% if sql %}


async def _data_error(request: Request, error: DataError) -> JSONResponse:
    # A value the schemas let through but the database refuses (out of range, NUL, ...). The
    # body has the shape of FastAPI's own 422, as the OpenAPI description documents it.
    logger.warning("the database refused a value: %s", error)
    detail = [{"type": "database_error", "loc": ["body"], "msg": "The database refused a value"}]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
{% endif %}


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    # FastAPI's own 422 without the `input` it echoes: that may be a password, or a number JSON
    # cannot write (1e999 reads as infinity), which would turn the 422 into a 500.
    detail = [{k: v for k, v in e.items() if k != "input"} for e in error.errors()]
    return JSONResponse(
        {"detail": jsonable_encoder(detail)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


async def _internal_error(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": "Internal Server Error"}, status_code=status.HTTP_500_INTERNAL_SERVER_ERROR
    )
