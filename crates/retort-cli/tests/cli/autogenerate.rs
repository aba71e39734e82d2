//! `revision --autogenerate`, `check` and `schema dump` on SQLite: the
//! declared schema (schema.sql) against the migrations, each built on an
//! in-memory scratch database and read back.

use insta::assert_snapshot;

use crate::util::Project;

/// A project on a SQLite file, with `schema.sql`.
fn project(schema: &str) -> Project {
    let project = Project::empty();
    project.write(
        "retort.toml",
        "[database]\nurl = \"sqlite:///app.db\"\n\n[migrations]\ndirs = [\"migrations\"]\n",
    );
    std::fs::create_dir_all(project.path("migrations")).unwrap();
    project.write("schema.sql", schema);
    project
}

/// Runs a command that must succeed (its output holds timings).
#[track_caller]
fn ok(project: &Project, args: &[&str]) {
    let transcript = project.retort(args);
    assert!(transcript.starts_with("exit: 0\n"), "{transcript}");
}

const USERS: &str = "\
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT
);
";

#[test]
fn first_revision_creates_the_declared_tables() {
    let project = project(USERS);
    assert_snapshot!(project.retort(&["check"]), @"
    exit: 3
    --- stdout
    added table users
    --- stderr
    error: the migrations do not build the declared schema: 1 difference(s)
    hint: `retort revision --autogenerate -m MESSAGE` writes the revision that closes the gap; or change the declared schema to match
    ");
    assert_snapshot!(project.retort(&["revision", "--autogenerate", "-m", "add users"]), @"
    exit: 0
    --- stdout
    migrations/[DATE]_[TIME]_[ID1]_add_users.sql
    --- stderr
    detected added table users
    ");
    let file = project.new_file("_add_users.sql");
    assert_snapshot!(project.read_normalised(&file), @"
    -- retort:revision [ID1]
    -- retort:message add users
    -- retort:created [CREATED]

    -- retort:upgrade
    -- added table users
    CREATE TABLE users (
        id integer,
        email text NOT NULL,
        name text,
        PRIMARY KEY (id),
        UNIQUE (email)
    );

    -- retort:downgrade
    -- removed table users
    DROP TABLE users;
    ");
    assert_snapshot!(project.retort(&["check"]), @"
    exit: 0
    --- stdout
    ok: the migrations build the declared schema
    --- stderr
    ");
    // Nothing changed: nothing is written.
    assert_snapshot!(project.retort(&["revision", "--autogenerate", "-m", "again"]), @"
    exit: 0
    --- stdout
    --- stderr
    no changes: the declared schema matches the migrations; no revision written
    ");
    assert_eq!(project.list("migrations").len(), 1);
    ok(&project, &["upgrade"]);
    assert_snapshot!(project.retort(&["schema", "dump"]), @"
    exit: 0
    --- stdout
    CREATE TABLE users (
        id integer,
        email text NOT NULL,
        name text,
        PRIMARY KEY (id),
        UNIQUE (email)
    );
    --- stderr
    ");
}

#[test]
fn a_change_to_the_declared_schema_is_detected_and_undone_by_the_downgrade() {
    let project = project(USERS);
    ok(&project, &["revision", "--autogenerate", "-m", "add users"]);
    ok(&project, &["upgrade"]);
    project.write(
        "schema.sql",
        "\
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX users_created ON users (created DESC);
",
    );
    assert_snapshot!(project.retort(&["check"]), @"
    exit: 3
    --- stdout
    removed column users.name
    added column users.created
    added index users_created on users
    --- stderr
    error: the migrations do not build the declared schema: 3 difference(s)
    hint: `retort revision --autogenerate -m MESSAGE` writes the revision that closes the gap; or change the declared schema to match
    ");
    assert_snapshot!(project.retort(&["revision", "--autogenerate", "-m", "created"]), @"
    exit: 0
    --- stdout
    migrations/[DATE]_[TIME]_[ID2]_created.sql
    --- stderr
    detected removed column users.name
    detected added column users.created
    detected added index users_created on users
    warning: drops column users.name and its values
    ");
    let file = project.new_file("_created.sql");
    assert_snapshot!(project.read_normalised(&file), @"
    -- retort:revision [ID2]
    -- retort:revises [ID1]
    -- retort:message created
    -- retort:created [CREATED]

    -- retort:upgrade
    -- removed column users.name
    -- added column users.created
    -- added index users_created on users
    -- DESTRUCTIVE: drops column users.name and its values
    CREATE TABLE _retort_new_users (
        id integer,
        email text NOT NULL,
        created text NOT NULL DEFAULT current_timestamp,
        PRIMARY KEY (id),
        UNIQUE (email)
    );
    INSERT INTO _retort_new_users (id, email) SELECT id, email FROM users;
    DROP TABLE users;
    ALTER TABLE _retort_new_users RENAME TO users;
    CREATE INDEX users_created ON users (created DESC);

    -- retort:downgrade
    -- removed index users_created on users
    -- removed column users.created
    -- added column users.name
    -- NOT RESTORED: the upgrade drops column users.name and its values
    DROP INDEX users_created;
    ALTER TABLE users DROP COLUMN created;
    ALTER TABLE users ADD COLUMN name text;
    ");
    ok(&project, &["upgrade"]);
    assert_snapshot!(project.retort(&["check"]), @"
    exit: 0
    --- stdout
    ok: the migrations build the declared schema
    --- stderr
    ");
    assert_snapshot!(project.retort(&["check", "--format", "json"]), @r#"
    exit: 0
    --- stdout
    {
      "ok": true,
      "changes": [],
      "warnings": []
    }
    --- stderr
    "#);
    // Back and forth: the downgrade restores the first schema.
    ok(&project, &["downgrade", "-1"]);
    project.write("schema.sql", USERS);
    assert_snapshot!(project.retort(&["revision", "--autogenerate", "--from-db", "-m", "x"]), @"
    exit: 0
    --- stdout
    --- stderr
    no changes: the declared schema matches the database; no revision written
    ");
}

#[test]
fn renames_come_from_hints() {
    let project = project(USERS);
    project.retort(&["revision", "--autogenerate", "-m", "add users"]);
    project.write(
        "schema.sql",
        "\
-- retort:renamed-from users
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    -- retort:renamed-from email
    login TEXT NOT NULL UNIQUE,
    name TEXT
);
",
    );
    assert_snapshot!(project.retort(&["revision", "--autogenerate", "-m", "accounts"]), @"
    exit: 0
    --- stdout
    migrations/[DATE]_[TIME]_[ID2]_accounts.sql
    --- stderr
    detected renamed table users to accounts
    detected renamed column accounts.email to login
    ");
    assert_snapshot!(project.read_normalised(&project.new_file("_accounts.sql")), @"
    -- retort:revision [ID2]
    -- retort:revises [ID1]
    -- retort:message accounts
    -- retort:created [CREATED]

    -- retort:upgrade
    -- renamed table users to accounts
    ALTER TABLE users RENAME TO accounts;

    -- renamed column accounts.email to login
    ALTER TABLE accounts RENAME COLUMN email TO login;

    -- retort:downgrade
    -- renamed column accounts.login to email
    ALTER TABLE accounts RENAME COLUMN login TO email;

    -- renamed table accounts to users
    ALTER TABLE accounts RENAME TO users;
    ");
    assert_snapshot!(project.retort(&["check"]), @"
    exit: 0
    --- stdout
    ok: the migrations build the declared schema
    --- stderr
    ");
}

#[test]
fn bad_declared_schemas_name_the_file_and_line() {
    let project = project("CREATE TABLE a (id int);\nCREATE TABLE b (id int REFERENCES);\n");
    assert_snapshot!(project.retort(&["check"]), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: [TMP]/schema.sql:2: the database refused `CREATE TABLE b (id int REFERENCES)`: near ")": syntax error
    hint: fix the statement: the declared schema runs, in its files' order, on an empty scratch database
    "#);
    project.write(
        "schema.sql",
        "CREATE TABLE a (id int);\n-- retort:renamed_from x\n",
    );
    assert_snapshot!(project.retort(&["check"]), @"
    exit: 2
    --- stdout
    --- stderr
    error: [TMP]/schema.sql:2: unknown directive `-- retort:renamed_from`: the declared schema knows only `-- retort:renamed-from OLD_NAME`
    hint: write `-- retort:renamed-from OLD_NAME` on its own line, right above the `CREATE TABLE` line or the column's line
    ");
    std::fs::remove_file(project.path("schema.sql")).unwrap();
    assert_snapshot!(project.retort(&["check", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "declared_schema_missing",
        "message": "cannot read the declared schema `[TMP]/schema.sql`: No such file or directory (os error 2)",
        "hint": "write the schema the migrations should build there (plain DDL), or list its files in `schema.files` in retort.toml"
      }
    }
    --- stderr
    "#);
    // A failing replay says so.
    project.write("schema.sql", USERS);
    project.write(
        "migrations/1_a1.sql",
        "-- retort:revision a1\n-- retort:message broken\n-- retort:upgrade\nCREATE TABLE x (;\n",
    );
    assert_snapshot!(project.retort(&["check"]), @"
    exit: 2
    --- stdout
    --- stderr
    error: replaying the migrations on a scratch database: [TMP]/migrations/1_a1.sql:4: revision `a1`: unterminated `(`: not closed before the `;` that ends the statement
    hint: close what the line opens (a parenthesis, a quote, a comment or a `BEGIN … END` block), or end the statement with `;`
    ");
}

#[test]
fn baseline_writes_the_database_as_it_is_and_stamps_it() {
    let project = project(USERS);
    // A database whose schema no revision of the project describes: built
    // by a revision that is then forgotten.
    project.write(
        "migrations/0_setup.sql",
        "-- retort:revision setup\n-- retort:upgrade\nCREATE TABLE legacy (id INTEGER PRIMARY KEY, note TEXT);\nCREATE INDEX legacy_note ON legacy (note);\n",
    );
    ok(&project, &["upgrade"]);
    ok(&project, &["stamp", "--purge", "base"]);
    std::fs::remove_file(project.path("migrations/0_setup.sql")).unwrap();

    assert_snapshot!(project.retort(&["baseline", "-m", "initial"]), @"
    exit: 0
    --- stdout
    migrations/[DATE]_[TIME]_[ID1]_initial.sql
    --- stderr
    the schema of `[TMP]/app.db` is the new revision's (1 step(s)); the database is now at [ID1]
    ");
    assert_snapshot!(project.read_normalised(&project.new_file("_initial.sql")), @"
    -- retort:revision [ID1]
    -- retort:message initial
    -- retort:created [CREATED]

    -- retort:upgrade
    -- added table legacy
    CREATE TABLE legacy (
        id integer,
        note text,
        PRIMARY KEY (id)
    );
    CREATE INDEX legacy_note ON legacy (note);

    -- retort:downgrade
    -- removed table legacy
    DROP TABLE legacy;
    ");
    assert_snapshot!(project.retort(&["current"]), @"
    exit: 0
    --- stdout
    [ID1] (head)
    --- stderr
    ");
    // Upgrading an empty database gives the same schema.
    let fresh = format!("sqlite:///{}", project.path("fresh.db").display());
    ok(&project, &["--url", &fresh, "upgrade"]);
    assert_eq!(
        project.retort(&["--url", &fresh, "schema", "dump"]),
        project.retort(&["schema", "dump"])
    );
    assert_snapshot!(project.retort(&["baseline"]), @"
    exit: 2
    --- stdout
    --- stderr
    error: the project already has 1 revision(s): `baseline` writes the first one
    hint: `retort revision --autogenerate --from-db -m MESSAGE` writes a revision from the database's schema into a project that has revisions
    ");
}
