{% set oauth = "oauth" in extras %}
{% set id_type = "str" if db == "mongo" else "int" %}
"""Passwords (Argon2 hashes) and access tokens (JWT signed with HS256)."""

import functools
{% if oauth %}
from collections.abc import Iterable
{% endif %}
from datetime import UTC, datetime, timedelta
{% if id_type == "int" %}
from typing import Annotated
{% endif %}

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, {{ "Field, " if id_type == "int" else "" }}ValidationError
{% if id_type == "int" %}

from {{ project.package }}.bounds import MAX_INT
{% endif %}

ALGORITHM = "HS256"

# Argon2id with the RFC 9106 low-memory profile (64 MiB, 3 passes): slow on purpose.
password_hasher = PasswordHasher()
{% if oauth %}

# The scopes a token can carry. A client asks for some at login (`scope=items:read`); a login
# that asks for none gets them all.
SCOPES = {
    "items:read": "List and read items",
    "items:write": "Create, change and delete items",
}
{% endif %}


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def verify_password(password: str, hashed_password: str | None) -> bool:
    """Whether `password` matches the hash. With no hash (an unknown account) it checks a dummy
    hash and answers False in the same time, so that timing tells no one which accounts exist."""
    try:
        if hashed_password is None:
            password_hasher.verify(_dummy_hash(password_hasher), password)
            return False
        return password_hasher.verify(hashed_password, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Made by the hasher in use, so that it costs what a real account's hash costs.
    return hasher.hash("a password no account has")


class AccessToken(BaseModel):
    """The claims of a verified access token."""

{% if id_type == "int" %}
    sub: Annotated[int, Field(ge=1, le=MAX_INT)]  # the user's id, one the database can hold
{% else %}
    sub: str  # the user's id
{% endif %}
    exp: datetime
{% if oauth %}
    scope: str = ""  # space-separated, as in OAuth2

    @property
    def scopes(self) -> set[str]:
        return set(self.scope.split())
{% endif %}


{% if oauth %}
def create_access_token(
    *, subject: {{ id_type }}, secret: str, expires_in: timedelta, scopes: Iterable[str]
) -> str:
{% else %}
def create_access_token(*, subject: {{ id_type }}, secret: str, expires_in: timedelta) -> str:
{% endif %}
    now = datetime.now(UTC)
    claims = {
        "sub": str(subject),
        "iat": now,
        "exp": now + expires_in,
{% if oauth %}
        "scope": " ".join(scopes),
{% endif %}
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> AccessToken:
    """The token's claims; raises `jwt.InvalidTokenError` if it is forged, malformed or expired."""
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    try:
        return AccessToken.model_validate(claims)
    except ValidationError as error:
        raise jwt.InvalidTokenError("unexpected claims") from error
