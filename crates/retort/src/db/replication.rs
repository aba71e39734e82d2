//! How far a server's replicas have applied what it wrote, as the server
//! reports it, for `--max-replica-lag` (the migrator turns positions into
//! durations, see `migrator/replicas.rs`).

use std::time::Duration;

/// What a server says about its replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replication {
    /// Its own position and each replica's.
    Measured {
        /// Where the server's log is now: PostgreSQL's WAL position in
        /// bytes (`pg_current_wal_lsn()`), Galera's last write-set this
        /// node received. It only grows.
        position: u64,
        /// What a position counts, for messages (`bytes of WAL`).
        unit: &'static str,
        /// Each replica the server knows now.
        replicas: Vec<Replica>,
    },
    /// It cannot tell from this connection, and why.
    Unknown(&'static str),
}

/// One replica, as its primary sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    /// How to name it to a person (`standby1 at 10.0.0.7`).
    pub name: String,
    /// The position it has applied, in [`Replication::Measured`]'s units.
    pub applied: u64,
    /// How far behind the server itself measured it to be (PostgreSQL's
    /// `replay_lag`), which can be out of date while the server is idle.
    pub lag: Option<Duration>,
}
