{% set jwt = auth == "jwt" %}
{% set oauth = "oauth" in extras %}
{% set pkg = project.package %}
{% set mongo = db == "mongo" %}
{% set id_type = "strawberry.ID" if mongo else "int" %}
{% set item_repository = "InMemoryItemRepository" if db == "none" else "ItemRepository" %}
"""GraphQL (Strawberry) at /graphql, over the same repositories as the REST routes.

Open http://localhost:8000/graphql in a browser for the GraphiQL explorer.
"""

from datetime import datetime
from typing import Self

import strawberry
from fastapi.routing import APIRoute
{% if jwt %}
from strawberry.fastapi import BaseContext, GraphQLRouter
from strawberry.permission import BasePermission
{% else %}
from strawberry.fastapi import BaseContext, GraphQLRouter
{% endif %}

{% if jwt %}
from {{ pkg }}.dependencies import AccessTokenDep, ItemsDep
{% else %}
from {{ pkg }}.dependencies import ItemsDep
{% endif %}
{% if db == "none" %}
from {{ pkg }}.memory import InMemoryItemRepository
{% endif %}
from {{ pkg }}.models import Item
{% if db != "none" %}
from {{ pkg }}.repositories import ItemRepository
{% endif %}
from {{ pkg }}.schemas import ItemCreate, ItemRead
{% if jwt %}
from {{ pkg }}.security import AccessToken
{% endif %}


class Context(BaseContext):
{% if jwt %}
    def __init__(self, items: {{ item_repository }}, token: AccessToken | None) -> None:
        super().__init__()
        self.items = items
        self.token = token  # None for an anonymous request
{% else %}
    def __init__(self, items: {{ item_repository }}) -> None:
        super().__init__()
        self.items = items
{% endif %}


{% if jwt %}
async def get_context(items: ItemsDep, token: AccessTokenDep) -> Context:
    """Runs as a FastAPI dependency, so a bad token gets the same 401 as on the REST routes."""
    return Context(items, token)
{% else %}
async def get_context(items: ItemsDep) -> Context:
    return Context(items)
{% endif %}


Info = strawberry.Info[Context, None]
{% if oauth %}


def _has_scope(info: Info, scope: str) -> bool:
    token: AccessToken | None = info.context.token
    return token is not None and scope in token.scopes


class CanReadItems(BasePermission):
    message = "Needs a token with the items:read scope"

    def has_permission(self, source: object, info: Info, **kwargs: object) -> bool:
        return _has_scope(info, "items:read")


class CanWriteItems(BasePermission):
    message = "Needs a token with the items:write scope"

    def has_permission(self, source: object, info: Info, **kwargs: object) -> bool:
        return _has_scope(info, "items:write")
{% elif jwt %}


class IsAuthenticated(BasePermission):
    message = "Not authenticated"

    def has_permission(self, source: object, info: Info, **kwargs: object) -> bool:
        token: AccessToken | None = info.context.token
        return token is not None
{% endif %}
{% if oauth %}
{% set read_permission = "(permission_classes=[CanReadItems])" %}
{% set write_permission = "(permission_classes=[CanWriteItems])" %}
{% elif jwt %}
{% set read_permission = "" %}
{% set write_permission = "(permission_classes=[IsAuthenticated])" %}
{% else %}
{% set read_permission = "" %}
{% set write_permission = "" %}
{% endif %}


@strawberry.type(name="Item")
class ItemType:
    id: {{ id_type }}
    name: str
    description: str | None
    quantity: int
    created_at: datetime

    @classmethod
    def from_model(cls, item: Item) -> Self:
        # Through the REST read model, so both APIs show the same fields, the same way.
        return cls(**ItemRead.model_validate(item).model_dump())


@strawberry.input
class ItemInput:
    name: str
    description: str | None = None
    quantity: int = 0


@strawberry.type
class Query:
    @strawberry.field{{ read_permission }}
    async def items(self, info: Info, offset: int = 0, limit: int = 50) -> list[ItemType]:
        """The items, oldest first; `limit` is at most 100."""
        if offset < 0 or not 1 <= limit <= 100:
            raise ValueError("offset must be >= 0 and limit between 1 and 100")
        items = await info.context.items.get_many(offset=offset, limit=limit)
        return [ItemType.from_model(item) for item in items]

    @strawberry.field{{ read_permission }}
    async def item(self, info: Info, id: {{ id_type }}) -> ItemType | None:
        item = await info.context.items.get(id)
        return ItemType.from_model(item) if item else None


@strawberry.type
class Mutation:
    @strawberry.mutation{{ write_permission }}
    async def create_item(self, info: Info, data: ItemInput) -> ItemType:
        # The REST routes' validation rules apply here too.
        item = await info.context.items.create(ItemCreate.model_validate(strawberry.asdict(data)))
        return ItemType.from_model(item)


schema = strawberry.Schema(query=Query, mutation=Mutation)


def create_graphql_router() -> GraphQLRouter[Context, None]:
    router = GraphQLRouter(schema, context_getter=get_context)
    # Strawberry's routes answer more than their OpenAPI entries say: GET without a query is the
    # GraphiQL page, and a request that is not GraphQL at all is a text/plain 400.
    for route in router.routes:
        if isinstance(route, APIRoute):
            if "GET" in route.methods:
                route.responses[200] = {
                    **route.responses.get(200, {}),
                    "content": {"text/html": {}},
                }
            route.responses[400] = {
                "description": "Not a GraphQL request",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
    return router
