{% set jwt = auth == "jwt" %}
{% set pkg = project.package %}
{% set mongo = db == "mongo" %}
{% set id_type = "str" if mongo else "int" %}
{% if mongo %}
"""In-memory repositories: the tests' stand-in for MongoDB when MONGO_URL is not set.

They behave like the MongoDB ones: string ids that look like ObjectIds, oldest first.
"""
{% else %}
"""In-memory storage: the service keeps its data in this process, as long as it runs.

Each worker process has its own copy and a restart forgets everything; pick `--db postgres`
or `--db mongo` for data that lasts.
"""
{% endif %}

import dataclasses
{% if not mongo %}
import itertools
{% endif %}
from datetime import UTC, datetime
from typing import Any

{% if mongo %}
from bson import ObjectId

{% endif %}
from {{ pkg }}.models import Item{{ ", User" if jwt else "" }}
from {{ pkg }}.schemas import ItemCreate
{% if mongo %}
{% set new_id = "str(ObjectId())" %}
{% else %}
{% set new_id = "next(self._ids)" %}
{% endif %}


class InMemoryItemRepository:
    def __init__(self) -> None:
        self._items: dict[{{ id_type }}, Item] = {}
{% if not mongo %}
        self._ids = itertools.count(1)
{% endif %}

    async def get_many(self, *, offset: int, limit: int) -> list[Item]:
        return list(self._items.values())[offset : offset + limit]

    async def get(self, item_id: {{ id_type }}) -> Item | None:
        return self._items.get(item_id)

    async def create(self, data: ItemCreate) -> Item:
        item = Item(id={{ new_id }}, created_at=datetime.now(UTC), **data.model_dump())
        self._items[item.id] = item
        return item

    async def update(self, item_id: {{ id_type }}, changes: dict[str, Any]) -> Item | None:
        if item_id not in self._items:
            return None
        item = self._items[item_id] = dataclasses.replace(self._items[item_id], **changes)
        return item

    async def delete(self, item_id: {{ id_type }}) -> bool:
        return self._items.pop(item_id, None) is not None
{% if jwt %}


class InMemoryUserRepository:
    def __init__(self) -> None:
        self._users: dict[{{ id_type }}, User] = {}
{% if not mongo %}
        self._ids = itertools.count(1)
{% endif %}

    async def get(self, user_id: {{ id_type }}) -> User | None:
        return self._users.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        return next((user for user in self._users.values() if user.email == email), None)

    async def create(self, *, email: str, hashed_password: str) -> User | None:
        """Adds a user; `None` when the email is already registered."""
        if await self.get_by_email(email) is not None:
            return None
        user = User(
            id={{ new_id }},
            email=email,
            hashed_password=hashed_password,
            created_at=datetime.now(UTC),
        )
        self._users[user.id] = user
        return user
{% endif %}


class InMemoryDatabase:
    def __init__(self) -> None:
        self.items = InMemoryItemRepository()
{% if jwt %}
        self.users = InMemoryUserRepository()
{% endif %}
{% if mongo %}

    async def create_indexes(self) -> None:
        """Nothing to index in memory."""

    async def ping(self) -> None:
        """Memory always answers."""

    async def close(self) -> None:
        """Nothing to close."""
{% endif %}
