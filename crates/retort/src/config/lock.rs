//! Which run lock a run takes on a server database: `database.lock` and
//! `database.lock_ttl` in retort.toml, `retort_lock` and `retort_lock_ttl`
//! in the URL (which wins). See `crate::db::lease` for the lease itself.

use std::time::Duration;

use super::DatabaseUrl;

/// `database.lock`: how one runner at a time is ensured on PostgreSQL and
/// MySQL/MariaDB (SQLite always locks its file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockSetting {
    /// The server's advisory lock, unless detection found a server that
    /// needs the lease (a Galera node, CockroachDB, Vitess).
    #[default]
    Auto,
    /// The server's advisory lock (`pg_try_advisory_lock`, `GET_LOCK`).
    Advisory,
    /// A row in `retort_lock` with an expiry from the server's clock,
    /// kept alive while the run lasts.
    Lease,
}

impl LockSetting {
    /// The values, as written in retort.toml and URLs.
    pub const NAMES: [&'static str; 3] = ["auto", "advisory", "lease"];

    /// The setting a value names.
    pub fn parse(value: &str) -> Option<LockSetting> {
        match value {
            "auto" => Some(LockSetting::Auto),
            "advisory" => Some(LockSetting::Advisory),
            "lease" => Some(LockSetting::Lease),
            _ => None,
        }
    }

    /// As written: `auto`, `advisory` or `lease`.
    pub fn name(self) -> &'static str {
        match self {
            LockSetting::Auto => "auto",
            LockSetting::Advisory => "advisory",
            LockSetting::Lease => "lease",
        }
    }
}

/// The lease's default time to live: a runner that stops renewing it (a
/// dead process, a dead node) holds it this long after its last renewal.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

/// The run lock's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockConfig {
    /// Which lock.
    pub setting: LockSetting,
    /// How long a lease lives without renewal (renewed every third of it).
    pub ttl: Duration,
}

impl Default for LockConfig {
    fn default() -> Self {
        LockConfig {
            setting: LockSetting::Auto,
            ttl: DEFAULT_LEASE_TTL,
        }
    }
}

impl LockConfig {
    /// These settings with the URL's `retort_lock` and `retort_lock_ttl`
    /// over them (the URL was checked when parsed).
    #[must_use]
    pub fn with_url(self, url: &DatabaseUrl) -> LockConfig {
        LockConfig {
            setting: url
                .param(URL_LOCK)
                .and_then(LockSetting::parse)
                .unwrap_or(self.setting),
            ttl: url
                .param(URL_LOCK_TTL)
                .and_then(parse_ttl)
                .unwrap_or(self.ttl),
        }
    }
}

/// The URL parameter naming the lock.
pub(crate) const URL_LOCK: &str = "retort_lock";
/// The URL parameter giving the lease's time to live, in seconds.
pub(crate) const URL_LOCK_TTL: &str = "retort_lock_ttl";

/// A time to live in whole seconds, at least 2 (renewed every third of it).
pub(crate) fn parse_ttl(value: &str) -> Option<Duration> {
    value
        .parse::<u64>()
        .ok()
        .filter(|&s| (2..=86_400).contains(&s))
        .map(Duration::from_secs)
}

/// What is wrong with a `retort_lock` or `retort_lock_ttl` value, if
/// anything.
pub(crate) fn check_param(key: &str, value: &str) -> Option<String> {
    match key {
        URL_LOCK if LockSetting::parse(value).is_none() => Some(format!(
            "unknown `{key}={value}`; expected one of {}",
            LockSetting::NAMES.map(|n| format!("`{n}`")).join(", ")
        )),
        URL_LOCK_TTL if parse_ttl(value).is_none() => Some(format!(
            "`{key}={value}`: expected whole seconds from 2 to 86400"
        )),
        _ => None,
    }
}
