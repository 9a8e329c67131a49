"""Where the queue lives: the state store's own PostgreSQL database."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from ..errors import ConfigError

INSTALL_HINT = "syncframe worker needs Procrastinate: pip install 'syncframe[worker]'"


class NotPostgresError(ConfigError):
    """The state store is not PostgreSQL (the queue needs it)."""


def queue_conninfo(state_url: str) -> str:
    """The libpq connection URI of a PostgreSQL SQLAlchemy URL.

    ``postgresql+psycopg2://u:p@host/db?options=...`` becomes
    ``postgresql://u:p@host/db?options=...``: the same server, database and
    options (``search_path`` included), for psycopg 3.

    :raises NotPostgresError: for SQLite (a file path or ``sqlite://``) and any other database.
    """
    if "://" not in state_url:
        state_url = f"sqlite:///{state_url}"
    url = make_url(state_url)
    if url.get_backend_name() != "postgresql":
        raise NotPostgresError(
            f"the job queue needs a PostgreSQL state store, not {url.get_backend_name()} "
            "(--state postgresql://user@host/db); one machine with SQLite: use 'syncframe serve'"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def require_procrastinate() -> None:
    """Fail with the install hint when the ``worker`` extra is missing."""
    try:
        import procrastinate  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{INSTALL_HINT} ({exc.name} is not installed)") from exc
