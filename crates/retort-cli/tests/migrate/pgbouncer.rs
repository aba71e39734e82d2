//! retort through PgBouncer (Debian 12 ships 1.18), issue 16: in
//! transaction pooling with a pool of two server connections, 16 `retort
//! upgrade` processes at once apply each of 30 revisions exactly once, in
//! three rounds on fresh databases, and a `CREATE INDEX CONCURRENTLY`
//! completes while the others wait; with `lock_url` (a direct connection
//! for the run lock) a pool of one server connection suffices; in statement
//! pooling, which cannot carry a transaction, `lock_url` carries the
//! migrations too, and the same holds (16 upgraders, three rounds, and a
//! concurrent index build); statement pooling without `lock_url`, and a
//! pool too small for the lock, fail with an error that says what to
//! change.
//!
//! Each test starts a pgbouncer of its own, on a free loopback port with
//! its settings in a temporary directory, in front of the test server, and
//! stops it after. Without the `pgbouncer` binary the tests say they were
//! skipped (CI installs it; there its absence fails them).

use std::fs::{self, File};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use retort::config::DatabaseUrl;
use tempfile::TempDir;

use crate::concurrency::race_holding;
use crate::db::{self, Kind, TestDb};
use crate::util::{Project, Rev, Run, version_rows};

/// Upgraders started at once, rounds on fresh databases, and revisions per
/// round: the numbers.
const PROCESSES: usize = 16;
const ROUNDS: usize = 3;
const REVISIONS: usize = 30;

/// How long the processes of one round may take: a run that hangs (a lock
/// that never comes, an index build waiting for a snapshot) fails the test
/// rather than stalling the suite.
const DEADLINE: Duration = Duration::from_secs(120);

/// One `#[test]` per body, on PostgreSQL only.
macro_rules! postgres_tests {
    ($($test:ident => $body:ident),* $(,)?) => {$(
        #[test]
        fn $test() {
            db::run($body, Kind::Postgres);
        }
    )*};
}

postgres_tests! {
    sixteen_upgraders_through_transaction_pooling => transaction_pooling,
    concurrent_index_build_through_transaction_pooling => index_build_through_pooler,
    concurrent_index_build_direct => index_build_direct,
    a_waiting_upgrader_does_not_stall_an_index_build => waiting_upgrader_and_index_build,
    lock_url_with_a_pool_of_one => pool_of_one_with_lock_url,
    a_pool_of_one_without_lock_url_fails_clearly => pool_of_one_without_lock_url,
    statement_pooling_without_lock_url_fails_clearly => statement_pooling_without_lock_url,
    sixteen_upgraders_through_statement_pooling_with_lock_url => statement_pooling_with_lock_url,
    concurrent_index_build_through_statement_pooling_with_lock_url => index_build_through_statement_pooler,
    lock_url_must_reach_the_migrated_database => lock_url_elsewhere,
}

/// In front of `db`'s server: `pool_mode = transaction`, a pool of two.
fn transaction_pooling(db: &TestDb) {
    let Some(bouncer) = Bouncer::start_or_skip(db, "transaction", 2, &[]) else {
        return;
    };
    rounds(db, &bouncer, false);
}

/// A pool of one server connection, which the run lock's open transaction
/// would take for the whole run: `lock_url` takes the lock directly.
fn pool_of_one_with_lock_url(db: &TestDb) {
    let Some(bouncer) = Bouncer::start_or_skip(db, "transaction", 1, &[]) else {
        return;
    };
    rounds(db, &bouncer, true);
}

/// [`ROUNDS`] rounds of [`PROCESSES`] upgraders through `bouncer`, each on
/// a fresh database with [`REVISIONS`] revisions that each count
/// themselves in a table; with `lock_url`, the lock is taken straight on
/// the server (`RETORT_LOCK_URL`).
fn rounds(db: &TestDb, bouncer: &Bouncer, lock_url: bool) {
    let mut waits = 0;
    let mut named = 0;
    for round in 1..=ROUNDS {
        let fresh = (round > 1).then(|| db.sibling());
        let target = fresh.as_ref().unwrap_or(db);
        let project = Project::with_url(&bouncer.url(target), counted(REVISIONS));
        let lock_url = lock_url.then(|| target.url());
        let outcomes = upgraders(&project, PROCESSES, lock_url.as_deref());
        assert_applied_once(target, &outcomes, REVISIONS, &format!("round {round}"));
        waits += outcomes.iter().filter(|o| waited(o)).count();
        named += outcomes
            .iter()
            .filter(|o| o.stderr.contains("waiting for the lock: held by pid "))
            .count();
    }
    // Each round's applier holds the lock for 30 migrations while the
    // others start: some wait, and are told who holds the lock.
    assert!(
        waits > 0,
        "no upgrader waited for the lock in {ROUNDS} rounds"
    );
    assert!(named > 0, "no waiting upgrader was told who holds the lock");
}

/// Through PgBouncer: the applier's own lock transaction holds no snapshot,
/// or its `CREATE INDEX CONCURRENTLY` would wait for it for ever.
fn index_build_through_pooler(db: &TestDb) {
    let Some(bouncer) = Bouncer::start_or_skip(db, "transaction", 2, &[]) else {
        return;
    };
    index_build(db, &bouncer.url(db), None);
}

/// Through PgBouncer in statement mode, with `lock_url`.
fn index_build_through_statement_pooler(db: &TestDb) {
    let Some(bouncer) = Bouncer::start_or_skip(db, "statement", 2, &[]) else {
        return;
    };
    index_build(db, &bouncer.url(db), Some(&db.url()));
}

/// Straight to the server: the waiters poll the server itself meanwhile.
fn index_build_direct(db: &TestDb) {
    index_build(db, &db.url(), None);
}

/// Sixteen upgraders of three revisions, the second an index built
/// concurrently: it completes, valid, while the others wait.
fn index_build(db: &TestDb, url: &str, lock_url: Option<&str>) {
    let revs = vec![
        rev(
            "r01",
            None,
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n\
             INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 10000) g;\n\
             -- the others start waiting meanwhile\n\
             SELECT pg_sleep(1);\n",
            "DROP TABLE items;\n",
        ),
        rev(
            "r02",
            Some("r01"),
            "CREATE INDEX CONCURRENTLY items_name ON items (name);\n",
            "DROP INDEX CONCURRENTLY items_name;\n",
        ),
        rev(
            "r03",
            Some("r02"),
            "INSERT INTO items (id, name) VALUES (0, 'after the index');\n",
            "DELETE FROM items WHERE id = 0;\n",
        ),
    ];
    let project = Project::with_url(url, revs);
    let outcomes = upgraders(&project, PROCESSES, lock_url);
    for o in &outcomes {
        assert_eq!(o.code, 0, "{o:#?}");
    }
    let appliers: Vec<&Run> = outcomes
        .iter()
        .filter(|o| o.stdout == "3 step(s) done; the database is at r03\n")
        .collect();
    assert_eq!(appliers.len(), 1, "{outcomes:#?}");
    assert!(
        outcomes.iter().any(waited),
        "no upgrader waited while the index was built: {outcomes:#?}"
    );
    assert_eq!(
        db.rows("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'items_name'::regclass"),
        [["true"]]
    );
    assert_eq!(version_rows(db), ["r03"]);
    assert_eq!(db.rows("SELECT count(*) FROM items"), [["10001"]]);
}

/// An index built by another session while an upgrader waits for the run
/// lock: the waiter polls with short transactions that keep no snapshot,
/// so the build does not wait for it (a waiter blocked inside
/// `pg_advisory_lock` would stall it until the lock came).
fn waiting_upgrader_and_index_build(db: &TestDb) {
    db.exec("CREATE TABLE others (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL)");
    db.exec("INSERT INTO others SELECT g, 'other ' || g FROM generate_series(1, 1000) g");
    let project = Project::new(db, counted(3));
    let build = || {
        let url = db.url();
        let (built_tx, built_rx) = mpsc::channel();
        thread::spawn(move || {
            let url = DatabaseUrl::parse(&url).expect("the test URL parses");
            let mut conn = retort::db::connect(&url).expect("a second connection");
            let started = Instant::now();
            let built = conn.run("CREATE INDEX CONCURRENTLY others_name ON others (name)");
            let _ = built_tx.send((built, started.elapsed()));
        });
        // Given up on after 20 s: the lock is released then, which lets a
        // stalled build end too.
        built_rx.recv_timeout(Duration::from_secs(20))
    };
    let mut built = None;
    let outcomes = race_holding(&project, db, 1, Some(&mut || built = Some(build())));
    let (built, took) = built.expect("the upgrader waited").unwrap_or_else(|_| {
        panic!("CREATE INDEX CONCURRENTLY waited 20 s beside a waiting upgrader")
    });
    built.expect("the index is built");
    assert!(
        took < Duration::from_secs(10),
        "the index build took {took:?}"
    );

    let [outcome] = outcomes.as_slice() else {
        panic!("one upgrader: {outcomes:#?}")
    };
    assert_eq!(outcome.code, 0, "{outcome:#?}");
    assert!(
        outcome.stderr.contains("lock acquired after "),
        "{outcome:#?}"
    );
    assert_eq!(
        db.rows("SELECT revision, count(*) FROM counter GROUP BY revision ORDER BY revision"),
        [["r01", "1"], ["r02", "1"], ["r03", "1"]]
    );
}

/// The lock's transaction would hold the pool's one server connection,
/// and the applier's migrations would wait for it: the pooler gives up
/// (`query_wait_timeout`) and retort says to enlarge the pool or use
/// `lock_url`.
fn pool_of_one_without_lock_url(db: &TestDb) {
    let Some(bouncer) =
        Bouncer::start_or_skip(db, "transaction", 1, &[("query_wait_timeout", "2")])
    else {
        return;
    };
    let project = Project::with_url(&bouncer.url(db), counted(3));
    let run = project.json(&["upgrade"]);
    // PgBouncer says `query_wait_timeout` and closes the connection; the
    // client sees one or the other, as the timing falls.
    let said = ["connection closed", "query_wait_timeout"]
        .into_iter()
        .find(|end| run.message().ends_with(end))
        .unwrap_or("connection closed");
    assert_refused(
        db,
        &run,
        "connect",
        &[said],
        &["query_wait_timeout", "lock_url"],
    );
}

/// Statement pooling closes the lock's connection as soon as its
/// transaction opens: the error says so, and what to change.
fn statement_pooling_without_lock_url(db: &TestDb) {
    let Some(bouncer) = Bouncer::start_or_skip(db, "statement", 2, &[]) else {
        return;
    };
    let project = Project::with_url(&bouncer.url(db), counted(3));
    let run = project.json(&["upgrade"]);
    assert_refused(
        db,
        &run,
        "pooler",
        &[
            "taking the run lock: the connection for the run lock",
            "statement mode",
        ],
        &["lock_url", "transaction or session mode"],
    );
}

/// With `lock_url`, the lock is taken directly; the migrations, which
/// run in transactions, cannot go through statement pooling, so they go
/// over `lock_url` too, and each run says so. Each revision is applied
/// exactly once, as through transaction pooling.
fn statement_pooling_with_lock_url(db: &TestDb) {
    let Some(bouncer) = Bouncer::start_or_skip(db, "statement", 2, &[]) else {
        return;
    };
    rounds(db, &bouncer, true);

    let project = Project::with_url(&bouncer.url(db), counted(REVISIONS));
    let output = project
        .command(&["upgrade"])
        .env("RETORT_LOCK_URL", db.url())
        .output()
        .expect("retort runs");
    let run = Run::new(&["upgrade"], false, output).ok();
    assert!(
        run.stderr.contains(
            "the database URL reaches a pooler in statement mode (PgBouncer's `pool_mode = statement`), \
             which cannot carry a migration's transaction: the migrations run over `lock_url` "
        ),
        "{}",
        run.transcript()
    );
}

/// A lock URL naming another database than the one migrated would lock
/// nothing the other runners see: refused before anything runs.
fn lock_url_elsewhere(db: &TestDb) {
    let project = Project::new(db, counted(3));
    let elsewhere = DatabaseUrl::parse(&db.url())
        .expect("the test URL parses")
        .with_database("postgres");
    let run = json_with_lock_url(&project, elsewhere.expose_secret());
    assert_refused(
        db,
        &run,
        "connect",
        &[
            "reaches database `postgres` on the same server",
            "an advisory lock only excludes",
        ],
        &["lock_url"],
    );

    // The same database, directly: fine.
    let run = json_with_lock_url(&project, &db.url()).ok();
    assert_eq!(run.heads(), ["r03"]);
    assert_eq!(version_rows(db), ["r03"]);
}

// ---------------------------------------------------------------- helpers

/// `retort --format json upgrade` of `project` with `RETORT_LOCK_URL`.
fn json_with_lock_url(project: &Project, lock_url: &str) -> Run {
    let args = ["--format", "json", "upgrade"];
    let output = project
        .command(&args)
        .env("RETORT_LOCK_URL", lock_url)
        .output()
        .expect("retort runs");
    Run::new(&args, true, output)
}

/// `run` failed (exit 1) with `kind`, its message holding each of
/// `message` and its hint each of `hint`, and left `db` without a table.
#[track_caller]
fn assert_refused(db: &TestDb, run: &Run, kind: &str, message: &[&str], hint: &[&str]) {
    let transcript = run.transcript();
    assert_eq!(run.code, 1, "{transcript}");
    assert_eq!(run.kind(), kind, "{transcript}");
    for part in message {
        assert!(
            run.message().contains(part),
            "no `{part}` in the message:\n{transcript}"
        );
    }
    for part in hint {
        assert!(
            run.hint().contains(part),
            "no `{part}` in the hint:\n{transcript}"
        );
    }
    assert_eq!(db.tables(), Vec::<String>::new(), "{transcript}");
}

/// `n` revisions in a line, each inserting its id into `counter` (which
/// the first creates), so that a revision applied twice shows as two rows.
fn counted(n: usize) -> Vec<Rev> {
    (1..=n)
        .map(|i| {
            let id = format!("r{i:02}");
            let parent = format!("r{:02}", i - 1);
            let create = if i == 1 {
                "CREATE TABLE counter (revision VARCHAR(32) NOT NULL);\n"
            } else {
                ""
            };
            rev(
                &id,
                (i > 1).then_some(parent.as_str()),
                &format!("{create}INSERT INTO counter (revision) VALUES ('{id}');\n"),
                &format!("DELETE FROM counter WHERE revision = '{id}';\n"),
            )
        })
        .collect()
}

fn rev(id: &str, revises: Option<&str>, upgrade: &str, downgrade: &str) -> Rev {
    Rev {
        id: id.to_owned(),
        revises: revises.into_iter().map(str::to_owned).collect(),
        labels: Vec::new(),
        depends_on: Vec::new(),
        message: format!("revision {id}"),
        table: None,
        upgrade: upgrade.to_owned(),
        downgrade: Some(downgrade.to_owned()),
        transaction_off: false,
    }
}

/// Whether a run waited for the lock.
fn waited(run: &Run) -> bool {
    run.stderr.contains("waiting for the lock: ")
}

/// Starts `processes` `retort upgrade` of `project` at once (with
/// `RETORT_LOCK_URL` when `lock_url` is given) and waits for them all,
/// killing them after [`DEADLINE`].
fn upgraders(project: &Project, processes: usize, lock_url: Option<&str>) -> Vec<Run> {
    let logs = tempfile::tempdir().expect("a temporary directory");
    let log = |i: usize, stream: &str| logs.path().join(format!("{i}.{stream}"));
    let mut children: Vec<Child> = (0..processes)
        .map(|i| {
            let mut command = project.command(&["upgrade"]);
            if let Some(url) = lock_url {
                command.env("RETORT_LOCK_URL", url);
            }
            command
                .stdout(File::create(log(i, "out")).expect("a log file"))
                .stderr(File::create(log(i, "err")).expect("a log file"))
                .spawn()
                .expect("retort starts")
        })
        .collect();
    let deadline = Instant::now() + DEADLINE;
    let mut statuses: Vec<Option<ExitStatus>> = vec![None; processes];
    while statuses.iter().any(Option::is_none) && Instant::now() < deadline {
        for (child, status) in children.iter_mut().zip(&mut statuses) {
            if status.is_none() {
                *status = child.try_wait().expect("the process can be waited for");
            }
        }
        thread::sleep(Duration::from_millis(20));
    }
    let hung = statuses.iter().any(Option::is_none);
    let outcomes: Vec<Run> = children
        .iter_mut()
        .zip(statuses)
        .enumerate()
        .map(|(i, (child, status))| {
            let _ = child.kill();
            let status = status.unwrap_or_else(|| child.wait().expect("a killed process ends"));
            let output = Output {
                status,
                stdout: fs::read(log(i, "out")).unwrap_or_default(),
                stderr: fs::read(log(i, "err")).unwrap_or_default(),
            };
            Run::new(&["upgrade"], false, output)
        })
        .collect();
    assert!(
        !hung,
        "upgraders still running after {DEADLINE:?}, killed: {outcomes:#?}"
    );
    outcomes
}

/// Every process succeeded, one applied all `n` revisions and the others
/// found nothing to do; each revision counted itself once.
fn assert_applied_once(db: &TestDb, outcomes: &[Run], n: usize, what: &str) {
    let head = format!("r{n:02}");
    for o in outcomes {
        assert_eq!(o.code, 0, "{what}: {o:#?}");
        assert!(
            o.stdout == format!("{n} step(s) done; the database is at {head}\n")
                || o.stdout == format!("nothing to do; the database is at {head}\n"),
            "{what}: {o:#?}"
        );
    }
    let appliers = outcomes
        .iter()
        .filter(|o| o.stdout.starts_with(&format!("{n} step(s) done")))
        .count();
    assert_eq!(
        appliers, 1,
        "{what}: one process applies the plan: {outcomes:#?}"
    );
    let expected: Vec<Vec<String>> = (1..=n)
        .map(|i| vec![format!("r{i:02}"), "1".to_owned()])
        .collect();
    assert_eq!(
        db.rows("SELECT revision, count(*) FROM counter GROUP BY revision ORDER BY revision"),
        expected,
        "{what}: each revision applied once"
    );
    assert_eq!(version_rows(db), [head], "{what}");
    assert_eq!(
        db.rows("SELECT count(*) FROM retort_applied"),
        [[n.to_string()]],
        "{what}"
    );
}

/// A pgbouncer process of the test's own, stopped when dropped.
struct Bouncer {
    child: Child,
    port: u16,
    /// Its settings and log.
    _dir: TempDir,
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Bouncer {
    /// A pgbouncer in front of `db`'s server in `mode` (`pool_mode`) with
    /// `pool_size` server connections per database and user, and `extra`
    /// settings; `None` (the test is skipped) without the binary.
    fn start_or_skip(
        db: &TestDb,
        mode: &str,
        pool_size: usize,
        extra: &[(&str, &str)],
    ) -> Option<Bouncer> {
        let Some(binary) = pgbouncer_binary() else {
            db::skip_without_tool(
                db,
                "`pgbouncer` is not installed (CI installs Debian's package in .ci/run)",
            );
            return None;
        };
        let mut tries = Vec::new();
        for _ in 0..5 {
            match Bouncer::start(&binary, db, mode, pool_size, extra) {
                Ok(bouncer) => return Some(bouncer),
                Err(why) => tries.push(why),
            }
        }
        panic!("pgbouncer did not start: {tries:#?}");
    }

    fn start(
        binary: &PathBuf,
        db: &TestDb,
        mode: &str,
        pool_size: usize,
        extra: &[(&str, &str)],
    ) -> Result<Bouncer, String> {
        let server = DatabaseUrl::parse(&db.url()).expect("the test URL parses");
        let dir = tempfile::Builder::new()
            .prefix("retort-pgbouncer-")
            .tempdir()
            .expect("a temporary directory");
        // pgbouncer refuses to run as root: it then runs as `nobody`
        // (`-u`), which must read the settings.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))
            .expect("the directory's permissions");
        let user = server.user().unwrap_or("postgres");
        let quote = |s: &str| s.replace('"', "\"\"");
        fs::write(
            dir.path().join("users.txt"),
            format!(
                "\"{}\" \"{}\"\n",
                quote(user),
                quote(server.password().unwrap_or(""))
            ),
        )
        .expect("the user list");
        // A port free a moment ago; another process may take it first,
        // then pgbouncer stops and the caller tries again.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free port: {e}"))?;
        let mut ini = format!(
            "[databases]\n* = host={} port={}\n\n[pgbouncer]\n\
             listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
             auth_type = trust\nauth_file = {}\n\
             pool_mode = {mode}\ndefault_pool_size = {pool_size}\nmax_client_conn = 500\n",
            server.host().unwrap_or("127.0.0.1"),
            server.port().unwrap_or(5432),
            dir.path().join("users.txt").display(),
        );
        for (key, value) in extra {
            ini.push_str(&format!("{key} = {value}\n"));
        }
        let settings = dir.path().join("pgbouncer.ini");
        fs::write(&settings, ini).expect("the settings");
        let log = dir.path().join("pgbouncer.log");
        let log_file = File::create(&log).expect("the log");
        let mut command = Command::new(binary);
        if root {
            command.args(["-u", "nobody"]);
        }
        let mut child = command
            .arg(&settings)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("the log"))
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "pgbouncer on port {port}: {}",
                    fs::read_to_string(&log).unwrap_or_default()
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
        Ok(Bouncer {
            child,
            port,
            _dir: dir,
        })
    }

    /// The URL of `db` through this pgbouncer.
    fn url(&self, db: &TestDb) -> String {
        let url = DatabaseUrl::parse(&db.url()).expect("the test URL parses");
        let credentials = match url.password() {
            Some(password) => format!("{}:{password}", url.user().unwrap_or("postgres")),
            None => url.user().unwrap_or("postgres").to_owned(),
        };
        format!(
            "postgres://{credentials}@127.0.0.1:{}/{}",
            self.port,
            url.database().expect("a database name")
        )
    }
}

/// `pgbouncer` on the `PATH`, or where Debian puts it (`/usr/sbin`, not on
/// every user's `PATH`).
fn pgbouncer_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("pgbouncer"))
        .find(|candidate| candidate.is_file())
}
