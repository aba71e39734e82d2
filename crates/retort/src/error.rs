use std::io;
use std::path::PathBuf;

use thiserror::Error;

use crate::config::ConfigError;
use crate::graph::GraphError;
use crate::migrator::MigrateError;
use crate::project::RequestError;
use crate::script::ScriptError;

/// Everything that can go wrong in the library.
///
/// Each error renders as one lowercase line naming the file, revision or key
/// involved; [`Error::hint`] says what to type next, [`Error::kind`] is a
/// stable name for scripts and [`Error::class`] decides the exit code.
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
    /// Running migrations, or reading the database's state.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
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

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A stable snake_case name.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Config(e) => e.kind(),
            Error::Script(e) => e.kind_name(),
            Error::Graph(e) => e.kind(),
            Error::Request(e) => e.kind(),
            Error::Migrate(e) => e.kind(),
            Error::Io { .. } => "io",
        }
    }

    /// What to type next, when there is something to suggest.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config(e) => e.hint(),
            Error::Script(e) => e.hint(),
            Error::Graph(e) => e.hint(),
            Error::Request(e) => e.hint(),
            Error::Migrate(e) => e.hint(),
            Error::Io { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
                Some("check the file's permissions and owner".into())
            }
            Error::Io { .. } => None,
        }
    }

    /// Input error or runtime failure.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Io { .. } => ErrorClass::Runtime,
            // A missing file is a wrong path (input); an unreadable one is not.
            Error::Config(ConfigError::Read { source, .. })
                if source.kind() != io::ErrorKind::NotFound =>
            {
                ErrorClass::Runtime
            }
            Error::Config(ConfigError::CurrentDir { .. }) => ErrorClass::Runtime,
            Error::Migrate(e) if !e.is_input() => ErrorClass::Runtime,
            _ => ErrorClass::Input,
        }
    }
}
