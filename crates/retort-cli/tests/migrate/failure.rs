//! A statement failing in the middle of a plan: the migrations before it
//! stay, the failing one is rolled back whole, the error names the file and
//! line; `--atomic` keeps nothing.

use crate::db::{TestDb, dialect_tests};
use crate::util::{
    Project, Rev, assert_state, journal, linear, normalise_durations, user_tables, version_rows,
};

/// The statement that fails: the table does not exist on any database.
const BAD: &str = "INSERT INTO missing_table (id) VALUES (1);";
/// What fixes it: the rows every fixture table has.
const GOOD: &str = "INSERT INTO t04 (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three');";

/// Five revisions; the 4th creates `t04` and then runs [`BAD`].
fn fixture() -> Vec<Rev> {
    let mut revs = linear(5);
    revs[3].upgrade =
        format!("CREATE TABLE t04 (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n{BAD}\n");
    revs
}

/// The 1-based line of [`BAD`] in r04's file.
fn bad_line(project: &Project) -> usize {
    let text = std::fs::read_to_string(project.path(&project.file_name("r04"))).unwrap();
    text.lines().position(|l| l == BAD).unwrap() + 1
}

/// Replaces [`BAD`] by [`GOOD`] in r04's file.
fn fix(project: &Project) {
    let name = project.file_name("r04");
    let text = std::fs::read_to_string(project.path(&name)).unwrap();
    project.write(&name, &text.replace(BAD, GOOD));
}

dialect_tests! {
    failing_statement_keeps_the_migrations_before_it,
    failing_statement_with_atomic_keeps_nothing,
    failing_statement_text,
    migration_changing_the_version_row_is_rolled_back,
}

/// Without `--atomic`: exit 1, the database at r03, r04's first
/// statement rolled back; after the fix the rest applies.
fn failing_statement_keeps_the_migrations_before_it(db: &TestDb) {
    let project = Project::new(db, fixture());
    let line = bad_line(&project);
    let run = project.json(&["upgrade"]).code(1);
    assert_eq!(run.kind(), "statement_failed");
    let file = project.file_name("r04");
    let at = format!("{file}:{line}:");
    assert!(
        run.message().contains(&at),
        "the message names {at}: {}",
        run.message()
    );
    assert!(run.message().contains("r04"), "{}", run.message());
    assert!(run.message().contains("missing_table"), "{}", run.message());
    assert!(
        run.hint().contains("the database is at r03"),
        "{}",
        run.hint()
    );

    let done = ["r01", "r02", "r03"];
    if db.transactional_ddl() {
        assert_state(db, project.revs(), &["r03"], &done, "after the failure");
        assert!(
            !db.tables().contains(&"t04".to_owned()),
            "r04's CREATE TABLE was rolled back"
        );
        fix(&project);
        let run = project.json(&["upgrade"]).ok();
        assert_eq!(run.steps(), ["r04", "r05"]);
        assert_eq!(run.heads(), ["r05"]);
    } else {
        // The CREATE TABLE committed on its own (DDL), and is on record:
        // the fixed migration resumes after it.
        assert_eq!(version_rows(db), ["r03"]);
        assert_eq!(journal(db), [["r04", "0", "done"]]);
        assert!(db.tables().contains(&"t04".to_owned()));
        assert!(run.hint().contains("`retort resume`"), "{}", run.hint());
        fix(&project);
        assert_eq!(project.json(&["upgrade"]).code(1).kind(), "interrupted");
        assert_eq!(project.json(&["resume"]).ok().steps(), ["r04"]);
        let run = project.json(&["upgrade"]).ok();
        assert_eq!(run.steps(), ["r05"]);
        assert_eq!(run.heads(), ["r05"]);
    }
    assert_state(
        db,
        project.revs(),
        &["r05"],
        &["r01", "r02", "r03", "r04", "r05"],
        "after the fix",
    );
}

/// With `--atomic`: exit 1 and nothing at all applied; after the fix
/// the whole plan applies in one go.
fn failing_statement_with_atomic_keeps_nothing(db: &TestDb) {
    let project = Project::new(db, fixture());
    if !db.transactional_ddl() {
        // DDL commits implicitly: no transaction can hold the plan.
        let run = project.json(&["upgrade", "--atomic"]).code(2);
        assert_eq!(run.kind(), "atomic_not_possible");
        assert!(
            run.message().contains("commits implicitly"),
            "{}",
            run.message()
        );
        assert_state(db, project.revs(), &[], &[], "after the refusal");
        return;
    }
    let run = project.json(&["upgrade", "--atomic"]).code(1);
    assert_eq!(run.kind(), "statement_failed");
    assert!(run.message().contains(&format!(
        "{}:{}:",
        project.file_name("r04"),
        bad_line(&project)
    )));
    assert!(
        run.hint().contains("the database is at base"),
        "{}",
        run.hint()
    );
    assert_state(db, project.revs(), &[], &[], "after the atomic failure");
    if db.transactional_ddl() {
        assert_eq!(user_tables(db), Vec::<String>::new(), "no table at all");
    }

    fix(&project);
    let run = project.json(&["upgrade", "--atomic"]).ok();
    assert_eq!(run.steps(), ["r01", "r02", "r03", "r04", "r05"]);
    assert_state(
        db,
        project.revs(),
        &["r05"],
        &["r01", "r02", "r03", "r04", "r05"],
        "after the atomic fix",
    );
}

/// The failure as a person reads it.
fn failing_statement_text(db: &TestDb) {
    let project = Project::new(db, fixture());
    let run = project.text(&["upgrade"]).code(1);
    let text = format!("--- stdout\n{}--- stderr\n{}", run.stdout, run.stderr);
    let text = normalise_durations(&db.redact(&project.redact(&text)));
    insta::assert_snapshot!(format!("failing_statement_text_{}", db.kind().name()), text);
}

/// A migration that deletes the version row (as another tool writing to
/// the table during the run would): the version change it is recorded with
/// hits no row, so exit 1 `version_table_changed`, and its own change is
/// rolled back with it, where its statements share the bookkeeping's round
/// trip too.
fn migration_changing_the_version_row_is_rolled_back(db: &TestDb) {
    let mut revs = linear(2);
    revs[1].table = None;
    revs[1].upgrade =
        "INSERT INTO t01 (id, name) VALUES (4, 'four');\nDELETE FROM retort_version;\n".to_owned();
    revs[1].downgrade = Some("DELETE FROM t01 WHERE id = 4;\n".to_owned());
    let project = Project::new(db, revs);
    project.json(&["upgrade", "r01"]).ok();
    let run = project.json(&["upgrade"]).code(1);
    assert_eq!(run.kind(), "version_table_changed", "{}", run.message());
    assert!(
        run.message().contains("`r01`"),
        "the message names the row: {}",
        run.message()
    );
    assert!(run.hint().contains("retort current"), "{}", run.hint());
    assert_state(db, project.revs(), &["r01"], &["r01"], "after the refusal");
}
