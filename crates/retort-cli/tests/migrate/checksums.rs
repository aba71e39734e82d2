//! Checksums of applied revisions: an edited file stops `upgrade` and
//! `downgrade` and fails `verify`; line endings and trailing blanks do not
//! count; `rehash` moves a checksum to the current algorithm only when the
//! file is provably the one applied.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::db::{TestDb, dialect_tests};
use crate::util::{
    Project, Rev, applied, applied_column, assert_state, linear, version_rows, version_rows_in,
};

/// `sha256-v0:<hex>`: SHA-256 of the file's raw bytes, as another tool
/// would have recorded it (by `sha256sum` when installed).
fn v0(path: &Path) -> String {
    let hex = Command::new("sha256sum")
        .arg(path)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap()[..64].to_owned());
    match hex {
        Some(hex) => format!("sha256-v0:{hex}"),
        None => retort::script::checksum::Algorithm::Sha256V0
            .checksum(&fs::read_to_string(path).unwrap()),
    }
}

/// Rewrites a file with CRLF line endings.
fn crlf(project: &Project, id: &str) {
    let name = project.file_name(id);
    let text = fs::read_to_string(project.path(&name))
        .unwrap()
        .replace("\r\n", "\n");
    project.write(&name, &text.replace('\n', "\r\n"));
}

/// Rewrites a file with LF line endings.
fn lf(project: &Project, id: &str) {
    let name = project.file_name(id);
    let text = fs::read_to_string(project.path(&name)).unwrap();
    project.write(&name, &text.replace("\r\n", "\n"));
}

/// Changes the SQL of a revision's file (a wider column).
fn edit_sql(project: &Project, id: &str) {
    let name = project.file_name(id);
    let text = fs::read_to_string(project.path(&name)).unwrap();
    assert!(text.contains("VARCHAR(100)"));
    project.write(&name, &text.replace("VARCHAR(100)", "VARCHAR(200)"));
}

/// `verify --format json`, checking the exit code agrees with `ok`.
fn verify(project: &Project) -> serde_json::Value {
    let run = project.json(&["verify"]);
    let ok = run.doc()["ok"].as_bool().expect("verify says ok or not");
    assert_eq!(run.code, if ok { 0 } else { 3 }, "{}", run.transcript());
    run.doc()["findings"].clone()
}

/// The findings as `(revision, kind)` pairs.
fn findings(project: &Project) -> Vec<(String, String)> {
    verify(project)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["revision"].as_str().unwrap().to_owned(),
                f["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(revision: &str, kind: &str) -> (String, String) {
    (revision.to_owned(), kind.to_owned())
}

dialect_tests! {
    edited_applied_file_stops_the_run,
    line_endings_and_trailing_blanks_do_not_count,
    rehash_updates_only_provably_unchanged_checksums,
    rehash_records_missing_checksums,
    applied_file_removed,
    unknown_checksum_algorithm_is_reported,

    unknown_checksum_algorithm_is_never_failed,

    projects_sharing_a_database_keep_their_checksums,
    changed_file_shown_by_status_and_accepted_with_an_audit_row,
}

/// An edited applied file blocks `upgrade` even with nothing to apply:
/// `status` said "up to date" and nothing said how to get out but
/// `stamp --purge`. Now `status` shows the drift (exit 3) and names
/// `rehash --accept`, the upgrade error's hint names it too, and
/// `rehash --accept REV` records the file as it is now, with an audit row
/// of the old and new checksums; `upgrade` then runs.
fn changed_file_shown_by_status_and_accepted_with_an_audit_row(db: &TestDb) {
    let project = Project::new(db, linear(2));
    project.json(&["upgrade"]).ok();
    let old = applied_column(db, "r01", "checksum");
    edit_sql(&project, "r01");
    let status = project.json(&["status"]).code(3);
    assert_eq!(
        status.doc()["changed"][0]["revision"],
        "r01",
        "{}",
        status.transcript()
    );
    let text = project.text(&["status"]).code(3);
    assert!(!text.stdout.contains("up to date"), "{}", text.transcript());
    assert!(
        text.stdout.contains("rehash --accept r01"),
        "{}",
        text.transcript()
    );
    let run = project.json(&["upgrade"]).code(2);
    assert_eq!(run.kind(), "checksum_mismatch");
    assert!(
        run.hint().contains("retort rehash --accept r01"),
        "{}",
        run.hint()
    );

    let run = project.json(&["rehash"]).code(3);
    assert_eq!(run.doc()["changed"][0]["revision"], "r01");
    assert_eq!(
        applied_column(db, "r01", "checksum"),
        old,
        "plain rehash keeps it"
    );

    let run = project.json(&["rehash", "--accept", "r02x"]).code(2);
    assert_eq!(run.kind(), "unknown_revision", "{}", run.transcript());
    let run = project.json(&["rehash", "--accept", "r01"]).ok();
    assert_eq!(run.doc()["accepted"], serde_json::json!(["r01"]));
    let new = applied_column(db, "r01", "checksum");
    assert_ne!(new, old);
    assert_eq!(
        db.rows(
            "SELECT revision, action, old_checksum, new_checksum, version_table FROM retort_audit"
        ),
        [[
            "r01".to_owned(),
            "accept".to_owned(),
            old,
            new,
            "retort_version".to_owned()
        ]]
    );
    let status = project.json(&["status"]).ok();
    assert_eq!(status.doc()["changed"], serde_json::json!([]));
    assert_eq!(findings(&project), Vec::<(String, String)>::new());
    // A revision that is not applied has nothing to accept.
    let mut project = project;
    project.add(Rev::table("r03", &["r02"], "t03"));
    let run = project.json(&["rehash", "--accept", "r03"]).code(2);
    assert_eq!(run.kind(), "not_applied");
    assert_eq!(project.json(&["upgrade"]).ok().steps(), ["r03"]);
}

/// An applied file whose SQL changed: `upgrade` to a new head and
/// `downgrade` stop before anything runs (`checksum_mismatch`, exit 2);
/// `verify` exits 3 naming it; `--allow-changed` proceeds.
fn edited_applied_file_stops_the_run(db: &TestDb) {
    let mut project = Project::new(db, linear(3));
    project.json(&["upgrade"]).ok();
    edit_sql(&project, "r02");
    project.add(Rev::table("r04", &["r03"], "t04"));

    let run = project.json(&["upgrade"]).code(2);
    assert_eq!(run.kind(), "checksum_mismatch");
    assert!(run.message().contains("`r02`"), "{}", run.message());
    assert!(run.message().contains("02_r02.sql"), "{}", run.message());
    assert!(run.hint().contains("--allow-changed"), "{}", run.hint());
    let before = ["r01", "r02", "r03"];
    assert_state(
        db,
        project.revs(),
        &["r03"],
        &before,
        "after the refused upgrade",
    );

    let run = project.json(&["downgrade", "-1"]).code(2);
    assert_eq!(run.kind(), "checksum_mismatch");
    assert_state(
        db,
        project.revs(),
        &["r03"],
        &before,
        "after the refused downgrade",
    );

    let found = verify(&project);
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["revision"], "r02");
    assert_eq!(found[0]["kind"], "changed");
    assert!(
        found[0]["path"].as_str().unwrap().ends_with("02_r02.sql"),
        "{found}"
    );
    let run = project.text(&["verify"]).code(3);
    assert!(
        run.stdout.contains("r02 changed since it was applied"),
        "{}",
        run.transcript()
    );

    let run = project.json(&["upgrade", "--allow-changed"]).ok();
    assert_eq!(run.steps(), ["r04"]);
    assert_state(
        db,
        project.revs(),
        &["r04"],
        &["r01", "r02", "r03", "r04"],
        "after --allow-changed",
    );
    // The edit is still there to see.
    assert_eq!(findings(&project), [pair("r02", "changed")]);
}

/// CRLF line endings, trailing blanks, trailing blank lines and a BOM
/// are not edits.
fn line_endings_and_trailing_blanks_do_not_count(db: &TestDb) {
    let mut project = Project::new(db, linear(3));
    project.json(&["upgrade"]).ok();
    crlf(&project, "r01");
    let name = project.file_name("r02");
    let text = fs::read_to_string(project.path(&name)).unwrap();
    project.write(&name, &(text.replace('\n', "  \t\n") + "\n\n\n"));
    let name = project.file_name("r03");
    let text = fs::read_to_string(project.path(&name)).unwrap();
    project.write(
        &name,
        &format!("\u{feff}{}\r\n\r\n", text.replace('\n', " \r\n")),
    );

    assert_eq!(findings(&project), []);
    project.add(Rev::table("r04", &["r03"], "t04"));
    let run = project.json(&["upgrade"]).ok();
    assert_eq!(run.steps(), ["r04"]);
    let run = project.json(&["downgrade", "base"]).ok();
    assert_eq!(run.steps(), ["r04", "r03", "r02", "r01"]);
}

/// `rehash` with checksums another tool stored as raw-bytes SHA-256
/// (`sha256-v0`): updated where the file still matches under v0, listed
/// and left alone where it does not (exit 3).
fn rehash_updates_only_provably_unchanged_checksums(db: &TestDb) {
    let project = Project::new(db, linear(3));
    project.json(&["upgrade"]).ok();
    for id in ["r01", "r02"] {
        let sum = v0(&project.path(&project.file_name(id)));
        db.exec(&format!(
            "UPDATE retort_applied SET checksum = '{sum}' WHERE revision = '{id}'"
        ));
    }
    let r03 = applied_column(db, "r03", "checksum");
    assert!(r03.starts_with("sha256-v1:"), "{r03}");

    // v0 matches the raw files.
    assert_eq!(findings(&project), []);

    // Under v0 a line-ending change is a change: the raw bytes differ.
    crlf(&project, "r02");
    assert_eq!(findings(&project), [pair("r02", "changed")]);
    assert_eq!(
        project.json(&["upgrade"]).code(2).kind(),
        "checksum_mismatch"
    );

    let r02 = applied_column(db, "r02", "checksum");
    let run = project.json(&["rehash"]).code(3);
    assert_eq!(run.doc()["updated"], json!(["r01"]));
    assert_eq!(run.doc()["recorded"], json!([]));
    let changed = &run.doc()["changed"];
    assert_eq!(changed.as_array().unwrap().len(), 1, "{changed}");
    assert_eq!(changed[0]["revision"], "r02");
    assert!(changed[0]["path"].as_str().unwrap().ends_with("02_r02.sql"));
    assert!(applied_column(db, "r01", "checksum").starts_with("sha256-v1:"));
    assert_eq!(applied_column(db, "r02", "checksum"), r02, "left alone");
    assert_eq!(
        applied_column(db, "r03", "checksum"),
        r03,
        "already current"
    );

    // Back to the bytes applied: now provably the same file.
    lf(&project, "r02");
    let run = project.json(&["rehash"]).ok();
    assert_eq!(run.doc()["updated"], json!(["r02"]));
    assert!(applied_column(db, "r02", "checksum").starts_with("sha256-v1:"));
    // From now on line endings do not matter.
    crlf(&project, "r02");
    assert_eq!(findings(&project), []);

    // A real edit is never rehashed.
    edit_sql(&project, "r03");
    let run = project.json(&["rehash"]).code(3);
    assert_eq!(run.doc()["updated"], json!([]));
    assert_eq!(run.doc()["changed"][0]["revision"], "r03");
    assert_eq!(applied_column(db, "r03", "checksum"), r03);
    assert_eq!(findings(&project), [pair("r03", "changed")]);
    let run = project.text(&["rehash"]).code(3);
    assert!(
        run.stdout
            .contains("r03 SQL changed since it was applied; checksum left as it was"),
        "{}",
        run.transcript()
    );

    let name = project.file_name("r03");
    let text = fs::read_to_string(project.path(&name)).unwrap();
    project.write(&name, &text.replace("VARCHAR(200)", "VARCHAR(100)"));
    let run = project.json(&["rehash"]).ok();
    assert_eq!(
        run.doc(),
        &json!({"updated": [], "recorded": [], "changed": [], "accepted": []})
    );
    assert_eq!(project.text(&["rehash"]).ok().stdout, "nothing to rehash\n");
}

/// An applied revision without a checksum (another tool applied it) is
/// reported but does not fail `verify`; `rehash` records it.
fn rehash_records_missing_checksums(db: &TestDb) {
    let project = Project::new(db, linear(3));
    project.json(&["upgrade"]).ok();
    let r01 = applied_column(db, "r01", "checksum");
    db.exec("DELETE FROM retort_applied WHERE revision = 'r01'");
    assert_eq!(findings(&project), [pair("r01", "unrecorded")]);
    // Not a changed file: upgrades go on.
    assert_eq!(
        project.json(&["upgrade"]).ok().steps(),
        Vec::<String>::new()
    );

    let run = project.json(&["rehash"]).ok();
    assert_eq!(run.doc()["recorded"], json!(["r01"]));
    assert_eq!(applied_column(db, "r01", "operation"), "rehash");
    assert_eq!(applied_column(db, "r01", "checksum"), r01);
    assert_eq!(findings(&project), []);
}

/// An applied revision whose file is gone: `verify` says missing
/// (exit 3), and `upgrade` cannot locate the database's revision.
fn applied_file_removed(db: &TestDb) {
    let project = Project::new(db, linear(3));
    project.json(&["upgrade"]).ok();
    fs::remove_file(project.path(&project.file_name("r03"))).unwrap();
    let found = verify(&project);
    assert_eq!(
        found,
        json!([{"revision": "r03", "kind": "missing", "path": null}])
    );
    let run = project.json(&["upgrade"]).code(2);
    assert_eq!(run.kind(), "unknown_revision");
    assert_eq!(version_rows(db), ["r03"]);
    assert_eq!(applied(db), ["r01", "r02", "r03"]);
}

/// A checksum with a tag this retort does not know (a newer retort
/// wrote it): `verify` lists it, `upgrade` goes on, `rehash` leaves it.
fn unknown_checksum_algorithm_is_reported(db: &TestDb) {
    let mut project = Project::new(db, linear(2));
    project.json(&["upgrade"]).ok();
    db.exec("UPDATE retort_applied SET checksum = 'sha999-v9:0123abcd' WHERE revision = 'r01'");
    let found = project.json(&["verify"]).doc()["findings"].clone();
    assert_eq!(found[0]["revision"], "r01");
    assert_eq!(found[0]["kind"], "unknown_algorithm");
    project.add(Rev::table("r03", &["r02"], "t03"));
    assert_eq!(project.json(&["upgrade"]).ok().steps(), ["r03"]);
    let _ = project.json(&["rehash"]);
    assert_eq!(applied_column(db, "r01", "checksum"), "sha999-v9:0123abcd");
}

/// docs/running.md: "A checksum with an unknown tag (written by a newer
/// retort) is reported, never failed": `verify` passes (exit 0, `ok:
/// true`), and `rehash` does not list the file as changed, which it
/// cannot know.
fn unknown_checksum_algorithm_is_never_failed(db: &TestDb) {
    let project = Project::new(db, linear(2));
    project.json(&["upgrade"]).ok();
    db.exec("UPDATE retort_applied SET checksum = 'sha999-v9:0123abcd' WHERE revision = 'r01'");
    let run = project.json(&["verify"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(run.doc()["ok"], true);
    let run = project.json(&["rehash"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(run.doc()["changed"], json!([]));
}

/// Two projects in one database, each with its own version table, share
/// `retort_applied`: neither reports the other's revisions as missing,
/// compares their checksums, or deletes them (`stamp --purge`). A row of a
/// revision the version table no longer covers (Alembic downgrades without
/// touching `retort_applied`) is stale, not applied: its file may change.
fn projects_sharing_a_database_keep_their_checksums(db: &TestDb) {
    let first = Project::new(db, linear(2));
    let second = Project::new(
        db,
        vec![
            Rev::table("s01", &[], "u01"),
            Rev::table("s02", &["s01"], "u02"),
        ],
    );
    second.write(
        "retort.toml",
        "[migrations]\ndirs = [\"migrations\"]\nversion_table = \"second_version\"\n",
    );
    first.json(&["upgrade"]).ok();
    second.json(&["upgrade"]).ok();
    assert_eq!(applied(db), ["r01", "r02", "s01", "s02"]);
    assert_eq!(findings(&first), []);
    assert_eq!(findings(&second), []);

    edit_sql(&first, "r01");
    assert_eq!(findings(&first), [pair("r01", "changed")]);
    assert_eq!(findings(&second), [], "the first project's edit is its own");
    first.write(&first.file_name("r01"), &linear(1)[0].text());

    second.json(&["stamp", "--purge", "s01"]).ok();
    assert_eq!(version_rows_in(db, "second_version"), ["s01"]);
    assert_eq!(applied(db), ["r01", "r02", "s01"]);
    assert_eq!(findings(&first), []);

    // What an Alembic downgrade of r02 leaves: the version row moved, the
    // applied row kept.
    db.exec("DROP TABLE t02");
    db.exec("UPDATE retort_version SET version_num = 'r01'");
    edit_sql(&first, "r02");
    assert_eq!(findings(&first), []);
    assert_eq!(first.json(&["upgrade"]).ok().steps(), ["r02"]);
    assert_eq!(version_rows(db), ["r02"]);
    assert_eq!(findings(&first), []);
}
