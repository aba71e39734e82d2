use std::path::PathBuf;

use thiserror::Error;

use super::plan::PlanError;
use crate::db::{DbError, DbErrorKind};

/// A statement of a migration that failed.
#[derive(Debug, Error)]
#[error("{}:{line}: revision `{revision}` ({direction}) failed: {error}\n  statement: {excerpt}", path.display())]
pub struct StatementFailure {
    /// The revision.
    pub revision: String,
    /// `upgrade` or `downgrade`.
    pub direction: &'static str,
    /// Its file.
    pub path: PathBuf,
    /// The line of the failing statement in the file.
    pub line: usize,
    /// The statement, shortened.
    pub excerpt: String,
    /// The database's error.
    pub error: DbError,
    /// The version rows the database is left at.
    pub left_at: Vec<String>,
    /// Whether the migration ran outside a transaction (so statements
    /// before the failing one stay applied).
    pub partial: bool,
}

/// A failure while planning or running migrations.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The database refused something outside a migration's own SQL.
    #[error("{context}: {error}")]
    Database {
        /// What retort was doing.
        context: String,
        /// The database's error.
        error: DbError,
    },
    /// A migration's statement failed; its transaction was rolled back.
    #[error("{0}")]
    Statement(Box<StatementFailure>),
    /// The section's SQL does not split into statements.
    #[error("{}:{line}: revision `{revision}`: {message}", path.display())]
    Split {
        /// The revision.
        revision: String,
        /// Its file.
        path: PathBuf,
        /// The line in the file.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The version table names revisions no file defines.
    #[error("can't locate revision {}: the database is at it, but no revision file defines it", ids.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", "))]
    UnknownRevisions {
        /// The unknown ids.
        ids: Vec<String>,
    },
    /// Applied revisions whose files were edited since.
    #[error("{} applied revision file(s) changed since they were applied: {}", changed.len(), changed.iter().map(|(id, path)| format!("`{id}` ({})", path.display())).collect::<Vec<_>>().join(", "))]
    Changed {
        /// Revision ids and files.
        changed: Vec<(String, PathBuf)>,
    },
    /// A downgrade through a revision without a downgrade section.
    #[error("revision `{revision}` ({}) has no `-- retort:downgrade` section, so it cannot be downgraded", path.display())]
    Irreversible {
        /// The revision.
        revision: String,
        /// Its file.
        path: PathBuf,
    },
    /// `--atomic` with a migration that must run outside a transaction.
    #[error(
        "revision `{revision}` runs outside a transaction (`-- retort:transaction off`), so it cannot be part of an `--atomic` run"
    )]
    AtomicNotPossible {
        /// The revision.
        revision: String,
    },
    /// The version table changed while retort was updating it.
    #[error(
        "the version table changed underneath retort: expected to {action} row `{id}`, but it was not there"
    )]
    Tampered {
        /// What was being done.
        action: &'static str,
        /// The row.
        id: String,
    },
    /// A target that does not fit the direction.
    #[error(transparent)]
    Plan(#[from] PlanError),
}

impl MigrateError {
    /// A stable snake_case name.
    pub fn kind(&self) -> &'static str {
        match self {
            MigrateError::Database { error, .. } => match error.kind {
                DbErrorKind::Connect => "connect",
                DbErrorKind::ReadOnly => "read_only",
                DbErrorKind::LockTimeout => "lock_timeout",
                _ => "database",
            },
            MigrateError::Statement(_) => "statement_failed",
            MigrateError::Split { .. } => "bad_sql",
            MigrateError::UnknownRevisions { .. } => "unknown_revision",
            MigrateError::Changed { .. } => "checksum_mismatch",
            MigrateError::Irreversible { .. } => "irreversible",
            MigrateError::AtomicNotPossible { .. } => "atomic_not_possible",
            MigrateError::Tampered { .. } => "version_table_changed",
            MigrateError::Plan(e) => e.kind(),
        }
    }

    /// Whether the input (files, target) is at fault rather than the run.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            MigrateError::Split { .. }
                | MigrateError::UnknownRevisions { .. }
                | MigrateError::Changed { .. }
                | MigrateError::Irreversible { .. }
                | MigrateError::AtomicNotPossible { .. }
                | MigrateError::Plan(_)
        )
    }

    /// What to type next.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            MigrateError::Database { error, .. } => match error.kind {
                DbErrorKind::ReadOnly => "the database file or its directory is not writable by this user; check permissions".into(),
                DbErrorKind::LockTimeout => "another `retort` run is still migrating; wait for it, or raise the timeout with `--lock-timeout SECONDS`".into(),
                DbErrorKind::Connect => "check the database URL (`--url`, `DATABASE_URL` or `database.url` in retort.toml)".into(),
                _ => return None,
            },
            MigrateError::Statement(failure) => {
                let StatementFailure {
                    revision,
                    path,
                    line,
                    error,
                    left_at,
                    partial,
                    ..
                } = failure.as_ref();
                let at = if left_at.is_empty() {
                    "base (no revision)".to_owned()
                } else {
                    left_at.join(", ")
                };
                if error.kind == DbErrorKind::LockTimeout {
                    format!(
                        "another transaction holds a lock `{revision}` needs (see `pg_stat_activity`); nothing of it was kept; run the command again once it ends, or allow more with `--statement-lock-timeout SECONDS` / `--lock-retries N`; the database is at {at}"
                    )
                } else if error.kind == DbErrorKind::AlreadyExists {
                    format!(
                        "the object already exists: if the database already has this revision's changes, mark it applied with `retort stamp {revision}`; the database is at {at}"
                    )
                } else if *partial {
                    format!(
                        "the revision ran outside a transaction, so statements before line {line} stayed applied; fix the database by hand, then `retort stamp` it; the database is at {at}"
                    )
                } else {
                    format!(
                        "nothing of `{revision}` was kept; fix the statement in {}:{line} and run the command again; the database is at {at}",
                        path.display()
                    )
                }
            }
            MigrateError::UnknownRevisions { ids } => format!(
                "restore the revision file(s), or point `migrations.dirs` at them; to forget them, `retort stamp --purge <rev>` rewrites the version table (e.g. `retort stamp --purge {}` after checking the schema)",
                ids.first().map_or("head", |_| "head")
            ),
            MigrateError::Changed { .. } => "restore the files (an applied revision should not change: write a new revision instead), run `retort verify` for details, or pass `--allow-changed` to proceed on purpose".into(),
            MigrateError::Irreversible { .. } => "add a `-- retort:downgrade` section, or choose a target above this revision".into(),
            MigrateError::AtomicNotPossible { .. } => "run without `--atomic`".into(),
            MigrateError::Tampered { .. } => "another tool changed the version table during the run; check it with `retort current`".into(),
            MigrateError::Plan(e) => return e.hint(),
            MigrateError::Split { .. } => return None,
        })
    }
}
