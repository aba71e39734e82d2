//! The run lock around a run: the driver's own (PostgreSQL's advisory
//! lock, MySQL's `GET_LOCK`, SQLite's file lock) or the lease row of
//! [`crate::db::lease`], chosen by `database.lock`, the URL's
//! `retort_lock` and what the server is; and what `retort lock status`
//! and `retort lock release` read and change.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{Engine, Event, MigrateError, Options, db};
use crate::config::LockConfig;
use crate::db::lease::{self, Cluster, Lease, LeaseKey, LeaseRow};
use crate::db::{DbErrorKind, Driver};

/// The run lock a run holds.
#[derive(Debug)]
pub(super) enum Held {
    /// The driver's own lock.
    Driver,
    /// The lease row.
    Lease(Box<Lease>),
    /// None: a dry run where the lock is the lease, which would write
    /// (create the lock table, take the row) in a command that only reads.
    Nothing,
}

/// Which lock a database's runs take, and who holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockStatus {
    /// `lease`, `advisory` (PostgreSQL's advisory lock, MySQL's
    /// `GET_LOCK`) or `file` (SQLite).
    pub lock: &'static str,
    /// Whether a run holds it now.
    pub held: bool,
    /// Who holds it, in words, when held.
    pub holder: Option<String>,
    /// The lease row, when the database has one (also when the lock in
    /// use is another, or the lease is free or expired).
    pub lease: Option<LeaseRow>,
    /// The server is a Galera node.
    pub galera: bool,
}

impl Engine<'_> {
    /// The run lock's settings for this connection: retort.toml's, with the
    /// URL's over them.
    fn lock_config(&self, driver: &dyn Driver) -> LockConfig {
        let config = self.project.config().lock;
        match driver.url() {
            Some(url) => config.with_url(url),
            None => config,
        }
    }

    /// The lease row of this project's version table.
    fn lease_key(&self) -> LeaseKey {
        LeaseKey {
            schema: self.tables.schema.clone(),
            version_table: self.tables.version.clone(),
        }
    }

    /// What the lock needs to know of the server, as detection found it
    /// (nothing, for SQLite); a server detection could not place is taken
    /// for a single server: `lock = "lease"` is the way to say more.
    fn cluster(&self, driver: &mut dyn Driver) -> Cluster {
        if driver.url().is_none() {
            return Cluster::default();
        }
        lease::probe(driver).unwrap_or_default()
    }

    /// Takes the run lock this database needs, waiting up to the options'
    /// timeout, and prepares the session for a run (causal reads on a
    /// Galera cluster). What was read of the state tables before is
    /// forgotten: only what is read under the lock counts.
    pub(super) fn take_lock(
        &self,
        driver: &mut dyn Driver,
        options: &Options,
        events: &mut dyn FnMut(Event),
    ) -> Result<Held, MigrateError> {
        let config = self.lock_config(driver);
        let cluster = self.cluster(driver);
        for message in
            lease::prepare_session(driver, &cluster).map_err(db("preparing the session"))?
        {
            events(Event::Warning { message });
        }
        let use_lease = lease::use_lease(driver, config.setting, &cluster);
        if cluster.galera.is_some() && !use_lease {
            events(Event::Warning {
                message: "this is a Galera cluster node, where `GET_LOCK` holds on one node only: runs on other nodes are not kept apart with `lock = \"advisory\"`; use `lock = \"lease\"` (or `auto`)".to_owned(),
            });
        }
        let started = Instant::now();
        let mut waited = false;
        let mut on_wait = |holder: &str| {
            waited = true;
            events(Event::LockWait {
                holder: holder.to_owned(),
            });
        };
        let held = if use_lease && options.dry_run {
            Held::Nothing
        } else if use_lease {
            let lease = Lease::acquire(
                driver,
                &self.lease_key(),
                &cluster,
                config.ttl,
                options.lock_timeout,
                &mut on_wait,
            )
            .map_err(db("taking the run lock"))?;
            if let Ok(mut lost) = self.lease_lost.lock() {
                *lost = Some(lease.lost_flag());
            }
            Held::Lease(Box::new(lease))
        } else {
            driver
                .lock(options.lock_timeout, &mut on_wait)
                .map_err(db("taking the run lock"))?;
            Held::Driver
        };
        for message in driver.notices() {
            events(Event::Warning { message });
        }
        if waited {
            events(Event::LockAcquired {
                waited: started.elapsed(),
            });
        }
        self.tables.forget_all();
        Ok(held)
    }

    /// Releases what [`Engine::take_lock`] took.
    pub(super) fn release_lock(
        &self,
        driver: &mut dyn Driver,
        held: Held,
    ) -> Result<(), MigrateError> {
        if let Ok(mut lost) = self.lease_lost.lock() {
            *lost = None;
        }
        match held {
            Held::Driver => driver.unlock(),
            Held::Lease(lease) => lease.release(),
            Held::Nothing => Ok(()),
        }
        .map_err(db("releasing the run lock"))
    }

    /// Fails when the run's lease was lost: no further migration may
    /// start, since another run may be under way.
    pub(super) fn check_lease(&self, driver: &dyn Driver) -> Result<(), MigrateError> {
        let lost = self
            .lease_lost
            .lock()
            .ok()
            .and_then(|flag| flag.as_ref().map(Arc::clone))
            .is_some_and(|flag: Arc<AtomicBool>| flag.load(Ordering::Relaxed));
        if lost {
            return Err(MigrateError::Database {
                context: "holding the run lock".to_owned(),
                error: lease::lost_error(&driver.describe()),
            });
        }
        Ok(())
    }

    /// The lease row of this project, if the database has one (never for
    /// SQLite). Reads only.
    pub(crate) fn lease(&self, driver: &mut dyn Driver) -> Result<Option<LeaseRow>, MigrateError> {
        if driver.url().is_none() {
            return Ok(None);
        }
        lease::read(driver, &self.lease_key()).map_err(db("reading the lock table"))
    }

    /// Which run lock this database's runs take and who holds it
    /// (`retort lock status`). For a lock other than the lease, whether
    /// it is held is found by trying to take it, and releasing it at once.
    pub(crate) fn lock_status(&self, driver: &mut dyn Driver) -> Result<LockStatus, MigrateError> {
        let config = self.lock_config(driver);
        let cluster = self.cluster(driver);
        let lease = self.lease(driver)?;
        let galera = cluster.galera.is_some();
        if lease::use_lease(driver, config.setting, &cluster) {
            let held = lease.as_ref().is_some_and(LeaseRow::alive);
            return Ok(LockStatus {
                lock: "lease",
                held,
                holder: lease.as_ref().filter(|_| held).map(LeaseRow::describe),
                lease,
                galera,
            });
        }
        let mut holder = None;
        let taken = driver.lock(Duration::ZERO, &mut |words| holder = Some(words.to_owned()));
        let held = match taken {
            Ok(()) => {
                driver.unlock().map_err(db("releasing the run lock"))?;
                false
            }
            Err(e) if e.kind == DbErrorKind::LockTimeout => true,
            Err(e) => return Err(db("trying the run lock")(e)),
        };
        Ok(LockStatus {
            lock: if driver.url().is_some() {
                "advisory"
            } else {
                "file"
            },
            held,
            holder: if held { holder } else { None },
            lease,
            galera,
        })
    }

    /// Frees this project's lease whoever holds it (`retort lock release
    /// --yes`): the row as it was, or `None` when no lease was held.
    pub(crate) fn release_lease(
        &self,
        driver: &mut dyn Driver,
    ) -> Result<Option<LeaseRow>, MigrateError> {
        if driver.url().is_none() {
            return Ok(None);
        }
        lease::force_release(driver, &self.lease_key()).map_err(db("releasing the lease"))
    }
}
