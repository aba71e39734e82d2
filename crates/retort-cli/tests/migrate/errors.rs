//! Failures and refusals: what they say, their exit codes, and that they
//! leave the database as it was.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::db::{TestDb, dialect_tests, skip, skip_without_tool};
use crate::util::{
    Project, Run, applied, assert_state, assert_topological, graph, linear, retort_bin,
    user_tables, version_rows,
};

dialect_tests! {
    database_at_an_unknown_revision,
    table_already_exists_suggests_stamp,
    dry_run_changes_nothing,
    downgrade_through_an_irreversible_revision,
    target_errors,
    unwritable_database_fails,

    unwritable_file_is_reported_as_read_only,

    read_only_directory_is_reported_as_read_only,

    sqlite_url_modes,

    readers_leave_a_missing_file_missing,

    migration_controlling_its_transaction_is_refused,
    overlapping_version_rows_are_refused_and_shown,
    dropped_version_table_is_refused_not_replayed,
}

/// A revision and one of its ancestors both in the version table (a hand
/// edit or another tool): `upgrade` refused it as Alembic does (it ran,
/// kept the stale row and reported both), naming the rows and the stamp
/// that fixes them; `current` and `status` show it (exit 3).
fn overlapping_version_rows_are_refused_and_shown(db: &TestDb) {
    let project = Project::new(db, graph());
    project.json(&["upgrade", "c10003"]).ok();
    db.exec("INSERT INTO retort_version (version_num) VALUES ('a00001')");
    let run = project.json(&["upgrade", "heads"]).code(2);
    assert_eq!(run.kind(), "overlapping_rows", "{}", run.transcript());
    assert!(
        run.message()
            .contains("row `a00001` lies below row `c10003`"),
        "{}",
        run.message()
    );
    assert!(
        run.hint().contains("retort stamp --purge c10003"),
        "{}",
        run.hint()
    );
    assert_eq!(version_rows(db), ["a00001", "c10003"]);
    assert_eq!(user_tables(db), ["accounts", "orders", "users"]);
    let status = project.json(&["status"]).code(3);
    assert_eq!(status.doc()["problem"]["kind"], "overlapping_rows");
    assert_eq!(
        project.json(&["current"]).code(3).doc()["problem"]["kind"],
        "overlapping_rows"
    );
    // Doing what the hint says.
    project.json(&["stamp", "--purge", "c10003"]).ok();
    assert_eq!(version_rows(db), ["c10003"]);
    project.json(&["upgrade", "c20004"]).ok();
}

/// The version table dropped by hand while `retort_applied` still
/// records revisions: `upgrade` used to replay everything from the first
/// revision; it is refused, and `stamp` puts the table back.
fn dropped_version_table_is_refused_not_replayed(db: &TestDb) {
    let project = Project::new(db, linear(3));
    project.json(&["upgrade", "r02"]).ok();
    db.exec("DROP TABLE retort_version");
    let run = project.json(&["upgrade"]).code(2);
    assert_eq!(run.kind(), "version_table_missing", "{}", run.transcript());
    assert!(run.message().contains("`r01`, `r02`"), "{}", run.message());
    assert!(run.hint().contains("retort stamp"), "{}", run.hint());
    assert_eq!(user_tables(db), ["t01", "t02"]);
    assert_eq!(
        project.json(&["status"]).code(3).doc()["problem"]["kind"],
        "version_table_missing"
    );
    project.json(&["stamp", "r02"]).ok();
    assert_eq!(version_rows(db), ["r02"]);
    assert_eq!(project.json(&["upgrade"]).ok().steps(), ["r03"]);
}

/// The version table names a revision no file defines: every command
/// that plans refuses (`unknown_revision`, exit 2) with Alembic's
/// "can't locate revision" and a hint to `stamp --purge`; `current` and
/// `status` show the table as it is, the problem with it, and exit 3.
fn database_at_an_unknown_revision(db: &TestDb) {
    let project = Project::new(db, graph());
    project.json(&["upgrade", "a00001"]).ok();
    db.exec("INSERT INTO retort_version (version_num) VALUES ('zzz999')");
    let current = project.json(&["current"]).code(3);
    assert_eq!(
        current.doc()["heads"],
        serde_json::json!(["a00001", "zzz999"])
    );
    assert_eq!(current.doc()["current"], serde_json::json!(["a00001"]));
    assert_eq!(current.doc()["problem"]["kind"], "unknown_revision");
    let status = project.json(&["status"]).code(3);
    assert_eq!(status.doc()["problem"]["kind"], "unknown_revision");
    assert!(
        status.doc()["problem"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("stamp --purge")),
        "{}",
        status.transcript()
    );
    let text = project.text(&["current"]).code(3);
    assert!(
        text.stdout.contains("zzz999 (no revision file defines it)"),
        "{}",
        text.transcript()
    );
    let text = project.text(&["status"]).code(3);
    assert!(
        text.stdout
            .contains("version table: can't locate revision `zzz999`"),
        "{}",
        text.transcript()
    );
    for args in [&["upgrade", "heads"][..], &["downgrade", "base"]] {
        let run = project.json(args).code(2);
        assert_eq!(run.kind(), "unknown_revision", "{}", run.transcript());
        assert!(
            run.message().starts_with("can't locate revision `zzz999`"),
            "{}",
            run.message()
        );
        assert!(run.hint().contains("stamp --purge"), "{}", run.hint());
    }
    assert_state(
        db,
        project.revs(),
        &["a00001", "zzz999"],
        &["a00001"],
        "after the refusals",
    );
    let run = project.text(&["upgrade", "heads"]).code(2);
    assert!(
        run.stderr
            .starts_with("error: can't locate revision `zzz999`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("\nhint: "), "{}", run.stderr);
}

/// A pending migration creates a table that already exists: exit 1,
/// and the hint says to stamp the revision if its changes are there.
fn table_already_exists_suggests_stamp(db: &TestDb) {
    let project = Project::new(db, graph());
    db.exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL)");
    let run = project.json(&["upgrade", "b00002"]).code(1);
    assert_eq!(run.kind(), "statement_failed");
    assert!(run.message().contains("accounts"), "{}", run.message());
    // The statement is shown once, shortened, on its own line: not again
    // inside the database's message.
    assert!(
        run.message().matches("CREATE TABLE accounts").count() == 1
            && !run.message().contains("at offset"),
        "{}",
        run.message()
    );
    assert!(
        run.message().contains("01_a00001.sql:"),
        "{}",
        run.message()
    );
    assert!(run.hint().contains("retort stamp a00001"), "{}", run.hint());
    assert_eq!(version_rows(db), Vec::<String>::new());
    assert_eq!(applied(db), Vec::<String>::new());
    assert_eq!(user_tables(db), ["accounts"]);
    // Doing what the hint says.
    project.json(&["stamp", "a00001"]).ok();
    let run = project.json(&["upgrade", "b00002"]).ok();
    assert_eq!(run.steps(), ["b00002"]);
}

/// `--dry-run` reports the plan and changes nothing: on an empty
/// database not even the state tables are created.
fn dry_run_changes_nothing(db: &TestDb) {
    let project = Project::new(db, graph());
    let run = project.json(&["upgrade", "heads", "--dry-run"]).ok();
    assert_eq!(run.doc()["dry_run"], true);
    assert_eq!(run.steps().len(), 11);
    assert_topological(project.revs(), &run.steps(), false);
    assert!(run.directions().iter().all(|d| d == "up"));
    assert_eq!(run.heads(), ["o00009", "y00011"]);
    assert_eq!(db.tables(), Vec::<String>::new(), "no table at all");

    let text = project.text(&["upgrade", "heads", "--dry-run"]).ok();
    assert_eq!(
        text.stdout,
        "11 step(s) planned; the database would be at o00009, y00011\n"
    );
    assert!(
        text.stderr.starts_with("would run 11 migration(s)\n"),
        "{}",
        text.stderr
    );
    assert_eq!(db.tables(), Vec::<String>::new(), "no table at all");

    project.json(&["upgrade", "c10003"]).ok();
    let applied_ids = ["a00001", "b00002", "c10003"];
    let run = project.json(&["upgrade", "heads", "--dry-run"]).ok();
    assert_eq!(run.steps().len(), 8);
    assert_eq!(run.heads(), ["o00009", "y00011"]);
    let run = project.json(&["downgrade", "base", "--dry-run"]).ok();
    assert_eq!(run.steps(), ["c10003", "b00002", "a00001"]);
    assert_eq!(run.heads(), Vec::<String>::new());
    assert_state(
        db,
        project.revs(),
        &["c10003"],
        &applied_ids,
        "after dry runs",
    );
    // A dry run checks what a real run checks.
    assert_eq!(
        project.json(&["upgrade", "--dry-run"]).code(2).kind(),
        "multiple_heads"
    );
}

/// A downgrade through a revision without a downgrade section is
/// refused before anything runs (exit 2, `irreversible`).
fn downgrade_through_an_irreversible_revision(db: &TestDb) {
    let mut revs = linear(3);
    revs[1] = revs[1].clone().irreversible();
    let project = Project::new(db, revs);
    project.json(&["upgrade"]).ok();
    let all = ["r01", "r02", "r03"];
    for target in ["base", "r01", "-2"] {
        let run = project.json(&["downgrade", target]).code(2);
        assert_eq!(run.kind(), "irreversible", "{}", run.transcript());
        assert!(run.message().contains("`r02`"), "{}", run.message());
        assert!(run.message().contains("02_r02.sql"), "{}", run.message());
        assert!(run.hint().contains("-- retort:downgrade"), "{}", run.hint());
        // r03 comes down first in the plan, yet it is still there.
        assert_state(
            db,
            project.revs(),
            &["r03"],
            &all,
            &format!("after downgrade {target}"),
        );
    }
    // Above it, downgrades work.
    let run = project.json(&["downgrade", "-1"]).ok();
    assert_eq!(run.steps(), ["r03"]);
    assert_eq!(
        project.json(&["downgrade", "-1"]).code(2).kind(),
        "irreversible"
    );
}

/// Targets that do not fit: exit 2, a stable kind, nothing changed.
fn target_errors(db: &TestDb) {
    let project = Project::new(db, graph());
    // Refused on an empty database: not even the state tables appear.
    for args in [
        &["upgrade", "zzz999"][..],
        &["stamp", "zzz999"],
        &["stamp", "--purge", "zzz999"],
        &["downgrade", "auth@-1"],
    ] {
        project.json(args).code(2);
        assert_eq!(
            db.tables(),
            Vec::<String>::new(),
            "after `{}`",
            args.join(" ")
        );
    }
    project.json(&["upgrade", "c20004"]).ok();
    let cases: [(&[&str], &str); 9] = [
        (&["upgrade", "--dryrun"], "usage"),
        (&["upgrade", "c"], "ambiguous_prefix"),
        (&["upgrade", "zzz999"], "unknown_revision"),
        (&["upgrade", "b00002"], "upgrade_backwards"),
        (&["downgrade", "d10005"], "downgrade_forwards"),
        (&["upgrade", "+9"], "relative_overwalk"),
        (&["downgrade", "a00001-2"], "relative_overwalk"),
        (&["upgrade", "auth@c20004"], "not_in_branch"),
        (&["downgrade"], "usage"),
    ];
    for (args, kind) in cases {
        let run = project.json(args).code(2);
        assert_eq!(run.kind(), kind, "{}", run.transcript());
        assert!(!run.message().is_empty());
    }
    let run = project.json(&["upgrade", "c"]).code(2);
    assert!(
        run.message().contains("c10003") && run.message().contains("c20004"),
        "{}",
        run.message()
    );
    assert_state(
        db,
        project.revs(),
        &["c20004"],
        &["a00001", "b00002", "c10003", "c20004"],
        "after refused targets",
    );
}

/// `?mode=ro` reads an existing file and refuses every write (`read_only`,
/// exit 1, nothing changed); `ro` and `rw` never create a file; any other
/// parameter is refused rather than ignored.
fn sqlite_url_modes(db: &TestDb) {
    let Some(file) = db.file() else {
        return skip(db, "URL modes are SQLite's");
    };
    let with = |query: &str| Project::with_url(&format!("{}?{query}", db.url()), linear(2));
    for mode in ["ro", "rw"] {
        let run = with(&format!("mode={mode}")).json(&["current"]).code(1);
        assert!(
            run.message().contains("no such file"),
            "{}",
            run.transcript()
        );
        assert!(!file.exists(), "`mode={mode}` created the file");
    }
    Project::new(db, linear(2)).json(&["upgrade", "r01"]).ok();
    let read_only = with("mode=ro");
    let status = read_only.json(&["status"]).ok();
    assert_eq!(status.doc()["pending"][0]["revision"], "r02");
    read_only.json(&["verify"]).ok();
    for args in [&["upgrade"][..], &["downgrade", "base"], &["stamp", "r02"]] {
        let run = read_only.json(args).code(1);
        assert_eq!(run.kind(), "read_only", "{}", run.transcript());
        assert!(run.hint().contains("mode=ro"), "{}", run.hint());
        assert_eq!(version_rows(db), ["r01"], "`{}` changed nothing", args[0]);
    }
    with("mode=rw").json(&["upgrade"]).ok();
    assert_eq!(version_rows(db), ["r02"]);
    let run = with("cache=shared").json(&["current"]).code(2);
    assert_eq!(run.kind(), "url", "{}", run.transcript());
    assert!(run.message().contains("mode=ro"), "{}", run.message());
}

/// Commands that only read (`current`, `status`, `verify`, every
/// `--dry-run`) read a SQLite file that does not exist as an empty
/// database and leave it missing; `status` says so.
fn readers_leave_a_missing_file_missing(db: &TestDb) {
    let Some(file) = db.file() else {
        return skip(db, "only a SQLite database is a file that can be missing");
    };
    let project = Project::new(db, linear(2));
    for args in [
        &["current"][..],
        &["status"],
        &["verify"],
        &["upgrade", "--dry-run"],
        &["downgrade", "base", "--dry-run"],
        &["stamp", "r02", "--dry-run"],
    ] {
        project.json(args).ok();
        assert!(!file.exists(), "`{}` created the file", args.join(" "));
    }
    let run = project.json(&["upgrade", "--dry-run"]).ok();
    assert_eq!(run.steps(), ["r01", "r02"]);
    let status = project.text(&["status"]).ok();
    assert!(
        status.stdout.contains("(no such file yet)"),
        "{}",
        status.transcript()
    );
    assert!(!file.exists());

    project.json(&["upgrade", "r01"]).ok();
    let run = project.json(&["upgrade", "--dry-run"]).ok();
    assert_eq!(run.steps(), ["r02"]);
    assert_eq!(version_rows(db), ["r01"]);
}

/// A database that cannot be written: a new file in a read-only
/// directory, an existing file in a read-only directory (no journal
/// can be created), a read-only file. Exit 1, nothing applied.
fn unwritable_database_fails(db: &TestDb) {
    let Some(cases) = unwritable(db) else { return };
    for case in &cases {
        let run = &case.run;
        assert_eq!(run.code, 1, "{}: {}", case.name, run.transcript());
        assert!(!run.message().is_empty());
        assert!(
            run.message().contains(&case.file.display().to_string())
                || run.message().contains("readonly"),
            "{}: the message names the file or says it is read-only: {}",
            case.name,
            run.message()
        );
        assert_eq!(
            case.rows_after, case.rows_before,
            "{}: nothing applied",
            case.name
        );
    }
}

/// An existing file that cannot be written (or whose directory cannot
/// take a journal) is a `read_only` error whose hint is about file
/// permissions, not a failing statement to fix.
fn unwritable_file_is_reported_as_read_only(db: &TestDb) {
    let Some(cases) = unwritable(db) else { return };
    for case in cases
        .iter()
        .filter(|c| c.name != "new file in a read-only directory")
    {
        assert_eq!(
            case.run.kind(),
            "read_only",
            "{}: {}",
            case.name,
            case.run.transcript()
        );
        assert!(
            case.run.hint().contains("permissions"),
            "{}: {}",
            case.name,
            case.run.hint()
        );
    }
}

/// A new database file in a read-only directory is a `read_only` error
/// about permissions too, not a connection problem with a hint to check
/// the URL (SQLite itself only says "unable to open database file").
fn read_only_directory_is_reported_as_read_only(db: &TestDb) {
    let Some(cases) = unwritable(db) else { return };
    let case = cases
        .iter()
        .find(|c| c.name == "new file in a read-only directory")
        .unwrap();
    assert_eq!(case.run.kind(), "read_only", "{}", case.run.transcript());
    assert!(
        case.run.hint().contains("permissions"),
        "{}",
        case.run.hint()
    );
}

/// One unwritable database and what `retort upgrade` said about it.
struct Unwritable {
    name: &'static str,
    file: PathBuf,
    run: Run,
    rows_before: Vec<String>,
    rows_after: Vec<String>,
    /// Keeps the project (and its permissions guard) alive.
    _project: Project,
}

/// How to run retort so that file permissions apply to it: directly when
/// they apply to us; as `nobody` through `setpriv` when we are root (root
/// bypasses permissions); `None` (skipped) when neither works.
fn unprivileged_wrapper(db: &TestDb) -> Option<Vec<&'static str>> {
    let probe = tempfile::tempdir().unwrap();
    let dir = probe.path().join("ro");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    let effective = fs::write(dir.join("probe"), "").is_err();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    if effective {
        return Some(Vec::new());
    }
    let wrapper = vec![
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];
    let works = Command::new(wrapper[0])
        .args(&wrapper[1..])
        .arg(retort_bin())
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        return Some(wrapper);
    }
    skip_without_tool(
        db,
        "file permissions do not apply to this user (root) and `setpriv` cannot run retort as nobody",
    );
    None
}

/// Sets up the three unwritable databases and runs `upgrade` on each.
fn unwritable(db: &TestDb) -> Option<Vec<Unwritable>> {
    if db.file().is_none() {
        skip(db, "file permissions only concern file databases");
        return None;
    }
    let wrapper = unprivileged_wrapper(db)?;
    let as_nobody = !wrapper.is_empty();
    let mut cases = Vec::new();
    for name in [
        "new file in a read-only directory",
        "existing file in a read-only directory",
        "read-only file",
    ] {
        let sandbox = tempfile::Builder::new()
            .prefix("retort-perm-")
            .tempdir()
            .unwrap();
        let dir = sandbox.path().join("data");
        fs::create_dir(&dir).unwrap();
        let file = dir.join("app.db");
        let url = format!("sqlite:///{}", file.display());
        let mut project = Project::with_url(&url, linear(3));
        // Created by us, with write access, at r01.
        if name != "new file in a read-only directory" {
            project.json(&["upgrade", "r01"]).ok();
        }
        let rows = |file: &Path| -> Vec<String> {
            if !file.exists() {
                return Vec::new();
            }
            let url = retort::config::DatabaseUrl::parse(&format!("sqlite:///{}", file.display()))
                .unwrap();
            let mut driver = retort::db::connect(&url).unwrap();
            driver
                .query("SELECT version_num FROM retort_version", &[])
                .unwrap()
                .into_iter()
                .map(|r| r[0].as_text().unwrap().to_owned())
                .collect()
        };
        let rows_before = rows(&file);
        let guard = Restore(vec![
            sandbox.path().to_owned(),
            dir.clone(),
            file.clone(),
            project.root().to_owned(),
        ]);
        for open in [sandbox.path(), project.root()] {
            open_up(open);
        }
        match name {
            "read-only file" => {
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
                fs::set_permissions(&file, fs::Permissions::from_mode(0o444)).unwrap();
            }
            _ => {
                if as_nobody && file.exists() {
                    // The file itself is the runner's: only the directory is read-only.
                    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
                }
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
            }
        }
        project.set_wrapper(&wrapper);
        let run = project.json(&["upgrade"]);
        drop(guard);
        let rows_after = rows(&file);
        cases.push(Unwritable {
            name,
            file,
            run,
            rows_before,
            rows_after,
            _project: project,
        });
        drop(sandbox);
    }
    Some(cases)
}

/// Makes a directory tree readable (and its directories enterable) by anyone.
fn open_up(dir: &Path) {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            open_up(&path);
        } else {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
}

/// Gives the paths back to their owner, writable, so they can be removed.
struct Restore(Vec<PathBuf>);

impl Drop for Restore {
    fn drop(&mut self) {
        for path in &self.0 {
            let mode = if path.is_dir() { 0o755 } else { 0o644 };
            let _ = fs::set_permissions(path, fs::Permissions::from_mode(mode));
        }
    }
}

/// A migration that commits or begins a transaction itself is refused
/// before anything runs (`transaction_control`, exit 2, file:line), online
/// and offline, also with `-- retort:transaction off`.
fn migration_controlling_its_transaction_is_refused(db: &TestDb) {
    let mut revs = linear(3);
    revs[1].upgrade = "CREATE TABLE t02 (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n\
         COMMIT;\n\
         INSERT INTO t02 (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three');\n"
        .to_owned();
    let off = revs[1].clone().transaction_off();
    for (revs, what) in [
        (revs.clone(), "in a transaction"),
        (
            {
                let mut r = revs;
                r[1] = off;
                r
            },
            "transaction off",
        ),
    ] {
        let project = Project::new(db, revs);
        let name = project.file_name("r02");
        let text = fs::read_to_string(project.path(&name)).unwrap();
        let line = text.lines().position(|l| l == "COMMIT;").unwrap() + 1;
        for args in [&["upgrade"][..], &["upgrade", "--sql"]] {
            let run = project.json(args).code(2);
            assert_eq!(
                run.kind(),
                "transaction_control",
                "{what}: {}",
                run.transcript()
            );
            assert!(
                run.message().contains(&format!("{name}:{line}:")),
                "{}",
                run.message()
            );
        }
        assert_eq!(version_rows(db), Vec::<String>::new(), "{what}");
        assert_eq!(user_tables(db), Vec::<String>::new(), "{what}");
    }
}
