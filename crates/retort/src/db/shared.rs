//! Mechanics every driver shares: waiting for the run lock, nesting
//! transactions as savepoints, bounding a connection's set-up, and what the
//! admin ports have in common.

use std::time::{Duration, Instant};

use super::{DbError, DbErrorKind, Driver, Object, ObjectKind, Objects};

/// TCP keepalive on server connections: probes after a minute without
/// traffic, every ten seconds, six times, so that a server that stopped
/// answering is noticed in about two minutes (the system's default takes
/// hours). A long statement is not affected: the server's kernel answers
/// the probes while it runs.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(super) const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(super) const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(super) const KEEPALIVE_RETRIES: u32 = 6;

/// How often a waiting runner retries the lock.
const LOCK_POLL: Duration = Duration::from_millis(25);

/// Calls `try_once` until it takes the lock or `timeout` passes. Before the
/// first wait, `on_first_wait` says so (drivers add who holds the lock).
pub(super) fn poll_lock(
    timeout: Duration,
    describe: &str,
    mut try_once: impl FnMut() -> Result<bool, DbError>,
    mut on_first_wait: impl FnMut(),
) -> Result<(), DbError> {
    let started = Instant::now();
    let mut told = false;
    while !try_once()? {
        if !told {
            on_first_wait();
            told = true;
        }
        if started.elapsed() >= timeout {
            return Err(DbError::new(
                DbErrorKind::LockTimeout,
                format!(
                    "timed out after {}s waiting for another retort run on {describe}",
                    timeout.as_secs()
                ),
            ));
        }
        std::thread::sleep(LOCK_POLL);
    }
    Ok(())
}

/// Runs `connect` (TCP, TLS and the server's handshake) and waits at most
/// `timeout` for it. The drivers bound only the TCP connection by
/// themselves: a server, proxy or firewall that accepts it and then never
/// answers would keep them waiting forever. On a timeout the attempt is
/// left to finish (or fail) on its own thread; its connection, if any, is
/// closed then.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(super) fn within<T: Send + 'static>(
    timeout: Duration,
    server: &str,
    connect: impl FnOnce() -> Result<T, DbError> + Send + 'static,
) -> Result<T, DbError> {
    let (send, receive) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("retort-connect".to_owned())
        .spawn(move || {
            // The receiver is gone after a timeout; the result is dropped.
            let _ = send.send(connect());
        });
    if let Err(e) = spawned {
        return Err(DbError::new(
            DbErrorKind::Connect,
            format!("cannot start a thread to connect: {e}"),
        ));
    }
    // The driver's own TCP timeout, when it fires, says more.
    match receive.recv_timeout(timeout + Duration::from_millis(500)) {
        Ok(result) => result,
        Err(_) => Err(DbError::new(
            DbErrorKind::Connect,
            format!(
                "no answer from {server} within {}s (`connect_timeout`)",
                timeout.as_secs_f64()
            ),
        )),
    }
}

/// Nested `begin`s: the outermost is a transaction, inner ones savepoints
/// (`SAVEPOINT`, `RELEASE SAVEPOINT`, `ROLLBACK TO SAVEPOINT` are spelled
/// alike in SQLite, PostgreSQL and MySQL). Each method sends its statements
/// one at a time through the driver's `run`.
#[derive(Debug, Default)]
pub(super) struct Nesting {
    depth: usize,
}

impl Nesting {
    /// Opens the next level; `outermost` opens a transaction.
    pub(super) fn begin(
        &mut self,
        outermost: &str,
        run: impl FnOnce(&str) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        self.depth += 1;
        let sql = if self.depth == 1 {
            outermost.to_owned()
        } else {
            format!("SAVEPOINT retort_{}", self.depth)
        };
        run(&sql).inspect_err(|_| self.depth -= 1)
    }

    /// Commits the innermost level.
    pub(super) fn commit(
        &mut self,
        run: impl FnOnce(&str) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        match self.close() {
            0 | 1 => run("COMMIT"),
            depth => run(&format!("RELEASE SAVEPOINT retort_{depth}")),
        }
    }

    /// Rolls the innermost level back.
    pub(super) fn rollback(
        &mut self,
        mut run: impl FnMut(&str) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        match self.close() {
            0 | 1 => run("ROLLBACK"),
            depth => {
                run(&format!("ROLLBACK TO SAVEPOINT retort_{depth}"))?;
                run(&format!("RELEASE SAVEPOINT retort_{depth}"))
            }
        }
    }

    fn close(&mut self) -> usize {
        let depth = self.depth;
        self.depth = depth.saturating_sub(1);
        depth
    }
}

/// An object as a catalog query finds it, with the SQL that names it in a
/// `DROP` statement (quoted, and qualified where the dialect needs it).
pub(super) type Found = (Object, String);

/// What a dialect's driver tells [`Objects`], which is the same for all
/// of them given this.
pub(crate) trait Catalog {
    /// Rows of (kind as [`ObjectKind::name`] spells it, name, SQL naming
    /// it): every object of the database, retort's state tables included.
    const QUERY: &'static str;
    /// The version table the connection was opened for.
    fn version_table(&self) -> &str;
    /// Drops what the query found (never nothing).
    fn drop_found(&mut self, found: &[Found]) -> Result<(), DbError>;
}

impl<T: Catalog + Driver> Objects for T {
    fn list_objects(&mut self) -> Result<Vec<Object>, DbError> {
        let found = catalog(self, T::QUERY)?;
        Ok(user_objects(found, self.version_table()))
    }

    fn drop_all_objects(&mut self) -> Result<(), DbError> {
        let found = catalog(self, T::QUERY)?;
        if found.is_empty() {
            // A SQLite file not created yet stays so.
            return Ok(());
        }
        self.drop_found(&found)
    }
}

/// Runs a [`Catalog::QUERY`]; the objects sorted by kind, then name (in
/// Rust: servers' collations order names differently).
fn catalog(driver: &mut dyn Driver, sql: &str) -> Result<Vec<Found>, DbError> {
    let mut found = Vec::new();
    for row in driver.query_text(sql)? {
        let [Some(kind), Some(name), Some(target)] = <[_; 3]>::try_from(row).map_err(|row| {
            DbError::new(
                DbErrorKind::Statement,
                format!("a catalog query returned {} columns, not 3", row.len()),
            )
        })?
        else {
            continue;
        };
        let kind = ObjectKind::from_name(&kind).ok_or_else(|| {
            DbError::new(
                DbErrorKind::Statement,
                format!("a catalog query returned an unknown kind of object `{kind}`"),
            )
        })?;
        found.push((Object { kind, name }, target));
    }
    found.sort_by(|(a, _), (b, _)| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    Ok(found)
}

/// What users made among `found`: retort's state tables (any case, as
/// SQLite and MySQL compare table names) left out.
fn user_objects(found: Vec<Found>, version_table: &str) -> Vec<Object> {
    let state = super::state_tables(version_table);
    let is_state = |o: &Object| {
        o.kind == ObjectKind::Table && state.iter().any(|t| t.eq_ignore_ascii_case(&o.name))
    };
    found
        .into_iter()
        .map(|(object, _)| object)
        .filter(|o| !is_state(o))
        .collect()
}

/// `DROP <kind> IF EXISTS <target><suffix>` for each object, in order.
pub(super) fn drop_statements(found: &[Found], suffix: &str) -> Vec<String> {
    found
        .iter()
        .map(|(object, target)| {
            format!(
                "DROP {} IF EXISTS {target}{suffix}",
                object.kind.name().to_ascii_uppercase()
            )
        })
        .collect()
}

/// Runs `statements` in one transaction (a savepoint, in one already
/// open), rolled back when one fails.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(super) fn run_atomically(
    driver: &mut dyn Driver,
    statements: &[String],
) -> Result<(), DbError> {
    driver.begin()?;
    match driver.execute_batch(statements) {
        Ok(_) => driver.commit(),
        Err(e) => {
            // The statement's error says more than a failed rollback's.
            let _ = driver.rollback();
            Err(e)
        }
    }
}

/// Refuses a database name that is empty, holds a NUL, or breaks the
/// dialect's `rule` (which says why), before the server sees it: a server
/// cuts a long name short without a word, and a SQLite "name" is a file
/// name.
pub(super) fn check_database_name(
    name: &str,
    rule: impl FnOnce(&str) -> Option<&'static str>,
) -> Result<(), DbError> {
    let why = if name.is_empty() {
        Some("it is empty")
    } else if name.contains('\0') {
        Some("it contains a NUL character")
    } else {
        rule(name)
    };
    match why {
        None => Ok(()),
        Some(why) => Err(DbError::new(
            DbErrorKind::InvalidName,
            format!("invalid database name `{}`: {why}", name.escape_debug()),
        )),
    }
}

/// The number in the first column of the first row of `rows`, as a size.
pub(crate) fn size_of(rows: Vec<Vec<Option<String>>>) -> Result<Option<u64>, DbError> {
    Ok(rows
        .into_iter()
        .next()
        .and_then(|row| row.into_iter().next().flatten())
        .and_then(|text| text.trim().parse().ok()))
}
