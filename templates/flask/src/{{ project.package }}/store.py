{% if db == "postgres" %}
"""Storage: the only module that reads and writes {% if auth == "jwt" %}items and users{% else %}items{% endif %}."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
{% if auth == "jwt" %}
from sqlalchemy.exc import IntegrityError
{% endif %}
from sqlalchemy.orm import Session

from . import db
{% if auth == "jwt" %}
from .models import Item, User
{% else %}
from .models import Item
{% endif %}
from .schemas import ItemCreate

{% if auth == "jwt" %}
__all__ = ["Item", "ItemStore", "User", "UserStore", "UsernameTaken", "item_store", "user_store"]
{% else %}
__all__ = ["Item", "ItemStore", "item_store"]
{% endif %}
{% if auth == "jwt" %}


class UsernameTaken(Exception):
    """Another user already has this username."""
{% endif %}


class ItemStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def page(self, *, limit: int, offset: int) -> list[Item]:
        query = select(Item).order_by(Item.id).limit(limit).offset(offset)
        return list(self._session.scalars(query))

    def get(self, item_id: int) -> Item | None:
        return self._session.get(Item, item_id)

    def create(self, data: ItemCreate) -> Item:
        item = Item(**data.model_dump())
        self._session.add(item)
        self._session.commit()
        return item

    def update(self, item: Item, changes: Mapping[str, Any]) -> Item:
        for field, value in changes.items():
            setattr(item, field, value)
        self._session.commit()
        return item

    def delete(self, item: Item) -> None:
        self._session.delete(item)
        self._session.commit()
{% if auth == "jwt" %}


class UserStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, user_id: int) -> User | None:
        return self._session.get(User, user_id)

    def get_by_username(self, username: str) -> User | None:
        return self._session.scalars(select(User).where(User.username == username)).first()

    def create(self, username: str, password_hash: str) -> User:
        user = User(username=username, password_hash=password_hash)
        self._session.add(user)
        try:
            self._session.commit()
        except IntegrityError:
            self._session.rollback()
            raise UsernameTaken(username) from None
        return user
{% endif %}


def item_store() -> ItemStore:
    return ItemStore(db.session())
{% if auth == "jwt" %}


def user_store() -> UserStore:
    return UserStore(db.session())
{% endif %}
{% else %}
"""Storage in this process's memory: the only module that reads and writes {% if auth == "jwt" %}items and users{% else %}items{% endif %}.

This project has no database (`labforge new --db none`): data is lost when the process stops
and is not shared between processes, so the server runs a single process (with threads).
"""

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app

from .schemas import ItemCreate


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Item:
    id: int
    name: str
    description: str | None
    quantity: int
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
{% if auth == "jwt" %}


@dataclass(frozen=True)
class User:
    id: int
    username: str
    password_hash: str
    created_at: datetime = field(default_factory=utcnow)


class UsernameTaken(Exception):
    """Another user already has this username."""
{% endif %}


class ItemStore:
    def __init__(self) -> None:
        self._items: dict[int, Item] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()  # the server answers requests in several threads

    def page(self, *, limit: int, offset: int) -> list[Item]:
        with self._lock:
            return sorted(self._items.values(), key=lambda item: item.id)[offset : offset + limit]

    def get(self, item_id: int) -> Item | None:
        return self._items.get(item_id)

    def create(self, data: ItemCreate) -> Item:
        with self._lock:
            item = Item(id=next(self._ids), **data.model_dump())
            self._items[item.id] = item
        return item

    def update(self, item: Item, changes: Mapping[str, Any]) -> Item:
        with self._lock:
            updated = replace(item, **changes, updated_at=utcnow())
            self._items[item.id] = updated
        return updated

    def delete(self, item: Item) -> None:
        with self._lock:
            self._items.pop(item.id, None)
{% if auth == "jwt" %}


class UserStore:
    def __init__(self) -> None:
        self._users: dict[int, User] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def get(self, user_id: int) -> User | None:
        return self._users.get(user_id)

    def get_by_username(self, username: str) -> User | None:
        with self._lock:
            return next((u for u in self._users.values() if u.username == username), None)

    def create(self, username: str, password_hash: str) -> User:
        with self._lock:
            if any(u.username == username for u in self._users.values()):
                raise UsernameTaken(username)
            user = User(id=next(self._ids), username=username, password_hash=password_hash)
            self._users[user.id] = user
        return user
{% endif %}


def init_app(app: Flask) -> None:
    app.extensions["item_store"] = ItemStore()
{% if auth == "jwt" %}
    app.extensions["user_store"] = UserStore()
{% endif %}


def item_store() -> ItemStore:
    store: ItemStore = current_app.extensions["item_store"]
    return store
{% if auth == "jwt" %}


def user_store() -> UserStore:
    store: UserStore = current_app.extensions["user_store"]
    return store
{% endif %}
{% endif %}
