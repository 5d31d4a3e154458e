{% set jwt = auth == "jwt" %}
{% set oauth = "oauth" in extras %}
{% set pkg = project.package %}
{% set id_type = "str" if db == "mongo" else "int" %}
{% if oauth %}
{% set read_guard = "can_read_items" %}
{% set write_guard = "can_write_items" %}
{% elif jwt %}
{% set read_guard = "" %}
{% set write_guard = "Depends(get_current_user)" %}
{% else %}
{% set read_guard = "" %}
{% set write_guard = "" %}
{% endif %}
{% if oauth %}
"""The items resource: reading needs the `items:read` scope, writing `items:write`."""
{% elif jwt %}
"""The items resource: anyone may read; writing needs a signed-in user."""
{% else %}
"""The items resource: create, list, read, update and delete."""
{% endif %}

{% filter py_imports %}
from typing import Annotated, Any

from fastapi import APIRouter, {{ "Depends, " if jwt and not oauth else "" }}HTTPException, {{ "" if db == "mongo" else "Path, " }}Query, Request, Response, status

from {{ pkg }}.bounds import MAX_INT
{% if oauth %}
from {{ pkg }}.dependencies import ItemsDep, can_read_items, can_write_items
{% elif jwt %}
from {{ pkg }}.dependencies import ItemsDep, get_current_user
{% else %}
from {{ pkg }}.dependencies import ItemsDep
{% endif %}
from {{ pkg }}.errors import UNREADABLE_BODY
from {{ pkg }}.models import Item
from {{ pkg }}.schemas import ItemCreate, ItemRead, ItemUpdate
{% endfilter %}

router = APIRouter(prefix="/items", tags=["items"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No item has this id"}}


{% if db == "mongo" %}
# An id is an ObjectId's 24 hex digits; anything else names no item (404).
ItemId = str
{% else %}
# Ids the database can hold: a larger one is refused (422) rather than failing in the database.
ItemId = Annotated[int, Path(ge=1, le=MAX_INT)]
{% endif %}


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "Item not found")


@router.get(
    "",
    response_model=list[ItemRead],
{% if read_guard %}
    dependencies=[{{ read_guard }}],
{% endif %}
)
async def list_items(
    items: ItemsDep,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[Item]:
    """The items, oldest first, a page at a time."""
    return await items.get_many(offset=offset, limit=limit)


@router.post(
    "",
    response_model=ItemRead,
    status_code=status.HTTP_201_CREATED,
    responses=UNREADABLE_BODY,
{% if write_guard %}
    dependencies=[{{ write_guard }}],
{% endif %}
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
{% if read_guard %}
    dependencies=[{{ read_guard }}],
{% endif %}
)
async def get_item(item_id: ItemId, items: ItemsDep) -> Item:
    item = await items.get(item_id)
    if item is None:
        raise _not_found()
    return item


@router.patch(
    "/{item_id}",
    response_model=ItemRead,
    responses=NOT_FOUND | UNREADABLE_BODY,
{% if write_guard %}
    dependencies=[{{ write_guard }}],
{% endif %}
)
async def update_item(item_id: ItemId, changes: ItemUpdate, items: ItemsDep) -> Item:
    """Changes the fields the body gives; the others keep their value."""
    item = await items.update(item_id, changes.model_dump(exclude_unset=True))
    if item is None:
        raise _not_found()
    return item


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_FOUND,
{% if write_guard %}
    dependencies=[{{ write_guard }}],
{% endif %}
)
async def delete_item(item_id: ItemId, items: ItemsDep) -> None:
    if not await items.delete(item_id):
        raise _not_found()
