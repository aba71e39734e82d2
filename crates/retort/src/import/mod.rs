//! `import alembic`: an Alembic project becomes a retort project with the
//! same revision ids, graph and version table.
//!
//! The SQL comes from Alembic itself. A small Python script (capture.py)
//! runs in the user's interpreter, where their revision files import: it
//! takes every revision up to the heads and back down to base on a scratch
//! database (a temporary SQLite file, or a database of its own on
//! `--dev-url`), and records each statement that reaches the database
//! driver, parameters written in as literals. Alembic's bookkeeping and
//! reflection queries are left out; a revision that reads rows of the
//! application's tables, or fails, is written with what it sent and marked
//! `-- retort:review`, which `upgrade` refuses to run until a person has
//! read it. The import never touches the user's databases.

mod captured;
mod error;
mod python;
mod write;

use std::fs;
use std::path::{Path, PathBuf};

pub use self::error::ImportError;
use self::python::Python;
use crate::autogenerate::{DevDatabase, SchemaError};
use crate::config::{self, DatabaseUrl};
use crate::{Dialect, project};

/// What to import, and where to.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ImportRequest {
    /// alembic.ini, pyproject.toml, or a directory holding one of them or
    /// the Alembic script directory.
    pub source: PathBuf,
    /// The database the SQL is captured for.
    pub dialect: Dialect,
    /// Where retort.toml and migrations/ are written.
    pub into: PathBuf,
    /// The interpreter; `python3`, then `python`, from `PATH` when absent.
    pub python: Option<PathBuf>,
    /// A server of `dialect` for the scratch database (PostgreSQL, MySQL).
    pub dev_url: Option<DatabaseUrl>,
}

impl ImportRequest {
    /// Imports `source` for `dialect` into `into`.
    pub fn new(source: PathBuf, dialect: Dialect, into: PathBuf) -> ImportRequest {
        ImportRequest {
            source,
            dialect,
            into,
            python: None,
            dev_url: None,
        }
    }
}

/// Which function of a revision is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `upgrade()`, on the way up to the heads.
    Upgrade,
    /// `downgrade()`, on the way back to base.
    Downgrade,
}

/// What the import reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportEvent {
    /// Alembic starts one revision's function.
    Revision {
        /// Which function.
        direction: Direction,
        /// 1-based, in the order Alembic runs them.
        index: usize,
        /// How many revisions there are.
        total: usize,
        /// The revision id.
        revision: String,
    },
}

/// A revision a person must read before retort runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The revision id.
    pub revision: String,
    /// Its new file.
    pub path: PathBuf,
    /// Why.
    pub reasons: Vec<String>,
}

/// What `import alembic` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportReport {
    /// The new retort.toml.
    pub config: PathBuf,
    /// The directory of the revision files.
    pub migrations: PathBuf,
    /// How many revisions were imported.
    pub revisions: usize,
    /// How many of them merge two or more.
    pub merges: usize,
    /// Every branch label.
    pub branch_labels: Vec<String>,
    /// How many revisions declare `depends_on`.
    pub depends_on: usize,
    /// Revisions whose downgrade Alembic cannot run.
    pub irreversible: Vec<String>,
    /// Revisions marked `-- retort:review`.
    pub needs_review: Vec<Review>,
    /// The version table retort.toml names (Alembic's).
    pub version_table: String,
    /// What the import could not honour, such as an env.py that does not
    /// run (its naming convention is then not applied).
    pub warnings: Vec<String>,
    /// The Alembic and SQLAlchemy versions that produced the SQL.
    pub alembic: String,
    /// See `alembic`.
    pub sqlalchemy: String,
}

/// Imports an Alembic project: runs its revisions with `request.python`
/// on a scratch database and writes one retort revision file per Alembic
/// revision. Nothing is written when it fails.
pub fn import_alembic(
    request: &ImportRequest,
    on_event: &mut dyn FnMut(ImportEvent),
) -> Result<ImportReport, ImportError> {
    let config_path = request.into.join(config::FILE_NAME);
    let migrations = request.into.join("migrations");
    refuse_existing(&config_path, &migrations)?;
    let python = Python::find(request.python.as_deref())?;
    let workdir = WorkDir::create()?;
    let source = absolute(&request.source)?;
    let (database, _dev) = scratch(request, &workdir.path)?;
    let capture = python.capture(
        &workdir.path,
        &source,
        request.dialect.name(),
        &database,
        on_event,
    )?;
    let files = write::files(&capture.revisions, request.dialect)?;
    let version_table = capture
        .version_table
        .clone()
        .unwrap_or_else(|| "alembic_version".to_owned());

    let config_text = config_file(
        request.dialect,
        &version_table,
        capture.version_table_schema.as_deref(),
    );
    fs::create_dir_all(&migrations)
        .map_err(|e| ImportError::io("create directory", &migrations, e))?;
    let mut writes = vec![
        (config_path.clone(), config_text),
        (
            migrations.join("script.sql.tmpl"),
            crate::script::template::DEFAULT.to_owned(),
        ),
    ];
    let schema = request.into.join("schema.sql");
    if !schema.exists() {
        writes.push((schema, project::SCHEMA_FILE_TEXT.to_owned()));
    }
    let mut needs_review = vec![];
    let mut irreversible = vec![];
    for file in &files {
        let path = migrations.join(&file.name);
        if !file.review.is_empty() {
            needs_review.push(Review {
                revision: file.revision.clone(),
                path: path.clone(),
                reasons: file.review.clone(),
            });
        }
        if file.irreversible {
            irreversible.push(file.revision.clone());
        }
        writes.push((path, file.text.clone()));
    }
    for (path, text) in &writes {
        fs::write(path, text).map_err(|e| ImportError::io("write", path, e))?;
    }
    let mut branch_labels: Vec<String> = capture
        .revisions
        .iter()
        .flat_map(|r| r.branch_labels.iter().cloned())
        .collect();
    branch_labels.sort();
    Ok(ImportReport {
        config: config_path,
        migrations,
        revisions: capture.revisions.len(),
        merges: capture
            .revisions
            .iter()
            .filter(|r| r.revises.len() > 1)
            .count(),
        branch_labels,
        depends_on: capture
            .revisions
            .iter()
            .filter(|r| !r.depends_on.is_empty())
            .count(),
        irreversible,
        needs_review,
        version_table,
        warnings: capture.warnings,
        alembic: capture.alembic,
        sqlalchemy: capture.sqlalchemy,
    })
}

fn refuse_existing(config_path: &Path, migrations: &Path) -> Result<(), ImportError> {
    if config_path.exists() {
        return Err(ImportError::Exists {
            path: config_path.to_path_buf(),
        });
    }
    if fs::read_dir(migrations).is_ok_and(|mut d| d.next().is_some()) {
        return Err(ImportError::Exists {
            path: migrations.to_path_buf(),
        });
    }
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf, ImportError> {
    std::path::absolute(path).map_err(|e| ImportError::io("resolve", path, e))
}

/// The scratch database as the capture script connects to it (JSON, passed
/// in the environment so that no password is on a command line), and the
/// database itself, dropped with the value.
fn scratch(
    request: &ImportRequest,
    workdir: &Path,
) -> Result<(String, Option<DevDatabase>), ImportError> {
    let name = request.dialect.name();
    if request.dialect == Dialect::Sqlite {
        let file = workdir.join("scratch.db");
        let json = serde_json::json!({"dialect": "sqlite", "path": file});
        return Ok((json.to_string(), None));
    }
    let server = request
        .dev_url
        .as_ref()
        .ok_or(ImportError::NoDevUrl { dialect: name })?;
    if server.dialect() != request.dialect {
        return Err(ImportError::DevUrlDialect {
            dialect: name,
            found: server.dialect().name(),
        });
    }
    let dev = DevDatabase::create(request.dialect, server).map_err(|e| match e {
        SchemaError::DevDatabase { url, error } => ImportError::DevDatabase { url, error },
        other => ImportError::Run {
            message: other.to_string(),
            detail: String::new(),
        },
    })?;
    let url = dev.url().expect("a server's scratch database has a URL");
    // The libpq settings psycopg2 understands; retort's own are left out.
    let query: serde_json::Map<String, serde_json::Value> = url
        .params()
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "sslmode" | "sslrootcert" | "sslcert" | "sslkey"))
        .filter(|_| request.dialect == Dialect::Postgres)
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    let json = serde_json::json!({
        "dialect": if request.dialect == Dialect::Postgres { "postgresql" } else { "mysql" },
        "user": url.user(),
        "password": url.password(),
        "host": url.host(),
        "port": url.port(),
        "database": url.database(),
        "query": query,
    });
    Ok((json.to_string(), Some(dev)))
}

/// retort.toml for the imported project: the default, with Alembic's
/// version table so that databases Alembic migrated continue where they are.
fn config_file(dialect: Dialect, version_table: &str, schema: Option<&str>) -> String {
    let text = config::default_file(dialect).replace(
        &format!("version_table = \"{}\"", config::DEFAULT_VERSION_TABLE),
        &format!(
            "# Alembic's, kept by `retort import alembic`: a database Alembic migrated\n\
             # continues where it is, and Alembic can still read it.\n\
             version_table = \"{version_table}\""
        ),
    );
    let Some(schema) = schema else { return text };
    text.lines()
        .map(|line| {
            if line.starts_with("# version_table_schema = ") {
                format!("version_table_schema = \"{schema}\"")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// A directory of retort's own for the script, its result and a SQLite
/// scratch file; removed with the value.
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn create() -> Result<WorkDir, ImportError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("retort-import-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&path).map_err(|e| ImportError::io("create directory", &path, e))?;
        Ok(WorkDir { path })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}
