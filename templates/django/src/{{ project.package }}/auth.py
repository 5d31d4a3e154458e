"""Users and JWT bearer tokens.

`POST /auth/register` creates a Django user, `POST /auth/login` trades a username and password
for a token, `GET /auth/me` shows whose token it is. Operations declared with
`auth=bearer_token` want an `Authorization: Bearer <token>` header; `request.auth` is the user.
"""

from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from .schemas import MAX_ID, Login, Token, UserCreate, UserRead

ALGORITHM = "HS256"

User = get_user_model()
router = Router(tags=["auth"])


def create_access_token(user_id: int, expires_in: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": now, "exp": now + expires_in}
    return jwt.encode(claims, settings.JWT_SECRET, algorithm=ALGORITHM)


class BearerToken(HttpBearer):
    """Accepts a valid, unexpired token of an active user; 401 otherwise."""

    def authenticate(self, request: HttpRequest, token: str) -> AbstractBaseUser | None:
        try:
            claims = jwt.decode(
                token,
                settings.JWT_SECRET,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "sub"]},
            )
            user_id = int(claims["sub"])
        except (jwt.InvalidTokenError, ValueError):
            return None
        if not 1 <= user_id <= MAX_ID:  # no user can have it: not a question for the database
            return None
        return User.objects.filter(pk=user_id, is_active=True).first()


bearer_token = BearerToken()


@router.post(
    "/register",
    response={201: UserRead},
    openapi_extra={"responses": {409: {"description": "This username is taken"}}},
)
def register(request: HttpRequest, payload: UserCreate) -> Status[AbstractBaseUser]:
    try:
        validate_password(payload.password, User(username=payload.username))
    except DjangoValidationError as error:
        raise ValidationError(
            [
                {"type": "weak_password", "loc": ["body", "payload", "password"], "msg": message}
                for message in error.messages
            ]
        ) from None
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=payload.username, password=payload.password)
    except IntegrityError:
        raise HttpError(409, "This username is taken") from None
    return Status(201, user)


@router.post(
    "/login",
    response=Token,
    openapi_extra={"responses": {401: {"description": "Wrong username or password"}}},
)
def login(request: HttpRequest, payload: Login) -> Token:
    # Django hashes the password even for unknown users: timing reveals no usernames.
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        raise AuthenticationError(message="Wrong username or password")
    expires_in = timedelta(minutes=settings.JWT_EXPIRE_MINUTES)
    return Token(
        access_token=create_access_token(user.pk, expires_in),
        expires_in=int(expires_in.total_seconds()),
    )


@router.get("/me", response=UserRead, auth=bearer_token)
def me(request: HttpRequest) -> AbstractBaseUser:
    return request.auth  # the user bearer_token found
