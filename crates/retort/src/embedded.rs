//! A project whose revision files are built into the application's binary
//! ([`embed_migrations!`](crate::embed_migrations)) or read from a
//! directory at run time, as [`Migrations`]: what an application migrates
//! its own database with when it starts, in one line.
//!
//! Both sources give the same project: the same files, parsed by the same
//! parser, so the same graph and the same checksums. An embedded file
//! that differs from the one applied to the database (edited on disk and
//! applied by the CLI, say, while the binary still holds the old text) is
//! a checksum difference that `verify` and `status` report.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::config::{Config, ConfigError, Env};
use crate::db::Access;
use crate::migrator::{Migrator, Outcome};
use crate::project::{CodeMigration, Project};
use crate::testing::TestReport;
use crate::{Error, script};

/// The settings file read beside the first revision directory.
const CONFIG_FILE: &str = "retort.toml";

/// What [`embed_migrations!`](crate::embed_migrations) writes into the
/// binary. Written by the macro; an application has no need to build one.
#[derive(Debug)]
pub struct Embedded {
    /// The text of the `retort.toml` beside the first directory, if any.
    pub config: Option<&'static str>,
    /// The directories, as the macro names them (relative to the crate).
    pub dirs: &'static [&'static str],
    /// Every revision file, directory by directory, each sorted by name.
    pub files: &'static [EmbeddedFile],
}

/// One embedded revision file.
#[derive(Debug)]
pub struct EmbeddedFile {
    /// Its directory: an index into [`Embedded::dirs`].
    pub dir: usize,
    /// Its file name.
    pub name: &'static str,
    /// Its text.
    pub text: &'static str,
}

/// A project's revisions, embedded in the binary or in a directory,
/// loaded when first used and kept for the life of the value.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let migrations = dir.path().join("migrations");
/// # std::fs::create_dir(&migrations).unwrap();
/// # std::fs::write(
/// #     migrations.join("0001_3a4feffbb7a1_add_users.sql"),
/// #     "-- retort:revision 3a4feffbb7a1\n-- retort:message add users table\n\n\
/// #      -- retort:upgrade\nCREATE TABLE users (id integer PRIMARY KEY);\n\n\
/// #      -- retort:downgrade\nDROP TABLE users;\n",
/// # )
/// # .unwrap();
/// // In an application: `static MIGRATIONS: retort::Migrations =
/// // retort::embed_migrations!("migrations");`
/// let migrations = retort::Migrations::from_dir(&migrations);
/// let url = format!("sqlite:///{}", dir.path().join("app.db").display());
/// let outcome = migrations.upgrade(&url)?;
/// assert_eq!(outcome.heads, ["3a4feffbb7a1"]);
/// // A second start finds nothing to do.
/// assert!(migrations.upgrade(&url)?.steps.is_empty());
/// # Ok::<(), retort::Error>(())
/// ```
#[derive(Debug)]
pub struct Migrations {
    source: Source,
    /// The functions of its code revisions.
    code: &'static [CodeMigration],
    project: OnceLock<Project>,
}

#[derive(Debug, Clone)]
enum Source {
    Embedded(&'static Embedded),
    Directory(PathBuf),
}

impl Migrations {
    /// The files [`embed_migrations!`](crate::embed_migrations) embedded.
    pub const fn embedded(files: &'static Embedded) -> Migrations {
        Migrations {
            source: Source::Embedded(files),
            code: &[],
            project: OnceLock::new(),
        }
    }

    /// The same revisions with the functions of their code revisions
    /// (`-- retort:code NAME VERSION`), by name:
    ///
    /// ```ignore
    /// static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");
    /// static CODE: [retort::CodeMigration; 1] =
    ///     [retort::CodeMigration::new("lowercase_emails", lowercase_emails)];
    ///
    /// MIGRATIONS.with_code(&CODE).upgrade(&url)?;
    /// ```
    ///
    /// A registered name that no revision file gives is an error when the
    /// project is first used.
    pub fn with_code(&self, code: &'static [CodeMigration]) -> Migrations {
        Migrations {
            source: self.source.clone(),
            code,
            project: OnceLock::new(),
        }
    }

    /// The revision files of `dir` read at run time, with the settings of
    /// the `retort.toml` beside it (in its parent directory) if there is
    /// one: what `embed_migrations!` would embed from the same directory.
    pub fn from_dir(dir: impl Into<PathBuf>) -> Migrations {
        Migrations {
            source: Source::Directory(dir.into()),
            code: &[],
            project: OnceLock::new(),
        }
    }

    /// The project: loaded, parsed and checked the first time, kept after.
    pub fn project(&self) -> Result<&Project, Error> {
        if let Some(project) = self.project.get() {
            return Ok(project);
        }
        let project = match &self.source {
            Source::Embedded(files) => load_embedded(files)?,
            Source::Directory(dir) => load_directory(dir)?,
        }
        .with_code(self.code)?;
        // Two threads loading at once both succeed; one project is kept.
        Ok(self.project.get_or_init(|| project))
    }

    /// Upgrades the database at `url` to head, as `retort upgrade` does:
    /// with the run lock (ten replicas starting at once take turns; the
    /// later ones find nothing to do), the same checks and the same
    /// errors. Progress goes to `tracing` (see [`crate::migrator`]).
    pub fn upgrade(&self, url: &str) -> Result<Outcome, Error> {
        let mut migrator = self.migrator(url)?;
        migrator.upgrade("head")
    }

    /// Tests the migrations (see [`crate::testing`]) on a scratch database
    /// of `url`'s dialect: SQLite in memory, or a database of its own on
    /// the server `url` names (or `schema.dev_url`), dropped afterwards.
    /// `url`'s own database is never used: `sqlite::memory:` serves for
    /// SQLite.
    pub fn test(&self, url: &str) -> Result<TestReport, Error> {
        let project = self.project()?;
        let url = project.config().database_url(Some(url))?;
        crate::testing::test_project(project, &url, &mut |_| {})
    }

    /// A [`Migrator`] of this project on the database at `url`, for
    /// everything else: another target, `downgrade`, `stamp`, `current`,
    /// `status`, `verify`.
    pub fn migrator(&self, url: &str) -> Result<Migrator<'_>, Error> {
        Migrator::open(self.project()?, Some(url), Access::Write)
    }
}

/// The project `files` hold.
fn load_embedded(files: &Embedded) -> Result<Project, Error> {
    // The retort.toml lies beside the first directory: its paths are
    // relative to that directory's parent.
    let root = files
        .dirs
        .first()
        .and_then(|d| Path::new(d).parent())
        .unwrap_or(Path::new(""));
    let config_path = root.join(CONFIG_FILE);
    let config = match files.config {
        Some(text) => {
            let config = Config::parse(&config_path, text, Env::from_process())?;
            let relative = files
                .dirs
                .iter()
                .map(|d| Path::new(d).strip_prefix(root).unwrap_or(Path::new(d)));
            check_dirs(&config, relative)?;
            config
        }
        None => Config::parse(&config_path, "", Env::from_process())?,
    };
    let scripts = files
        .files
        .iter()
        .map(|file| {
            let dir = files.dirs.get(file.dir).copied().unwrap_or_default();
            script::parse(file.text, &Path::new(dir).join(file.name)).map_err(Error::from)
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Project::from_scripts(config, scripts)
}

/// The project of the files in `dir`, with the settings beside it.
fn load_directory(dir: &Path) -> Result<Project, Error> {
    let beside = dir.parent().unwrap_or(Path::new(".")).join(CONFIG_FILE);
    let config = if beside.is_file() {
        let config = Config::load(&beside)?;
        let relative = dir.file_name().map(Path::new).into_iter();
        check_dirs(&config, relative)?;
        config
    } else {
        let mut config = Config::parse(&beside, "", Env::from_process())?;
        config.migrations.dirs = vec![
            std::path::absolute(dir).map_err(|e| Error::io("find the absolute path of", dir, e))?,
        ];
        config
    };
    Project::load(config)
}

/// Fails unless the configuration's `migrations.dirs` are `dirs` (as
/// written relative to its root): a project whose revisions lie in more
/// directories than were embedded would run without some of them.
fn check_dirs<'a>(config: &Config, dirs: impl Iterator<Item = &'a Path>) -> Result<(), Error> {
    let dirs: Vec<PathBuf> = dirs.map(Path::to_path_buf).collect();
    let configured: Vec<PathBuf> = config
        .migrations
        .dirs
        .iter()
        .map(|d| d.strip_prefix(&config.root).unwrap_or(d).to_path_buf())
        .collect();
    if configured == dirs {
        return Ok(());
    }
    let list = |paths: &[PathBuf]| {
        paths
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(ConfigError::Invalid {
        path: config.path.clone(),
        key: "migrations.dirs".to_owned(),
        line: None,
        column: None,
        message: format!(
            "the project's revisions are in {}, but {} were embedded: name the same directories to `embed_migrations!`",
            list(&configured),
            list(&dirs)
        ),
    }
    .into())
}
