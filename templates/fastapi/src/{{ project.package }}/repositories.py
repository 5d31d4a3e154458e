{% set jwt = auth == "jwt" %}
{% set pkg = project.package %}
{% if db == "postgres" %}
"""Data access: the SQL behind the API, one repository per table."""

from typing import Any

from sqlalchemy import select
{% if jwt %}
from sqlalchemy.exc import IntegrityError
{% endif %}
from sqlalchemy.ext.asyncio import AsyncSession

from {{ pkg }}.models import Item{{ ", User" if jwt else "" }}
from {{ pkg }}.schemas import ItemCreate


class ItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_many(self, *, offset: int, limit: int) -> list[Item]:
        query = select(Item).order_by(Item.id).offset(offset).limit(limit)
        return list(await self._session.scalars(query))

    async def get(self, item_id: int) -> Item | None:
        return await self._session.get(Item, item_id)

    async def create(self, data: ItemCreate) -> Item:
        item = Item(**data.model_dump())
        self._session.add(item)
        await self._session.commit()
        return item

    async def update(self, item_id: int, changes: dict[str, Any]) -> Item | None:
        item = await self.get(item_id)
        if item is None:
            return None
        for field, value in changes.items():
            setattr(item, field, value)
        await self._session.commit()
        return item

    async def delete(self, item_id: int) -> bool:
        item = await self.get(item_id)
        if item is None:
            return False
        await self._session.delete(item)
        await self._session.commit()
        return True
{% if jwt %}


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> User | None:
        return await self._session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self._session.scalar(select(User).where(User.email == email))

    async def create(self, *, email: str, hashed_password: str) -> User | None:
        """Adds a user; `None` when the email is already registered."""
        user = User(email=email, hashed_password=hashed_password)
        self._session.add(user)
        try:
            await self._session.commit()
        except IntegrityError:  # the unique constraint on users.email
            await self._session.rollback()
            return None
        return user
{% endif %}
{% else %}
"""Data access: the repositories the API uses, and their MongoDB implementations.

The routes depend on the `ItemRepository`{{ " and `UserRepository`" if jwt else "" }} protocols only, so the tests can swap
in the in-memory implementations from `memory.py`.
"""

from datetime import UTC, datetime
from typing import Any, Protocol

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
{% if jwt %}
from pymongo.errors import DuplicateKeyError
{% endif %}

from {{ pkg }}.models import Item{{ ", User" if jwt else "" }}
from {{ pkg }}.schemas import ItemCreate

Document = dict[str, Any]


class ItemRepository(Protocol):
    async def get_many(self, *, offset: int, limit: int) -> list[Item]: ...
    async def get(self, item_id: str) -> Item | None: ...
    async def create(self, data: ItemCreate) -> Item: ...
    async def update(self, item_id: str, changes: dict[str, Any]) -> Item | None: ...
    async def delete(self, item_id: str) -> bool: ...
{% if jwt %}


class UserRepository(Protocol):
    async def get(self, user_id: str) -> User | None: ...
    async def get_by_email(self, email: str) -> User | None: ...
    async def create(self, *, email: str, hashed_password: str) -> User | None:
        """Adds a user; `None` when the email is already registered."""
        ...
{% endif %}


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

    async def get_many(self, *, offset: int, limit: int) -> list[Item]:
        # Oldest first, along the index on created_at.
        cursor = self._items.find().sort("created_at", ASCENDING).skip(offset).limit(limit)
        return [_item(document) async for document in cursor]

    async def get(self, item_id: str) -> Item | None:
        document = await self._items.find_one({"_id": object_id(item_id)})
        return _item(document) if document else None

    async def create(self, data: ItemCreate) -> Item:
        document = {**data.model_dump(), "created_at": now()}
        result = await self._items.insert_one(document)
        return _item({**document, "_id": result.inserted_id})

    async def update(self, item_id: str, changes: dict[str, Any]) -> Item | None:
        document = await self._items.find_one_and_update(
            {"_id": object_id(item_id)}, {"$set": changes}, return_document=ReturnDocument.AFTER
        )
        return _item(document) if document else None

    async def delete(self, item_id: str) -> bool:
        result = await self._items.delete_one({"_id": object_id(item_id)})
        return result.deleted_count == 1
{% if jwt %}


class MongoUserRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._users = collection

    async def get(self, user_id: str) -> User | None:
        document = await self._users.find_one({"_id": object_id(user_id)})
        return _user(document) if document else None

    async def get_by_email(self, email: str) -> User | None:
        document = await self._users.find_one({"email": email})
        return _user(document) if document else None

    async def create(self, *, email: str, hashed_password: str) -> User | None:
        document = {"email": email, "hashed_password": hashed_password, "created_at": now()}
        try:
            result = await self._users.insert_one(document)
        except DuplicateKeyError:  # the unique index on users.email
            return None
        return _user({**document, "_id": result.inserted_id})
{% endif %}


def _item(document: Document) -> Item:
    return Item(
        id=str(document["_id"]),
        name=document["name"],
        description=document.get("description"),
        quantity=document["quantity"],
        created_at=document["created_at"],
    )
{% if jwt %}


def _user(document: Document) -> User:
    return User(
        id=str(document["_id"]),
        email=document["email"],
        hashed_password=document["hashed_password"],
        created_at=document["created_at"],
    )
{% endif %}
{% endif %}
