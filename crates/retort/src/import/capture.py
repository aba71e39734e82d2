"""Runs every revision of an Alembic project once, up to its heads and back
down to base, on a scratch database, and records the statements each
revision sends to the database driver, with their parameters rendered as
literals. `retort import alembic` runs this with the project's own Python
and writes the statements into retort revision files.

Arguments: the Alembic project (alembic.ini, pyproject.toml, or a directory
holding one of them or the script directory itself) and the dialect
(sqlite, postgres, mysql). The environment gives the scratch database
(RETORT_IMPORT_DB, JSON) and where to write the result (RETORT_IMPORT_OUT).
Progress goes to stderr as `retort-import: DIRECTION INDEX TOTAL REVISION`.
"""

import contextlib
import datetime
import decimal
import enum
import json
import os
import re
import sys
import traceback
import uuid

OUT = os.environ["RETORT_IMPORT_OUT"]


def write(document):
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(document, f)


class Failure(Exception):
    def __init__(self, kind, message, detail=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail


def last_line(error):
    """The exception in one line: the driver's own words for a database
    error, not SQLAlchemy's wrapping of them."""
    error = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    name = type(error).__name__
    return "%s: %s" % (name, lines[0]) if lines else name


# --- loading the project -----------------------------------------------------


def load_config(source):
    from alembic.config import Config

    path = os.path.abspath(source)
    if os.path.isdir(path):
        for name in ("alembic.ini", "pyproject.toml"):
            candidate = os.path.join(path, name)
            if os.path.isfile(candidate) and config_names_scripts(candidate):
                return config_from_file(candidate)
        if os.path.isfile(os.path.join(path, "env.py")) or os.path.isdir(
            os.path.join(path, "versions")
        ):
            config = Config()
            config.set_main_option("script_location", path)
            return config
        raise Failure(
            "not_alembic",
            "%s holds no alembic.ini, no pyproject.toml with [tool.alembic], "
            "and no Alembic script directory (env.py, versions/)" % path,
        )
    if not os.path.isfile(path):
        raise Failure("not_alembic", "%s does not exist" % path)
    return config_from_file(path)


def config_names_scripts(path):
    if path.endswith(".toml"):
        with open(path, encoding="utf-8") as f:
            return "[tool.alembic]" in f.read()
    return True


def config_from_file(path):
    from alembic.config import Config

    if path.endswith(".toml"):
        try:
            config = Config(toml_file=path)
        except TypeError:
            raise Failure(
                "not_alembic",
                "%s configures Alembic in pyproject.toml, which needs Alembic 1.16 "
                "or later in this interpreter" % path,
            )
    else:
        config = Config(path)
    if not config.get_main_option("script_location"):
        raise Failure(
            "not_alembic",
            "%s has no `script_location` in its [alembic] section" % path,
        )
    return config


def load_scripts(config):
    from alembic.script import ScriptDirectory

    try:
        scripts = ScriptDirectory.from_config(config)
        revisions = list(scripts.walk_revisions("base", "heads"))
    except Failure:
        raise
    except BaseException as error:  # noqa: BLE001 - any error loading user code
        raise Failure(
            "alembic_load",
            "Alembic could not load the revision files: %s" % last_line(error),
            traceback.format_exc(),
        )
    revisions.reverse()
    return scripts, revisions


class EnvRead(Exception):
    """Stops env.py where it would connect to a database or migrate."""


ENGINE_FACTORIES = (
    ("sqlalchemy", ("create_engine", "engine_from_config")),
    ("sqlalchemy.engine", ("create_engine", "engine_from_config")),
    ("sqlalchemy.engine.create", ("create_engine", "engine_from_config")),
    ("sqlalchemy.ext.asyncio", ("create_async_engine", "async_engine_from_config")),
    ("sqlalchemy.ext.asyncio.engine", ("create_async_engine", "async_engine_from_config")),
)

# What env.py may give context.configure that changes the SQL a revision
# sends: the naming convention of target_metadata names constraints, and
# the version table is retort's too.
KEPT_OPTIONS = ("target_metadata", "version_table", "version_table_schema")


def read_env(config, scripts):
    """The options env.py passes to context.configure, and a warning when
    env.py cannot be read. env.py runs until it would create an engine or
    configure the context: both are stopped there, so it never connects to
    the database it names."""
    import importlib

    from alembic.runtime.environment import EnvironmentContext

    path = os.path.join(scripts.dir, "env.py")
    if not os.path.isfile(path):
        return {}, None
    recorded = {}

    def configure(self, **options):
        recorded.update(options)
        raise EnvRead()

    def no_engine(*args, **kwargs):
        raise EnvRead()

    patches = [(EnvironmentContext, "configure", configure)]
    for module_name, names in ENGINE_FACTORIES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        patches.extend((module, name, no_engine) for name in names if hasattr(module, name))
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    namespace = {"__file__": path, "__name__": "env_py"}
    warning = None
    try:
        for owner, name, replacement in patches:
            setattr(owner, name, replacement)
        with open(path, encoding="utf-8") as f:
            code = compile(f.read(), path, "exec")
        with EnvironmentContext(config, scripts, fn=lambda rev, context: []):
            exec(code, namespace)
    except EnvRead:
        pass
    except BaseException as error:  # noqa: BLE001 - reported as a warning
        if isinstance(error, KeyboardInterrupt):
            raise
        warning = (
            "env.py could not be run to read its settings (%s): constraint names "
            "follow SQLAlchemy's defaults, not a naming convention env.py may set"
            % last_line(error)
        )
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
    if "target_metadata" not in recorded and namespace.get("target_metadata") is not None:
        recorded["target_metadata"] = namespace["target_metadata"]
    kept = {name: recorded[name] for name in KEPT_OPTIONS if recorded.get(name) is not None}
    if warning is None:
        return kept, None
    # env.py failed before configure: a literal setting in its text is
    # better than none.
    for name in ("version_table", "version_table_schema"):
        if name not in kept:
            literal = env_literal(path, name)
            if literal:
                kept[name] = literal
    return kept, warning


def env_literal(path, name):
    """A literal `name="value"` in env.py's text."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = re.search(r"\b%s\s*=\s*['\"]([A-Za-z0-9_$.]+)['\"]" % name, text)
    return found.group(1) if found else None


CREATE_DATE = re.compile(r"^\s*Create Date:\s*(.+?)\s*$", re.MULTILINE)


def metadata(script):
    def as_list(value):
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        return list(value)

    doc = script.module.__doc__ or ""
    created = CREATE_DATE.search(doc)
    return {
        "revision": script.revision,
        "revises": as_list(script.down_revision),
        "branch_labels": sorted(as_list(script._orig_branch_labels)),
        "depends_on": as_list(script.dependencies),
        "message": " ".join((script.doc or "").split()),
        "created": created.group(1) if created else None,
        # As the user knows it: from where they run `alembic`.
        "path": os.path.relpath(script.path),
    }


# --- the scratch database ----------------------------------------------------


def engine_for(database):
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    kind = database["dialect"]
    if kind == "sqlite":
        url = sqlalchemy.engine.URL.create("sqlite", database=database["path"])
    else:
        driver = find_driver(kind)
        url = sqlalchemy.engine.URL.create(
            "%s+%s" % (kind, driver),
            username=database.get("user"),
            password=database.get("password"),
            host=database.get("host"),
            port=database.get("port"),
            database=database.get("database"),
            query=database.get("query") or {},
        )
    return sqlalchemy.create_engine(url, poolclass=NullPool)


DRIVERS = {
    "postgresql": [("psycopg2", "psycopg2"), ("psycopg", "psycopg"), ("pg8000", "pg8000")],
    "mysql": [("pymysql", "pymysql"), ("mysqldb", "MySQLdb"), ("mysqlconnector", "mysql.connector")],
}

PACKAGES = {"postgresql": "psycopg2-binary", "mysql": "pymysql"}


def find_driver(kind):
    import importlib

    for driver, module in DRIVERS[kind]:
        try:
            importlib.import_module(module)
            return driver
        except ImportError:
            continue
    raise Failure(
        "no_driver",
        "no %s driver is installed in this interpreter (tried %s)"
        % (kind, ", ".join(module for _, module in DRIVERS[kind])),
        PACKAGES[kind],
    )


# --- literals ----------------------------------------------------------------


def quote(text):
    return "'" + text.replace("'", "''") + "'"


def literal(value, dialect):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        if dialect == "postgresql":
            return "TRUE" if value else "FALSE"
        return "1" if value else "0"
    if isinstance(value, enum.Enum):
        return quote(str(value.name))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return quote(repr(value).replace("inf", "Infinity").replace("nan", "NaN"))
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        hexed = bytes(value).hex()
        if dialect == "postgresql":
            return "'\\x%s'::bytea" % hexed
        return "X'%s'" % hexed
    if isinstance(value, datetime.datetime):
        return quote(value.isoformat(sep=" "))
    if isinstance(value, (datetime.date, datetime.time)):
        return quote(value.isoformat())
    if isinstance(value, datetime.timedelta):
        return quote("%s seconds" % value.total_seconds())
    if isinstance(value, uuid.UUID):
        return quote(str(value))
    if isinstance(value, (dict, list, tuple)):
        return quote(json.dumps(value))
    if isinstance(value, str):
        if dialect == "mysql":
            return quote(value.replace("\\", "\\\\"))
        return quote(value)
    return quote(str(value))


def placeholders(statement, paramstyle, dialect):
    """Yields (start, end, key) of each placeholder outside string literals,
    quoted identifiers, comments and dollar quotes. `key` is an index or a
    name; None marks a `%%` that the driver turns into `%`."""
    i = 0
    n = len(statement)
    position = 0
    while i < n:
        c = statement[i]
        if c == "'" or (c == '"' and dialect != "postgresql"):
            end = i + 1
            while end < n:
                if dialect == "mysql" and statement[end] == "\\":
                    end += 2
                    continue
                if statement[end] == c:
                    if end + 1 < n and statement[end + 1] == c:
                        end += 2
                        continue
                    break
                end += 1
            i = end + 1
            continue
        if c in '"`[':
            close = {'"': '"', "`": "`", "[": "]"}[c]
            if c == "[" and dialect != "sqlite":
                i += 1
                continue
            end = statement.find(close, i + 1)
            i = n if end < 0 else end + 1
            continue
        if statement.startswith("--", i):
            end = statement.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if statement.startswith("/*", i):
            end = statement.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if c == "$" and dialect == "postgresql":
            tag = re.match(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$", statement[i:])
            if tag:
                end = statement.find(tag.group(0), i + len(tag.group(0)))
                i = n if end < 0 else end + len(tag.group(0))
                continue
        if paramstyle == "qmark" and c == "?":
            yield i, i + 1, position
            position += 1
        elif paramstyle in ("format", "pyformat") and c == "%":
            if statement.startswith("%%", i):
                yield i, i + 2, None
                i += 2
                continue
            named = re.match(r"%\(([^)]+)\)s", statement[i:])
            if named:
                yield i, i + len(named.group(0)), named.group(1)
                i += len(named.group(0))
                continue
            if statement.startswith("%s", i):
                yield i, i + 2, position
                position += 1
                i += 2
                continue
        elif paramstyle == "named" and c == ":" and not statement.startswith("::", i):
            named = re.match(r":([A-Za-z_][A-Za-z_0-9]*)", statement[i:])
            if named and (i == 0 or statement[i - 1] != ":"):
                yield i, i + len(named.group(0)), named.group(1)
                i += len(named.group(0))
                continue
        elif paramstyle in ("numeric", "numeric_dollar") and c in ":$":
            number = re.match(r"[:$](\d+)", statement[i:])
            if number and (c == ":") == (paramstyle == "numeric"):
                yield i, i + len(number.group(0)), int(number.group(1)) - 1
                i += len(number.group(0))
                continue
        i += 1


def render(statement, parameters, paramstyle, dialect, escaped_percent):
    out = []
    last = 0
    for start, end, key in placeholders(statement, paramstyle, dialect):
        out.append(statement[last:start])
        if key is None:
            out.append("%" if escaped_percent else "%%")
        else:
            out.append(literal(parameters[key], dialect))
        last = end
    out.append(statement[last:])
    return "".join(out)


def with_literals(cursor, statement, parameters, paramstyle, dialect, no_parameters):
    """The statement as the server runs it: the driver's own rendering where
    it has one (psycopg2, PyMySQL), else the placeholders replaced here."""
    mogrify = getattr(cursor, "mogrify", None)
    if mogrify is not None and paramstyle in ("format", "pyformat"):
        try:
            text = mogrify(statement, None if no_parameters else parameters)
            return text.decode() if isinstance(text, bytes) else text
        except Exception:  # noqa: BLE001 - fall back to rendering here
            pass
    if no_parameters:
        return statement
    return render(statement, parameters, paramstyle, dialect, True)


# --- what a statement is -----------------------------------------------------

CATALOG = re.compile(
    r"\b(pg_catalog|information_schema|pg_[a-z_]+|sqlite_master|sqlite_schema|"
    r"sqlite_temp_master|performance_schema|mysql\.[a-z_]+)\b",
    re.IGNORECASE,
)
FIRST_WORD = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*([A-Za-z]+)", re.DOTALL)
TRANSACTION = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START", "END"}


def classify(statement):
    """`run` (part of the migration), `introspection` (Alembic or the
    revision looking at the schema), `read` (reading rows: the SQL depends
    on the data), or `transaction` (BEGIN, COMMIT, savepoints)."""
    word = FIRST_WORD.match(statement)
    first = word.group(1).upper() if word else ""
    if first in TRANSACTION:
        return "transaction"
    if first in ("SHOW", "DESCRIBE", "DESC", "EXPLAIN"):
        return "introspection"
    if first == "PRAGMA":
        return "run" if "=" in statement else "introspection"
    if first in ("SELECT", "WITH", "VALUES", "TABLE"):
        if first == "WITH" and re.search(
            r"\b(INSERT|UPDATE|DELETE|MERGE)\b", statement, re.IGNORECASE
        ):
            return "run"
        if CATALOG.search(statement) or not re.search(
            r"\bFROM\b", statement, re.IGNORECASE
        ):
            return "introspection"
        return "read"
    return "run"


# --- recording ---------------------------------------------------------------


class Capture:
    """The statements of one revision in one direction."""

    def __init__(self):
        self.statements = []
        self.reads = []
        self.error = None
        self.detail = None
        self.commits = False
        self.autocommit = 0
        # Statements the database refused while the revision went on (it
        # caught the error): they had no effect in Alembic's run either.
        self.failed = []


def transaction_failed(connection):
    """Whether the server refuses every statement until a rollback: a
    statement failed and the revision went on (psycopg2 and psycopg report
    it; status 3 is INERROR in both)."""
    try:
        raw = connection.connection.dbapi_connection
    except Exception:  # noqa: BLE001 - no DBAPI connection to ask
        return False
    status = getattr(raw, "get_transaction_status", None)
    if status is not None:
        return status() == 3
    info_status = getattr(getattr(raw, "info", None), "transaction_status", None)
    return info_status is not None and int(info_status) == 3


def is_many(parameters):
    """A list of parameter sets, as opposed to one set (a batch of
    `insertmanyvalues` arrives as one set while flagged as many)."""
    return isinstance(parameters, (list, tuple)) and all(
        isinstance(one, (dict, list, tuple)) for one in parameters
    )


class Recorder:
    def __init__(self, dialect):
        self.dialect = dialect
        self.current = None
        # How many statements the last execution recorded.
        self.last = 0

    def on_execute(self, conn, cursor, statement, parameters, context, executemany):
        capture = self.current
        self.last = 0
        if capture is None:
            return
        kind = classify(statement)
        if kind == "introspection":
            return
        if kind == "transaction":
            if statement.strip().upper().startswith(("COMMIT", "END")):
                capture.commits = True
            return
        paramstyle = conn.dialect.paramstyle
        no_parameters = bool(context is not None and context.no_parameters and not parameters)
        sets = parameters if executemany and is_many(parameters) else [parameters]
        for one in sets:
            sql = with_literals(cursor, statement, one, paramstyle, self.dialect, no_parameters)
            if kind == "read":
                capture.reads.append(sql.strip())
            else:
                capture.statements.append(
                    {"sql": sql.strip(), "autocommit": capture.autocommit > 0}
                )
                self.last += 1

    def on_error(self, context):
        capture = self.current
        if capture is None or self.last == 0:
            return
        failed = capture.statements[-self.last :]
        del capture.statements[-self.last :]
        self.last = 0
        error = last_line(context.original_exception)
        capture.failed.extend({"sql": one["sql"], "error": error} for one in failed)

    @contextlib.contextmanager
    def window(self, capture):
        self.current = capture
        try:
            yield
        finally:
            self.current = None


def run(source, dialect_arg):
    try:
        import alembic
        import sqlalchemy
        from alembic.runtime.environment import EnvironmentContext
        from alembic.runtime.migration import MigrationContext
    except ImportError as error:
        raise Failure("no_alembic", "cannot import Alembic: %s" % last_line(error))

    database = json.loads(os.environ["RETORT_IMPORT_DB"])
    dialect = database["dialect"]
    config = load_config(source)
    scripts, revisions = load_scripts(config)
    options, env_warning = read_env(config, scripts)
    engine = engine_for(database)
    recorder = Recorder(dialect)
    sqlalchemy.event.listen(engine, "before_cursor_execute", recorder.on_execute)
    sqlalchemy.event.listen(engine, "handle_error", recorder.on_error)

    captured = {script.revision: {"up": Capture(), "down": Capture()} for script in revisions}
    order = {"up": [], "down": []}
    total = len(revisions)

    original_autocommit = MigrationContext.autocommit_block

    @contextlib.contextmanager
    def autocommit_block(self):
        capture = recorder.current
        if capture is not None:
            capture.autocommit += 1
        try:
            with original_autocommit(self):
                yield
        finally:
            if capture is not None:
                capture.autocommit -= 1

    MigrationContext.autocommit_block = autocommit_block

    def end(savepoint, how):
        """Ends the savepoint around a revision (unless an autocommit block
        in it already ended the transaction it was in); an error when the
        savepoint cannot be released: a statement failed and the revision
        caught the error, but PostgreSQL had aborted the transaction, as
        Alembic's own run would find at its next statement."""
        if savepoint is None or not savepoint.is_active:
            return None
        aborted = transaction_failed(savepoint.connection)
        try:
            getattr(savepoint, "rollback" if aborted else how)()
        except sqlalchemy.exc.InvalidRequestError:
            pass
        if aborted:
            return "PostgreSQL aborted the transaction: a statement failed and the revision caught the error"
        return None

    def wrap(script, direction, fn):
        def step(*args, **kwargs):
            capture = captured[script.revision][direction]
            order[direction].append(script.revision)
            sys.stderr.write(
                "retort-import: %s %d %d %s\n"
                % (direction, len(order[direction]), total, script.revision)
            )
            sys.stderr.flush()
            bind = scripts_context["context"].bind
            savepoint = bind.begin_nested() if dialect == "postgresql" else None
            try:
                with recorder.window(capture):
                    fn(*args, **kwargs)
            except BaseException as error:  # noqa: BLE001 - the revision's own failure
                if isinstance(error, KeyboardInterrupt):
                    raise
                capture.error = last_line(error)
                capture.detail = traceback.format_exc()
                end(savepoint, "rollback")
            else:
                capture.error = end(savepoint, "commit")

        return step

    for script in revisions:
        module = script.module
        for direction, name in (("up", "upgrade"), ("down", "downgrade")):
            fn = getattr(module, name, None)
            if fn is not None:
                setattr(module, name, wrap(script, direction, fn))

    scripts_context = {}

    def migrate(target, direction):
        def fn(rev, context):
            if direction == "up":
                return scripts._upgrade_revs(target, rev)
            return scripts._downgrade_revs(target, rev)

        with EnvironmentContext(config, scripts, fn=fn) as env:
            with engine.connect() as connection:
                env.configure(
                    connection=connection,
                    transaction_per_migration=True,
                    **options,
                )
                scripts_context["context"] = env.get_context()
                with env.begin_transaction():
                    env.run_migrations()

    migrate("heads", "up")
    migrate("base", "down")

    def direction_json(capture, ran):
        return {
            "ran": ran,
            "statements": capture.statements,
            "reads": capture.reads,
            "error": capture.error,
            "detail": capture.detail,
            "commits": capture.commits,
            "failed": capture.failed,
        }

    result = []
    for script in revisions:
        entry = metadata(script)
        for direction, name in (("up", "upgrade"), ("down", "downgrade")):
            entry[name] = direction_json(
                captured[script.revision][direction],
                script.revision in order[direction],
            )
            entry["has_" + name] = hasattr(script.module, name)
        result.append(entry)
    return {
        "alembic": alembic.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "python": sys.version.split()[0],
        "version_table": options.get("version_table"),
        "version_table_schema": options.get("version_table_schema"),
        "warnings": [env_warning] if env_warning else [],
        "script_location": scripts.dir,
        "revisions": result,
    }


def main():
    source, dialect = sys.argv[1], sys.argv[2]
    try:
        write({"ok": run(source, dialect)})
    except Failure as failure:
        write({"error": {"kind": failure.kind, "message": failure.message, "detail": failure.detail}})
    except BaseException as error:  # noqa: BLE001 - reported, not raised
        if isinstance(error, KeyboardInterrupt):
            raise
        write(
            {
                "error": {
                    "kind": "alembic_run",
                    "message": last_line(error),
                    "detail": traceback.format_exc(),
                }
            }
        )


if __name__ == "__main__":
    main()
