"""Data access: the repositories the API uses, and their MongoDB implementations.

The routes depend on the `ItemRepository` protocols only, so the tests can swap
in the in-memory implementations from `memory.py`.
"""

from datetime import UTC, datetime
from typing import Any, Protocol

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from {{ project.package }}.models import Item
from {{ project.package }}.schemas import ItemCreate

Document = dict[str, Any]


class ItemRepository(Protocol):
    async def get_many(self, *, offset: int, limit: int, name: str | None = None) -> list[Item]: ...
    async def get(self, item_id: str) -> Item | None: ...
    async def create(self, data: ItemCreate) -> Item: ...
    async def update(self, item_id: str, changes: dict[str, Any]) -> Item | None: ...
    async def delete(self, item_id: str) -> bool: ...


def now() -> datetime:
    """The current UTC time, at the millisecond precision MongoDB stores."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def object_id(value: str) -> ObjectId | None:
    """The ObjectId an API id stands for; `None`, which matches no document, if there is none."""
    return ObjectId(value) if ObjectId.is_valid(value) else None


class MongoItemRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._items = collection

    async def get_many(self, *, offset: int, limit: int, name: str | None = None) -> list[Item]:
        # Oldest first. Unfiltered, along the index on created_at; by name, along the index on
        # (name, created_at), which finds the name's items already in created_at order.
        query = {} if name is None else {"name": name}
        cursor = self._items.find(query).sort("created_at", ASCENDING).skip(offset).limit(limit)
        return [_item(document) async for document in cursor]

    async def get(self, item_id: str) -> Item | None:
        document = await self._items.find_one({"_id": object_id(item_id)})
        return _item(document) if document else None

    async def create(self, data: ItemCreate) -> Item:
        document = {**data.model_dump(), "created_at": now()}
        result = await self._items.insert_one(document)
        return _item({**document, "_id": result.inserted_id})

    async def update(self, item_id: str, changes: dict[str, Any]) -> Item | None:
        """Sets the given fields of the item; `None` when no item has this id."""
        # One atomic operation: find the document, $set the fields, hand back the result.
        document = await self._items.find_one_and_update(
            {"_id": object_id(item_id)}, {"$set": changes}, return_document=ReturnDocument.AFTER
        )
        return _item(document) if document else None

    async def delete(self, item_id: str) -> bool:
        """Deletes the item; `False` when no item has this id."""
        result = await self._items.delete_one({"_id": object_id(item_id)})
        return result.deleted_count == 1


def _item(document: Document) -> Item:
    return Item(
        id=str(document["_id"]),
        name=document["name"],
        description=document.get("description"),
        quantity=document["quantity"],
        created_at=document["created_at"],
    )
