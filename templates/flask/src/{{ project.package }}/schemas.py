"""The API's request and response bodies, validated by Pydantic.

Input models forbid unknown fields, so a client cannot set `id` or timestamps; output models
list exactly what leaves the server{% if auth == "jwt" %} (never a password hash){% endif %}.
"""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

# The largest value of the `integer` columns (ids, quantities): larger ones are refused with a
# 422 here rather than failing in the database.
MAX_INT = 2**31 - 1
# Text without NUL characters, which PostgreSQL cannot store and no one means to send.
NO_NUL = r"^[^\x00]*$"

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_NUL)]
Description = Annotated[str, Field(max_length=1000, pattern=NO_NUL)]
# strict: `true` or `"3"` is not a quantity.
Quantity = Annotated[int, Field(ge=0, le=MAX_INT, strict=True)]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None
    quantity: Quantity = 0


class ItemUpdate(BaseModel):
    """A partial update: only the fields the client sends change; only `description` may be null.

    `None` is the value of a field left out; the schema does not offer it for `name` and
    `quantity` (SkipJsonSchema), and a null sent for them is refused.
    """

    model_config = ConfigDict(extra="forbid")

    name: Name | SkipJsonSchema[None] = None
    description: Description | None = None
    quantity: Quantity | SkipJsonSchema[None] = None

    @field_validator("name", "quantity")
    @classmethod
    def not_null(cls, value: object) -> object:
        # Leaving a field out keeps it; sending null would erase a required field.
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    quantity: int
    created_at: datetime
    updated_at: datetime


class Problem(BaseModel):
    """One thing wrong with the input: its kind, where it is, and what is wrong."""

    type: str
    loc: list[str | int]
    msg: str


class Error(BaseModel):
    """Every error: a sentence, or the list of what is wrong with the input (422)."""

    detail: str | list[Problem]


class Probe(BaseModel):
    """What `/health` and `/ready` answer."""

    status: str
    detail: str | None = None


class ListParams(BaseModel):
    """Query parameters of `GET /items`."""

    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=MAX_INT)
{% if auth == "jwt" %}


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=150, pattern=r"^[\w.@+-]+$")
    password: str = Field(min_length=8, max_length=128)


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=150, pattern=NO_NUL)
    password: str = Field(max_length=128)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the scheme's name, not a secret)
    expires_in: int = Field(description="seconds until the token expires")
{% endif %}
