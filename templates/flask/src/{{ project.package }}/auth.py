"""Users and JWT bearer tokens.

`POST /auth/register` creates a user, `POST /auth/login` trades a username and password for a
token, `GET /auth/me` shows whose token it is. Views that change data are wrapped in
`@login_required`, which wants an `Authorization: Bearer <token>` header.
"""

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, TypeVar

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Conflict, Unauthorized

from .openapi import describe, needs_token
from .schemas import MAX_INT, Login, Token, UserCreate, UserRead
from .settings import current_settings
from .store import User, UsernameTaken, user_store
from .validation import parse_body

ALGORITHM = "HS256"

bp = Blueprint("auth", __name__, url_prefix="/auth")
hasher = PasswordHasher()  # argon2id with the library's recommended cost

P = ParamSpec("P")
R = TypeVar("R")


def create_access_token(user_id: int, expires_in: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": now, "exp": now + expires_in}
    return jwt.encode(claims, current_settings().jwt_secret, algorithm=ALGORITHM)


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    """Runs `view` only for a valid, unexpired token; answers 401 otherwise."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        g.user = _user_from_token()
        return view(*args, **kwargs)

    return needs_token(wrapper)


def current_user() -> User:
    """The user whose token authenticated this request (inside `@login_required` views)."""
    user: User = g.user
    return user


@bp.post("/register")
@describe(
    "Create an account",
    body=UserCreate,
    answers={201: UserRead},
    errors={409: "This username is taken"},
)
def register() -> ResponseReturnValue:
    data = parse_body(UserCreate)
    try:
        user = user_store().create(data.username, hasher.hash(data.password))
    except UsernameTaken:
        raise Conflict("This username is taken") from None
    return UserRead.model_validate(user).model_dump(mode="json"), 201


@bp.post("/login")
@describe(
    "Trade a username and password for a bearer token",
    body=Login,
    answers={200: Token},
    errors={401: "Wrong username or password"},
)
def login() -> ResponseReturnValue:
    data = parse_body(Login)
    user = user_store().get_by_username(data.username)
    try:
        # Unknown users cost as much time as wrong passwords: timing reveals no usernames.
        hasher.verify(user.password_hash if user else _dummy_hash(), data.password)
    except VerifyMismatchError:
        user = None
    if user is None:
        raise _unauthorized("Wrong username or password")
    expires_in = timedelta(minutes=current_settings().jwt_expire_minutes)
    token = Token(
        access_token=create_access_token(user.id, expires_in),
        expires_in=int(expires_in.total_seconds()),
    )
    return token.model_dump()


@bp.get("/me")
@login_required
@describe("The account the token belongs to", answers={200: UserRead})
def me() -> ResponseReturnValue:
    return UserRead.model_validate(current_user()).model_dump(mode="json")


def _user_from_token() -> User:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("Send an Authorization: Bearer <token> header")
    try:
        claims = jwt.decode(
            token,
            current_settings().jwt_secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
        user = user_store().get(_user_id(claims["sub"]))
    except (jwt.InvalidTokenError, ValueError):
        user = None
    if user is None:
        raise _unauthorized("Invalid or expired token")
    return user


def _user_id(subject: object) -> int:
    """The user id a token names; ValueError unless it is one the database can hold."""
    user_id = int(str(subject))
    if not 1 <= user_id <= MAX_INT:
        raise ValueError(f"no user can have the id {user_id}")
    return user_id


def _unauthorized(detail: str) -> Unauthorized:
    return Unauthorized(detail, www_authenticate=WWWAuthenticate("bearer"))


@functools.cache
def _dummy_hash() -> str:
    return hasher.hash("a password nobody has")
