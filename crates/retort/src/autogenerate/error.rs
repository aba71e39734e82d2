//! What can go wrong comparing the declared schema with the migrations.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use crate::db::DbError;
use crate::{Diagnostic, ErrorClass};

/// A failure of `revision --autogenerate`, `check`, `baseline` or
/// `schema dump`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// A file of `schema.files` cannot be read.
    #[error("cannot read the declared schema `{}`: {source}", path.display())]
    ReadDeclared {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// `schema.command` could not be run, or failed.
    #[error("`schema.command` (`{command}`): {message}")]
    Command {
        /// The command line.
        command: String,
        /// What went wrong.
        message: String,
    },
    /// A declared-schema file cannot be split into statements.
    #[error("{}:{line}: {message}", path.display())]
    DeclaredSyntax {
        /// The file.
        path: PathBuf,
        /// Where.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A `-- retort:` comment in the declared schema that is not a hint.
    #[error("{}:{line}: {message}", path.display())]
    BadHint {
        /// The file.
        path: PathBuf,
        /// Where.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The scratch database refused a statement of the declared schema.
    #[error("{}:{line}: the database refused `{statement}`: {error}", path.display())]
    DeclaredStatement {
        /// The file.
        path: PathBuf,
        /// The statement's first line.
        line: usize,
        /// The statement, shortened.
        statement: String,
        /// The database's words.
        error: DbError,
    },
    /// No scratch database could be made.
    #[error("cannot make a scratch database on {url}: {error}")]
    DevDatabase {
        /// The server, redacted.
        url: String,
        /// The database's words.
        error: DbError,
    },
    /// Reading a schema, or running the generated SQL, failed.
    #[error("{context}: {error}")]
    Database {
        /// What was being done.
        context: String,
        /// The database's words.
        error: DbError,
    },
    /// `baseline` in a project that already has revisions.
    #[error("the project already has {count} revision(s): `baseline` writes the first one")]
    NotFirst {
        /// How many.
        count: usize,
    },
    /// `baseline` of a database without tables or views.
    #[error("{url} holds no schema to baseline: no tables, views or types besides retort's own")]
    NothingToBaseline {
        /// The database, redacted.
        url: String,
    },
    /// Replaying the migrations on a scratch database failed.
    #[error("replaying the migrations on a scratch database: {source}")]
    Replay {
        /// The migrator's error.
        source: Box<crate::Error>,
    },
}

impl Diagnostic for SchemaError {
    fn kind(&self) -> &'static str {
        match self {
            SchemaError::ReadDeclared { .. } => "declared_schema_missing",
            SchemaError::DeclaredSyntax { .. } | SchemaError::DeclaredStatement { .. } => {
                "declared_schema_invalid"
            }
            SchemaError::BadHint { .. } => "bad_hint",
            SchemaError::Command { .. } => "schema_command_failed",
            SchemaError::NotFirst { .. } => "baseline_not_first",
            SchemaError::NothingToBaseline { .. } => "nothing_to_baseline",
            SchemaError::DevDatabase { .. } => "dev_database",
            SchemaError::Database { .. } => "database",
            SchemaError::Replay { source } => source.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            SchemaError::ReadDeclared { .. } => {
                "write the schema the migrations should build there (plain DDL), or list its files in `schema.files` in retort.toml".into()
            }
            SchemaError::Command { .. } => {
                "run the command yourself in the project's directory: its standard output must be the declared schema's DDL".into()
            }
            SchemaError::DeclaredSyntax { .. } => {
                "close what is left open (a quote, a parenthesis, a comment)".into()
            }
            SchemaError::BadHint { .. } => {
                "write `-- retort:renamed-from OLD_NAME` on its own line, right above the `CREATE TABLE` line or the column's line".into()
            }
            SchemaError::DeclaredStatement { .. } => {
                "fix the statement: the declared schema runs, in its files' order, on an empty scratch database".into()
            }
            SchemaError::DevDatabase { .. } => {
                "set `schema.dev_url` in retort.toml to a server where this user may create and drop databases (PostgreSQL: CREATEDB; MySQL: the CREATE and DROP privileges)".into()
            }
            SchemaError::Database { .. } => "check that the database is reachable and this user may read its catalog".into(),
            SchemaError::NotFirst { .. } => "`retort revision --autogenerate --from-db -m MESSAGE` writes a revision from the database's schema into a project that has revisions".into(),
            SchemaError::NothingToBaseline { .. } => "check the URL (`--url`, `DATABASE_URL` or `database.url`): baseline reads an existing database; a new project starts with `retort revision`".into(),
            SchemaError::Replay { source } => return source.hint(),
        })
    }

    fn class(&self) -> ErrorClass {
        match self {
            SchemaError::DevDatabase { .. } | SchemaError::Database { .. } => ErrorClass::Runtime,
            SchemaError::Replay { source } => source.class(),
            _ => ErrorClass::Input,
        }
    }
}
