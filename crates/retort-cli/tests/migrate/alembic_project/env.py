"""Runs the revisions on the database named by ALEMBIC_URL, one
transaction per revision, as a project's own env.py would."""
import os

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool


def run_migrations_online():
    engine = create_engine(os.environ["ALEMBIC_URL"], poolclass=NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
