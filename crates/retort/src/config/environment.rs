//! `[environments.NAME]`: named sets of settings (a URL, whether the
//! database is protected, and the `database` and `schema` settings a
//! section may override), one chosen with `--env NAME` or `RETORT_ENV`.
//!
//! ```toml
//! [environments.production]
//! url = "${PROD_DATABASE_URL}"
//! protected = true                 # reset and drop refuse, whatever the flags
//! backup_before_upgrade = true     # upgrade backs up first
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::{Config, ConfigError, Loader, LockConfig};

/// The environment variable that chooses an environment when `--env` does
/// not.
pub const ENV_VAR: &str = "RETORT_ENV";

/// One `[environments.NAME]` section, checked.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Environment {
    /// Its name.
    pub name: String,
    /// `url`, after `${VAR}` interpolation: the database, over
    /// `DATABASE_URL` and `database.url`.
    pub url: Option<String>,
    /// `protected`: `reset` and `drop` refuse, whatever the flags.
    pub protected: bool,
    /// `backup_before_upgrade`: `upgrade` backs the database up before the
    /// first migration, as `--backup` does.
    pub backup_before_upgrade: bool,
    /// `lock_url`, over `database.lock_url`.
    pub lock_url: Option<String>,
    /// `server`, over `database.server`.
    pub server: Option<crate::db::ServerKind>,
    /// `lock` and `lock_ttl`, over `database`'s.
    pub lock: Option<LockConfig>,
    /// `dev_url`, over `schema.dev_url`.
    pub dev_url: Option<String>,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("name", &self.name)
            .field("url", &self.url.as_deref().map(super::url::redact_text))
            .field("protected", &self.protected)
            .field("backup_before_upgrade", &self.backup_before_upgrade)
            .field(
                "lock_url",
                &self.lock_url.as_deref().map(super::url::redact_text),
            )
            .field("server", &self.server)
            .field("lock", &self.lock)
            .field(
                "dev_url",
                &self.dev_url.as_deref().map(super::url::redact_text),
            )
            .finish()
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default, expecting = "a table")]
pub(super) struct RawEnvironment {
    url: Option<Spanned<String>>,
    protected: Option<bool>,
    backup_before_upgrade: Option<bool>,
    lock_url: Option<Spanned<String>>,
    server: Option<Spanned<String>>,
    lock: Option<Spanned<String>>,
    lock_ttl: Option<Spanned<i64>>,
    dev_url: Option<Spanned<String>>,
}

impl Loader<'_> {
    /// The section `[environments.NAME]`; `lock` is `database`'s, which
    /// its own `lock` and `lock_ttl` override.
    pub(super) fn environment(
        &self,
        name: &str,
        raw: RawEnvironment,
        lock: LockConfig,
    ) -> Result<Environment, ConfigError> {
        let section = format!("environments.{name}");
        let key = |k: &str| format!("{section}.{k}");
        let overrides_lock = raw.lock.is_some() || raw.lock_ttl.is_some();
        Ok(Environment {
            name: name.to_owned(),
            url: self.interpolated(&key("url"), raw.url)?,
            protected: raw.protected.unwrap_or(false),
            backup_before_upgrade: raw.backup_before_upgrade.unwrap_or(false),
            lock_url: self.interpolated(&key("lock_url"), raw.lock_url)?,
            server: self.server(&section, raw.server)?,
            lock: if overrides_lock {
                Some(self.lock(&section, lock, raw.lock, raw.lock_ttl)?)
            } else {
                None
            },
            dev_url: self.interpolated(&key("dev_url"), raw.dev_url)?,
        })
    }
}

impl Config {
    /// Uses the environment `name` (`--env`), else the one `RETORT_ENV`
    /// names (process environment, then `.env`), else none: its settings
    /// replace those of `[database]` and `schema.dev_url` it overrides. An
    /// unknown name is an error listing the sections there are.
    pub fn select_environment(&mut self, name: Option<&str>) -> Result<(), ConfigError> {
        let from_var = self
            .env
            .get(ENV_VAR)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let Some(name) = name.map(str::to_owned).or(from_var) else {
            return Ok(());
        };
        let Some(environment) = self.environments.get(&name).cloned() else {
            return Err(ConfigError::UnknownEnvironment {
                path: self.path.clone(),
                name,
                known: self.environments.keys().cloned().collect(),
            });
        };
        if let Some(lock_url) = &environment.lock_url {
            self.lock_url = Some(lock_url.clone());
        }
        if let Some(server) = environment.server {
            self.database_server = Some(server);
        }
        if let Some(lock) = environment.lock {
            self.lock = lock;
        }
        if let Some(dev_url) = &environment.dev_url {
            self.schema.dev_url = Some(dev_url.clone());
        }
        self.environment = Some(environment);
        Ok(())
    }

    /// The name of the environment in use, if any.
    pub fn environment_name(&self) -> Option<&str> {
        self.environment.as_ref().map(|e| e.name.as_str())
    }
}
