//! A fleet at head: `retort upgrade --targets` over 200 SQLite databases
//! that have nothing to do, against what a fleet without fan-out pays — 200
//! `retort upgrade` processes, one per database, one after the other (the
//! loop Flyway's documentation suggests, and django-tenants runs).
//!
//! ```text
//! cargo build --release -p retort-cli
//! cargo bench -p retort-benches --bench fanout
//! ```
//!
//! The benchmark runs `target/release/retort` (built by the first command;
//! `CARGO_TARGET_DIR` is honoured; `RETORT_BENCH_BINARY=PATH` runs another
//! build instead). Environment: `RETORT_BENCH_QUICK=1` for a smoke run (20
//! databases, a 20-revision project, 1 timed round); `RETORT_BENCH_REVISIONS=N`
//! sets the project's size; `RETORT_BENCH_DIR=DIR` puts the project and the
//! databases in a new directory under `DIR`, kept afterwards. Exits
//! non-zero when a command fails or a database is not where it should be,
//! never because a figure is slow.

// This binary's output is its result: it prints the table to stdout, which
// the workspace lints warn about for library code.
#![allow(clippy::print_stdout)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use retort_benches::upgrade::{binary_under_test, timed};
use retort_benches::{
    Case, Shape, generate, load_average_line, measure, millis, print_cases, quick, revision_count,
};

const NAME: &str = "fanout";
/// Databases in the fleet.
const TARGETS: usize = 200;
const QUICK_TARGETS: usize = 20;
/// Revisions in the project (each database has all of them applied).
const REVISIONS: usize = 100;
const QUICK_REVISIONS: usize = 20;
/// The fan-out must be at least this many times faster than the loop.
const TARGET_RATIO: f64 = 10.0;
const WARM_UP: usize = 1;
/// Enough for a median: the fan-out is short, and a busy machine delays
/// some of its rounds a lot.
const ROUNDS: usize = 9;
const QUICK_ROUNDS: usize = 1;
/// The fan-out measured against the loop: as a fleet is upgraded (and as
/// the fan-out tests run it), several targets at once.
const FANNED: &str = "retort upgrade --targets --concurrency 8";
/// The same, one target at a time (the default).
const ONE_AT_A_TIME: &str = "(context) retort upgrade --targets (--concurrency 1)";

fn main() -> ExitCode {
    retort_benches::exit(NAME, run())
}

/// The fleet: a project, and databases at its head listed in a file.
struct Fleet {
    retort: PathBuf,
    project: PathBuf,
    urls: Vec<String>,
    list: PathBuf,
}

impl Fleet {
    /// `retort -C <project> ARGS`, with no stray `DATABASE_URL`.
    fn retort(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.retort);
        command
            .arg("-C")
            .arg(&self.project)
            .args(args)
            .env_remove("DATABASE_URL");
        command
    }

    fn list(&self) -> &str {
        self.list.to_str().unwrap_or_default()
    }

    /// `retort upgrade` on every database, one process after the other.
    fn one_by_one(&self) -> Result<(), String> {
        for url in &self.urls {
            timed(&mut self.retort(&["--url", url, "upgrade"]))?;
        }
        Ok(())
    }

    /// `retort upgrade --targets <list> ARGS`: one process.
    fn fan_out(&self, args: &[&str]) -> Result<String, String> {
        let mut full = vec!["upgrade", "--targets", self.list()];
        full.extend_from_slice(args);
        let (_, output) = timed(&mut self.retort(&full))?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

fn run() -> Result<(), String> {
    let quick = quick();
    let targets = if quick { QUICK_TARGETS } else { TARGETS };
    let revisions = revision_count(REVISIONS, QUICK_REVISIONS)?;
    let rounds = if quick { QUICK_ROUNDS } else { ROUNDS };
    let warm_up = if quick { 0 } else { WARM_UP };
    let retort = binary_under_test(NAME)?;
    let (dir, keep) = retort_benches::bench_dir(NAME)?;
    let project = dir.path().join("project");
    let dbs = dir.path().join("db");
    for d in [&project, &dbs] {
        fs::create_dir(d).map_err(|e| format!("cannot create `{}`: {e}", d.display()))?;
    }
    let generated = generate(&project, revisions, Shape::Linear)
        .map_err(|e| format!("cannot write the project: {e}"))?;
    let head = generated.head()?;
    let list = dir.path().join("targets.txt");
    let mut fleet = Fleet {
        retort,
        project,
        urls: Vec::new(),
        list,
    };
    fleet.urls = at_head(&fleet, &dbs, targets)?;
    fs::write(&fleet.list, fleet.urls.join("\n") + "\n")
        .map_err(|e| format!("cannot write `{}`: {e}", fleet.list.display()))?;
    check(&fleet, &head)?;

    let mut cases = vec![
        Case::baseline("baseline: retort upgrade per database, one by one", || {
            fleet.one_by_one().map(|()| Box::new(()) as _)
        }),
        Case::new(FANNED, || {
            fleet
                .fan_out(&["--concurrency", "8"])
                .map(|out| Box::new(out) as _)
        }),
        Case::new(ONE_AT_A_TIME, || {
            fleet.fan_out(&[]).map(|out| Box::new(out) as _)
        }),
    ];
    measure(&mut cases, warm_up, rounds)?;

    println!(
        "{NAME}: {targets} SQLite databases at head, a project of {revisions} revisions \
         ({} KiB of revision files){}",
        generated.bytes / 1024,
        if quick { ", quick run" } else { "" },
    );
    println!("retort: {}", fleet.retort.display());
    println!(
        "each case does nothing on every database; {warm_up} untimed and {rounds} timed \
         rounds, each running every case in turn"
    );
    if let Some(line) = load_average_line() {
        println!("{line}");
    }
    if keep {
        println!("kept (RETORT_BENCH_DIR): {}", dir.keep().display());
    }
    println!();
    let rows = print_cases(&mut cases);
    println!();
    let stats = |name: &str| rows.iter().find(|r| r.0 == name).map(|r| r.1);
    let (Some(baseline), Some(fanned), Some(single)) = (
        stats("baseline: retort upgrade per database, one by one"),
        stats(FANNED),
        stats(ONE_AT_A_TIME),
    ) else {
        return Err("a case is missing from the table".into());
    };
    println!(
        "one target at a time (--concurrency 1, medians): {:.1}x",
        baseline.median.as_secs_f64() / single.median.as_secs_f64()
    );
    // A fan-out lasts a fraction of a second, so a busy machine moves its
    // median more than the loop's: the fastest rounds say what it allows.
    println!(
        "fastest rounds: {:.1}x",
        baseline.min.as_secs_f64() / fanned.min.as_secs_f64()
    );
    let (baseline, fanned) = (baseline.median, fanned.median);
    let per = |d: Duration| millis(d) / targets as f64;
    println!(
        "per database (medians): {:.2} ms one by one, {:.2} ms in one fan-out",
        per(baseline),
        per(fanned)
    );
    let ratio = baseline.as_secs_f64() / fanned.as_secs_f64();
    if targets == TARGETS {
        println!(
            "target: no-op fan-out over {TARGETS} databases >= {TARGET_RATIO}x faster than \
             {TARGETS} single runs (medians): {} ({ratio:.1}x)",
            if ratio >= TARGET_RATIO {
                "PASS"
            } else {
                "FAIL"
            },
        );
    } else {
        println!(
            "target: >= {TARGET_RATIO}x applies to {TARGETS} databases; not checked ({ratio:.1}x)"
        );
    }
    Ok(())
}

/// `count` databases at head: the first upgraded by retort, the others
/// copies of it. Returns their URLs.
fn at_head(fleet: &Fleet, dbs: &Path, count: usize) -> Result<Vec<String>, String> {
    let path = |i: usize| dbs.join(format!("t{i:04}.db"));
    let url = |i: usize| format!("sqlite:///{}", path(i).display());
    timed(&mut fleet.retort(&["--url", &url(0), "upgrade"]))?;
    for i in 1..count {
        fs::copy(path(0), path(i)).map_err(|e| format!("cannot copy the database: {e}"))?;
    }
    Ok((0..count).map(url).collect())
}

/// Both ways find every database at head and do nothing, before anything
/// is timed.
fn check(fleet: &Fleet, head: &str) -> Result<(), String> {
    let n = fleet.urls.len();
    let out = fleet.fan_out(&["--format", "json"])?;
    let skipped = out
        .lines()
        .filter(|l| l.contains("\"status\":\"skipped\"") && l.contains(&format!("[\"{head}\"]")))
        .count();
    let summary = format!("\"targets\":{n},\"ok\":0,\"skipped\":{n},\"failed\":0");
    if skipped != n || !out.lines().last().is_some_and(|l| l.contains(&summary)) {
        return Err(format!(
            "the fan-out did not skip every database at {head}:\n{out}"
        ));
    }
    let (_, output) = timed(&mut fleet.retort(&["--url", &fleet.urls[n - 1], "upgrade"]))?;
    let single = String::from_utf8_lossy(&output.stdout);
    if single != format!("nothing to do; the database is at {head}\n") {
        return Err(format!("a single run did something: {single}"));
    }
    Ok(())
}
