//! The lease-row run lock (`lock = "lease"` in retort.toml,
//! `?retort_lock=lease` in the URL): who holds it, waiting for it, taking
//! over a lease a dead run left once it expires, freeing it by hand, a
//! running migration told from an interrupted one, and many runners kept
//! apart on a server whose advisory locks lock nothing.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::db::{Kind, TestDb, dialect_tests, skip};
use crate::util::{Project, Rev, linear, retort_bin, version_rows};

dialect_tests! {
    lease_waits_takes_over_and_is_released_by_hand,
    running_migration_is_not_interrupted,
    a_run_whose_lease_is_released_stops,
}

/// `name::postgres` only: the advisory functions replaced are PostgreSQL's.
mod lease_where_advisory_locks_lock_nothing {
    #[test]
    fn postgres() {
        crate::db::run(
            super::lease_where_advisory_locks_lock_nothing,
            crate::db::Kind::Postgres,
        );
    }
}

/// `url` with more query parameters.
pub(crate) fn with_params(url: &str, params: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{params}")
}

/// `retort -C ROOT --url URL ARGS` for one project and any URL (the
/// project's own one, or a node of a cluster).
pub(crate) fn command_at(project: &Project, url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(retort_bin());
    cmd.env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .arg("-C")
        .arg(project.root())
        .arg("--url")
        .arg(url)
        .args(args);
    cmd
}

/// `n` revisions in a line, each inserting its own row into `counter`
/// (which r01 creates), so that a revision applied twice shows as two rows.
pub(crate) fn counters(n: usize) -> Vec<Rev> {
    (1..=n)
        .map(|i| {
            let id = format!("r{i:02}");
            let parent = format!("r{:02}", i - 1);
            let revises: Vec<&str> = if i == 1 { vec![] } else { vec![&parent] };
            let mut rev = Rev::merge(&id, &revises, &format!("count {id}"));
            // No primary key: a second row for a revision must be possible
            // to show. (Galera accepts such a table; it is only appended to.)
            let create = if i == 1 {
                "CREATE TABLE counter (rev VARCHAR(32) NOT NULL);\n"
            } else {
                ""
            };
            rev.upgrade = format!("{create}INSERT INTO counter (rev) VALUES ('{id}');\n");
            rev
        })
        .collect()
}

/// What one `retort --format json upgrade` of a race did.
#[derive(Debug)]
#[allow(dead_code, reason = "what a failed assertion prints")]
pub(crate) struct Racer {
    pub(crate) url: String,
    pub(crate) code: i32,
    pub(crate) steps: usize,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Starts one `retort --format json upgrade` per URL, all at once, and
/// waits for them.
pub(crate) fn race(project: &Project, urls: &[String]) -> Vec<Racer> {
    let children: Vec<_> = urls
        .iter()
        .map(|url| {
            let child = command_at(project, url, &["--format", "json", "upgrade"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("retort starts");
            (url.clone(), child)
        })
        .collect();
    children
        .into_iter()
        .map(|(url, child)| {
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            let steps = serde_json::from_str::<Value>(&stdout)
                .ok()
                .and_then(|doc| doc["steps"].as_array().map(Vec::len))
                .unwrap_or(0);
            Racer {
                url,
                code: output.status.code().unwrap_or(-1),
                steps,
                stdout,
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }
        })
        .collect()
}

/// Every racer exited 0 and one of them applied all `n` revisions, the
/// others none; `counter` holds each revision's row once (`rows` reads a
/// query's rows on some connection to the database).
pub(crate) fn assert_applied_once(
    racers: &[Racer],
    n: usize,
    rows: impl Fn(&str) -> Vec<Vec<String>>,
    round: &str,
) {
    for racer in racers {
        assert_eq!(racer.code, 0, "{round}: {racer:#?}");
        assert!(
            racer.steps == 0 || racer.steps == n,
            "{round}: a run applied part of the plan: {racer:#?}"
        );
    }
    let appliers = racers.iter().filter(|r| r.steps == n).count();
    assert_eq!(
        appliers, 1,
        "{round}: one run applies the plan: {racers:#?}"
    );
    let counted = rows("SELECT rev, COUNT(*) FROM counter GROUP BY rev ORDER BY rev");
    let expected: Vec<Vec<String>> = (1..=n)
        .map(|i| vec![format!("r{i:02}"), "1".to_owned()])
        .collect();
    assert_eq!(counted, expected, "{round}: each revision applied once");
    assert_eq!(
        rows("SELECT version_num FROM retort_version"),
        [[format!("r{n:02}")]],
        "{round}"
    );
    assert_eq!(
        rows("SELECT COUNT(*) FROM retort_applied"),
        [[n.to_string()]],
        "{round}"
    );
}

/// The server's clock `seconds` from now (negative: ago), in the words of
/// the test database's dialect.
fn server_time(db: &TestDb, seconds: i64) -> String {
    match db.kind() {
        Kind::Mariadb => format!("UTC_TIMESTAMP(6) + INTERVAL {seconds} SECOND"),
        _ => format!("now() + interval '{seconds} seconds'"),
    }
}

/// Makes the lease look held by a run that is gone: `holder` on another
/// host, expiring `seconds` from now.
fn hold_as(db: &TestDb, holder: &str, seconds: i64) {
    db.exec(&format!(
        "UPDATE retort_lock SET holder = '{holder}', host = 'elsewhere', pid = 4242, acquired_at = {now}, heartbeat_at = {now}, expires_at = {} WHERE name = 'retort_version'",
        server_time(db, seconds),
        now = server_time(db, 0)
    ));
}

/// The lease's status before and after a run; a run waits for a lease a
/// dead run left and takes it over once it expired; `lock release`
/// refuses without `--yes`, then frees it.
fn lease_waits_takes_over_and_is_released_by_hand(db: &TestDb) {
    if db.kind() == Kind::Sqlite {
        return skip(db, "SQLite locks its file; the lease is for servers");
    }
    let mut project = Project::new(db, linear(1));
    project.set_url(&with_params(
        &db.url(),
        "retort_lock=lease&retort_lock_ttl=3",
    ));

    let before = project.json(&["lock", "status"]).ok();
    assert_eq!(before.doc()["lock"], "lease", "{}", before.transcript());
    assert_eq!(before.doc()["held"], false);
    assert!(before.doc()["lease"].is_null(), "{}", before.transcript());

    // A dry run takes no lease: it would create the lock table.
    project.json(&["upgrade", "--dry-run"]).ok();
    assert!(!db.tables().iter().any(|t| t == "retort_lock"));

    project.json(&["upgrade"]).ok();
    let after = project.json(&["lock", "status"]).ok();
    assert_eq!(after.doc()["held"], false, "{}", after.transcript());
    let lease = &after.doc()["lease"];
    assert!(lease["holder"].is_null(), "released: {lease}");
    assert!(lease["pid"].as_i64().is_some(), "{lease}");
    assert!(!lease["acquired_at"].is_null(), "{lease}");

    // A run that died holding it, 3 s from expiry.
    hold_as(db, "dead-run", 3);
    let held = project.json(&["lock", "status"]).ok();
    assert_eq!(held.doc()["held"], true, "{}", held.transcript());
    assert_eq!(held.doc()["lease"]["holder"], "dead-run");
    assert_eq!(held.doc()["lease"]["host"], "elsewhere");
    assert!(
        held.doc()["holder"]
            .as_str()
            .unwrap()
            .contains("`dead-run` on elsewhere (pid 4242)")
    );
    let text = project.text(&["lock", "status"]).ok();
    assert!(text.stdout.contains("lock:     lease"), "{}", text.stdout);
    // The same without the setting: the advisory lock is free, the row is
    // still shown.
    let mut advisory = Project::new(db, linear(1));
    advisory.set_url(&db.url());
    let other = advisory.json(&["lock", "status"]).ok();
    assert_eq!(other.doc()["lock"], "advisory", "{}", other.transcript());
    assert_eq!(other.doc()["held"], false);
    assert_eq!(other.doc()["lease"]["holder"], "dead-run");

    project.add(Rev::table("r02", &["r01"], "t02"));
    let started = Instant::now();
    let run = project.text(&["upgrade"]).ok();
    assert!(
        run.stderr
            .contains("waiting for the lock: a lease held by `dead-run` on elsewhere (pid 4242)"),
        "{}",
        run.transcript()
    );
    assert!(
        run.stderr.contains("lock acquired after "),
        "{}",
        run.transcript()
    );
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "waited for the expiry: {:?}",
        started.elapsed()
    );
    assert_eq!(version_rows(db), ["r02"]);

    hold_as(db, "stuck-run", 600);
    let refused = project.json(&["lock", "release"]).code(2);
    assert_eq!(refused.kind(), "confirmation_required");
    assert!(refused.hint().contains("--yes"), "{}", refused.hint());
    let timeout = project.json(&["upgrade", "--lock-timeout", "1"]).code(1);
    assert_eq!(timeout.kind(), "lock_timeout");
    assert!(
        timeout.hint().contains("retort lock status"),
        "{}",
        timeout.hint()
    );
    let released = project.json(&["lock", "release", "--yes"]).ok();
    assert_eq!(released.doc()["released"], true);
    assert_eq!(released.doc()["lease"]["holder"], "stuck-run");
    assert_eq!(project.json(&["lock", "status"]).ok().doc()["held"], false);
    let again = project.json(&["lock", "release", "--yes"]).ok();
    assert_eq!(again.doc()["released"], false);
}

/// Journal rows under a live lease are a migration in progress (perhaps
/// on another node): `status` says it runs, not that it was interrupted.
/// Once the lease expired, the same rows are an interrupted migration.
fn running_migration_is_not_interrupted(db: &TestDb) {
    if db.kind() == Kind::Sqlite {
        return skip(db, "SQLite locks its file; the lease is for servers");
    }
    let mut project = Project::new(db, linear(2));
    project.set_url(&with_params(&db.url(), "retort_lock=lease"));
    project.json(&["upgrade", "r01"]).ok();
    db.exec(
        "INSERT INTO retort_journal (version_table, revision, direction, statement, line, hash, state, session, recorded_at) \
         VALUES ('retort_version', 'r02', 'upgrade', 0, 6, 'sha256-v1:00', 'done', NULL, '2026-01-01T00:00:00Z')",
    );
    hold_as(db, "busy-run", 600);
    let status = project.json(&["status"]).ok();
    assert!(
        status.doc()["interrupted"].is_null(),
        "{}",
        status.transcript()
    );
    assert_eq!(status.doc()["running"]["holder"], "busy-run");
    let text = project.text(&["status"]).ok();
    assert!(
        text.stdout
            .contains("running:  a run holds the lease: `busy-run`"),
        "{}",
        text.stdout
    );

    hold_as(db, "busy-run", -1);
    let status = project.json(&["status"]).code(3);
    assert_eq!(
        status.doc()["interrupted"]["revision"],
        "r02",
        "{}",
        status.transcript()
    );
    assert!(status.doc()["running"].is_null());
    // The next run takes the expired lease and finds the migration
    // interrupted.
    assert_eq!(project.json(&["upgrade"]).code(1).kind(), "interrupted");
}

/// A run whose lease is freed by hand while it runs (as if it had expired
/// and another run had taken it) notices at its next renewal and starts no
/// further migration (`lock_lost`); the next run finishes the plan, each
/// revision once.
fn a_run_whose_lease_is_released_stops(db: &TestDb) {
    if db.kind() == Kind::Sqlite {
        return skip(db, "SQLite locks its file; the lease is for servers");
    }
    const REVISIONS: usize = 20;
    let pause = match db.kind() {
        Kind::Mariadb => "SELECT SLEEP(0.2);\n",
        _ => "SELECT pg_sleep(0.2);\n",
    };
    let mut revs = counters(REVISIONS);
    for rev in &mut revs {
        rev.upgrade.push_str(pause);
    }
    let mut project = Project::new(db, revs);
    project.set_url(&with_params(
        &db.url(),
        "retort_lock=lease&retort_lock_ttl=3",
    ));
    let run = project
        .command(&["--format", "json", "upgrade"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !db.tables().iter().any(|t| t == "counter")
        || db.rows("SELECT COUNT(*) FROM counter")[0][0] == "0"
    {
        assert!(Instant::now() < deadline, "the run started within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    project.json(&["lock", "release", "--yes"]).ok();
    let output = run.wait_with_output().unwrap();
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{doc}");
    assert_eq!(doc["error"]["kind"], "lock_lost", "{doc}");
    let done: usize = db.rows("SELECT COUNT(*) FROM counter")[0][0]
        .parse()
        .unwrap();
    assert!(done < REVISIONS, "stopped before the end: {done}");

    let next = project.json(&["upgrade"]).ok();
    assert_eq!(
        next.steps().len(),
        REVISIONS - done,
        "{}",
        next.transcript()
    );
    let counted = db.rows("SELECT rev, COUNT(*) FROM counter GROUP BY rev ORDER BY rev");
    assert_eq!(counted.len(), REVISIONS);
    assert!(counted.iter().all(|row| row[1] == "1"), "{counted:?}");
}

/// A PostgreSQL whose `pg_try_advisory_lock` and
/// `pg_try_advisory_xact_lock` answer `true` without locking anything, as
/// old CockroachDB versions did: a schema `crdb_shim` ahead of
/// `pg_catalog` on the database's `search_path`. retort calls these
/// functions unqualified, so the shim does take their place (shown first:
/// two sessions both "get" one key); with the lease selected, 16 runners
/// at once apply each of 30 revisions exactly once, in three rounds on
/// fresh databases, selected by the URL and by retort.toml.
fn lease_where_advisory_locks_lock_nothing(db: &TestDb) {
    const REVISIONS: usize = 30;
    const RUNNERS: usize = 16;
    let siblings = [db.sibling(), db.sibling()];
    let rounds = [(db, false), (&siblings[0], true), (&siblings[1], false)];
    for (round, (db, by_config)) in rounds.into_iter().enumerate() {
        shim(db);
        let mut project = Project::new(db, counters(REVISIONS));
        let url = if by_config {
            project.write(
                "retort.toml",
                "[database]\nlock = \"lease\"\n[migrations]\ndirs = [\"migrations\"]\n",
            );
            db.url()
        } else {
            with_params(&db.url(), "retort_lock=lease")
        };
        project.set_url(&url);
        let racers = race(&project, &vec![url; RUNNERS]);
        assert_applied_once(
            &racers,
            REVISIONS,
            |sql| db.rows(sql),
            &format!("round {}", round + 1),
        );
    }
}

/// Installs the shim of [`lease_where_advisory_locks_lock_nothing`] and
/// shows that it bites.
fn shim(db: &TestDb) {
    for statement in [
        "CREATE SCHEMA crdb_shim",
        "CREATE FUNCTION crdb_shim.pg_try_advisory_lock(bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true'",
        "CREATE FUNCTION crdb_shim.pg_try_advisory_xact_lock(bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true'",
        "CREATE FUNCTION crdb_shim.pg_advisory_unlock(bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true'",
        "CREATE FUNCTION crdb_shim.pg_advisory_lock(bigint) RETURNS void LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION USING ERRCODE = '42883', MESSAGE = 'unknown function: pg_advisory_lock()'; END$$",
    ] {
        db.exec(statement);
    }
    let name = db.rows("SELECT current_database()")[0][0].clone();
    db.exec(&format!(
        "ALTER DATABASE \"{name}\" SET search_path = public, crdb_shim, pg_catalog"
    ));
    let mut first = db.connect();
    let mut second = db.connect();
    for session in [&mut first, &mut second] {
        let got = session
            .query_text("SELECT pg_try_advisory_lock(7)::text")
            .unwrap();
        assert_eq!(got, [[Some("true".to_owned())]], "the shim answers");
    }
}
