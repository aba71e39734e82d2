//! `-- retort:review <reason>`: a revision a person must read before it
//! runs. `upgrade` and `downgrade`, online and offline, refuse a plan that
//! holds one before anything runs; `stamp` passes it, and a marked revision
//! already applied does not stop a plan that does not hold it.

use crate::db::{TestDb, dialect_tests};
use crate::util::{Project, assert_state, linear, version_rows};

dialect_tests! {
    a_marked_revision_stops_the_plan_before_anything_runs,
    stamp_passes_a_mark_and_an_applied_mark_does_not_block,
    a_downgrade_through_a_marked_revision_is_refused,
}

const REASON: &str = "its SQL depended on data: check `t01` first";

/// Marks revision `id` for review (the line after `-- retort:revision`).
fn mark(project: &Project, id: &str) {
    let rev = project.revs().iter().find(|r| r.id == id).unwrap();
    let text = rev
        .text()
        .replacen('\n', &format!("\n-- retort:review {REASON}\n"), 1);
    project.write(&project.file_name(id), &text);
}

/// Deletes the mark: the file is as it was.
fn unmark(project: &Project, id: &str) {
    let rev = project.revs().iter().find(|r| r.id == id).unwrap();
    project.write(&project.file_name(id), &rev.text());
}

/// `retort ARGS` exits 2 with `needs_review` naming revision `id` (its
/// file, line 2, the reason) and the hint; returns the hint.
fn assert_needs_review(project: &Project, args: &[&str], id: &str) -> String {
    let run = project.json(args).code(2);
    assert_eq!(run.kind(), "needs_review", "{}", run.transcript());
    let path = project.path(&project.file_name(id));
    assert_eq!(
        run.message(),
        format!(
            "revision `{id}` ({}:2) is marked for review: {REASON}",
            path.display()
        )
    );
    assert!(
        run.hint().starts_with("read its SQL, correct it if needed, then delete the `-- retort:review` line and run the command again"),
        "{}",
        run.transcript()
    );
    let text = project.text(args).code(2);
    assert!(
        text.stderr.contains("is marked for review"),
        "{}",
        text.transcript()
    );
    run.hint().to_owned()
}

/// The mark on `r02` stops `upgrade` (dry run and `--sql` too) before
/// `r01`, which comes first in the plan, runs; `upgrade r01` is a plan
/// without it; once the line is deleted the rest runs.
fn a_marked_revision_stops_the_plan_before_anything_runs(db: &TestDb) {
    let project = Project::new(db, linear(3));
    mark(&project, "r02");
    for args in [
        &["upgrade"][..],
        &["upgrade", "--dry-run"],
        &["upgrade", "--atomic"],
        &["upgrade", "--sql"],
        &["upgrade", "r01:head", "--sql"],
    ] {
        assert_needs_review(&project, args, "r02");
        assert_eq!(db.tables(), Vec::<String>::new(), "`retort {args:?}` ran");
    }

    // `show` and `history` carry the reason.
    let show = project.json(&["show", "r02"]).ok();
    assert_eq!(show.doc()[0]["review"], REASON);
    let history = project.json(&["history"]).ok();
    // Newest first: r03, r02, r01.
    assert_eq!(history.doc()[1]["review"], REASON);
    assert_eq!(history.doc()[0]["review"], serde_json::Value::Null);
    let text = project.text(&["show", "r02"]).ok();
    assert!(
        text.stdout.contains(&format!(
            "Needs review: {REASON} (`-- retort:review`, line 2)"
        )),
        "{}",
        text.transcript()
    );

    project.json(&["upgrade", "r01"]).ok();
    assert_needs_review(&project, &["upgrade"], "r02");
    assert_state(db, project.revs(), &["r01"], &["r01"], "after the refusal");

    unmark(&project, "r02");
    let run = project.json(&["upgrade"]).ok();
    assert_eq!(run.steps(), ["r02", "r03"]);
    assert_state(
        db,
        project.revs(),
        &["r03"],
        &["r01", "r02", "r03"],
        "once the mark is deleted",
    );
}

/// `stamp` marks a marked revision applied (online and offline); the
/// upgrade past it then runs, the mark being outside its plan.
fn stamp_passes_a_mark_and_an_applied_mark_does_not_block(db: &TestDb) {
    let project = Project::new(db, linear(3));
    mark(&project, "r01");
    mark(&project, "r02");
    let script = project.text(&["stamp", "r02", "--sql"]).ok();
    assert!(script.stdout.contains("'r02'"), "{}", script.transcript());
    let stamp = project.json(&["stamp", "r02"]).ok();
    assert_eq!(stamp.heads(), ["r02"]);
    let run = project.json(&["upgrade"]).ok();
    assert_eq!(run.steps(), ["r03"]);
    assert_eq!(version_rows(db), ["r03"]);
    // The line is part of the checksum recorded by the stamp: deleting it
    // is an edit, accepted as such.
    unmark(&project, "r02");
    let run = project.json(&["upgrade"]).code(2);
    assert_eq!(run.kind(), "checksum_mismatch", "{}", run.transcript());
    project.json(&["rehash", "--accept", "r02"]).ok();
    project.json(&["upgrade"]).ok();
}

/// A downgrade whose plan holds marked revisions names the first it would
/// run and counts the others; nothing is reverted.
fn a_downgrade_through_a_marked_revision_is_refused(db: &TestDb) {
    let project = Project::new(db, linear(3));
    project.json(&["upgrade"]).ok();
    mark(&project, "r02");
    mark(&project, "r03");
    for args in [
        &["downgrade", "base"][..],
        &["downgrade", "base", "--allow-changed"],
        &["downgrade", "r03:base", "--sql"],
    ] {
        let hint = assert_needs_review(&project, args, "r03");
        assert!(
            hint.ends_with("; the plan holds 1 more revision(s) marked for review: `r02`"),
            "{hint}"
        );
    }
    assert_state(
        db,
        project.revs(),
        &["r03"],
        &["r01", "r02", "r03"],
        "after the refusal",
    );
    unmark(&project, "r02");
    unmark(&project, "r03");
    project.json(&["downgrade", "base"]).ok();
    assert_state(db, project.revs(), &[], &[], "once the marks are deleted");
}
