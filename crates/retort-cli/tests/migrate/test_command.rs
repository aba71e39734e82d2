//! `retort test` on fixtures that each break one promise: a downgrade
//! that loses a unique index, one that leaves a NOT NULL dropped, one that
//! leaves an enum value, an upgrade that cannot run twice, two heads, and
//! a declared schema the migrations do not build. Each names the right
//! revision and the difference, and exits 3; the example project passes.
//! Each on every dialect where the construct exists. The project's own
//! database is never touched: the tests run on scratch databases.

use std::path::Path;

use serde_json::{Value, json};

use crate::db::{Kind, TestDb, dialect_tests};
use crate::util::{Project, Rev, Run, user_tables};

dialect_tests! {
    a_downgrade_that_loses_a_unique_index,
    a_downgrade_that_leaves_not_null_dropped,
    a_downgrade_that_leaves_an_enum_value,
    an_upgrade_that_cannot_run_twice,
    two_heads,
    declared_schema_drift,
    the_example_project_passes,
}

fn rev(id: &str, revises: &[&str], upgrade: &str, downgrade: &str) -> Rev {
    let mut rev = Rev::merge(id, revises, &format!("revision {id}"));
    rev.upgrade = format!("{upgrade}\n");
    rev.downgrade = Some(format!("{downgrade}\n"));
    rev
}

/// A table with a unique email and a NOT NULL name, dropped by its
/// downgrade.
fn accounts() -> Rev {
    rev(
        "r1",
        &[],
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, name VARCHAR(100) NOT NULL);\n\
         CREATE UNIQUE INDEX accounts_email ON accounts (email);",
        "DROP TABLE accounts;",
    )
}

/// `retort test --format json`, expected to fail (exit 3) on `check` of
/// `revision`; the failure.
#[track_caller]
fn failed(project: &Project, check: &str, revision: Option<&str>) -> Value {
    let run = project.json(&["test"]).code(3);
    let doc = run.doc();
    assert_eq!(doc["ok"], json!(false), "{}", run.transcript());
    let failures = doc["failures"].as_array().expect("failures");
    assert_eq!(failures.len(), 1, "{}", run.transcript());
    let failure = &failures[0];
    assert_eq!(failure["check"], json!(check), "{}", run.transcript());
    assert_eq!(
        failure["revision"],
        revision.map_or(Value::Null, |r| json!(r)),
        "{}",
        run.transcript()
    );
    if let Some(revision) = revision {
        assert!(
            failure["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(&format!("_{revision}.sql"))),
            "{}",
            run.transcript()
        );
    }
    failure.clone()
}

/// The differences of a failure, one string.
fn differences(failure: &Value) -> String {
    failure["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|d| d.as_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The project's own database is left as it was: empty.
#[track_caller]
fn untouched(db: &TestDb) {
    assert_eq!(user_tables(db), Vec::<String>::new());
    assert_eq!(db.tables(), Vec::<String>::new());
}

/// The index is dropped, and the downgrade brings it back without
/// `UNIQUE`.
fn a_downgrade_that_loses_a_unique_index(db: &TestDb) {
    let drop_index = match db.kind() {
        Kind::Mariadb => "DROP INDEX accounts_email ON accounts;",
        _ => "DROP INDEX accounts_email;",
    };
    let project = Project::new(
        db,
        vec![
            accounts(),
            rev(
                "r2",
                &["r1"],
                drop_index,
                "CREATE INDEX accounts_email ON accounts (email);",
            ),
        ],
    );
    let failure = failed(&project, "downgrade_restores", Some("r2"));
    let differences = differences(&failure);
    assert!(differences.contains("accounts_email"), "{failure:#}");
    untouched(db);
}

/// The column becomes nullable, and the downgrade does nothing.
fn a_downgrade_that_leaves_not_null_dropped(db: &TestDb) {
    let drop_not_null = match db.kind() {
        Kind::Sqlite => return, // SQLite cannot change a column's nullability in place.
        Kind::Postgres => "ALTER TABLE accounts ALTER COLUMN name DROP NOT NULL;",
        Kind::Mariadb => "ALTER TABLE accounts MODIFY name VARCHAR(100) NULL;",
    };
    let project = Project::new(db, vec![accounts(), rev("r2", &["r1"], drop_not_null, "")]);
    let failure = failed(&project, "downgrade_restores", Some("r2"));
    let differences = differences(&failure);
    assert!(
        differences.contains("accounts") && differences.contains("name"),
        "{failure:#}"
    );
    untouched(db);
}

/// A value is added to an enum, and the downgrade cannot take it out.
fn a_downgrade_that_leaves_an_enum_value(db: &TestDb) {
    let (create, add) = match db.kind() {
        Kind::Sqlite => return, // SQLite has no enum types.
        Kind::Postgres => (
            "CREATE TYPE mood AS ENUM ('sad', 'ok');\n\
             CREATE TABLE people (id INTEGER PRIMARY KEY, mood mood);",
            "ALTER TYPE mood ADD VALUE 'happy';",
        ),
        Kind::Mariadb => (
            "CREATE TABLE people (id INTEGER PRIMARY KEY, mood ENUM('sad', 'ok'));",
            "ALTER TABLE people MODIFY mood ENUM('sad', 'ok', 'happy');",
        ),
    };
    let drop = match db.kind() {
        Kind::Postgres => "DROP TABLE people;\nDROP TYPE mood;",
        _ => "DROP TABLE people;",
    };
    let project = Project::new(
        db,
        vec![rev("r1", &[], create, drop), rev("r2", &["r1"], add, "")],
    );
    let failure = failed(&project, "downgrade_restores", Some("r2"));
    let differences = differences(&failure);
    assert!(differences.contains("mood"), "{failure:#}");
    untouched(db);
}

/// The upgrade inserts a row the downgrade leaves: the schema is the same
/// afterwards, but the upgrade fails the second time.
fn an_upgrade_that_cannot_run_twice(db: &TestDb) {
    let project = Project::new(
        db,
        vec![
            accounts(),
            rev(
                "r2",
                &["r1"],
                "INSERT INTO accounts (id, email, name) VALUES (1, 'admin@example.com', 'admin');",
                "",
            ),
            rev(
                "r3",
                &["r2"],
                "CREATE TABLE later (id INTEGER PRIMARY KEY);",
                "DROP TABLE later;",
            ),
        ],
    );
    let failure = failed(&project, "upgrade_again", Some("r2"));
    assert!(
        failure["message"]
            .as_str()
            .is_some_and(|m| m.contains("its upgrade failed when run again after its downgrade")),
        "{failure:#}"
    );
    // The revisions after it were not run.
    let run = project.json(&["test"]).code(3);
    let states: Vec<(String, String)> = run.doc()["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_str().unwrap().to_owned(),
                r["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("r1".to_owned(), "passed".to_owned()),
            ("r2".to_owned(), "failed".to_owned()),
            ("r3".to_owned(), "not_reached".to_owned()),
        ]
    );
    untouched(db);
}

/// Two revisions revise the same one: each passes the stairway, and the
/// graph fails for its two heads.
fn two_heads(db: &TestDb) {
    let project = Project::new(
        db,
        vec![
            accounts(),
            rev(
                "r2",
                &["r1"],
                "CREATE TABLE a (id INTEGER PRIMARY KEY);",
                "DROP TABLE a;",
            ),
            rev(
                "r3",
                &["r1"],
                "CREATE TABLE b (id INTEGER PRIMARY KEY);",
                "DROP TABLE b;",
            ),
        ],
    );
    let failure = failed(&project, "one_head", None);
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.contains("2 heads") && message.contains("r2") && message.contains("r3"),
        "{failure:#}"
    );
    let text = project.text(&["test"]).code(3);
    assert!(
        text.stdout.contains("3 revision(s): 3 passed"),
        "{}",
        text.transcript()
    );
    untouched(db);
}

/// schema.sql declares a column the migrations never add.
fn declared_schema_drift(db: &TestDb) {
    let project = Project::new(db, vec![accounts()]);
    project.write(
        "schema.sql",
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, name VARCHAR(100) NOT NULL, nickname VARCHAR(50));\n\
         CREATE UNIQUE INDEX accounts_email ON accounts (email);\n",
    );
    let failure = failed(&project, "declared_schema", None);
    assert!(differences(&failure).contains("nickname"), "{failure:#}");

    // Declared as the migrations build it: everything passes.
    project.write(
        "schema.sql",
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, name VARCHAR(100) NOT NULL);\n\
         CREATE UNIQUE INDEX accounts_email ON accounts (email);\n",
    );
    let run = project.json(&["test"]).ok();
    assert_eq!(run.doc()["ok"], json!(true), "{}", run.transcript());
    assert_eq!(run.doc()["declared_schema"], json!(true));
    untouched(db);
}

/// examples/quickstart, written for SQLite, passes where its SQL runs
/// (not on MariaDB, where a `TEXT` column cannot be `UNIQUE` without a
/// key length).
fn the_example_project_passes(db: &TestDb) {
    if db.kind() == Kind::Mariadb {
        return;
    }
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart");
    let output = std::process::Command::new(crate::util::retort_bin())
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .arg("-C")
        .arg(example)
        .args(["--url", &db.url(), "--format", "json", "test"])
        .output()
        .unwrap();
    let run = Run::new(&["test"], true, output).ok();
    let doc = run.doc();
    assert_eq!(doc["ok"], json!(true), "{}", run.transcript());
    assert_eq!(doc["revisions"].as_array().map(Vec::len), Some(7));
    assert!(
        doc["revisions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["state"] == "passed"),
        "{}",
        run.transcript()
    );
    assert_eq!(doc["declared_schema"], json!(true));
    untouched(db);
}
