//! `retort.toml`: finding it, reading it, and the database URL it leads to.
//!
//! A project's configuration is one `retort.toml`; relative paths in it
//! resolve against its directory, the project root. A `.env` file beside it
//! supplies environment variables for `${VAR}` interpolation and
//! `DATABASE_URL`, without ever changing the process environment.
//!
//! ```toml
//! [database]
//! url = "sqlite://app.db"
//! # lock = "auto"          # or "advisory", "lease"
//! # lock_ttl = 30          # seconds a lease lives without renewal
//! [migrations]
//! dirs = ["migrations"]
//! file_template = "{date}_{time}_{rev}_{slug}"
//! template = "migrations/script.sql.tmpl"
//! version_table = "retort_version"
//! # version_table_schema = "public"
//! [schema]
//! files = ["schema.sql"]
//! # dev_url = "..."
//! ```
//!
//! Every section and key is optional; unknown keys are errors.

mod env;
mod environment;
mod lock;
mod url;

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

pub use env::{Env, InterpolateError, interpolate};
pub use environment::{ENV_VAR, Environment};
pub use lock::{DEFAULT_LEASE_TTL, LockConfig, LockSetting};
#[cfg(feature = "postgres")]
pub(crate) use url::POSTGRES_SSLMODES;
#[cfg(feature = "mysql")]
pub(crate) use url::mysql_ssl_mode;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use url::redact_in_text as url_redact_in_text;
pub use url::{DatabaseUrl, SqliteLocation, SqliteMode, UrlError};

use crate::Dialect;

/// The name of the configuration file.
pub const FILE_NAME: &str = "retort.toml";

/// The name of the environment file read beside [`FILE_NAME`].
pub const DOTENV_FILE_NAME: &str = ".env";

/// The environment variable that overrides `database.url`.
pub const DATABASE_URL_VAR: &str = "DATABASE_URL";

/// The environment variable that overrides `database.lock_url`.
pub const LOCK_URL_VAR: &str = "RETORT_LOCK_URL";

/// The tokens `migrations.file_template` may use, without braces.
pub const FILE_TEMPLATE_TOKENS: [&str; 11] = [
    "date", "time", "year", "month", "day", "hour", "minute", "second", "rev", "slug", "epoch",
];

const DEFAULT_DIR: &str = "migrations";
const DEFAULT_FILE_TEMPLATE: &str = "{date}_{time}_{rev}_{slug}";
const DEFAULT_TEMPLATE: &str = "migrations/script.sql.tmpl";
/// The version table's name when `migrations.version_table` does not say.
pub(crate) const DEFAULT_VERSION_TABLE: &str = "retort_version";
const DEFAULT_SCHEMA_FILE: &str = "schema.sql";
const MAX_IDENTIFIER_LEN: usize = 63;

/// A loaded `retort.toml`, with defaults applied and paths made absolute.
///
/// `Debug` redacts passwords in the URLs.
#[derive(Clone)]
pub struct Config {
    /// Absolute path of the `retort.toml` that was loaded.
    pub path: PathBuf,
    /// Its directory; relative paths in the file resolve against it.
    pub root: PathBuf,
    /// `database.url` after `${VAR}` interpolation, not parsed yet.
    pub database_url: Option<String>,
    /// `database.lock` and `database.lock_ttl`: the run lock on a server
    /// (a URL's `retort_lock` and `retort_lock_ttl` win over them).
    pub lock: LockConfig,
    /// `database.lock_url` after `${VAR}` interpolation, not parsed yet: a
    /// direct connection to the PostgreSQL server, for the run lock only
    /// (see [`Config::lock_url`]).
    pub lock_url: Option<String>,
    /// `database.server`: what the server is taken for instead of what
    /// retort detects when it connects (a URL's `server` parameter wins).
    pub database_server: Option<crate::db::ServerKind>,
    /// The `[migrations]` section.
    pub migrations: Migrations,
    /// The `[schema]` section.
    pub schema: Schema,
    /// The process environment plus the `.env` beside the file.
    pub env: Env,
    /// The `[environments.NAME]` sections, by name.
    pub environments: std::collections::BTreeMap<String, Environment>,
    /// The environment in use (`--env NAME`, `RETORT_ENV`), whose settings
    /// this configuration has taken (see [`Config::select_environment`]).
    pub environment: Option<Environment>,
}

/// The `[migrations]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrations {
    /// Directories of revision files, absolute; never empty. Default `["migrations"]`.
    pub dirs: Vec<PathBuf>,
    /// Name of new revision files, without extension. Default `{date}_{time}_{rev}_{slug}`.
    pub file_template: String,
    /// Template for new revision files, absolute (key `template`). Default `migrations/script.sql.tmpl`.
    pub template: PathBuf,
    /// Table recording applied revisions. Default `retort_version`.
    pub version_table: String,
    /// Schema (or MySQL database) of the version table; default the connection's.
    pub version_table_schema: Option<String>,
}

/// The `[schema]` section. `Debug` redacts the password of `dev_url`.
#[derive(Clone, PartialEq, Eq)]
pub struct Schema {
    /// Declarative schema files, absolute. Default `["schema.sql"]`, or none
    /// when `command` is set.
    pub files: Vec<PathBuf>,
    /// A program and its arguments whose standard output is more of the
    /// declared schema (an ORM's models printed as DDL), run in the
    /// project's directory after `files` are read.
    pub command: Option<Vec<String>>,
    /// A disposable database for schema work, after `${VAR}` interpolation.
    pub dev_url: Option<String>,
}

/// Where to look for the configuration: the CLI's `--config PATH` and `-C DIR`.
#[derive(Debug, Default, Clone)]
pub struct Locate {
    /// `--config PATH`: the file itself.
    pub config: Option<PathBuf>,
    /// `-C DIR`: act as if started in this directory.
    pub dir: Option<PathBuf>,
    /// `--env NAME`: the environment to use (else `RETORT_ENV`).
    pub environment: Option<String>,
}

/// Where a database URL came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlOrigin {
    /// The `--url` option.
    Cli,
    /// `DATABASE_URL` in the process environment.
    Env,
    /// `DATABASE_URL` in a `.env` file.
    DotEnv(PathBuf),
    /// A key of `retort.toml` (`database.url` or `schema.dev_url`).
    Config {
        /// The configuration file.
        path: PathBuf,
        /// The dotted key.
        key: String,
    },
    /// Another environment variable (`RETORT_LOCK_URL`): in the process
    /// environment, or in the `.env` file `dotenv`.
    Var {
        /// The variable's name.
        name: String,
        /// The `.env` file it came from, if not the process environment.
        dotenv: Option<PathBuf>,
    },
}

impl fmt::Display for UrlOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlOrigin::Cli => f.write_str("`--url`"),
            UrlOrigin::Env => write!(f, "`{DATABASE_URL_VAR}`"),
            UrlOrigin::DotEnv(path) => write!(f, "`{DATABASE_URL_VAR}` in `{}`", path.display()),
            UrlOrigin::Config { path, key } => write!(f, "`{key}` in `{}`", path.display()),
            UrlOrigin::Var { name, dotenv: None } => write!(f, "`{name}`"),
            UrlOrigin::Var {
                name,
                dotenv: Some(path),
            } => write!(f, "`{name}` in `{}`", path.display()),
        }
    }
}

/// Why the configuration could not be found, read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No `retort.toml` in the start directory or any parent.
    #[error("cannot find `retort.toml` in `{}` or any parent directory", start.display())]
    NotFound {
        /// Where the search started.
        start: PathBuf,
    },
    /// A file or directory could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The current directory is needed but unavailable.
    #[error("cannot determine the current directory: {source}")]
    CurrentDir {
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not valid TOML, or has unknown keys or wrong types.
    #[error("cannot parse `{}`: {message}", location(path, *line, *column))]
    Parse {
        /// The configuration file.
        path: PathBuf,
        /// 1-based line of the error, when known.
        line: Option<usize>,
        /// 1-based column (in characters) of the error, when known.
        column: Option<usize>,
        /// What is wrong, on one line.
        message: String,
    },
    /// A value is well-typed but not acceptable.
    #[error("invalid `{key}` in `{}`: {message}", location(path, *line, *column))]
    Invalid {
        /// The configuration file.
        path: PathBuf,
        /// The dotted key, such as `migrations.version_table`.
        key: String,
        /// 1-based line of the value, when known.
        line: Option<usize>,
        /// 1-based column (in characters) of the value, when known.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// `${VAR}` interpolation failed.
    #[error("cannot interpolate `{key}` in `{}`: {message}", path.display())]
    Interpolation {
        /// The configuration file.
        path: PathBuf,
        /// The dotted key being interpolated.
        key: String,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// A malformed `.env` file.
    #[error("cannot parse `{}:{line}`: {message}", path.display())]
    DotEnv {
        /// The `.env` file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A database URL that cannot be used.
    #[error("{origin}: {error}")]
    Url {
        /// Where the URL came from.
        origin: UrlOrigin,
        /// What is wrong with it.
        #[source]
        error: UrlError,
    },
    /// No database URL anywhere.
    #[error(
        "no database URL: `database.url` is not set in `{}` and neither `DATABASE_URL` nor `--url` is given",
        path.display()
    )]
    NoDatabaseUrl {
        /// The configuration file.
        path: PathBuf,
    },
    /// `--env` or `RETORT_ENV` names no `[environments.NAME]` section.
    #[error(
        "no environment `{name}` in `{}`: {}",
        path.display(),
        if known.is_empty() { "it has no `[environments.NAME]` section".to_owned() } else { format!("its environments are {}", known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")) }
    )]
    UnknownEnvironment {
        /// The configuration file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The sections there are.
        known: Vec<String>,
    },
    /// A `lock_url` that cannot serve the database: it is for PostgreSQL.
    #[error("{origin}: {message}")]
    LockUrl {
        /// Where the lock URL came from.
        origin: UrlOrigin,
        /// What is wrong.
        message: String,
    },
}

impl crate::Diagnostic for ConfigError {
    /// A stable snake_case identifier for this kind of error.
    fn kind(&self) -> &'static str {
        match self {
            ConfigError::NotFound { .. } => "config_not_found",
            ConfigError::Read { .. } => "config_read",
            ConfigError::CurrentDir { .. } => "current_dir",
            ConfigError::Parse { .. } => "config_parse",
            ConfigError::Invalid { .. } => "config_invalid",
            ConfigError::Interpolation { .. } => "env_var",
            ConfigError::DotEnv { .. } => "dotenv",
            ConfigError::Url { .. } => "url",
            ConfigError::NoDatabaseUrl { .. } => "no_database_url",
            ConfigError::LockUrl { .. } => "lock_url",
            ConfigError::UnknownEnvironment { .. } => "unknown_environment",
        }
    }

    /// A suggestion for fixing the problem, if there is one.
    fn hint(&self) -> Option<String> {
        match self {
            ConfigError::NotFound { .. } => {
                Some("run `retort init` to create one, or pass `--config PATH`".to_owned())
            }
            ConfigError::Read { source, .. } if source.kind() == io::ErrorKind::NotFound => Some(
                "check the path; without `--config`, retort looks for `retort.toml` in the current directory and its parents"
                    .to_owned(),
            ),
            ConfigError::Read { .. } => {
                Some("check that the file can be read by this user".to_owned())
            }
            ConfigError::CurrentDir { .. } => Some(
                "run retort from a directory that exists, or pass `-C DIR`".to_owned(),
            ),
            ConfigError::Parse { .. } | ConfigError::Invalid { .. } => {
                Some("`retort init` writes a `retort.toml` with every key and its default".to_owned())
            }
            ConfigError::Interpolation { hint, .. } => hint.clone(),
            ConfigError::DotEnv { .. } => Some(
                "each line must be `KEY=VALUE`, `export KEY=VALUE`, a `#` comment or blank; quote values with spaces or ` #`"
                    .to_owned(),
            ),
            ConfigError::Url { error, .. } => error.hint(),
            ConfigError::NoDatabaseUrl { .. } => Some(
                "set `database.url` in retort.toml, set the `DATABASE_URL` environment variable (or put it in `.env`), or pass `--url`"
                    .to_owned(),
            ),
            ConfigError::UnknownEnvironment { name, known, .. } => Some(
                match crate::suggest::closest(name, known.iter().map(String::as_str)) {
                    Some(close) => format!("did you mean `--env {close}`? (`RETORT_ENV` chooses one too)"),
                    None => format!(
                        "add a `[environments.{name}]` section to retort.toml, or choose one of its environments with `--env NAME` or `RETORT_ENV`"
                    ),
                },
            ),
            ConfigError::LockUrl { .. } => Some(format!(
                "`lock_url` (`{LOCK_URL_VAR}`) is a direct connection to the PostgreSQL server the database lives on, bypassing a connection pooler, for the run lock only; unset it for other databases"
            )),
        }
    }

    fn class(&self) -> crate::ErrorClass {
        match self {
            // A missing file is a wrong path (input); an unreadable one is not.
            ConfigError::Read { source, .. } if source.kind() != io::ErrorKind::NotFound => {
                crate::ErrorClass::Runtime
            }
            ConfigError::CurrentDir { .. } => crate::ErrorClass::Runtime,
            _ => crate::ErrorClass::Input,
        }
    }
}

/// `path:line:column`, or as much of it as is known.
fn location(path: &Path, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("{}:{line}:{column}", path.display()),
        (Some(line), None) => format!("{}:{line}", path.display()),
        _ => path.display().to_string(),
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Lexically drop `.` and fold `..` (like Cargo; symbolic links are not followed).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::ParentDir | Component::CurDir) | None => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn current_dir() -> Result<PathBuf, ConfigError> {
    std::env::current_dir().map_err(|source| ConfigError::CurrentDir { source })
}

/// `path` made absolute against the current directory, normalized.
fn absolute(path: &Path) -> Result<PathBuf, ConfigError> {
    if path.is_absolute() {
        Ok(normalize(path))
    } else {
        Ok(normalize(&current_dir()?.join(path)))
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawFile {
    database: RawDatabase,
    migrations: RawMigrations,
    schema: RawSchema,
    environments: std::collections::BTreeMap<String, environment::RawEnvironment>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default, expecting = "a table")]
struct RawDatabase {
    url: Option<Spanned<String>>,
    lock: Option<Spanned<String>>,
    lock_ttl: Option<Spanned<i64>>,
    lock_url: Option<Spanned<String>>,
    server: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default, expecting = "a table")]
struct RawMigrations {
    dirs: Option<Spanned<Vec<Spanned<String>>>>,
    file_template: Option<Spanned<String>>,
    template: Option<Spanned<String>>,
    version_table: Option<Spanned<String>>,
    version_table_schema: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default, expecting = "a table")]
struct RawSchema {
    files: Option<Spanned<Vec<Spanned<String>>>>,
    command: Option<Spanned<Vec<Spanned<String>>>>,
    dev_url: Option<Spanned<String>>,
}

/// Turns raw values into checked ones, with errors pointing into the file.
struct Loader<'a> {
    path: &'a Path,
    root: &'a Path,
    text: &'a str,
    env: &'a Env,
}

impl Loader<'_> {
    fn invalid<T>(
        &self,
        key: &str,
        span: std::ops::Range<usize>,
        message: String,
    ) -> Result<T, ConfigError> {
        let (line, column) = line_column(self.text, span.start);
        Err(ConfigError::Invalid {
            path: self.path.to_path_buf(),
            key: key.to_owned(),
            line: Some(line),
            column: Some(column),
            message,
        })
    }

    fn path(&self, key: &str, value: &Spanned<String>) -> Result<PathBuf, ConfigError> {
        if value.get_ref().is_empty() {
            return self.invalid(key, value.span(), "the path is empty".to_owned());
        }
        Ok(normalize(&self.root.join(value.get_ref())))
    }

    fn paths(
        &self,
        key: &str,
        values: Option<Spanned<Vec<Spanned<String>>>>,
        default: &str,
        allow_empty: bool,
    ) -> Result<Vec<PathBuf>, ConfigError> {
        let Some(values) = values else {
            return Ok(vec![normalize(&self.root.join(default))]);
        };
        if values.get_ref().is_empty() && !allow_empty {
            return self.invalid(
                key,
                values.span(),
                "the list is empty; give at least one directory".to_owned(),
            );
        }
        let mut out: Vec<PathBuf> = Vec::new();
        for value in values.get_ref() {
            let path = self.path(key, value)?;
            if out.contains(&path) {
                return self.invalid(
                    key,
                    value.span(),
                    format!("`{}` is listed twice", value.get_ref()),
                );
            }
            out.push(path);
        }
        Ok(out)
    }

    /// A program and its arguments: a list whose first item names the
    /// program.
    fn command(
        &self,
        key: &str,
        value: Option<Spanned<Vec<Spanned<String>>>>,
    ) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(value) = value else {
            return Ok(None);
        };
        let words: Vec<String> = value
            .get_ref()
            .iter()
            .map(|w| w.get_ref().clone())
            .collect();
        if words
            .first()
            .is_none_or(|program| program.trim().is_empty())
        {
            return self.invalid(
                key,
                value.span(),
                "give the program and its arguments, e.g. `[\"python\", \"schema_ddl.py\"]`"
                    .to_owned(),
            );
        }
        Ok(Some(words))
    }

    fn identifier(&self, key: &str, value: &Spanned<String>) -> Result<String, ConfigError> {
        let name = value.get_ref();
        if !valid_identifier(name) {
            return self.invalid(
                key,
                value.span(),
                format!(
                    "`{name}` is not a valid table or schema name: use letters, digits, `_` and `$`, starting with a letter or `_`, at most {MAX_IDENTIFIER_LEN} characters"
                ),
            );
        }
        Ok(name.clone())
    }

    /// `server` of `section`: a [`crate::db::ServerKind`]'s name. Whether
    /// it fits the database's dialect is known once the URL is (see
    /// [`crate::open`]).
    fn server(
        &self,
        section: &str,
        value: Option<Spanned<String>>,
    ) -> Result<Option<crate::db::ServerKind>, ConfigError> {
        let Some(value) = value else {
            return Ok(None);
        };
        match crate::db::ServerKind::from_name(value.get_ref()) {
            Some(kind) => Ok(Some(kind)),
            None => self.invalid(
                &format!("{section}.server"),
                value.span(),
                format!(
                    "unknown server `{}`; expected one of {}",
                    value.get_ref(),
                    crate::db::ServerKind::ALL
                        .map(|kind| format!("`{kind}`"))
                        .join(", ")
                ),
            ),
        }
    }

    fn file_template(&self, value: Option<Spanned<String>>) -> Result<String, ConfigError> {
        const KEY: &str = "migrations.file_template";
        let Some(value) = value else {
            return Ok(DEFAULT_FILE_TEMPLATE.to_owned());
        };
        if let Err(message) = check_file_template(value.get_ref()) {
            return self.invalid(KEY, value.span(), message);
        }
        Ok(value.into_inner())
    }

    /// `lock` and `lock_ttl` of `section` (`database`, or an
    /// environment's), over `lock`.
    fn lock(
        &self,
        section: &str,
        mut lock: LockConfig,
        setting: Option<Spanned<String>>,
        ttl: Option<Spanned<i64>>,
    ) -> Result<LockConfig, ConfigError> {
        if let Some(value) = setting {
            lock.setting = match LockSetting::parse(value.get_ref()) {
                Some(setting) => setting,
                None => {
                    return self.invalid(
                        &format!("{section}.lock"),
                        value.span(),
                        format!(
                            "`{}` is not a lock; expected one of {}",
                            value.get_ref(),
                            LockSetting::NAMES.map(|n| format!("`{n}`")).join(", ")
                        ),
                    );
                }
            };
        }
        if let Some(value) = ttl {
            lock.ttl = match lock::parse_ttl(&value.get_ref().to_string()) {
                Some(ttl) => ttl,
                None => {
                    return self.invalid(
                        &format!("{section}.lock_ttl"),
                        value.span(),
                        "expected whole seconds from 2 to 86400".to_owned(),
                    );
                }
            };
        }
        Ok(lock)
    }

    fn interpolated(
        &self,
        key: &str,
        value: Option<Spanned<String>>,
    ) -> Result<Option<String>, ConfigError> {
        let Some(value) = value else {
            return Ok(None);
        };
        interpolate(value.get_ref(), self.env)
            .map(Some)
            .map_err(|e| ConfigError::Interpolation {
                path: self.path.to_path_buf(),
                key: key.to_owned(),
                message: e.to_string(),
                hint: e.hint(),
            })
    }
}

/// `[A-Za-z_][A-Za-z0-9_$]*`, at most 63 characters.
fn valid_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= MAX_IDENTIFIER_LEN
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
}

/// Check a file template; the error is a message.
fn check_file_template(template: &str) -> Result<(), String> {
    if template.trim().is_empty() {
        return Err("the template is empty".to_owned());
    }
    if template.contains(['/', '\\']) {
        return Err(
            "the template must not contain `/` or `\\`; list directories in `migrations.dirs`"
                .to_owned(),
        );
    }
    let known = || {
        FILE_TEMPLATE_TOKENS
            .iter()
            .map(|t| format!("`{{{t}}}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        if rest[i..].starts_with('}') {
            return Err("unmatched `}`".to_owned());
        }
        let after = &rest[i + 1..];
        let Some(close) = after.find('}') else {
            return Err("unterminated `{`".to_owned());
        };
        let token = &after[..close];
        if !FILE_TEMPLATE_TOKENS.contains(&token) {
            return Err(format!(
                "unknown token `{{{token}}}`; known tokens: {}",
                known()
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

impl Config {
    /// Load the `retort.toml` at `path`, with the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::load_with_env(path, Env::from_process())
    }

    /// Load the `retort.toml` at `path`; `env` plays the process environment,
    /// and the `.env` beside the file is added to it.
    pub fn load_with_env(path: &Path, env: Env) -> Result<Config, ConfigError> {
        let path = absolute(path)?;
        let bytes = std::fs::read(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let text = crate::text::utf8(&bytes).map_err(|line| ConfigError::Parse {
            path: path.clone(),
            line: Some(line),
            column: None,
            message: "the file is not valid UTF-8".to_owned(),
        })?;
        let root = path
            .parent()
            .map_or_else(|| path.clone(), Path::to_path_buf);
        let env = env.with_dotenv_file(&root.join(DOTENV_FILE_NAME))?;
        Config::parse(&path, text, env)
    }

    /// Build a configuration from TOML `text` as if read from `path`, with
    /// `env` as the whole environment (no file is read).
    pub fn parse(path: &Path, text: &str, env: Env) -> Result<Config, ConfigError> {
        let path = absolute(path)?;
        let root = path
            .parent()
            .map_or_else(|| path.clone(), Path::to_path_buf);
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let (line, column) = match e.span() {
                Some(span) => {
                    let (line, column) = line_column(text, span.start);
                    (Some(line), Some(column))
                }
                None => (None, None),
            };
            let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
            ConfigError::Parse {
                path: path.clone(),
                line,
                column,
                message: url::redact_in_text(&message),
            }
        })?;
        let loader = Loader {
            path: &path,
            root: &root,
            text,
            env: &env,
        };
        let m = raw.migrations;
        let migrations = Migrations {
            dirs: loader.paths("migrations.dirs", m.dirs, DEFAULT_DIR, false)?,
            file_template: loader.file_template(m.file_template)?,
            template: match &m.template {
                Some(value) => loader.path("migrations.template", value)?,
                None => normalize(&root.join(DEFAULT_TEMPLATE)),
            },
            version_table: match &m.version_table {
                Some(value) => loader.identifier("migrations.version_table", value)?,
                None => DEFAULT_VERSION_TABLE.to_owned(),
            },
            version_table_schema: match &m.version_table_schema {
                Some(value) => Some(loader.identifier("migrations.version_table_schema", value)?),
                None => None,
            },
        };
        let command = loader.command("schema.command", raw.schema.command)?;
        let files = match (&command, raw.schema.files) {
            // The models are the schema: no file unless one is listed.
            (Some(_), None) => Vec::new(),
            (_, files) => loader.paths("schema.files", files, DEFAULT_SCHEMA_FILE, true)?,
        };
        let schema = Schema {
            files,
            command,
            dev_url: loader.interpolated("schema.dev_url", raw.schema.dev_url)?,
        };
        let lock = loader.lock(
            "database",
            LockConfig::default(),
            raw.database.lock,
            raw.database.lock_ttl,
        )?;
        let database_url = loader.interpolated("database.url", raw.database.url)?;
        let lock_url = loader.interpolated("database.lock_url", raw.database.lock_url)?;
        let database_server = loader.server("database", raw.database.server)?;
        let environments = raw
            .environments
            .into_iter()
            .map(|(name, section)| {
                let environment = loader.environment(&name, section, lock)?;
                Ok((name, environment))
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(Config {
            path,
            root,
            database_url,
            lock,
            lock_url,
            database_server,
            migrations,
            schema,
            env,
            environments,
            environment: None,
        })
    }

    /// `retort.toml` in `start` or its nearest parent that has one (like `Cargo.toml`).
    pub fn discover(start: &Path) -> Result<Config, ConfigError> {
        Config::discover_with_env(start, Env::from_process())
    }

    /// [`Config::discover`] with `env` playing the process environment.
    pub fn discover_with_env(start: &Path, env: Env) -> Result<Config, ConfigError> {
        let start = absolute(start)?;
        if let Err(source) = std::fs::metadata(&start) {
            return Err(ConfigError::Read {
                path: start,
                source,
            });
        }
        for dir in start.ancestors() {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                return Config::load_with_env(&candidate, env);
            }
        }
        Err(ConfigError::NotFound { start })
    }

    /// `--config` wins (relative to `dir` when both are given, else to the
    /// current directory); else discover from `dir` or the current directory.
    pub fn locate(how: &Locate) -> Result<Config, ConfigError> {
        Config::locate_with_env(how, Env::from_process())
    }

    /// [`Config::locate`] with `env` playing the process environment.
    pub fn locate_with_env(how: &Locate, env: Env) -> Result<Config, ConfigError> {
        let mut config = match (&how.config, &how.dir) {
            (Some(config), Some(dir)) => Config::load_with_env(&dir.join(config), env),
            (Some(config), None) => Config::load_with_env(config, env),
            (None, Some(dir)) => Config::discover_with_env(dir, env),
            (None, None) => Config::discover_with_env(&current_dir()?, env),
        }?;
        config.select_environment(how.environment.as_deref())?;
        Ok(config)
    }

    /// The database URL to use. Precedence: `cli_url` (`--url`), then the
    /// environment in use's `url`, then `DATABASE_URL` (process
    /// environment, then `.env`), then `database.url`. An environment
    /// chosen by name wins over an ambient `DATABASE_URL`, so that
    /// `--env production` never migrates the database a shell happened to
    /// point at.
    ///
    /// Relative SQLite paths resolve against the current directory for
    /// `--url` and a process `DATABASE_URL`, and against [`Config::root`] for
    /// `DATABASE_URL` from `.env` and for `database.url`. An empty
    /// `DATABASE_URL` counts as unset.
    pub fn database_url(&self, cli_url: Option<&str>) -> Result<DatabaseUrl, ConfigError> {
        self.database_url_with_origin(cli_url).map(|(url, _)| url)
    }

    /// [`Config::database_url`] together with where the URL came from.
    pub fn database_url_with_origin(
        &self,
        cli_url: Option<&str>,
    ) -> Result<(DatabaseUrl, UrlOrigin), ConfigError> {
        let environment_url = self
            .environment
            .as_ref()
            .and_then(|e| Some((e.url.as_deref()?, &e.name)));
        let (text, origin) = if let Some(text) = cli_url {
            (text, UrlOrigin::Cli)
        } else if let Some((text, name)) = environment_url {
            (
                text,
                UrlOrigin::Config {
                    path: self.path.clone(),
                    key: format!("environments.{name}.url"),
                },
            )
        } else if let Some(text) = self
            .env
            .get(DATABASE_URL_VAR)
            .filter(|t| !t.trim().is_empty())
        {
            let origin = match (
                self.env.get_process(DATABASE_URL_VAR),
                self.env.dotenv_path(),
            ) {
                (None, Some(dotenv)) => UrlOrigin::DotEnv(dotenv.to_path_buf()),
                _ => UrlOrigin::Env,
            };
            (text, origin)
        } else if let Some(text) = &self.database_url {
            (
                text.as_str(),
                UrlOrigin::Config {
                    path: self.path.clone(),
                    key: "database.url".to_owned(),
                },
            )
        } else {
            return Err(ConfigError::NoDatabaseUrl {
                path: self.path.clone(),
            });
        };
        let url = self.parse_url(text, &origin)?;
        Ok((url, origin))
    }

    /// `schema.dev_url` parsed, relative SQLite paths resolved against [`Config::root`].
    pub fn dev_url(&self) -> Result<Option<DatabaseUrl>, ConfigError> {
        let Some(text) = &self.schema.dev_url else {
            return Ok(None);
        };
        let origin = UrlOrigin::Config {
            path: self.path.clone(),
            key: "schema.dev_url".to_owned(),
        };
        self.parse_url(text, &origin).map(Some)
    }

    /// The connection the run lock of `database` is taken on, when it is
    /// not `database`'s own: `RETORT_LOCK_URL` (process environment, then
    /// `.env`), else `database.lock_url`. It is for a PostgreSQL database
    /// reached through a connection pooler that cannot hold the lock's
    /// transaction (PgBouncer's statement pooling): a direct connection to
    /// the same server and database. An empty `RETORT_LOCK_URL` counts as
    /// unset.
    pub fn lock_url(&self, database: &DatabaseUrl) -> Result<Option<DatabaseUrl>, ConfigError> {
        let (text, origin) =
            if let Some(text) = self.env.get(LOCK_URL_VAR).filter(|t| !t.trim().is_empty()) {
                let dotenv = match self.env.get_process(LOCK_URL_VAR) {
                    Some(_) => None,
                    None => self.env.dotenv_path().map(Path::to_path_buf),
                };
                let origin = UrlOrigin::Var {
                    name: LOCK_URL_VAR.to_owned(),
                    dotenv,
                };
                (text, origin)
            } else if let Some(text) = &self.lock_url {
                let origin = UrlOrigin::Config {
                    path: self.path.clone(),
                    key: "database.lock_url".to_owned(),
                };
                (text.as_str(), origin)
            } else {
                return Ok(None);
            };
        let url = self.parse_url(text, &origin)?;
        let message = if database.dialect() != Dialect::Postgres {
            format!(
                "`lock_url` is for PostgreSQL databases, and this one is `{}`",
                database.dialect()
            )
        } else if url.dialect() != Dialect::Postgres {
            format!(
                "`lock_url` must be a PostgreSQL URL (the database's own server and database), not `{}`",
                url.dialect()
            )
        } else {
            return Ok(Some(url));
        };
        Err(ConfigError::LockUrl { origin, message })
    }

    fn parse_url(&self, text: &str, origin: &UrlOrigin) -> Result<DatabaseUrl, ConfigError> {
        let url = DatabaseUrl::parse(text).map_err(|error| ConfigError::Url {
            origin: origin.clone(),
            error,
        })?;
        Ok(match origin {
            UrlOrigin::Cli | UrlOrigin::Env | UrlOrigin::Var { dotenv: None, .. } => {
                match std::env::current_dir() {
                    Ok(cwd) => url.resolve_relative_to(&cwd),
                    // The driver resolves against the same directory anyway.
                    Err(_) => url,
                }
            }
            UrlOrigin::DotEnv(_) | UrlOrigin::Config { .. } | UrlOrigin::Var { .. } => {
                url.resolve_relative_to(&self.root)
            }
        })
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("path", &self.path)
            .field("root", &self.root)
            .field(
                "database_url",
                &self.database_url.as_deref().map(url::redact_text),
            )
            .field("lock", &self.lock)
            .field("lock_url", &self.lock_url.as_deref().map(url::redact_text))
            .field("database_server", &self.database_server)
            .field("migrations", &self.migrations)
            .field("schema", &self.schema)
            .field("env", &self.env)
            .field("environments", &self.environments)
            .field("environment", &self.environment)
            .finish()
    }
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("files", &self.files)
            .field("command", &self.command)
            .field("dev_url", &self.dev_url.as_deref().map(url::redact_text))
            .finish()
    }
}

/// The `retort.toml` that `retort init` writes for `dialect`: every key, commented, with its default.
pub fn default_file(dialect: Dialect) -> String {
    let (url, schema, dev_url) = match dialect {
        Dialect::Sqlite => ("sqlite://app.db", "main", "sqlite::memory:"),
        Dialect::Postgres => (
            "postgres://postgres@localhost:5432/app",
            "public",
            "postgres://postgres@localhost:5432/app_dev",
        ),
        Dialect::Mysql => (
            "mysql://root@localhost:3306/app",
            "app",
            "mysql://root@localhost:3306/app_dev",
        ),
    };
    let url_note = match dialect {
        Dialect::Sqlite => {
            "# A relative SQLite path is relative to this file's directory;\n\
             # `sqlite:////abs/app.db` is absolute and `sqlite::memory:` in memory.\n"
        }
        Dialect::Postgres | Dialect::Mysql => {
            "# Keep passwords out of this file: use `DATABASE_URL` or `${VAR}`.\n"
        }
    };
    // SQLite has no server to tell apart.
    let server_note = match dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => {
            "# What the server is, when retort should not find out by asking it:\n\
             # `plain`, `cockroachdb`, `yugabytedb` or `citus` (a URL's `?server=` wins).\n\
             # server = \"plain\"\n"
        }
        Dialect::Mysql => {
            "# What the server is, when retort should not find out by asking it:\n\
             # `plain`, `galera` or `vitess` (a URL's `?server=` wins).\n\
             # server = \"plain\"\n"
        }
    };
    TEMPLATE
        .replace("@URL_NOTE@", url_note)
        .replace("@SERVER_NOTE@", server_note)
        .replace("@URL@", url)
        .replace("@SCHEMA@", schema)
        .replace("@DEV_URL@", dev_url)
        .replace("@DIR@", DEFAULT_DIR)
        .replace("@FILE_TEMPLATE@", DEFAULT_FILE_TEMPLATE)
        .replace("@TEMPLATE@", DEFAULT_TEMPLATE)
        .replace("@VERSION_TABLE@", DEFAULT_VERSION_TABLE)
        .replace("@SCHEMA_FILE@", DEFAULT_SCHEMA_FILE)
}

const TEMPLATE: &str = r#"# retort configuration. Relative paths are relative to this file's directory.

[database]
# The database to migrate. The `DATABASE_URL` environment variable (or a
# `.env` file beside this file) and `--url` take precedence over it.
@URL_NOTE@url = "@URL@"
# `${VAR}` is replaced by an environment variable and `${VAR:-default}` falls
# back to the default when VAR is unset or empty (`$$` is a literal `$`), e.g.
# url = "${APP_DATABASE_URL:-@URL@}"
# The run lock on PostgreSQL and MySQL/MariaDB: `auto` takes the server's
# advisory lock unless the server needs the lease (Galera, CockroachDB,
# Vitess); `lease` keeps a row in `retort_lock`, renewed while a run lasts and
# expiring `lock_ttl` seconds after the last renewal of a run that died.
# lock = "auto"
# lock_ttl = 30
@SERVER_NOTE@
[migrations]
# Directories holding revision files; revisions may live in any of them.
dirs = ["@DIR@"]
# Name of new revision files (without `.sql`). Tokens: {date} {time} {year}
# {month} {day} {hour} {minute} {second} {epoch} {rev} {slug}.
file_template = "@FILE_TEMPLATE@"
# Template for new revision files.
template = "@TEMPLATE@"
# Table recording which revisions are applied.
version_table = "@VERSION_TABLE@"
# Schema (a database on MySQL) holding the version table; by default the
# connection's current one.
# version_table_schema = "@SCHEMA@"

[schema]
# The schema the migrations should build, as plain DDL (`retort check`,
# `retort revision --autogenerate`).
files = ["@SCHEMA_FILE@"]
# Or a program whose output is that DDL, such as an ORM's models printed
# as DDL (docs/autogenerate.md).
# command = ["python", "schema_ddl.py"]
# The server on which those commands create and drop scratch databases;
# by default the database's own (SQLite's are in memory).
# dev_url = "@DEV_URL@"

# Named environments, chosen with `--env NAME` or `RETORT_ENV`. A section's
# `url` wins over `DATABASE_URL`; it may also set `lock_url`, `server`,
# `lock`, `lock_ttl` and `dev_url` (docs/operations.md).
# [environments.production]
# url = "${PROD_DATABASE_URL}"
# protected = true                # `retort reset` and `retort drop` refuse
# backup_before_upgrade = true    # `retort upgrade` backs up first
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Diagnostic as _;
    use std::fs;

    fn tempdir() -> tempfile::TempDir {
        match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => panic!("{e}"),
        }
    }

    fn write(path: &Path, text: &str) {
        if let Some(parent) = path.parent()
            && let Err(e) = fs::create_dir_all(parent)
        {
            panic!("{e}");
        }
        if let Err(e) = fs::write(path, text) {
            panic!("{e}");
        }
    }

    fn no_env() -> Env {
        Env::from_pairs(std::iter::empty::<(String, String)>())
    }

    fn parse_with(text: &str, env: Env) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/proj/retort.toml"), text, env)
    }

    #[test]
    fn an_environment_overrides_the_database_settings() {
        let text = "[database]\nurl = \"sqlite://a.db\"\nlock = \"advisory\"\n\n\
                    [environments.prod]\nurl = \"postgres://u:${PW}@h/app\"\nprotected = true\n\
                    lock = \"lease\"\nlock_ttl = 60\nserver = \"cockroachdb\"\n\n\
                    [environments.dev]\nurl = \"sqlite://dev.db\"\n";
        let env = Env::from_pairs([("PW", "secret"), ("DATABASE_URL", "sqlite://ambient.db")]);
        let mut config = parse_with(text, env.clone()).unwrap();
        // Without one chosen, the ambient URL and `[database]` hold.
        assert!(
            config
                .database_url(None)
                .unwrap()
                .redacted()
                .ends_with("ambient.db")
        );
        assert_eq!(config.lock.setting, LockSetting::Advisory);
        config.select_environment(Some("prod")).unwrap();
        assert_eq!(config.environment_name(), Some("prod"));
        assert_eq!(
            config.database_url(None).unwrap().redacted(),
            "postgres://u:***@h/app"
        );
        assert!(config.environment.as_ref().unwrap().protected);
        assert_eq!(config.lock.setting, LockSetting::Lease);
        assert_eq!(config.lock.ttl, std::time::Duration::from_secs(60));
        assert_eq!(
            config.database_server,
            Some(crate::db::ServerKind::CockroachDb)
        );
        // `--url` still wins.
        assert!(
            config
                .database_url(Some("sqlite://cli.db"))
                .unwrap()
                .redacted()
                .ends_with("cli.db")
        );
        // `RETORT_ENV` chooses when `--env` does not.
        let chosen = Env::from_pairs([("PW", "secret"), (ENV_VAR, "dev")]);
        let mut config = parse_with(text, chosen).unwrap();
        config.select_environment(None).unwrap();
        assert_eq!(config.environment_name(), Some("dev"));
        assert!(!config.environment.as_ref().unwrap().protected);

        let unknown = parse_with(text, env)
            .unwrap()
            .select_environment(Some("staging"))
            .unwrap_err();
        assert_eq!(unknown.kind(), "unknown_environment");
        assert!(
            unknown
                .to_string()
                .ends_with("its environments are `dev`, `prod`"),
            "{unknown}"
        );

        let bad = parse_with("[environments.prod]\nlock = \"nope\"\n", no_env()).unwrap_err();
        assert!(
            bad.to_string()
                .starts_with("invalid `environments.prod.lock` in `"),
            "{bad}"
        );
        let bad = parse_with("[environments.prod]\nbackup = true\n", no_env()).unwrap_err();
        assert_eq!(bad.kind(), "config_parse", "{bad}");
    }

    fn ok(text: &str) -> Config {
        match parse_with(text, no_env()) {
            Ok(config) => config,
            Err(e) => panic!("{e}"),
        }
    }

    fn err(text: &str) -> ConfigError {
        match parse_with(text, no_env()) {
            Ok(config) => panic!("parsed: {config:?}"),
            Err(e) => e,
        }
    }

    fn ok_or_panic<T>(result: Result<T, ConfigError>) -> T {
        match result {
            Ok(value) => value,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn defaults() {
        let config = ok("");
        assert_eq!(config.path, Path::new("/proj/retort.toml"));
        assert_eq!(config.root, Path::new("/proj"));
        assert_eq!(config.database_url, None);
        assert_eq!(
            config.migrations,
            Migrations {
                dirs: vec![PathBuf::from("/proj/migrations")],
                file_template: "{date}_{time}_{rev}_{slug}".to_owned(),
                template: PathBuf::from("/proj/migrations/script.sql.tmpl"),
                version_table: "retort_version".to_owned(),
                version_table_schema: None,
            }
        );
        assert_eq!(
            config.schema,
            Schema {
                files: vec![PathBuf::from("/proj/schema.sql")],
                command: None,
                dev_url: None,
            }
        );
        // A command instead of files: no schema.sql unless listed.
        let config = ok("[schema]\ncommand = [\"python\", \"ddl.py\"]\n");
        assert_eq!(config.schema.files, Vec::<PathBuf>::new());
        assert_eq!(
            config.schema.command,
            Some(vec!["python".to_owned(), "ddl.py".to_owned()])
        );
        // Empty sections are the same as missing ones.
        let config = ok("[database]\n[migrations]\n[schema]\n");
        assert_eq!(config.migrations.version_table, "retort_version");
    }

    #[test]
    fn every_key() {
        let config = ok(r#"
[database]
url = "postgres://u@h/app"
[migrations]
dirs = ["db/migrations", "./extra/../more", "/abs/dir"]
file_template = "{epoch}-{rev}"
template = "templates/new.sql"
version_table = "alembic_version"
version_table_schema = "meta$1"
[schema]
files = ["a.sql", "sub/b.sql"]
dev_url = "sqlite::memory:"
"#);
        assert_eq!(config.database_url.as_deref(), Some("postgres://u@h/app"));
        assert_eq!(
            config.migrations.dirs,
            [
                PathBuf::from("/proj/db/migrations"),
                PathBuf::from("/proj/more"),
                PathBuf::from("/abs/dir")
            ]
        );
        assert_eq!(config.migrations.file_template, "{epoch}-{rev}");
        assert_eq!(
            config.migrations.template,
            Path::new("/proj/templates/new.sql")
        );
        assert_eq!(config.migrations.version_table, "alembic_version");
        assert_eq!(
            config.migrations.version_table_schema.as_deref(),
            Some("meta$1")
        );
        assert_eq!(
            config.schema.files,
            [
                PathBuf::from("/proj/a.sql"),
                PathBuf::from("/proj/sub/b.sql")
            ]
        );
        assert_eq!(config.schema.dev_url.as_deref(), Some("sqlite::memory:"));
        let empty = ok("[schema]\nfiles = []\n");
        assert!(empty.schema.files.is_empty());
    }

    #[test]
    fn validation_errors() {
        let long = "a".repeat(64);
        let table = [
            (
                "[migrations]\nversion_table = \"1abc\"\n".to_owned(),
                "invalid `migrations.version_table` in `/proj/retort.toml:2:17`: `1abc` is not a valid table or schema name: use letters, digits, `_` and `$`, starting with a letter or `_`, at most 63 characters",
            ),
            (
                "[migrations]\nversion_table = \"my-table\"\n".to_owned(),
                "invalid `migrations.version_table` in `/proj/retort.toml:2:17`: `my-table` is not a valid table or schema name: use letters, digits, `_` and `$`, starting with a letter or `_`, at most 63 characters",
            ),
            (
                format!("[migrations]\nversion_table = \"{long}\"\n"),
                "invalid `migrations.version_table` in `/proj/retort.toml:2:17`: `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` is not a valid table or schema name: use letters, digits, `_` and `$`, starting with a letter or `_`, at most 63 characters",
            ),
            (
                "[migrations]\nversion_table_schema = \"\"\n".to_owned(),
                "invalid `migrations.version_table_schema` in `/proj/retort.toml:2:24`: `` is not a valid table or schema name: use letters, digits, `_` and `$`, starting with a letter or `_`, at most 63 characters",
            ),
            (
                "[migrations]\ndirs = []\n".to_owned(),
                "invalid `migrations.dirs` in `/proj/retort.toml:2:8`: the list is empty; give at least one directory",
            ),
            (
                "[migrations]\ndirs = [\"a\", \"\"]\n".to_owned(),
                "invalid `migrations.dirs` in `/proj/retort.toml:2:14`: the path is empty",
            ),
            (
                "[migrations]\ndirs = [\"a\", \"./a\"]\n".to_owned(),
                "invalid `migrations.dirs` in `/proj/retort.toml:2:14`: `./a` is listed twice",
            ),
            (
                "[migrations]\ntemplate = \"\"\n".to_owned(),
                "invalid `migrations.template` in `/proj/retort.toml:2:12`: the path is empty",
            ),
            (
                "[migrations]\nfile_template = \"\"\n".to_owned(),
                "invalid `migrations.file_template` in `/proj/retort.toml:2:17`: the template is empty",
            ),
            (
                "[migrations]\nfile_template = \"{year}/{rev}\"\n".to_owned(),
                "invalid `migrations.file_template` in `/proj/retort.toml:2:17`: the template must not contain `/` or `\\`; list directories in `migrations.dirs`",
            ),
            (
                "[migrations]\nfile_template = 'a\\{rev}'\n".to_owned(),
                "invalid `migrations.file_template` in `/proj/retort.toml:2:17`: the template must not contain `/` or `\\`; list directories in `migrations.dirs`",
            ),
            (
                "[migrations]\nfile_template = \"{rev}_{name}\"\n".to_owned(),
                "invalid `migrations.file_template` in `/proj/retort.toml:2:17`: unknown token `{name}`; known tokens: `{date}`, `{time}`, `{year}`, `{month}`, `{day}`, `{hour}`, `{minute}`, `{second}`, `{rev}`, `{slug}`, `{epoch}`",
            ),
            (
                "[migrations]\nfile_template = \"{rev\"\n".to_owned(),
                "invalid `migrations.file_template` in `/proj/retort.toml:2:17`: unterminated `{`",
            ),
            (
                "[migrations]\nfile_template = \"rev}\"\n".to_owned(),
                "invalid `migrations.file_template` in `/proj/retort.toml:2:17`: unmatched `}`",
            ),
        ];
        for (text, message) in table {
            let e = err(&text);
            assert_eq!(e.to_string(), message, "{text}");
            assert_eq!(e.kind(), "config_invalid");
        }
    }

    #[test]
    fn database_server_names_a_kind_of_server() {
        assert_eq!(ok("").database_server, None);
        assert_eq!(
            ok("[database]\nserver = \"galera\"\n").database_server,
            Some(crate::db::ServerKind::Galera)
        );
        let e = err("[database]\nserver = \"mariadb\"\n");
        assert_eq!(
            e.to_string(),
            "invalid `database.server` in `/proj/retort.toml:2:10`: unknown server `mariadb`; expected one of `plain`, `galera`, `vitess`, `cockroachdb`, `yugabytedb`, `citus`"
        );
        assert_eq!(e.kind(), "config_invalid");
    }

    #[test]
    fn parse_errors() {
        let table = [
            (
                "[database]\nurl = \"x\"\nuser = \"me\"\n",
                "cannot parse `/proj/retort.toml:3:1`: unknown field `user`, expected one of `url`, `lock`, `lock_ttl`, `lock_url`, `server`",
            ),
            (
                "[databse]\nurl = \"x\"\n",
                "cannot parse `/proj/retort.toml:1:2`: unknown field `databse`, expected one of `database`, `migrations`, `schema`, `environments`",
            ),
            (
                "[migrations]\ndirs = \"migrations\"\n",
                "cannot parse `/proj/retort.toml:2:8`: invalid type: string \"migrations\", expected a sequence",
            ),
            (
                "[database]\nurl = \n",
                "cannot parse `/proj/retort.toml:2:7`: string values must be quoted, expected literal string",
            ),
        ];
        for (text, message) in table {
            let e = err(text);
            assert_eq!(e.to_string(), message, "{text}");
            assert!(!e.to_string().contains('\n'));
            assert_eq!(e.kind(), "config_parse");
        }
    }

    #[test]
    fn parse_error_does_not_show_password() {
        let e = err("database = \"postgres://u:hunter2@h/app\"\n");
        let shown = e.to_string();
        assert!(
            shown.starts_with("cannot parse `/proj/retort.toml:1:12`: "),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!format!("{e:?}").contains("hunter2"));
    }

    #[test]
    fn interpolation() {
        let env = Env::from_pairs([("DB_HOST", "db.local"), ("EMPTY", "")]);
        let config = ok_or_panic(parse_with(
            "[database]\nurl = \"postgres://${DB_USER:-app}@${DB_HOST}/${EMPTY:-app}?x=$$1\"\n[schema]\ndev_url = \"${DEV:-sqlite::memory:}\"\n",
            env,
        ));
        assert_eq!(
            config.database_url.as_deref(),
            Some("postgres://app@db.local/app?x=$1")
        );
        assert_eq!(config.schema.dev_url.as_deref(), Some("sqlite::memory:"));

        let e = err("[database]\nurl = \"postgres://${DB_HOST}/app\"\n");
        assert_eq!(
            e.to_string(),
            "cannot interpolate `database.url` in `/proj/retort.toml`: environment variable `DB_HOST` is not set"
        );
        assert_eq!(
            e.hint().as_deref(),
            Some("set `DB_HOST` or write `${DB_HOST:-default}`")
        );
        assert_eq!(e.kind(), "env_var");

        let e = err("[schema]\ndev_url = \"postgres://${DB_HOST/app\"\n");
        assert_eq!(
            e.to_string(),
            "cannot interpolate `schema.dev_url` in `/proj/retort.toml`: unterminated `${` at character 12"
        );
    }

    #[test]
    fn discovery_from_nested_directory() {
        let dir = tempdir();
        let root = dir.path();
        write(
            &root.join("retort.toml"),
            "[migrations]\nversion_table = \"top\"\n",
        );
        write(
            &root.join("sub/retort.toml"),
            "[migrations]\nversion_table = \"sub\"\n",
        );
        fs::create_dir_all(root.join("a/b/c")).unwrap_or_else(|e| panic!("{e}"));
        fs::create_dir_all(root.join("sub/x")).unwrap_or_else(|e| panic!("{e}"));

        let config = ok_or_panic(Config::discover_with_env(&root.join("a/b/c"), no_env()));
        assert_eq!(config.path, normalize(&root.join("retort.toml")));
        assert_eq!(config.root, normalize(root));
        assert_eq!(config.migrations.version_table, "top");
        assert_eq!(
            config.migrations.dirs,
            [normalize(&root.join("migrations"))]
        );

        let config = ok_or_panic(Config::discover_with_env(&root.join("sub/x"), no_env()));
        assert_eq!(config.migrations.version_table, "sub");

        let config = ok_or_panic(Config::discover_with_env(root, no_env()));
        assert_eq!(config.migrations.version_table, "top");
    }

    #[test]
    fn discovery_not_found() {
        let dir = tempdir();
        match Config::discover_with_env(dir.path(), no_env()) {
            Err(e @ ConfigError::NotFound { .. }) => {
                assert_eq!(
                    e.to_string(),
                    format!(
                        "cannot find `retort.toml` in `{}` or any parent directory",
                        normalize(dir.path()).display()
                    )
                );
                assert_eq!(e.kind(), "config_not_found");
                assert_eq!(
                    e.hint().as_deref(),
                    Some("run `retort init` to create one, or pass `--config PATH`")
                );
            }
            // A `retort.toml` above the temporary directory: nothing to assert.
            Ok(config) => assert!(!config.path.starts_with(dir.path())),
            Err(e) => panic!("{e}"),
        }
        let missing = dir.path().join("missing");
        let e = Config::discover_with_env(&missing, no_env()).err();
        assert!(matches!(e, Some(ConfigError::Read { .. })), "{e:?}");
    }

    #[test]
    fn locate() {
        let dir = tempdir();
        let root = dir.path();
        write(
            &root.join("retort.toml"),
            "[migrations]\nversion_table = \"top\"\n",
        );
        write(
            &root.join("conf/other.toml"),
            "[migrations]\nversion_table = \"other\"\n",
        );
        fs::create_dir_all(root.join("deep/er")).unwrap_or_else(|e| panic!("{e}"));

        // `--config` relative to `-C`.
        let how = Locate {
            config: Some(PathBuf::from("conf/other.toml")),
            dir: Some(root.to_path_buf()),
            ..Locate::default()
        };
        let config = ok_or_panic(Config::locate_with_env(&how, no_env()));
        assert_eq!(config.migrations.version_table, "other");
        assert_eq!(config.root, normalize(&root.join("conf")));
        assert_eq!(
            config.migrations.dirs,
            [normalize(&root.join("conf/migrations"))]
        );

        // An absolute `--config` ignores `-C`.
        let how = Locate {
            config: Some(root.join("conf/other.toml")),
            dir: Some(PathBuf::from("/nonexistent")),
            ..Locate::default()
        };
        let config = ok_or_panic(Config::locate_with_env(&how, no_env()));
        assert_eq!(config.migrations.version_table, "other");

        // `-C` alone discovers upwards.
        let how = Locate {
            config: None,
            dir: Some(root.join("deep/er")),
            ..Locate::default()
        };
        let config = ok_or_panic(Config::locate_with_env(&how, no_env()));
        assert_eq!(config.migrations.version_table, "top");

        // A missing `--config` file.
        let how = Locate {
            config: Some(PathBuf::from("nope.toml")),
            dir: Some(root.to_path_buf()),
            ..Locate::default()
        };
        let e = Config::locate_with_env(&how, no_env()).err();
        match e {
            Some(e @ ConfigError::Read { .. }) => {
                assert!(e.to_string().starts_with("cannot read `"), "{e}");
                assert!(e.to_string().contains("nope.toml"), "{e}");
                assert_eq!(e.kind(), "config_read");
                assert!(e.hint().is_some());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dotenv_beside_the_file() {
        let dir = tempdir();
        let root = dir.path();
        write(
            &root.join("retort.toml"),
            "[database]\nurl = \"postgres://${DB_USER}@h/app\"\n",
        );
        write(&root.join(".env"), "DB_USER=fromdotenv\nexport OTHER=1\n");
        let config = ok_or_panic(Config::load_with_env(&root.join("retort.toml"), no_env()));
        assert_eq!(
            config.database_url.as_deref(),
            Some("postgres://fromdotenv@h/app")
        );
        assert_eq!(
            config.env.dotenv_path(),
            Some(normalize(&root.join(".env")).as_path())
        );

        // The process environment wins over `.env`.
        let env = Env::from_pairs([("DB_USER", "fromprocess")]);
        let config = ok_or_panic(Config::load_with_env(&root.join("retort.toml"), env));
        assert_eq!(
            config.database_url.as_deref(),
            Some("postgres://fromprocess@h/app")
        );

        // A malformed `.env`.
        write(&root.join(".env"), "# ok\nDB_USER=x\nnot valid\n");
        let e = Config::load_with_env(&root.join("retort.toml"), no_env()).err();
        match e {
            Some(e @ ConfigError::DotEnv { .. }) => {
                assert_eq!(
                    e.to_string(),
                    format!(
                        "cannot parse `{}:3`: expected `KEY=VALUE`",
                        normalize(&root.join(".env")).display()
                    )
                );
                assert_eq!(e.kind(), "dotenv");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn database_url_precedence() {
        let dir = tempdir();
        let root = normalize(dir.path());
        write(
            &root.join("retort.toml"),
            "[database]\nurl = \"sqlite://from-config.db\"\n",
        );

        // database.url alone, relative to the root.
        let config = ok_or_panic(Config::load_with_env(&root.join("retort.toml"), no_env()));
        let (url, origin) = ok_or_panic(config.database_url_with_origin(None));
        assert_eq!(
            url.sqlite_location(),
            Some(&SqliteLocation::File(root.join("from-config.db")))
        );
        assert_eq!(
            origin.to_string(),
            format!("`database.url` in `{}`", root.join("retort.toml").display())
        );

        // DATABASE_URL from `.env` beats database.url, relative to the root.
        write(&root.join(".env"), "DATABASE_URL=sqlite://from-dotenv.db\n");
        let config = ok_or_panic(Config::load_with_env(&root.join("retort.toml"), no_env()));
        let (url, origin) = ok_or_panic(config.database_url_with_origin(None));
        assert_eq!(
            url.sqlite_location(),
            Some(&SqliteLocation::File(root.join("from-dotenv.db")))
        );
        assert_eq!(origin, UrlOrigin::DotEnv(root.join(".env")));

        // The process DATABASE_URL beats `.env`, relative to the cwd.
        let env = Env::from_pairs([("DATABASE_URL", "sqlite:////abs/from-env.db")]);
        let config = ok_or_panic(Config::load_with_env(&root.join("retort.toml"), env));
        let (url, origin) = ok_or_panic(config.database_url_with_origin(None));
        assert_eq!(
            url.sqlite_location(),
            Some(&SqliteLocation::File(PathBuf::from("/abs/from-env.db")))
        );
        assert_eq!(origin, UrlOrigin::Env);

        // --url beats everything, relative to the cwd.
        let url = ok_or_panic(config.database_url(Some("sqlite://cli.db")));
        let cwd = std::env::current_dir().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            url.sqlite_location(),
            Some(&SqliteLocation::File(normalize(&cwd.join("cli.db"))))
        );

        // An empty DATABASE_URL counts as unset.
        let env = Env::from_pairs([("DATABASE_URL", "")]);
        let config = ok_or_panic(parse_with("[database]\nurl = \"postgres://h/app\"\n", env));
        let (_, origin) = ok_or_panic(config.database_url_with_origin(None));
        assert!(matches!(origin, UrlOrigin::Config { .. }));
    }

    #[test]
    fn lock_url_from_the_file_or_the_environment() {
        let text = "[database]\nurl = \"postgres://app:${PW}@pooler:6432/app\"\n\
                    lock_url = \"postgres://app:${PW}@db:5432/app\"\n";
        let env = || Env::from_pairs([("PW", "hunter2")]);
        let config = ok_or_panic(parse_with(text, env()));
        let database = ok_or_panic(config.database_url(None));
        let lock = ok_or_panic(config.lock_url(&database));
        assert_eq!(
            lock.as_ref().map(DatabaseUrl::redacted).as_deref(),
            Some("postgres://app:***@db:5432/app")
        );
        assert!(!format!("{config:?}").contains("hunter2"));

        // RETORT_LOCK_URL beats the file; empty counts as unset.
        let with = |value: &str| {
            let env = Env::from_pairs([("PW", "hunter2"), (LOCK_URL_VAR, value)]);
            ok_or_panic(parse_with(text, env)).lock_url(&database)
        };
        let lock = ok_or_panic(with("postgres://app@direct/app"));
        assert_eq!(
            lock.map(|u| u.redacted()).as_deref(),
            Some("postgres://app@direct/app")
        );
        let lock = ok_or_panic(with(""));
        assert_eq!(
            lock.and_then(|u| u.host().map(str::to_owned)).as_deref(),
            Some("db")
        );

        // None at all.
        let plain = ok_or_panic(parse_with(
            "[database]\nurl = \"postgres://h/app\"\n",
            env(),
        ));
        assert!(ok_or_panic(plain.lock_url(&database)).is_none());

        // PostgreSQL only, on both sides; the URL's password stays hidden.
        let refused = |e: Option<ConfigError>, message: &str| {
            let e = e.unwrap_or_else(|| panic!("no error; expected {message}"));
            assert_eq!(e.to_string(), message);
            assert_eq!(e.kind(), "lock_url");
            assert!(e.hint().is_some_and(|h| h.contains(LOCK_URL_VAR)));
        };
        refused(
            with("mysql://app:hunter2@direct/app").err(),
            "`RETORT_LOCK_URL`: `lock_url` must be a PostgreSQL URL (the database's own server and database), not `mysql`",
        );
        let mysql = DatabaseUrl::parse("mysql://h/app").unwrap_or_else(|e| panic!("{e}"));
        refused(
            config.lock_url(&mysql).err(),
            "`database.lock_url` in `/proj/retort.toml`: `lock_url` is for PostgreSQL databases, and this one is `mysql`",
        );
        let e = with("postgres://app:hunter2@direct:99999/app").err();
        assert!(e.is_some_and(|e| e.kind() == "url" && !e.to_string().contains("hunter2")));
    }

    #[test]
    fn no_database_url() {
        let e = ok("").database_url(None).err();
        match e {
            Some(e @ ConfigError::NoDatabaseUrl { .. }) => {
                assert_eq!(
                    e.to_string(),
                    "no database URL: `database.url` is not set in `/proj/retort.toml` and neither `DATABASE_URL` nor `--url` is given"
                );
                assert_eq!(e.kind(), "no_database_url");
                let hint = e.hint().unwrap_or_default();
                assert!(
                    hint.contains("database.url")
                        && hint.contains("DATABASE_URL")
                        && hint.contains("--url")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn url_errors_name_their_origin_and_hide_passwords() {
        let env = Env::from_pairs([("DATABASE_URL", "oracle://u:hunter2@h/app")]);
        let config = ok_or_panic(parse_with(
            "[database]\nurl = \"postgres://u:hunter2@h:99999/app\"\n[schema]\ndev_url = \"postgres://u:hunter2@h:x/app\"\n",
            env,
        ));
        let errors = [
            (
                config
                    .database_url(Some("postgres://u:hunter2@h:99999/app"))
                    .err(),
                "`--url`: invalid port `99999` in `postgres://u:***@h:99999/app`: expected a number from 1 to 65535",
            ),
            (
                config.database_url(None).err(),
                "`DATABASE_URL`: unsupported database URL scheme `oracle`; supported: `sqlite`, `postgres`, `postgresql`, `mysql` and `mariadb`",
            ),
            (
                Config {
                    env: no_env(),
                    ..config.clone()
                }
                .database_url(None)
                .err(),
                "`database.url` in `/proj/retort.toml`: invalid port `99999` in `postgres://u:***@h:99999/app`: expected a number from 1 to 65535",
            ),
            (
                config.dev_url().err(),
                "`schema.dev_url` in `/proj/retort.toml`: invalid database URL `postgres:…` (the rest is hidden because it may contain a password): the port is not a number",
            ),
        ];
        for (e, message) in errors {
            match e {
                Some(e) => {
                    assert_eq!(e.to_string(), message);
                    assert_eq!(e.kind(), "url");
                    assert!(!format!("{e:?}").contains("hunter2"));
                    assert!(!e.hint().unwrap_or_default().contains("hunter2"));
                }
                None => panic!("no error for {message}"),
            }
        }
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("postgres://u:***@h:99999/app"), "{debug}");
    }

    #[test]
    fn lock_settings() {
        let parse =
            |text: &str| Config::parse(Path::new("/proj/retort.toml"), text, Env::default());
        let config = parse("").unwrap();
        assert_eq!(config.lock, LockConfig::default());
        let config = parse("[database]\nlock = \"lease\"\nlock_ttl = 9\n").unwrap();
        assert_eq!(config.lock.setting, LockSetting::Lease);
        assert_eq!(config.lock.ttl, std::time::Duration::from_secs(9));
        // The URL's parameters win.
        let url =
            DatabaseUrl::parse("mysql://h/db?retort_lock=advisory&retort_lock_ttl=60").unwrap();
        assert_eq!(
            config.lock.with_url(&url),
            LockConfig {
                setting: LockSetting::Advisory,
                ttl: std::time::Duration::from_secs(60)
            }
        );
        let e = parse("[database]\nlock = \"row\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid `database.lock` in `/proj/retort.toml:2:8`: `row` is not a lock; expected one of `auto`, `advisory`, `lease`"
        );
        let e = parse("[database]\nlock_ttl = 1\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("expected whole seconds from 2 to 86400"),
            "{e}"
        );
        for bad in [
            "postgres://h/db?retort_lock=table",
            "mysql://h/db?retort_lock_ttl=soon",
        ] {
            let e = DatabaseUrl::parse(bad).unwrap_err();
            assert_eq!(crate::Diagnostic::kind(&e), "url_invalid_param", "{bad}");
        }
        // SQLite URLs take no lock parameter: the file lock is exact.
        assert!(DatabaseUrl::parse("sqlite:///app.db?retort_lock=lease").is_err());
    }

    #[test]
    fn default_file_loads_back() {
        for dialect in Dialect::ALL {
            let dir = tempdir();
            let root = normalize(dir.path());
            let text = default_file(dialect);
            for key in [
                "url =",
                "dirs =",
                "file_template =",
                "template =",
                "version_table =",
                "# version_table_schema =",
                "files =",
                "# dev_url =",
                "${VAR:-default}",
            ] {
                assert!(text.contains(key), "{dialect}: {key}");
            }
            write(&root.join("retort.toml"), &text);
            let config = ok_or_panic(Config::load_with_env(&root.join("retort.toml"), no_env()));
            assert_eq!(config.migrations.dirs, [root.join("migrations")]);
            assert_eq!(config.migrations.file_template, DEFAULT_FILE_TEMPLATE);
            assert_eq!(config.migrations.template, root.join(DEFAULT_TEMPLATE));
            assert_eq!(config.migrations.version_table, DEFAULT_VERSION_TABLE);
            assert_eq!(config.migrations.version_table_schema, None);
            assert_eq!(config.schema.files, [root.join("schema.sql")]);
            assert_eq!(config.schema.dev_url, None);
            let url = ok_or_panic(config.database_url(None));
            assert_eq!(url.dialect(), dialect);
            // The commented examples parse too.
            let uncommented = text
                .replace("# version_table_schema", "version_table_schema")
                .replace("# dev_url", "dev_url");
            let config = ok_or_panic(Config::parse(
                &root.join("retort.toml"),
                &uncommented,
                no_env(),
            ));
            assert!(config.migrations.version_table_schema.is_some());
            let dev = ok_or_panic(config.dev_url());
            assert_eq!(dev.map(|u| u.dialect()), Some(dialect));
        }
        assert!(default_file(Dialect::Sqlite).contains("url = \"sqlite://app.db\""));
        assert!(
            default_file(Dialect::Postgres)
                .contains("url = \"postgres://postgres@localhost:5432/app\"")
        );
        assert!(default_file(Dialect::Mysql).contains("url = \"mysql://root@localhost:3306/app\""));
    }

    #[test]
    fn normalize_paths() {
        let table = [
            ("/a/./b/../c", "/a/c"),
            ("/..", "/"),
            ("/a/b/../../..", "/"),
            ("a/../..", ".."),
            ("./a", "a"),
            (".", "."),
        ];
        for (input, expected) in table {
            assert_eq!(normalize(Path::new(input)), Path::new(expected), "{input}");
        }
    }

    #[test]
    fn line_columns() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é\né", 3), (2, 1));
        assert_eq!(line_column("é", 1), (1, 1));
        assert_eq!(line_column("ab", 99), (1, 3));
    }
}
