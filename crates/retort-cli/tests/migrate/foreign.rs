//! A database another migration tool manages (its history table there,
//! retort's version table absent): `upgrade`, `downgrade`, `resume` and
//! `repair` refuse before changing anything, `current` and `status` say so, `--sql` is unaffected,
//! and the adoption step the hint names lets the upgrade run.

use crate::alembic::use_alembic_version;
use crate::db::{TestDb, dialect_tests};
use crate::util::{Project, linear, version_rows, version_rows_in};

dialect_tests! {
    alembic_database_is_refused_until_adopted,
    sqlx_database_is_refused_until_stamped,
    stamp_of_a_revision_adopts_a_foreign_database,
}

/// The state `alembic upgrade r01` of the same revisions leaves: `t01` and
/// `alembic_version` at `r01` (Alembic's DDL).
fn alembic_at_r01(db: &TestDb) {
    db.exec("CREATE TABLE t01 (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL)");
    db.exec(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
    );
    db.exec("INSERT INTO alembic_version (version_num) VALUES ('r01')");
}

/// A database sqlx migrated: its history table and a table of its own.
fn sqlx_database(db: &TestDb) {
    db.exec("CREATE TABLE legacy (id INTEGER PRIMARY KEY)");
    db.exec(
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description VARCHAR(255) NOT NULL)",
    );
    db.exec("INSERT INTO _sqlx_migrations (version, description) VALUES (20240101000000, 'init')");
}

/// A project of three revisions on `db` prepared by `setup`, in which
/// `upgrade`, `downgrade`, `resume` and `repair` (text and JSON, dry runs
/// too) exit 2 with
/// `foreign_history`, naming `table` and `tool`, with a hint containing
/// each of `hint`; the database's tables are unchanged.
fn refused(db: &TestDb, setup: fn(&TestDb), table: &str, tool: &str, hint: &[&str]) -> Project {
    let project = Project::new(db, linear(3));
    setup(db);
    let before = db.tables();
    for args in [
        &["upgrade"][..],
        &["upgrade", "r01"],
        &["upgrade", "--dry-run"],
        &["downgrade", "base"],
        &["resume"],
        &["resume", "--dry-run"],
        &["repair", "r01", "--done"],
    ] {
        let run = project.json(args).code(2);
        assert_eq!(run.kind(), "foreign_history", "{}", run.transcript());
        assert!(
            run.message().contains(&format!("`{table}`")) && run.message().contains(tool),
            "{}",
            run.transcript()
        );
        for part in hint {
            assert!(run.hint().contains(part), "{part}\n{}", run.transcript());
        }
        let text = project.text(args).code(2);
        assert!(text.stderr.contains("hint: "), "{}", text.transcript());
        assert_eq!(
            db.tables(),
            before,
            "`retort {}` changed the tables",
            run.args
        );
    }
    // Read-only commands say so and succeed.
    let status = project.json(&["status"]).ok();
    assert_eq!(
        status.doc()["foreign_history"],
        serde_json::json!({"table": table, "tool": tool}),
        "{}",
        status.transcript()
    );
    assert_eq!(status.doc()["problem"], serde_json::Value::Null);
    let text = project.text(&["status"]).ok();
    assert!(
        text.stdout.contains(&format!("`{table}`")) && text.stdout.contains("hint: "),
        "{}",
        text.transcript()
    );
    let current = project.json(&["current"]).ok();
    assert_eq!(current.doc()["foreign_history"]["table"], table);
    project.text(&["current"]).ok();
    // An offline script reads no database.
    let script = project.text(&["upgrade", "--sql"]).ok();
    assert!(
        script.stdout.contains("retort_version"),
        "{}",
        script.transcript()
    );
    assert_eq!(db.tables(), before, "read-only commands changed the tables");
    project
}

/// `status` no longer reports another tool's table.
fn assert_adopted(project: &Project) {
    let status = project.json(&["status"]).ok();
    assert_eq!(status.doc()["foreign_history"], serde_json::Value::Null);
}

/// Alembic's table: the hint names `version_table`; once set, retort takes
/// the database over where Alembic left it.
fn alembic_database_is_refused_until_adopted(db: &TestDb) {
    let project = refused(
        db,
        alembic_at_r01,
        "alembic_version",
        "Alembic",
        &[
            "version_table = \"alembic_version\"",
            "[migrations]",
            "retort import alembic",
            "retort stamp <revision>",
        ],
    );
    use_alembic_version(&project);
    let run = project.json(&["upgrade"]).ok();
    assert_eq!(run.steps(), ["r02", "r03"]);
    assert_eq!(version_rows_in(db, "alembic_version"), ["r03"]);
    assert!(!db.tables().iter().any(|t| t == "retort_version"));
    // Its own version table is no other tool's.
    assert_adopted(&project);
}

/// Another tool's table: the hint names `stamp base`, after which retort
/// manages the database beside that tool, from nothing.
fn sqlx_database_is_refused_until_stamped(db: &TestDb) {
    let project = refused(
        db,
        sqlx_database,
        "_sqlx_migrations",
        "sqlx",
        &[
            "retort stamp <revision>",
            "retort stamp base",
            "beside sqlx",
        ],
    );
    let stamp = project.json(&["stamp", "base"]).ok();
    assert_eq!(stamp.heads(), Vec::<String>::new());
    assert!(
        db.tables().iter().any(|t| t == "retort_version"),
        "`stamp base` creates the version table: {:?}",
        db.tables()
    );
    let run = project.json(&["upgrade"]).ok();
    assert_eq!(run.steps(), ["r01", "r02", "r03"]);
    assert_eq!(version_rows(db), ["r03"]);
    assert_eq!(
        db.rows("SELECT COUNT(*) FROM _sqlx_migrations"),
        [["1"]],
        "the other tool's table is left alone"
    );
    assert_adopted(&project);
}

/// `stamp <revision>` marks the revision the schema already has (here
/// Alembic's `r01`, kept in retort's own table); the upgrade goes on from
/// there.
fn stamp_of_a_revision_adopts_a_foreign_database(db: &TestDb) {
    let project = Project::new(db, linear(3));
    alembic_at_r01(db);
    project.json(&["stamp", "r01"]).ok();
    assert_adopted(&project);
    let run = project.json(&["upgrade"]).ok();
    assert_eq!(run.steps(), ["r02", "r03"]);
    assert_eq!(version_rows(db), ["r03"]);
    assert_eq!(version_rows_in(db, "alembic_version"), ["r01"]);
    project.json(&["downgrade", "r01"]).ok();
    assert_eq!(version_rows(db), ["r01"]);
}
