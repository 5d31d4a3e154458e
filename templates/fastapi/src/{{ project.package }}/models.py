{% if db == "postgres" %}
"""Database tables, as typed SQLAlchemy 2 models.

Change a model, then write a migration for it: `alembic revision --autogenerate -m "..."`.
"""

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    # Predictable constraint names, so later migrations can alter or drop them by name.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(1000))
    quantity: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
{% if auth == "jwt" %}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
{% endif %}
{% else %}
{% set id_type = "str" if db == "mongo" else "int" %}
"""What the repositories store and hand back to the routes."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Item:
    id: {{ id_type }}
    name: str
    description: str | None
    quantity: int
    created_at: datetime
{% if auth == "jwt" %}


@dataclass(frozen=True, slots=True)
class User:
    id: {{ id_type }}
    email: str
    hashed_password: str
    created_at: datetime
{% endif %}
{% endif %}
