"""Alembic environment of the service database (separate from the desktop store's)."""
from alembic import context

from server.models import Base
import server.billing.models  # noqa: F401,E402 - the billing tables (0006_billing)

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
