//! `retort test` on real public migration histories of 50 revisions or
//! more: every revision upgraded, downgraded to the schema it started from
//! and upgraded again, on a scratch database of the history's dialect.
//!
//! The histories are third-party, so they are not part of this repository:
//! each is a retort project (retort.toml and its revision files, an
//! Alembic project as `retort import alembic` writes it, say) in a
//! directory of `RETORT_TEST_REAL_HISTORIES`, else of `real-histories/` in
//! the `shared/` folder beside the repository. Its `database.url` names
//! the dialect; the test runs it on this machine's server of that dialect
//! and says it skipped when there is no history to run.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::db::{Kind, TestDb, dialect_tests, skip};
use crate::util::{Run, retort_bin};

dialect_tests! {
    each_history_passes,
}

/// The fewest revisions a history must have to count.
const REVISIONS: usize = 50;

fn histories_dir() -> PathBuf {
    std::env::var_os("RETORT_TEST_REAL_HISTORIES").map_or_else(
        || {
            // crates/retort-cli → the repository → the folder holding it
            // and shared/.
            let beside = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(3);
            beside
                .unwrap_or(Path::new("/"))
                .join("shared/real-histories")
        },
        PathBuf::from,
    )
}

/// The histories whose `database.url` is of `db`'s dialect.
fn histories(db: &TestDb) -> Vec<PathBuf> {
    let scheme = match db.kind() {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
        Kind::Mariadb => "mysql",
    };
    let Ok(entries) = std::fs::read_dir(histories_dir()) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|dir| {
            std::fs::read_to_string(dir.join("retort.toml")).is_ok_and(|config| {
                config.lines().any(|line| {
                    let line = line.trim_start();
                    line.starts_with("url") && line.contains(&format!("\"{scheme}"))
                })
            })
        })
        .collect();
    found.sort();
    found
}

fn each_history_passes(db: &TestDb) {
    let found = histories(db);
    if found.is_empty() {
        skip(
            db,
            &format!(
                "no real history of this dialect in {}; set RETORT_TEST_REAL_HISTORIES",
                histories_dir().display()
            ),
        );
        return;
    }
    for dir in found {
        let args = ["--format", "json", "test"];
        let output = std::process::Command::new(retort_bin())
            .env_remove("DATABASE_URL")
            .env_remove("RETORT_ENV")
            .arg("-C")
            .arg(&dir)
            .args(["--url", &db.url()])
            .args(args)
            .output()
            .unwrap();
        let run = Run::new(&args, true, output);
        let doc: &Value = run.doc();
        let revisions = doc["revisions"].as_array().map_or(0, Vec::len);
        assert!(
            revisions >= REVISIONS,
            "{}: {revisions} revisions, fewer than {REVISIONS}",
            dir.display()
        );
        assert_eq!(
            (run.code, &doc["ok"]),
            (0, &Value::Bool(true)),
            "{}:\n{}",
            dir.display(),
            run.transcript()
        );
    }
}
