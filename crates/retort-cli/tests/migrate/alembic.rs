//! `version_table = "alembic_version"`: retort takes over a database that
//! Alembic migrated with the same revision ids, and keeps the table Alembic
//! can read back.

use crate::db::{TestDb, dialect_tests};
use crate::util::{Project, applied, linear};

dialect_tests! {
    takes_over_an_alembic_database,
}

/// The state Alembic leaves after `alembic upgrade r02` of the same
/// revisions: their tables, and `alembic_version` with one row (Alembic's
/// DDL: `version_num VARCHAR(32) NOT NULL`, primary key `alembic_version_pkc`).
fn takes_over_an_alembic_database(db: &TestDb) {
    let project = Project::new(db, linear(3));
    project.write(
        "retort.toml",
        "[migrations]\ndirs = [\"migrations\"]\nversion_table = \"alembic_version\"\n",
    );
    db.exec("CREATE TABLE t01 (id INTEGER PRIMARY KEY, n INTEGER)");
    db.exec("CREATE TABLE t02 (id INTEGER PRIMARY KEY, n INTEGER)");
    db.exec(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
    );
    db.exec("INSERT INTO alembic_version (version_num) VALUES ('r02')");

    let current = project.json(&["current"]).ok();
    assert_eq!(current.doc()["heads"], serde_json::json!(["r02"]));
    let pending = project.json(&["status"]).ok();
    assert_eq!(pending.doc()["pending"][0]["revision"], "r03");

    // Revisions Alembic applied have no checksum yet: reported, not failed.
    let verify = project.json(&["verify"]).ok();
    assert_eq!(verify.doc()["ok"], true);
    assert_eq!(verify.doc()["findings"][0]["kind"], "unrecorded");

    let run = project.json(&["upgrade"]).ok();
    assert_eq!(run.steps(), ["r03"]);
    let rows = db.rows("SELECT version_num FROM alembic_version");
    assert_eq!(rows, [["r03"]]);
    assert!(!db.tables().iter().any(|t| t == "retort_version"));
    assert_eq!(applied(db), ["r03"]);

    let rehash = project.json(&["rehash"]).ok();
    assert_eq!(rehash.doc()["recorded"], serde_json::json!(["r01", "r02"]));
    assert_eq!(applied(db), ["r01", "r02", "r03"]);
}
