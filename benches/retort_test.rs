//! `retort test` on a 200-revision history, per revision, against the
//! plain walk of the same history: `retort upgrade` of a new SQLite file
//! to head, then `retort downgrade base`, in one run.
//!
//! ```text
//! cargo build --release -p retort-cli
//! cargo bench -p retort-benches --bench retort_test
//! ```
//!
//! `retort test` does more than the walk for each revision — it upgrades
//! it twice and downgrades it once, and reads the whole schema back after
//! the downgrade and after the second upgrade — so the figure to read is
//! how much more per revision, not a target. Environment:
//! `RETORT_BENCH_QUICK=1` for a smoke run (20 revisions, 1 timed round);
//! `RETORT_BENCH_REVISIONS=N` sets the history's length;
//! `RETORT_BENCH_BINARY=PATH` runs another build; `RETORT_BENCH_DIR=DIR`
//! keeps the project. Where a PostgreSQL server answers at
//! `RETORT_BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), the same pair runs there
//! too, both sides paying the server's commits. Exits non-zero only when a
//! command fails or the test reports a failure.

// This binary's output is its result.
#![allow(clippy::print_stdout)]

use std::cell::Cell;
use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Duration;

use retort_benches::upgrade::{binary_under_test, timed};
use retort_benches::{
    Case, Shape, generate, load_average_line, measure, millis, print_cases, quick, revision_count,
};

const NAME: &str = "retort_test";
const REVISIONS: usize = 200;
const QUICK_REVISIONS: usize = 20;
const WARM_UP: usize = 1;
const ROUNDS: usize = 5;
const QUICK_ROUNDS: usize = 1;
const WALK: &str = "baseline: retort upgrade, then retort downgrade base (a new SQLite file)";
const TEST: &str = "retort test (SQLite in memory)";
const PG_WALK: &str = "PostgreSQL: retort upgrade, then retort downgrade base (a new database)";
const PG_TEST: &str = "PostgreSQL: retort test (a scratch database)";
/// The PostgreSQL server for the second pair of cases.
const URL_VAR: &str = "RETORT_BENCH_POSTGRES_URL";
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn main() -> ExitCode {
    retort_benches::exit(NAME, run())
}

/// `retort -C project ARGS`, with no stray `DATABASE_URL`.
fn retort(binary: &Path, project: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(binary);
    command
        .arg("-C")
        .arg(project)
        .args(args)
        .env_remove("DATABASE_URL");
    command
}

fn run() -> Result<(), String> {
    let quick = quick();
    let revisions = revision_count(REVISIONS, QUICK_REVISIONS)?;
    let rounds = if quick { QUICK_ROUNDS } else { ROUNDS };
    let warm_up = if quick { 0 } else { WARM_UP };
    let binary = binary_under_test(NAME)?;
    let (dir, keep) = retort_benches::bench_dir(NAME)?;
    let project = dir.path().join("project");
    fs::create_dir(&project).map_err(|e| format!("cannot create `{}`: {e}", project.display()))?;
    let generated = generate(&project, revisions, Shape::Linear)
        .map_err(|e| format!("cannot write the project: {e}"))?;
    let round = Cell::new(0_usize);
    let server = std::env::var(URL_VAR).unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let admin = retort::config::DatabaseUrl::parse(&server)
        .ok()
        .filter(|url| retort::db::admin(url).is_ok());
    let pg_round = Cell::new(0_usize);
    let name = |round: usize| format!("retort_bench_test_{}_{round}", std::process::id());
    let mut cases = vec![
        Case::baseline(WALK, || {
            round.set(round.get() + 1);
            let url = format!(
                "sqlite:///{}",
                dir.path()
                    .join(format!("walk-{}.db", round.get()))
                    .display()
            );
            timed(&mut retort(&binary, &project, &["--url", &url, "upgrade"]))?;
            timed(&mut retort(
                &binary,
                &project,
                &["--url", &url, "downgrade", "base"],
            ))?;
            Ok(Box::new(()) as _)
        }),
        Case::new(TEST, || {
            // A failed check exits 3, which `timed` reports as an error.
            timed(&mut retort(
                &binary,
                &project,
                &["--url", "sqlite::memory:", "test"],
            ))?;
            Ok(Box::new(()) as _)
        }),
    ];
    if let Some(admin_url) = &admin {
        cases.push(Case::new(PG_WALK, || {
            pg_round.set(pg_round.get() + 1);
            let mut admin = retort::db::admin(admin_url).map_err(|e| e.to_string())?;
            let db = name(pg_round.get());
            admin.create_database(&db).map_err(|e| e.to_string())?;
            let url = admin.url_of(&db).expose_secret().to_owned();
            let walked = timed(&mut retort(&binary, &project, &["--url", &url, "upgrade"]))
                .and_then(|_| {
                    timed(&mut retort(
                        &binary,
                        &project,
                        &["--url", &url, "downgrade", "base"],
                    ))
                });
            admin.drop_database(&db).map_err(|e| e.to_string())?;
            walked.map(|_| Box::new(()) as _)
        }));
        cases.push(Case::new(PG_TEST, || {
            timed(&mut retort(&binary, &project, &["--url", &server, "test"]))?;
            Ok(Box::new(()) as _)
        }));
    }
    measure(&mut cases, warm_up, rounds)?;

    println!(
        "{NAME}: a linear history of {revisions} revisions ({} KiB of revision files){}",
        generated.bytes / 1024,
        if quick { ", quick run" } else { "" },
    );
    println!("retort: {}", binary.display());
    println!("{warm_up} untimed and {rounds} timed rounds, each running every case in turn");
    if let Some(line) = load_average_line() {
        println!("{line}");
    }
    println!();
    let rows = print_cases(&mut cases);
    drop(cases);
    if keep {
        println!("kept (RETORT_BENCH_DIR): {}", dir.keep().display());
    }
    println!();
    let median = |name: &str| {
        rows.iter()
            .find(|r| r.0 == name)
            .map(|r| r.1.median)
            .ok_or_else(|| format!("the case `{name}` is missing from the table"))
    };
    let per = |d: Duration| millis(d) / revisions as f64;
    let mut pairs = vec![("SQLite", WALK, TEST)];
    if admin.is_some() {
        pairs.push(("PostgreSQL", PG_WALK, PG_TEST));
    } else {
        println!("PostgreSQL: no server at {URL_VAR} ({server}); its pair was not run");
    }
    for (database, walk, test) in pairs {
        let (walk, test) = (median(walk)?, median(test)?);
        println!(
            "{database}, per revision (medians): {:.2} ms for the walk (one upgrade, one downgrade), \
             {:.2} ms for retort test ({:.1}x)",
            per(walk),
            per(test),
            test.as_secs_f64() / walk.as_secs_f64()
        );
    }
    Ok(())
}
