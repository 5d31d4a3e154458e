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
from {{ project.package }}.schemas import ItemRead


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


@strawberry.type
class Query:
    @strawberry.field
    def api_version(self) -> str:
        """The version of this GraphQL API."""
        return "1"


schema = strawberry.Schema(query=Query)


def create_graphql_router() -> GraphQLRouter[Context, None]:
    return GraphQLRouter(schema, context_getter=get_context)
