//! The documents `--format json` prints, one type each: the contract
//! docs/cli.md describes, with fields in the order they are printed.

use serde::Serialize;

/// `init`.
#[derive(Debug, Serialize)]
pub(crate) struct Init<'a> {
    pub(crate) created: &'a [String],
    pub(crate) dialect: &'static str,
}

/// `import alembic`.
#[derive(Debug, Serialize)]
pub(crate) struct Import<'a> {
    pub(crate) config: String,
    pub(crate) migrations: String,
    pub(crate) revisions: usize,
    pub(crate) merges: usize,
    pub(crate) branch_labels: &'a [String],
    pub(crate) depends_on: usize,
    pub(crate) irreversible: &'a [String],
    pub(crate) needs_review: Vec<Review<'a>>,
    pub(crate) version_table: &'a str,
    pub(crate) warnings: &'a [String],
    pub(crate) alembic: &'a str,
    pub(crate) sqlalchemy: &'a str,
}

/// A revision `import` marked for review.
#[derive(Debug, Serialize)]
pub(crate) struct Review<'a> {
    pub(crate) revision: &'a str,
    pub(crate) path: String,
    pub(crate) reasons: &'a [String],
}

/// `revision` and `merge`: the file written.
#[derive(Debug, Serialize)]
pub(crate) struct NewRevision<'a> {
    pub(crate) revision: &'a str,
    pub(crate) revises: &'a [String],
    pub(crate) message: &'a str,
    pub(crate) branch_labels: &'a [String],
    pub(crate) depends_on: &'a [String],
    pub(crate) path: String,
    pub(crate) created: Option<&'a str>,
    /// With `--autogenerate`: what it detected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) autogenerate: Option<Detected>,
}

/// What `revision --autogenerate` and `check` found: a line per change,
/// and a line per change that loses data or may fail on it.
#[derive(Debug, Serialize)]
pub(crate) struct Detected {
    pub(crate) changes: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

/// `check`.
#[derive(Debug, Serialize)]
pub(crate) struct Check {
    pub(crate) ok: bool,
    pub(crate) changes: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

/// `test --format json`.
#[derive(Debug, Serialize)]
pub(crate) struct Test<'a> {
    pub(crate) ok: bool,
    pub(crate) dialect: &'a str,
    pub(crate) revisions: Vec<TestRevision<'a>>,
    pub(crate) failures: Vec<TestFailure<'a>>,
    pub(crate) notes: &'a [String],
    pub(crate) declared_schema: Option<bool>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TestRevision<'a> {
    pub(crate) revision: &'a str,
    pub(crate) message: &'a str,
    pub(crate) path: String,
    pub(crate) state: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct TestFailure<'a> {
    pub(crate) check: &'a str,
    pub(crate) revision: Option<&'a str>,
    pub(crate) path: Option<String>,
    pub(crate) message: &'a str,
    pub(crate) differences: &'a [String],
}

/// `schema dump --format json`: the schema model.
#[derive(Debug, Serialize)]
pub(crate) struct Dump<'a> {
    pub(crate) dialect: &'a str,
    pub(crate) schema: &'a retort::schema::Schema,
}

/// A revision in `history`, `heads`, `branches`, `show`.
#[derive(Debug, Serialize)]
pub(crate) struct Revision<'a> {
    pub(crate) revision: &'a str,
    pub(crate) revises: &'a [String],
    pub(crate) message: &'a str,
    pub(crate) branch_labels: &'a [String],
    pub(crate) depends_on: &'a [String],
    pub(crate) path: String,
    pub(crate) created: Option<&'a str>,
    /// Why a person must read its SQL before it runs
    /// (`-- retort:review`), or null.
    pub(crate) review: Option<&'a str>,
    /// The registered function a code revision runs (`-- retort:code`),
    /// or null.
    pub(crate) code: Option<Code<'a>>,
    pub(crate) is_head: bool,
    pub(crate) is_base: bool,
    pub(crate) is_branch_point: bool,
    pub(crate) is_merge_point: bool,
}

/// A code revision's function.
#[derive(Debug, Serialize)]
pub(crate) struct Code<'a> {
    pub(crate) name: &'a str,
    pub(crate) version: &'a str,
}

/// `upgrade`, `downgrade`, `stamp`, `resume`, `repair`.
#[derive(Debug, Serialize)]
pub(crate) struct Outcome<'a> {
    pub(crate) steps: Vec<Step<'a>>,
    pub(crate) heads: &'a [String],
    pub(crate) dry_run: bool,
    /// The backup taken before (`--backup`), if one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) backup: Option<String>,
}

/// One step of an [`Outcome`].
#[derive(Debug, Serialize)]
pub(crate) struct Step<'a> {
    pub(crate) revision: &'a str,
    pub(crate) message: &'a str,
    /// `up`, `down` or `stamp`.
    pub(crate) direction: &'static str,
    pub(crate) duration_ms: u64,
}

/// `current`.
#[derive(Debug, Serialize)]
pub(crate) struct Current<'a> {
    pub(crate) heads: &'a [String],
    pub(crate) current: &'a [String],
    /// What is wrong with the version table (exit code 3), or null.
    pub(crate) problem: Option<ErrorBody<'a>>,
    /// Another migration tool's history table, where there is no version
    /// table, or null.
    pub(crate) foreign_history: Option<ForeignHistory<'a>>,
    pub(crate) server: Server<'a>,
}

/// `status`.
#[derive(Debug, Serialize)]
pub(crate) struct Status<'a> {
    pub(crate) heads_in_db: &'a [String],
    pub(crate) current: &'a [String],
    pub(crate) heads: &'a [String],
    pub(crate) pending: Vec<Pending<'a>>,
    pub(crate) interrupted: Option<Interruption<'a>>,
    /// The lease of a run holding it now, or null.
    pub(crate) running: Option<Lease<'a>>,
    /// What is wrong with the version table, or null.
    pub(crate) problem: Option<ErrorBody<'a>>,
    /// Applied revisions whose files changed since.
    pub(crate) changed: Vec<Changed<'a>>,
    /// Another migration tool's history table, where there is no version
    /// table, or null.
    pub(crate) foreign_history: Option<ForeignHistory<'a>>,
    pub(crate) server: Server<'a>,
}

/// What the server is, as detected when retort connected or as a
/// setting says (`status`, `current`).
#[derive(Debug, Serialize)]
pub(crate) struct Server<'a> {
    /// `sqlite`, `postgres` or `mysql`.
    pub(crate) dialect: &'static str,
    pub(crate) product: &'a str,
    pub(crate) version: &'a str,
    /// What retort takes it for: `plain`, `galera`, `vitess`,
    /// `cockroachdb`, `yugabytedb`, `citus`.
    pub(crate) kind: &'static str,
    /// What detection found.
    pub(crate) detected: &'static str,
    /// `detected`, `url` (`?server=`) or `config` (`database.server`).
    pub(crate) set_by: &'static str,
    pub(crate) standby: bool,
    /// The Citus extension's version, or null.
    pub(crate) citus: Option<&'a str>,
    /// Galera's settings where it is on, or null.
    pub(crate) galera: Option<Galera<'a>>,
    pub(crate) needs_lease_lock: bool,
    pub(crate) ddl_commits_implicitly: bool,
}

/// Galera's settings.
#[derive(Debug, Serialize)]
pub(crate) struct Galera<'a> {
    /// `wsrep_OSU_method`: `TOI` or `RSU`.
    pub(crate) osu_method: &'a str,
}

/// Another migration tool's history table, which `upgrade` refuses.
#[derive(Debug, Serialize)]
pub(crate) struct ForeignHistory<'a> {
    pub(crate) table: &'a str,
    pub(crate) tool: &'a str,
}

/// A revision `status` would apply.
#[derive(Debug, Serialize)]
pub(crate) struct Pending<'a> {
    pub(crate) revision: &'a str,
    pub(crate) message: String,
}

/// A migration a run left half way.
#[derive(Debug, Serialize)]
pub(crate) struct Interruption<'a> {
    pub(crate) revision: &'a str,
    /// `upgrade` or `downgrade`.
    pub(crate) direction: &'static str,
    pub(crate) path: Option<&'a std::path::Path>,
    pub(crate) statements: Option<usize>,
    pub(crate) completed: usize,
    pub(crate) last_completed: Option<Position<'a>>,
    pub(crate) running: Option<Position<'a>>,
    pub(crate) next: Option<Position<'a>>,
    pub(crate) note: Option<&'a str>,
    pub(crate) still_running_in_session: Option<&'a str>,
}

/// A statement of an [`Interruption`].
#[derive(Debug, Serialize)]
pub(crate) struct Position<'a> {
    pub(crate) statement: usize,
    pub(crate) line: usize,
    pub(crate) excerpt: &'a str,
}

/// `verify`.
#[derive(Debug, Serialize)]
pub(crate) struct Verify<'a> {
    pub(crate) ok: bool,
    pub(crate) findings: Vec<Finding<'a>>,
}

/// One finding of [`Verify`].
#[derive(Debug, Serialize)]
pub(crate) struct Finding<'a> {
    pub(crate) revision: &'a str,
    pub(crate) kind: &'static str,
    pub(crate) path: Option<String>,
}

/// `rehash`.
#[derive(Debug, Serialize)]
pub(crate) struct Rehash<'a> {
    pub(crate) updated: &'a [String],
    pub(crate) recorded: &'a [String],
    pub(crate) changed: Vec<Changed<'a>>,
    pub(crate) accepted: &'a [String],
}

/// A file whose SQL changed since it was applied.
#[derive(Debug, Serialize)]
pub(crate) struct Changed<'a> {
    pub(crate) revision: &'a str,
    pub(crate) path: String,
}

/// Any failure.
#[derive(Debug, Serialize)]
pub(crate) struct Error<'a> {
    pub(crate) error: ErrorBody<'a>,
}

/// What failed, with what to type next.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorBody<'a> {
    pub(crate) kind: &'a str,
    pub(crate) message: &'a str,
    pub(crate) hint: Option<&'a str>,
    /// The environment in use; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) environment: Option<&'a str>,
}

/// A row of the lock table.
#[derive(Debug, Serialize)]
pub(crate) struct Lease<'a> {
    /// The holder's id; null when free.
    pub(crate) holder: Option<&'a str>,
    pub(crate) host: Option<&'a str>,
    pub(crate) pid: Option<i64>,
    pub(crate) acquired_at: Option<&'a str>,
    pub(crate) heartbeat_at: Option<&'a str>,
    pub(crate) expires_at: Option<&'a str>,
    /// Seconds to `expires_at` by the server's clock (negative: past).
    pub(crate) expires_in_s: Option<f64>,
    /// Held, but not renewed in time.
    pub(crate) expired: bool,
}

impl<'a> Lease<'a> {
    pub(crate) fn of(row: &'a retort::db::lease::LeaseRow) -> Lease<'a> {
        Lease {
            holder: row.holder.as_deref(),
            host: row.host.as_deref(),
            pid: row.pid,
            acquired_at: row.acquired_at.as_deref(),
            heartbeat_at: row.heartbeat_at.as_deref(),
            expires_at: row.expires_at.as_deref(),
            expires_in_s: row.expires_in_ms.map(|ms| ms as f64 / 1000.0),
            expired: row.expired(),
        }
    }
}

/// `lock status`.
#[derive(Debug, Serialize)]
pub(crate) struct LockStatus<'a> {
    /// `lease`, `advisory` or `file`.
    pub(crate) lock: &'a str,
    pub(crate) version_table: &'a str,
    pub(crate) held: bool,
    /// Who holds it, in words; null when free.
    pub(crate) holder: Option<&'a str>,
    /// The lease row, when the database has one.
    pub(crate) lease: Option<Lease<'a>>,
    pub(crate) galera: bool,
}

/// `lock release`.
#[derive(Debug, Serialize)]
pub(crate) struct LockRelease<'a> {
    pub(crate) released: bool,
    /// The lease as it was before, when one was held.
    pub(crate) lease: Option<Lease<'a>>,
}

/// One target of `upgrade`, `downgrade`, `stamp` or `resume` on a fleet
/// (`--targets`, `--schemas`): one JSON object a line, as each finishes.
#[derive(Debug, Serialize)]
pub(crate) struct FleetTarget<'a> {
    /// The database's URL, redacted.
    pub(crate) target: String,
    /// The schema, for `--schemas`; else null.
    pub(crate) schema: Option<&'a str>,
    /// `ok`, `skipped`, `failed` or `locked`.
    pub(crate) status: &'static str,
    /// The version rows before, or null when never read.
    pub(crate) from: Option<&'a [String]>,
    /// The version rows after, or null when unknown.
    pub(crate) to: Option<&'a [String]>,
    /// Steps run (planned, for a dry run).
    pub(crate) count: usize,
    pub(crate) duration_ms: u64,
    pub(crate) error: Option<ErrorBody<'a>>,
    /// The command that finishes a failed or locked target once its cause
    /// is dealt with, or null.
    pub(crate) recover: Option<String>,
}

/// The last line of a fleet's JSON lines.
#[derive(Debug, Serialize)]
pub(crate) struct FleetSummary<T: Serialize> {
    pub(crate) summary: T,
}

/// What a fleet run did.
#[derive(Debug, Serialize)]
pub(crate) struct FleetTotals<'a> {
    pub(crate) command: &'a str,
    pub(crate) targets: usize,
    pub(crate) ok: usize,
    pub(crate) skipped: usize,
    pub(crate) failed: usize,
    pub(crate) locked: usize,
    pub(crate) not_started: usize,
    /// `failure` or `canary` when the run stopped early, else null.
    pub(crate) stopped: Option<&'static str>,
    pub(crate) concurrency: usize,
    pub(crate) dry_run: bool,
    pub(crate) duration_ms: u64,
}

/// One target of `status` on a fleet.
#[derive(Debug, Serialize)]
pub(crate) struct FleetStatus<'a> {
    pub(crate) target: String,
    pub(crate) schema: Option<&'a str>,
    /// The version table's rows, or null when it could not be read.
    pub(crate) heads_in_db: Option<&'a [String]>,
    pub(crate) current: Option<&'a [String]>,
    /// How many revisions `upgrade heads` would apply.
    pub(crate) pending: Option<usize>,
    /// The revision a run left half way, or null.
    pub(crate) interrupted: Option<&'a str>,
    /// What is wrong with the version table, or null.
    pub(crate) problem: Option<ErrorBody<'a>>,
    /// How many applied files changed since.
    pub(crate) changed: usize,
    /// Why the target could not be read, or null.
    pub(crate) error: Option<ErrorBody<'a>>,
    pub(crate) duration_ms: u64,
}

/// What `status` on a fleet found.
#[derive(Debug, Serialize)]
pub(crate) struct FleetStatusTotals {
    pub(crate) command: &'static str,
    pub(crate) targets: usize,
    pub(crate) up_to_date: usize,
    pub(crate) behind: usize,
    pub(crate) need_attention: usize,
    pub(crate) unreadable: usize,
    pub(crate) duration_ms: u64,
}

/// `info --format json`.
#[derive(Debug, Serialize)]
pub(crate) struct Info<'a> {
    pub(crate) environment: Option<Environment<'a>>,
    pub(crate) database: &'a str,
    pub(crate) url: &'a str,
    pub(crate) server: Server<'a>,
    pub(crate) size_bytes: Option<u64>,
    pub(crate) current: &'a [String],
    pub(crate) heads: &'a [String],
    pub(crate) pending: usize,
    pub(crate) interrupted: Option<Interruption<'a>>,
    pub(crate) changed: Vec<Changed<'a>>,
    pub(crate) last_applied: Vec<Applied<'a>>,
}

/// The environment in use.
#[derive(Debug, Serialize)]
pub(crate) struct Environment<'a> {
    pub(crate) name: &'a str,
    pub(crate) protected: bool,
}

/// An applied revision, as the applied table records it.
#[derive(Debug, Serialize)]
pub(crate) struct Applied<'a> {
    pub(crate) revision: &'a str,
    pub(crate) applied_at: &'a str,
    pub(crate) duration_ms: i64,
    pub(crate) operation: &'a str,
    pub(crate) retort_version: &'a str,
}

/// `create` and `drop --format json`.
#[derive(Debug, Serialize)]
pub(crate) struct Chore<'a> {
    pub(crate) database: &'a str,
    pub(crate) changed: bool,
}

/// `backup --format json`.
#[derive(Debug, Serialize)]
pub(crate) struct Backup<'a> {
    pub(crate) path: String,
    pub(crate) revisions: &'a [String],
    pub(crate) bytes: u64,
}

/// `restore --format json`.
#[derive(Debug, Serialize)]
pub(crate) struct Restore<'a> {
    pub(crate) file: String,
    pub(crate) database: &'a str,
    pub(crate) replaced: &'a [String],
    pub(crate) restored: &'a [String],
}
