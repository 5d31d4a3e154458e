"""The items resource: create, list, read, update and delete."""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from {{ project.package }}.bounds import MAX_INT
from {{ project.package }}.dependencies import ItemsDep
from {{ project.package }}.errors import UNREADABLE_BODY
from {{ project.package }}.models import Item
from {{ project.package }}.schemas import ItemCreate, ItemRead, ItemUpdate

router = APIRouter(prefix="/items", tags=["items"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No item has this id"}}


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "Item not found")


@router.get(
    "",
    response_model=list[ItemRead],
)
async def list_items(
    items: ItemsDep,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    name: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> list[Item]:
    """The items, oldest first, a page at a time; only those called `name` when it is given."""
    return await items.get_many(offset=offset, limit=limit, name=name)


@router.post(
    "",
    response_model=ItemRead,
    status_code=status.HTTP_201_CREATED,
    responses=UNREADABLE_BODY,
)
async def create_item(
    data: ItemCreate, items: ItemsDep, request: Request, response: Response
) -> Item:
    item = await items.create(data)
    response.headers["Location"] = str(request.url_for("get_item", item_id=item.id))
    return item


@router.get(
    "/{item_id}",
    response_model=ItemRead,
    responses=NOT_FOUND,
)
async def get_item(item_id: str, items: ItemsDep) -> Item:
    item = await items.get(item_id)
    if item is None:
        raise _not_found()
    return item


@router.patch(
    "/{item_id}",
    response_model=ItemRead,
    responses=NOT_FOUND | UNREADABLE_BODY,
)
async def update_item(item_id: str, changes: ItemUpdate, items: ItemsDep) -> Item:
    """Changes the fields the body gives; the others keep their value."""
    item = await items.update(item_id, changes.model_dump(exclude_unset=True))
    if item is None:
        raise _not_found()
    return item


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_FOUND,
)
async def delete_item(item_id: str, items: ItemsDep) -> None:
    if not await items.delete(item_id):
        raise _not_found()
