"""The API's request and response bodies: django-ninja schemas, which are Pydantic models.

Input schemas forbid unknown fields, so a client cannot set `id` or timestamps; output schemas
list exactly what leaves the server{% if auth == "jwt" %} (never a password hash){% endif %}.
"""

from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

# What the columns hold (PostgreSQL's `integer` for quantities, `bigint` for ids): larger values
# are refused with a 422 here rather than failing in the database.
MAX_INT = 2**31 - 1
MAX_ID = 2**63 - 1
# Text without NUL characters, which PostgreSQL cannot store and no one means to send.
NO_NUL = r"^[^\x00]*$"

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_NUL)]
Description = Annotated[str, Field(max_length=1000, pattern=NO_NUL)]
# strict: `true` or `"3"` is not a quantity.
Quantity = Annotated[int, Field(ge=0, le=MAX_INT, strict=True)]


class ItemCreate(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None
    quantity: Quantity = 0


class ItemUpdate(Schema):
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


class ItemRead(Schema):
    id: int
    name: str
    description: str | None
    quantity: int
    created_at: datetime
    updated_at: datetime


class ListParams(Schema):
    """Query parameters of `GET /items`."""

    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=MAX_ID)
{% if auth == "jwt" %}


class UserCreate(Schema):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=150, pattern=r"^[\w.@+-]+$")
    password: str = Field(min_length=8, max_length=128)


class Login(Schema):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=150, pattern=NO_NUL)
    password: str = Field(max_length=128)


class UserRead(Schema):
    id: int
    username: str


class Token(Schema):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the scheme's name, not a secret)
    expires_in: int = Field(description="seconds until the token expires")
{% endif %}
