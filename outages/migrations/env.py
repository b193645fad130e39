"""Alembic environment: the engine comes from the caller (outages.db.upgrade), never from a URL in a file."""

from alembic import context

from outages.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # A migration may rewrite a big table or wait for readers to finish: never cut it off half-way.
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
        context.run_migrations()
