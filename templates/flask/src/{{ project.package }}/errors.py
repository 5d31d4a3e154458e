"""Errors as JSON: `{"detail": ...}`, the same shape for every status code."""

import json

from flask import Flask
from flask.typing import ResponseReturnValue
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ValidationError, _validation_error)


def _http_error(error: HTTPException) -> Response:
    # Keeps the headers the error carries (WWW-Authenticate, Allow, Retry-After, ...).
    response = error.get_response()
    response.set_data(json.dumps({"detail": error.description}))
    response.content_type = "application/json"
    return response


def _validation_error(error: ValidationError) -> ResponseReturnValue:
    # Each error says where (`loc`) and what (`msg`); the rejected input is not echoed back.
    return {"detail": json.loads(error.json(include_url=False, include_input=False))}, 422
