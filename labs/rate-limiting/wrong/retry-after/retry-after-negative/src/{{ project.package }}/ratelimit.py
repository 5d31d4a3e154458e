"""Rate limiting (slowapi): at most RATE_LIMIT requests per client address, across the API.

Counters live in the process's memory, so each worker and replica counts on its own. Behind a
proxy, set FORWARDED_ALLOW_IPS to its address so uvicorn sees the client's real address.
"""

import os
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import slowapi.middleware
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from slowapi import Limiter, _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from slowapi.middleware import SlowAPIMiddleware
from slowapi.util import get_remote_address
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from {{ project.package }}.api import health


def add_rate_limiting(app: FastAPI, limit: str) -> None:
    """Limits every route but the probes: `limit` requests per client address, then 429.

    With `headers_enabled`, every answer says how much of the limit is left (X-RateLimit-*), and
    a 429 says when to try again (Retry-After, in seconds).
    """
    limiter = _limiter(
        key_func=get_remote_address, application_limits=[limit], headers_enabled=True
    )
    # Never refuse Kubernetes' probes: a busy pod is not a dead one.
    limiter.exempt(health.health)
    limiter.exempt(health.ready)
    app.state.limiter = limiter
    app.add_exception_handler(RateLimitExceeded, _too_many)  # type: ignore[arg-type]
    app.add_middleware(SlowAPIMiddleware)


def _too_many(request: Request, exc: Exception) -> JSONResponse:
    """429, with a Retry-After of its own."""
    return JSONResponse({"detail": "Too many requests"}, status_code=429, headers={"Retry-After": "-1"})


def _limiter(**options: Any) -> Limiter:
    """slowapi's Limiter with these options, leaving ./.env alone.

    slowapi reads ./.env when there is one, unless given another file. This service takes its
    settings from the environment only, and in development ./.env is the project's own (mounted
    at /app, where the app's user cannot read it): so, a file that is not there, without the
    warning that it is not there.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Config file .* not found")
        return Limiter(config_filename=os.devnull, **options)


def _find_route_handler(routes: Iterable[BaseRoute], scope: Scope) -> Callable[..., Any] | None:
    handler = None
    for route in iter_route_contexts(list(routes)):
        if route.matches(scope)[0] == Match.FULL and route.endpoint is not None:
            handler = route.endpoint
    return handler


# slowapi 0.1.10 does not see the routes FastAPI >= 0.137 adds with include_router(), and leaves
# them unlimited without a word (https://github.com/laurentS/slowapi/issues/281). Until a slowapi
# release fixes it, find them with FastAPI's own helper; tests/test_ratelimit.py checks this.
slowapi.middleware._find_route_handler = _find_route_handler
