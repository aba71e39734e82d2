//! Migrations that commit in parts — `-- retort:transaction off`, and on
//! PostgreSQL the statements that cannot run in a transaction (`CREATE INDEX
//! CONCURRENTLY`) — journal every completed part. A run that stops half way
//! is reported precisely by the next one; `retort resume` finishes it, and
//! `retort repair` records what was done by hand.

use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use crate::db::{Kind, TestDb, dialect_tests, skip, skip_without_tool};
use crate::util::{Project, Rev, applied, journal, version_rows};

dialect_tests! {
    failed_part_is_reported_then_resumed,
    resume_refuses_edited_completed_statements,
    repair_records_what_was_done_by_hand,
    statement_cut_off_while_running_can_be_skipped,
    skipped_statement_stays_done_when_a_later_one_fails,
    projects_sharing_a_database_have_their_own_journal,
    concurrent_index_waits_for_old_transactions_without_a_retry,
    statement_left_running_on_the_server_is_waited_for,
    concurrent_indexes_run_between_transactions,
    atomic_refuses_a_concurrent_index,
    failed_concurrent_index_names_the_invalid_index,
    killed_between_segments_resumes,
}

/// The statement that fails: the table does not exist on any database.
const BAD: &str = "INSERT INTO missing_table (id) VALUES (1);";
/// What fixes it.
const GOOD: &str = "INSERT INTO t02 (id, name) VALUES (4, 'four');";

/// r01 creates `t01`; r02 runs outside a transaction: two statements that
/// complete, [`BAD`], and one more.
fn transaction_off(db: &TestDb) -> Project {
    let mut r02 = Rev::merge("r02", &["r01"], "statement by statement").transaction_off();
    r02.upgrade = format!(
        "CREATE TABLE t02 (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n\
         INSERT INTO t02 (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three');\n\
         {BAD}\n\
         CREATE TABLE t02b (id INTEGER PRIMARY KEY);\n"
    );
    r02.downgrade = Some("DROP TABLE t02b;\nDROP TABLE t02;\n".to_owned());
    Project::new(db, vec![Rev::table("r01", &[], "t01"), r02])
}

/// Replaces `from` by `to` in a revision's file.
fn edit(project: &Project, id: &str, from: &str, to: &str) {
    let name = project.file_name(id);
    let text = std::fs::read_to_string(project.path(&name)).unwrap();
    assert!(text.contains(from), "{name} contains {from}");
    project.write(&name, &text.replace(from, to));
}

/// The 1-based line of `text` in a revision's file.
fn line_of(project: &Project, id: &str, text: &str) -> usize {
    let file = std::fs::read_to_string(project.path(&project.file_name(id))).unwrap();
    file.lines().position(|l| l == text).unwrap() + 1
}

fn count(db: &TestDb, table: &str) -> String {
    db.rows(&format!("SELECT COUNT(*) FROM {table}"))[0][0].clone()
}

fn done(rows: &[usize]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|i| vec!["r02".to_owned(), i.to_string(), "done".to_owned()])
        .collect()
}

fn failed_part_is_reported_then_resumed(db: &TestDb) {
    let project = transaction_off(db);
    let bad = line_of(&project, "r02", BAD);
    let run = project.json(&["upgrade"]).code(1);
    assert_eq!(run.kind(), "statement_failed");
    assert!(run.hint().contains("`retort resume`"), "{}", run.hint());
    assert!(
        run.hint()
            .contains(&format!("before line {bad} stayed applied")),
        "{}",
        run.hint()
    );
    // The two statements before BAD completed and are on record.
    assert_eq!(journal(db), done(&[0, 1]));
    assert_eq!(version_rows(db), ["r01"]);
    assert_eq!(count(db, "t02"), "3");

    // Nothing else runs until it is settled: the next run says where it
    // stopped.
    for args in [&["upgrade"][..], &["downgrade", "base"], &["stamp", "r02"]] {
        let run = project.json(args).code(1);
        assert_eq!(run.kind(), "interrupted", "{args:?}");
        let message = run.message();
        assert!(
            message.contains(
                "revision `r02` (upgrade) stopped half way: 2 statement(s) of 4 completed"
            ),
            "{message}"
        );
        let file = project.file_name("r02");
        assert!(
            message.contains(&format!("{file}:{}", bad - 1)),
            "{message}"
        );
        assert!(
            message.contains(&format!("statement 3 ({}", project.path(&file).display())),
            "{message}"
        );
        assert!(run.hint().contains("from statement 3"), "{}", run.hint());
    }
    let status = project.json(&["status"]).code(3);
    let interrupted = &status.doc()["interrupted"];
    assert_eq!(interrupted["revision"], "r02");
    assert_eq!(interrupted["completed"], 2);
    assert_eq!(interrupted["statements"], 4);
    assert_eq!(interrupted["next"]["line"], bad);
    assert!(interrupted["running"].is_null());

    edit(&project, "r02", BAD, GOOD);
    let run = project.json(&["resume"]).ok();
    assert_eq!(run.steps(), ["r02"]);
    assert_eq!(run.heads(), ["r02"]);
    assert_eq!(journal(db), Vec::<Vec<String>>::new());
    assert_eq!(version_rows(db), ["r02"]);
    assert_eq!(applied(db), ["r01", "r02"]);
    // Resuming did not run the completed statements again.
    assert_eq!(count(db, "t02"), "4");
    assert_eq!(count(db, "t02b"), "0");
    assert!(project.json(&["status"]).ok().doc()["interrupted"].is_null());
    assert_eq!(project.json(&["resume"]).ok().steps(), Vec::<String>::new());
    let text = project.text(&["resume"]).ok();
    assert!(text.stdout.contains("nothing to resume"), "{}", text.stdout);
    // And it reverts like any other migration.
    project.json(&["downgrade", "base"]).ok();
    assert_eq!(version_rows(db), Vec::<String>::new());
}

fn resume_refuses_edited_completed_statements(db: &TestDb) {
    let project = transaction_off(db);
    project.json(&["upgrade"]).code(1);
    edit(&project, "r02", "(2, 'two')", "(2, 'deux')");
    let run = project.json(&["resume"]).code(2);
    assert_eq!(run.kind(), "journal_mismatch");
    assert!(
        run.message()
            .contains("statement 2 of revision `r02` changed since it ran"),
        "{}",
        run.message()
    );
    assert!(run.hint().contains("retort repair r02"), "{}", run.hint());
    assert_eq!(journal(db), done(&[0, 1]), "nothing was run or forgotten");
}

fn repair_records_what_was_done_by_hand(db: &TestDb) {
    // Undone by hand: the journal is forgotten, nothing is recorded.
    let project = transaction_off(db);
    project.json(&["upgrade"]).code(1);
    let run = project.json(&["repair", "r02"]).code(2);
    assert_eq!(run.kind(), "usage", "--done or --rolled-back is required");
    let run = project.json(&["repair", "r01", "--done"]).code(2);
    assert_eq!(run.kind(), "not_interrupted");
    assert!(
        run.message().contains("the journal holds `r02`"),
        "{}",
        run.message()
    );
    db.exec("DROP TABLE t02");
    project.json(&["repair", "r02", "--rolled-back"]).ok();
    assert_eq!(journal(db), Vec::<Vec<String>>::new());
    assert_eq!(version_rows(db), ["r01"]);
    edit(&project, "r02", BAD, GOOD);
    assert_eq!(project.json(&["upgrade"]).ok().steps(), ["r02"]);
    assert_eq!(count(db, "t02"), "4");

    // Finished by hand: recorded as applied, with its checksum.
    let other = db.sibling();
    let project = transaction_off(&other);
    project.json(&["upgrade"]).code(1);
    other.exec("CREATE TABLE t02b (id INTEGER PRIMARY KEY)");
    let run = project.json(&["repair", "r0", "--done", "--dry-run"]).ok();
    assert_eq!(run.steps(), ["r02"]);
    assert_eq!(journal(&other).len(), 2, "a dry run changes nothing");
    let run = project.json(&["repair", "r0", "--done"]).ok();
    assert_eq!(run.heads(), ["r02"]);
    assert_eq!(journal(&other), Vec::<Vec<String>>::new());
    assert_eq!(version_rows(&other), ["r02"]);
    assert_eq!(applied(&other), ["r01", "r02"]);
    project.json(&["verify"]).ok();
}

/// Writes the journal row a run killed while [`BAD`] ran would leave.
fn bad_was_running(db: &TestDb, project: &Project) {
    let line = line_of(project, "r02", BAD);
    let hash = retort::script::checksum::checksum(BAD.trim_end_matches(';'));
    db.exec(&format!(
        "INSERT INTO retort_journal (version_table, revision, direction, statement, line, hash, state, recorded_at) \
         VALUES ('retort_version', 'r02', 'upgrade', 2, {line}, '{hash}', 'running', '2026-01-01T00:00:00Z')"
    ));
}

/// A statement outside a transaction is written `running` before it runs:
/// a run that dies meanwhile leaves that row, and the next run cannot know
/// whether the statement completed. The row is written here as such a run
/// leaves it.
fn statement_cut_off_while_running_can_be_skipped(db: &TestDb) {
    let project = transaction_off(db);
    project.json(&["upgrade"]).code(1);
    bad_was_running(db, &project);
    let run = project.json(&["upgrade"]).code(1);
    assert_eq!(run.kind(), "interrupted");
    assert!(
        run.message().contains("may or may not have completed"),
        "{}",
        run.message()
    );
    assert!(
        run.hint().contains("`retort resume --skip-running`"),
        "{}",
        run.hint()
    );
    let status = project.json(&["status"]).code(3);
    assert_eq!(status.doc()["interrupted"]["running"]["statement"], 3);

    // Say it completed: the statement after it runs, BAD does not.
    let run = project.json(&["resume", "--skip-running"]).ok();
    assert_eq!(run.steps(), ["r02"]);
    assert_eq!(journal(db), Vec::<Vec<String>>::new());
    assert_eq!(version_rows(db), ["r02"]);
    assert_eq!(count(db, "t02b"), "0");
}

/// After `resume --skip-running`, a later failure must leave the skipped
/// statement on record as done: the next resume starts after the failure,
/// not at the skipped statement.
fn skipped_statement_stays_done_when_a_later_one_fails(db: &TestDb) {
    const BAD2: &str = "INSERT INTO missing_too (id) VALUES (2);";
    let project = transaction_off(db);
    edit(
        &project,
        "r02",
        "CREATE TABLE t02b (id INTEGER PRIMARY KEY);",
        &format!(
            "CREATE TABLE t02b (id INTEGER PRIMARY KEY);\n{BAD2}\nCREATE TABLE t02c (id INTEGER PRIMARY KEY);"
        ),
    );
    project.json(&["upgrade"]).code(1);
    bad_was_running(db, &project);
    let run = project.json(&["resume", "--skip-running"]).code(1);
    assert_eq!(run.kind(), "statement_failed");
    assert!(run.message().contains("missing_too"), "{}", run.message());
    assert_eq!(journal(db), done(&[0, 1, 2, 3]));
    let status = project.json(&["status"]).code(3);
    assert_eq!(status.doc()["interrupted"]["completed"], 4);
    assert_eq!(status.doc()["interrupted"]["next"]["statement"], 5);

    edit(
        &project,
        "r02",
        BAD2,
        "INSERT INTO t02 (id, name) VALUES (5, 'five');",
    );
    // t02b exists: running it again would fail.
    assert_eq!(project.json(&["resume"]).ok().steps(), ["r02"]);
    assert_eq!(count(db, "t02"), "4");
    assert_eq!(count(db, "t02c"), "0");
    assert_eq!(journal(db), Vec::<Vec<String>>::new());
}

/// Two projects in one database, each with its own version table: one's
/// half-applied migration neither blocks nor can be repaired by the other.
fn projects_sharing_a_database_have_their_own_journal(db: &TestDb) {
    let first = transaction_off(db);
    first.json(&["upgrade"]).code(1);
    let second = Project::with_url(&db.url(), vec![Rev::table("u01", &[], "u01")]);
    second.write(
        "retort.toml",
        "[migrations]\ndirs = [\"migrations\"]\nversion_table = \"second_version\"\n",
    );
    assert_eq!(second.json(&["upgrade"]).ok().steps(), ["u01"]);
    assert!(second.json(&["status"]).ok().doc()["interrupted"].is_null());
    let run = second.json(&["repair", "r02", "--rolled-back"]).code(2);
    assert_eq!(run.kind(), "not_interrupted");
    assert_eq!(first.json(&["upgrade"]).code(1).kind(), "interrupted");
    assert_eq!(journal(db), done(&[0, 1]));
}

// ------------------------------------------------------------ PostgreSQL

/// r01 creates `t01`; r02 mixes transactional statements with concurrent
/// index builds, without any directive.
fn concurrent(db: &TestDb, upgrade: &str) -> Project {
    let mut r02 = Rev::merge("r02", &["r01"], "concurrent indexes");
    r02.upgrade = upgrade.to_owned();
    r02.downgrade = Some("DROP TABLE t02c;\nDROP TABLE t02b;\nDROP TABLE t02;\n".to_owned());
    Project::new(db, vec![Rev::table("r01", &[], "t01"), r02])
}

const MIXED: &str = "CREATE TABLE t02 (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);
INSERT INTO t02 (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three');
CREATE INDEX CONCURRENTLY ix_t02_name ON t02 (name);
CREATE TABLE t02b (id INTEGER PRIMARY KEY);
CREATE UNIQUE INDEX CONCURRENTLY ux_t02_name ON t02 (name);
CREATE TABLE t02c (id INTEGER PRIMARY KEY);
";

/// `(index, valid)` of every index on the migration's tables.
fn indexes(db: &TestDb) -> Vec<Vec<String>> {
    indexes_of(db, "t02%")
}

/// `(index, valid)` of the indexes on tables named like `tables`.
fn indexes_of(db: &TestDb, tables: &str) -> Vec<Vec<String>> {
    db.rows(&format!(
        "SELECT c.relname::text, CASE WHEN i.indisvalid THEN 'valid' ELSE 'INVALID' END \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_class t ON t.oid = i.indrelid \
         WHERE t.relname LIKE '{tables}' AND NOT i.indisprimary ORDER BY 1"
    ))
}

fn valid(names: &[&str]) -> Vec<Vec<String>> {
    names
        .iter()
        .map(|n| vec![(*n).to_owned(), "valid".to_owned()])
        .collect()
}

fn concurrent_indexes_run_between_transactions(db: &TestDb) {
    if db.kind() != Kind::Postgres {
        return skip(
            db,
            "only PostgreSQL refuses statements inside a transaction",
        );
    }
    // Sent as one multi-statement transaction, PostgreSQL would refuse the
    // concurrent builds; split into parts, the file just works.
    let project = concurrent(db, MIXED);
    let run = project.json(&["upgrade"]).ok();
    assert_eq!(run.steps(), ["r01", "r02"]);
    assert_eq!(indexes(db), valid(&["ix_t02_name", "ux_t02_name"]));
    assert_eq!(journal(db), Vec::<Vec<String>>::new());
    assert_eq!(version_rows(db), ["r02"]);
    assert_eq!(applied(db), ["r01", "r02"]);

    // The offline script has the same parts, and psql runs it to the same
    // schema.
    let script = project.text(&["upgrade", "--sql"]).ok().stdout;
    let outside = script
        .lines()
        .filter(|l| l.contains("runs outside a transaction (it cannot run inside one)"))
        .count();
    assert_eq!(outside, 2, "{script}");
    let offline = db.sibling();
    let mut psql = match offline.script_runner() {
        Ok(psql) => psql,
        Err(why) => return skip_without_tool(db, &why),
    };
    let mut child = psql.stdin(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), script.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "psql ran the script");
    assert_eq!(offline.schema(), db.schema());
    assert_eq!(indexes(&offline), valid(&["ix_t02_name", "ux_t02_name"]));
    assert_eq!(version_rows(&offline), ["r02"]);
}

fn atomic_refuses_a_concurrent_index(db: &TestDb) {
    if db.kind() != Kind::Postgres {
        return skip(
            db,
            "only PostgreSQL refuses statements inside a transaction",
        );
    }
    let project = concurrent(db, MIXED);
    let run = project.json(&["upgrade", "--atomic"]).code(2);
    assert_eq!(run.kind(), "atomic_not_possible");
    let line = line_of(
        &project,
        "r02",
        "CREATE INDEX CONCURRENTLY ix_t02_name ON t02 (name);",
    );
    assert!(
        run.message().contains(&format!(
            "its statement at line {line} (CREATE INDEX CONCURRENTLY ix_t02_name ON t02 (name)) cannot run inside a transaction"
        )),
        "{}",
        run.message()
    );
    assert_eq!(version_rows(db), Vec::<String>::new(), "nothing ran");
}

fn failed_concurrent_index_names_the_invalid_index(db: &TestDb) {
    if db.kind() != Kind::Postgres {
        return skip(db, "no concurrent index builds");
    }
    let unique = "CREATE UNIQUE INDEX CONCURRENTLY ux_t02_name ON t02 (name);";
    let upgrade = format!(
        "CREATE TABLE t02 (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);
INSERT INTO t02 (id, name) VALUES (1, 'same'), (2, 'same');
{unique}
CREATE TABLE t02b (id INTEGER PRIMARY KEY);
CREATE TABLE t02c (id INTEGER PRIMARY KEY);
"
    );
    let project = concurrent(db, &upgrade);
    let run = project.json(&["upgrade"]).code(1);
    assert_eq!(run.kind(), "statement_failed");
    assert!(
        run.hint().contains(
            "PostgreSQL left index `public.ux_t02_name` INVALID: drop it with `DROP INDEX CONCURRENTLY public.ux_t02_name;`"
        ),
        "{}",
        run.hint()
    );
    assert_eq!(indexes(db), [["ux_t02_name", "INVALID"]]);
    assert_eq!(journal(db), done(&[0, 1]));
    // The next run points at the same leftover.
    let run = project.json(&["upgrade"]).code(1);
    assert_eq!(run.kind(), "interrupted");
    assert!(
        run.hint().contains("`public.ux_t02_name`"),
        "{}",
        run.hint()
    );

    db.exec("DROP INDEX CONCURRENTLY public.ux_t02_name");
    edit(
        &project,
        "r02",
        unique,
        "CREATE INDEX CONCURRENTLY ix_t02_name ON t02 (name);",
    );
    assert_eq!(project.json(&["resume"]).ok().steps(), ["r02"]);
    assert_eq!(indexes(db), valid(&["ix_t02_name"]));
    assert_eq!(version_rows(db), ["r02"]);
}

/// Keys of the advisory locks the test holds to stop a run between parts
/// (advisory locks are per database, and each test has its own).
const STOPS: [i64; 2] = [42_001, 42_002];

/// Two concurrent builds among transactional statements; each `SELECT
/// pg_advisory_xact_lock` waits while the test holds that key, so the
/// test knows which parts completed when it kills the run.
fn stoppable() -> String {
    format!(
        "CREATE TABLE t02 (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);
INSERT INTO t02 (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three');
CREATE INDEX CONCURRENTLY ix_t02_name ON t02 (name);
SELECT pg_advisory_xact_lock({});
CREATE TABLE t02b (id INTEGER PRIMARY KEY);
CREATE UNIQUE INDEX CONCURRENTLY ux_t02_name ON t02 (name);
SELECT pg_advisory_xact_lock({});
CREATE TABLE t02c (id INTEGER PRIMARY KEY);
",
        STOPS[0], STOPS[1]
    )
}

/// A transaction holding a snapshot, which a concurrent build must wait
/// for (a reader without one, in read committed, is not waited for).
fn old_snapshot(db: &TestDb) -> Box<dyn retort::db::Driver> {
    let mut old = db.connect();
    old.begin().unwrap();
    old.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .unwrap();
    old.run("SELECT COUNT(*) FROM t01").unwrap();
    old
}

/// Waits until a `retort` backend waits for advisory lock `key`.
fn wait_for_waiter(db: &TestDb, key: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let sql = format!(
        "SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objid = {key} \
         AND a.datname = current_database() AND a.application_name = 'retort'"
    );
    while db.rows(&sql)[0][0] == "0" {
        assert!(
            Instant::now() < deadline,
            "retort never reached the lock {key}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// `retort upgrade` killed (SIGKILL) while it waits in the part after the
/// first or the second concurrent build: the next run names the revision
/// and the last statement that completed, `retort resume` finishes it, and
/// the schema and state equal those of an uninterrupted run.
fn killed_between_segments_resumes(db: &TestDb) {
    if db.kind() != Kind::Postgres {
        return skip(db, "no statements that must run outside a transaction");
    }
    let reference = db.sibling();
    concurrent(&reference, &stoppable()).json(&["upgrade"]).ok();

    for round in 0..6 {
        let (stop, completed, last) = if round % 2 == 0 {
            (
                STOPS[0],
                3,
                "CREATE INDEX CONCURRENTLY ix_t02_name ON t02 (name)",
            )
        } else {
            (
                STOPS[1],
                6,
                "CREATE UNIQUE INDEX CONCURRENTLY ux_t02_name ON t02 (name)",
            )
        };
        let fresh = db.sibling();
        let project = concurrent(&fresh, &stoppable());
        let mut blocker = fresh.connect();
        blocker
            .run(&format!("SELECT pg_advisory_lock({stop})"))
            .unwrap();
        let mut child = project
            .command(&["upgrade", "--statement-lock-timeout", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_waiter(&fresh, stop);
        let _ = child.kill();
        child.wait().unwrap();
        // The killed client's server process would notice only when it
        // next talks to it; end it as a server's timeout would.
        blocker
            .run(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name = 'retort' \
                 AND pid <> pg_backend_pid()",
            )
            .unwrap();
        drop(blocker);
        let when = format!("round {round}, stopped at lock {stop}");

        let run = project.json(&["upgrade"]).code(1);
        assert_eq!(run.kind(), "interrupted", "{when}");
        let message = run.message();
        assert!(
            message.contains(&format!("{completed} statement(s) of 8 completed")),
            "{when}: {message}"
        );
        assert!(message.contains(last), "{when}: {message}");
        assert!(
            message.contains(&format!("statement {} (", completed + 1)),
            "{when}: {message}"
        );
        assert_eq!(version_rows(&fresh), ["r01"], "{when}");
        let expected: Vec<usize> = (0..completed).collect();
        assert_eq!(journal(&fresh), done(&expected), "{when}");

        let run = project.json(&["resume"]).ok();
        assert_eq!(run.steps(), ["r02"], "{when}");
        assert_eq!(fresh.schema(), reference.schema(), "{when}");
        assert_eq!(
            indexes(&fresh),
            valid(&["ix_t02_name", "ux_t02_name"]),
            "{when}"
        );
        assert_eq!(version_rows(&fresh), ["r02"], "{when}");
        assert_eq!(applied(&fresh), ["r01", "r02"], "{when}");
        assert_eq!(journal(&fresh), Vec::<Vec<String>>::new(), "{when}");
        assert_eq!(count(&fresh, "t02"), "3", "{when}");
    }
}

/// `CREATE INDEX CONCURRENTLY` waits for transactions older than it by
/// design, and commits catalog entries before it does: it runs without the
/// statement lock timeout, and is never retried (a retry would find its
/// own INVALID index).
fn concurrent_index_waits_for_old_transactions_without_a_retry(db: &TestDb) {
    if db.kind() != Kind::Postgres {
        return skip(db, "no concurrent index builds");
    }
    let mut index = Rev::merge("r02", &["r01"], "index t01 concurrently");
    index.upgrade = "CREATE INDEX CONCURRENTLY ix_t01_name ON t01 (name);\n".to_owned();
    index.downgrade = Some("DROP INDEX CONCURRENTLY ix_t01_name;\n".to_owned());
    let project = Project::new(db, vec![Rev::table("r01", &[], "t01"), index]);
    project.json(&["upgrade", "r01"]).ok();
    let mut old = old_snapshot(db);
    let child = project
        .command(&[
            "upgrade",
            "--statement-lock-timeout",
            "0.2",
            "--lock-retries",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Several lock timeouts long.
    thread::sleep(Duration::from_millis(1500));
    old.commit().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("retry"), "{stderr}");
    // It waited for the old transaction: the step took about as long.
    assert!(stderr.contains("index t01 concurrently ("), "{stderr}");
    let took: u64 = stderr
        .split("index t01 concurrently (")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0);
    assert!(took >= 1000, "the build did not wait: {stderr}");
    let valid = indexes_of(db, "t01");
    assert_eq!(valid, [["ix_t01_name", "valid"]]);
    assert_eq!(version_rows(db), ["r02"]);
}

/// A run killed while the server runs a long statement for it (here a
/// concurrent build waiting for an old transaction) leaves that statement
/// running in its server session. Until it ends, `resume` and `repair`
/// refuse and `status` names the session; afterwards the build is found
/// complete and `resume --skip-running` finishes the migration.
fn statement_left_running_on_the_server_is_waited_for(db: &TestDb) {
    if db.kind() != Kind::Postgres {
        return skip(
            db,
            "no statement here outlives its client long enough to observe",
        );
    }
    let mut index = Rev::merge("r02", &["r01"], "index t01 concurrently");
    index.upgrade = "CREATE INDEX CONCURRENTLY ix_t01_name ON t01 (name);\n".to_owned();
    index.downgrade = Some("DROP INDEX CONCURRENTLY ix_t01_name;\n".to_owned());
    let project = Project::new(db, vec![Rev::table("r01", &[], "t01"), index]);
    project.json(&["upgrade", "r01"]).ok();
    let mut old = old_snapshot(db);
    let mut child = project
        .command(&["upgrade"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let waiting = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                   AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'";
    while db.rows(waiting)[0][0] == "0" {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("retort ended before the build waited: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the build never waited: {:?}",
            db.rows("SELECT state, COALESCE(wait_event_type, ''), COALESCE(wait_event, ''), query FROM pg_stat_activity WHERE datname = current_database()")
        );
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().unwrap();

    for args in [&["resume"][..], &["repair", "r02", "--done"]] {
        let run = project.json(args).code(1);
        assert_eq!(run.kind(), "interrupted", "{args:?}");
        assert!(
            run.message()
                .contains("is still running on the server (session"),
            "{}",
            run.message()
        );
        assert!(run.hint().contains("pg_cancel_backend("), "{}", run.hint());
    }
    let status = project.json(&["status"]).code(3);
    assert!(status.doc()["interrupted"]["still_running_in_session"].is_string());

    // The old transaction ends; the orphaned build completes, then its
    // session notices the client is gone.
    old.commit().unwrap();
    drop(old);
    db.wait_for_other_sessions();
    let run = project.json(&["upgrade"]).code(1);
    assert!(
        run.message().contains("may or may not have completed"),
        "{}",
        run.message()
    );
    assert_eq!(
        project.json(&["resume", "--skip-running"]).ok().steps(),
        ["r02"]
    );
    assert_eq!(version_rows(db), ["r02"]);
    let valid = indexes_of(db, "t01");
    assert_eq!(valid, [["ix_t01_name", "valid"]]);
}
