"""In-memory storage: the service keeps its data in this process, as long as it runs.

Each worker process has its own copy and a restart forgets everything; pick `--db postgres`
or `--db mongo` for data that lasts.
"""

import dataclasses
import itertools
from datetime import UTC, datetime
from typing import Any

from {{ project.package }}.models import Item
from {{ project.package }}.schemas import ItemCreate


class InMemoryItemRepository:
    def __init__(self) -> None:
        self._items: dict[int, Item] = {}
        self._ids = itertools.count(1)

    async def get_many(self, *, offset: int, limit: int, search: str | None = None) -> list[Item]:
        items = list(self._items.values())
        if search:
            text = search.lower()
            items = [
                item
                for item in items
                # An item may have no description (None): only the name can match then.
                if text in item.name.lower() or text in (item.description or "").lower()
            ]
        return items[offset : offset + limit]

    async def get(self, item_id: int) -> Item | None:
        return self._items.get(item_id)

    async def create(self, data: ItemCreate) -> Item:
        item = Item(id=next(self._ids), created_at=datetime.now(UTC), **data.model_dump())
        self._items[item.id] = item
        return item

    async def update(self, item_id: int, changes: dict[str, Any]) -> Item | None:
        if item_id not in self._items:
            return None
        item = self._items[item_id] = dataclasses.replace(self._items[item_id], **changes)
        return item

    async def delete(self, item_id: int) -> bool:
        return self._items.pop(item_id, None) is not None


class InMemoryDatabase:
    def __init__(self) -> None:
        self.items = InMemoryItemRepository()
