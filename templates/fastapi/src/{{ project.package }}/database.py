{% set jwt = auth == "jwt" %}
{% set pkg = project.package %}
{% if db == "postgres" %}
"""The connection to PostgreSQL: an async engine (a connection pool) and its sessions."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine


class Database:
    def __init__(self, url: str) -> None:
        # pool_pre_ping: a connection the server dropped meanwhile is replaced, not handed out.
        self.engine = create_async_engine(url, pool_pre_ping=True)
        # expire_on_commit=False: objects stay readable after a commit, to build the response.
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
{% else %}
"""The connection to MongoDB, and the indexes the repositories rely on."""

from typing import Protocol

from pymongo import ASCENDING, AsyncMongoClient

from {{ pkg }}.repositories import (
    Document,
    ItemRepository,
    MongoItemRepository,
{% if jwt %}
    MongoUserRepository,
    UserRepository,
{% endif %}
)


class Database(Protocol):
    """What the app needs from its storage: `MongoDatabase`, or `memory.InMemoryDatabase`."""

    @property
    def items(self) -> ItemRepository: ...
{% if jwt %}
    @property
    def users(self) -> UserRepository: ...
{% endif %}

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
{% if jwt %}
        self.users = MongoUserRepository(self._db["users"])
{% endif %}

    async def create_indexes(self) -> None:
        """Creates the indexes; MongoDB leaves alone those that exist already."""
        await self._db["items"].create_index([("created_at", ASCENDING)])
{% if jwt %}
        await self._db["users"].create_index("email", unique=True)
{% endif %}

    async def ping(self) -> None:
        await self._client.admin.command("ping")

    async def close(self) -> None:
        await self._client.close()
{% endif %}
