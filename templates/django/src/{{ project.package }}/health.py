"""Probes for Docker and Kubernetes: `/health` (the process answers) and `/ready`.

They are answered by this middleware, first in MIDDLEWARE, before Django checks the Host header
against ALLOWED_HOSTS: Kubernetes sends probes with the pod's IP address as Host, which
ALLOWED_HOSTS rightly does not list. They are not rate limited either.
"""

import logging
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/health":
            # Liveness: the process answers. Never touches the database.
            return JsonResponse({"status": "ok"})
        if request.path == "/ready":
            return ready()
        return self.get_response(request)


def ready() -> JsonResponse:
    """Readiness: 503 until the database answers, so no traffic is sent here before."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("Not ready, the database does not answer: %s", error)
        return JsonResponse({"status": "unavailable", "detail": "database unreachable"}, status=503)
    return JsonResponse({"status": "ready"})
