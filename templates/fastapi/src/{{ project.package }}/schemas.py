{% set jwt = auth == "jwt" %}
{% set id_type = "str" if db == "mongo" else "int" %}
{% set utc = db == "postgres" %}
"""The API's request and response bodies (Pydantic v2).

Input models accept only what a client may set (unknown fields are refused); read models list
what a client may see, so server-side fields such as a password hash never reach a response.
"""

{% if utc %}
from datetime import UTC, datetime
{% else %}
from datetime import datetime
{% endif %}
from typing import Annotated, Self

from pydantic import {{ "AfterValidator, " if utc or jwt else "" }}BaseModel, ConfigDict, {{ "EmailStr, " if jwt else "" }}Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from {{ project.package }}.bounds import MAX_INT, NO_NUL
{% if utc %}


def _assume_utc(value: datetime) -> datetime:
    # Every timestamp is stored in UTC; SQLite (the tests' database) forgets the zone.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


UTCDateTime = Annotated[datetime, AfterValidator(_assume_utc)]
{% set dt = "UTCDateTime" %}
{% else %}
{% set dt = "datetime" %}
{% endif %}

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_NUL)]
Description = Annotated[str, Field(max_length=1000, pattern=NO_NUL)]
# strict: `true` or `"3"` is not a quantity.
Quantity = Annotated[int, Field(ge=0, le=MAX_INT, strict=True)]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    description: Description | None = None
    quantity: Quantity = 0


class ItemUpdate(BaseModel):
    """A partial update (PATCH): fields left out keep their value; only `description` may be null.

    `None` is the value of a field left out; the schema does not offer it for `name` and
    `quantity` (SkipJsonSchema), and a null sent for them is refused.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | SkipJsonSchema[None] = None
    description: Description | None = None
    quantity: Quantity | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _refuse_null_for_required_fields(self) -> Self:
        for field in ("name", "quantity"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: {{ id_type }}
    name: str
    description: str | None
    quantity: int
    created_at: {{ dt }}
{% if jwt %}


# Emails are compared case-insensitively: store them in lower case.
Email = Annotated[EmailStr, AfterValidator(str.lower)]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: str = Field(min_length=8, max_length=128)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: {{ id_type }}
    email: str
    created_at: {{ dt }}


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a password)
    expires_in: int = Field(description="Seconds until the token expires")
{% endif %}
