//! A migration that needs a table another transaction holds: it times out
//! on the lock, rolls back, retries with pauses, and succeeds once the
//! blocker ends — or, with the blocker kept, fails cleanly with nothing of
//! it applied. Only where the database has per-statement lock timeouts
//! (PostgreSQL's `lock_timeout`, MySQL's `lock_wait_timeout`).

use std::thread;
use std::time::Duration;

use retort::db::Driver;

use crate::db::{Kind, TestDb, dialect_tests, skip};
use crate::util::{Project, Rev, version_rows};

dialect_tests! {
    lock_timeout_retries_until_the_blocker_ends,
    lock_timeout_gives_up_cleanly,
}

/// r01 creates `t01`; r02 alters it (the step that needs the lock).
fn project(db: &TestDb) -> Project {
    let mut alter = Rev::merge("r02", &["r01"], "add a column to t01");
    alter.upgrade = "ALTER TABLE t01 ADD COLUMN extra INTEGER;\n".to_owned();
    alter.downgrade = Some("ALTER TABLE t01 DROP COLUMN extra;\n".to_owned());
    let project = Project::new(db, vec![Rev::table("r01", &[], "t01"), alter]);
    project.json(&["upgrade", "r01"]).ok();
    project
}

/// A long transaction holding `t01`, as an application's might.
fn hold_t01(db: &TestDb) -> Box<dyn Driver> {
    let mut blocker = db.connect();
    blocker.begin().unwrap();
    blocker
        .run(match db.kind() {
            // A transaction that read the table holds its metadata lock
            // until it ends, which ALTER TABLE must wait for.
            Kind::Mariadb => "SELECT COUNT(*) FROM t01",
            _ => "LOCK TABLE t01 IN ACCESS EXCLUSIVE MODE",
        })
        .unwrap();
    blocker
}

fn has_extra(db: &TestDb) -> bool {
    let schema = match db.kind() {
        Kind::Mariadb => "DATABASE()",
        _ => "current_schema()",
    };
    !db.rows(&format!(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = {schema} AND table_name = 't01' AND column_name = 'extra'"
    ))
    .is_empty()
}

fn lock_timeout_retries_until_the_blocker_ends(db: &TestDb) {
    if db.kind() == Kind::Sqlite {
        return skip(db, "no per-statement lock timeout to exercise");
    }
    let project = project(db);
    let mut blocker = hold_t01(db);
    let child = project
        .command(&[
            "upgrade",
            "--statement-lock-timeout",
            "0.2",
            "--lock-retries",
            "6",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Long enough for at least one timeout and retry.
    thread::sleep(Duration::from_millis(1200));
    blocker.commit().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("timed out waiting for a lock; rolled back, retry 1 of 6"),
        "{stderr}"
    );
    assert_eq!(version_rows(db), ["r02"]);
    assert!(has_extra(db));
}

fn lock_timeout_gives_up_cleanly(db: &TestDb) {
    if db.kind() == Kind::Sqlite {
        return skip(db, "no per-statement lock timeout to exercise");
    }
    let project = project(db);
    let mut blocker = hold_t01(db);
    let run = project
        .json(&[
            "upgrade",
            "--statement-lock-timeout",
            "0.2",
            "--lock-retries",
            "1",
        ])
        .code(1);
    assert_eq!(run.kind(), "statement_failed");
    let message = run.message().to_lowercase();
    assert!(
        message.contains("lock") && message.contains("timeout"),
        "{message}"
    );
    assert!(
        run.message().contains("gave up after 2 attempt(s)"),
        "{}",
        run.message()
    );
    assert!(
        run.hint().contains("another transaction holds a lock"),
        "{}",
        run.hint()
    );
    blocker.rollback().unwrap();
    assert_eq!(version_rows(db), ["r01"]);
    assert!(!has_extra(db));
}
