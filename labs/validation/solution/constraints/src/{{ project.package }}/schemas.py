"""The API's request and response bodies (Pydantic v2).

Input models say what a client may send; read models say what a client may see.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ItemCreate(BaseModel):
    # "  kettle " is stored as "kettle", so a name of spaces only is empty, and too short.
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    quantity: int = Field(default=0, ge=0)
    cost: int = Field(default=0, ge=0, description="In cents")


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
