//! Runs plans against a database: upgrade, downgrade, stamp, and the
//! read-only views (current, status, verify) plus rehash and offline SQL.
//!
//! The flow is always: take the run lock, read the version rows, plan with
//! the pure functions of [`plan`], check checksums, then execute step by
//! step. Every step runs its SQL and its version-table change in one
//! transaction; `--atomic` wraps the whole plan in one more. The library
//! never prints: progress goes to an [`Event`] callback and, as the same
//! events, to `tracing` (see `trace.rs` for the levels), so that an
//! application's own logging shows them.
//!
//! An application that migrates its own database when it starts needs one
//! line, [`crate::Migrations::upgrade`]; the rest is a [`Migrator`], which
//! the CLI runs too:
//!
//! ```
//! use retort::db::Access;
//! use retort::migrator::{Event, Migrator, Options, Request};
//! # let dir = tempfile::tempdir().unwrap();
//! # let dir = dir.path();
//! # std::fs::create_dir(dir.join("migrations")).unwrap();
//! # std::fs::write(
//! #     dir.join("migrations/0001_3a4feffbb7a1_add_users.sql"),
//! #     "-- retort:revision 3a4feffbb7a1\n-- retort:message add users table\n\n\
//! #      -- retort:upgrade\nCREATE TABLE users (id integer PRIMARY KEY);\n\n\
//! #      -- retort:downgrade\nDROP TABLE users;\n",
//! # )
//! # .unwrap();
//!
//! let migrations = retort::Migrations::from_dir(dir.join("migrations"));
//! let url = format!("sqlite:///{}", dir.join("app.db").display());
//! let mut migrator = Migrator::open(migrations.project()?, Some(&url), Access::Write)?;
//! let mut options = Options::default();
//! options.lock_timeout = std::time::Duration::from_secs(60);
//! // Replicas starting together take turns on the run lock; the later
//! // ones find nothing left to do.
//! let outcome = migrator.run(&Request::upgrade("head"), &options, &mut |event| {
//!     if let Event::StepFinished { done } = event {
//!         eprintln!("applied {} ({} ms)", done.revision, done.duration_ms);
//!     }
//! })?;
//! assert_eq!(outcome.heads, ["3a4feffbb7a1"]);
//! assert_eq!(migrator.current()?.heads, ["3a4feffbb7a1"]);
//! # Ok::<(), retort::Error>(())
//! ```

mod api;
mod error;
mod inspect;
mod journal;
mod lock;
mod offline;
mod online;
pub mod plan;
mod prepare;
mod replicas;
mod resume;
mod run;
mod segments;
mod settled;
mod state;
mod steps;
mod store;
mod trace;
mod walk;

use std::time::Duration;

pub use api::{Migrator, OfflineSql};
pub use error::{Interruption, JournalPosition, MigrateError, StatementFailure};
pub use inspect::{Current, Finding, FindingKind, RehashReport, StateProblem, Status};
pub use journal::{JournalRow, JournalState};
pub use lock::LockStatus;
pub use plan::{Direction, Step};
pub use replicas::ReplicaLag;
pub use settled::Settled;
pub use state::ForeignHistory;
pub use store::AppliedRow;

// The state tables' names are the database layer's to know too (it leaves
// them out of what a database holds), so they are defined there.
pub use crate::db::{APPLIED_TABLE, AUDIT_TABLE, JOURNAL_TABLE};

use crate::db::{DbError, Driver};
use crate::project::Project;
use store::Tables;

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// Apply revisions up to a target (`head` by default).
    Upgrade {
        /// The target.
        target: String,
    },
    /// Revert revisions down to a target.
    Downgrade {
        /// The target.
        target: String,
    },
    /// Finish the migration a run left half way (see the journal).
    Resume {
        /// Count the statement that was running outside a transaction
        /// when the run stopped as completed.
        skip_running: bool,
    },
    /// Record how a half-applied migration was settled by hand.
    Repair {
        /// The revision (an id or unique prefix).
        revision: String,
        /// `true`: it was finished (recorded as applied, or as reverted
        /// for a downgrade); `false`: it was undone (nothing recorded).
        done: bool,
    },
    /// Rewrite the version table to the targets without running SQL.
    Stamp {
        /// The revisions to stamp.
        targets: Vec<String>,
        /// Empty the version table first (also allows unknown rows).
        purge: bool,
    },
}

/// How to run: [`Options::default`], with the fields to change set.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Run the whole plan in one transaction.
    pub atomic: bool,
    /// Proceed even when applied revision files changed.
    pub allow_changed: bool,
    /// How long to wait for another runner's lock.
    pub lock_timeout: Duration,
    /// Plan only: read the state, return the steps, change nothing.
    pub dry_run: bool,
    /// How long one statement may wait for a table lock before its
    /// migration is rolled back and retried (PostgreSQL `lock_timeout`);
    /// `None` leaves the server's setting.
    pub statement_lock_timeout: Option<Duration>,
    /// How many times such a migration is retried, with doubling pauses
    /// from half a second.
    pub lock_retries: u32,
    /// Before each migration (before the plan, with `atomic`), wait until
    /// every replica the server reports is at most this far behind
    /// (`--max-replica-lag`); `None` does not look.
    pub max_replica_lag: Option<Duration>,
}

impl Request {
    /// Apply revisions up to `target` (`head`, a revision, `+2`…).
    pub fn upgrade(target: &str) -> Request {
        Request::Upgrade {
            target: target.to_owned(),
        }
    }

    /// Revert revisions down to `target` (`base`, a revision, `-1`…).
    pub fn downgrade(target: &str) -> Request {
        Request::Downgrade {
            target: target.to_owned(),
        }
    }

    /// Rewrite the version table to `targets` without running SQL.
    pub fn stamp(targets: &[&str]) -> Request {
        Request::Stamp {
            targets: targets.iter().map(|t| (*t).to_owned()).collect(),
            purge: false,
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            atomic: false,
            allow_changed: false,
            lock_timeout: Duration::from_secs(300),
            dry_run: false,
            statement_lock_timeout: Some(Duration::from_secs(5)),
            lock_retries: 4,
            max_replica_lag: None,
        }
    }
}

/// Progress, for a caller to show.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Another runner holds the lock; waiting.
    LockWait {
        /// Who holds it, when the database says.
        holder: String,
    },
    /// Something the user should know about the run (the server's
    /// settings): said once, the run goes on.
    Warning {
        /// What, in words.
        message: String,
    },
    /// The lock was acquired after waiting.
    LockAcquired {
        /// How long it took.
        waited: Duration,
    },
    /// The plan about to run (empty: nothing to do).
    Plan {
        /// Revision ids and directions, in order.
        steps: Vec<(String, Direction)>,
    },
    /// A statement timed out waiting for a lock; the migration was rolled
    /// back and will be retried.
    LockRetry {
        /// The revision.
        revision: String,
        /// Which retry this is (1-based).
        attempt: u32,
        /// How many retries are allowed.
        of: u32,
        /// The pause before it.
        wait: Duration,
    },
    /// A step starts.
    StepStarted {
        /// 0-based position in the plan.
        index: usize,
        /// Plan length.
        total: usize,
        /// The revision id.
        revision: String,
        /// The revision's message.
        message: String,
        /// Up or down.
        direction: Direction,
    },
    /// A step finished.
    StepFinished {
        /// What ran.
        done: StepDone,
    },
    /// Replicas are further behind than `--max-replica-lag`: waiting
    /// before the next migration (said again when that changes, and every
    /// ten seconds).
    ReplicaWait {
        /// The bound.
        bound: Duration,
        /// The replicas behind it.
        replicas: Vec<ReplicaLag>,
    },
    /// The replicas waited for are within the bound again.
    ReplicasCaughtUp {
        /// How long the wait took.
        waited: Duration,
        /// The bound.
        bound: Duration,
    },
}

/// What a step did to its revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Ran its upgrade.
    Up,
    /// Ran its downgrade.
    Down,
    /// Marked it applied or not, running nothing.
    Stamp,
}

impl StepKind {
    /// `up`, `down` or `stamp`.
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Up => "up",
            StepKind::Down => "down",
            StepKind::Stamp => "stamp",
        }
    }
}

impl From<Direction> for StepKind {
    fn from(direction: Direction) -> StepKind {
        match direction {
            Direction::Up => StepKind::Up,
            Direction::Down => StepKind::Down,
        }
    }
}

/// A step that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepDone {
    /// The revision id.
    pub revision: String,
    /// The revision's message.
    pub message: String,
    /// What the step did.
    pub direction: StepKind,
    /// How long it took.
    pub duration_ms: u64,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Steps in the order executed (or planned, for a dry run).
    pub steps: Vec<StepDone>,
    /// The version rows afterwards.
    pub heads: Vec<String>,
}

/// What runs a project's migrations, given a connection per call: the
/// state tables it found (kept across calls, so it serves one database
/// only: [`Migrator`] pairs it with its connection), the settings of the
/// version tables and of the server.
#[derive(Debug)]
pub(crate) struct Engine<'p> {
    project: &'p Project,
    tables: Tables,
    /// `lock_timeout` written at the top of offline PostgreSQL scripts.
    offline_lock_timeout: Option<Duration>,
    /// Whether the server commits around each statement that changes the
    /// schema (see [`crate::db::ServerFacts::ddl_commits_implicitly`]):
    /// such statements run alone, recorded in the journal.
    ddl_commits_implicitly: bool,
    /// While a run holds the lease: the flag that says it was lost.
    lease_lost: std::sync::Mutex<Option<std::sync::Arc<std::sync::atomic::AtomicBool>>>,
}

impl<'p> Engine<'p> {
    /// The engine for `project` on `driver`'s server.
    pub(crate) fn new(project: &'p Project, driver: &dyn Driver) -> Engine<'p> {
        Engine::for_dialect(project, driver.dialect()).for_server(driver.server())
    }

    /// The engine for a server of `facts`' kind: where DDL commits
    /// implicitly, each statement that changes the schema runs alone, as
    /// on MySQL.
    #[must_use]
    pub(crate) fn for_server(mut self, facts: &crate::db::ServerFacts) -> Self {
        self.ddl_commits_implicitly = facts.ddl_commits_implicitly();
        self
    }

    /// The engine for a dialect without a connection (offline SQL).
    pub(crate) fn for_dialect(project: &'p Project, dialect: crate::Dialect) -> Engine<'p> {
        let migrations = &project.config().migrations;
        Engine {
            project,
            tables: Tables {
                dialect,
                schema: migrations.version_table_schema.clone(),
                version: migrations.version_table.clone(),
                applied: APPLIED_TABLE.to_owned(),
                journal: JOURNAL_TABLE.to_owned(),
                known: std::sync::atomic::AtomicU8::new(0),
                probed: std::sync::atomic::AtomicBool::new(false),
            },
            offline_lock_timeout: Options::default().statement_lock_timeout,
            ddl_commits_implicitly: dialect.commits_ddl_implicitly(),
            lease_lost: std::sync::Mutex::new(None),
        }
    }

    /// The engine for the version tables in `schema` instead of
    /// `migrations.version_table_schema`.
    #[must_use]
    pub(crate) fn with_version_table_schema(mut self, schema: Option<String>) -> Self {
        self.tables.schema = schema;
        self
    }

    /// Creates the state tables that do not exist yet.
    fn ensure_tables(&self, driver: &mut dyn Driver) -> Result<u8, MigrateError> {
        self.tables
            .ensure(driver)
            .map_err(db("creating the version tables"))
    }

    /// The graph index of an applied-table row that belongs to this
    /// project's applied set. The table is shared by every version table
    /// in its schema, so a row of a revision this project does not define,
    /// or has not applied (one Alembic downgraded, say), is someone
    /// else's or stale: never compared, never deleted.
    fn own_applied(&self, applied_set: &[bool], revision: &str) -> Option<usize> {
        self.project
            .graph()
            .index_of(revision)
            .filter(|&i| applied_set[i])
    }

    fn ids(&self, rows: &[usize]) -> Vec<String> {
        self.project
            .graph()
            .ids(rows)
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    }
}

fn db(context: &'static str) -> impl Fn(DbError) -> MigrateError {
    move |error| MigrateError::Database {
        context: context.to_owned(),
        error,
    }
}
