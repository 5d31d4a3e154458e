"""The `items` resource: list, create, read, update and delete."""

from flask import Blueprint, abort, url_for
from flask.typing import ResponseReturnValue

{% if auth == "jwt" %}
from .auth import login_required
{% endif %}
from .openapi import describe
from .schemas import MAX_INT, ItemCreate, ItemRead, ItemUpdate, ListParams
from .store import Item, item_store
from .validation import parse_body, parse_query

bp = Blueprint("items", __name__, url_prefix="/items")


@bp.get("")
@describe("List items, oldest first", query=ListParams, answers={200: list[ItemRead]})
def list_items() -> ResponseReturnValue:
    params = parse_query(ListParams)
    items = item_store().page(limit=params.limit, offset=params.offset)
    return [_to_json(item) for item in items]


@bp.post("")
{% if auth == "jwt" %}
@login_required
{% endif %}
@describe("Create an item", body=ItemCreate, answers={201: ItemRead})
def create_item() -> ResponseReturnValue:
    item = item_store().create(parse_body(ItemCreate))
    return _to_json(item), 201, {"Location": url_for("items.get_item", item_id=item.id)}


@bp.get("/<int:item_id>")
@describe("Read an item", answers={200: ItemRead})
def get_item(item_id: int) -> ResponseReturnValue:
    return _to_json(_get_or_404(item_id))


@bp.patch("/<int:item_id>")
{% if auth == "jwt" %}
@login_required
{% endif %}
@describe("Change some fields of an item", body=ItemUpdate, answers={200: ItemRead})
def update_item(item_id: int) -> ResponseReturnValue:
    item = _get_or_404(item_id)
    changes = parse_body(ItemUpdate).model_dump(exclude_unset=True)
    return _to_json(item_store().update(item, changes))


@bp.delete("/<int:item_id>")
{% if auth == "jwt" %}
@login_required
{% endif %}
@describe("Delete an item", answers={204: None})
def delete_item(item_id: int) -> ResponseReturnValue:
    item_store().delete(_get_or_404(item_id))
    return "", 204


def _get_or_404(item_id: int) -> Item:
    # An id the database cannot hold names no item: not a question for the database.
    item = item_store().get(item_id) if 1 <= item_id <= MAX_INT else None
    if item is None:
        abort(404, description=f"Item {item_id} not found")
    return item


def _to_json(item: Item) -> dict[str, object]:
    return ItemRead.model_validate(item).model_dump(mode="json")
