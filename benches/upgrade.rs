//! What the upgrade benchmarks share. Each times whole processes, as a
//! deploy or a container start runs them: the release `retort` binary
//! applying a generated project to a new database, against the floor — the
//! database's own shell running the same SQL with one transaction per
//! migration (and, where DDL commits implicitly, the commits retort makes)
//! — and `retort upgrade` on a database already at head, next to context
//! cases (`retort heads`, `retort --version`, the shell reading the version
//! row) and, with `RETORT_BENCH_BASELINE=PATH`, the no-op upgrade of
//! another `retort` binary (say, one built from an earlier commit).
//!
//! A benchmark supplies a [`Database`] (how to make, drop and query its
//! databases, and its shell's commands; a [`Server`] in [`Hosted`] for a
//! database server), the catalog queries of its
//! [`Checks`] and the report lines that are its own; the project, the
//! rounds, the checks of retort's output and the table are here, so every
//! database is measured and reported the same way.

// The report and the check's summary are the benchmarks' output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use retort::Dialect;
use retort::sql::split;

use crate::{Body, Generated, Revision, Shape, Stats, generate_with, load_average_line, millis};

/// The migration count the targets are set for.
pub const TARGET_REVISIONS: usize = 1_000;
/// A fresh upgrade may take at most this many times the floor (medians).
pub const TARGET_RATIO: f64 = 1.3;
/// PostgreSQL's no-op target (median, 1,000 revisions); also the reference
/// for databases that have none of their own.
pub const POSTGRES_NOOP_TARGET: Duration = Duration::from_millis(30);
/// Rows each migration inserts.
pub const ROWS: usize = 10;
/// Timed rounds of the fresh upgrade and the floor (each on new databases).
/// The check before them runs both once, which warms the page cache for the
/// binaries and the revision files.
const FRESH_ROUNDS: usize = 7;
/// Untimed and timed rounds of the no-op cases.
const NOOP_WARM_UP: usize = 3;
const NOOP_ROUNDS: usize = 31;
const QUICK_REVISIONS: usize = 100;
const QUICK_ROUNDS: usize = 2;

/// Counts of migrations and rounds, from the environment.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Migrations in the project.
    pub revisions: usize,
    /// Timed rounds of the fresh upgrade and the floor.
    pub fresh_rounds: usize,
    /// Untimed rounds of the no-op cases.
    pub noop_warm_up: usize,
    /// Timed rounds of the no-op cases.
    pub noop_rounds: usize,
    /// `RETORT_BENCH_QUICK=1`: a smoke run.
    pub quick: bool,
}

impl Settings {
    /// 1,000 migrations, 7 fresh and 3 + 31 no-op rounds; a smoke run
    /// (`RETORT_BENCH_QUICK=1`) has 100 migrations, 2 fresh and 1 + 2 no-op
    /// rounds; `RETORT_BENCH_REVISIONS` sets the count either way.
    pub fn from_env() -> Result<Settings, String> {
        let quick = crate::quick();
        Ok(Settings {
            revisions: crate::revision_count(TARGET_REVISIONS, QUICK_REVISIONS)?,
            fresh_rounds: if quick { QUICK_ROUNDS } else { FRESH_ROUNDS },
            noop_warm_up: if quick { 1 } else { NOOP_WARM_UP },
            noop_rounds: if quick { QUICK_ROUNDS } else { NOOP_ROUNDS },
            quick,
        })
    }
}

/// What sets one benchmark apart in its messages and targets.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The benchmark's name; it starts every message.
    pub name: &'static str,
    /// The database's shell, which runs the floor.
    pub shell: &'static str,
    /// What the floor commits, for its row of the table ("one commit per
    /// migration").
    pub floor_case: &'static str,
    /// A no-op upgrade at head must stay under this (median).
    pub noop_target: Duration,
    /// `None` when the targets are this database's own; otherwise the
    /// database whose targets are applied for comparison, so the report
    /// does not present them as a requirement this one was given.
    pub targets_of: Option<&'static str>,
}

/// The binary, the project and its head.
#[derive(Debug)]
pub struct Bench {
    /// Names and targets.
    pub spec: Spec,
    /// Counts of migrations and rounds.
    pub settings: Settings,
    /// `target/release/retort`.
    pub retort: PathBuf,
    /// `RETORT_BENCH_BASELINE`: another `retort` binary (typically built
    /// from an earlier commit) whose no-op upgrade is timed next to this
    /// one's; `None` when unset.
    pub baseline: Option<PathBuf>,
    /// The project: one line of [`body`] migrations.
    pub generated: Generated,
    /// Its one head.
    pub head: String,
}

impl Bench {
    /// Finds the release binary and writes the project into `project`, an
    /// existing directory.
    pub fn new(spec: Spec, settings: Settings, project: &Path) -> Result<Bench, String> {
        let retort = retort_binary(spec.name)?;
        let baseline = baseline_binary()?;
        let generated = generate_with(project, settings.revisions, Shape::Linear, body)
            .map_err(|e| format!("cannot write the project: {e}"))?;
        let head = generated.head()?;
        Ok(Bench {
            spec,
            settings,
            retort,
            baseline,
            generated,
            head,
        })
    }

    /// Migrations in the project.
    pub fn revisions(&self) -> usize {
        self.generated.revisions.len()
    }

    /// `retort -C <project> --url <url> <args>`.
    pub fn retort(&self, url: &str, args: &[&str]) -> Command {
        self.command(&self.retort, url, args)
    }

    /// `<binary> -C <project> --url <url> <args>`: [`Bench::retort`] with
    /// another binary, built the same way so that the baseline's figures
    /// differ from this one's by the binary alone.
    pub fn command(&self, binary: &Path, url: &str, args: &[&str]) -> Command {
        let mut command = Command::new(binary);
        command
            .arg("-C")
            .arg(&self.generated.root)
            .arg("--url")
            .arg(url)
            .args(args)
            // The configuration names no database; `--url` wins anyway, but
            // keep a stray DATABASE_URL out of the figures.
            .env_remove("DATABASE_URL");
        command
    }

    /// Writes the floor's script to `path`: `prelude`, then every upgrade
    /// section in its own `<begin>; ... COMMIT;`, in order; `begin` is how
    /// that database's shell opens a transaction (`BEGIN`, `START
    /// TRANSACTION`). A statement `dialect` cannot run in a transaction
    /// (MySQL's DDL, which commits implicitly) runs on its own, and the
    /// statements between such ones share a transaction, the commits retort
    /// makes: were the section wrapped whole, the DDL would end the
    /// transaction and every later `INSERT` would commit alone.
    pub fn write_floor_script(
        &self,
        path: &Path,
        prelude: &str,
        begin: &str,
        dialect: Dialect,
    ) -> Result<(), String> {
        let mut script = prelude.to_owned();
        for revision in &self.generated.revisions {
            let upgrade = body(revision).upgrade;
            let statements = split(&upgrade, dialect)
                .map_err(|e| format!("cannot split revision {}: {e}", revision.id))?;
            if !statements.iter().any(|s| s.no_transaction) {
                let _ = writeln!(script, "{begin};");
                script.push_str(&upgrade);
                script.push_str("COMMIT;\n");
                continue;
            }
            let mut open = false;
            for statement in &statements {
                if statement.no_transaction && open {
                    script.push_str("COMMIT;\n");
                    open = false;
                } else if !statement.no_transaction && !open {
                    let _ = writeln!(script, "{begin};");
                    open = true;
                }
                let _ = writeln!(script, "{};", statement.text);
            }
            if open {
                script.push_str("COMMIT;\n");
            }
        }
        fs::write(path, script).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
    }
}

/// The table a revision creates: `t0000`, `t0001`, ...
pub fn table(index: usize) -> String {
    format!("t{index:04}")
}

/// One migration: a six-column table with a foreign key to the previous
/// table's (the first has none), an index on that column, and [`ROWS`] rows
/// inserted one statement each, as hand-written seed data is; the downgrade
/// drops them. The upgrade is valid SQLite, PostgreSQL and MariaDB (which
/// enforces a column's `REFERENCES` since 10.5), so every benchmark runs
/// the same files; the downgrade, never run here, is not MariaDB's (its
/// `DROP INDEX` needs `ON <table>`).
pub fn body(revision: &Revision) -> Body {
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

/// How a benchmark makes and reaches its databases. Each is named by a key
/// the implementation chooses (a file path, a database name).
pub trait Database {
    /// Makes a new, empty database and returns its key; `label` says what
    /// it is for (`at-head`, `check-floor`, `fresh-3`, `floor-3`).
    fn create(&mut self, label: &str) -> Result<String, String>;
    /// retort's `--url` for the database.
    fn url(&self, key: &str) -> String;
    /// Drops the database; best effort, as it runs on the way out of errors
    /// too.
    fn remove(&mut self, key: &str);
    /// Runs before every timed fresh upgrade and floor run, so that neither
    /// pays for what the one before left behind.
    fn settle(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// The shell running the floor's script on the database; `None` when
    /// there is no shell.
    fn floor(&self, key: &str) -> Result<Option<Command>, String>;
    /// The shell reading the version row; `None` when there is no shell.
    fn read_version(&self, key: &str) -> Option<Command>;
    /// Runs `sql` with the shell on the database and returns what it printed:
    /// one line per row, columns separated by `|`.
    fn query(&self, key: &str, sql: &str) -> Result<String, String>;
}

/// A database server reached with its shell. [`Hosted`] makes it a
/// [`Database`]: it names, creates and drops the databases; the rest is as
/// [`Database`]'s methods of the same names, a database named by its name.
pub trait Server {
    /// Runs `sql` (`CREATE DATABASE`, `DROP DATABASE`) with the shell on the
    /// server's own database.
    fn admin(&self, sql: &str) -> Result<(), String>;
    /// See [`Database::url`].
    fn url(&self, name: &str) -> String;
    /// See [`Database::settle`].
    fn settle(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// See [`Database::floor`].
    fn floor(&self, name: &str) -> Result<Option<Command>, String>;
    /// See [`Database::read_version`].
    fn read_version(&self, name: &str) -> Option<Command>;
    /// See [`Database::query`].
    fn query(&self, name: &str, sql: &str) -> Result<String, String>;
}

/// The databases a benchmark makes on a [`Server`]: each new, named
/// `retort_bench_<pid>_<n>` so that concurrent runs never meet, and dropped
/// when done with or, on the way out of an error, when this is dropped.
#[derive(Debug)]
pub struct Hosted<S: Server> {
    /// The server.
    pub server: S,
    /// The benchmark's name, for warnings.
    bench: &'static str,
    /// The `<n>` of the next name.
    next: usize,
    /// Databases created and not dropped yet.
    live: Vec<String>,
}

impl<S: Server> Hosted<S> {
    /// No databases yet.
    pub fn new(spec: &Spec, server: S) -> Hosted<S> {
        Hosted {
            server,
            bench: spec.name,
            next: 0,
            live: Vec::new(),
        }
    }

    /// What the report shows for the databases' URL.
    pub fn url_pattern(&self) -> String {
        redact(&self.server.url("retort_bench_<pid>_<n>"))
    }
}

impl<S: Server> Database for Hosted<S> {
    fn create(&mut self, _label: &str) -> Result<String, String> {
        let name = format!("retort_bench_{}_{}", std::process::id(), self.next);
        self.next += 1;
        self.server
            .admin(&format!("CREATE DATABASE {name}"))
            .map_err(|e| format!("cannot create database {name}: {e}"))?;
        self.live.push(name.clone());
        Ok(name)
    }

    fn url(&self, key: &str) -> String {
        self.server.url(key)
    }

    fn remove(&mut self, key: &str) {
        // Every client of the database has exited by now, so a plain DROP
        // does not wait on anyone.
        match self.server.admin(&format!("DROP DATABASE IF EXISTS {key}")) {
            Ok(()) => self.live.retain(|name| name != key),
            Err(e) => eprintln!("{}: warning: database {key} is left over: {e}", self.bench),
        }
    }

    fn settle(&mut self) -> Result<(), String> {
        self.server.settle()
    }

    fn floor(&self, key: &str) -> Result<Option<Command>, String> {
        self.server.floor(key)
    }

    fn read_version(&self, key: &str) -> Option<Command> {
        self.server.read_version(key)
    }

    fn query(&self, key: &str, sql: &str) -> Result<String, String> {
        self.server.query(key, sql)
    }
}

impl<S: Server> Drop for Hosted<S> {
    fn drop(&mut self) {
        for name in std::mem::take(&mut self.live) {
            self.remove(&name);
        }
    }
}

/// The catalog queries that check a database, in its own SQL.
#[derive(Debug, Clone)]
pub struct Checks {
    /// Queries answering one number each, with the number expected (tables,
    /// indexes, foreign keys of the migrations).
    pub counts: Vec<(String, usize)>,
    /// Ends the content checks; prints nothing on a sound database.
    pub silent: String,
    /// The definitions of the migrations' objects, in a fixed order, to
    /// compare retort's database with the floor's.
    pub schema: String,
    /// One line: the `retort_version` rows joined by commas.
    pub versions: String,
}

/// Runs both sides once, untimed, and checks that they made the same
/// schema and rows and that retort's bookkeeping says head (this also warms
/// the page cache); then times the fresh upgrade against the floor and the
/// no-op cases.
pub fn check_and_measure(
    bench: &Bench,
    db: &mut dyn Database,
    checks: &Checks,
) -> Result<Figures, String> {
    let at_head = check(bench, db, checks)?;
    measure(bench, db, &at_head)
}

/// Applies the project to a new database with retort, checks what retort
/// says about it, then (with a shell) runs the floor on another and checks
/// that both hold the same schema and rows and that retort's bookkeeping
/// says head. Returns the key of retort's database, at head, for the no-op
/// cases.
fn check(bench: &Bench, db: &mut dyn Database, checks: &Checks) -> Result<String, String> {
    let n = bench.revisions();
    let head = &bench.head;
    let at_head = db.create("at-head")?;
    let url = db.url(&at_head);
    let retort_json = |args: &[&str], what: &str| -> Result<String, String> {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let (_, output) =
            timed(&mut bench.retort(&url, &all)).map_err(|e| format!("check: {what}: {e}"))?;
        Ok(compact(&output))
    };
    let upgrade = retort_json(&["upgrade"], "fresh upgrade")?;
    let steps = upgrade.matches("\"direction\":\"up\"").count();
    if steps != n || !upgrade.contains(&format!("\"heads\":[\"{head}\"]")) {
        return Err(format!(
            "check: fresh upgrade reported {steps} steps of {n}, or not head {head}: {upgrade:.300}"
        ));
    }
    let current = retort_json(&["current"], "current")?;
    if !current.contains(&format!("\"current\":[\"{head}\"]")) {
        return Err(format!(
            "check: `retort current` says {current}, not {head}"
        ));
    }
    let noop = retort_json(&["upgrade"], "no-op upgrade")?;
    if !noop.contains("\"steps\":[]") {
        return Err(format!(
            "check: the upgrade at head did something: {noop:.300}"
        ));
    }

    let floor_db = db.create("check-floor")?;
    let Some(mut floor) = db.floor(&floor_db)? else {
        db.remove(&floor_db);
        println!(
            "check: retort applied {n} migrations and reports head; \
             schema not inspected (no {} on PATH)",
            bench.spec.shell
        );
        return Ok(at_head);
    };
    timed(&mut floor).map_err(|e| format!("check: floor: {e}"))?;
    let (content, expected) = content_checks(n, checks);
    for (what, key) in [("retort", &at_head), ("floor", &floor_db)] {
        let got = db.query(key, &content)?;
        if got != expected {
            let line = got
                .lines()
                .zip(expected.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| got.lines().count().min(expected.lines().count()));
            return Err(format!(
                "check: the {what} database is wrong: line {} of the answers to \
                 (catalog counts, rows per table, joined rows, problems found) \
                 is {:?}, expected {:?}",
                line + 1,
                got.lines().nth(line).unwrap_or("<none>"),
                expected.lines().nth(line).unwrap_or("<none>"),
            ));
        }
    }
    let ours = db.query(&at_head, &checks.schema)?;
    let floors = db.query(&floor_db, &checks.schema)?;
    if let Some((a, b)) = ours.lines().zip(floors.lines()).find(|(a, b)| a != b) {
        return Err(format!(
            "check: retort and the floor created different schemas: {a:?} against {b:?}"
        ));
    }
    if ours.lines().count() != floors.lines().count() {
        return Err("check: retort and the floor created different schemas".to_owned());
    }
    // The journal is empty after a complete run, whether or not the
    // migrations committed in parts.
    let bookkeeping = db.query(
        &at_head,
        &format!(
            "SELECT count(*) FROM retort_applied WHERE operation = 'upgrade';\n{}\n\
             SELECT count(*) FROM retort_journal;\n",
            checks.versions
        ),
    )?;
    if bookkeeping != format!("{n}\n{head}\n0\n") {
        return Err(format!(
            "check: retort_applied rows, version rows and journal rows are \
             {bookkeeping:?}, expected {n}, {head} and 0"
        ));
    }
    db.remove(&floor_db);
    println!(
        "check: retort and the floor both created {n} tables, {n} indexes and {} rows \
         with identical schemas; retort recorded {n} applied rows and head {head}, \
         and its journal is empty",
        n * ROWS
    );
    Ok(at_head)
}

/// The content checks and their expected answers, one per line: the
/// catalog counts, every table's row count (one query each: one expression
/// over 1,000 tables would pass SQLite's expression depth limit), the rows
/// of the last table that join their parent rows, then `checks.silent`.
fn content_checks(n: usize, checks: &Checks) -> (String, String) {
    let mut sql = String::new();
    let mut expected = String::new();
    for (query, count) in &checks.counts {
        let _ = writeln!(sql, "{query}");
        let _ = writeln!(expected, "{count}");
    }
    for i in 0..n {
        let _ = writeln!(sql, "SELECT count(*) FROM {};", table(i));
        let _ = writeln!(expected, "{ROWS}");
    }
    if n > 1 {
        let _ = writeln!(
            sql,
            "SELECT count(*) FROM {} c JOIN {} p ON p.id = c.prev_id;",
            table(n - 1),
            table(n - 2)
        );
        let _ = writeln!(expected, "{ROWS}");
    }
    let _ = writeln!(sql, "{}", checks.silent);
    (sql, expected)
}

/// The timings of one run.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    /// The shell running the floor's script; `None` without a shell.
    pub floor: Option<Stats>,
    /// `retort upgrade` on a new database.
    pub fresh: Stats,
    /// `retort upgrade` at head.
    pub noop: Stats,
    /// The baseline binary's `retort upgrade` at head; `None` without
    /// `RETORT_BENCH_BASELINE`.
    pub baseline: Option<Stats>,
    /// `retort heads`: process start and project load.
    pub heads: Stats,
    /// `retort --version`: process start.
    pub start: Stats,
    /// The shell reading the version row; `None` without a shell.
    pub read: Option<Stats>,
    /// `wc -l` reading every revision file: what opening and reading them
    /// costs on this machine; `None` without `wc`.
    pub files: Option<Stats>,
}

/// Times the fresh upgrade against the floor, each round on new databases,
/// then the no-op upgrade of `at_head` with the context cases.
fn measure(bench: &Bench, db: &mut dyn Database, at_head: &str) -> Result<Figures, String> {
    let settings = bench.settings;
    let mut floor_times = Vec::new();
    let mut fresh_times = Vec::new();
    for round in 0..settings.fresh_rounds {
        let ours = db.create(&format!("fresh-{round}"))?;
        let floors = db.create(&format!("floor-{round}"))?;
        // The order alternates so neither side always follows the other's
        // writes.
        for side in [round % 2, 1 - round % 2] {
            db.settle()?;
            if side == 0 {
                let (time, _) = timed(&mut bench.retort(&db.url(&ours), &["upgrade"]))
                    .map_err(|e| format!("fresh retort upgrade: {e}"))?;
                fresh_times.push(time);
            } else if let Some(mut floor) = db.floor(&floors)? {
                let (time, _) =
                    timed(&mut floor).map_err(|e| format!("floor ({}): {e}", bench.spec.shell))?;
                floor_times.push(time);
            }
        }
        db.remove(&ours);
        db.remove(&floors);
    }

    // Rounds go through every no-op case in turn, so a slow patch of the
    // machine affects all alike.
    let url = db.url(at_head);
    let mut noop_times = Vec::new();
    let mut baseline_times = Vec::new();
    let mut heads_times = Vec::new();
    let mut start_times = Vec::new();
    let mut read_times = Vec::new();
    let mut files_times = Vec::new();
    let paths = fs::read_dir(&bench.generated.migrations)
        .and_then(|dir| {
            dir.map(|e| e.map(|e| e.path()))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| format!("cannot list the revision files: {e}"))?;
    let has_wc = find_on_path("wc").is_some();
    for round in 0..settings.noop_warm_up + settings.noop_rounds {
        let (noop, _) = timed(&mut bench.retort(&url, &["upgrade"]))
            .map_err(|e| format!("no-op retort upgrade: {e}"))?;
        // Right after this binary's, on the same database, so both meet the
        // machine in the same state.
        let baseline = match &bench.baseline {
            Some(binary) => Some(
                timed(&mut bench.command(binary, &url, &["upgrade"]))
                    .map_err(|e| format!("no-op upgrade of the baseline binary: {e}"))?
                    .0,
            ),
            None => None,
        };
        let (heads, _) =
            timed(&mut bench.retort(&url, &["heads"])).map_err(|e| format!("retort heads: {e}"))?;
        let (start, _) = timed(Command::new(&bench.retort).arg("--version"))
            .map_err(|e| format!("retort --version: {e}"))?;
        let read = match db.read_version(at_head) {
            Some(mut command) => Some(
                timed(&mut command)
                    .map_err(|e| format!("{} reading the version row: {e}", bench.spec.shell))?
                    .0,
            ),
            None => None,
        };
        let files = if has_wc {
            Some(
                timed(Command::new("wc").arg("-l").args(&paths))
                    .map_err(|e| format!("wc -l of the revision files: {e}"))?
                    .0,
            )
        } else {
            None
        };
        if round >= settings.noop_warm_up {
            noop_times.push(noop);
            baseline_times.extend(baseline);
            heads_times.push(heads);
            start_times.push(start);
            read_times.extend(read);
            files_times.extend(files);
        }
    }
    Ok(Figures {
        floor: (!floor_times.is_empty()).then(|| Stats::of(&mut floor_times)),
        fresh: Stats::of(&mut fresh_times),
        noop: Stats::of(&mut noop_times),
        baseline: (!baseline_times.is_empty()).then(|| Stats::of(&mut baseline_times)),
        heads: Stats::of(&mut heads_times),
        start: Stats::of(&mut start_times),
        read: (!read_times.is_empty()).then(|| Stats::of(&mut read_times)),
        files: (!files_times.is_empty()).then(|| Stats::of(&mut files_times)),
    })
}

fn ratio(value: Duration, base: Duration) -> f64 {
    value.as_secs_f64() / base.as_secs_f64()
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

/// Prints the report: the workload, `lines` (what the benchmark says of its
/// floor and databases), the rounds, the table and the target lines.
pub fn report(bench: &Bench, lines: &[String], figures: &Figures) {
    let Bench { spec, settings, .. } = bench;
    let shell = spec.shell;
    let n = bench.revisions();
    println!(
        "{}: {n} migrations (a 6-column table with a foreign key to the previous \
         one, an index and {ROWS} single-row INSERTs each; {} KiB of revision files){}",
        spec.name,
        bench.generated.bytes / 1024,
        if settings.quick { ", quick run" } else { "" },
    );
    println!("retort: {}", bench.retort.display());
    if let Some(baseline) = &bench.baseline {
        println!("baseline: {}", baseline.display());
    }
    for line in lines {
        println!("{line}");
    }
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
            format!("floor: {shell}, {}", spec.floor_case),
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
    let context = [
        (
            "retort upgrade, no-op at head".to_owned(),
            Some(figures.noop),
        ),
        (
            "(context) baseline binary: no-op upgrade".to_owned(),
            figures.baseline,
        ),
        (
            "(context) retort heads: load project".to_owned(),
            Some(figures.heads),
        ),
        (
            "(context) retort --version: start".to_owned(),
            Some(figures.start),
        ),
        (
            format!("(context) {shell}: read the version row"),
            figures.read,
        ),
        (
            "(context) wc -l: read every revision file".to_owned(),
            figures.files,
        ),
    ];
    for (name, stats) in context {
        if let Some(stats) = stats {
            rows.push((name, stats, "-".to_owned()));
        }
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
    // A ratio in the table's "vs floor" column would widen it for every
    // run; the comparison gets its own line instead.
    if let Some(baseline) = figures.baseline {
        println!(
            "no-op vs baseline binary (medians): {:.2} ms against {:.2} ms, {:.2}x",
            millis(figures.noop.median),
            millis(baseline.median),
            ratio(figures.noop.median, baseline.median),
        );
    }
    println!();

    let at_target = n == TARGET_REVISIONS;
    // Verdicts against another database's targets say so on every line: a
    // reader skimming for PASS/FAIL must not take them for this one's own.
    let target = match spec.targets_of {
        None => "target".to_owned(),
        Some(other) => format!("reference ({other} target, applied for comparison)"),
    };
    match figures.floor {
        Some(floor) if at_target => {
            let r = ratio(figures.fresh.median, floor.median);
            println!(
                "{target}: fresh upgrade <= {TARGET_RATIO}x the floor (medians, \
                 {TARGET_REVISIONS} migrations): {} ({r:.2}x)",
                verdict(r <= TARGET_RATIO)
            );
        }
        Some(_) => println!(
            "{target}: fresh upgrade <= {TARGET_RATIO}x the floor applies to \
             {TARGET_REVISIONS} migrations; not checked"
        ),
        None => {
            println!("{target}: fresh upgrade <= {TARGET_RATIO}x the floor: not checked (no floor)")
        }
    }
    let noop_target = spec.noop_target.as_millis();
    if at_target {
        println!(
            "{target}: no-op upgrade < {noop_target} ms (median, {TARGET_REVISIONS} revisions): \
             {} ({:.2} ms)",
            verdict(figures.noop.median < spec.noop_target),
            millis(figures.noop.median),
        );
        if let Some(read) = figures.read {
            println!(
                "        (the {shell} shell alone takes {:.2} ms to open this database and read \
                 one row)",
                millis(read.median)
            );
        }
        if let Some(files) = figures.files {
            println!(
                "        (`wc -l` alone takes {:.2} ms to open and read the {n} revision files)",
                millis(files.median)
            );
        }
    } else {
        println!(
            "{target}: no-op upgrade < {noop_target} ms applies to {TARGET_REVISIONS} revisions; \
             not checked"
        );
    }
}

/// The binary `RETORT_BENCH_BINARY` names, else [`retort_binary`]'s.
pub fn binary_under_test(bench: &str) -> Result<PathBuf, String> {
    match std::env::var_os("RETORT_BENCH_BINARY").filter(|v| !v.is_empty()) {
        Some(path) => Ok(PathBuf::from(path)),
        None => retort_binary(bench),
    }
}

/// `target/release/retort`, or an error saying how to build it; warns
/// (prefixed with `bench`) when a source file is newer than the binary.
pub fn retort_binary(bench: &str) -> Result<PathBuf, String> {
    let binary = crate::target_dir().join("release").join("retort");
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
            "{bench}: warning: `{}` is older than `{}`; \
             run `cargo build --release -p retort-cli` to measure the current code",
            binary.display(),
            newer.display()
        );
    }
    Ok(binary)
}

/// `RETORT_BENCH_BASELINE`, made absolute (the commands run it by path,
/// never from `PATH`), or `None` when it is unset or empty; an error when
/// it names no file.
fn baseline_binary() -> Result<Option<PathBuf>, String> {
    let Some(value) = env::var_os("RETORT_BENCH_BASELINE").filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let binary = PathBuf::from(value);
    if !binary.is_file() {
        return Err(format!(
            "RETORT_BENCH_BASELINE: `{}` not found: set it to another retort binary, \
             e.g. one built from an earlier commit",
            binary.display()
        ));
    }
    Ok(Some(fs::canonicalize(&binary).unwrap_or(binary)))
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

/// The project and the floor's script of a benchmark whose databases live
/// on a server, in a new temporary directory that goes when this does.
#[derive(Debug)]
pub struct Scratch {
    /// The directory; the benchmark may put its own files there.
    pub dir: tempfile::TempDir,
    /// The binary and the project, in `<dir>/project`.
    pub bench: Bench,
    /// The floor's script, `<dir>/floor.sql` (see
    /// [`Bench::write_floor_script`], no prelude).
    pub script: PathBuf,
}

impl Scratch {
    /// Writes the project and the floor's script.
    pub fn new(
        spec: Spec,
        settings: Settings,
        begin: &str,
        dialect: Dialect,
    ) -> Result<Scratch, String> {
        let dir =
            tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let project = dir.path().join("project");
        fs::create_dir(&project)
            .map_err(|e| format!("cannot create `{}`: {e}", project.display()))?;
        let bench = Bench::new(spec, settings, &project)?;
        let script = dir.path().join("floor.sql");
        bench.write_floor_script(&script, "", begin, dialect)?;
        Ok(Scratch { dir, bench, script })
    }
}

/// Says that the benchmark did not run, and why; the result is success, as
/// a machine without the database is no failure of retort's.
pub fn skipped(spec: &Spec, reason: &str) -> Result<(), String> {
    println!("{}: SKIPPED: {reason}", spec.name);
    Ok(())
}

/// [`skipped`] because the `server` (its product name) at `url`, from the
/// environment variable `var` or its default, answered `error`.
pub fn skipped_server(
    spec: &Spec,
    server: &str,
    url: &str,
    var: &str,
    error: &str,
) -> Result<(), String> {
    skipped(
        spec,
        &format!(
            "cannot use the {server} server at {} ({}); set {var} to measure one",
            redact(url),
            error.split_whitespace().collect::<Vec<_>>().join(" "),
        ),
    )
}

/// What a shell printed for a probe of its server: stdout when it
/// succeeded, or what it said on stderr when it did not (the reason a
/// benchmark gives for skipping); both trimmed.
pub fn answer(command: &mut Command) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim().to_owned();
    if output.status.success() {
        Ok(text(&output.stdout))
    } else {
        Err(text(&output.stderr))
    }
}

/// The size of the file at `path` in KiB, for the report; 0 when unknown.
pub fn kib(path: &Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len()) / 1024
}

/// The file `name` in a directory of `PATH`, if any.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// Runs a command to completion (output captured, as a log collector would)
/// and times it, process start included; an error when it fails.
pub fn timed(command: &mut Command) -> Result<(Duration, Output), String> {
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

/// `url` (a `scheme://user@host/database?params` URL) naming database
/// `name` instead of its own, its parameters kept, and `default` (a
/// `key=value` parameter) added when none of its parameters is named one of
/// `keys`.
pub fn with_database(url: &str, name: &str, keys: &[&str], default: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let named = |p: &&str| keys.contains(&p.split_once('=').map_or(*p, |(key, _)| key));
    if !params.iter().any(named) {
        params.push(default);
    }
    format!("{}/{name}?{}", &base[..path], params.join("&"))
}

/// `url` with its password, if any, shown as `***`.
pub fn redact(url: &str) -> String {
    let authority = url.find("://").map_or(0, |i| i + 3);
    let end = url[authority..]
        .find(['/', '?'])
        .map_or(url.len(), |i| authority + i);
    let Some(at) = url[authority..end].rfind('@').map(|i| authority + i) else {
        return url.to_owned();
    };
    match url[authority..at].find(':') {
        Some(colon) => format!("{}:***{}", &url[..authority + colon], &url[at..]),
        None => url.to_owned(),
    }
}
