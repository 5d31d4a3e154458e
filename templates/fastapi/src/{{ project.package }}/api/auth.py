{% set oauth = "oauth" in extras %}
{% set pkg = project.package %}
"""Accounts and tokens: register, sign in (OAuth2 password flow), and who am I."""

{% filter py_imports %}
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm

from {{ pkg }}.bounds import NO_NUL
from {{ pkg }}.dependencies import CurrentUser, SettingsDep, UsersDep
from {{ pkg }}.errors import UNREADABLE_BODY
from {{ pkg }}.models import User
from {{ pkg }}.schemas import Token, UserCreate, UserRead
from {{ pkg }}.security import {{ "SCOPES, " if oauth else "" }}create_access_token, hash_password, verify_password
{% endfilter %}

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form, whose username (an email) is bounded as a registered one is."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form(max_length=320, pattern=NO_NUL)],
        password: Annotated[str, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


@router.post(
    "/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The email is already registered"}} | UNREADABLE_BODY,
)
async def register(data: UserCreate, users: UsersDep) -> User:
    # Argon2 is slow on purpose: hash in a worker thread so the event loop keeps serving.
    hashed_password = await run_in_threadpool(hash_password, data.password)
    user = await users.create(email=data.email, hashed_password=hashed_password)
    if user is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "Email already registered")
    return user


{% if oauth %}
@router.post(
    "/token",
    responses={
        400: {"description": "An unknown scope, or a body that cannot be read"},
        401: {"description": "Wrong email or password"},
    },
)
{% else %}
@router.post(
    "/token", responses={401: {"description": "Wrong email or password"}} | UNREADABLE_BODY
)
{% endif %}
async def login(
    form: Annotated[LoginForm, Depends()],
    users: UsersDep,
    settings: SettingsDep,
    response: Response,
) -> Token:
    """Exchanges an email (the `username` field) and password for a bearer token."""
    user = await users.get_by_email(form.username.lower())
    # An unknown email costs a hash too (against a dummy): timing tells no one who has an account.
    hashed_password = user.hashed_password if user else None
    valid = await run_in_threadpool(verify_password, form.password, hashed_password)
    if user is None or not valid:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Incorrect email or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
{% if oauth %}
    if unknown := set(form.scopes) - SCOPES.keys():
        detail = f"Unknown scope: {' '.join(sorted(unknown))}"
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail)
{% endif %}
    expires_in = timedelta(minutes=settings.jwt_expire_minutes)
    token = create_access_token(
        subject=user.id,
        secret=settings.jwt_secret.get_secret_value(),
        expires_in=expires_in,
{% if oauth %}
        scopes=form.scopes or SCOPES.keys(),
{% endif %}
    )
    response.headers["Cache-Control"] = "no-store"  # RFC 6749: never cache a token response
    return Token(access_token=token, expires_in=int(expires_in.total_seconds()))


@router.get("/me", response_model=UserRead)
async def me(user: CurrentUser) -> User:
    """The signed-in user's account."""
    return user
