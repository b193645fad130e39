"""Alembic environment: the engine comes from the caller (outages.db.upgrade), never from a URL in a file."""

from alembic import context

from outages.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
