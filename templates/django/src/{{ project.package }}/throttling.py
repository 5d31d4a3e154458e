"""Rate limiting: RATE_LIMIT requests per client address, over the whole API.

Counts live in Django's cache, by default this process's memory: with several processes or
containers, each counts on its own, unless CACHES points at a shared cache such as Redis.
"""

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import SimpleRateThrottle


class ClientRateThrottle(SimpleRateThrottle):
    """Over the limit, django-ninja answers 429 with a Retry-After header."""

    scope = "client"

    def __init__(self) -> None:
        super().__init__(settings.RATE_LIMIT)

    def parse_rate(self, rate: str | None) -> tuple[int, int]:
        # settings.py has parsed RATE_LIMIT already, and refuses to start if it is malformed.
        return settings.RATE_LIMIT_REQUESTS, settings.RATE_LIMIT_SECONDS

    def get_cache_key(self, request: HttpRequest) -> str:
        # The connecting address: X-Forwarded-For would let any client pick its own key.
        return self.cache_format % {"scope": self.scope, "ident": request.META["REMOTE_ADDR"]}
