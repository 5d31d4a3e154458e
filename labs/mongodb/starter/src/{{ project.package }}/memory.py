"""In-memory repositories: the tests' stand-in for MongoDB when MONGO_URL is not set.

They behave like the MongoDB ones: string ids that look like ObjectIds, oldest first.
"""

import dataclasses
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from {{ project.package }}.models import Item
from {{ project.package }}.schemas import ItemCreate


class InMemoryItemRepository:
    def __init__(self) -> None:
        self._items: dict[str, Item] = {}

    async def get_many(self, *, offset: int, limit: int, name: str | None = None) -> list[Item]:
        items = [item for item in self._items.values() if name is None or item.name == name]
        return items[offset : offset + limit]

    async def get(self, item_id: str) -> Item | None:
        return self._items.get(item_id)

    async def create(self, data: ItemCreate) -> Item:
        item = Item(id=str(ObjectId()), created_at=datetime.now(UTC), **data.model_dump())
        self._items[item.id] = item
        return item

    async def update(self, item_id: str, changes: dict[str, Any]) -> Item | None:
        if item_id not in self._items:
            return None
        item = self._items[item_id] = dataclasses.replace(self._items[item_id], **changes)
        return item

    async def delete(self, item_id: str) -> bool:
        return self._items.pop(item_id, None) is not None


class InMemoryDatabase:
    def __init__(self) -> None:
        self.items = InMemoryItemRepository()

    async def create_indexes(self) -> None:
        """Nothing to index in memory."""

    async def ping(self) -> None:
        """Memory always answers."""

    async def close(self) -> None:
        """Nothing to close."""
