"""Passwords (Argon2 hashes) and access tokens (JWT signed with HS256)."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ValidationError

ALGORITHM = "HS256"

# Argon2id with the RFC 9106 low-memory profile (64 MiB, 3 passes): slow on purpose.
password_hasher = PasswordHasher()

# The scopes a token can carry. A client asks for some at login (`scope=items:read`); a login
# that asks for none gets them all.
SCOPES = {
    "items:read": "List and read items",
    "items:write": "Create and change items",
    "items:delete": "Delete items",
}


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def verify_password(password: str, hashed_password: str) -> bool:
    try:
        return password_hasher.verify(hashed_password, password)
    except (VerificationError, InvalidHashError):
        return False


class AccessToken(BaseModel):
    """The claims of a verified access token."""

    sub: int  # the user's id
    exp: datetime
    scope: str = ""  # space-separated, as in OAuth2

    @property
    def scopes(self) -> set[str]:
        return set(self.scope.split())


def create_access_token(
    *, subject: int, secret: str, expires_in: timedelta, scopes: Iterable[str]
) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(subject),
        "iat": now,
        "exp": now + expires_in,
        "scope": " ".join(scopes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> AccessToken:
    """The token's claims; raises `jwt.InvalidTokenError` if it is forged, malformed or expired."""
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    try:
        return AccessToken.model_validate(claims)
    except ValidationError as error:
        raise jwt.InvalidTokenError("unexpected claims") from error
