"""GraphQL (Strawberry) at /graphql, over the same repositories as the REST routes.

Open /graphql at the app's address (`labforge status` shows it) in a browser for GraphiQL.
"""

from datetime import datetime
from typing import Self

import strawberry
from strawberry.fastapi import BaseContext, GraphQLRouter

from {{ project.package }}.dependencies import ItemsDep
from {{ project.package }}.memory import InMemoryItemRepository
from {{ project.package }}.models import Item
from {{ project.package }}.schemas import ItemCreate, ItemRead


class Context(BaseContext):
    def __init__(self, items: InMemoryItemRepository) -> None:
        super().__init__()
        self.items = items


async def get_context(items: ItemsDep) -> Context:
    return Context(items)


Info = strawberry.Info[Context, None]


@strawberry.type(name="Item")
class ItemType:
    id: int
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
    @strawberry.field
    def api_version(self) -> str:
        """The version of this GraphQL API."""
        return "1"

    @strawberry.field
    async def items(self, info: Info, offset: int = 0, limit: int = 50) -> list[ItemType]:
        """The items, oldest first; `limit` is at most 100."""
        if offset < 0 or not 1 <= limit <= 100:
            raise ValueError("offset must be >= 0 and limit between 1 and 100")
        items = await info.context.items.get_many(offset=offset, limit=limit)
        return [ItemType.from_model(item) for item in items]

    @strawberry.field
    async def item(self, info: Info, id: int) -> ItemType | None:
        item = await info.context.items.get(id)
        return ItemType.from_model(item) if item else None


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_item(self, info: Info, data: ItemInput) -> ItemType:
        # The REST routes' validation rules apply here too.
        item = await info.context.items.create(ItemCreate.model_validate(strawberry.asdict(data)))
        return ItemType.from_model(item)


schema = strawberry.Schema(query=Query, mutation=Mutation)


def create_graphql_router() -> GraphQLRouter[Context, None]:
    return GraphQLRouter(schema, context_getter=get_context)
