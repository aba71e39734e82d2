//! Mechanics every driver shares: waiting for the run lock, nesting
//! transactions as savepoints, and bounding a connection's set-up.

use std::time::{Duration, Instant};

use super::{DbError, DbErrorKind};

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
