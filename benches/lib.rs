//! Shared helpers for the benchmarks: generated retort projects.
//!
//! [`generate`] writes a `retort.toml` and `migrations/{i:05}_{id}_{slug}.sql`
//! revision files shaped like a real project's: a long line of history with,
//! in the [`Shape::Branched`] shape, a short side branch merged back every
//! [`BRANCH_EVERY`] revisions and a few branch labels. Everything is
//! deterministic: the same count and shape give the same ids, messages,
//! timestamps and files, so figures from different runs compare.
//!
//! [`generate_with`] lets a benchmark choose the SQL of each revision (for
//! instance SQL its database accepts), and [`plan`] gives the revisions
//! without writing anything.
//!
//! The rest serves the benchmark binaries: settings from the environment,
//! timing summaries, in [`upgrade`] what the benchmarks that run the
//! `retort` binary against a database share, and in [`schema`] the
//! generated schemas of the autogenerate benchmarks.

pub mod schema;
pub mod upgrade;

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// In [`Shape::Branched`], a side branch opens every this many revisions.
pub const BRANCH_EVERY: usize = 50;

/// Revisions added to the main line while a side branch is open.
const TRUNK_WHILE_BRANCHED: usize = 2;

/// Branch labels [`Shape::Branched`] declares: the base revision gets the
/// first, the first revisions of the first side branches get the others.
pub const BRANCH_LABELS: [&str; 3] = ["core", "billing", "reporting"];

/// Nouns for table names and messages, so files do not all read alike.
const NOUNS: [&str; 12] = [
    "users",
    "orders",
    "invoices",
    "payments",
    "products",
    "sessions",
    "audit_events",
    "addresses",
    "shipments",
    "coupons",
    "reviews",
    "api_keys",
];

/// How the revisions relate to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One line of history: revision `i` revises revision `i - 1`; no labels.
    Linear,
    /// A main line plus, every [`BRANCH_EVERY`] revisions, a side branch of 2
    /// or 3 revisions (interleaved in file order with 2 main-line revisions)
    /// that a merge revision joins back; labels from [`BRANCH_LABELS`].
    /// There is always exactly one head.
    Branched,
}

/// What a revision is, for choosing its SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A schema change: in the default SQL, one new table and an index.
    Change,
    /// A merge of two heads; real merge revisions usually carry no SQL.
    Merge,
}

/// One planned revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// Position in file order, from 0; the file name starts with it.
    pub index: usize,
    /// The revision id: 12 lowercase hex characters, from [`revision_id`].
    pub id: String,
    /// Ids of the revisions it revises: none for the base, two for a merge.
    pub parents: Vec<String>,
    /// Branch labels it declares.
    pub branch_labels: Vec<String>,
    /// The one-line message; the file name's slug comes from it.
    pub message: String,
    /// A change or a merge.
    pub kind: Kind,
    /// The table a change creates in the default SQL (unique per revision,
    /// so revisions on different branches never collide); `None` for merges.
    pub table: Option<String>,
    /// `-- retort:created` value (RFC 3339, six hours after the previous).
    pub created: String,
}

impl Revision {
    /// The file name, `{index:05}_{id}_{slug}.sql`.
    pub fn file_name(&self) -> String {
        format!(
            "{:05}_{}_{}.sql",
            self.index,
            self.id,
            retort::script::naming::slug(&self.message)
        )
    }
}

/// The SQL of one revision file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// Text after `-- retort:upgrade`.
    pub upgrade: String,
    /// Text after `-- retort:downgrade`; `None` writes no downgrade section.
    pub downgrade: Option<String>,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The project directory (the one passed in).
    pub root: PathBuf,
    /// The `retort.toml` it wrote.
    pub config: PathBuf,
    /// The directory of revision files.
    pub migrations: PathBuf,
    /// The revisions, in file order.
    pub revisions: Vec<Revision>,
    /// Total bytes of the revision files.
    pub bytes: u64,
}

impl Generated {
    /// The one head of the shapes here, or why there is none.
    pub fn head(&self) -> Result<String, String> {
        self.heads()
            .first()
            .map(|h| (*h).to_owned())
            .ok_or_else(|| "the generated project has no head".to_owned())
    }

    /// Ids of the revisions nothing revises, in file order (always one for
    /// the shapes here, when there are any revisions).
    pub fn heads(&self) -> Vec<&str> {
        let revised: std::collections::HashSet<&str> = self
            .revisions
            .iter()
            .flat_map(|r| r.parents.iter().map(String::as_str))
            .collect();
        self.revisions
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| !revised.contains(id))
            .collect()
    }
}

/// Writes a project of `revisions` revision files with the default SQL
/// ([`default_body`]) into `dir`, which must exist; see [`generate_with`].
pub fn generate(dir: &Path, revisions: usize, shape: Shape) -> io::Result<Generated> {
    generate_with(dir, revisions, shape, default_body)
}

/// Writes `retort.toml` (`[migrations] dirs = ["migrations"]`) and one file
/// per revision of [`plan`]`(revisions, shape)` into `dir`, taking each
/// file's SQL from `body`. An existing `migrations` directory must be empty
/// of `.sql` files from another plan, or the project will not load.
pub fn generate_with<F>(
    dir: &Path,
    revisions: usize,
    shape: Shape,
    mut body: F,
) -> io::Result<Generated>
where
    F: FnMut(&Revision) -> Body,
{
    let config = dir.join("retort.toml");
    fs::write(&config, "[migrations]\ndirs = [\"migrations\"]\n")?;
    let migrations = dir.join("migrations");
    fs::create_dir_all(&migrations)?;
    let planned = plan(revisions, shape);
    let mut bytes = 0;
    let mut text = String::new();
    for revision in &planned {
        text.clear();
        render(&mut text, revision, &body(revision));
        fs::write(migrations.join(revision.file_name()), &text)?;
        bytes += text.len() as u64;
    }
    Ok(Generated {
        root: dir.to_path_buf(),
        config,
        migrations,
        revisions: planned,
        bytes,
    })
}

/// The revisions of a project of `count` revisions, in file order (parents
/// always come before their children).
pub fn plan(count: usize, shape: Shape) -> Vec<Revision> {
    let mut out: Vec<Revision> = Vec::with_capacity(count);
    let mut labels = BRANCH_LABELS.iter();
    // The main line's newest revision.
    let mut trunk: Option<usize> = None;
    // A block (side branch, main line, merge) is shorter than BRANCH_EVERY,
    // so every multiple of it is reached exactly.
    let mut next_branch = BRANCH_EVERY;
    let change = |out: &mut Vec<Revision>, parent: Option<usize>, labels: Vec<String>| {
        let index = out.len();
        let parents = parent.map(|p| out[p].id.clone()).into_iter().collect();
        out.push(change_revision(index, parents, labels));
        index
    };
    if count > 0 && shape == Shape::Branched {
        let label = labels.next().map(|l| (*l).to_owned());
        trunk = Some(change(&mut out, None, label.into_iter().collect()));
    }
    while out.len() < count {
        let index = out.len();
        let side_len = 2 + (index / BRANCH_EVERY) % 2;
        let block = side_len + TRUNK_WHILE_BRANCHED + 1;
        let branch_here = shape == Shape::Branched
            && index == next_branch
            && count - index >= block
            && trunk.is_some();
        if index == next_branch {
            next_branch += BRANCH_EVERY;
        }
        if !branch_here {
            trunk = Some(change(&mut out, trunk, Vec::new()));
            continue;
        }
        // Side and main line revisions alternate in file order, as when two
        // people work on two branches at once, then a merge joins them.
        let mut side = trunk;
        let mut main = trunk;
        let mut side_done = 0;
        let mut main_done = 0;
        while side_done < side_len || main_done < TRUNK_WHILE_BRANCHED {
            if side_done < side_len && (side_done <= main_done || main_done == TRUNK_WHILE_BRANCHED)
            {
                let label = if side_done == 0 {
                    labels.next().map(|l| (*l).to_owned())
                } else {
                    None
                };
                side = Some(change(&mut out, side, label.into_iter().collect()));
                side_done += 1;
            } else {
                main = Some(change(&mut out, main, Vec::new()));
                main_done += 1;
            }
        }
        let (Some(main), Some(side)) = (main, side) else {
            unreachable!("a branch opens only after the base");
        };
        let index = out.len();
        let parents = vec![out[main].id.clone(), out[side].id.clone()];
        out.push(Revision {
            index,
            id: revision_id(index),
            message: format!("merge {} and {}", parents[0], parents[1]),
            parents,
            branch_labels: Vec::new(),
            kind: Kind::Merge,
            table: None,
            created: created(index),
        });
        trunk = Some(index);
    }
    out
}

fn change_revision(index: usize, parents: Vec<String>, branch_labels: Vec<String>) -> Revision {
    let noun = NOUNS[index % NOUNS.len()];
    let table = format!("{noun}_{index:05}");
    let verb = ["add", "create"][(index / NOUNS.len()) % 2];
    Revision {
        index,
        id: revision_id(index),
        parents,
        branch_labels,
        message: format!("{verb} {table} table"),
        kind: Kind::Change,
        table: Some(table),
        created: created(index),
    }
}

/// The id of revision `index`: 12 lowercase hex characters that look random
/// but are a bijection of `index` (below 2^48), so ids never collide.
pub fn revision_id(index: usize) -> String {
    const MASK: u64 = (1 << 48) - 1;
    // Xor-shifts and multiplication by odd constants are invertible modulo
    // 2^48, so their composition is a permutation of 48-bit values.
    let mut x = (index as u64).wrapping_add(0x5851_f42d_4c95) & MASK;
    x ^= x >> 23;
    x = x.wrapping_mul(0x9e37_79b9_7f4b) & MASK;
    x ^= x >> 21;
    x = x.wrapping_mul(0xbf58_476d_1ce5) & MASK;
    x ^= x >> 25;
    format!("{x:012x}")
}

/// The default SQL: for a change, a six-column table, an index and a
/// downgrade that drops both (valid SQLite, PostgreSQL and MySQL); for a
/// merge, a comment only.
pub fn default_body(revision: &Revision) -> Body {
    let Some(table) = &revision.table else {
        return Body {
            upgrade: "-- Merge revision: joins two heads, changes nothing.\n\n".to_owned(),
            downgrade: Some("-- Nothing to undo.\n".to_owned()),
        };
    };
    let upgrade = format!(
        "-- {message}.\n\
         CREATE TABLE {table} (\n    \
             id integer PRIMARY KEY,\n    \
             name text NOT NULL,\n    \
             status text NOT NULL DEFAULT 'new',\n    \
             amount integer NOT NULL DEFAULT 0,\n    \
             note text,\n    \
             created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP\n\
         );\n\
         CREATE INDEX ix_{table}_status ON {table} (status, amount);\n\n",
        message = revision.message,
    );
    let downgrade = format!("DROP INDEX ix_{table}_status;\nDROP TABLE {table};\n");
    Body {
        upgrade,
        downgrade: Some(downgrade),
    }
}

/// Writes the whole file text of `revision` into `out`.
fn render(out: &mut String, revision: &Revision, body: &Body) {
    // Writing into a String cannot fail.
    let _ = writeln!(out, "-- retort:revision {}", revision.id);
    if !revision.parents.is_empty() {
        let _ = writeln!(out, "-- retort:revises {}", revision.parents.join(" "));
    }
    let _ = writeln!(out, "-- retort:message {}", revision.message);
    let _ = writeln!(out, "-- retort:created {}", revision.created);
    if !revision.branch_labels.is_empty() {
        let labels = revision.branch_labels.join(" ");
        let _ = writeln!(out, "-- retort:branch-labels {labels}");
    }
    out.push_str("\n-- retort:upgrade\n");
    out.push_str(&body.upgrade);
    if let Some(downgrade) = &body.downgrade {
        out.push_str("-- retort:downgrade\n");
        out.push_str(downgrade);
    }
}

/// RFC 3339 time of revision `index`: 2024-01-01T09:00:00Z plus 6 h per index.
fn created(index: usize) -> String {
    let hours = 9 + 6 * index as u64;
    let (days, hour) = (hours / 24, hours % 24);
    let (year, month, day) = civil_from_days(days + DAYS_TO_2024);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:00:00Z")
}

/// Days from 1970-01-01 to 2024-01-01.
const DAYS_TO_2024: u64 = 19_723;

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm, for non-negative counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_12_hex() {
        let ids: std::collections::HashSet<String> = (0..20_000).map(revision_id).collect();
        assert_eq!(ids.len(), 20_000);
        assert!(ids.iter().all(|id| {
            id.len() == 12
                && id
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        }));
        assert_eq!(revision_id(7), revision_id(7));
    }

    #[test]
    fn dates() {
        assert_eq!(created(0), "2024-01-01T09:00:00Z");
        assert_eq!(created(3), "2024-01-02T03:00:00Z");
        assert_eq!(civil_from_days(DAYS_TO_2024 + 59), (2024, 2, 29));
        assert_eq!(civil_from_days(DAYS_TO_2024 + 366), (2025, 1, 1));
    }

    #[test]
    fn branched_shape() {
        for count in [0, 1, 2, 49, 50, 51, 53, 54, 55, 100, 1_000] {
            let revisions = plan(count, Shape::Branched);
            assert_eq!(revisions.len(), count);
            let generated = Generated {
                root: PathBuf::new(),
                config: PathBuf::new(),
                migrations: PathBuf::new(),
                revisions,
                bytes: 0,
            };
            let heads = generated.heads();
            assert_eq!(heads.len(), usize::from(count > 0), "count {count}");
            for (i, r) in generated.revisions.iter().enumerate() {
                assert_eq!(r.index, i);
                for p in &r.parents {
                    let parent = generated.revisions.iter().position(|x| &x.id == p);
                    assert!(parent.is_some_and(|p| p < i));
                }
            }
        }
        let revisions = plan(1_000, Shape::Branched);
        let merges = revisions.iter().filter(|r| r.kind == Kind::Merge).count();
        assert_eq!(merges, 1_000 / BRANCH_EVERY - 1);
        let labelled: Vec<&str> = revisions
            .iter()
            .flat_map(|r| r.branch_labels.iter().map(String::as_str))
            .collect();
        assert_eq!(labelled, BRANCH_LABELS);
    }

    #[test]
    fn linear_shape() {
        let revisions = plan(100, Shape::Linear);
        assert!(revisions[0].parents.is_empty());
        for pair in revisions.windows(2) {
            assert_eq!(pair[1].parents, [pair[0].id.clone()]);
        }
        assert!(revisions.iter().all(|r| r.branch_labels.is_empty()));
    }

    #[test]
    fn default_file_has_realistic_length() {
        let revisions = plan(60, Shape::Branched);
        for revision in &revisions {
            let mut text = String::new();
            render(&mut text, revision, &default_body(revision));
            let lines = text.lines().count();
            match revision.kind {
                Kind::Change => assert!((15..=25).contains(&lines), "{lines}: {text}"),
                Kind::Merge => assert!(lines < 15),
            }
        }
    }
}

#[cfg(test)]
mod load_tests {
    use super::*;
    use retort::config::Config;
    use retort::project::Project;

    #[test]
    fn retort_loads_both_shapes() {
        for shape in [Shape::Linear, Shape::Branched] {
            let dir = tempfile::tempdir().unwrap();
            let generated = generate(dir.path(), 120, shape).unwrap();
            let project = Project::load(Config::load(&generated.config).unwrap()).unwrap();
            let graph = project.graph();
            assert_eq!(graph.len(), 120);
            assert_eq!(graph.head_ids(), generated.heads());
            let merges = (0..graph.len())
                .filter(|&i| graph.node(i).is_merge_point())
                .count();
            let branch_points = graph.branch_points().len();
            match shape {
                Shape::Linear => assert_eq!((merges, branch_points), (0, 0)),
                Shape::Branched => {
                    assert_eq!((merges, branch_points), (2, 2));
                    assert!(graph.label_owner("billing").is_some());
                }
            }
            let history = project.history(None, None).unwrap();
            assert_eq!(history.len(), 120);
            assert_eq!(
                project.script(history[0]).message,
                generated.revisions[119].message
            );
        }
    }

    #[test]
    fn custom_body() {
        let dir = tempfile::tempdir().unwrap();
        let generated = generate_with(dir.path(), 3, Shape::Linear, |r| Body {
            upgrade: format!("SELECT {};\n", r.index),
            downgrade: None,
        })
        .unwrap();
        let project = Project::load(Config::load(&generated.config).unwrap()).unwrap();
        let script = project.script(2);
        assert_eq!(script.body().unwrap().upgrade().unwrap().sql, "SELECT 2;\n");
        assert!(!script.reversible);
    }
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, or the workspace's
/// `target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    )
}

/// A new directory for a benchmark's files: under `RETORT_BENCH_DIR` when
/// set (which chooses the file system, and keeps the files for profiling:
/// `true`), otherwise a temporary one. Absolute either way, as retort
/// resolves a relative `sqlite:///` path from `-C`.
pub fn bench_dir(prefix: &str) -> Result<(tempfile::TempDir, bool), String> {
    let parent = std::env::var_os("RETORT_BENCH_DIR")
        .map(|d| std::path::absolute(&d).unwrap_or_else(|_| PathBuf::from(d)));
    let dir = match &parent {
        Some(parent) => tempfile::Builder::new()
            .prefix(&format!("{prefix}-"))
            .tempdir_in(parent),
        None => tempfile::tempdir(),
    }
    .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    Ok((dir, parent.is_some()))
}

/// Whether `RETORT_BENCH_QUICK=1` asks for a smoke run.
pub fn quick() -> bool {
    std::env::var("RETORT_BENCH_QUICK").is_ok_and(|v| v == "1")
}

/// `RETORT_BENCH_REVISIONS`, or `quick_default` in a smoke run, or `default`.
pub fn revision_count(default: usize, quick_default: usize) -> Result<usize, String> {
    count("RETORT_BENCH_REVISIONS", default, quick_default)
}

/// `RETORT_BENCH_TABLES`, or `quick_default` in a smoke run, or `default`.
pub fn table_count(default: usize, quick_default: usize) -> Result<usize, String> {
    count("RETORT_BENCH_TABLES", default, quick_default)
}

/// The positive integer in the environment variable `var`, or
/// `quick_default` in a smoke run, or `default`.
fn count(var: &str, default: usize, quick_default: usize) -> Result<usize, String> {
    match std::env::var(var) {
        Ok(value) => value
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("{var} must be a positive integer, not `{value}`")),
        Err(_) if quick() => Ok(quick_default),
        Err(_) => Ok(default),
    }
}

/// The median of some timings (zero for none); sorts them.
pub fn median(times: &mut [std::time::Duration]) -> std::time::Duration {
    times.sort_unstable();
    let n = times.len();
    match n {
        0 => std::time::Duration::ZERO,
        _ if n % 2 == 1 => times[n / 2],
        _ => (times[n / 2 - 1] + times[n / 2]) / 2,
    }
}

/// The median and the fastest of some timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// The median, the figure targets are checked against.
    pub median: std::time::Duration,
    /// The fastest: what the machine allows when nothing else interferes.
    pub min: std::time::Duration,
}

impl Stats {
    /// The median and minimum of `times` (zero for none); sorts them.
    pub fn of(times: &mut [std::time::Duration]) -> Stats {
        let median = median(times);
        Stats {
            median,
            min: times.first().copied().unwrap_or_default(),
        }
    }
}

/// A benchmark binary's exit: failure, with the message on stderr after
/// the benchmark's name, only when `result` is an error (a command failed
/// or a result was wrong), never because a figure is slow.
pub fn exit(bench: &str, result: Result<(), String>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            // The message is the binary's output.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{bench}: {message}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// Milliseconds, for tables.
pub fn millis(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// "load average at the end, …" — other work on the machine shows up in
/// every figure, so reports say how much there was.
pub fn load_average_line() -> Option<String> {
    let load = std::fs::read_to_string("/proc/loadavg").ok()?;
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    Some(format!(
        "load average at the end, this run included (1, 5, 15 min): {}",
        load.join(" ")
    ))
}

/// What an in-process case returns: whatever it built, so that freeing it
/// happens after the clock stops.
pub type Built = Box<dyn std::any::Any>;

/// One measured in-process case.
pub struct Case<'a> {
    /// Its row's name.
    pub name: &'static str,
    /// The job; an error message when its work goes wrong.
    pub run: Box<dyn Fn() -> Result<Built, String> + 'a>,
    /// Whether the ratio column compares the others to it.
    pub baseline: bool,
    /// Its timed rounds.
    pub times: Vec<std::time::Duration>,
}

impl std::fmt::Debug for Case<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .field("baseline", &self.baseline)
            .finish_non_exhaustive()
    }
}

impl<'a> Case<'a> {
    /// A case compared with the baseline.
    pub fn new(name: &'static str, run: impl Fn() -> Result<Built, String> + 'a) -> Case<'a> {
        Case {
            name,
            run: Box::new(run),
            baseline: false,
            times: Vec::new(),
        }
    }

    /// The baseline the others are compared with.
    pub fn baseline(name: &'static str, run: impl Fn() -> Result<Built, String> + 'a) -> Case<'a> {
        Case {
            baseline: true,
            ..Case::new(name, run)
        }
    }
}

/// Runs `warm_up` untimed then `rounds` timed rounds, each going through
/// every case in turn, so that a slow patch of the machine (or a cache
/// filling) affects all cases alike. Stops at the first case that fails.
pub fn measure(cases: &mut [Case<'_>], warm_up: usize, rounds: usize) -> Result<(), String> {
    for round in 0..warm_up + rounds {
        for case in cases.iter_mut() {
            let start = std::time::Instant::now();
            let result = (case.run)();
            let elapsed = start.elapsed();
            std::hint::black_box(result.map_err(|e| format!("{}: {e}", case.name))?);
            if round >= warm_up {
                case.times.push(elapsed);
            }
        }
    }
    Ok(())
}

/// Prints the cases' table (median, minimum, ratio of medians to the
/// baseline) and returns each case's name and figures, in order.
pub fn print_cases(cases: &mut [Case<'_>]) -> Vec<(&'static str, Stats)> {
    let rows: Vec<(&'static str, Stats, bool)> = cases
        .iter_mut()
        .map(|case| (case.name, Stats::of(&mut case.times), case.baseline))
        .collect();
    let baseline = rows.iter().find(|r| r.2).map(|r| r.1.median);
    let name_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    // The table is the binary's output.
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{:<name_width$}  {:>11}  {:>9}  {:>12}",
            "case", "median (ms)", "min (ms)", "vs baseline"
        );
        for (name, stats, is_baseline) in &rows {
            let ratio = match baseline {
                Some(_) if *is_baseline => "1.00x".to_owned(),
                Some(b) if !b.is_zero() => {
                    format!("{:.2}x", stats.median.as_secs_f64() / b.as_secs_f64())
                }
                _ => "-".to_owned(),
            };
            println!(
                "{name:<name_width$}  {:>11.2}  {:>9.2}  {ratio:>12}",
                millis(stats.median),
                millis(stats.min),
            );
        }
    }
    rows.into_iter()
        .map(|(name, stats, _)| (name, stats))
        .collect()
}
