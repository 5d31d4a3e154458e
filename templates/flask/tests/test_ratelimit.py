import re

import limits
from flask import Flask
from flask.testing import FlaskClient

from {{ project.package }}.openapi import description


def test_requests_over_the_limit_get_429_with_retry_after(app: Flask, client: FlaskClient) -> None:
    limit = limits.parse(app.config["SETTINGS"].rate_limit)

    for _ in range(limit.amount):
        assert client.get("/items").status_code == 200
    response = client.get("/items")

    assert response.status_code == 429
    assert response.is_json
    assert 0 < int(response.headers["Retry-After"]) <= limit.get_expiry()
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_the_limit_counts_all_routes_together(app: Flask, client: FlaskClient) -> None:
    allowed = limits.parse(app.config["SETTINGS"].rate_limit).amount
    for i in range(allowed):
        client.get(f"/items/{i}")
    assert client.get("/items").status_code == 429


def test_probes_are_never_limited(app: Flask, client: FlaskClient) -> None:
    allowed = limits.parse(app.config["SETTINGS"].rate_limit).amount
    for _ in range(allowed + 1):
        client.get("/items")
    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 200


def test_the_description_lists_429_exactly_where_the_limit_applies(
    app: Flask, client: FlaskClient
) -> None:
    allowed = limits.parse(app.config["SETTINGS"].rate_limit).amount
    for _ in range(allowed):
        client.get("/items")
    for path, methods in description(app)["paths"].items():
        for method, operation in methods.items():
            url = re.sub(r"\{\w+\}", "1", path)
            status = client.open(url, method=method.upper(), json={}).status_code
            assert (status == 429) == ("429" in operation["responses"]), f"{method} {path}"
