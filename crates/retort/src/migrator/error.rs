use std::path::PathBuf;

use thiserror::Error;

use super::plan::{Direction, PlanError};
use crate::db::{DbError, DbErrorKind};

/// A statement of a migration that failed.
#[derive(Debug, Error)]
#[error("{}:{line}: revision `{revision}` ({direction}) failed: {error}\n  statement: {excerpt}", path.display())]
pub struct StatementFailure {
    /// The revision.
    pub revision: String,
    /// Its upgrade or its downgrade.
    pub direction: Direction,
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
    /// Whether statements before the failing one stayed applied (the
    /// migration commits in parts, and the journal records them).
    pub partial: bool,
    /// The failing statement's 1-based position in its section.
    pub statement: usize,
    /// What the failure left behind that needs a hand (PostgreSQL's
    /// INVALID index after a failed `CREATE INDEX CONCURRENTLY`).
    pub note: Option<String>,
}

/// One statement of an interrupted migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalPosition {
    /// 1-based position in the section.
    pub statement: usize,
    /// Line in the revision file.
    pub line: usize,
    /// The statement, shortened (empty when the file is gone).
    pub excerpt: String,
}

/// Where a migration that commits in parts stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interruption {
    /// The revision.
    pub revision: String,
    /// Its upgrade or its downgrade.
    pub direction: Direction,
    /// Its file, when one defines it.
    pub path: Option<PathBuf>,
    /// How many statements the section has (when the file is there).
    pub total: Option<usize>,
    /// How many completed.
    pub completed: usize,
    /// The last completed statement.
    pub last_done: Option<JournalPosition>,
    /// A statement outside a transaction that was running: it may or may
    /// not have completed.
    pub running: Option<JournalPosition>,
    /// The statement a resume starts with.
    pub next: Option<JournalPosition>,
    /// What needs a hand first (an INVALID index).
    pub note: Option<String>,
    /// The server session still running the statement a killed run left
    /// `running`.
    pub still_running: Option<String>,
}

fn position(at: &JournalPosition, path: Option<&PathBuf>) -> String {
    let place = match path {
        Some(path) => format!("{}:{}", path.display(), at.line),
        None => format!("line {}", at.line),
    };
    if at.excerpt.is_empty() {
        format!("statement {} ({place})", at.statement)
    } else {
        format!("statement {} ({place}: {})", at.statement, at.excerpt)
    }
}

fn interrupted_message(i: &Interruption) -> String {
    let path = i.path.as_ref();
    let total = i.total.map_or(String::new(), |t| format!(" of {t}"));
    let mut out = format!(
        "revision `{}` ({}) stopped half way: {} statement(s){total} completed",
        i.revision, i.direction, i.completed
    );
    if let Some(last) = &i.last_done {
        out.push_str(&format!(", the last being {}", position(last, path)));
    }
    if let (Some(running), Some(session)) = (&i.running, &i.still_running) {
        out.push_str(&format!(
            "; {} is still running on the server (session {session}), left by a run that stopped",
            position(running, path)
        ));
    } else if let Some(running) = &i.running {
        out.push_str(&format!(
            "; {} was running outside a transaction and may or may not have completed",
            position(running, path)
        ));
    } else if let Some(next) = &i.next {
        out.push_str(&format!("; {} did not complete", position(next, path)));
    }
    out
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
    /// A migration begins or ends a transaction itself, which would commit
    /// part of it behind retort's back.
    #[error("{}:{line}: revision `{revision}` ({direction}) controls the transaction itself: `{excerpt}`", path.display())]
    TransactionControl {
        /// The revision.
        revision: String,
        /// Its upgrade or its downgrade.
        direction: Direction,
        /// Its file.
        path: PathBuf,
        /// The line of the statement in the file.
        line: usize,
        /// The statement, shortened.
        excerpt: String,
    },
    /// The version table names revisions no file defines.
    #[error("can't locate revision {}: the database is at it, but no revision file defines it", ids.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", "))]
    UnknownRevisions {
        /// The unknown ids.
        ids: Vec<String>,
    },
    /// Version rows of which one lies below another: the lower one is
    /// stale (another tool or a hand edit left it).
    #[error("the version table is inconsistent: {}", pairs.iter().map(|(below, above)| format!("row `{below}` lies below row `{above}`")).collect::<Vec<_>>().join(", "))]
    OverlappingRows {
        /// (the row below, the row above it).
        pairs: Vec<(String, String)>,
        /// The rows to keep: those no other row lies above.
        keep: Vec<String>,
    },
    /// No version table, while the applied table records revisions of
    /// this project as applied: it was dropped, and upgrading would run
    /// them again.
    #[error("the version table `{table}` does not exist, but the applied table records {} of this project's revisions as applied ({}): was it dropped?", applied.len(), crate::graph::quote(applied))]
    VersionTableMissing {
        /// The version table's name.
        table: String,
        /// The revisions the applied table records.
        applied: Vec<String>,
    },
    /// No version table of retort's, but another migration tool's: every
    /// revision would run again on a schema that already has them.
    #[error(
        "the database has no version table `{version_table}` but has `{table}`, where {tool} records its migrations: another tool manages this database, and retort cannot tell which revisions its schema already has"
    )]
    ForeignHistory {
        /// The other tool's table.
        table: String,
        /// The tool.
        tool: &'static str,
        /// retort's version table.
        version_table: String,
    },
    /// A revision named where an applied one is needed (`rehash
    /// --accept`).
    #[error("revision `{revision}` is not applied, so there is no recorded checksum to replace")]
    NotApplied {
        /// The revision.
        revision: String,
    },
    /// Applied revisions whose files were edited since.
    #[error("{} applied revision file(s) changed since they were applied: {}", changed.len(), changed.iter().map(|(id, path)| format!("`{id}` ({})", path.display())).collect::<Vec<_>>().join(", "))]
    Changed {
        /// Revision ids and files.
        changed: Vec<(String, PathBuf)>,
    },
    /// A revision whose sections name dialects, none of them the one
    /// running, and none for every dialect.
    #[error("revision `{revision}` ({}) has no {direction} section for {dialect}: its sections name other dialects", path.display())]
    NotCovered {
        /// The revision.
        revision: String,
        /// Its file.
        path: PathBuf,
        /// Upgrade or downgrade.
        direction: Direction,
        /// The database's dialect.
        dialect: crate::Dialect,
    },
    /// A downgrade through a revision without a downgrade section.
    #[error("revision `{revision}` ({}) has no `-- retort:downgrade` section, so it cannot be downgraded", path.display())]
    Irreversible {
        /// The revision.
        revision: String,
        /// Its file.
        path: PathBuf,
    },
    /// A code revision whose function is not registered here (the CLI,
    /// or an application that does not register it).
    #[error("revision `{revision}` ({}:{line}) runs the Rust function `{name}` (version {version}), which is not registered here", path.display())]
    CodeNotRegistered {
        /// The revision.
        revision: String,
        /// Its file.
        path: PathBuf,
        /// The `-- retort:code` line.
        line: usize,
        /// The function's name.
        name: String,
        /// Its version.
        version: String,
    },
    /// A code revision's function failed; its transaction rolled back.
    #[error("revision `{revision}` ({}) {direction}: its function {function} failed: {message}", path.display(), direction = direction.section_name())]
    CodeFailed {
        /// The revision.
        revision: String,
        /// Its file.
        path: PathBuf,
        /// Upgrade or downgrade.
        direction: Direction,
        /// The function's name and version: "`name` (version 2)".
        function: String,
        /// The function's error.
        message: String,
    },
    /// A downgrade through a code revision whose function is registered
    /// without a downgrade.
    #[error("revision `{revision}` ({}) runs the Rust function `{name}`, registered without a downgrade, so it cannot be downgraded", path.display())]
    CodeIrreversible {
        /// The revision.
        revision: String,
        /// Its file.
        path: PathBuf,
        /// The function's name.
        name: String,
    },
    /// `--sql` over a code revision.
    #[error("revision `{revision}` ({}) runs the Rust function `{name}`, which a SQL script cannot hold", path.display())]
    CodeInScript {
        /// The revision.
        revision: String,
        /// Its file.
        path: PathBuf,
        /// The function's name.
        name: String,
    },
    /// A revision in the plan is marked `-- retort:review`: a person must
    /// read its SQL before it runs.
    #[error("revision `{revision}` ({}:{line}) is marked for review: {reason}", path.display())]
    NeedsReview {
        /// The first marked revision of the plan.
        revision: String,
        /// Its file.
        path: PathBuf,
        /// The directive's line.
        line: usize,
        /// Why, as written.
        reason: String,
        /// The plan's other marked revisions, in plan order.
        others: Vec<String>,
    },
    /// `--atomic` with a migration that must run outside a transaction.
    #[error("revision `{revision}` cannot be part of an `--atomic` run: {reason}")]
    AtomicNotPossible {
        /// The revision.
        revision: String,
        /// What in it needs to run outside a transaction.
        reason: String,
    },
    /// A migration that commits in parts stopped half way (the journal
    /// says how far it got); nothing else runs until it is resumed or
    /// repaired.
    #[error("{}", interrupted_message(.0))]
    Interrupted(Box<Interruption>),
    /// A statement the journal records as completed is no longer in the
    /// file as it ran.
    #[error("{}:{line}: statement {statement} of revision `{revision}` changed since it ran (or the file lost it), so retort cannot tell what the database holds", path.display())]
    JournalMismatch {
        /// The revision.
        revision: String,
        /// Its file.
        path: PathBuf,
        /// The statement's 1-based position in its section.
        statement: usize,
        /// The line it was at when it ran.
        line: usize,
    },
    /// The journal and the version table disagree about a revision.
    #[error("the journal says revision `{revision}` stopped half way through its {direction}, but the version table records it as {}", if *applied { "applied" } else { "not applied" })]
    JournalDisagrees {
        /// The revision.
        revision: String,
        /// Its upgrade or its downgrade.
        direction: Direction,
        /// What the version table says.
        applied: bool,
    },
    /// `repair` of a revision the journal does not hold.
    #[error("revision `{revision}` is not half-applied: the journal holds {}", if holds.is_empty() { "nothing".to_owned() } else { holds.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ") })]
    NotInterrupted {
        /// The revision asked for.
        revision: String,
        /// The revisions the journal does hold.
        holds: Vec<String>,
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
    /// The database is a PostgreSQL hot standby: it replays its
    /// primary's changes and accepts no writes.
    #[error(
        "{server} is a hot standby (in recovery): it replays its primary's changes and accepts no writes, so retort does not migrate it"
    )]
    Standby {
        /// The database, described.
        server: String,
    },
    /// `--max-replica-lag` where the server cannot say how far its
    /// replicas are.
    #[error("`--max-replica-lag` cannot measure the replicas of {server}: {reason}")]
    ReplicaLagUnknown {
        /// The database, described.
        server: String,
        /// Why not.
        reason: String,
    },
    /// A target that does not fit the direction.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A revision file could not be read again, or changed, when its SQL
    /// was needed.
    #[error(transparent)]
    Script(#[from] crate::script::ScriptError),
}

impl crate::Diagnostic for MigrateError {
    /// A stable snake_case name.
    fn kind(&self) -> &'static str {
        match self {
            MigrateError::Database { error, .. } => crate::open::kind_of(error),
            MigrateError::Statement(_) => "statement_failed",
            MigrateError::Split { .. } => "bad_sql",
            MigrateError::TransactionControl { .. } => "transaction_control",
            MigrateError::UnknownRevisions { .. } => "unknown_revision",
            MigrateError::OverlappingRows { .. } => "overlapping_rows",
            MigrateError::NotApplied { .. } => "not_applied",
            MigrateError::VersionTableMissing { .. } => "version_table_missing",
            MigrateError::ForeignHistory { .. } => "foreign_history",
            MigrateError::Changed { .. } => "checksum_mismatch",
            MigrateError::Irreversible { .. } | MigrateError::CodeIrreversible { .. } => {
                "irreversible"
            }
            MigrateError::NotCovered { .. } => "no_section_for_dialect",
            MigrateError::NeedsReview { .. } => "needs_review",
            MigrateError::CodeNotRegistered { .. } => "code_not_registered",
            MigrateError::CodeFailed { .. } => "code_failed",
            MigrateError::CodeInScript { .. } => "code_in_script",
            MigrateError::AtomicNotPossible { .. } => "atomic_not_possible",
            MigrateError::Interrupted(_) => "interrupted",
            MigrateError::JournalMismatch { .. } => "journal_mismatch",
            MigrateError::NotInterrupted { .. } => "not_interrupted",
            MigrateError::JournalDisagrees { .. } => "journal_conflict",
            MigrateError::Tampered { .. } => "version_table_changed",
            MigrateError::Standby { .. } => "standby",
            MigrateError::ReplicaLagUnknown { .. } => "replica_lag_unknown",
            MigrateError::Plan(e) => e.kind(),
            MigrateError::Script(e) => e.kind(),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        let input = matches!(
            self,
            MigrateError::Split { .. }
                | MigrateError::TransactionControl { .. }
                | MigrateError::UnknownRevisions { .. }
                | MigrateError::OverlappingRows { .. }
                | MigrateError::VersionTableMissing { .. }
                | MigrateError::ForeignHistory { .. }
                | MigrateError::NotApplied { .. }
                | MigrateError::Changed { .. }
                | MigrateError::Irreversible { .. }
                | MigrateError::CodeIrreversible { .. }
                | MigrateError::NotCovered { .. }
                | MigrateError::NeedsReview { .. }
                | MigrateError::CodeNotRegistered { .. }
                | MigrateError::CodeInScript { .. }
                | MigrateError::AtomicNotPossible { .. }
                | MigrateError::JournalMismatch { .. }
                | MigrateError::NotInterrupted { .. }
                | MigrateError::ReplicaLagUnknown { .. }
                | MigrateError::Plan(_)
        );
        match self {
            MigrateError::Script(e) => e.class(),
            _ if input => crate::ErrorClass::Input,
            _ => crate::ErrorClass::Runtime,
        }
    }

    /// What to type next.
    fn hint(&self) -> Option<String> {
        Some(match self {
            MigrateError::Database { error, context } => crate::open::hint_for(context, error),
            MigrateError::Statement(failure) => {
                let StatementFailure {
                    revision,
                    path,
                    line,
                    error,
                    left_at,
                    partial,
                    note,
                    ..
                } = failure.as_ref();
                let note = note.as_ref().map_or(String::new(), |n| format!("{n}; "));
                let at = if left_at.is_empty() {
                    "base (no revision)".to_owned()
                } else {
                    left_at.join(", ")
                };
                // What to do about the statement, then how to go on: a
                // migration that committed parts must be resumed.
                let cause = match error.kind {
                    DbErrorKind::LockTimeout => "another transaction holds a lock it needs (see `pg_stat_activity` on PostgreSQL, `SHOW PROCESSLIST` on MySQL/MariaDB): wait for it to end, or allow more with `--statement-lock-timeout SECONDS` / `--lock-retries N`".to_owned(),
                    DbErrorKind::AlreadyExists if !*partial => format!(
                        "the object already exists: if the database already has this revision's changes, mark it applied with `retort stamp {revision}`"
                    ),
                    DbErrorKind::AlreadyExists => "the object already exists: if an earlier run had completed this statement, `retort resume --skip-running` goes on after it; otherwise drop the object".to_owned(),
                    _ => format!("fix the statement in {}:{line}", path.display()),
                };
                if *partial {
                    format!(
                        "{note}{cause}; the statements before line {line} stayed applied (the journal records them): `retort resume` continues from this one, or undo them by hand and run `retort repair {revision} --rolled-back`; the database is at {at}"
                    )
                } else {
                    format!(
                        "{note}{cause}; nothing of `{revision}` was kept, so run the command again; the database is at {at}"
                    )
                }
            }
            MigrateError::UnknownRevisions { ids } => format!(
                "restore the revision file(s), or point `migrations.dirs` at them; to forget them, `retort stamp --purge <rev>` rewrites the version table (e.g. `retort stamp --purge {}` after checking the schema)",
                ids.first().map_or("head", |_| "head")
            ),
            MigrateError::OverlappingRows { keep, .. } => format!(
                "after checking the schema, `retort stamp --purge {}` keeps the rows no other lies above; `retort status` shows the table",
                keep.join(" ")
            ),
            MigrateError::NotApplied { .. } => "`retort current` shows what is applied; `--accept` takes applied revisions whose files changed (`retort verify` lists them)".into(),
            MigrateError::VersionTableMissing { .. } => "after checking the schema, `retort stamp <rev>` recreates it at the revision the database is at (`retort history` lists them); `retort stamp --purge base` if the database was emptied".into(),
            MigrateError::ForeignHistory { table, .. } if table == "alembic_version" => "if the revisions keep Alembic's ids (as `retort import alembic` writes them), set `version_table = \"alembic_version\"` under `[migrations]` in retort.toml; otherwise `retort stamp <revision>` marks the revision the schema already has (`retort history` lists them)".into(),
            MigrateError::ForeignHistory { tool, .. } => format!(
                "`retort stamp <revision>` marks the revision the existing schema corresponds to (`retort history` lists them); `retort stamp base` lets retort manage the database beside {tool}, starting from nothing"
            ),
            MigrateError::Changed { changed } => format!(
                "restore the files (an applied revision should not change: write a new revision instead); if the change is meant (a comment, a fix already made by hand), record the files as they are now with `retort rehash --accept {}`; `--allow-changed` runs this once without recording anything",
                changed.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(" ")
            ),
            MigrateError::Irreversible { .. } => "add a `-- retort:downgrade` section, or choose a target above this revision".into(),
            MigrateError::CodeIrreversible { name, .. } => format!(
                "register `{name}` with a downgrade (`CodeMigration::new(…).with_downgrade(…)`), or choose a target above this revision"
            ),
            MigrateError::CodeNotRegistered { name, .. } => format!(
                "the application that registers `{name}` (`retort::CodeMigration`, `Migrations::with_code`) runs this revision; the retort CLI cannot run Rust code"
            ),
            MigrateError::CodeFailed { .. } => "fix the function (and bump the version in its `-- retort:code` line if it had already run somewhere), then run again; where DDL is transactional nothing of the revision was kept".into(),
            MigrateError::CodeInScript { .. } => "run the upgrade from the application that registers the function; `--sql` can write the revisions before it (`--sql` with a target below it)".into(),
            MigrateError::NotCovered { direction, dialect, .. } => format!(
                "add a `-- retort:{direction} {dialect}` section, or one without a dialect for every database the others do not name"
            ),
            MigrateError::NeedsReview { others, .. } => {
                let mut hint = "read its SQL, correct it if needed, then delete the `-- retort:review` line and run the command again".to_owned();
                if !others.is_empty() {
                    hint.push_str(&format!(
                        "; the plan holds {} more revision(s) marked for review: {}",
                        others.len(),
                        crate::graph::quote(others)
                    ));
                }
                hint
            }
            MigrateError::AtomicNotPossible { .. } => "run without `--atomic`".into(),
            MigrateError::Interrupted(i) => {
                let note = i.note.as_ref().map_or(String::new(), |n| format!("{n}; "));
                let revision = &i.revision;
                let undo = format!(
                    "if you finished or undid it by hand instead, record that with `retort repair {revision} --done` or `retort repair {revision} --rolled-back`"
                );
                match (&i.running, &i.next) {
                    (Some(running), _) if i.still_running.is_some() => format!(
                        "{note}wait for statement {} to end (`retort status` shows when), or cancel it (`SELECT pg_cancel_backend({session})` on PostgreSQL, `KILL QUERY {session}` on MySQL/MariaDB); then `retort resume --skip-running` if it completed, `retort resume` if not",
                        running.statement,
                        session = i.still_running.as_deref().unwrap_or_default()
                    ),
                    (Some(running), _) => format!(
                        "{note}check whether statement {} completed: if it did, `retort resume --skip-running` continues after it; if not, `retort resume` runs it again; {undo}",
                        running.statement
                    ),
                    (None, Some(next)) => format!(
                        "{note}`retort resume` runs the rest of `{revision}` from statement {} (line {}); {undo}",
                        next.statement, next.line
                    ),
                    (None, None) => format!(
                        "{note}`retort resume` records `{revision}` as done; {undo}"
                    ),
                }
            }
            MigrateError::JournalMismatch { revision, .. } => format!(
                "restore the revision file as it ran (see version control), then `retort resume`; or finish the migration by hand and run `retort repair {revision} --done` (or undo it and `--rolled-back`)"
            ),
            MigrateError::JournalDisagrees { revision, .. } => format!(
                "check the schema, then settle it with `retort repair {revision} --done` or `retort repair {revision} --rolled-back`"
            ),
            MigrateError::NotInterrupted { holds, .. } => match holds.first() {
                Some(h) => format!("`retort repair {h} --done` or `--rolled-back`; `retort status` shows the interrupted migration"),
                None => "there is nothing to repair; `retort status` shows the database's state".into(),
            },
            MigrateError::Tampered { .. } => "another tool changed the version table during the run; check it with `retort current`".into(),
            MigrateError::Standby { .. } => "point `--url` (or `DATABASE_URL`, `database.url`) at the primary, where `SELECT pg_is_in_recovery()` says false; `retort status` and `retort current` read a standby".into(),
            MigrateError::ReplicaLagUnknown { .. } => "leave out `--max-replica-lag` for this database, or make the replicas visible as the message says (docs/deploying.md, \"Replicas\")".into(),
            MigrateError::Plan(e) => return e.hint(),
            MigrateError::Script(e) => return e.hint(),
            MigrateError::Split { message, .. } if message.starts_with("`)`") => "remove the `)`, or add the `(` it closes".into(),
            MigrateError::Split { .. } => "close what the line opens (a parenthesis, a quote, a comment or a `BEGIN … END` block), or end the statement with `;`".into(),
            MigrateError::TransactionControl { .. } => "remove the statement: retort commits each migration with its version change (and, with `-- retort:transaction off`, records each statement in a transaction of its own)".into(),
        })
    }
}
