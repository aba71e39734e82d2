//! `retort upgrade` killed with SIGKILL at arbitrary moments of a long
//! run: each migration commits with its version change, so after every kill
//! the version table matches the schema, and the next run completes.

use std::thread;
use std::time::Duration;

use crate::db::{TestDb, dialect_tests};
use crate::util::{Project, applied, assert_state, linear, version_rows};

dialect_tests! {
    killed_runs_leave_a_consistent_database,
}

const MIGRATIONS: usize = 100;
const KILLS: usize = 20;

fn killed_runs_leave_a_consistent_database(db: &TestDb) {
    let revs = linear(MIGRATIONS);
    // A fixed pseudo-random sequence: reproducible moments across the run.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut killed_mid_run = 0;
    for round in 0..KILLS {
        let fresh = db.sibling();
        let project = Project::new(&fresh, revs.clone());
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(20 + seed % 400);
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
        let when = format!("after the kill of round {round} at {delay:?}");

        let applied_ids = applied(&fresh);
        let rows = version_rows(&fresh);
        if !status.success() {
            killed_mid_run += 1;
        }
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
}
