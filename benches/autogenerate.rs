//! `retort revision --autogenerate` on a 1,000-table SQLite project against
//! Alembic's `alembic revision --autogenerate` on the same database, in one
//! run: whole processes, start included, as a developer runs them.
//!
//! ```text
//! cargo build --release -p retort-cli
//! cargo bench -p retort-benches --bench autogenerate
//! ```
//!
//! The project's migrations create the tables of `retort_benches::schema`
//! (10 per revision file); `schema.sql` declares them edited on 3% of the
//! tables, plus a few tables added and dropped. The release `retort`
//! applies the migrations to a SQLite file. The Alembic project beside it
//! declares the same edited tables as SQLAlchemy `Table`s (`models.py`) and
//! reads the same file: its version table is retort's (the two have the
//! same shape), and its one, empty revision has the id of retort's head,
//! so Alembic finds the database at its head with nothing to stamp.
//!
//! Alembic is `RETORT_BENCH_ALEMBIC`, by default
//! `target/alembic-venv/bin/alembic` (where `.ci/run` installs it); without
//! it the comparison is skipped, says why, and retort is still timed.
//!
//! Environment: `RETORT_BENCH_QUICK=1` for a smoke run (100 tables, 2
//! timed rounds); `RETORT_BENCH_TABLES=N` to choose the table count;
//! `RETORT_BENCH_DIR=DIR` to put the projects and the database in a new
//! directory under `DIR`, kept afterwards for profiling. Every run's
//! detected changes are counted and checked against the edits made, for
//! each tool, so the comparison is like for like. Exits non-zero when a
//! command fails or detects other changes, never because a figure is slow.

// This binary's output is its result: it prints the table to stdout, which
// the workspace lints warn about for library code.
#![allow(clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};
use std::time::Duration;

use retort_benches::schema::{Design, Edit, design, edit, table_sql};
use retort_benches::upgrade::{answer, kib, retort_binary, timed};
use retort_benches::{
    Body, Shape, Stats, generate_with, load_average_line, millis, quick, table_count, target_dir,
};

const NAME: &str = "autogenerate";
/// The table count the target is set for.
const TARGET_TABLES: usize = 1_000;
/// Alembic's median over retort's must be at least this.
const TARGET_SPEEDUP: f64 = 10.0;
const TABLES_PER_REVISION: usize = 10;
const RETORT_CASE: &str = "retort revision --autogenerate";
const FROM_DB_CASE: &str = "retort revision --autogenerate --from-db";
const ALEMBIC_CASE: &str = "alembic revision --autogenerate";
const ROUNDS: usize = 7;
const QUICK_TABLES: usize = 100;
const QUICK_ROUNDS: usize = 2;

/// What a tool detected, by kind ("added column": 12).
type Counts = BTreeMap<String, usize>;

fn main() -> ExitCode {
    retort_benches::exit(NAME, run())
}

/// One command timed in the rounds.
struct Case {
    name: &'static str,
    command: Box<dyn Fn() -> Command>,
    /// For the commands that write a revision: where, and what they must
    /// detect.
    writes: Option<Writes>,
    times: Vec<Duration>,
}

struct Writes {
    /// The directory the revision file goes to; the file is deleted after
    /// each run, so that every run compares the same two schemas.
    dir: PathBuf,
    /// Its files before any run.
    before: BTreeSet<PathBuf>,
    /// Reads what the tool printed it detected.
    detected: fn(&Output) -> Counts,
    expected: Counts,
}

fn run() -> Result<(), String> {
    let quick = quick();
    let tables = table_count(TARGET_TABLES, QUICK_TABLES)?;
    let rounds = if quick { QUICK_ROUNDS } else { ROUNDS };
    let retort = retort_binary(NAME)?;
    let (dir, keep) = retort_benches::bench_dir(NAME)?;
    let base = design(tables, false);
    let (wanted, edits) = edit(&base);

    let project = dir.path().join("project");
    let head = write_project(&project, &base, &wanted)?;
    let database = dir.path().join("app.db");
    let url = format!("sqlite:///{}", database.display());
    let retort_command = {
        let (retort, project, url) = (retort.clone(), project.clone(), url.clone());
        move |args: &[&str]| {
            let mut command = Command::new(&retort);
            command
                .arg("-C")
                .arg(&project)
                .arg("--url")
                .arg(&url)
                .args(args)
                .env_remove("DATABASE_URL");
            command
        }
    };
    timed(&mut retort_command(&["upgrade"]))?;

    let (retort_expected, alembic_expected) = expected(&base, &wanted, &edits);
    let migrations = project.join("migrations");
    let mut cases = Vec::new();
    for (name, args) in [
        (RETORT_CASE, &["revision", "--autogenerate", "-m", "x"][..]),
        (
            FROM_DB_CASE,
            &["revision", "--autogenerate", "--from-db", "-m", "x"][..],
        ),
    ] {
        let command = retort_command.clone();
        cases.push(Case {
            name,
            command: Box::new(move || command(args)),
            writes: Some(Writes::new(&migrations, retort_detected, &retort_expected)?),
            times: Vec::new(),
        });
    }
    cases.push(Case {
        name: "(context) retort heads: start, load project",
        command: Box::new(move || retort_command(&["heads"])),
        writes: None,
        times: Vec::new(),
    });

    // Without Alembic, retort is still timed; the report says why the
    // comparison is missing.
    let alembic = alembic();
    if let Ok(alembic) = &alembic {
        let root = dir.path().join("alembic");
        write_alembic(&root, &wanted, &url, &head)?;
        let versions = root.join("migrations").join("versions");
        let program = alembic.program.clone();
        cases.insert(
            0,
            Case {
                name: ALEMBIC_CASE,
                command: Box::new(move || {
                    let mut command = Command::new(&program);
                    command.current_dir(&root).args(["-c", "alembic.ini"]);
                    command.args(["revision", "--autogenerate", "-m", "x"]);
                    command
                }),
                writes: Some(Writes::new(&versions, alembic_detected, &alembic_expected)?),
                times: Vec::new(),
            },
        );
        let python = alembic.python.clone();
        cases.push(Case {
            name: "(context) Alembic's Python: start, import alembic + SQLAlchemy",
            command: Box::new(move || {
                let mut command = Command::new(&python);
                command.args(["-c", "import alembic.command, sqlalchemy"]);
                command
            }),
            writes: None,
            times: Vec::new(),
        });
    }

    // The check run, untimed: it also compiles the Python modules once,
    // as a developer's earlier runs would have.
    let mut ops = BTreeMap::new();
    for case in &cases {
        if let (_, Some(text)) = case.run()? {
            ops.insert(case.name, upgrade_ops(&text));
        }
    }
    // Interleaved, the first tool changing every round, so that a slow
    // patch of the machine affects all alike.
    for round in 0..rounds {
        for k in 0..cases.len() {
            let at = (round + k) % cases.len();
            let case = &mut cases[at];
            let (elapsed, _) = case.run()?;
            case.times.push(elapsed);
        }
    }

    if keep {
        println!(
            "kept (RETORT_BENCH_DIR): retort project {}, Alembic project {}",
            project.display(),
            dir.keep().join("alembic").display()
        );
    }
    report(&Report {
        tables,
        quick,
        rounds,
        base: &base,
        wanted: &wanted,
        edits: &edits,
        retort_expected: &retort_expected,
        alembic_expected: &alembic_expected,
        database: &database,
        alembic: &alembic,
        alembic_ops: ops.get(ALEMBIC_CASE).copied(),
        cases: &cases,
    });
    Ok(())
}

impl Writes {
    fn new(
        dir: &Path,
        detected: fn(&Output) -> Counts,
        expected: &Counts,
    ) -> Result<Writes, String> {
        Ok(Writes {
            dir: dir.to_path_buf(),
            before: files(dir)?,
            detected,
            expected: expected.clone(),
        })
    }

    /// Checks what the run detected and wrote, deletes the file, and
    /// returns its text.
    fn check(&self, name: &str, output: &Output) -> Result<String, String> {
        let detected = (self.detected)(output);
        if detected != self.expected {
            return Err(format!(
                "{name} detected {detected:?}, expected {:?}; its output:\n{}",
                self.expected,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let new: Vec<PathBuf> = files(&self.dir)?
            .difference(&self.before)
            .cloned()
            .collect();
        let [file] = &new[..] else {
            return Err(format!(
                "{name} wrote {} files, not one: {new:?}",
                new.len()
            ));
        };
        let text = fs::read_to_string(file)
            .map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
        fs::remove_file(file).map_err(|e| format!("cannot delete `{}`: {e}", file.display()))?;
        // Python compiled the revision it wrote; the next run must not find
        // it either.
        if let Some(stem) = file.file_stem().and_then(|s| s.to_str()) {
            let cache = self.dir.join("__pycache__");
            for compiled in files(&cache).unwrap_or_default() {
                let name = compiled.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.starts_with(&format!("{stem}.")) {
                    let _ = fs::remove_file(&compiled);
                }
            }
        }
        Ok(text)
    }
}

impl Case {
    /// Runs the command once; for a command that writes a revision, checks
    /// it and returns the revision's text.
    fn run(&self) -> Result<(Duration, Option<String>), String> {
        let (elapsed, output) = timed(&mut (self.command)())?;
        let text = match &self.writes {
            Some(writes) => Some(writes.check(self.name, &output)?),
            None => None,
        };
        Ok((elapsed, text))
    }
}

/// The `op.` calls in the upgrade of a revision Alembic wrote.
fn upgrade_ops(text: &str) -> usize {
    let upgrade = text.split("def downgrade").next().unwrap_or("");
    upgrade
        .lines()
        .filter(|line| line.trim_start().starts_with("op."))
        .count()
}

fn files(dir: &Path) -> Result<BTreeSet<PathBuf>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list `{}`: {e}", dir.display()))?;
    Ok(entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect())
}

/// Writes the retort project: `retort.toml`, the migrations creating
/// `base` ([`TABLES_PER_REVISION`] tables each) and `schema.sql` declaring
/// `wanted`. Returns the head revision's id.
fn write_project(dir: &Path, base: &Design, wanted: &Design) -> Result<String, String> {
    fs::create_dir(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let revisions = base.tables.len().div_ceil(TABLES_PER_REVISION);
    let generated = generate_with(dir, revisions, Shape::Linear, |revision| {
        let start = revision.index * TABLES_PER_REVISION;
        let tables = &base.tables[start..(start + TABLES_PER_REVISION).min(base.tables.len())];
        let mut upgrade = String::new();
        for statement in tables.iter().flat_map(table_sql) {
            upgrade.push_str(&statement);
            upgrade.push_str(";\n");
        }
        upgrade.push('\n');
        let downgrade = tables
            .iter()
            .rev()
            .map(|t| format!("DROP TABLE {};\n", t.name))
            .collect();
        Body {
            upgrade,
            downgrade: Some(downgrade),
        }
    })
    .map_err(|e| format!("cannot write the project: {e}"))?;
    let mut schema = String::from("-- The schema the application expects.\n\n");
    for statement in wanted.sqlite_statements() {
        schema.push_str(&statement);
        schema.push_str(";\n\n");
    }
    let path = dir.join("schema.sql");
    fs::write(&path, schema).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    generated
        .heads()
        .first()
        .map(|h| (*h).to_owned())
        .ok_or_else(|| "the generated project has no head".to_owned())
}

/// The Alembic program, the Python it runs on, and what `--version` says.
struct Alembic {
    program: PathBuf,
    python: PathBuf,
    versions: String,
}

/// `RETORT_BENCH_ALEMBIC`, or `target/alembic-venv/bin/alembic`; the reason
/// when it cannot be run.
fn alembic() -> Result<Alembic, String> {
    let program = std::env::var_os("RETORT_BENCH_ALEMBIC")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || {
                target_dir()
                    .join("alembic-venv")
                    .join("bin")
                    .join("alembic")
            },
            PathBuf::from,
        );
    if !program.is_file() {
        return Err(format!(
            "`{}` not found; set RETORT_BENCH_ALEMBIC to an `alembic` program \
             (`.ci/run` installs one in target/alembic-venv)",
            program.display()
        ));
    }
    // The interpreter the script names, so that the import timed as context
    // is the one Alembic pays.
    let shebang = fs::read_to_string(&program).unwrap_or_default();
    let python = shebang
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("#!"))
        .map(|line| PathBuf::from(line.trim()))
        .filter(|p| p.is_file())
        .ok_or_else(|| format!("`{}` names no Python interpreter", program.display()))?;
    let versions = answer(Command::new(&python).args([
        "-c",
        "import alembic, sqlalchemy; print(f'Alembic {alembic.__version__}, SQLAlchemy {sqlalchemy.__version__}')",
    ]))
    .map_err(|e| format!("`{}` cannot import alembic: {e}", python.display()))?;
    Ok(Alembic {
        program,
        python,
        versions,
    })
}

/// Writes the Alembic project into `root`: `alembic.ini` (logging at INFO
/// on stderr, as `alembic init` sets it), `models.py` declaring `wanted`,
/// and `migrations/` with `env.py`, the revision template and one empty
/// revision whose id is `head`.
fn write_alembic(root: &Path, wanted: &Design, url: &str, head: &str) -> Result<(), String> {
    let versions = root.join("migrations").join("versions");
    fs::create_dir_all(&versions)
        .map_err(|e| format!("cannot create `{}`: {e}", versions.display()))?;
    let files = [
        (root.join("alembic.ini"), ALEMBIC_INI.replace("{url}", url)),
        (root.join("models.py"), wanted.sqlalchemy()),
        (root.join("migrations").join("env.py"), ENV_PY.to_owned()),
        (
            root.join("migrations").join("script.py.mako"),
            SCRIPT_MAKO.to_owned(),
        ),
        (
            versions.join(format!("{head}_base.py")),
            BASE_REVISION.replace("{head}", head),
        ),
    ];
    for (path, text) in files {
        fs::write(&path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    Ok(())
}

const ALEMBIC_INI: &str = "\
[alembic]
script_location = %(here)s/migrations
sqlalchemy.url = {url}

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
";

/// The usual online `env.py`, reading retort's version table and leaving
/// retort's state tables out of the comparison, as an application sharing
/// the database would.
const ENV_PY: &str = r#"import os
import sys
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
fileConfig(config.config_file_name)
sys.path.insert(0, os.path.dirname(os.path.abspath(config.config_file_name)))
from models import metadata  # noqa: E402


def include_name(name, type_, parent_names):
    return not (type_ == "table" and name.startswith("retort_"))


connectable = engine_from_config(
    config.get_section(config.config_ini_section, {}),
    prefix="sqlalchemy.",
    poolclass=pool.NullPool,
)
with connectable.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table="retort_version",
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
"#;

const SCRIPT_MAKO: &str = r#""""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
"#;

const BASE_REVISION: &str = r#""""The tables retort's migrations create: retort applies them.

Revision ID: {head}
"""

revision = "{head}"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
"#;

/// What each tool must detect, by kind. Alembic also lists the indexes of
/// the tables it adds and drops, which retort counts with their tables.
fn expected(base: &Design, wanted: &Design, edits: &[Edit]) -> (Counts, Counts) {
    let mut retort = Counts::new();
    let mut alembic = Counts::new();
    let add = |counts: &mut Counts, kind: &str, n: usize| {
        if n > 0 {
            *counts.entry(kind.to_owned()).or_default() += n;
        }
    };
    for edit in edits {
        let kinds: &[&str] = match edit {
            Edit::AddColumn { .. } => &["added column"],
            Edit::DropColumn { .. } => &["removed column"],
            Edit::WidenColumn { .. } | Edit::DropNotNull { .. } => &["changed column"],
            Edit::AddIndex { .. } => &["added index"],
            Edit::DropIndex { .. } => &["removed index"],
            Edit::AddReference { .. } => &["added column", "added foreign key"],
            Edit::DropForeignKey { .. } => &["removed foreign key"],
            Edit::AddTable { .. } => &["added table"],
            Edit::DropTable { .. } => &["removed table"],
        };
        for kind in kinds {
            add(&mut retort, kind, 1);
            add(&mut alembic, kind, 1);
        }
        let indexes = |design: &Design| design.table(edit.table()).map_or(0, |t| t.indexes.len());
        match edit {
            Edit::AddTable { .. } => add(&mut alembic, "added index", indexes(wanted)),
            Edit::DropTable { .. } => add(&mut alembic, "removed index", indexes(base)),
            _ => {}
        }
    }
    (retort, alembic)
}

/// retort's `detected …` lines on stderr, by kind.
fn retort_detected(output: &Output) -> Counts {
    const KINDS: [&str; 9] = [
        "added table",
        "removed table",
        "added column",
        "removed column",
        "changed column",
        "added index",
        "removed index",
        "added foreign key",
        "removed foreign key",
    ];
    count(output, "detected ", |what| {
        KINDS
            .iter()
            .find(|k| what.starts_with(*k))
            .map(|k| (*k).to_owned())
    })
}

/// Alembic's `Detected …` log lines on stderr, by kind, named as retort
/// names them: a type change and a nullability change are both a changed
/// column.
fn alembic_detected(output: &Output) -> Counts {
    const KINDS: [(&str, &str); 11] = [
        ("added table", "added table"),
        ("removed table", "removed table"),
        ("added column", "added column"),
        ("removed column", "removed column"),
        ("type change", "changed column"),
        ("NULL on column", "changed column"),
        ("NOT NULL on column", "changed column"),
        ("added index", "added index"),
        ("removed index", "removed index"),
        ("added foreign key", "added foreign key"),
        ("removed foreign key", "removed foreign key"),
    ];
    count(output, "Detected ", |what| {
        KINDS
            .iter()
            .find(|(k, _)| what.starts_with(k))
            .map(|(_, kind)| (*kind).to_owned())
    })
}

/// The lines of stderr holding `marker`, by the kind `kind` gives what
/// follows it; a line it does not know counts as itself.
fn count(output: &Output, marker: &str, kind: impl Fn(&str) -> Option<String>) -> Counts {
    let mut counts = Counts::new();
    for line in String::from_utf8_lossy(&output.stderr).lines() {
        let Some(at) = line.find(marker) else {
            continue;
        };
        let what = &line[at + marker.len()..];
        *counts
            .entry(kind(what).unwrap_or_else(|| format!("other: {what}")))
            .or_default() += 1;
    }
    counts
}

struct Report<'a> {
    tables: usize,
    quick: bool,
    rounds: usize,
    base: &'a Design,
    wanted: &'a Design,
    edits: &'a [Edit],
    retort_expected: &'a Counts,
    alembic_expected: &'a Counts,
    database: &'a Path,
    alembic: &'a Result<Alembic, String>,
    alembic_ops: Option<usize>,
    cases: &'a [Case],
}

fn report(r: &Report<'_>) {
    let total = |c: &Counts| c.values().sum::<usize>();
    println!(
        "{NAME}: {} tables in {} revision files, applied to a SQLite file ({} KiB); \
         schema.sql declares {} tables, {} edits{}",
        r.tables,
        r.base.tables.len().div_ceil(TABLES_PER_REVISION),
        kib(r.database),
        r.wanted.tables.len(),
        r.edits.len(),
        if r.quick { ", quick run" } else { "" },
    );
    match r.alembic {
        Ok(alembic) => {
            println!(
                "detected, every run: retort {} changes, Alembic {} ({} more: the indexes of \
                 the tables added and dropped, which retort reports with their tables){}",
                total(r.retort_expected),
                total(r.alembic_expected),
                total(r.alembic_expected) - total(r.retort_expected),
                r.alembic_ops
                    .map(|n| format!("; Alembic's upgrade makes {n} op. calls"))
                    .unwrap_or_default(),
            );
            println!("{} ({})", alembic.versions, alembic.program.display());
        }
        Err(reason) => {
            println!(
                "detected, every run: retort {} changes",
                total(r.retort_expected)
            );
            println!("Alembic: comparison SKIPPED: {reason}");
        }
    }
    let kinds: Vec<String> = r
        .retort_expected
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    println!("retort's, by kind: {}", kinds.join(", "));
    println!(
        "1 untimed check run of each case, then {} timed rounds, the first case changing \
         every round; each run's revision file is deleted after it",
        r.rounds
    );
    if let Some(line) = load_average_line() {
        println!("{line}");
    }
    println!();

    let rows: Vec<(&str, Stats)> = r
        .cases
        .iter()
        .map(|case| (case.name, Stats::of(&mut case.times.clone())))
        .collect();
    let median = |name: &str| {
        rows.iter()
            .find(|row| row.0 == name)
            .map(|row| row.1.median)
    };
    let alembic = median(ALEMBIC_CASE);
    let speedup = |this: Duration| {
        alembic
            .filter(|_| !this.is_zero())
            .map(|a| a.as_secs_f64() / this.as_secs_f64())
    };
    let width = rows.iter().map(|row| row.0.len()).max().unwrap_or(0);
    println!(
        "{:<width$}  {:>11}  {:>9}  {:>14}",
        "case", "median (ms)", "min (ms)", "Alembic / this"
    );
    for (name, stats) in &rows {
        let ratio = match speedup(stats.median) {
            Some(x) if !name.starts_with("(context)") => format!("{x:.2}x"),
            _ => "-".to_owned(),
        };
        println!(
            "{name:<width$}  {:>11.2}  {:>9.2}  {ratio:>14}",
            millis(stats.median),
            millis(stats.min),
        );
    }
    println!();
    let retort = median(RETORT_CASE).and_then(speedup);
    let from_db = median(FROM_DB_CASE).and_then(speedup);
    match retort {
        _ if r.tables != TARGET_TABLES => println!(
            "target: retort at least {TARGET_SPEEDUP}x faster than Alembic applies to \
             {TARGET_TABLES} tables; not checked"
        ),
        None => println!(
            "target: retort at least {TARGET_SPEEDUP}x faster than Alembic: not checked (no Alembic)"
        ),
        Some(x) => println!(
            "target: `{RETORT_CASE}` at least {TARGET_SPEEDUP}x faster than Alembic \
             (medians, {TARGET_TABLES} tables): {} ({x:.1}x; --from-db, which reads the \
             file Alembic reads: {:.1}x)",
            if x >= TARGET_SPEEDUP { "PASS" } else { "FAIL" },
            from_db.unwrap_or(0.0),
        ),
    }
}
