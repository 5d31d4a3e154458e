"""The HTTP API, built with django-ninja: OpenAPI docs at /docs, errors as `{"detail": ...}`.

Every error is JSON, 500 included. The schemas bound what the database can store (see
schemas.py); a value that slips through anyway and that the database refuses (`DataError`) is
the client's mistake: a 422, not a 500.
"""

import logging

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

api = NinjaAPI(
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
