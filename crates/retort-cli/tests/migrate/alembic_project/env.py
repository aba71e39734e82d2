"""Runs the revisions on the database named by ALEMBIC_URL (else
sqlalchemy.url), one transaction per revision, as a project's own env.py
would. The naming convention names the constraints revisions leave
unnamed."""
import os

from alembic import context
from sqlalchemy import MetaData, create_engine
from sqlalchemy.pool import NullPool

target_metadata = MetaData(
    naming_convention={
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    }
)


def run_migrations_online():
    url = os.environ.get("ALEMBIC_URL") or context.config.get_main_option("sqlalchemy.url")
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
