//! `retort backup` and `retort restore`: the project's database written to
//! a file with the dialect's own tool (see [`crate::db::backup`]), and put
//! back from one.
//!
//! A backup file is created by retort, readable and writable by its owner
//! only (mode 0600), never over an existing file, and named after the
//! database, its revision and the time (`app-3a4feffbb7a1-20261206T150000Z.dump`);
//! the revision is also inside it (the version table is part of the dump),
//! which is how `restore` says what a file brings back, and where the name
//! takes it from. A failed backup leaves no file.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::chores::{ChoreError, failed};
use crate::config::DatabaseUrl;
use crate::db::{self, Access};
use crate::migrator::Migrator;
use crate::project::Project;
use crate::time::UtcTime;

/// The directory backups go to when `--output` does not say: `backups/`
/// beside retort.toml.
pub const DEFAULT_DIR: &str = "backups";

/// A backup made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Made {
    /// The file.
    pub path: PathBuf,
    /// The version rows it holds: where the database was.
    pub revisions: Vec<String>,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What a restore would do, read before anything changes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestorePlan {
    /// The backup file.
    pub file: PathBuf,
    /// The database it replaces, in words.
    pub database: String,
    /// Where that database is now.
    pub current: Vec<String>,
    /// Where the backup brings it back to.
    pub backup: Vec<String>,
}

/// Backs up the project's database (`url`, else as [`crate::open`] finds
/// it) into `output`: a file to create, or a directory to create it in
/// (default: [`DEFAULT_DIR`] beside retort.toml).
pub fn backup(project: &Project, url: Option<&str>, output: Option<&Path>) -> Result<Made, Error> {
    let config = project.config();
    let database_url = config.database_url(url)?;
    let port = port(&database_url)?;
    let started = UtcTime::now();
    // The revision in the name is the one inside the copy, read back once
    // it is made: the copy is written under a temporary name, then renamed.
    let (path, named) = match output {
        Some(path) if !path.is_dir() => (path.to_path_buf(), true),
        Some(dir) => (dir.join(partial_name(&database_url, &started)), false),
        None => {
            let dir = config.root.join(DEFAULT_DIR);
            create_private_dir(&dir)?;
            (dir.join(partial_name(&database_url, &started)), false)
        }
    };
    let file = create_private(&path)?;
    let made = port.dump(file, &path).and_then(|()| {
        let migrations = &config.migrations;
        port.inspect(
            &path,
            &migrations.version_table,
            migrations.version_table_schema.as_deref(),
        )
    });
    let revisions = match made {
        Ok(revisions) => revisions,
        Err(error) => {
            let _ = std::fs::remove_file(&path);
            return Err(failed("backing up the database")(error));
        }
    };
    let path = if named {
        path
    } else {
        let name = file_name(&database_url, &revisions, &started, port.extension());
        let finished = path.with_file_name(name);
        if let Err(e) = std::fs::hard_link(&path, &finished) {
            let _ = std::fs::remove_file(&path);
            return Err(Error::io("create the backup file", &finished, e));
        }
        let _ = std::fs::remove_file(&path);
        finished
    };
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Ok(Made {
        path,
        revisions,
        bytes,
    })
}

/// Reads backup `file` and the database it would replace, changing
/// nothing: a file that is not a backup of this dialect fails here.
pub fn plan_restore(
    project: &Project,
    url: Option<&str>,
    file: &Path,
) -> Result<RestorePlan, Error> {
    let config = project.config();
    let database_url = config.database_url(url)?;
    let port = port(&database_url)?;
    if !file.is_file() {
        return Err(Error::io(
            "read",
            file,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    let migrations = &config.migrations;
    let backup = port
        .inspect(
            file,
            &migrations.version_table,
            migrations.version_table_schema.as_deref(),
        )
        .map_err(|error| match error.kind {
            db::DbErrorKind::MissingTool => failed("reading the backup")(error),
            _ => ChoreError::NotABackup {
                file: file.to_path_buf(),
                message: error.message,
            }
            .into(),
        })?;
    let mut migrator = Migrator::open(project, url, Access::Read)?;
    Ok(RestorePlan {
        file: file.to_path_buf(),
        database: migrator.describe(),
        current: migrator.current()?.heads,
        backup,
    })
}

/// Replaces the database's contents with the backup `plan` read.
pub fn restore(project: &Project, url: Option<&str>, plan: &RestorePlan) -> Result<(), Error> {
    let database_url = project.config().database_url(url)?;
    let port = port(&database_url)?;
    if port.needs_empty_database() {
        let mut driver = crate::open(project.config(), url, Access::Write)?;
        driver
            .drop_all_objects()
            .map_err(failed("emptying the database before the restore"))?;
    }
    port.restore(&plan.file)
        .map_err(failed("restoring the backup"))
}

fn port(url: &DatabaseUrl) -> Result<Box<dyn db::backup::Backup>, Error> {
    db::backup::backup(url).map_err(failed("preparing the backup tool"))
}

/// The database's name, for file names.
fn database_name(url: &DatabaseUrl) -> String {
    let name = match url.sqlite_location() {
        Some(crate::config::SqliteLocation::File(path)) => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        _ => url.database().unwrap_or("database").to_owned(),
    };
    safe(&name)
}

/// `text` with what a file name should not hold replaced by `-`.
fn safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '+' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `.<database>-<UTC time>.partial`: the copy while it is made.
fn partial_name(url: &DatabaseUrl, started: &UtcTime) -> String {
    format!(".{}-{}.partial", database_name(url), started.compact())
}

/// `<database>-<revision or base>-<UTC time>.<extension>`.
fn file_name(
    url: &DatabaseUrl,
    revisions: &[String],
    started: &UtcTime,
    extension: &str,
) -> String {
    let revision = if revisions.is_empty() {
        "base".to_owned()
    } else {
        revisions.join("+")
    };
    format!(
        "{}-{}-{}.{extension}",
        database_name(url),
        safe(&revision),
        started.compact()
    )
}

/// Creates `path` for writing, readable by its owner only; never over an
/// existing file.
fn create_private(path: &Path) -> Result<File, Error> {
    db::backup::create_private(path).map_err(|e| Error::io("create the backup file", path, e))
}

/// Creates `dir` (owner only) if it does not exist.
fn create_private_dir(dir: &Path) -> Result<(), Error> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| Error::io("create directory", dir, e))
}
