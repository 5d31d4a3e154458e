"""FastAPI dependencies: settings, repositories and the signed-in user.

Routes take them as annotated parameters, e.g. `items: ItemsDep`.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
from jwt import InvalidTokenError

from {{ project.package }}.config import Settings
from {{ project.package }}.memory import (
    InMemoryDatabase,
    InMemoryItemRepository,
    InMemoryUserRepository,
)
from {{ project.package }}.models import User
from {{ project.package }}.security import SCOPES, AccessToken, decode_access_token


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> InMemoryDatabase:
    database: InMemoryDatabase = request.app.state.database
    return database


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[InMemoryDatabase, Depends(get_database)]


def get_item_repository(database: DatabaseDep) -> InMemoryItemRepository:
    return database.items


def get_user_repository(database: DatabaseDep) -> InMemoryUserRepository:
    return database.users


ItemsDep = Annotated[InMemoryItemRepository, Depends(get_item_repository)]
UsersDep = Annotated[InMemoryUserRepository, Depends(get_user_repository)]

# Reads `Authorization: Bearer <token>`; tokenUrl points Swagger UI's "Authorize" at the login.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="auth/token", scopes=SCOPES, auto_error=False)


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


async def get_current_user(
    security_scopes: SecurityScopes, token: AccessTokenDep, users: UsersDep
) -> User:
    """The signed-in user: 401 without a valid token, 403 when it lacks a scope the route needs."""
    if token is None:
        raise _unauthorized("Not authenticated")
    user = await users.get(token.sub)
    if user is None:  # the account is gone
        raise _unauthorized("Invalid or expired token")
    missing = [scope for scope in security_scopes.scopes if scope not in token.scopes]
    if missing:
        challenge = f'Bearer error="insufficient_scope", scope="{security_scopes.scope_str}"'
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"Not enough permissions: the token lacks {' '.join(missing)}",
            headers={"WWW-Authenticate": challenge},
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]

# Route guards: `dependencies=[can_read_items]`, one per scope.
can_read_items = Security(get_current_user, scopes=["items:read"])
can_write_items = Security(get_current_user, scopes=["items:write"])
can_delete_items = Security(get_current_user, scopes=["items:delete"])
