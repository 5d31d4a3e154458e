{% set pkg = project.package %}
{% if db == "none" %}
"""The probes: /health and /ready (always ready: the data lives in memory)."""
{% else %}
"""The probes: /health never touches the database; /ready does."""
{% endif %}

{% if db == "mongo" %}
import os

import pytest
{% endif %}
from fastapi.testclient import TestClient
{% if db == "mongo" %}
from pymongo import MongoClient
from pymongo.errors import ConnectionFailure
{% endif %}

from {{ pkg }} import LOADED_AT
from {{ pkg }}.config import Settings
from {{ pkg }}.main import create_app
{% if db == "mongo" %}
from {{ pkg }}.memory import InMemoryDatabase


class UnreachableDatabase(InMemoryDatabase):
    async def ping(self) -> None:
        raise ConnectionFailure("connection refused")
{% endif %}


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_in_development_says_when_the_code_was_loaded(settings: Settings) -> None:
    development = settings.model_copy(update={"app_env": "development"})
    with TestClient(create_app(development{{ ", InMemoryDatabase()" if db == "mongo" else "" }})) as client:
        response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "loaded_at": LOADED_AT}


def test_ready_in_production_says_only_that_it_is_ready(settings: Settings) -> None:
    production = settings.model_copy(update={"app_env": "production"})
    with TestClient(create_app(production{{ ", InMemoryDatabase()" if db == "mongo" else "" }})) as client:
        response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
{% if db == "postgres" %}


def test_ready_fails_when_the_database_does_not_answer(settings: Settings) -> None:
    down = settings.model_copy(update={"database_url": "postgresql://app:secret@127.0.0.1:1/app"})
    with TestClient(create_app(down)) as client:
        assert client.get("/ready").status_code == 503
        assert client.get("/health").status_code == 200
{% elif db == "mongo" %}


def test_ready_fails_when_the_database_does_not_answer(settings: Settings) -> None:
    with TestClient(create_app(settings, UnreachableDatabase())) as client:
        assert client.get("/ready").status_code == 503
        assert client.get("/health").status_code == 200


class RecordingDatabase(InMemoryDatabase):
    indexed = False

    async def create_indexes(self) -> None:
        self.indexed = True


def test_startup_creates_the_indexes(settings: Settings) -> None:
    database = RecordingDatabase()
    with TestClient(create_app(settings, database)):
        assert database.indexed


@pytest.mark.skipif(not os.environ.get("MONGO_URL"), reason="needs MongoDB: set MONGO_URL")
def test_indexes_exist_in_mongodb(client: TestClient, settings: Settings) -> None:
    with MongoClient(settings.mongo_url) as mongo:
        database = mongo[settings.mongo_db]
        # Compare keys, not names: names are the server's choice.
        item_keys = [index["key"] for index in database["items"].index_information().values()]
        assert [("created_at", 1)] in item_keys
{% if auth == "jwt" %}
        users = database["users"].index_information().values()
        assert any(index["key"] == [("email", 1)] and index.get("unique") for index in users)
{% endif %}
{% endif %}
