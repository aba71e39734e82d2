//! Several `retort upgrade` processes on one database at once: one applies
//! everything, the others wait for the run lock and then find nothing to do.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::db::{TestDb, dialect_tests};
use crate::util::{Project, applied, assert_state, linear, version_rows};

/// Pending migrations, each creating a table with three rows.
const MIGRATIONS: usize = 50;

/// What one process did.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Outcome {
    fn applied_all(&self) -> bool {
        self.stdout == format!("{MIGRATIONS} step(s) done; the database is at r{MIGRATIONS}\n")
    }

    fn applied_nothing(&self) -> bool {
        self.stdout == format!("nothing to do; the database is at r{MIGRATIONS}\n")
            && !self.stderr.contains("  upgrade ")
    }

    fn waited(&self) -> bool {
        self.stderr.contains("waiting for the lock: ")
    }
}

/// Starts `processes` upgrades at once. With `hold`, the test holds the run
/// lock (through retort's own driver) until every process has said it is
/// waiting, so that waiting is certain rather than a matter of timing.
fn race(db: &TestDb, processes: usize, hold: bool) -> Vec<Outcome> {
    race_on(&Project::new(db, linear(MIGRATIONS)), db, processes, hold)
}

/// [`race`] on a given project.
fn race_on(project: &Project, db: &TestDb, processes: usize, hold: bool) -> Vec<Outcome> {
    race_holding(project, db, processes, hold.then_some(&mut || {}))
}

/// [`race_on`]; with `while_waiting`, the test holds the run lock until
/// every process has said it is waiting, runs `while_waiting`, then
/// releases the lock.
pub(crate) fn race_holding(
    project: &Project,
    db: &TestDb,
    processes: usize,
    while_waiting: Option<&mut dyn FnMut()>,
) -> Vec<Outcome> {
    let mut lock = while_waiting.is_some().then(|| {
        let mut driver = db.connect();
        driver
            .lock(Duration::from_secs(5), &mut |holder| {
                panic!("the test's lock waited for {holder}")
            })
            .expect("the test takes the run lock");
        driver
    });

    let (waiting_tx, waiting_rx) = mpsc::channel::<usize>();
    let mut children: Vec<(Child, thread::JoinHandle<String>)> = Vec::new();
    for i in 0..processes {
        let mut child = project
            .command(&["upgrade"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("retort starts");
        let stderr = child.stderr.take().unwrap();
        let tx = waiting_tx.clone();
        let reader = thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines() {
                let line = line.unwrap();
                if line.starts_with("waiting for the lock") {
                    let _ = tx.send(i);
                }
                all.push_str(&line);
                all.push('\n');
            }
            all
        });
        children.push((child, reader));
    }
    drop(waiting_tx);

    if let Some(driver) = lock.as_mut() {
        for _ in 0..processes {
            if waiting_rx.recv_timeout(Duration::from_secs(60)).is_err() {
                for (child, _) in &mut children {
                    let _ = child.kill();
                }
                panic!("not every process reported waiting for the lock within 60 s");
            }
        }
        if let Some(while_waiting) = while_waiting {
            while_waiting();
        }
        driver.unlock().expect("the test releases the run lock");
    }

    children
        .into_iter()
        .map(|(child, reader)| {
            let output = child.wait_with_output().unwrap();
            Outcome {
                code: output.status.code().unwrap_or(-1),
                stdout: String::from_utf8(output.stdout).unwrap(),
                stderr: reader.join().unwrap(),
            }
        })
        .collect()
}

/// Exactly one process applied all migrations, every other one nothing; a
/// process that waited says when it got the lock; each migration is applied
/// exactly once.
fn check(db: &TestDb, outcomes: &[Outcome]) {
    for o in outcomes {
        assert_eq!(o.code, 0, "{o:#?}");
        assert!(o.applied_all() || o.applied_nothing(), "{o:#?}");
        if o.waited() {
            assert!(o.stderr.contains("lock acquired after "), "{o:#?}");
        }
    }
    let appliers = outcomes.iter().filter(|o| o.applied_all()).count();
    assert_eq!(
        appliers, 1,
        "exactly one process applies the plan: {outcomes:#?}"
    );

    let ids: Vec<String> = (1..=MIGRATIONS).map(|i| format!("r{i:02}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    // Every table exists with its three rows (not six).
    assert_state(
        db,
        &linear(MIGRATIONS),
        &[ids[MIGRATIONS - 1]],
        &ids,
        "after the race",
    );
}

dialect_tests! {
    two_processes_upgrade_at_once,
    eight_processes_wait_for_the_lock,
    sixteen_processes_at_once,
    lock_timeout,

    transaction_off_migration_runs_once,
}

/// Two processes started at once.
fn two_processes_upgrade_at_once(db: &TestDb) {
    let outcomes = race(db, 2, false);
    check(db, &outcomes);
    // Whoever did not apply either waited or came after the other's
    // commit; both are fine, and both said nothing else.
}

/// Eight processes, all started while the lock is held: every one
/// waits, one applies the plan after the lock is released.
fn eight_processes_wait_for_the_lock(db: &TestDb) {
    let outcomes = race(db, 8, true);
    for o in &outcomes {
        assert!(o.waited(), "every process waited: {o:#?}");
    }
    check(db, &outcomes);
}

/// Sixteen processes racing from the start, as replicas of an app do at a
/// deploy: all exit 0, one applies the 50 migrations, each exactly once.
fn sixteen_processes_at_once(db: &TestDb) {
    let outcomes = race(db, 16, false);
    check(db, &outcomes);
    let idle = outcomes.iter().filter(|o| o.applied_nothing()).count();
    assert_eq!(idle, 15, "{outcomes:#?}");
    // That waiters say so is shown deterministically by
    // `eight_processes_wait_for_the_lock`, which holds the lock for them.
}

/// A run that cannot get the lock in time: exit 1, `lock_timeout`,
/// a hint naming `--lock-timeout`, nothing applied.
fn lock_timeout(db: &TestDb) {
    let project = Project::new(db, linear(3));
    let mut driver = db.connect();
    driver.lock(Duration::from_secs(5), &mut |_| {}).unwrap();
    let run = project.json(&["upgrade", "--lock-timeout", "1"]).code(1);
    assert_eq!(run.kind(), "lock_timeout", "{}", run.transcript());
    assert!(run.hint().contains("--lock-timeout"), "{}", run.hint());
    let text = project.text(&["upgrade", "--lock-timeout", "1"]).code(1);
    assert!(
        text.stderr.starts_with("waiting for the lock: "),
        "{}",
        text.stderr
    );
    driver.unlock().unwrap();
    assert_eq!(version_rows(db), Vec::<String>::new());
    assert_eq!(applied(db), Vec::<String>::new());
    project.json(&["upgrade"]).ok();
}

/// A `-- retort:transaction off` migration while other runners wait:
/// "one runner at a time per database" must still hold, so it runs
/// once. Its statements run outside the run lock; the last one is a
/// slow read (a recursive count, standard SQL), which leaves a waiting
/// runner ample time to take the lock, plan r01 again and run it.
fn transaction_off_migration_runs_once(db: &TestDb) {
    let mut revs = linear(3);
    revs[0] = revs[0].clone().transaction_off();
    revs[0].upgrade.push_str(
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000) \
         SELECT COUNT(*) FROM c;\n",
    );
    let project = Project::new(db, revs);

    let outcomes = race_on(&project, db, 3, true);
    for o in &outcomes {
        assert_eq!(o.code, 0, "{o:#?}");
    }
    let appliers = outcomes
        .iter()
        .filter(|o| o.stdout.starts_with("3 step(s) done"))
        .count();
    assert_eq!(appliers, 1, "{outcomes:#?}");
    assert_state(
        db,
        project.revs(),
        &["r03"],
        &["r01", "r02", "r03"],
        "after the race",
    );
}
