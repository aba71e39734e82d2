//! `--sql`: the script, run by the database's own shell, leaves the same
//! schema and the same state rows as the online run.

use std::io::Write as _;
use std::process::Stdio;

use crate::db::{TestDb, dialect_tests, skip_without_tool};
use crate::util::{Project, graph, linear, version_rows};

/// Runs `script` with the database's shell; `false` if there is none.
pub(crate) fn run_script(db: &TestDb, script: &str) -> bool {
    let mut cmd = match db.script_runner() {
        Ok(cmd) => cmd,
        Err(why) => {
            skip_without_tool(db, &format!("offline scripts are not run: {why}"));
            return false;
        }
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the shell starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the shell failed on the script:\n{}\n--- script\n{script}",
        String::from_utf8_lossy(&output.stderr)
    );
    true
}

/// The offline script of `args` (which include `--sql`).
pub(crate) fn script(project: &Project, args: &[&str]) -> String {
    let run = project.text(args).ok();
    assert_eq!(run.stderr, "", "nothing on stderr for --sql");
    let begins = run.stdout.contains("BEGIN;") || run.stdout.contains("START TRANSACTION;");
    assert!(begins || !run.stdout.contains("-- Running"));
    run.stdout
}

/// The state that must agree between two databases.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct State {
    schema: Vec<(String, String)>,
    rows: Vec<String>,
    /// The applied table without its times.
    applied: Vec<Vec<String>>,
}

pub(crate) fn state(db: &TestDb) -> State {
    let applied = if db.tables().iter().any(|t| t == "retort_applied") {
        db.rows("SELECT revision, checksum, operation FROM retort_applied ORDER BY revision")
    } else {
        Vec::new()
    };
    State {
        schema: db.schema(),
        rows: version_rows(db),
        applied,
    }
}

dialect_tests! {
    offline_stamp_matches_online,
    offline_atomic_is_one_transaction,
    offline_upgrade_matches_online,
    offline_range_from_a_middle_revision,
    offline_downgrade_after_an_online_upgrade,

    offline_unterminated_statement_before_a_comment,
}

/// `stamp --sql`, from a range's start, with and without `--purge`: the
/// script leaves the tables an online stamp leaves (it was refused).
fn offline_stamp_matches_online(db: &TestDb) {
    let online = db;
    let offline = db.sibling();
    let on = Project::new(online, graph());
    let off = Project::new(&offline, graph());
    for project in [&on, &off] {
        project.json(&["upgrade", "c10003"]).ok();
    }
    on.json(&["stamp", "heads"]).ok();
    let sql = script(&off, &["stamp", "c10003:heads", "--sql"]);
    assert!(
        !sql.contains("CREATE TABLE users"),
        "no revision's SQL runs:\n{sql}"
    );
    if !run_script(&offline, &sql) {
        return;
    }
    assert_eq!(state(&offline), state(online));
    assert_eq!(version_rows(&offline), ["o00009", "y00011"]);

    on.json(&["stamp", "--purge", "b00002"]).ok();
    let sql = script(&off, &["stamp", "heads:b00002", "--purge", "--sql"]);
    assert!(run_script(&offline, &sql));
    assert_eq!(state(&offline), state(online));
    assert_eq!(version_rows(&offline), ["b00002"]);
    // No database at hand: `current` is not known.
    for command in ["stamp", "upgrade"] {
        let run = off.json(&[command, "current:heads", "--sql"]).code(2);
        assert!(
            run.message().contains("the script does not read"),
            "{}",
            run.message()
        );
    }
}

/// `--sql --atomic`: the whole script in one transaction, as online; on
/// MariaDB, whose DDL commits implicitly, refused as online is.
fn offline_atomic_is_one_transaction(db: &TestDb) {
    let online = db;
    let offline = db.sibling();
    let on = Project::new(online, linear(3));
    let off = Project::new(&offline, linear(3));
    let run = off.text(&["upgrade", "--sql", "--atomic"]);
    if !db.transactional_ddl() {
        let refused = on.json(&["upgrade", "--atomic"]).code(2);
        assert_eq!(refused.kind(), "atomic_not_possible");
        assert_eq!(run.code, 2, "{}", run.transcript());
        assert!(run.stderr.contains("--atomic"), "{}", run.stderr);
        return;
    }
    let sql = run.ok().stdout;
    assert_eq!(sql.matches("BEGIN;").count(), 1, "{sql}");
    assert_eq!(sql.matches("COMMIT;").count(), 1, "{sql}");
    assert!(sql.trim_end().ends_with("COMMIT;"), "{sql}");
    on.json(&["upgrade", "--atomic"]).ok();
    if !run_script(&offline, &sql) {
        return;
    }
    assert_eq!(state(&offline), state(online));
    // A migration that must run outside a transaction is refused, offline
    // as online, before anything is written.
    let mut revs = linear(3);
    revs[1].transaction_off = true;
    let off = Project::new(&offline, revs);
    let run = off.json(&["upgrade", "--sql", "--atomic"]).code(2);
    assert_eq!(run.kind(), "atomic_not_possible");
    assert_eq!(off.text(&["upgrade", "--sql", "--dry-run"]).code, 2);
}

/// `upgrade heads --sql` from an empty database equals `upgrade heads`.
fn offline_upgrade_matches_online(db: &TestDb) {
    let online = db;
    let offline = db.sibling();
    let on = Project::new(online, graph());
    let off = Project::new(&offline, graph());
    on.json(&["upgrade", "heads"]).ok();
    let sql = script(&off, &["upgrade", "heads", "--sql"]);
    // Nothing was read or written by --sql.
    assert_eq!(offline.tables(), Vec::<String>::new());
    if !run_script(&offline, &sql) {
        return;
    }
    assert_eq!(state(&offline), state(online));
    assert_eq!(version_rows(&offline), ["o00009", "y00011"]);
    // retort reads the scripted database as its own.
    let run = off.json(&["verify"]).ok();
    assert_eq!(run.doc()["ok"], true);
    assert_eq!(
        off.json(&["upgrade", "heads"]).ok().steps(),
        Vec::<String>::new()
    );
}

/// `upgrade A:B --sql` starts at A: run on a database at A, it equals
/// the online upgrade from A.
fn offline_range_from_a_middle_revision(db: &TestDb) {
    let online = db;
    let offline = db.sibling();
    let on = Project::new(online, graph());
    let off = Project::new(&offline, graph());
    on.json(&["upgrade", "c10003"]).ok();
    off.json(&["upgrade", "c10003"]).ok();
    on.json(&["upgrade", "heads"]).ok();
    let sql = script(&off, &["upgrade", "c10003:heads", "--sql"]);
    assert!(
        !sql.contains("-> c10003,"),
        "the range starts after c10003:\n{sql}"
    );
    if !run_script(&offline, &sql) {
        return;
    }
    assert_eq!(state(&offline), state(online));
}

/// `downgrade heads:base --sql` after an online upgrade equals the
/// online `downgrade base`; a downgrade without a range is refused.
fn offline_downgrade_after_an_online_upgrade(db: &TestDb) {
    let online = db;
    let offline = db.sibling();
    let on = Project::new(online, graph());
    let off = Project::new(&offline, graph());
    on.json(&["upgrade", "heads"]).ok();
    off.json(&["upgrade", "heads"]).ok();

    let run = off.json(&["downgrade", "base", "--sql"]).code(2);
    assert_eq!(run.kind(), "not_offline");
    assert!(run.message().contains("head:base"), "{}", run.message());

    on.json(&["downgrade", "base"]).ok();
    let sql = script(&off, &["downgrade", "heads:base", "--sql"]);
    // Alembic's step comments: from where to where.
    assert!(
        sql.contains("-- Running downgrade b00002 -> a00001, create users"),
        "{sql}"
    );
    assert!(
        sql.contains("-- Running downgrade a00001 -> <base>,"),
        "{sql}"
    );
    if !run_script(&offline, &sql) {
        return;
    }
    assert_eq!(state(&offline), state(online));
    assert_eq!(version_rows(&offline), Vec::<String>::new());
}

/// A section whose last statement has no `;` and is followed by a
/// comment runs online (the splitter ends the statement), and the offline
/// script ends it before the comment too: appending the `;` after the
/// comment would run it into the version-table INSERT.
fn offline_unterminated_statement_before_a_comment(db: &TestDb) {
    let mut revs = linear(2);
    revs[0].upgrade = "CREATE TABLE t01 (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n\
        INSERT INTO t01 (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three')\n\
        -- the last statement has no semicolon\n"
        .to_owned();
    let online = db;
    let offline = db.sibling();
    let on = Project::new(online, revs.clone());
    let off = Project::new(&offline, revs);
    on.json(&["upgrade"]).ok();
    let sql = script(&off, &["upgrade", "--sql"]);
    if !run_script(&offline, &sql) {
        return;
    }
    assert_eq!(state(&offline), state(online));
}
