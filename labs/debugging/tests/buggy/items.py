"""The items resource: create, list, search, read, update, delete, and withdraw stock."""

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse

from {{ project.package }}.dependencies import ItemsDep
from {{ project.package }}.models import Item
from {{ project.package }}.schemas import ItemCreate, ItemRead, ItemUpdate, Withdrawal

logger = logging.getLogger(__name__)

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
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    search: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Text in the name or description"),
    ] = None,
) -> list[Item]:
    """The items, oldest first, a page at a time; with `search`, only those whose name or
    description contains the text, ignoring case."""
    return await items.get_many(offset=offset, limit=limit, search=search)


@router.post(
    "",
    response_model=ItemRead,
    status_code=status.HTTP_201_CREATED,
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
async def get_item(item_id: int, items: ItemsDep) -> Item:
    item = await items.get(item_id)
    if item is None:
        raise _not_found()
    return item


@router.patch(
    "/{item_id}",
    response_model=ItemRead,
    responses=NOT_FOUND,
)
async def update_item(item_id: int, changes: ItemUpdate, items: ItemsDep) -> Item:
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
async def delete_item(item_id: int, items: ItemsDep) -> None:
    if not await items.delete(item_id):
        raise _not_found()


@router.post(
    "/{item_id}/withdraw",
    response_model=ItemRead,
    responses={**NOT_FOUND, 409: {"description": "Not enough stock"}},
)
async def withdraw(item_id: int, withdrawal: Withdrawal, items: ItemsDep) -> Item | JSONResponse:
    """Takes `amount` units out of stock; refused when fewer are in stock."""
    item = await items.get(item_id)
    if item is None:
        raise _not_found()
    if withdrawal.amount > item.quantity:
        logger.warning(
            "Item %d: cannot withdraw %d, only %d in stock",
            item_id,
            withdrawal.amount,
            item.quantity,
        )
        return JSONResponse({"detail": "Not enough stock"})
    updated = await items.update(item_id, {"quantity": item.quantity - withdrawal.amount})
    if updated is None:
        raise _not_found()
    return updated
