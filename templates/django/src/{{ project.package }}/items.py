"""The `items` resource: list, create, read, update and delete."""

from typing import Annotated

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Path, Query, Router, Status
from ninja.errors import HttpError

{% if auth == "jwt" %}
from .auth import bearer_token
{% endif %}
from .models import Item
from .schemas import MAX_ID, ItemCreate, ItemRead, ItemUpdate, ListParams

router = Router(tags=["items"])

# Ids the database can hold: a larger one is refused (422) rather than failing in the database.
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", response=list[ItemRead])
def list_items(request: HttpRequest, params: Query[ListParams]) -> list[Item]:
    return list(Item.objects.all()[params.offset : params.offset + params.limit])


@router.post("", response={201: ItemRead}{% if auth == "jwt" %}, auth=bearer_token{% endif %})
def create_item(request: HttpRequest, payload: ItemCreate, response: HttpResponse) -> Status[Item]:
    item = Item.objects.create(**payload.model_dump())
    response["Location"] = reverse("api:item", kwargs={"item_id": item.id})
    return Status(201, item)


@router.get("/{int:item_id}", response=ItemRead, url_name="item")
def get_item(request: HttpRequest, item_id: ItemId) -> Item:
    return _get_or_404(item_id)


@router.patch("/{int:item_id}", response=ItemRead{% if auth == "jwt" %}, auth=bearer_token{% endif %})
def update_item(request: HttpRequest, item_id: ItemId, payload: ItemUpdate) -> Item:
    item = _get_or_404(item_id)
    for field, value in payload.model_dump(exclude_unset=True).items():
        setattr(item, field, value)
    item.save()
    return item


@router.delete("/{int:item_id}", response={204: None}{% if auth == "jwt" %}, auth=bearer_token{% endif %})
def delete_item(request: HttpRequest, item_id: ItemId) -> Status[None]:
    _get_or_404(item_id).delete()
    return Status(204, None)


def _get_or_404(item_id: int) -> Item:
    try:
        return Item.objects.get(pk=item_id)
    except Item.DoesNotExist:
        raise HttpError(404, f"Item {item_id} not found") from None
