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
//!
//! The rounds, checks and report are shared with the other database
//! benchmarks (`retort_benches::upgrade`); this file says how to make, run
//! and query SQLite files.

// This binary's output is its result: it prints the table to stdout, which
// the workspace lints warn about for library code.
#![allow(clippy::print_stdout)]

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use retort::Dialect;
use retort_benches::upgrade::{self, Bench, Checks, Database, Settings, Spec, find_on_path, timed};

const SPEC: Spec = Spec {
    name: "sqlite_upgrade",
    shell: "sqlite3",
    floor_case: "one commit per migration",
    noop_target: Duration::from_millis(15),
    targets_of: None,
};

fn main() -> ExitCode {
    retort_benches::exit(SPEC.name, run())
}

/// SQLite files in one directory, and the `sqlite3` shell if there is one.
struct Files {
    dir: PathBuf,
    /// `None` when there is no `sqlite3` on `PATH`: the floor is skipped.
    sqlite3: Option<PathBuf>,
    /// Every migration's upgrade SQL in `BEGIN; ...; COMMIT;`, for the floor.
    script: PathBuf,
}

impl Database for Files {
    /// `<dir>/<label>.db`, which retort and `sqlite3` create on first use.
    fn create(&mut self, label: &str) -> Result<String, String> {
        let path = self.dir.join(format!("{label}.db"));
        remove_db(&path);
        Ok(path.display().to_string())
    }

    /// `sqlite:////abs/path` (four slashes: an absolute path).
    fn url(&self, key: &str) -> String {
        format!("sqlite:///{key}")
    }

    fn remove(&mut self, key: &str) {
        remove_db(Path::new(key));
    }

    /// `sqlite3 -bail <db> < script.sql`.
    fn floor(&self, key: &str) -> Result<Option<Command>, String> {
        let Some(sqlite3) = &self.sqlite3 else {
            return Ok(None);
        };
        let script = File::open(&self.script)
            .map_err(|e| format!("cannot open `{}`: {e}", self.script.display()))?;
        let mut command = Command::new(sqlite3);
        command.arg("-bail").arg(key).stdin(script);
        Ok(Some(command))
    }

    /// Opening the file makes SQLite parse the whole schema first: the
    /// least any client can do with this database.
    fn read_version(&self, key: &str) -> Option<Command> {
        let mut command = Command::new(self.sqlite3.as_ref()?);
        command
            .arg("-bail")
            .arg(key)
            .arg("SELECT version_num FROM retort_version;");
        Some(command)
    }

    fn query(&self, key: &str, sql: &str) -> Result<String, String> {
        let sqlite3 = self.sqlite3.as_ref().ok_or("no sqlite3 on PATH")?;
        let checks = self.dir.join("check.sql");
        fs::write(&checks, sql).map_err(|e| format!("cannot write `{}`: {e}", checks.display()))?;
        let stdin =
            File::open(&checks).map_err(|e| format!("cannot open `{}`: {e}", checks.display()))?;
        let (_, output) = timed(Command::new(sqlite3).arg("-bail").arg(key).stdin(stdin))
            .map_err(|e| format!("check: sqlite3: {e}"))?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

fn run() -> Result<(), String> {
    let settings = Settings::from_env()?;
    // RETORT_BENCH_DIR chooses the file system (the fresh figures are mostly
    // its fsyncs) and keeps the files for profiling.
    let (dir, keep) = retort_benches::bench_dir("sqlite_upgrade")?;
    let project = dir.path().join("project");
    let dbs = dir.path().join("db");
    for d in [&project, &dbs] {
        fs::create_dir(d).map_err(|e| format!("cannot create `{}`: {e}", d.display()))?;
    }
    let bench = Bench::new(SPEC, settings, &project)?;
    let script = dir.path().join("floor.sql");
    // The `sqlite3` shell does not enforce foreign keys by default, retort's
    // bundled SQLite does (`SQLITE_DEFAULT_FOREIGN_KEYS=1`), so the script
    // turns them on to do the same work. Journal mode and `synchronous` stay
    // at SQLite's defaults on both sides (retort sets no PRAGMA).
    bench.write_floor_script(
        &script,
        "PRAGMA foreign_keys = ON;\n",
        "BEGIN",
        Dialect::Sqlite,
    )?;
    let mut files = Files {
        dir: dbs,
        sqlite3: find_on_path("sqlite3"),
        script,
    };

    let n = bench.revisions();
    let checks = Checks {
        counts: vec![
            (
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' \
                 AND name GLOB 't[0-9]*';"
                    .to_owned(),
                n,
            ),
            (
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' \
                 AND name GLOB 'ix_t*';"
                    .to_owned(),
                n,
            ),
        ],
        // Prints nothing when no row breaks a foreign key.
        silent: "PRAGMA foreign_key_check;".to_owned(),
        // User objects only: the floor has no retort tables.
        schema: "SELECT type, name, tbl_name, sql FROM sqlite_master \
                 WHERE tbl_name NOT LIKE 'retort%' ORDER BY name;"
            .to_owned(),
        versions: "SELECT group_concat(version_num) FROM retort_version;".to_owned(),
    };
    // Both ways give the same schema and data, and retort's bookkeeping
    // says head, before anything is timed.
    let figures = upgrade::check_and_measure(&bench, &mut files, &checks)?;

    if keep {
        let kept = dir.keep();
        println!(
            "kept (RETORT_BENCH_DIR): project in {}, at-head database {}",
            kept.join("project").display(),
            kept.join("db").join("at-head.db").display()
        );
    }
    let floor = match &files.sqlite3 {
        Some(path) => format!(
            "floor: {} -bail <new.db> < script ({} KiB: PRAGMA foreign_keys = ON, then \
             BEGIN; <upgrade SQL>; COMMIT; per migration)",
            path.display(),
            upgrade::kib(&files.script),
        ),
        None => "floor: SKIPPED: no `sqlite3` on PATH (install the sqlite3 command-line shell \
                 to measure it)"
            .to_owned(),
    };
    let databases = format!(
        "databases in {} ({}; new files each fresh round); SQLite's defaults on both sides \
         (neither sets a PRAGMA but the floor's foreign_keys): journal_mode=DELETE, \
         synchronous=FULL",
        files.dir.display(),
        file_system(&files.dir).unwrap_or_else(|| "file system unknown".to_owned()),
    );
    upgrade::report(&bench, &[floor, databases], &figures);
    Ok(())
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

fn remove_db(db: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        let _ = fs::remove_file(PathBuf::from(path));
    }
}
