"""The API's request and response bodies (Pydantic v2).

Input models accept only what a client may set (unknown fields are refused); read models list
what a client may see, so server-side fields such as a password hash never reach a response.
"""

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    quantity: int = Field(default=0, ge=0)


class ItemUpdate(BaseModel):
    """A partial update (PATCH): fields left out keep their value."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    quantity: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _refuse_null_for_required_fields(self) -> Self:
        for field in ("name", "quantity"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class Withdrawal(BaseModel):
    """Units taken out of stock: POST /items/{item_id}/withdraw."""

    model_config = ConfigDict(extra="forbid")

    amount: int = Field(gt=0)


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    quantity: int
    created_at: datetime
