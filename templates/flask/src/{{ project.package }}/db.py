"""The database connection: one SQLAlchemy engine per app, one session per request."""

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def sqlalchemy_url(database_url: str) -> str:
    """`postgresql://...` (the libpq form `.env` and Kubernetes hold) with psycopg 3 as driver."""
    for scheme in ("postgresql://", "postgres://"):
        if database_url.startswith(scheme):
            return "postgresql+psycopg://" + database_url.removeprefix(scheme)
    return database_url


def make_engine(database_url: str) -> Engine:
    # pre_ping replaces connections the database closed (restarts, idle timeouts).
    return create_engine(sqlalchemy_url(database_url), pool_pre_ping=True)


def init_app(app: Flask, database_url: str) -> None:
    engine = make_engine(database_url)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    engine: Engine = current_app.extensions["db_engine"]
    return engine


def session() -> Session:
    """The current request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessions"]()
    db_session: Session = g.db_session
    return db_session


def _close_session(_error: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
