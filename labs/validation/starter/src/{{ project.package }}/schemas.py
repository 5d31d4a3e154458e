"""The API's request and response bodies (Pydantic v2).

Input models say what a client may send; read models say what a client may see.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ItemCreate(BaseModel):
    name: str
    description: str | None = None
    quantity: int = 0
    cost: int = 0  # in cents


class ItemUpdate(BaseModel):
    """A partial update (PATCH): fields left out keep their value."""

    name: str | None = None
    description: str | None = None
    quantity: int | None = None
    cost: int | None = None


class ItemRead(BaseModel):
    """What clients see of an item: everything but the cost."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    quantity: int
    created_at: datetime
