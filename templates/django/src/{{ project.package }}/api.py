"""The HTTP API, built with django-ninja: OpenAPI docs at /docs, errors as `{"detail": ...}`."""

{% if auth == "jwt" %}
from django.http import HttpRequest, HttpResponse
{% endif %}
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
