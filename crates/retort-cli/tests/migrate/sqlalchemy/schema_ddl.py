"""Prints the declared schema: the application's SQLAlchemy models as DDL."""
import sys

from sqlalchemy import create_mock_engine

from models import metadata


def dump(sql, *multiparams, **params):
    print(str(sql.compile(dialect=engine.dialect)).strip() + ";\n")


engine = create_mock_engine(sys.argv[1], dump)
metadata.create_all(engine, checkfirst=False)
