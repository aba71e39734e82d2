//! `retort backup`, `retort restore` and `upgrade --backup`: a backup
//! taken before a destructive migration (a column with data dropped)
//! restores the exact schema and every row, on every dialect; the file is
//! the owner's only (0600); a SQLite backup taken while another connection
//! writes restores to a consistent database; without `pg_dump` on PATH the
//! backup fails saying what to install, and writes nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::db::{Kind, TestDb, dialect_tests};
use crate::util::{Project, Rev, version_rows};

dialect_tests! {
    restore_undoes_a_destructive_migration,
    upgrade_backup_leaves_a_file_that_restores,
    without_the_dump_program_nothing_is_written,
}

/// `people` with rows, then a revision that drops its `email` column.
fn revisions() -> Vec<Rev> {
    let mut create = Rev::merge("p1", &[], "people");
    create.upgrade = "CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, email VARCHAR(100));\n\
         CREATE UNIQUE INDEX people_name ON people (name);\n\
         INSERT INTO people (id, name, email) VALUES (1, 'ada', 'ada@example.com'), (2, 'grace', NULL), (3, 'o''neil', 'o@example.com');\n"
        .to_owned();
    create.downgrade = Some("DROP TABLE people;\n".to_owned());
    let mut drop = Rev::merge("p2", &["p1"], "drop email");
    drop.upgrade = "ALTER TABLE people DROP COLUMN email;\n".to_owned();
    drop.downgrade = Some("ALTER TABLE people ADD COLUMN email VARCHAR(100);\n".to_owned());
    vec![create, drop]
}

/// A database's schema, every row of `people` and the version rows.
#[derive(Debug, PartialEq, Eq)]
struct State {
    schema: Vec<(String, String)>,
    people: Vec<Vec<String>>,
    versions: Vec<String>,
}

/// The state of `db`, to compare two moments.
fn state(db: &TestDb) -> State {
    State {
        schema: db.schema(),
        people: db.rows("SELECT * FROM people ORDER BY id"),
        versions: version_rows(db),
    }
}

fn backups_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

/// A path `retort` printed: relative to the project it ran in, or
/// absolute (which `join` keeps).
fn printed_path(project: &Project, printed: &serde_json::Value) -> PathBuf {
    project.root().join(printed.as_str().unwrap())
}

#[track_caller]
fn assert_private(path: &Path) {
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
}

fn restore_undoes_a_destructive_migration(db: &TestDb) {
    let project = Project::new(db, revisions());
    project.json(&["upgrade", "p1"]).ok();
    let before = state(db);
    assert_eq!(before.people.len(), 3);

    let out = tempfile::tempdir().unwrap();
    let made = project
        .json(&["backup", "--output", out.path().to_str().unwrap()])
        .ok();
    let path = printed_path(&project, &made.doc()["path"]);
    assert_eq!(made.doc()["revisions"], json!(["p1"]));
    assert!(made.doc()["bytes"].as_u64().unwrap() > 0);
    assert_private(&path);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.contains("-p1-"), "{name}");

    project.json(&["upgrade"]).ok();
    assert_ne!(state(db), before, "the column was dropped");

    // Without --yes and without a terminal: refused, nothing changed.
    let refused = project.json(&["restore", path.to_str().unwrap()]).code(2);
    assert_eq!(refused.kind(), "confirmation_required");
    assert_eq!(version_rows(db), ["p2"]);

    let restored = project
        .json(&["restore", path.to_str().unwrap(), "--yes"])
        .ok();
    assert_eq!(restored.doc()["replaced"], json!(["p2"]));
    assert_eq!(restored.doc()["restored"], json!(["p1"]));
    assert_eq!(state(db), before);

    // A file that is no backup is refused before anything goes.
    let bogus = out.path().join("bogus");
    std::fs::write(&bogus, "not a backup\n").unwrap();
    let refused = project
        .json(&["restore", bogus.to_str().unwrap(), "--yes"])
        .code(2);
    assert_eq!(refused.kind(), "not_a_backup", "{}", refused.transcript());
    assert_eq!(state(db), before);
}

fn upgrade_backup_leaves_a_file_that_restores(db: &TestDb) {
    let project = Project::new(db, revisions());
    project.json(&["upgrade", "p1"]).ok();
    let before = state(db);
    let upgraded = project.json(&["upgrade", "--backup"]).ok();
    let path = printed_path(&project, &upgraded.doc()["backup"]);
    assert!(
        path.starts_with(project.root().join("backups")),
        "{}",
        path.display()
    );
    assert_private(&path);
    assert_eq!(version_rows(db), ["p2"]);
    // Nothing to do: no backup.
    let again = project.json(&["upgrade", "--backup"]).ok();
    assert_eq!(again.doc().get("backup"), None);
    assert_eq!(backups_in(&project.root().join("backups")).len(), 1);

    project
        .json(&["restore", path.to_str().unwrap(), "--yes"])
        .ok();
    assert_eq!(state(db), before);
}

/// The dump program missing from PATH: a clear error naming it and its
/// package, and no file.
fn without_the_dump_program_nothing_is_written(db: &TestDb) {
    let (program, package) = match db.kind() {
        Kind::Sqlite => return, // SQLite backs up through its own library.
        Kind::Postgres => ("pg_dump", "postgresql-client"),
        Kind::Mariadb => ("mariadb-dump` or `mysqldump", "mariadb-client"),
    };
    let project = Project::new(db, revisions());
    project.json(&["upgrade", "p1"]).ok();
    let empty = tempfile::tempdir().unwrap();
    let output = project
        .command(&["--format", "json", "backup"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["error"]["kind"], "missing_tool");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("`{program}` is not on PATH"))
            && message.contains(&format!("Debian package `{package}`")),
        "{message}"
    );
    assert!(backups_in(&project.root().join("backups")).is_empty());
}

/// Writers keep inserting pairs of rows in one transaction each while the
/// backup runs: the backup holds whole pairs only, and restores.
#[test]
fn a_sqlite_backup_taken_while_another_connection_writes_is_consistent() {
    crate::db::run(backup_while_writing, Kind::Sqlite);
}

fn backup_while_writing(db: &TestDb) {
    let project = Project::new(db, revisions());
    project.json(&["upgrade", "p1"]).ok();
    db.exec("CREATE TABLE pairs (id INTEGER PRIMARY KEY, pair INTEGER NOT NULL)");
    let url = db.url();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut conn =
                retort::db::connect(&retort::config::DatabaseUrl::parse(&url).unwrap()).unwrap();
            let mut pair = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                pair += 1;
                conn.begin().unwrap();
                conn.run(&format!(
                    "INSERT INTO pairs (pair) VALUES ({pair}), ({pair})"
                ))
                .unwrap();
                conn.commit().unwrap();
                // An application's writes leave the file to others in
                // between; a loop holding it all the time would starve
                // every reader, the backup's among them.
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            pair
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    let out = tempfile::tempdir().unwrap();
    let made = project
        .json(&["backup", "--output", out.path().to_str().unwrap()])
        .ok();
    std::thread::sleep(std::time::Duration::from_millis(50));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert!(written > 0);
    let path = printed_path(&project, &made.doc()["path"]);

    project
        .json(&["restore", path.to_str().unwrap(), "--yes"])
        .ok();
    assert_eq!(db.rows("PRAGMA integrity_check"), [["ok"]]);
    let counts = db.rows("SELECT COUNT(*), COUNT(DISTINCT pair) FROM pairs");
    let (rows, pairs): (usize, usize) =
        (counts[0][0].parse().unwrap(), counts[0][1].parse().unwrap());
    assert_eq!(rows, 2 * pairs, "a pair was cut in half");
    assert!(pairs > 0 && pairs <= written, "{pairs} of {written}");
    assert_eq!(db.rows("SELECT COUNT(*) FROM people"), [["3"]]);
}
