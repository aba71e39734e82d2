//! `stamp`: the version table moves, no SQL of any revision runs.

use crate::db::{TestDb, dialect_tests};
use crate::util::{Project, applied, applied_column, graph, linear, user_tables, version_rows};

/// Asserts the version rows and the applied table, and that no revision's
/// SQL ran (no table but retort's own).
#[track_caller]
fn assert_stamped(db: &TestDb, rows: &[&str], applied_ids: &[&str], when: &str) {
    assert_eq!(version_rows(db), rows, "version rows {when}");
    assert_eq!(applied(db), applied_ids, "retort_applied {when}");
    assert_eq!(
        user_tables(db),
        Vec::<String>::new(),
        "stamp writes no schema ({when})"
    );
}

dialect_tests! {
    stamp_moves_the_version_table_only,
    stamp_purge_replaces_an_unknown_revision,
    stamp_dry_run_changes_nothing,
    stamp_purge_counts_relative_targets_from_the_rows_it_replaces,
}

/// `stamp --purge +1` and `-1` count from the rows the table held before
/// the purge (they counted from an empty table: `+1` stamped the first
/// revision); with a row no file defines, a relative target is refused
/// and nothing changes.
fn stamp_purge_counts_relative_targets_from_the_rows_it_replaces(db: &TestDb) {
    let project = Project::new(db, linear(4));
    project.json(&["stamp", "r02"]).ok();
    let run = project.json(&["stamp", "--purge", "+1"]).ok();
    assert_eq!(run.heads(), ["r03"]);
    assert_stamped(
        db,
        &["r03"],
        &["r01", "r02", "r03"],
        "after stamp --purge +1",
    );
    let run = project.json(&["stamp", "-1", "--purge"]).ok();
    assert_eq!(run.heads(), ["r02"]);
    assert_stamped(db, &["r02"], &["r01", "r02"], "after stamp -1 --purge");

    db.exec("INSERT INTO retort_version (version_num) VALUES ('zzz999')");
    let run = project.json(&["stamp", "--purge", "+1"]).code(2);
    assert_eq!(run.kind(), "unknown_revision", "{}", run.transcript());
    assert_eq!(version_rows(db), ["r02", "zzz999"]);
    // An absolute target replaces the unknown row, as before.
    project.json(&["stamp", "--purge", "r04"]).ok();
    assert_stamped(
        db,
        &["r04"],
        &["r01", "r02", "r03", "r04"],
        "after stamp --purge r04",
    );
}

/// `stamp REV`, `stamp` of two revisions, stamping down a line and below
/// a merge, `stamp label@base` and `stamp base`, each with Alembic's rows.
fn stamp_moves_the_version_table_only(db: &TestDb) {
    let project = Project::new(db, graph());

    let run = project.json(&["stamp", "c20004"]).ok();
    assert_eq!(run.steps(), ["a00001", "b00002", "c10003", "c20004"]);
    assert!(run.directions().iter().all(|d| d == "stamp"));
    assert_eq!(run.heads(), ["c20004"]);
    assert_stamped(
        db,
        &["c20004"],
        &["a00001", "b00002", "c10003", "c20004"],
        "after stamp c20004",
    );
    assert_eq!(applied_column(db, "c20004", "operation"), "stamp");

    // Two targets on lines the table does not hold yet: one row each.
    let run = project.json(&["stamp", "d10005", "x00010"]).ok();
    assert_eq!(run.steps(), ["d10005", "x00010"]);
    assert_eq!(run.heads(), ["c20004", "d10005", "x00010"]);
    assert_stamped(
        db,
        &["c20004", "d10005", "x00010"],
        &["a00001", "b00002", "c10003", "c20004", "d10005", "x00010"],
        "after stamp d10005 x00010",
    );

    // Below both rows of its line: they collapse into one (Alembic's
    // stamp treats the heads above the target as one merge step);
    // the other base's row stays.
    let run = project.json(&["stamp", "b00002"]).ok();
    assert_eq!(run.heads(), ["b00002", "x00010"]);
    assert_stamped(
        db,
        &["b00002", "x00010"],
        &["a00001", "b00002", "x00010"],
        "after stamp b00002",
    );

    // Up through the merge in one stamp.
    let run = project.json(&["stamp", "heads"]).ok();
    assert_eq!(run.heads(), ["o00009", "y00011"]);
    let all = [
        "a00001", "b00002", "c10003", "c20004", "d10005", "d20006", "m00007", "n00008", "o00009",
        "x00010", "y00011",
    ];
    assert_stamped(db, &["o00009", "y00011"], &all, "after stamp heads");

    // Below the merge: the target replaces the rows of its line, the other
    // parent's line included, as Alembic's table shows; y00011 rests on
    // d10005, which is not on c10003's line, so its row stays.
    project.json(&["stamp", "c10003"]).ok();
    assert_stamped(
        db,
        &["c10003", "y00011"],
        &["a00001", "b00002", "c10003", "d10005", "x00010", "y00011"],
        "after stamp c10003 below the merge",
    );
    // `label@base` removes the rows of the label's line: y00011 (it
    // depends on `auth`), not c10003, which shares only its ancestors.
    project.json(&["stamp", "auth@base"]).ok();
    assert_stamped(
        db,
        &["c10003"],
        &["a00001", "b00002", "c10003"],
        "after stamp auth@base",
    );
    project.json(&["stamp", "heads"]).ok();

    let run = project.json(&["stamp", "base"]).ok();
    assert_eq!(run.heads(), Vec::<String>::new());
    assert_stamped(db, &[], &[], "after stamp base");

    // The stamped database upgrades normally afterwards.
    project.json(&["stamp", "c20004"]).ok();
    let run = project.json(&["upgrade", "d10005"]).ok();
    assert_eq!(run.steps(), ["d10005"]);
    assert_eq!(user_tables(db), ["sessions"]);
}

/// An id no file defines: `upgrade` and a plain `stamp` refuse it
/// (`unknown_revision`, exit 2); `stamp --purge` replaces the table.
fn stamp_purge_replaces_an_unknown_revision(db: &TestDb) {
    let project = Project::new(db, graph());
    project.json(&["stamp", "c20004"]).ok();
    db.exec("INSERT INTO retort_version (version_num) VALUES ('zzz999')");

    let run = project.json(&["upgrade", "heads"]).code(2);
    assert_eq!(run.kind(), "unknown_revision");
    assert!(
        run.message().starts_with("can't locate revision"),
        "{}",
        run.message()
    );
    assert!(run.message().contains("zzz999"), "{}", run.message());
    assert!(run.hint().contains("stamp --purge"), "{}", run.hint());

    let run = project.json(&["stamp", "a00001"]).code(2);
    assert_eq!(run.kind(), "unknown_revision");
    assert_eq!(version_rows(db), ["c20004", "zzz999"]);

    let run = project.json(&["stamp", "--purge", "b00002"]).ok();
    assert_eq!(run.heads(), ["b00002"]);
    // Checksums of revisions no longer applied are forgotten too.
    assert_stamped(
        db,
        &["b00002"],
        &["a00001", "b00002"],
        "after stamp --purge b00002",
    );

    let run = project.json(&["upgrade", "c10003"]).ok();
    assert_eq!(run.steps(), ["c10003"]);
    assert_eq!(user_tables(db), ["orders"]);
}

/// `stamp --dry-run` reports the change and makes none (not even the
/// state tables).
fn stamp_dry_run_changes_nothing(db: &TestDb) {
    let project = Project::new(db, graph());
    let run = project.json(&["stamp", "--dry-run", "c10003"]).ok();
    assert_eq!(run.doc()["dry_run"], true);
    assert_eq!(run.steps(), ["a00001", "b00002", "c10003"]);
    assert_eq!(run.heads(), ["c10003"]);
    assert_eq!(db.tables(), Vec::<String>::new());

    project.json(&["stamp", "c10003"]).ok();
    // Options may also follow the revisions.
    let run = project.json(&["stamp", "base", "--dry-run"]).ok();
    assert_eq!(run.heads(), Vec::<String>::new());
    assert_stamped(
        db,
        &["c10003"],
        &["a00001", "b00002", "c10003"],
        "after stamp --dry-run base",
    );
}
