//! The lease-row run lock, for servers whose advisory or named locks do
//! not keep two runners apart: on a Galera cluster `GET_LOCK` is local to
//! one node, old CockroachDB versions answer `pg_try_advisory_lock` with
//! `true` without locking anything, and a statement pooler hands each
//! statement to another server session.
//!
//! The lock is a row of [`LOCK_TABLE`](super::LOCK_TABLE), one per version
//! table, beside the other state tables: who holds it (a random id), on
//! which host, in which process, since when, when it was last renewed,
//! and when it expires, every time taken from the server's clock (clients'
//! clocks disagree). Taking it is one conditional `UPDATE` in autocommit
//! that matches the row only when it is free or expired; on a Galera
//! cluster two nodes can both match it, the first commit wins and the
//! other's fails certification with error 1213, which here means "lost the
//! race": try again. Once taken, a thread renews it on a connection of its
//! own every third of its time to live, and `release` frees it. A runner
//! that dies leaves it held until it expires; `retort lock release --yes`
//! frees it sooner.
//!
//! SQL that differs by dialect comes from each dialect's port
//! (`db/<dialect>/lease.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Access, DbError, DbErrorKind, Driver, LOCK_TABLE, quote_ident, quote_literal};
use crate::Dialect;
use crate::config::{DatabaseUrl, LockSetting};

/// What differs between dialects in the lease's SQL.
#[derive(Debug)]
pub(crate) struct LeaseSql {
    /// The column type of a point in time.
    pub(crate) timestamp: &'static str,
    /// The server's clock, now.
    pub(crate) now: &'static str,
    /// The server's clock `seconds` from now.
    pub(crate) later: fn(seconds: u64) -> String,
    /// Inserts the free row `key` (a literal) into `table` unless there is
    /// one.
    pub(crate) insert_free: fn(table: &str, key: &str) -> String,
    /// A point-in-time column as RFC 3339 text in UTC.
    pub(crate) text: fn(column: &str) -> String,
    /// The whole milliseconds from now to a point-in-time column
    /// (negative when it has passed).
    pub(crate) millis_until: fn(column: &str) -> String,
}

/// What the run lock needs to know of the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cluster {
    /// A Galera node (`@@wsrep_on` is `ON`), with its schema-change
    /// method (`wsrep_OSU_method`: `TOI`, `RSU`…).
    pub galera: Option<String>,
    /// The server's advisory or named locks do not exclude runners (a
    /// Galera node, CockroachDB, Vitess): `auto` takes the lease.
    pub needs_lease: bool,
}

/// What the connection's server is, as detection found it when it
/// connected (or as `server=` / `database.server` says).
pub fn probe(driver: &mut dyn Driver) -> Result<Cluster, DbError> {
    let facts = driver.server();
    Ok(Cluster {
        galera: facts.galera.as_ref().map(|g| g.osu_method.clone()),
        needs_lease: facts.needs_lease_lock(),
    })
}

/// Whether the run lock is the lease: as the setting says, or with
/// `auto` where the server needs it (a Galera node, CockroachDB, Vitess).
/// SQLite locks its file whatever the setting.
pub fn use_lease(driver: &dyn Driver, setting: LockSetting, cluster: &Cluster) -> bool {
    choose(driver.url().is_some(), setting, cluster)
}

/// [`use_lease`] for a connection to a server (`server`) or not.
fn choose(server: bool, setting: LockSetting, cluster: &Cluster) -> bool {
    server
        && match setting {
            LockSetting::Lease => true,
            LockSetting::Advisory => false,
            LockSetting::Auto => cluster.needs_lease,
        }
}

/// Makes a session's reads causal on a Galera cluster (`wsrep_sync_wait
/// = 7`: reads, updates, deletes and inserts first wait until the node has
/// applied what the cluster committed before), so that a run reads the
/// history another node's run wrote. Returns what the user should know:
/// schema changes that do not replicate in order (`wsrep_OSU_method`
/// other than `TOI`).
pub fn prepare_session(driver: &mut dyn Driver, cluster: &Cluster) -> Result<Vec<String>, DbError> {
    let Some(method) = &cluster.galera else {
        return Ok(Vec::new());
    };
    driver.run("SET SESSION wsrep_sync_wait = 7")?;
    if method.eq_ignore_ascii_case("TOI") {
        return Ok(Vec::new());
    }
    Ok(vec![format!(
        "this Galera node's `wsrep_OSU_method` is `{method}`, not `TOI`: a migration's DDL runs on this node only and the other nodes miss it; set it back to `TOI` for the run (`SET GLOBAL wsrep_OSU_method = 'TOI'`) unless every node is to be migrated by hand"
    )])
}

fn sql(dialect: Dialect) -> Result<&'static LeaseSql, DbError> {
    match dialect {
        #[cfg(feature = "postgres")]
        Dialect::Postgres => Ok(&super::postgres::LEASE),
        #[cfg(feature = "mysql")]
        Dialect::Mysql => Ok(&super::mysql::LEASE),
        other => Err(DbError::new(
            DbErrorKind::Statement,
            format!(
                "the lease lock is for server databases, not {}",
                other.name()
            ),
        )),
    }
}

/// Where a lease lives: the lock table in the version table's schema, and
/// the row of one version table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseKey {
    /// The schema (MySQL: database) of the state tables; `None`: the
    /// connection's.
    pub schema: Option<String>,
    /// The version table whose runs the row keeps apart.
    pub version_table: String,
}

impl LeaseKey {
    fn table(&self, dialect: Dialect) -> String {
        let table = quote_ident(dialect, LOCK_TABLE);
        match &self.schema {
            Some(schema) => format!("{}.{table}", quote_ident(dialect, schema)),
            None => table,
        }
    }

    fn key(&self, dialect: Dialect) -> String {
        quote_literal(dialect, &self.version_table)
    }
}

/// What the lock table says of one lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    /// The holder's random id; `None` when free.
    pub holder: Option<String>,
    /// The host its process runs on (the last holder's when free).
    pub host: Option<String>,
    /// Its process id.
    pub pid: Option<i64>,
    /// When it took the lease (UTC, RFC 3339).
    pub acquired_at: Option<String>,
    /// When it last renewed it (or released it).
    pub heartbeat_at: Option<String>,
    /// When the lease expires unless renewed; `None` when free.
    pub expires_at: Option<String>,
    /// Milliseconds from now (the server's) to `expires_at`; negative
    /// once it has passed.
    pub expires_in_ms: Option<i64>,
}

impl LeaseRow {
    /// Held and not expired: a run holds it (or died less than a time to
    /// live ago).
    pub fn alive(&self) -> bool {
        self.holder.is_some() && self.expires_in_ms.is_some_and(|ms| ms > 0)
    }

    /// Held, but not renewed in time: the next run takes it over.
    pub fn expired(&self) -> bool {
        self.holder.is_some() && !self.alive()
    }

    /// The holder in words: `` `id` on host (pid N) since T, renewed at
    /// T, expires in Ns ``; for a free lease, its last holder.
    pub fn describe(&self) -> String {
        let host = self.host.as_deref().unwrap_or("an unknown host");
        let pid = self.pid.map_or_else(|| "?".to_owned(), |p| p.to_string());
        let since = self.acquired_at.as_deref().unwrap_or("?");
        let renewed = self.heartbeat_at.as_deref().unwrap_or("?");
        let Some(holder) = &self.holder else {
            return format!("a run on {host} (pid {pid}) from {since}, released at {renewed}");
        };
        let mut text =
            format!("`{holder}` on {host} (pid {pid}) since {since}, renewed at {renewed}");
        match self.expires_in_ms {
            Some(ms) if ms > 0 => text.push_str(&format!(", expires in {}s", (ms + 999) / 1000)),
            Some(ms) => text.push_str(&format!(", expired {}s ago", -ms / 1000)),
            None => {}
        }
        text
    }
}

/// The lease row of `key`, or `None` when there is no lock table or no
/// row yet. Reads only.
pub fn read(driver: &mut dyn Driver, key: &LeaseKey) -> Result<Option<LeaseRow>, DbError> {
    let dialect = driver.dialect();
    let sql = sql(dialect)?;
    if !driver.table_exists(key.schema.as_deref(), LOCK_TABLE)? {
        return Ok(None);
    }
    // Read on the primary: a standby's lagging answer would take a
    // running migration for an interrupted one.
    let rows = driver.query_text(&format!(
        "{}SELECT holder, host, pid, {}, {}, {}, {} FROM {} WHERE name = {}",
        super::NO_LOAD_BALANCE,
        (sql.text)("acquired_at"),
        (sql.text)("heartbeat_at"),
        (sql.text)("expires_at"),
        (sql.millis_until)("expires_at"),
        key.table(dialect),
        key.key(dialect)
    ))?;
    Ok(rows.into_iter().next().map(|row| {
        let mut cells = row.into_iter();
        let mut next = || cells.next().flatten();
        LeaseRow {
            holder: next(),
            host: next(),
            pid: next().and_then(|p| p.parse().ok()),
            acquired_at: next(),
            heartbeat_at: next(),
            expires_at: next(),
            expires_in_ms: next().and_then(|ms| ms.parse().ok()),
        }
    }))
}

/// Frees the lease of `key` whoever holds it (`retort lock release
/// --yes`): the row as it was, or `None` when nothing was held. A run
/// still holding it notices at its next renewal and starts no further
/// migration.
pub fn force_release(driver: &mut dyn Driver, key: &LeaseKey) -> Result<Option<LeaseRow>, DbError> {
    let Some(row) = read(driver, key)? else {
        return Ok(None);
    };
    if row.holder.is_none() {
        return Ok(None);
    }
    let dialect = driver.dialect();
    let sql = sql(dialect)?;
    driver.execute(
        &format!(
            "UPDATE {} SET holder = NULL, expires_at = NULL, heartbeat_at = {} WHERE name = {}",
            key.table(dialect),
            sql.now,
            key.key(dialect)
        ),
        &[],
    )?;
    Ok(Some(row))
}

/// How often a waiting runner tries the lease again.
const POLL: Duration = Duration::from_millis(100);

/// A lease this process holds, renewed by a thread of its own until
/// [`Lease::release`].
#[derive(Debug)]
pub struct Lease {
    key: LeaseKey,
    holder: String,
    dialect: Dialect,
    url: DatabaseUrl,
    stop: mpsc::Sender<()>,
    renewer: JoinHandle<Box<dyn Driver>>,
    lost: Arc<AtomicBool>,
}

impl Lease {
    /// Takes the lease of `key` on the database `work` is connected to,
    /// through a connection of its own; waits up to `timeout` for the
    /// holder to release it or for it to expire, calling `on_wait` once,
    /// with who holds it, before waiting.
    pub fn acquire(
        work: &dyn Driver,
        key: &LeaseKey,
        cluster: &Cluster,
        ttl: Duration,
        timeout: Duration,
        on_wait: &mut dyn FnMut(&str),
    ) -> Result<Lease, DbError> {
        let dialect = work.dialect();
        let sql = sql(dialect)?;
        let url = work.url().cloned().ok_or_else(|| {
            DbError::new(
                DbErrorKind::Connect,
                "the lease lock needs a server connection",
            )
        })?;
        let mut conn = super::connect_for(&url, &key.version_table, Access::Write)?;
        prepare_session(conn.as_mut(), cluster)?;
        let table = key.table(dialect);
        let name = key.key(dialect);
        create_table(conn.as_mut(), key, sql)?;
        match conn.execute(&(sql.insert_free)(&table, &name), &[]) {
            // Another runner inserted it at the same moment (a Galera
            // certification failure): it is there now.
            Err(e) if e.kind != DbErrorKind::Conflict => return Err(e),
            _ => {}
        }
        let holder = holder_id();
        let seconds = ttl.as_secs().max(2);
        let take = format!(
            "UPDATE {table} SET holder = {}, host = {}, pid = {}, acquired_at = {now}, heartbeat_at = {now}, expires_at = {} WHERE name = {name} AND (holder IS NULL OR expires_at IS NULL OR expires_at < {now})",
            quote_literal(dialect, &holder),
            quote_literal(dialect, &host_name()),
            std::process::id(),
            (sql.later)(seconds),
            now = sql.now,
        );
        let started = Instant::now();
        let mut told = false;
        loop {
            match conn.execute(&take, &[]) {
                Ok(1) => break,
                Ok(_) => {}
                // Lost the race to another node's runner.
                Err(e) if e.kind == DbErrorKind::Conflict => {}
                Err(e) => return Err(e),
            }
            if !told {
                told = true;
                let words = match read(conn.as_mut(), key) {
                    Ok(Some(row)) if row.holder.is_some() => {
                        format!("a lease held by {}", row.describe())
                    }
                    _ => format!("another retort run holds the lease on {}", work.describe()),
                };
                on_wait(&words);
            }
            if started.elapsed() >= timeout {
                return Err(DbError::new(
                    DbErrorKind::LockTimeout,
                    format!(
                        "timed out after {}s waiting for another retort run on {}",
                        timeout.as_secs(),
                        work.describe()
                    ),
                ));
            }
            std::thread::sleep(POLL);
        }
        let renew = format!(
            "UPDATE {table} SET heartbeat_at = {now}, expires_at = {} WHERE name = {name} AND holder = {}",
            (sql.later)(seconds),
            quote_literal(dialect, &holder),
            now = sql.now,
        );
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel();
        let renewer = {
            let lost = Arc::clone(&lost);
            let (url, version_table) = (url.clone(), key.version_table.clone());
            let cluster = cluster.clone();
            std::thread::Builder::new()
                .name("retort-lease".to_owned())
                .spawn(move || {
                    renew_until_stopped(
                        conn,
                        &renew,
                        Duration::from_secs(seconds) / 3,
                        &stopped,
                        &lost,
                        || {
                            let mut conn = super::connect_for(&url, &version_table, Access::Write)?;
                            prepare_session(conn.as_mut(), &cluster)?;
                            Ok(conn)
                        },
                    )
                })
                .map_err(|e| {
                    DbError::new(
                        DbErrorKind::Connect,
                        format!("cannot start the thread that renews the lease: {e}"),
                    )
                })?
        };
        Ok(Lease {
            key: key.clone(),
            holder,
            dialect,
            url,
            stop,
            renewer,
            lost,
        })
    }

    /// Whether the lease was lost while held: a renewal found it taken
    /// over (it had expired) or released by hand.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// A flag that turns `true` when the lease is lost (see
    /// [`Lease::lost`]), for work that runs while it is held.
    pub fn lost_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.lost)
    }

    /// This holder's id.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Stops renewing and frees the lease; an error when it was no longer
    /// this process's to free.
    pub fn release(self) -> Result<(), DbError> {
        let _ = self.stop.send(());
        let conn = self.renewer.join().ok();
        let mut conn = match conn {
            Some(conn) => conn,
            None => super::connect_for(&self.url, &self.key.version_table, Access::Write)?,
        };
        let sql = sql(self.dialect)?;
        let freed = conn.execute(
            &format!(
                "UPDATE {} SET holder = NULL, expires_at = NULL, heartbeat_at = {} WHERE name = {} AND holder = {}",
                self.key.table(self.dialect),
                sql.now,
                self.key.key(self.dialect),
                quote_literal(self.dialect, &self.holder)
            ),
            &[],
        );
        let lost = self.lost.load(Ordering::Relaxed);
        match freed {
            Ok(1) if !lost => Ok(()),
            Ok(_) => Err(lost_error(&conn.describe())),
            Err(e) => Err(e),
        }
    }
}

/// The error of a run whose lease was taken from it.
pub fn lost_error(describe: &str) -> DbError {
    DbError::new(
        DbErrorKind::LockLost,
        format!(
            "retort's lease on {describe} was lost while this run held it: it expired without being renewed (the connection renewing it stalled) or was released by hand (`retort lock release`), so another run may have started"
        ),
    )
}

/// The renewing thread: every `every`, renews the lease through `conn`
/// (opened again by `reconnect` after a failure), until told to stop or
/// the lease is found lost; returns its connection, for the release.
fn renew_until_stopped(
    mut conn: Box<dyn Driver>,
    renew: &str,
    every: Duration,
    stopped: &mpsc::Receiver<()>,
    lost: &AtomicBool,
    reconnect: impl Fn() -> Result<Box<dyn Driver>, DbError>,
) -> Box<dyn Driver> {
    loop {
        if !matches!(
            stopped.recv_timeout(every),
            Err(mpsc::RecvTimeoutError::Timeout)
        ) {
            return conn;
        }
        match conn.execute(renew, &[]) {
            Ok(1) => {}
            Ok(_) => {
                lost.store(true, Ordering::Relaxed);
                return conn;
            }
            // A renewal that failed is tried again next time, on a new
            // connection if this one broke; the lease lives on meanwhile
            // until it expires.
            Err(e) if e.kind == DbErrorKind::Connect => {
                if let Ok(new) = reconnect() {
                    conn = new;
                }
            }
            Err(_) => {}
        }
    }
}

/// Creates the lock table unless it exists. Runners creating it at the
/// same moment can see PostgreSQL refuse all but one; the table is there
/// then.
fn create_table(conn: &mut dyn Driver, key: &LeaseKey, sql: &LeaseSql) -> Result<(), DbError> {
    let ddl = format!(
        "CREATE TABLE IF NOT EXISTS {} (name VARCHAR(255) NOT NULL PRIMARY KEY, holder VARCHAR(64), host VARCHAR(255), pid BIGINT, acquired_at {ts}, heartbeat_at {ts}, expires_at {ts})",
        key.table(conn.dialect()),
        ts = sql.timestamp
    );
    match conn.run(&ddl) {
        Err(e)
            if !conn
                .table_exists(key.schema.as_deref(), LOCK_TABLE)
                .unwrap_or(false) =>
        {
            Err(e)
        }
        _ => Ok(()),
    }
}

/// A random id for this holder: 16 hex characters.
fn holder_id() -> String {
    use std::hash::BuildHasher;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let bits = std::collections::hash_map::RandomState::new().hash_one((
        nanos,
        std::process::id(),
        "retort-lease",
    ));
    format!("{bits:016x}")
}

/// This machine's name, for the lock table (`unknown` when it cannot be
/// read).
fn host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_default();
    let name = name.trim();
    if name.is_empty() {
        "unknown".to_owned()
    } else {
        name.chars().take(255).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(holder: Option<&str>, expires_in_ms: Option<i64>) -> LeaseRow {
        LeaseRow {
            holder: holder.map(str::to_owned),
            host: Some("web-3".to_owned()),
            pid: Some(4242),
            acquired_at: Some("2026-12-06T14:02:11Z".to_owned()),
            heartbeat_at: Some("2026-12-06T14:02:41Z".to_owned()),
            expires_at: None,
            expires_in_ms,
        }
    }

    #[test]
    fn a_lease_is_alive_until_it_expires() {
        let held = row(Some("5f0c"), Some(26_100));
        assert!(held.alive() && !held.expired());
        assert_eq!(
            held.describe(),
            "`5f0c` on web-3 (pid 4242) since 2026-12-06T14:02:11Z, renewed at 2026-12-06T14:02:41Z, expires in 27s"
        );
        let expired = row(Some("5f0c"), Some(-3_500));
        assert!(!expired.alive() && expired.expired());
        assert!(expired.describe().ends_with(", expired 3s ago"));
        let free = row(None, None);
        assert!(!free.alive() && !free.expired());
        assert_eq!(
            free.describe(),
            "a run on web-3 (pid 4242) from 2026-12-06T14:02:11Z, released at 2026-12-06T14:02:41Z"
        );
    }

    #[test]
    fn the_setting_and_the_server_choose_the_lease() {
        let galera = Cluster {
            galera: Some("TOI".to_owned()),
            needs_lease: true,
        };
        let single = Cluster::default();
        let cases = [
            (LockSetting::Auto, &galera, true),
            (LockSetting::Auto, &single, false),
            (LockSetting::Advisory, &galera, false),
            (LockSetting::Lease, &single, true),
        ];
        for (setting, cluster, lease) in cases {
            assert_eq!(
                choose(true, setting, cluster),
                lease,
                "{setting:?} {cluster:?}"
            );
            // SQLite locks its file whatever the setting.
            assert!(!choose(false, setting, cluster));
        }
    }
}
