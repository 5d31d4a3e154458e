"""The items resource: create, list, read, update and delete.

It works, but it does not answer like a REST API yet: the lab's steps fix its status codes and
headers one at a time (`labforge lab show` lists them).
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from {{ project.package }}.dependencies import ItemsDep
from {{ project.package }}.models import Item
from {{ project.package }}.schemas import ItemCreate, ItemRead, ItemUpdate

router = APIRouter(prefix="/items", tags=["items"])


@router.get("", response_model=list[ItemRead])
async def list_items(
    items: ItemsDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[Item]:
    """The items, oldest first, a page at a time."""
    return await items.get_many(offset=offset, limit=limit)


@router.post("", response_model=ItemRead)
async def create_item(request: Request, items: ItemsDep) -> Item:
    data = ItemCreate.model_validate(await request.json())
    return await items.create(data)


@router.get("/{item_id}", response_model=ItemRead | None)
async def get_item(item_id: int, items: ItemsDep) -> Item | None:
    return await items.get(item_id)


@router.patch("/{item_id}", response_model=ItemRead | None)
async def update_item(item_id: int, changes: ItemUpdate, items: ItemsDep) -> Item | None:
    """Changes the fields the body gives; the others keep their value."""
    return await items.update(item_id, changes.model_dump(exclude_unset=True))


@router.delete("/{item_id}")
async def delete_item(item_id: int, items: ItemsDep) -> dict[str, bool]:
    return {"deleted": await items.delete(item_id)}
