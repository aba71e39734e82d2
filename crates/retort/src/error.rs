use std::io;
use std::path::PathBuf;

use thiserror::Error;

use crate::autogenerate::SchemaError;
use crate::config::ConfigError;
use crate::fanout::FanoutError;
use crate::graph::GraphError;
use crate::import::ImportError;
use crate::migrator::MigrateError;
use crate::open::ConnectError;
use crate::project::RequestError;
use crate::script::ScriptError;

/// Everything that can go wrong in the library.
///
/// Each error renders as one lowercase line naming the file, revision or key
/// involved; its [`Diagnostic`] says what to type next, gives a stable name
/// for scripts and decides the exit code.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// `retort.toml`, `.env` or a database URL.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A revision file or the revision template.
    #[error(transparent)]
    Script(#[from] ScriptError),
    /// The revision graph or a target.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A request that conflicts with the project (`revision`, `merge`, `init`).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Opening the project's database.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// Running migrations, or reading the database's state.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    /// Comparing the declared schema with the migrations or a database.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// Importing an Alembic project.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// The targets of a fan-out (`--targets`, `--schemas`).
    #[error(transparent)]
    Fanout(#[from] FanoutError),
    /// A chore (`info`, `create`, `drop`, `reset`) refused or failed.
    #[error(transparent)]
    Chore(#[from] crate::chores::ChoreError),
    /// Reading or writing a file failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done: "read", "write", "create directory"…
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
}

/// How an error should end a command (the CLI maps this to exit codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Bad input: a target, file, configuration or request (exit code 2).
    Input,
    /// A failure while running: I/O, database, SQL (exit code 1).
    Runtime,
}

/// What every error of the library says about itself, so that one path
/// renders them all: a stable name for scripts, what to type next, and
/// whether the input or the run is at fault (which decides the exit code).
pub trait Diagnostic: std::error::Error {
    /// A stable snake_case name (`error.kind` in `--format json`).
    fn kind(&self) -> &'static str;
    /// What to type next, when there is something to suggest.
    fn hint(&self) -> Option<String>;
    /// Whether the input (a file, a setting, a target) or the run failed.
    fn class(&self) -> ErrorClass {
        ErrorClass::Input
    }
}

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// The error this one wraps, which answers for it.
    fn inner(&self) -> Option<&dyn Diagnostic> {
        Some(match self {
            Error::Config(e) => e,
            Error::Script(e) => e,
            Error::Graph(e) => e,
            Error::Request(e) => e,
            Error::Connect(e) => e,
            Error::Migrate(e) => e,
            Error::Schema(e) => e,
            Error::Import(e) => e,
            Error::Fanout(e) => e,
            Error::Chore(e) => e,
            Error::Io { .. } => return None,
        })
    }
}

impl Diagnostic for Error {
    fn kind(&self) -> &'static str {
        self.inner().map_or("io", Diagnostic::kind)
    }

    fn hint(&self) -> Option<String> {
        match (self.inner(), self) {
            (Some(inner), _) => inner.hint(),
            (None, Error::Io { source, .. })
                if source.kind() == io::ErrorKind::PermissionDenied =>
            {
                Some("check the file's permissions and owner".into())
            }
            (None, _) => Some("check the path, and that this user may read and write there".into()),
        }
    }

    fn class(&self) -> ErrorClass {
        self.inner().map_or(ErrorClass::Runtime, Diagnostic::class)
    }
}
