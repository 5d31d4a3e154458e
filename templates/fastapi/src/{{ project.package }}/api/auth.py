{% set oauth = "oauth" in extras %}
{% set pkg = project.package %}
"""Accounts and tokens: register, sign in (OAuth2 password flow), and who am I."""

{% filter py_imports %}
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm

from {{ pkg }}.dependencies import CurrentUser, SettingsDep, UsersDep
from {{ pkg }}.models import User
from {{ pkg }}.schemas import Token, UserCreate, UserRead
from {{ pkg }}.security import {{ "SCOPES, " if oauth else "" }}create_access_token, hash_password, verify_password
{% endfilter %}

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The email is already registered"}},
)
async def register(data: UserCreate, users: UsersDep) -> User:
    # Argon2 is slow on purpose: hash in a worker thread so the event loop keeps serving.
    hashed_password = await run_in_threadpool(hash_password, data.password)
    user = await users.create(email=data.email, hashed_password=hashed_password)
    if user is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "Email already registered")
    return user


@router.post("/token", responses={401: {"description": "Wrong email or password"}})
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    users: UsersDep,
    settings: SettingsDep,
    response: Response,
) -> Token:
    """Exchanges an email (the `username` field) and password for a bearer token."""
    user = await users.get_by_email(form.username.lower())
    if user is None or not await run_in_threadpool(
        verify_password, form.password, user.hashed_password
    ):
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
