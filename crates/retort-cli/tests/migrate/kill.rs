//! `retort upgrade` killed with SIGKILL at arbitrary moments of a long
//! run: where DDL is transactional each migration commits with its version
//! change, so after every kill the version table matches the schema; where
//! it commits implicitly (MariaDB) a kill can leave a migration half
//! applied, which the next run reports precisely and `resume` finishes.
//! Either way the next upgrade completes.

use std::thread;
use std::time::Duration;

use crate::db::{TestDb, dialect_tests};
use crate::util::{Project, applied, assert_state, journal, linear, version_rows};

dialect_tests! {
    killed_runs_leave_a_consistent_database,
}

const MIGRATIONS: usize = 100;
const KILLS: usize = 20;

fn killed_runs_leave_a_consistent_database(db: &TestDb) {
    let revs = linear(MIGRATIONS);
    // How long a whole run takes here, so the kills land inside one however
    // fast the disk is.
    let reference = db.sibling();
    let started = std::time::Instant::now();
    Project::new(&reference, revs.clone())
        .json(&["upgrade"])
        .ok();
    let span = u64::try_from(started.elapsed().as_millis())
        .unwrap_or(400)
        .max(20);
    // A fixed pseudo-random sequence: reproducible moments across the run.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut killed_mid_run = 0;
    let mut half_applied = 0;
    for round in 0..KILLS {
        let fresh = db.sibling();
        let project = Project::new(&fresh, revs.clone());
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(span / 20 + seed % (span * 9 / 10));
        let mut child = project
            .command(&["upgrade"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        thread::sleep(delay);
        // SIGKILL: no destructor, no rollback by retort itself.
        let _ = child.kill();
        let status = child.wait().unwrap();
        fresh.wait_for_other_sessions();
        let when = format!("after the kill of round {round} at {delay:?}");

        if !status.success() {
            killed_mid_run += 1;
        }
        if !journal(&fresh).is_empty() {
            // DDL committed on its own (MariaDB): a migration is half
            // applied, and the next run says which.
            half_applied += 1;
            settle(&fresh, &project, &when);
        }
        let applied_ids = applied(&fresh);
        let rows = version_rows(&fresh);
        // The version row is the newest applied revision, and the tables
        // are exactly those of the applied revisions, each with its rows.
        let newest = applied_ids
            .iter()
            .max_by_key(|id| id[1..].parse::<usize>().unwrap_or(0));
        let expected_rows: Vec<&str> = newest.map(String::as_str).into_iter().collect();
        let ids: Vec<&str> = applied_ids.iter().map(String::as_str).collect();
        assert_eq!(rows, expected_rows, "{when}");
        assert_state(&fresh, &revs, &expected_rows, &ids, &when);

        project.json(&["upgrade"]).ok();
        let last = format!("r{MIGRATIONS:02}");
        assert_eq!(version_rows(&fresh), [last], "{when}, then upgraded");
        assert_eq!(applied(&fresh).len(), MIGRATIONS, "{when}, then upgraded");
    }
    // Most kills must land inside a run for the test to mean anything.
    assert!(
        killed_mid_run >= KILLS / 2,
        "only {killed_mid_run} kills hit a running upgrade"
    );
    if !db.transactional_ddl() {
        assert!(
            half_applied >= KILLS / 4,
            "only {half_applied} kills left a migration half applied"
        );
    }
}

/// A migration the kill left half applied: the next run names it and the
/// statement it stopped at; `resume` finishes it. A `CREATE TABLE` cut off
/// while running is checked the way a person would: if its table exists,
/// it completed.
fn settle(db: &TestDb, project: &Project, when: &str) {
    assert!(
        !db.transactional_ddl(),
        "{when}: a journal on a transactional database"
    );
    let rows = journal(db);
    let revision = rows[0][0].clone();
    let run = project.json(&["upgrade"]).code(1);
    assert_eq!(run.kind(), "interrupted", "{when}");
    let message = run.message();
    assert!(
        message.contains(&format!("revision `{revision}` (upgrade) stopped half way")),
        "{when}: {message}"
    );
    let completed = rows.iter().filter(|r| r[2] == "done").count();
    assert!(
        message.contains(&format!("{completed} statement(s) of 2 completed")),
        "{when}: {message}"
    );
    let running = rows.iter().find(|r| r[2] == "running");
    let args: &[&str] = match running {
        Some(row) => {
            assert_eq!(
                row[1], "0",
                "{when}: only the CREATE TABLE runs outside a transaction"
            );
            assert!(
                message.contains("may or may not have completed"),
                "{when}: {message}"
            );
            let table = format!("t{}", &revision[1..]);
            if db.tables().contains(&table) {
                &["resume", "--skip-running"]
            } else {
                &["resume"]
            }
        }
        None => {
            assert!(message.contains("did not complete"), "{when}: {message}");
            &["resume"]
        }
    };
    let run = project.json(args).ok();
    assert_eq!(run.steps(), [revision.as_str()], "{when}");
    assert!(journal(db).is_empty(), "{when}: resumed");
}
