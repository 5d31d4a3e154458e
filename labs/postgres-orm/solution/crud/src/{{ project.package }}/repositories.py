"""Data access: the SQL behind the API, one repository per table."""

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from {{ project.package }}.models import Item
from {{ project.package }}.schemas import ItemCreate


class ItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_many(self, *, offset: int, limit: int) -> list[Item]:
        query = select(Item).order_by(Item.id).offset(offset).limit(limit)
        return list(await self._session.scalars(query))

    async def get(self, item_id: int) -> Item | None:
        return await self._session.get(Item, item_id)

    async def search(self, q: str) -> list[Item]:
        """The items whose name contains `q`, ignoring case, oldest first."""
        sql = f"SELECT * FROM items WHERE lower(name) LIKE lower('%{q}%') ORDER BY id"  # noqa: S608
        return list(await self._session.scalars(select(Item).from_statement(text(sql))))

    async def create(self, data: ItemCreate) -> Item:
        item = Item(**data.model_dump())
        self._session.add(item)
        await self._session.commit()
        return item

    async def update(self, item_id: int, changes: dict[str, Any]) -> Item | None:
        """Sets the given fields of the item and saves it; `None` when no item has this id."""
        item = await self.get(item_id)
        if item is None:
            return None
        for field, value in changes.items():
            setattr(item, field, value)
        await self._session.commit()
        return item

    async def delete(self, item_id: int) -> bool:
        """Deletes the item; `False` when no item has this id."""
        item = await self.get(item_id)
        if item is None:
            return False
        await self._session.delete(item)
        await self._session.commit()
        return True
