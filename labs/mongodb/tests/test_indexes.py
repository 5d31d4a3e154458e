"""The indexes `MongoDatabase.create_indexes` asks MongoDB for, recorded without a server.

MongoDB keeps an index after the code that made it is gone, so the collection's indexes alone
cannot tell what the code creates; these tests ask the code.
"""

import asyncio
from typing import Any

import pytest
from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection

from {{ project.package }}.database import MongoDatabase

Keys = list[tuple[str, Any]]


@pytest.fixture
def created(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Keys]]:
    """The keys of every index created, by collection, through either pymongo call."""
    made: dict[str, list[Keys]] = {}

    def record(collection: AsyncCollection[Any], model: IndexModel) -> str:
        made.setdefault(collection.name, []).append(list(model.document["key"].items()))
        return str(model.document["name"])

    async def create_index(self: AsyncCollection[Any], keys: Any, **kwargs: Any) -> str:
        return record(self, IndexModel(keys, **kwargs))

    async def create_indexes(
        self: AsyncCollection[Any], indexes: list[IndexModel], *args: Any, **kwargs: Any
    ) -> list[str]:
        return [record(self, model) for model in indexes]

    monkeypatch.setattr(AsyncCollection, "create_index", create_index)
    monkeypatch.setattr(AsyncCollection, "create_indexes", create_indexes)

    async def run() -> None:
        # No server: the client connects lazily, and creating an index is all it is asked.
        database = MongoDatabase("mongodb://127.0.0.1:9/", "labforge_index_probe")
        try:
            await database.create_indexes()
        finally:
            await database.close()

    asyncio.run(run())
    return made


def test_the_name_query_has_its_compound_index(created: dict[str, list[Keys]]) -> None:
    items = created.get("items", [])
    assert [("name", 1), ("created_at", 1)] in items, (
        f"create_indexes() makes no index on (name, created_at), in that order: it makes {items}"
    )


def test_the_unfiltered_list_keeps_its_index(created: dict[str, list[Keys]]) -> None:
    items = created.get("items", [])
    assert [("created_at", 1)] in items, (
        f"create_indexes() no longer makes the index on created_at alone: it makes {items}"
    )
