//! A code revision (`-- retort:code NAME VERSION`) seen from the CLI: listed
//! by `history` and `show` with its function, refused by `upgrade` (the CLI
//! registers no Rust function) and by `--sql` (no script holds Rust), in
//! both cases before anything runs.

use serde_json::json;

use crate::db::{Kind, TestDb};
use crate::util::{Project, Rev, version_rows};

#[test]
fn code_revision_from_the_cli() {
    crate::db::run(listed_and_refused, Kind::Sqlite);
}

fn listed_and_refused(db: &TestDb) {
    let mut code = Rev::merge("c2", &["c1"], "lowercase every email");
    code.upgrade = String::new();
    code.downgrade = None;
    let project = Project::new(db, vec![Rev::table("c1", &[], "users")]);
    let text = code
        .text()
        .replace("-- retort:upgrade\n", "-- retort:code lowercase_emails 3\n");
    project.write("migrations/02_c2.sql", &text);

    let shown = project.text(&["show", "c2"]).ok();
    assert!(
        shown.stdout.contains(
            "Runs code: lowercase_emails version 3 (`-- retort:code`, line 5), registered by the application\n"
        ),
        "{}",
        shown.transcript()
    );
    let listed = project.json(&["history"]).ok();
    assert_eq!(
        listed.doc()[0]["code"],
        json!({"name": "lowercase_emails", "version": "3"})
    );
    assert_eq!(listed.doc()[1]["code"], json!(null));

    let refused = project.json(&["upgrade"]).code(2);
    assert_eq!(
        refused.kind(),
        "code_not_registered",
        "{}",
        refused.transcript()
    );
    assert!(
        refused
            .hint()
            .contains("the retort CLI cannot run Rust code"),
        "{}",
        refused.transcript()
    );
    assert_eq!(version_rows(db), Vec::<String>::new());

    let script = project.json(&["upgrade", "--sql"]).code(2);
    assert_eq!(script.kind(), "code_in_script", "{}", script.transcript());
    // Up to the revision before it, the CLI migrates.
    project.json(&["upgrade", "c1"]).ok();
    assert_eq!(version_rows(db), ["c1"]);
}
