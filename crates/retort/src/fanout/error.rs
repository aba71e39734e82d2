use std::path::PathBuf;

use thiserror::Error;

use crate::config::UrlError;
use crate::db::DbError;
use crate::{Diagnostic, ErrorClass};

/// A list of targets that cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FanoutError {
    /// The file of targets cannot be read.
    #[error("cannot read the list of targets `{}`: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A line is not a database URL.
    #[error("{origin}:{line}: {error}")]
    BadUrl {
        /// Where the list came from (a path, or `standard input`).
        origin: String,
        /// The 1-based line.
        line: usize,
        /// What is wrong with the URL.
        error: UrlError,
    },
    /// A line names a database an earlier line names.
    #[error("{origin}:{line}: {url} is listed already, on line {first}")]
    Repeated {
        /// Where the list came from.
        origin: String,
        /// The 1-based line.
        line: usize,
        /// The earlier line.
        first: usize,
        /// The URL, redacted.
        url: String,
    },
    /// The list holds no URL.
    #[error("{origin} lists no database URL")]
    NoTargets {
        /// Where the list came from.
        origin: String,
    },
    /// `--schemas` on a database that is not PostgreSQL.
    #[error(
        "`--schemas` takes the schemas of a PostgreSQL database, and {url} is a `{dialect}` one"
    )]
    SchemasNeedPostgres {
        /// The database, redacted.
        url: String,
        /// Its dialect.
        dialect: crate::Dialect,
    },
    /// No schema matches the pattern.
    #[error("no schema of {url} matches `{pattern}`")]
    NoSchemaMatches {
        /// The database, redacted.
        url: String,
        /// The pattern as written.
        pattern: String,
    },
    /// Listing the schemas failed.
    #[error("listing the schemas of {url}: {error}")]
    ListingSchemas {
        /// The database, redacted.
        url: String,
        /// The server's error.
        error: DbError,
    },
}

impl Diagnostic for FanoutError {
    fn kind(&self) -> &'static str {
        match self {
            FanoutError::Unreadable { .. } => "targets_unreadable",
            FanoutError::BadUrl { .. } => "bad_target",
            FanoutError::Repeated { .. } => "repeated_target",
            FanoutError::NoTargets { .. } => "no_targets",
            FanoutError::SchemasNeedPostgres { .. } => "schemas_need_postgres",
            FanoutError::NoSchemaMatches { .. } => "no_schema_matches",
            FanoutError::ListingSchemas { error, .. } => crate::open::kind_of(error),
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            FanoutError::Unreadable { .. } => {
                "check the path given to `--targets` (`-` reads the list from standard input)"
                    .into()
            }
            FanoutError::BadUrl { .. } => "write one database URL a line, as `--url` takes it; blank lines and lines starting with `#` are left out".into(),
            FanoutError::Repeated { .. } => "list each database once: two runs on one database would only wait for each other".into(),
            FanoutError::NoTargets { .. } => "write one database URL a line".into(),
            FanoutError::SchemasNeedPostgres { .. } => "for a database per tenant, list their URLs in a file and pass it to `--targets`".into(),
            FanoutError::NoSchemaMatches { .. } => "`*` matches any run of characters and `?` one; every other character, `_` included, matches itself (`tenant_*`); the schemas are those of the database `--url` (or the configuration) names".into(),
            FanoutError::ListingSchemas { error, .. } => {
                crate::open::hint_for("listing the schemas", error)
            }
        })
    }

    fn class(&self) -> ErrorClass {
        match self {
            FanoutError::ListingSchemas { .. } => ErrorClass::Runtime,
            _ => ErrorClass::Input,
        }
    }
}
