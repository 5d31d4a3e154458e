"""Alembic's environment: how `alembic` connects and what it compares migrations against.

`{{ project.package }}.migrate` passes the database URL in `config.attributes`.
"""

from alembic import context

from {{ project.package }}.db import make_engine
from {{ project.package }}.models import Base

config = context.config


def run_migrations() -> None:
    engine = make_engine(config.attributes["database_url"])
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                # SQLite cannot ALTER most things: rebuild tables instead.
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations()
