"""The HTTP API, built with django-ninja: OpenAPI docs at /docs, errors as `{"detail": ...}`.

Every error is JSON, 500 included. The schemas bound what the database can store (see
schemas.py); a value that slips through anyway and that the database refuses (`DataError`) is
the client's mistake: a 422, not a 500.
"""

import logging
from typing import Any

from django.db import DataError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
{% if auth == "jwt" %}
from ninja.errors import AuthenticationError
{% endif %}

{% if auth == "jwt" %}
from . import auth, items
{% else %}
from . import items
{% endif %}
{% if "ratelimit" in extras %}
from .throttling import ClientRateThrottle
{% endif %}

logger = logging.getLogger(__name__)

_ERROR = {
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"detail": {}}, "required": ["detail"]},
        }
    }
}


class DocumentedAPI(NinjaAPI):
    """A NinjaAPI whose OpenAPI description lists the errors too, not only the successes."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                errors = operation["responses"]
                if "requestBody" in operation:
                    errors.setdefault(400, {"description": "The body is not JSON", **_ERROR})
                if operation.get("security"):
                    errors.setdefault(401, {"description": "No valid bearer token", **_ERROR})
                if "{" in path:
                    errors.setdefault(404, {"description": "No such object", **_ERROR})
                if "requestBody" in operation or operation.get("parameters"):
                    errors.setdefault(422, {"description": "Validation error", **_ERROR})
{% if "ratelimit" in extras %}
                errors.setdefault(429, {"description": "Over RATE_LIMIT", **_ERROR})
{% endif %}
        return schema


api = DocumentedAPI(
    title="{{ project.title }}",
    version="0.1.0",
    urls_namespace="api",
{% if "ratelimit" in extras %}
    throttle=[ClientRateThrottle()],
{% endif %}
)
api.add_router("/items", items.router)
{% if auth == "jwt" %}
api.add_router("/auth", auth.router)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    response = api.create_response(request, {"detail": error.message}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response
{% endif %}


@api.exception_handler(DataError)
def refused_by_the_database(request: HttpRequest, error: DataError) -> HttpResponse:
    logger.warning("the database refused a value: %s", error)
    detail = [{"type": "database_error", "loc": [], "msg": "The database refused a value"}]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(Exception)
def server_error(request: HttpRequest, error: Exception) -> HttpResponse:
    # django-ninja would answer a traceback in plain text when DEBUG is on: a bug is logged, and
    # answered in JSON like every other error.
    logger.exception("unhandled error in %s %s", request.method, request.path, exc_info=error)
    return api.create_response(request, {"detail": "Internal Server Error"}, status=500)
