//! The everyday chores around migrating, which teams otherwise script:
//! `info` (everything about the database in one view), `create` and
//! `drop` of the configured database, and `reset` (empty it, then upgrade
//! to head). An environment marked `protected` (see
//! [`crate::config::Environment`]) refuses `drop` and `reset` outright,
//! whatever the caller confirmed.

use thiserror::Error;

use crate::config::{Config, DatabaseUrl};
use crate::db::{self, Access, DbError, DbErrorKind, ServerFacts};
use crate::migrator::{AppliedRow, Interruption, Migrator, Outcome, Status};
use crate::project::Project;
use crate::{Diagnostic, Error, ErrorClass};

/// What `retort info` shows.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Info {
    /// The environment in use, if any, and whether it is protected.
    pub environment: Option<(String, bool)>,
    /// The database's URL, redacted.
    pub url: String,
    /// The database, in words.
    pub database: String,
    /// What the server is.
    pub server: ServerFacts,
    /// Its size in bytes, where the server tells.
    pub size: Option<u64>,
    /// Current revisions, heads, pending revisions, changed files and a
    /// half-applied migration, as `status` reports them.
    pub status: Status,
    /// The most recently applied revisions, newest first (at most
    /// [`LAST_APPLIED`]).
    pub last_applied: Vec<AppliedRow>,
}

impl Info {
    /// A migration a run left half way, if any.
    pub fn interrupted(&self) -> Option<&Interruption> {
        self.status.interrupted.as_ref()
    }
}

/// How many applied revisions [`Info::last_applied`] lists.
pub const LAST_APPLIED: usize = 5;

/// Everything `retort info` shows about the project's database (`url`,
/// else as [`crate::open`] finds it).
pub fn info(project: &Project, url: Option<&str>) -> Result<Info, Error> {
    let config = project.config();
    let database_url = config.database_url(url)?;
    let mut migrator = Migrator::open(project, url, Access::Read)?;
    let status = migrator.status()?;
    let mut last_applied = migrator.applied()?;
    // RFC 3339 in UTC sorts as text.
    last_applied.sort_by(|a, b| b.applied_at.cmp(&a.applied_at));
    last_applied.truncate(LAST_APPLIED);
    let size = migrator
        .driver()
        .database_size()
        .map_err(failed("reading the database's size"))?;
    Ok(Info {
        environment: config
            .environment
            .as_ref()
            .map(|e| (e.name.clone(), e.protected)),
        url: database_url.redacted(),
        database: migrator.describe(),
        server: migrator.server().clone(),
        size,
        status,
        last_applied,
    })
}

/// What `create` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The database was created.
    Created(String),
    /// It existed already; nothing changed.
    Existed(String),
}

/// Creates the configured database on its server (SQLite: an empty
/// file). One that exists already is left as it is.
pub fn create_database(config: &Config, url: Option<&str>) -> Result<Created, Error> {
    let url = config.database_url(url)?;
    let name = database_name(&url)?;
    let mut admin = admin(&url)?;
    match admin.create_database(&name) {
        Ok(()) => Ok(Created::Created(name)),
        Err(e) if e.kind == DbErrorKind::AlreadyExists => Ok(Created::Existed(name)),
        Err(error) => Err(failed(format!("creating database `{name}`"))(error)),
    }
}

/// Drops the configured database, whatever it holds; refused in a
/// protected environment. Returns its name and whether it existed.
pub fn drop_database(config: &Config, url: Option<&str>) -> Result<(String, bool), Error> {
    refuse_if_protected(config, "drop")?;
    let url = config.database_url(url)?;
    let name = database_name(&url)?;
    let mut admin = admin(&url)?;
    let existed = admin
        .database_exists(&name)
        .map_err(failed(format!("looking for database `{name}`")))?;
    admin
        .drop_database(&name)
        .map_err(failed(format!("dropping database `{name}`")))?;
    Ok((name, existed))
}

/// Drops every object of the database (retort's state tables with them)
/// and upgrades it to head; refused in a protected environment, before
/// anything is touched.
pub fn reset(project: &Project, url: Option<&str>) -> Result<Outcome, Error> {
    refuse_if_protected(project.config(), "reset")?;
    let mut migrator = Migrator::open(project, url, Access::Write)?;
    migrator
        .driver()
        .drop_all_objects()
        .map_err(failed("dropping every object of the database"))?;
    // Taking the run lock forgets what the migrator knew of the state
    // tables, which are gone now.
    migrator.upgrade("heads")
}

/// Fails when the environment in use is protected.
pub fn refuse_if_protected(config: &Config, command: &'static str) -> Result<(), Error> {
    match &config.environment {
        Some(environment) if environment.protected => Err(ChoreError::Protected {
            command,
            environment: environment.name.clone(),
        }
        .into()),
        _ => Ok(()),
    }
}

fn database_name(url: &DatabaseUrl) -> Result<String, Error> {
    match url.sqlite_location() {
        Some(crate::config::SqliteLocation::File(path)) => Ok(path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()),
        Some(_) => Err(ChoreError::InMemory.into()),
        None => url.database().map(str::to_owned).ok_or_else(|| {
            ChoreError::NoDatabaseName {
                url: url.redacted(),
            }
            .into()
        }),
    }
}

fn admin(url: &DatabaseUrl) -> Result<Box<dyn db::Admin>, Error> {
    db::admin(url).map_err(failed(format!(
        "connecting to the server of {}",
        url.redacted()
    )))
}

/// A chore refused or failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ChoreError {
    /// `drop` or `reset` in a protected environment.
    #[error(
        "`retort {command}` is refused in the protected environment `{environment}`: nothing was changed"
    )]
    Protected {
        /// The command.
        command: &'static str,
        /// The environment.
        environment: String,
    },
    /// `create` or `drop` of an in-memory SQLite database.
    #[error(
        "an in-memory SQLite database is not created or dropped: it lives as long as its connection"
    )]
    InMemory,
    /// A server URL without a database name.
    #[error("{url} names no database to create or drop")]
    NoDatabaseName {
        /// The URL, redacted.
        url: String,
    },
    /// `restore` of a file that is not a backup of this database's kind.
    #[error("`{}` is not a backup retort can restore here: {message}", file.display())]
    NotABackup {
        /// The file.
        file: std::path::PathBuf,
        /// Why, as the tool said.
        message: String,
    },
    /// The database failed.
    #[error("{context}: {error}")]
    Database {
        /// What retort was doing.
        context: String,
        /// What the database said.
        #[source]
        error: DbError,
    },
}

/// The database's failure while `context`, as an [`Error`]: for
/// `map_err`.
pub(crate) fn failed(context: impl Into<String>) -> impl FnOnce(DbError) -> Error {
    let context = context.into();
    move |error| ChoreError::Database { context, error }.into()
}

impl Diagnostic for ChoreError {
    fn kind(&self) -> &'static str {
        match self {
            ChoreError::Protected { .. } => "protected_environment",
            ChoreError::InMemory | ChoreError::NoDatabaseName { .. } => "url",
            ChoreError::NotABackup { .. } => "not_a_backup",
            ChoreError::Database { error, .. } => crate::open::kind_of(error),
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            ChoreError::Protected { environment, .. } => format!(
                "`protected = true` in `[environments.{environment}]` forbids it on purpose; to empty that database, change the setting in retort.toml first"
            ),
            ChoreError::InMemory => "point the URL at a file (`sqlite:///path/app.db`)".into(),
            ChoreError::NotABackup { .. } => "give a file `retort backup` wrote for a database of this kind (a SQLite file, a `pg_dump` custom archive, a `mariadb-dump` script); nothing was changed".into(),
            ChoreError::NoDatabaseName { .. } => {
                "add the database's name to the URL's path (`postgres://user@host/app`)".into()
            }
            ChoreError::Database { context, error } => crate::open::hint_for(context, error),
        })
    }

    fn class(&self) -> ErrorClass {
        match self {
            ChoreError::Database { .. } => ErrorClass::Runtime,
            _ => ErrorClass::Input,
        }
    }
}
