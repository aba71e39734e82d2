//! Code migrations: a revision whose migration is a registered Rust
//! function, in the graph like any revision. It runs in the revision's
//! transaction (a failure rolls it back, version row included), its
//! downgrade too; without its function it is refused before anything
//! runs, and `--sql` refuses it; a function registered under a name no
//! file gives is an error; bumping its version is an edit `verify` sees;
//! `retort test` runs it up, down and up again.

#![cfg(feature = "sqlite")]

use std::path::{Path, PathBuf};

use retort::config::DatabaseUrl;
use retort::db::{self, Driver, Value};
use retort::migrator::{FindingKind, OfflineSql, Request};
use retort::{CodeError, CodeMigration, Diagnostic, Migrations};

const CODE_REVISION: &str = "c0de00000002";
const HEAD: &str = "c0de00000003";

/// A table that makes `lowercase_emails` fail after its first update, to
/// see the transaction roll back (a table, not a global: tests may share
/// a process).
const FAIL_TABLE: &str = "make_the_code_fail";

/// Logic a statement would not hold: each email lowercased in Rust.
fn lowercase_emails(db: &mut dyn Driver) -> Result<(), CodeError> {
    let rows = db.query("SELECT id, email FROM users ORDER BY id", &[])?;
    for row in rows {
        let (Some(id), Some(email)) = (row[0].as_int(), row[1].as_text()) else {
            continue;
        };
        db.execute(
            "UPDATE users SET email = ? WHERE id = ?",
            &[Value::Text(email.to_lowercase()), Value::Int(id)],
        )?;
        if db.table_exists(None, FAIL_TABLE)? {
            return Err("the mail server said no".into());
        }
    }
    Ok(())
}

fn uppercase_emails(db: &mut dyn Driver) -> Result<(), CodeError> {
    db.run("UPDATE users SET email = upper(email)")?;
    Ok(())
}

static CODE: [CodeMigration; 1] =
    [CodeMigration::new("lowercase_emails", lowercase_emails).with_downgrade(uppercase_emails)];
static MISNAMED: [CodeMigration; 1] = [CodeMigration::new("lowercase_email", lowercase_emails)];
static UP_ONLY: [CodeMigration; 1] = [CodeMigration::new("lowercase_emails", lowercase_emails)];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/code/migrations")
}

fn emails(url: &str) -> Vec<String> {
    let mut driver = db::connect(&DatabaseUrl::parse(url).unwrap()).unwrap();
    driver
        .query_text("SELECT email FROM users ORDER BY id")
        .unwrap()
        .into_iter()
        .map(|row| row[0].clone().unwrap_or_default())
        .collect()
}

fn heads(migrations: &Migrations, url: &str) -> Vec<String> {
    migrations.migrator(url).unwrap().current().unwrap().heads
}

#[test]
fn a_code_revision_runs_in_the_graph_and_downgrades() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("app.db").display());
    let migrations = Migrations::from_dir(fixture()).with_code(&CODE);
    let outcome = migrations.upgrade(&url).unwrap();
    let steps: Vec<&str> = outcome.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(steps, ["c0de00000001", CODE_REVISION, HEAD]);
    assert_eq!(emails(&url), ["ada@example.com", "grace@example.com"]);

    let mut migrator = migrations.migrator(&url).unwrap();
    migrator.downgrade("c0de00000001").unwrap();
    assert_eq!(emails(&url), ["ADA@EXAMPLE.COM", "GRACE@EXAMPLE.COM"]);
    assert_eq!(heads(&migrations, &url), ["c0de00000001"]);
    assert!(migrator.verify().unwrap().is_empty());
}

#[test]
fn a_failing_function_rolls_its_revision_back() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("app.db").display());
    let migrations = Migrations::from_dir(fixture()).with_code(&CODE);
    let mut driver = db::connect(&DatabaseUrl::parse(&url).unwrap()).unwrap();
    driver
        .run(&format!("CREATE TABLE {FAIL_TABLE} (x INTEGER)"))
        .unwrap();
    let error = migrations.upgrade(&url).unwrap_err();
    driver.run(&format!("DROP TABLE {FAIL_TABLE}")).unwrap();
    drop(driver);
    assert_eq!(error.kind(), "code_failed");
    let message = error.to_string();
    assert!(
        message.contains(CODE_REVISION)
            && message.contains("`lowercase_emails` (version 1)")
            && message.contains("the mail server said no"),
        "{message}"
    );
    // The first row's update rolled back with the revision.
    assert_eq!(emails(&url), ["Ada@Example.COM", "grace@example.com"]);
    assert_eq!(heads(&migrations, &url), ["c0de00000001"]);
    migrations.upgrade(&url).unwrap();
    assert_eq!(heads(&migrations, &url), [HEAD]);
}

#[test]
fn without_its_function_the_revision_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("app.db").display());
    let migrations = Migrations::from_dir(fixture());
    let error = migrations.upgrade(&url).unwrap_err();
    assert_eq!(error.kind(), "code_not_registered");
    assert!(
        error.to_string().contains(&format!(
            "revision `{CODE_REVISION}` ({}:4) runs the Rust function `lowercase_emails` (version 1), which is not registered here",
            fixture().join("0002_c0de00000002_lowercase_emails.sql").display()
        )),
        "{error}"
    );
    assert!(
        error
            .hint()
            .unwrap()
            .contains("the retort CLI cannot run Rust code")
    );
    // Nothing ran: not even the revision before it.
    assert!(heads(&migrations, &url).is_empty());

    // Registered without a downgrade: irreversible.
    let up_only = Migrations::from_dir(fixture()).with_code(&UP_ONLY);
    up_only.upgrade(&url).unwrap();
    let error = up_only
        .migrator(&url)
        .unwrap()
        .downgrade("base")
        .unwrap_err();
    assert_eq!(error.kind(), "irreversible");
    assert_eq!(heads(&up_only, &url), [HEAD]);
}

#[test]
fn a_name_no_revision_gives_is_an_error() {
    let error = Migrations::from_dir(fixture())
        .with_code(&MISNAMED)
        .project()
        .unwrap_err();
    assert_eq!(error.kind(), "code_without_revision");
    assert!(error.to_string().contains("`lowercase_email`"), "{error}");
}

#[test]
fn offline_sql_refuses_a_code_revision() {
    let migrations = Migrations::from_dir(fixture()).with_code(&CODE);
    let project = migrations.project().unwrap();
    let facts = db::ServerFacts::plain(retort::Dialect::Sqlite, "SQLite", "");
    let offline = OfflineSql::new(project, &facts);
    let error = retort::Error::from(
        offline
            .script(&Request::upgrade("head"), false)
            .unwrap_err(),
    );
    assert_eq!(error.kind(), "code_in_script");
    assert!(
        error
            .to_string()
            .contains("runs the Rust function `lowercase_emails`, which a SQL script cannot hold"),
        "{error}"
    );
    // The revisions below it still make a script.
    let script = offline
        .script(&Request::upgrade("c0de00000001"), false)
        .unwrap();
    assert!(script.contains("CREATE TABLE users"));
}

/// The version is in the file, so in its checksum: bumping it is an edit.
#[test]
fn bumping_the_version_is_an_edit_verify_reports() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("app.db").display());
    let copy = dir.path().join("migrations");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(fixture()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
    }
    Migrations::from_dir(&copy)
        .with_code(&CODE)
        .upgrade(&url)
        .unwrap();
    let file = copy.join("0002_c0de00000002_lowercase_emails.sql");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("lowercase_emails 1", "lowercase_emails 2"),
    )
    .unwrap();
    let findings = Migrations::from_dir(&copy)
        .with_code(&CODE)
        .migrator(&url)
        .unwrap()
        .verify()
        .unwrap();
    let changed: Vec<&str> = findings
        .iter()
        .filter(|f| f.kind == FindingKind::Changed)
        .map(|f| f.revision.as_str())
        .collect();
    assert_eq!(changed, [CODE_REVISION]);
}

/// `retort test` runs the function up, its downgrade, and up again.
#[test]
fn retort_test_runs_the_code_revision() {
    let report = Migrations::from_dir(fixture())
        .with_code(&CODE)
        .test("sqlite::memory:")
        .unwrap();
    assert!(report.passed(), "{report}");
    assert_eq!(report.revisions.len(), 3);
    let without_downgrade = Migrations::from_dir(fixture())
        .with_code(&UP_ONLY)
        .test("sqlite::memory:")
        .unwrap();
    assert!(without_downgrade.passed(), "{without_downgrade}");
    assert_eq!(
        without_downgrade.revisions[1].state,
        retort::testing::RevisionState::NoDowngrade
    );
}
