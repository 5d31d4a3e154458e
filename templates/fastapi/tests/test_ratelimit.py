{% set pkg = project.package %}
"""Rate limiting: RATE_LIMIT requests per client across the API, then 429 with Retry-After."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from {{ pkg }}.config import Settings
from {{ pkg }}.main import create_app
{% if db == "mongo" %}
from {{ pkg }}.memory import InMemoryDatabase
{% endif %}


@pytest.fixture
def limited(settings: Settings) -> Iterator[TestClient]:
    """A client of an app that allows 3 requests a minute."""
    app = create_app(settings.model_copy(update={"rate_limit": "3/minute"}){{ ", InMemoryDatabase()" if db == "mongo" else "" }})
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("path", ["/items", "/items/1", {{ '"/graphql", ' if "graphql" in extras else "" }}{{ '"/auth/me", ' if auth == "jwt" else "" }}"/docs"])
def test_over_the_limit_gets_429_with_retry_after(limited: TestClient, path: str) -> None:
    statuses = [limited.get(path).status_code for _ in range(3)]
    refused = limited.get(path)

    assert 429 not in statuses
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0


def test_the_limit_is_shared_by_all_routes(limited: TestClient) -> None:
    statuses = [limited.get(path).status_code for path in ("/items", "/docs", "/items/1")]
    assert 429 not in statuses
    assert limited.get("/openapi.json").status_code == 429


def test_probes_are_never_limited(limited: TestClient) -> None:
    statuses = {limited.get(path).status_code for path in ["/health", "/ready"] * 5}
    assert statuses == {200}


def test_the_openapi_description_lists_429_except_for_the_probes(settings: Settings) -> None:
    app = create_app(settings{{ ", InMemoryDatabase()" if db == "mongo" else "" }})
    paths = app.openapi()["paths"]
    assert "429" in paths["/items"]["get"]["responses"]
    assert "429" not in paths["/health"]["get"]["responses"]
