"""The PostgreSQL URL a test may use: ``DATABASE_URL_TEST`` (``.ci/run`` sets it) or the local
default, and under pytest-xdist a database of the worker's own (``<name>_gw0``, ``<name>_gw1``…,
created on first use, so two workers never reset each other's schema)."""
from __future__ import annotations

import os

PG_DEFAULT = "postgresql://stockscanner:stockscanner@127.0.0.1:5432/stockscanner_test"
_made: set[str] = set()


def base_url() -> str:
    from server.config import normalise_database_url

    return normalise_database_url(os.environ.get("DATABASE_URL_TEST") or PG_DEFAULT)


def pg_url() -> str:
    """This test process's database (see the module docstring); raises when PostgreSQL cannot be
    reached or the worker's database cannot be created."""
    from sqlalchemy.engine import make_url

    url = base_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker or worker == "master":
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    own = base.set(database=name).render_as_string(hide_password=False)
    if own not in _made:
        from sqlalchemy import create_engine, text

        engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        _made.add(own)
    return own
