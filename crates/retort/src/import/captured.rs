//! What the capture script reports: each revision's metadata and the
//! statements each of its directions sent to the database.

use serde::Deserialize;

/// The script's whole answer: a result or a failure.
#[derive(Debug, Deserialize)]
pub(crate) struct Answer {
    pub(crate) ok: Option<Capture>,
    pub(crate) error: Option<Failure>,
}

/// Why the script could not capture the project.
#[derive(Debug, Deserialize)]
pub(crate) struct Failure {
    pub(crate) kind: String,
    pub(crate) message: String,
    pub(crate) detail: Option<String>,
}

/// Every revision, bases first.
#[derive(Debug, Deserialize)]
pub(crate) struct Capture {
    pub(crate) alembic: String,
    pub(crate) sqlalchemy: String,
    /// A literal `version_table` that env.py configures.
    pub(crate) version_table: Option<String>,
    pub(crate) version_table_schema: Option<String>,
    /// What the import could not honour (env.py that does not run).
    pub(crate) warnings: Vec<String>,
    pub(crate) revisions: Vec<Revision>,
}

/// One Alembic revision.
#[derive(Debug, Deserialize)]
pub(crate) struct Revision {
    pub(crate) revision: String,
    pub(crate) revises: Vec<String>,
    pub(crate) branch_labels: Vec<String>,
    pub(crate) depends_on: Vec<String>,
    pub(crate) message: String,
    /// The docstring's `Create Date:`, as Alembic wrote it.
    pub(crate) created: Option<String>,
    /// The Python file.
    pub(crate) path: String,
    pub(crate) upgrade: Direction,
    pub(crate) downgrade: Direction,
    pub(crate) has_downgrade: bool,
}

/// One direction of a revision as it ran.
#[derive(Debug, Deserialize)]
pub(crate) struct Direction {
    /// Whether Alembic called the function at all.
    pub(crate) ran: bool,
    pub(crate) statements: Vec<Statement>,
    /// Statements that read rows of the application's tables.
    pub(crate) reads: Vec<String>,
    /// The exception the function raised, if any.
    pub(crate) error: Option<String>,
    /// It sent a COMMIT of its own.
    pub(crate) commits: bool,
    /// Statements the database refused while the function went on (it
    /// caught the error); left out of the file.
    pub(crate) failed: Vec<Failed>,
}

/// A statement that failed without stopping its revision.
#[derive(Debug, Deserialize)]
pub(crate) struct Failed {
    pub(crate) sql: String,
    pub(crate) error: String,
}

/// A statement with its parameters written in.
#[derive(Debug, Deserialize)]
pub(crate) struct Statement {
    pub(crate) sql: String,
    /// Sent inside Alembic's `autocommit_block()`.
    pub(crate) autocommit: bool,
}
