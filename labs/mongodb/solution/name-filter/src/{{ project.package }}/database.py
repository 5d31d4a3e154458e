"""The connection to MongoDB, and the indexes the repositories rely on."""

from typing import Protocol

from pymongo import ASCENDING, AsyncMongoClient

from {{ project.package }}.repositories import (
    Document,
    ItemRepository,
    MongoItemRepository,
)


class Database(Protocol):
    """What the app needs from its storage: `MongoDatabase`, or `memory.InMemoryDatabase`."""

    @property
    def items(self) -> ItemRepository: ...

    async def create_indexes(self) -> None: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...


class MongoDatabase:
    def __init__(self, url: str, name: str) -> None:
        # tz_aware: datetimes come back in UTC rather than naive.
        self._client: AsyncMongoClient[Document] = AsyncMongoClient(
            url, tz_aware=True, serverSelectionTimeoutMS=5000
        )
        self._db = self._client[name]
        self.items = MongoItemRepository(self._db["items"])

    async def create_indexes(self) -> None:
        """Creates the indexes; MongoDB leaves alone those that exist already."""
        await self._db["items"].create_index([("created_at", ASCENDING)])
        # Equality on name first, then the sort key: serves GET /items?name=... without a sort
        # in memory.
        await self._db["items"].create_index([("name", ASCENDING), ("created_at", ASCENDING)])

    async def ping(self) -> None:
        await self._client.admin.command("ping")

    async def close(self) -> None:
        await self._client.close()
