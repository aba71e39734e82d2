//! `current` and `status` (JSON contents on a branched state with a
//! dependency), and the human-readable output of a few commands
//! (snapshots, durations normalised).

use serde_json::json;

use crate::db::{TestDb, dialect_tests};
use crate::util::{Project, assert_topological, graph, linear, normalise_durations, strings};

/// A run's output as one text for a snapshot, with paths and durations
/// normalised.
fn transcript(db: &TestDb, project: &Project, args: &[&str], code: i32) -> String {
    let run = project.text(args).code(code);
    let text = format!(
        "$ retort {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        run.code,
        run.stdout,
        run.stderr
    );
    normalise_durations(&db.redact(&project.redact(&text)))
}

dialect_tests! {
    current_and_status_with_a_dependency,
    current_on_two_branches,
    status_of_an_empty_database,
    status_text,
    upgrade_and_downgrade_text,
    error_text,
}

/// The database at y00011 (which absorbed d10005's row): the version
/// table holds y00011 alone, the effective current revisions are
/// d10005 (nothing applied revises it) and y00011; pending is what
/// `upgrade heads` would run, in order.
fn current_and_status_with_a_dependency(db: &TestDb) {
    let project = Project::new(db, graph());
    let run = project.json(&["upgrade", "d10005"]).ok();
    assert_eq!(run.steps(), ["a00001", "b00002", "d10005"]);
    let run = project.json(&["upgrade", "y00011"]).ok();
    assert_eq!(run.steps(), ["x00010", "y00011"]);
    assert_eq!(run.heads(), ["y00011"]);

    let run = project.json(&["current"]).ok();
    assert_eq!(strings(&run.doc()["heads"]), ["y00011"]);
    assert_eq!(strings(&run.doc()["current"]), ["d10005", "y00011"]);

    let run = project.json(&["status"]).ok();
    let doc = run.doc();
    assert_eq!(strings(&doc["heads_in_db"]), ["y00011"]);
    assert_eq!(strings(&doc["current"]), ["d10005", "y00011"]);
    assert_eq!(strings(&doc["heads"]), ["o00009", "y00011"]);
    let pending: Vec<String> = doc["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["revision"].as_str().unwrap().to_owned())
        .collect();
    let mut set = pending.clone();
    set.sort();
    assert_eq!(
        set,
        ["c10003", "c20004", "d20006", "m00007", "n00008", "o00009"]
    );
    assert_topological(project.revs(), &pending, false);
    let m = doc["pending"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["revision"] == "m00007")
        .unwrap();
    assert_eq!(m["message"], "merge orders and auth");

    // Pending is what upgrade heads then runs, in that order.
    let run = project.json(&["upgrade", "heads"]).ok();
    assert_eq!(run.steps(), pending);
    let run = project.json(&["status"]).ok();
    assert_eq!(run.doc()["pending"], json!([]));
    assert_eq!(strings(&run.doc()["heads_in_db"]), ["o00009", "y00011"]);
    assert_eq!(strings(&run.doc()["current"]), ["o00009", "y00011"]);
}

/// Two branches applied: two rows, both current.
fn current_on_two_branches(db: &TestDb) {
    let project = Project::new(db, graph());
    project.json(&["upgrade", "c10003"]).ok();
    project.json(&["upgrade", "d20006"]).ok();
    let run = project.json(&["current"]).ok();
    assert_eq!(
        run.doc(),
        &json!({"heads": ["c10003", "d20006"], "current": ["c10003", "d20006"]})
    );
    insta::assert_snapshot!(
        format!("current_on_two_branches_{}", db.kind().name()),
        transcript(db, &project, &["current"], 0)
    );
}

/// Read-only commands on a database retort never touched: empty
/// answers, and no state tables created.
fn status_of_an_empty_database(db: &TestDb) {
    let project = Project::new(db, graph());
    let run = project.json(&["current"]).ok();
    assert_eq!(run.doc(), &json!({"heads": [], "current": []}));
    let run = project.json(&["status"]).ok();
    assert_eq!(run.doc()["heads_in_db"], json!([]));
    assert_eq!(run.doc()["current"], json!([]));
    assert_eq!(run.doc()["pending"].as_array().unwrap().len(), 11);
    let run = project.json(&["verify"]).ok();
    assert_eq!(run.doc(), &json!({"ok": true, "findings": []}));
    assert_eq!(db.tables(), Vec::<String>::new());
}

/// `status` as text on a branched state.
fn status_text(db: &TestDb) {
    let project = Project::new(db, graph());
    project.json(&["upgrade", "d10005"]).ok();
    project.json(&["upgrade", "y00011"]).ok();
    insta::assert_snapshot!(
        format!("status_text_{}", db.kind().name()),
        transcript(db, &project, &["status"], 0)
    );
}

/// Upgrade, dry run, downgrade and nothing-to-do as text: step lines on
/// stderr, the summary on stdout.
fn upgrade_and_downgrade_text(db: &TestDb) {
    let project = Project::new(db, linear(3));
    let text = [
        transcript(db, &project, &["upgrade", "--dry-run"], 0),
        transcript(db, &project, &["upgrade"], 0),
        transcript(db, &project, &["upgrade"], 0),
        transcript(db, &project, &["downgrade", "-2"], 0),
        transcript(db, &project, &["stamp", "r03"], 0),
    ]
    .join("\n");
    insta::assert_snapshot!(
        format!("upgrade_and_downgrade_text_{}", db.kind().name()),
        text
    );
}

/// An error as text: one `error:` line naming what is wrong and a
/// `hint:` line, exit 2.
fn error_text(db: &TestDb) {
    let project = Project::new(db, graph());
    let text = [
        transcript(db, &project, &["upgrade"], 2),
        transcript(db, &project, &["downgrade", "base", "--sql"], 2),
    ]
    .join("\n");
    insta::assert_snapshot!(format!("error_text_{}", db.kind().name()), text);
}
