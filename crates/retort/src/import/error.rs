//! What can go wrong importing an Alembic project.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use crate::db::DbError;
use crate::{Diagnostic, ErrorClass};

/// A failure of `import alembic`. Nothing is written when one happens.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ImportError {
    /// No Python interpreter to run Alembic with.
    #[error("no Python interpreter found: {tried}")]
    NoPython {
        /// What was tried and why each failed.
        tried: String,
    },
    /// The interpreter cannot import Alembic or SQLAlchemy.
    #[error("{python} cannot import Alembic: {message}")]
    NoAlembic {
        /// The interpreter.
        python: String,
        /// Python's words.
        message: String,
    },
    /// The interpreter has no driver for the dialect's scratch database.
    #[error("{python}: {message}")]
    NoDriver {
        /// The interpreter.
        python: String,
        /// What is missing.
        message: String,
        /// The pip package that provides one.
        package: String,
    },
    /// The path is not an Alembic project.
    #[error("{message}")]
    NotAlembic {
        /// What was found instead.
        message: String,
    },
    /// Alembic could not load the revision files (a module failed to import).
    #[error("{message}")]
    Load {
        /// Python's words.
        message: String,
        /// The traceback's last lines.
        detail: String,
    },
    /// Running the revisions failed outside any one revision.
    #[error("running the Alembic revisions failed: {message}")]
    Run {
        /// Python's words.
        message: String,
        /// The traceback's last lines.
        detail: String,
    },
    /// The capture script ended without a result.
    #[error("{python} ended without a result ({status}){}", stderr_tail(.stderr))]
    Crashed {
        /// The interpreter.
        python: String,
        /// How it ended.
        status: String,
        /// The end of what it wrote on stderr.
        stderr: String,
    },
    /// `--dev-url` is needed for a server dialect.
    #[error(
        "importing for {dialect} runs every revision on a scratch database, and no server was given"
    )]
    NoDevUrl {
        /// The dialect's name.
        dialect: &'static str,
    },
    /// `--dev-url` names a server of another dialect.
    #[error("--dev-url is a {found} URL, but the import is for {dialect}")]
    DevUrlDialect {
        /// The dialect imported for.
        dialect: &'static str,
        /// The URL's dialect.
        found: &'static str,
    },
    /// The scratch database could not be made.
    #[error("cannot make a scratch database on {url}: {error}")]
    DevDatabase {
        /// The server, redacted.
        url: String,
        /// The database's words.
        error: DbError,
    },
    /// The target directory already holds a project.
    #[error("`{}` already exists", path.display())]
    Exists {
        /// The file or directory in the way.
        path: PathBuf,
    },
    /// An Alembic revision that cannot be written as a retort file.
    #[error("cannot write Alembic revision {revision} as a retort file: {reason}")]
    BadRevision {
        /// The id.
        revision: String,
        /// Why.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
}

fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let from = lines.len().saturating_sub(5);
    format!(":\n{}", lines[from..].join("\n"))
}

impl ImportError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        ImportError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl Diagnostic for ImportError {
    fn kind(&self) -> &'static str {
        match self {
            ImportError::NoPython { .. } => "no_python",
            ImportError::NoAlembic { .. } => "no_alembic",
            ImportError::NoDriver { .. } => "no_driver",
            ImportError::NotAlembic { .. } => "not_alembic",
            ImportError::Load { .. } => "alembic_load",
            ImportError::Run { .. } => "alembic_run",
            ImportError::Crashed { .. } => "python_crashed",
            ImportError::NoDevUrl { .. } => "no_dev_url",
            ImportError::DevUrlDialect { .. } => "dev_url_dialect",
            ImportError::DevDatabase { .. } => "dev_database",
            ImportError::Exists { .. } => "already_initialized",
            ImportError::BadRevision { .. } => "bad_revision",
            ImportError::Io { .. } => "io",
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            ImportError::NoPython { .. } => "install Python 3 with Alembic and your project's \
                dependencies, or pass `--python PATH` (e.g. `--python .venv/bin/python`)"
                .into(),
            ImportError::NoAlembic { python, .. } => format!(
                "pass `--python` with the interpreter of your project's virtualenv, or install \
                 Alembic into this one: `{python} -m pip install alembic`"
            ),
            ImportError::NoDriver {
                python, package, ..
            } => format!("install a driver: `{python} -m pip install {package}`"),
            ImportError::NotAlembic { .. } => "give the path of alembic.ini, or of the directory \
                that holds it: `retort import alembic path/to/alembic.ini --dialect …`"
                .into(),
            ImportError::Load { detail, .. } => format!(
                "the revision files must import in the interpreter retort runs (`--python`): \
                 install your application and its dependencies there, and run the import from \
                 the directory you run `alembic` from\n{}",
                detail_tail(detail)
            ),
            ImportError::Run { detail, .. } => detail_tail(detail),
            ImportError::Crashed { .. } => {
                "run the import again; if it ends the same way, run `alembic upgrade heads` \
                 on a scratch database to see whether Alembic itself fails"
                    .into()
            }
            ImportError::NoDevUrl { .. } => "pass `--dev-url` with a server where retort may \
                create and drop a scratch database, e.g. `--dev-url postgres://postgres@localhost/postgres`"
                .into(),
            ImportError::DevUrlDialect { .. } => {
                "give `--dev-url` a server of the dialect you import for".into()
            }
            ImportError::DevDatabase { .. } => "the user of `--dev-url` needs the right to create \
                and drop databases; give a URL whose user has it"
                .into(),
            ImportError::Exists { .. } => {
                "import into a new directory: `--into DIR` (retort writes retort.toml and migrations/ there)"
                    .into()
            }
            ImportError::BadRevision { .. } => "retort revision ids are letters, digits and `_`, \
                at most 32 characters; rename the revision in Alembic first (its file and every \
                `down_revision` naming it), or write this revision by hand"
                .into(),
            ImportError::Io { .. } => return None,
        })
    }

    fn class(&self) -> ErrorClass {
        match self {
            ImportError::Crashed { .. }
            | ImportError::Run { .. }
            | ImportError::DevDatabase { .. }
            | ImportError::Io { .. } => ErrorClass::Runtime,
            _ => ErrorClass::Input,
        }
    }
}

/// The last lines of a traceback: where in the user's code it failed.
fn detail_tail(detail: &str) -> String {
    let lines: Vec<&str> = detail.lines().collect();
    let from = lines.len().saturating_sub(6);
    lines[from..].join("\n")
}
