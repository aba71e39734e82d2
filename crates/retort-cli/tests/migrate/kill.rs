//! `retort upgrade` killed with SIGKILL at arbitrary moments of a long
//! run: where DDL is transactional each migration commits with its version
//! change, so after every kill the version table matches the schema; where
//! it commits implicitly (MariaDB) a kill can leave a migration half
//! applied, which the next run reports precisely and `resume` finishes.
//! Either way the next upgrade completes.

use std::thread;
use std::time::Duration;

use crate::db::{TestDb, dialect_tests, skip};
use crate::util::{Project, applied, assert_state, journal, linear, version_rows};

dialect_tests! {
    killed_runs_leave_a_consistent_database,
    killed_mid_migration_resumes_to_the_same_schema,
}

const MIGRATIONS: usize = 100;
const KILLS: usize = 20;

fn killed_runs_leave_a_consistent_database(db: &TestDb) {
    let revs = linear(MIGRATIONS);
    let (reference, span) = uninterrupted(db, &revs);
    let mut moments = Moments(0x9e37_79b9_7f4a_7c15);
    let mut killed_mid_run = 0;
    let mut half_applied = 0;
    for round in 0..KILLS {
        let fresh = db.sibling();
        let project = Project::new(&fresh, revs.clone());
        let delay = Duration::from_millis(span / 20 + moments.next() % (span * 7 / 10));
        let status = killed_upgrade(&fresh, &project, delay);
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
        assert_eq!(fresh.schema(), reference.schema(), "{when}, then upgraded");
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

/// A database that `revs` were applied to without interruption, and how
/// long a whole run takes here (the faster of two: the first warms
/// caches), so the kills land inside one however fast the disk is.
fn uninterrupted(db: &TestDb, revs: &[crate::util::Rev]) -> (TestDb, u64) {
    let timed = |target: &TestDb| {
        let started = std::time::Instant::now();
        Project::new(target, revs.to_vec()).json(&["upgrade"]).ok();
        u64::try_from(started.elapsed().as_millis()).unwrap_or(400)
    };
    let reference = db.sibling();
    let span = timed(&reference).min(timed(&db.sibling())).max(20);
    (reference, span)
}

/// A fixed pseudo-random sequence (xorshift): reproducible kill moments.
struct Moments(u64);

impl Moments {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Starts `retort upgrade`, SIGKILLs it after `delay` (no destructor, no
/// rollback by retort itself), and waits until the server has finished
/// whatever the dead client had sent.
fn killed_upgrade(db: &TestDb, project: &Project, delay: Duration) -> std::process::ExitStatus {
    let mut child = project
        .command(&["upgrade"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    thread::sleep(delay);
    let _ = child.kill();
    let status = child.wait().unwrap();
    db.wait_for_other_sessions();
    status
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

/// Tables the long migration creates, each with one row.
const LONG: usize = 24;

/// One migration of `2 * LONG` statements: a table, then its row, and so
/// on; each table commits on its own where DDL commits implicitly.
fn long_migration() -> Vec<crate::util::Rev> {
    let mut rev = crate::util::Rev::merge("r01", &[], "many tables");
    rev.upgrade = (1..=LONG)
        .map(|i| {
            format!(
                "CREATE TABLE m{i:02} (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n\
                 INSERT INTO m{i:02} (id, name) VALUES ({i}, 'row {i}');\n"
            )
        })
        .collect();
    rev.downgrade = Some(
        (1..=LONG)
            .rev()
            .map(|i| format!("DROP TABLE m{i:02};\n"))
            .collect(),
    );
    vec![rev]
}

/// SIGKILL inside one long multi-statement migration, 20 times: each time
/// the next run reports the half-applied migration with the statement it
/// stopped at, `resume` completes it, and the schema equals that of an
/// uninterrupted run. (Kills that land outside the migration are checked
/// too, and do not count.)
fn killed_mid_migration_resumes_to_the_same_schema(db: &TestDb) {
    if db.transactional_ddl() {
        return skip(
            db,
            "a migration here commits whole or not at all (see the test above)",
        );
    }
    let revs = long_migration();
    let (reference, span) = uninterrupted(db, &revs);
    let mut moments = Moments(0x2545_f491_4f6c_dd1d);
    let mut half_applied = 0;
    // Until KILLS kills have landed inside the migration (a kill can come
    // before its first statement completed, or after its end).
    let mut round = 0;
    while half_applied < KILLS {
        assert!(
            round < 3 * KILLS,
            "only {half_applied} of {round} kills landed inside the migration"
        );
        round += 1;
        let fresh = db.sibling();
        let project = Project::new(&fresh, revs.clone());
        // Past process start and the first statements, before the end.
        let delay = Duration::from_millis(span / 4 + moments.next() % (span * 13 / 20));
        killed_upgrade(&fresh, &project, delay);
        let when = format!("after the kill of round {round} at {delay:?} of {span} ms");
        if !journal(&fresh).is_empty() {
            half_applied += 1;
            settle_long(&fresh, &project, &when);
        } else {
            // Before the migration's first statement, or after its commit
            // (the run may be killed on its way out, so its exit status
            // tells nothing).
            let versions = version_rows(&fresh);
            assert!(
                versions.is_empty() || versions == ["r01"],
                "{when}: the version table holds {versions:?}"
            );
            project.json(&["upgrade"]).ok();
        }
        assert!(journal(&fresh).is_empty(), "{when}");
        assert_eq!(version_rows(&fresh), ["r01"], "{when}");
        assert_eq!(fresh.schema(), reference.schema(), "{when}");
        for i in 1..=LONG {
            assert_eq!(
                fresh.rows(&format!("SELECT COUNT(*) FROM m{i:02}")),
                [["1"]],
                "{when}: m{i:02} has its one row"
            );
        }
    }
}

/// The long migration, killed half way: the message names the last
/// completed statement and the next; a cut-off `CREATE TABLE` counts as
/// completed when its table exists.
fn settle_long(db: &TestDb, project: &Project, when: &str) {
    let rows = journal(db);
    let done = rows.iter().filter(|r| r[2] == "done").count();
    let run = project.json(&["upgrade"]).code(1);
    assert_eq!(run.kind(), "interrupted", "{when}");
    let message = run.message();
    assert!(
        message.contains(&format!(
            "revision `r01` (upgrade) stopped half way: {done} statement(s) of {} completed",
            2 * LONG
        )),
        "{when}: {message}"
    );
    let args: &[&str] = match rows.iter().find(|r| r[2] == "running") {
        Some(row) => {
            let index: usize = row[1].parse().unwrap();
            assert_eq!(index % 2, 0, "{when}: only CREATE TABLE runs alone");
            assert!(
                message.contains(&format!("statement {} (", index + 1)),
                "{when}: {message}"
            );
            let table = format!("m{:02}", index / 2 + 1);
            if db.tables().contains(&table) {
                &["resume", "--skip-running"]
            } else {
                &["resume"]
            }
        }
        None => {
            assert!(
                message.contains(&format!("statement {} (", done + 1)),
                "{when}: {message}"
            );
            &["resume"]
        }
    };
    assert_eq!(project.json(args).ok().steps(), ["r01"], "{when}");
}
