//! `current` and `status` (JSON contents on a branched state with a
//! dependency), the whole JSON documents of the database commands, and the
//! human-readable output of a few commands (snapshots, durations
//! normalised).

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

/// `retort --format json ARGS` and its document, `duration_ms` set to 0.
fn document(project: &Project, args: &[&str], code: i32) -> String {
    fn zero_durations(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if key == "duration_ms" {
                        *v = json!(0);
                    } else if key == "server" {
                        // The same document on every dialect.
                        for field in ["dialect", "product", "version", "ddl_commits_implicitly"] {
                            v[field] = json!(format!("[{}]", field.to_uppercase()));
                        }
                    } else {
                        zero_durations(v);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(zero_durations),
            _ => {}
        }
    }
    let run = project.json(args).code(code);
    let mut doc = run.doc().clone();
    zero_durations(&mut doc);
    if args == ["current"] {
        doc["server"] = json!("[as in status]");
    }
    format!(
        "$ retort --format json {} (exit {code})\n{}\n",
        args.join(" "),
        serde_json::to_string_pretty(&doc).unwrap()
    )
}

dialect_tests! {
    json_documents,
    step_line_without_a_message,
    current_and_status_with_a_dependency,
    current_on_two_branches,
    status_of_an_empty_database,
    status_text,
    upgrade_and_downgrade_text,
    error_text,
}

/// A revision without a message: its step line ends with the id, one
/// space, then the duration. In a pipe (a container's log) each migration
/// also has a line when it starts, so a long one is not silent.
fn step_line_without_a_message(db: &TestDb) {
    let mut revs = linear(2);
    revs[1].message = String::new();
    let project = Project::new(db, revs);
    let run = project.text(&["upgrade"]).ok();
    let lines: Vec<String> = normalise_durations(&run.stderr)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        lines,
        [
            "running 2 migration(s)",
            "  upgrade   r01 create t01 ...",
            "  upgrade   r01 create t01 (X ms)",
            "  upgrade   r02 ...",
            "  upgrade   r02 (X ms)",
        ]
    );
}

/// docs/cli.md's output contract, whole documents in the order a script
/// sees them: a partial upgrade, `current`, `status`, `verify`, a dry run,
/// a downgrade, a stamp, and a usage error.
fn json_documents(db: &TestDb) {
    let project = Project::new(db, linear(3));
    let docs: String = [
        (&["upgrade", "r02"][..], 0),
        (&["current"], 0),
        (&["status"], 0),
        (&["verify"], 0),
        (&["upgrade", "--dry-run"], 0),
        (&["downgrade", "r01"], 0),
        (&["stamp", "r03"], 0),
        (&["upgrade", "r09"], 2),
    ]
    .iter()
    .map(|(args, code)| document(&project, args, *code))
    .collect();
    insta::assert_snapshot!(docs, @r#"
    $ retort --format json upgrade r02 (exit 0)
    {
      "steps": [
        {
          "revision": "r01",
          "message": "create t01",
          "direction": "up",
          "duration_ms": 0
        },
        {
          "revision": "r02",
          "message": "create t02",
          "direction": "up",
          "duration_ms": 0
        }
      ],
      "heads": [
        "r02"
      ],
      "dry_run": false
    }
    $ retort --format json current (exit 0)
    {
      "heads": [
        "r02"
      ],
      "current": [
        "r02"
      ],
      "problem": null,
      "foreign_history": null,
      "server": "[as in status]"
    }
    $ retort --format json status (exit 0)
    {
      "heads_in_db": [
        "r02"
      ],
      "current": [
        "r02"
      ],
      "heads": [
        "r03"
      ],
      "pending": [
        {
          "revision": "r03",
          "message": "create t03"
        }
      ],
      "interrupted": null,
      "running": null,
      "problem": null,
      "changed": [],
      "foreign_history": null,
      "server": {
        "dialect": "[DIALECT]",
        "product": "[PRODUCT]",
        "version": "[VERSION]",
        "kind": "plain",
        "detected": "plain",
        "set_by": "detected",
        "standby": false,
        "citus": null,
        "galera": null,
        "needs_lease_lock": false,
        "ddl_commits_implicitly": "[DDL_COMMITS_IMPLICITLY]"
      }
    }
    $ retort --format json verify (exit 0)
    {
      "ok": true,
      "findings": []
    }
    $ retort --format json upgrade --dry-run (exit 0)
    {
      "steps": [
        {
          "revision": "r03",
          "message": "create t03",
          "direction": "up",
          "duration_ms": 0
        }
      ],
      "heads": [
        "r03"
      ],
      "dry_run": true
    }
    $ retort --format json downgrade r01 (exit 0)
    {
      "steps": [
        {
          "revision": "r02",
          "message": "create t02",
          "direction": "down",
          "duration_ms": 0
        }
      ],
      "heads": [
        "r01"
      ],
      "dry_run": false
    }
    $ retort --format json stamp r03 (exit 0)
    {
      "steps": [
        {
          "revision": "r02",
          "message": "create t02",
          "direction": "stamp",
          "duration_ms": 0
        },
        {
          "revision": "r03",
          "message": "create t03",
          "direction": "stamp",
          "duration_ms": 0
        }
      ],
      "heads": [
        "r03"
      ],
      "dry_run": false
    }
    $ retort --format json upgrade r09 (exit 2)
    {
      "error": {
        "kind": "unknown_revision",
        "message": "no revision or branch label matches `r09`",
        "hint": "run `retort history` to list revisions; a prefix of 4 or more characters is safest"
      }
    }
    "#);
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
        without_server(run.doc()),
        json!({"heads": ["c10003", "d20006"], "current": ["c10003", "d20006"], "problem": null, "foreign_history": null})
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
    assert_eq!(
        without_server(run.doc()),
        json!({"heads": [], "current": [], "problem": null, "foreign_history": null})
    );
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

/// On a terminal a running migration shows a spinner with the time spent
/// so far, replaced by its line when it ends; no start lines. Run under
/// `script`, which gives retort a pseudo-terminal.
#[test]
fn a_running_migration_shows_a_spinner_on_a_terminal() {
    let db = TestDb::create(crate::db::Kind::Sqlite).unwrap();
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        return crate::db::skip_without_tool(&db, "`script` (util-linux) is not installed");
    }
    let mut revs = linear(2);
    // Long enough for the spinner to be drawn a few times.
    revs[1].upgrade.push_str(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500000) SELECT count(*) FROM c;\n",
    );
    let project = Project::new(&db, revs);
    let command = project.command(&["upgrade"]);
    let line = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("upgrade   r02 create t02 (0s)"),
        "a spinner with the time spent:\n{shown}"
    );
    assert!(shown.contains("upgrade   r02 create t02 ("), "{shown}");
    assert!(
        !shown.contains(" ..."),
        "no start lines on a terminal:\n{shown}"
    );
    assert!(shown.contains("2 step(s) done"), "{shown}");
}

/// A `current` document without its `server` (the `server` module checks it).
fn without_server(doc: &serde_json::Value) -> serde_json::Value {
    let mut doc = doc.clone();
    let server = doc.as_object_mut().and_then(|o| o.remove("server"));
    assert!(
        server.is_some_and(|s| s.is_object()),
        "no `server` in {doc}"
    );
    doc
}
