{% set jwt = auth == "jwt" %}
{% set oauth = "oauth" in extras %}
{% set pkg = project.package %}
{% set sql = db == "postgres" %}
{% if jwt %}
"""FastAPI dependencies: settings, {{ "a database session, " if sql else "" }}repositories and the signed-in user.
{% else %}
"""FastAPI dependencies: settings, {{ "a database session " if sql else "the database " }}and the repository.
{% endif %}

Routes take them as annotated parameters, e.g. `items: ItemsDep`.
"""

{% filter py_imports %}
{% if sql %}
from collections.abc import AsyncIterator
{% endif %}
from typing import Annotated

from fastapi import Depends, {{ "HTTPException, " if jwt else "" }}Request{{ ", Security, status" if oauth else (", status" if jwt else "") }}
{% if oauth %}
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
{% elif jwt %}
from fastapi.security import OAuth2PasswordBearer
{% endif %}
{% if jwt %}
from jwt import InvalidTokenError
{% endif %}
{% if sql %}
from sqlalchemy.ext.asyncio import AsyncSession
{% endif %}

from {{ pkg }}.config import Settings
{% if db == "postgres" %}
from {{ pkg }}.database import Database
{% if jwt %}
from {{ pkg }}.models import User
{% endif %}
from {{ pkg }}.repositories import ItemRepository{{ ", UserRepository" if jwt else "" }}
{% elif db == "mongo" %}
from {{ pkg }}.database import Database
{% if jwt %}
from {{ pkg }}.models import User
{% endif %}
from {{ pkg }}.repositories import ItemRepository{{ ", UserRepository" if jwt else "" }}
{% else %}
from {{ pkg }}.memory import InMemoryDatabase, InMemoryItemRepository{{ ", InMemoryUserRepository" if jwt else "" }}
{% if jwt %}
from {{ pkg }}.models import User
{% endif %}
{% endif %}
{% if oauth %}
from {{ pkg }}.security import SCOPES, AccessToken, decode_access_token
{% elif jwt %}
from {{ pkg }}.security import AccessToken, decode_access_token
{% endif %}
{% endfilter %}
{% if db == "none" %}
{% set database_type = "InMemoryDatabase" %}
{% set item_repository = "InMemoryItemRepository" %}
{% set user_repository = "InMemoryUserRepository" %}
{% else %}
{% set database_type = "Database" %}
{% set item_repository = "ItemRepository" %}
{% set user_repository = "UserRepository" %}
{% endif %}


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> {{ database_type }}:
    database: {{ database_type }} = request.app.state.database
    return database


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[{{ database_type }}, Depends(get_database)]
{% if sql %}


async def get_session(database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """One session per request, closed when the response is sent."""
    async with database.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def get_item_repository(session: SessionDep) -> ItemRepository:
    return ItemRepository(session)
{% if jwt %}


def get_user_repository(session: SessionDep) -> UserRepository:
    return UserRepository(session)
{% endif %}
{% else %}


def get_item_repository(database: DatabaseDep) -> {{ item_repository }}:
    return database.items
{% if jwt %}


def get_user_repository(database: DatabaseDep) -> {{ user_repository }}:
    return database.users
{% endif %}
{% endif %}


ItemsDep = Annotated[{{ item_repository }}, Depends(get_item_repository)]
{% if jwt %}
UsersDep = Annotated[{{ user_repository }}, Depends(get_user_repository)]

# Reads `Authorization: Bearer <token>`; tokenUrl points Swagger UI's "Authorize" at the login.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="auth/token"{{ ", scopes=SCOPES" if oauth else "" }}, auto_error=False)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def get_access_token(
    token: Annotated[str | None, Depends(oauth2_scheme)], settings: SettingsDep
) -> AccessToken | None:
    """The request's verified bearer token; `None` when it sends none, 401 when it is bad."""
    if token is None:
        return None
    try:
        return decode_access_token(token, settings.jwt_secret.get_secret_value())
    except InvalidTokenError:
        raise _unauthorized("Invalid or expired token") from None


AccessTokenDep = Annotated[AccessToken | None, Depends(get_access_token)]


{% if oauth %}
async def get_current_user(
    security_scopes: SecurityScopes, token: AccessTokenDep, users: UsersDep
) -> User:
{% else %}
async def get_current_user(token: AccessTokenDep, users: UsersDep) -> User:
{% endif %}
    """The signed-in user: 401 without a valid token{{ ", 403 when it lacks a scope the route needs" if oauth else "" }}."""
    if token is None:
        raise _unauthorized("Not authenticated")
    user = await users.get(token.sub)
    if user is None:  # the account is gone
        raise _unauthorized("Invalid or expired token")
{% if oauth %}
    missing = [scope for scope in security_scopes.scopes if scope not in token.scopes]
    if missing:
        challenge = f'Bearer error="insufficient_scope", scope="{security_scopes.scope_str}"'
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"Not enough permissions: the token lacks {' '.join(missing)}",
            headers={"WWW-Authenticate": challenge},
        )
{% endif %}
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
{% if oauth %}

# Route guards: `dependencies=[can_read_items]`.
can_read_items = Security(get_current_user, scopes=["items:read"])
can_write_items = Security(get_current_user, scopes=["items:write"])
{% endif %}
{% endif %}
