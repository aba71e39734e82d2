//! What an application or the CLI holds: [`Migrator`], one project on one
//! database through the connection it owns, and [`OfflineSql`], the same
//! plans written as a script for a database retort does not reach.
//!
//! A migrator learns which of retort's state tables exist as it works, so
//! it belongs to its connection: a second database gets a migrator of its
//! own, which finds (or creates) that database's tables.

use std::time::Duration;

use super::{
    Current, Engine, Event, Finding, LockStatus, MigrateError, Options, Outcome, RehashReport,
    Request, Settled, Status, trace,
};
use crate::db::lease::LeaseRow;
use crate::db::{Access, Driver, ServerFacts};
use crate::project::Project;

/// Migrations of one project against one database, over the connection
/// it owns.
pub struct Migrator<'p> {
    engine: Engine<'p>,
    driver: Box<dyn Driver>,
}

impl std::fmt::Debug for Migrator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("database", &self.driver.describe())
            .finish_non_exhaustive()
    }
}

impl<'p> Migrator<'p> {
    /// The migrator of `project` on the database `driver` is connected to.
    pub fn new(project: &'p Project, driver: Box<dyn Driver>) -> Migrator<'p> {
        Migrator {
            engine: Engine::new(project, driver.as_ref()),
            driver,
        }
    }

    /// Opens the project's database, as the CLI does: `url` when given,
    /// else `DATABASE_URL`, else `database.url` of the project's
    /// retort.toml (see [`crate::open`]).
    pub fn open(
        project: &'p Project,
        url: Option<&str>,
        access: Access,
    ) -> Result<Migrator<'p>, crate::Error> {
        let driver = crate::open(project.config(), url, access)?;
        Ok(Migrator::new(project, driver))
    }

    /// The migrator for the version tables in `schema` instead of
    /// `migrations.version_table_schema` (one tenant's schema of a
    /// database that keeps a schema per tenant).
    #[must_use]
    pub fn with_version_table_schema(mut self, schema: Option<String>) -> Self {
        self.engine = self.engine.with_version_table_schema(schema);
        self
    }

    /// Takes the run lock, plans `request` from the database's state, and
    /// runs it. Each [`Event`] goes to `events` and to `tracing`.
    pub fn run(
        &mut self,
        request: &Request,
        options: &Options,
        events: &mut dyn FnMut(Event),
    ) -> Result<Outcome, MigrateError> {
        self.engine
            .run(self.driver.as_mut(), request, options, &mut |event| {
                trace::trace(&event);
                events(event);
            })
    }

    /// Upgrades to `target` (`head`, `heads`, a revision, `+2`…) with the
    /// default options: the run lock waited for up to five minutes, and
    /// progress to `tracing`.
    pub fn upgrade(&mut self, target: &str) -> Result<Outcome, crate::Error> {
        self.run_with_defaults(&Request::upgrade(target))
    }

    /// Downgrades to `target` (`base`, a revision, `-1`…), as
    /// [`Migrator::upgrade`] runs.
    pub fn downgrade(&mut self, target: &str) -> Result<Outcome, crate::Error> {
        self.run_with_defaults(&Request::downgrade(target))
    }

    /// Marks the database as at `targets` without running SQL.
    pub fn stamp(&mut self, targets: &[&str]) -> Result<Outcome, crate::Error> {
        self.run_with_defaults(&Request::stamp(targets))
    }

    fn run_with_defaults(&mut self, request: &Request) -> Result<Outcome, crate::Error> {
        Ok(self.run(request, &Options::default(), &mut |_| {})?)
    }

    /// Where the database is: its version rows and their revisions.
    pub fn current(&mut self) -> Result<Current, MigrateError> {
        self.engine.current(self.driver.as_mut())
    }

    /// Applied and pending revisions, changed files, a migration left half
    /// way, and what is wrong with the version table.
    pub fn status(&mut self) -> Result<Status, MigrateError> {
        self.engine.status(self.driver.as_mut())
    }

    /// Every applied revision's file compared with the checksum recorded
    /// when it ran.
    pub fn verify(&mut self) -> Result<Vec<Finding>, MigrateError> {
        self.engine.verify(self.driver.as_mut())
    }

    /// Records the current checksums where the files are provably the ones
    /// applied; `accept` records those revisions' files as they are now.
    pub fn rehash(&mut self, accept: &[String]) -> Result<RehashReport, MigrateError> {
        self.engine.rehash(self.driver.as_mut(), accept)
    }

    /// Whether `request` has nothing to do, from one read without the run
    /// lock (see [`Settled`]).
    pub fn settled(&mut self, request: &Request) -> Result<Settled, MigrateError> {
        self.engine.settled(self.driver.as_mut(), request)
    }

    /// Every row of the applied table: each applied revision with its
    /// checksum, when it ran, how long it took and which retort ran it.
    pub fn applied(&mut self) -> Result<Vec<super::AppliedRow>, MigrateError> {
        self.engine.applied_rows(self.driver.as_mut())
    }

    /// Who holds the run lock, if anyone.
    pub fn lock_status(&mut self) -> Result<LockStatus, MigrateError> {
        self.engine.lock_status(self.driver.as_mut())
    }

    /// Frees the lease a dead run left (`retort lock release`): the row as
    /// it was, or `None` when no lease was held.
    pub fn release_lease(&mut self) -> Result<Option<LeaseRow>, MigrateError> {
        self.engine.release_lease(self.driver.as_mut())
    }

    /// The database, in words (`PostgreSQL database `app` at db:5432`).
    pub fn describe(&self) -> String {
        self.driver.describe()
    }

    /// What the server is.
    pub fn server(&self) -> &ServerFacts {
        self.driver.server()
    }

    /// The connection.
    pub fn driver(&mut self) -> &mut dyn Driver {
        self.driver.as_mut()
    }

    /// The connection, given back.
    pub fn into_driver(self) -> Box<dyn Driver> {
        self.driver
    }
}

/// A project's plans as a SQL script (`--sql`), for a server of a kind
/// that is known without connecting (see [`crate::offline_server`]).
#[derive(Debug)]
pub struct OfflineSql<'p> {
    engine: Engine<'p>,
}

impl<'p> OfflineSql<'p> {
    /// Scripts of `project` for a server such as `server`.
    pub fn new(project: &'p Project, server: &ServerFacts) -> OfflineSql<'p> {
        OfflineSql {
            engine: Engine::for_dialect(project, server.dialect).for_server(server),
        }
    }

    /// The `lock_timeout` PostgreSQL scripts set at the top (`None`: none);
    /// by default that of [`Options::default`].
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.engine.offline_lock_timeout = timeout;
        self
    }

    /// Renders `request` (`upgrade`, `downgrade` or `stamp`) as a SQL
    /// script. Targets may be `A:B` ranges: the script then starts where a
    /// database at A is; without a range it starts at the base, and a
    /// downgrade needs one. With `atomic`, the whole script is one
    /// transaction.
    pub fn script(&self, request: &Request, atomic: bool) -> Result<String, MigrateError> {
        self.engine.offline(request, atomic)
    }
}
