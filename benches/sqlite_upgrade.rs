//! Applying 1,000 migrations to a SQLite file with the real `retort` binary,
//! as a deploy or a container start runs it, against the floor: the same SQL
//! run by the `sqlite3` shell with one commit per migration. Also the no-op
//! `retort upgrade` of a database already at head.
//!
//! ```text
//! cargo build --release -p retort-cli
//! cargo bench -p retort-benches --bench sqlite_upgrade
//! ```
//!
//! The benchmark runs `target/release/retort` (built by the first command;
//! `CARGO_TARGET_DIR` is honoured) and `sqlite3` from `PATH`; without
//! `sqlite3` the floor is skipped and says why.
//!
//! Environment: `RETORT_BENCH_QUICK=1` for a smoke run (100 migrations, 2
//! timed rounds); `RETORT_BENCH_REVISIONS=N` to choose the migration count;
//! `RETORT_BENCH_DIR=DIR` (an existing directory; best absolute, as cargo
//! runs benchmarks from `benches/`) to put the project and databases in a new
//! directory under `DIR` (the file system decides the fresh figures: they
//! are mostly fsyncs), kept afterwards for profiling.
//! Exits non-zero when a command fails or leaves the database wrong, never
//! because a figure is slow.

// This binary's output is its result: it prints the table to stdout and
// failures to stderr, which the workspace lints warn about for library code.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::env;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use retort_benches::{
    Body, Generated, Revision, Shape, generate_with, load_average_line, median, millis, quick,
    revision_count,
};

/// The figure the targets are set for.
const TARGET_REVISIONS: usize = 1_000;
/// A fresh upgrade may take at most this many times the floor (medians).
const TARGET_RATIO: f64 = 1.3;
/// A no-op upgrade at head must stay under this (median).
const TARGET_NOOP: Duration = Duration::from_millis(15);
/// Rows each migration inserts.
const ROWS: usize = 10;
/// Timed rounds of the fresh upgrade and the floor (each on new files). The
/// correctness check before them runs both once, which warms the page cache
/// for the binaries and the revision files.
const FRESH_ROUNDS: usize = 7;
/// Untimed and timed rounds of the no-op cases.
const NOOP_WARM_UP: usize = 3;
const NOOP_ROUNDS: usize = 31;
const QUICK_REVISIONS: usize = 100;
const QUICK_ROUNDS: usize = 2;

struct Settings {
    revisions: usize,
    fresh_rounds: usize,
    noop_warm_up: usize,
    noop_rounds: usize,
    quick: bool,
}

fn settings() -> Result<Settings, String> {
    let quick = quick();
    let revisions = revision_count(TARGET_REVISIONS, QUICK_REVISIONS)?;
    Ok(Settings {
        revisions,
        fresh_rounds: if quick { QUICK_ROUNDS } else { FRESH_ROUNDS },
        noop_warm_up: if quick { 1 } else { NOOP_WARM_UP },
        noop_rounds: if quick { QUICK_ROUNDS } else { NOOP_ROUNDS },
        quick,
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sqlite_upgrade: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The programs and files every case uses.
struct Setup {
    retort: PathBuf,
    /// `None` when there is no `sqlite3` on `PATH`: the floor is skipped.
    sqlite3: Option<PathBuf>,
    generated: Generated,
    /// Every migration's upgrade SQL in `BEGIN; ...; COMMIT;`, for the floor.
    script: PathBuf,
    /// Where the database files go (the same file system for every case).
    dbs: PathBuf,
}

impl Setup {
    /// `retort -C <project> --url sqlite:////<db> <args>`.
    fn retort(&self, db: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(&self.retort);
        command
            .arg("-C")
            .arg(&self.generated.root)
            .arg("--url")
            .arg(sqlite_url(db))
            .args(args)
            // The configuration names no database; `--url` wins anyway, but
            // keep a stray DATABASE_URL out of the figures.
            .env_remove("DATABASE_URL");
        command
    }

    /// `sqlite3 -bail <db> < script.sql`.
    fn floor(&self, sqlite3: &Path, db: &Path) -> Result<Command, String> {
        let script = File::open(&self.script)
            .map_err(|e| format!("cannot open `{}`: {e}", self.script.display()))?;
        let mut command = Command::new(sqlite3);
        command.arg("-bail").arg(db).stdin(script);
        Ok(command)
    }
}

fn run() -> Result<(), String> {
    let settings = settings()?;
    let retort = retort_binary()?;
    let sqlite3 = find_on_path("sqlite3");
    // RETORT_BENCH_DIR chooses the file system (the fresh figures are mostly
    // its fsyncs) and keeps the files for profiling.
    // Absolute: retort resolves a relative `sqlite:///` path from `-C`.
    let parent = env::var_os("RETORT_BENCH_DIR")
        .map(|d| std::path::absolute(&d).unwrap_or_else(|_| PathBuf::from(d)));
    let dir = match &parent {
        Some(parent) => tempfile::Builder::new()
            .prefix("sqlite_upgrade-")
            .tempdir_in(parent),
        None => tempfile::tempdir(),
    }
    .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let project = dir.path().join("project");
    let dbs = dir.path().join("db");
    for d in [&project, &dbs] {
        fs::create_dir(d).map_err(|e| format!("cannot create `{}`: {e}", d.display()))?;
    }
    let generated = generate_with(&project, settings.revisions, Shape::Linear, body)
        .map_err(|e| format!("cannot write the project: {e}"))?;
    let script = dir.path().join("floor.sql");
    fs::write(&script, floor_script(&generated))
        .map_err(|e| format!("cannot write `{}`: {e}", script.display()))?;
    let setup = Setup {
        retort,
        sqlite3,
        generated,
        script,
        dbs,
    };
    let head = setup
        .generated
        .heads()
        .first()
        .map(|h| (*h).to_owned())
        .ok_or("the generated project has no head")?;

    // Once, untimed: both ways give the same schema and data, and retort's
    // bookkeeping says head. This also warms the page cache.
    let at_head = setup.dbs.join("at-head.db");
    check(&setup, &head, &at_head)?;

    // Fresh upgrades: every round on new files; the order alternates so
    // neither side always follows the other's disk writes.
    let mut floor_times = Vec::new();
    let mut fresh_times = Vec::new();
    for round in 0..settings.fresh_rounds {
        let retort_db = setup.dbs.join(format!("fresh-{round}.db"));
        let floor_db = setup.dbs.join(format!("floor-{round}.db"));
        for side in [round % 2, 1 - round % 2] {
            if side == 0 {
                let (time, _) = timed(&mut setup.retort(&retort_db, &["upgrade"]))
                    .map_err(|e| format!("fresh retort upgrade: {e}"))?;
                fresh_times.push(time);
            } else if let Some(sqlite3) = &setup.sqlite3 {
                let (time, _) = timed(&mut setup.floor(sqlite3, &floor_db)?)
                    .map_err(|e| format!("floor (sqlite3): {e}"))?;
                floor_times.push(time);
            }
        }
        remove_db(&retort_db);
        remove_db(&floor_db);
    }

    // No-op at head, with project loading, process start and the least a
    // client can do with this database (open it, read the version row:
    // SQLite parses the whole schema first) for context.
    let mut noop_times = Vec::new();
    let mut heads_times = Vec::new();
    let mut start_times = Vec::new();
    let mut read_times = Vec::new();
    for round in 0..settings.noop_warm_up + settings.noop_rounds {
        let (noop, _) = timed(&mut setup.retort(&at_head, &["upgrade"]))
            .map_err(|e| format!("no-op retort upgrade: {e}"))?;
        let (heads, _) = timed(&mut setup.retort(&at_head, &["heads"]))
            .map_err(|e| format!("retort heads: {e}"))?;
        let (start, _) = timed(Command::new(&setup.retort).arg("--version"))
            .map_err(|e| format!("retort --version: {e}"))?;
        let read = match &setup.sqlite3 {
            Some(sqlite3) => Some(
                timed(
                    Command::new(sqlite3)
                        .arg("-bail")
                        .arg(&at_head)
                        .arg("SELECT version_num FROM retort_version;"),
                )
                .map_err(|e| format!("sqlite3 reading the version row: {e}"))?
                .0,
            ),
            None => None,
        };
        if round >= settings.noop_warm_up {
            noop_times.push(noop);
            heads_times.push(heads);
            start_times.push(start);
            read_times.extend(read);
        }
    }

    if parent.is_some() {
        let kept = dir.keep();
        println!(
            "kept (RETORT_BENCH_DIR): project in {}, at-head database {}",
            kept.join("project").display(),
            kept.join("db").join("at-head.db").display()
        );
    }
    report(
        &settings,
        &setup,
        &Figures {
            floor: (!floor_times.is_empty()).then(|| Stats::of(&mut floor_times)),
            fresh: Stats::of(&mut fresh_times),
            noop: Stats::of(&mut noop_times),
            heads: Stats::of(&mut heads_times),
            start: Stats::of(&mut start_times),
            read: (!read_times.is_empty()).then(|| Stats::of(&mut read_times)),
        },
    );
    Ok(())
}

/// The table a revision creates: `t0000`, `t0001`, ...
fn table(index: usize) -> String {
    format!("t{index:04}")
}

/// One migration: a six-column table with a foreign key to the previous
/// table's (the first has none), an index on that column, and [`ROWS`] rows
/// inserted one statement each, as hand-written seed data is; the downgrade
/// drops them.
fn body(revision: &Revision) -> Body {
    let i = revision.index;
    let table = table(i);
    let references = if i == 0 {
        String::new()
    } else {
        format!(" REFERENCES {}(id)", self::table(i - 1))
    };
    let mut upgrade = format!(
        "-- Table {table} with {ROWS} rows.\n\
         CREATE TABLE {table} (\n    \
             id INTEGER PRIMARY KEY,\n    \
             prev_id INTEGER{references},\n    \
             name TEXT NOT NULL,\n    \
             status TEXT NOT NULL DEFAULT 'new',\n    \
             amount INTEGER NOT NULL DEFAULT 0,\n    \
             ratio REAL\n\
         );\n\
         CREATE INDEX ix_{table}_prev_id ON {table} (prev_id);\n"
    );
    for row in 1..=ROWS {
        let prev = if i == 0 {
            "NULL".to_owned()
        } else {
            row.to_string()
        };
        let status = ["new", "active", "closed"][row % 3];
        let _ = writeln!(
            upgrade,
            "INSERT INTO {table} (id, prev_id, name, status, amount, ratio) \
             VALUES ({row}, {prev}, '{table} row {row}', '{status}', {}, {row}.5);",
            i * 100 + row,
        );
    }
    upgrade.push('\n');
    Body {
        upgrade,
        downgrade: Some(format!(
            "DROP INDEX ix_{table}_prev_id;\nDROP TABLE {table};\n"
        )),
    }
}

/// The floor's script: every upgrade section in its own transaction, in
/// order. The `sqlite3` shell does not enforce foreign keys by default,
/// retort's bundled SQLite does (`SQLITE_DEFAULT_FOREIGN_KEYS=1`), so the
/// script turns them on to do the same work. Journal mode and `synchronous`
/// stay at SQLite's defaults on both sides (retort sets no PRAGMA).
fn floor_script(generated: &Generated) -> String {
    let mut script = String::from("PRAGMA foreign_keys = ON;\n");
    for revision in &generated.revisions {
        script.push_str("BEGIN;\n");
        script.push_str(&body(revision).upgrade);
        script.push_str("COMMIT;\n");
    }
    script
}

/// `target/release/retort`, or an error saying how to build it.
fn retort_binary() -> Result<PathBuf, String> {
    let target = env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let binary = target.join("release").join("retort");
    // Shown in the report: without `benches/..`.
    let binary = fs::canonicalize(&binary).unwrap_or(binary);
    if !binary.is_file() {
        return Err(format!(
            "`{}` not found: build it first with `cargo build --release -p retort-cli`",
            binary.display()
        ));
    }
    if let Some(newer) = newer_source(&binary) {
        eprintln!(
            "sqlite_upgrade: warning: `{}` is older than `{}`; \
             run `cargo build --release -p retort-cli` to measure the current code",
            binary.display(),
            newer.display()
        );
    }
    Ok(binary)
}

/// A source file of the binary modified after it was built, if any.
fn newer_source(binary: &Path) -> Option<PathBuf> {
    let built = fs::metadata(binary).and_then(|m| m.modified()).ok()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut stack = vec![
        root.join("crates/retort/src"),
        root.join("crates/retort-cli/src"),
    ];
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).ok()?.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path);
            } else if let Ok(modified) = meta.modified()
                && modified > built
                && newest.as_ref().is_none_or(|(t, _)| modified > *t)
            {
                newest = Some((modified, path));
            }
        }
    }
    newest.map(|(_, path)| path)
}

/// The type of the file system holding `path` (Linux: the longest mount
/// point of `/proc/mounts` above it), since the fresh figures are its fsyncs.
fn file_system(path: &Path) -> Option<String> {
    let mounts = fs::read_to_string("/proc/mounts").ok()?;
    let path = fs::canonicalize(path).ok()?;
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, point, kind) = (fields.next()?, fields.next()?, fields.next()?);
            // Spaces in mount points are written as \040.
            let point = PathBuf::from(point.replace("\\040", " "));
            path.starts_with(&point)
                .then(|| (point.as_os_str().len(), kind.to_owned()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, kind)| kind)
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// `sqlite:////abs/path` (four slashes: an absolute path).
fn sqlite_url(db: &Path) -> String {
    format!("sqlite:///{}", db.display())
}

fn remove_db(db: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        let _ = fs::remove_file(PathBuf::from(path));
    }
}

/// Runs a command to completion (output captured, as a log collector would)
/// and times it, process start included; an error when it fails.
fn timed(command: &mut Command) -> Result<(Duration, Output), String> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let output = command
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    let elapsed = start.elapsed();
    if !output.status.success() {
        let mut stderr = String::from_utf8_lossy(&output.stderr)
            .trim_end()
            .to_owned();
        if let Some((cut, _)) = stderr.char_indices().nth(2_000) {
            stderr.truncate(cut);
            stderr.push_str(" ...");
        }
        return Err(format!(
            "{:?} {:?} exited with {}: {stderr}",
            command.get_program(),
            command.get_args().collect::<Vec<_>>(),
            output.status,
        ));
    }
    Ok((elapsed, output))
}

/// Stdout of a successful command, without whitespace (JSON compares
/// whatever the pretty-printing).
fn compact(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Runs retort and, when there is a `sqlite3`, the floor once each, and
/// checks that both did the whole job; leaves `at_head` upgraded by retort
/// for the no-op cases.
fn check(setup: &Setup, head: &str, at_head: &Path) -> Result<(), String> {
    let n = setup.generated.revisions.len();
    let (_, upgrade) = timed(&mut setup.retort(at_head, &["--format", "json", "upgrade"]))
        .map_err(|e| format!("check: fresh upgrade: {e}"))?;
    let upgrade = compact(&upgrade);
    let steps = upgrade.matches("\"direction\":\"up\"").count();
    if steps != n || !upgrade.contains(&format!("\"heads\":[\"{head}\"]")) {
        return Err(format!(
            "check: fresh upgrade reported {steps} steps of {n}, or not head {head}: {upgrade:.300}"
        ));
    }
    let (_, current) = timed(&mut setup.retort(at_head, &["--format", "json", "current"]))
        .map_err(|e| format!("check: current: {e}"))?;
    let current = compact(&current);
    if !current.contains(&format!("\"current\":[\"{head}\"]")) {
        return Err(format!(
            "check: `retort current` says {current}, not {head}"
        ));
    }
    let (_, noop) = timed(&mut setup.retort(at_head, &["--format", "json", "upgrade"]))
        .map_err(|e| format!("check: no-op upgrade: {e}"))?;
    let noop = compact(&noop);
    if !noop.contains("\"steps\":[]") {
        return Err(format!(
            "check: the upgrade at head did something: {noop:.300}"
        ));
    }
    let Some(sqlite3) = &setup.sqlite3 else {
        println!(
            "check: retort applied {n} migrations and reports head; \
             schema not inspected (no sqlite3 on PATH)"
        );
        return Ok(());
    };

    let floor_db = setup.dbs.join("check-floor.db");
    timed(&mut setup.floor(sqlite3, &floor_db)?).map_err(|e| format!("check: floor: {e}"))?;
    // User objects only: the floor has no retort tables.
    let schema = "SELECT type, name, tbl_name, sql FROM sqlite_master \
                  WHERE tbl_name NOT LIKE 'retort%' ORDER BY name;";
    let tables = "SELECT count(*) FROM sqlite_master WHERE type = 'table' \
                  AND name GLOB 't[0-9]*';";
    let indexes = "SELECT count(*) FROM sqlite_master WHERE type = 'index' \
                   AND name GLOB 'ix_t*';";
    // Every table's row count on its own line (one expression over 1,000
    // tables would pass SQLite's expression depth limit).
    let mut user_checks = format!("{tables}\n{indexes}\n");
    let mut expected_user = format!("{n}\n{n}\n");
    for i in 0..n {
        let _ = writeln!(user_checks, "SELECT count(*) FROM {};", table(i));
        let _ = writeln!(expected_user, "{ROWS}");
    }
    if n > 1 {
        // Every row of the last table finds its parent row.
        let _ = writeln!(
            user_checks,
            "SELECT count(*) FROM {} c JOIN {} p ON p.id = c.prev_id;",
            table(n - 1),
            table(n - 2)
        );
        let _ = writeln!(expected_user, "{ROWS}");
    }
    // Prints nothing when no row breaks a foreign key.
    user_checks.push_str("PRAGMA foreign_key_check;\n");
    let checks = setup.dbs.join("check.sql");
    let query = |db: &Path, sql: &str| -> Result<String, String> {
        fs::write(&checks, sql).map_err(|e| format!("cannot write `{}`: {e}", checks.display()))?;
        let stdin =
            File::open(&checks).map_err(|e| format!("cannot open `{}`: {e}", checks.display()))?;
        let (_, output) = timed(Command::new(sqlite3).arg("-bail").arg(db).stdin(stdin))
            .map_err(|e| format!("check: sqlite3: {e}"))?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    for (what, db) in [("retort", at_head), ("floor", floor_db.as_path())] {
        let got = query(db, &user_checks)?;
        if got != expected_user {
            let line = got
                .lines()
                .zip(expected_user.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| got.lines().count().min(expected_user.lines().count()));
            return Err(format!(
                "check: the {what} database is wrong: line {} of the answers to \
                 (tables, indexes, rows per table, joined rows, foreign key violations) \
                 is {:?}, expected {:?}",
                line + 1,
                got.lines().nth(line).unwrap_or("<none>"),
                expected_user.lines().nth(line).unwrap_or("<none>"),
            ));
        }
    }
    let (ours, floors) = (query(at_head, schema)?, query(&floor_db, schema)?);
    if let Some((a, b)) = ours.lines().zip(floors.lines()).find(|(a, b)| a != b) {
        return Err(format!(
            "check: retort and the floor created different schemas: {a:?} against {b:?}"
        ));
    }
    if ours.lines().count() != floors.lines().count() {
        return Err("check: retort and the floor created different schemas".to_owned());
    }
    let bookkeeping = query(
        at_head,
        "SELECT count(*) FROM retort_applied WHERE operation = 'upgrade'; \
         SELECT group_concat(version_num) FROM retort_version;",
    )?;
    if bookkeeping != format!("{n}\n{head}\n") {
        return Err(format!(
            "check: retort_applied rows and version rows are {bookkeeping:?}, \
             expected {n} and {head}"
        ));
    }
    remove_db(&floor_db);
    println!(
        "check: retort and the floor both created {n} tables, {n} indexes and {} rows \
         with identical schemas; retort recorded {n} applied rows and head {head}",
        n * ROWS
    );
    Ok(())
}

#[derive(Clone, Copy)]
struct Stats {
    median: Duration,
    min: Duration,
}

impl Stats {
    fn of(times: &mut [Duration]) -> Stats {
        let median = median(times);
        Stats {
            median,
            min: times.first().copied().unwrap_or_default(),
        }
    }
}

struct Figures {
    floor: Option<Stats>,
    fresh: Stats,
    noop: Stats,
    heads: Stats,
    start: Stats,
    /// `sqlite3 <at-head.db> "SELECT version_num FROM retort_version;"`.
    read: Option<Stats>,
}

fn ratio(value: Duration, base: Duration) -> f64 {
    value.as_secs_f64() / base.as_secs_f64()
}

/// Prints the table and the target lines.
fn report(settings: &Settings, setup: &Setup, figures: &Figures) {
    let n = setup.generated.revisions.len();
    let sizes = |p: &Path| fs::metadata(p).map_or(0, |m| m.len());
    println!(
        "sqlite_upgrade: {n} migrations (a 6-column table with a foreign key to the previous \
         one, an index and {ROWS} single-row INSERTs each; {} KiB of revision files){}",
        setup.generated.bytes / 1024,
        if settings.quick { ", quick run" } else { "" },
    );
    println!("retort: {}", setup.retort.display());
    match &setup.sqlite3 {
        Some(path) => println!(
            "floor: {} -bail <new.db> < script ({} KiB: PRAGMA foreign_keys = ON, then \
             BEGIN; <upgrade SQL>; COMMIT; per migration)",
            path.display(),
            sizes(&setup.script) / 1024,
        ),
        None => println!(
            "floor: SKIPPED: no `sqlite3` on PATH (install the sqlite3 command-line shell \
             to measure it)"
        ),
    }
    println!(
        "databases in {} ({}; new files each fresh round); SQLite's defaults on both sides \
         (neither sets a PRAGMA but the floor's foreign_keys): journal_mode=DELETE, \
         synchronous=FULL",
        setup.dbs.display(),
        file_system(&setup.dbs).unwrap_or_else(|| "file system unknown".to_owned()),
    );
    println!(
        "fresh: {} timed rounds, retort and floor alternating, after one untimed run of \
         each (the check); no-op: {} untimed + {} timed rounds",
        settings.fresh_rounds, settings.noop_warm_up, settings.noop_rounds
    );
    if let Some(line) = load_average_line() {
        println!("{line}");
    }
    println!();

    let mut rows: Vec<(String, Stats, String)> = Vec::new();
    if let Some(floor) = figures.floor {
        rows.push((
            "floor: sqlite3, one commit per migration".to_owned(),
            floor,
            "1.00x".to_owned(),
        ));
    }
    rows.push((
        "retort upgrade, fresh database".to_owned(),
        figures.fresh,
        figures.floor.map_or("-".to_owned(), |f| {
            format!("{:.2}x", ratio(figures.fresh.median, f.median))
        }),
    ));
    rows.push((
        "retort upgrade, no-op at head".to_owned(),
        figures.noop,
        "-".to_owned(),
    ));
    rows.push((
        "(context) retort heads: load project".to_owned(),
        figures.heads,
        "-".to_owned(),
    ));
    rows.push((
        "(context) retort --version: start".to_owned(),
        figures.start,
        "-".to_owned(),
    ));
    if let Some(read) = figures.read {
        rows.push((
            "(context) sqlite3: read the version row".to_owned(),
            read,
            "-".to_owned(),
        ));
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    println!(
        "{:<width$}  {:>11}  {:>9}  {:>9}",
        "case", "median (ms)", "min (ms)", "vs floor"
    );
    for (name, stats, vs) in &rows {
        println!(
            "{name:<width$}  {:>11.2}  {:>9.2}  {vs:>9}",
            millis(stats.median),
            millis(stats.min),
        );
    }
    println!();
    let per_migration = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    if let Some(floor) = figures.floor {
        println!(
            "per migration (median): floor {:.0} us, retort {:.0} us, difference {:.0} us",
            per_migration(floor.median),
            per_migration(figures.fresh.median),
            per_migration(figures.fresh.median) - per_migration(floor.median),
        );
    }
    println!(
        "no-op split (medians): process start {:.2} ms, project load {:.2} ms, \
         database part {:.2} ms",
        millis(figures.start.median),
        millis(figures.heads.median.saturating_sub(figures.start.median)),
        millis(figures.noop.median.saturating_sub(figures.heads.median)),
    );
    println!();

    let at_target = n == TARGET_REVISIONS;
    match figures.floor {
        Some(floor) if at_target => {
            let r = ratio(figures.fresh.median, floor.median);
            println!(
                "target: fresh upgrade <= {TARGET_RATIO}x the floor (medians, \
                 {TARGET_REVISIONS} migrations): {} ({r:.2}x)",
                verdict(r <= TARGET_RATIO)
            );
        }
        Some(_) => println!(
            "target: fresh upgrade <= {TARGET_RATIO}x the floor applies to \
             {TARGET_REVISIONS} migrations; not checked"
        ),
        None => {
            println!("target: fresh upgrade <= {TARGET_RATIO}x the floor: not checked (no floor)")
        }
    }
    if at_target {
        println!(
            "target: no-op upgrade < {} ms (median, {TARGET_REVISIONS} revisions): {} ({:.2} ms)",
            TARGET_NOOP.as_millis(),
            verdict(figures.noop.median < TARGET_NOOP),
            millis(figures.noop.median),
        );
        if let Some(read) = figures.read {
            println!(
                "        (the sqlite3 shell alone takes {:.2} ms to open this database and read \
                 one row)",
                millis(read.median)
            );
        }
    } else {
        println!(
            "target: no-op upgrade < {} ms applies to {TARGET_REVISIONS} revisions; not checked",
            TARGET_NOOP.as_millis()
        );
    }
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}
