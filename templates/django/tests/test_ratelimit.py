from django.conf import settings
from django.test import Client


def test_requests_over_the_limit_get_429_with_retry_after(client: Client) -> None:
    for _ in range(settings.RATE_LIMIT_REQUESTS):
        assert client.get("/items").status_code == 200
    response = client.get("/items")

    assert response.status_code == 429
    assert response.json() == {"detail": "Too many requests."}
    assert 0 < int(response.headers["Retry-After"]) <= settings.RATE_LIMIT_SECONDS


def test_the_limit_counts_all_routes_together(client: Client) -> None:
    for i in range(settings.RATE_LIMIT_REQUESTS):
        client.get(f"/items/{i}")
    assert client.get("/items").status_code == 429


def test_probes_are_never_limited(client: Client) -> None:
    for _ in range(settings.RATE_LIMIT_REQUESTS + 1):
        client.get("/items")
    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 200
