//! Running a request against a database: the lock, the state, the plan,
//! the checks, then the walk (see [`super::walk`]).

use super::online::Database;
use super::plan::{self, Step};
use super::prepare::Prepared;
use super::store::AppliedChecksum;
use super::{Engine, Event, MigrateError, Options, Outcome, Request, db, walk};
use crate::db::{Driver, Replication};
use crate::script::Script;

impl<'p> Engine<'p> {
    /// Takes the lock, plans `request` from the database's state, and runs it.
    pub(crate) fn run(
        &self,
        driver: &mut dyn Driver,
        request: &Request,
        options: &Options,
        events: &mut dyn FnMut(Event),
    ) -> Result<Outcome, MigrateError> {
        // Before the lock and the state tables: nothing to undo.
        if driver.server().standby {
            return Err(MigrateError::Standby {
                server: driver.describe(),
            });
        }
        if options.max_replica_lag.is_some()
            && !options.dry_run
            && let Replication::Unknown(reason) = driver
                .replication()
                .map_err(db("reading how far the replicas are"))?
        {
            return Err(MigrateError::ReplicaLagUnknown {
                server: driver.describe(),
                reason: reason.to_owned(),
            });
        }
        let held = self.take_lock(driver, options, events)?;
        let result = self.run_locked(driver, request, options, events);
        let released = self.release_lock(driver, held);
        let outcome = result?;
        released?;
        Ok(outcome)
    }

    fn run_locked(
        &self,
        driver: &mut dyn Driver,
        request: &Request,
        options: &Options,
        events: &mut dyn FnMut(Event),
    ) -> Result<Outcome, MigrateError> {
        // The state tables are created only once the request is known to
        // be runnable: a refused target leaves an empty database empty.
        let settling = matches!(request, Request::Resume { .. } | Request::Repair { .. });
        if settling {
            // Where another tool keeps the history there is nothing of
            // retort's to settle, and creating the state tables would
            // adopt the database at base.
            if let Some(foreign) = self.read_state(driver)?.foreign {
                return Err(foreign.error());
            }
            if !options.dry_run {
                self.ensure_tables(driver)?;
            }
        }
        let journal = self
            .tables
            .read_journal(driver)
            .map_err(db("reading the journal"))?;
        // Settling a statement the server is still running would race it.
        if settling
            && journal.iter().any(|row| {
                row.state == super::journal::JournalState::Running
                    && row
                        .session
                        .as_deref()
                        .is_some_and(|s| driver.session_busy(s))
            })
        {
            return Err(self.interrupted(driver, &journal));
        }
        match request {
            Request::Resume { skip_running } => {
                return self.resume(driver, &journal, *skip_running, options, events);
            }
            Request::Repair { revision, done } => {
                return self.repair(driver, &journal, revision, *done, options, events);
            }
            _ if !journal.is_empty() => return Err(self.interrupted(driver, &journal)),
            Request::Stamp { targets, purge } => {
                return self.stamp(driver, targets, *purge, options, events);
            }
            _ => {}
        }
        let rows = self.rows(driver)?;
        let steps = self.plan(request, &rows)?;
        let prepared = self.prepare(&steps, &rows, options.atomic)?;
        if !options.allow_changed {
            self.check_unchanged(driver, &rows)?;
        }
        let graph = self.project.graph();
        events(Event::Plan {
            steps: steps
                .iter()
                .map(|s| (graph.node(s.revision).id().to_owned(), s.direction))
                .collect(),
        });
        self.apply(driver, &prepared, options, events)
    }

    /// Applies `prepared` to the database (or, for a dry run, only says
    /// what it would do).
    pub(super) fn apply(
        &self,
        driver: &mut dyn Driver,
        prepared: &Prepared<'_>,
        options: &Options,
        events: &mut dyn FnMut(Event),
    ) -> Result<Outcome, MigrateError> {
        if options.dry_run {
            return Ok(Outcome {
                steps: self.planned(prepared),
                heads: self.ids(prepared.rows_after()),
            });
        }
        let mut database = Database::new(self, driver, options, events);
        let result = walk::apply(prepared, &mut database);
        let mut steps = std::mem::take(&mut database.done);
        if steps.is_empty() {
            // A stamp runs no migration: it reports what it marks.
            steps = self.planned(prepared);
        }
        match result {
            Ok(()) => Ok(Outcome {
                steps,
                heads: self.ids(prepared.rows_after()),
            }),
            Err(MigrateError::Statement(mut failure)) => {
                // Report where the database really is now.
                failure.left_at = self.tables.read_versions(driver).unwrap_or_default();
                Err(MigrateError::Statement(failure))
            }
            Err(e) => Err(e),
        }
    }

    pub(super) fn plan(
        &self,
        request: &Request,
        rows: &[usize],
    ) -> Result<Vec<Step>, MigrateError> {
        if let Request::Upgrade { target } | Request::Downgrade { target } = request
            && target.contains(':')
        {
            return Err(plan::PlanError::RangeNeedsSql {
                target: target.clone(),
            }
            .into());
        }
        let graph = self.project.graph();
        let current = self.ids(rows);
        Ok(match request {
            Request::Upgrade { target } => {
                let resolved = graph
                    .resolve(target, Some(&current))
                    .map_err(plan::PlanError::from)?;
                plan::upgrade(graph, rows, &resolved, target)?
            }
            Request::Downgrade { target } => {
                let resolved = graph
                    .resolve(target, Some(&current))
                    .map_err(plan::PlanError::from)?;
                plan::downgrade(graph, rows, &resolved, target)?
            }
            Request::Stamp { .. } | Request::Resume { .. } | Request::Repair { .. } => Vec::new(),
        })
    }

    /// Revisions applied below the version `rows` whose files no longer
    /// match their checksums.
    pub(super) fn changed(
        &self,
        driver: &mut dyn Driver,
        rows: &[usize],
    ) -> Result<Vec<(String, std::path::PathBuf)>, MigrateError> {
        let applied = self
            .tables
            .read_checksums(driver)
            .map_err(db("reading the applied table"))?;
        let graph = self.project.graph();
        let applied_set = plan::applied_set(graph, rows);
        // (applied_at, revision, path) of each changed file, to report them
        // in the order they were applied.
        type Changed = (String, String, std::path::PathBuf);
        let changed_in = |chunk: &[AppliedChecksum]| -> Result<Vec<Changed>, MigrateError> {
            let mut changed = Vec::new();
            for row in chunk {
                let Some(i) = self.own_applied(&applied_set, &row.revision) else {
                    continue;
                };
                let script = self.project.script(i);
                if script.matches(&row.checksum, self.tables.dialect)? == Some(false) {
                    changed.push((
                        row.applied_at.clone(),
                        row.revision.clone(),
                        script.path.clone(),
                    ));
                }
            }
            Ok(changed)
        };
        // Hashing every applied file is most of a no-op run's own work: on
        // every core, unless the project was loaded with its checksums.
        let mut changed = if self.project.scripts().iter().all(Script::has_checksum) {
            changed_in(&applied)?
        } else {
            let parts = crate::parallel::chunked(&applied, changed_in);
            parts.into_iter().collect::<Result<Vec<_>, _>>()?.concat()
        };
        changed.sort_unstable();
        Ok(changed
            .into_iter()
            .map(|(_, revision, path)| (revision, path))
            .collect())
    }

    fn check_unchanged(&self, driver: &mut dyn Driver, rows: &[usize]) -> Result<(), MigrateError> {
        let changed = self.changed(driver, rows)?;
        if changed.is_empty() {
            Ok(())
        } else {
            Err(MigrateError::Changed { changed })
        }
    }

    fn stamp(
        &self,
        driver: &mut dyn Driver,
        targets: &[String],
        purge: bool,
        options: &Options,
        events: &mut dyn FnMut(Event),
    ) -> Result<Outcome, MigrateError> {
        let graph = self.project.graph();
        let state = self.read_state(driver)?;
        // A purge rewrites a table that may name revisions no file defines
        // or overlap; relative targets still count from the rows it held.
        // A stamp is also how a dropped version table is put back.
        if !purge
            && let Some(problem) = state.problem(self)
            && !matches!(problem, MigrateError::VersionTableMissing { .. })
        {
            return Err(problem);
        }
        let rows = state.rows;
        let mut ids = self.ids(&rows);
        ids.extend(state.unknown);
        let mut resolved = Vec::with_capacity(targets.len());
        for target in targets {
            resolved.push(
                graph
                    .resolve(target, Some(&ids))
                    .map_err(plan::PlanError::from)?,
            );
        }
        let after = plan::stamp(graph, &rows, &resolved, purge)?;
        let prepared = self.prepare_stamp(&rows, after, purge);
        events(Event::Plan { steps: Vec::new() });
        self.apply(driver, &prepared, options, events)
    }
}
