//! Executing a plan.

use std::time::{Duration, Instant};

use super::error::StatementFailure;
use super::plan::{self, Direction, Step};
use super::segmented::Segmented;
use super::store::{AppliedChecksum, AppliedRow, Mode};
use super::{Event, MigrateError, Migrator, Options, Outcome, Request, StepDone, db, segments};
use crate::db::Driver;
use crate::script::{Body, Script, Section};
use crate::sql;
use crate::time::UtcTime;

impl<'p> Migrator<'p> {
    /// Takes the lock, plans `request` from the database's state, and runs it.
    pub fn run(
        &self,
        driver: &mut dyn Driver,
        request: &Request,
        options: &Options,
        events: &mut dyn FnMut(Event),
    ) -> Result<Outcome, MigrateError> {
        let started = Instant::now();
        let mut waited = false;
        driver
            .lock(options.lock_timeout, &mut |holder| {
                waited = true;
                events(Event::LockWait {
                    holder: holder.to_owned(),
                });
            })
            .map_err(db("taking the run lock"))?;
        if waited {
            events(Event::LockAcquired {
                waited: started.elapsed(),
            });
        }
        let result = self.run_locked(driver, request, options, events);
        let released = driver.unlock().map_err(db("releasing the run lock"));
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
        if settling && !options.dry_run {
            self.ensure_tables(driver)?;
        }
        let journal = self
            .tables
            .read_journal(driver)
            .map_err(db("reading the journal"))?;
        // Settling a statement the server is still running would race it.
        if settling
            && journal.iter().any(|row| {
                row.state == super::journal::RUNNING
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
        let mut rows = self.rows(driver)?;
        let steps = self.plan(request, &rows)?;
        let prepared = self.check_runnable(&steps, options)?;
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
        let mut outcome = Outcome::default();
        if options.dry_run {
            outcome.steps = steps
                .iter()
                .map(|s| self.step_done(s.revision, s.direction.name(), Duration::ZERO))
                .collect();
            for &step in &steps {
                rows = plan::next_rows(graph, &rows, step);
            }
            outcome.heads = self.ids(&rows);
            return Ok(outcome);
        }
        self.ensure_tables(driver)?;
        if options.atomic {
            driver.begin().map_err(db("starting the transaction"))?;
        }
        let result = self.execute(driver, &prepared, &mut rows, options, events, &mut outcome);
        if options.atomic {
            match &result {
                Ok(()) => driver.commit().map_err(db("committing the transaction"))?,
                Err(_) => {
                    driver
                        .rollback()
                        .map_err(db("rolling back the transaction"))?;
                }
            }
        }
        match result {
            Ok(()) => {
                outcome.heads = self.ids(&rows);
                Ok(outcome)
            }
            Err(MigrateError::Statement(mut failure)) => {
                // Report where the database really is now.
                failure.left_at = self.tables.read_versions(driver).unwrap_or_default();
                Err(MigrateError::Statement(failure))
            }
            Err(e) => Err(e),
        }
    }

    fn plan(&self, request: &Request, rows: &[usize]) -> Result<Vec<Step>, MigrateError> {
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

    /// Problems that would stop the plan half way are found before it
    /// starts. Returns each step with its statements, split once for the run.
    fn check_runnable(
        &self,
        steps: &[Step],
        options: &Options,
    ) -> Result<Vec<Prepared<'p>>, MigrateError> {
        self.check_reversible(steps)?;
        let project: &'p crate::project::Project = self.project;
        steps
            .iter()
            .map(|step| {
                let script = project.script(step.revision);
                let statements = self.statements(script, step.direction)?;
                if options.atomic && segments::is_segmented(&statements, script.transactional) {
                    return Err(MigrateError::AtomicNotPossible {
                        revision: script.revision.clone(),
                        reason: atomic_obstacle(script, &statements, self.tables.dialect),
                    });
                }
                Ok(Prepared {
                    step: *step,
                    statements,
                })
            })
            .collect()
    }

    /// A section's statements, split once for the run; their lines are
    /// the file's.
    pub(super) fn statements(
        &self,
        script: &'p Script,
        direction: Direction,
    ) -> Result<Vec<sql::Statement<'p>>, MigrateError> {
        let section = section(script.body()?, direction);
        let mut statements =
            sql::split(&section.sql, self.tables.dialect).map_err(|e| MigrateError::Split {
                revision: script.revision.clone(),
                path: script.path.clone(),
                line: section.line + e.line - 1,
                message: e.message,
            })?;
        for statement in &mut statements {
            statement.line += section.line - 1;
        }
        // Also refused with `transaction off`: each statement's journal
        // row is written in a transaction of retort's own.
        if let Some(statement) = statements.iter().find(|s| s.transaction_control) {
            return Err(MigrateError::TransactionControl {
                revision: script.revision.clone(),
                direction: direction.section_name(),
                path: script.path.clone(),
                line: statement.line,
                excerpt: sql::excerpt(statement.text, 60),
            });
        }
        Ok(statements)
    }

    /// A downgrade through a revision without a downgrade section.
    pub(super) fn check_reversible(&self, steps: &[Step]) -> Result<(), MigrateError> {
        for step in steps {
            let script = self.project.script(step.revision);
            if step.direction == Direction::Down && !script.reversible {
                return Err(MigrateError::Irreversible {
                    revision: script.revision.clone(),
                    path: script.path.clone(),
                });
            }
        }
        Ok(())
    }

    /// What a step reports once done (or planned).
    pub(super) fn step_done(
        &self,
        revision: usize,
        direction: &'static str,
        took: Duration,
    ) -> StepDone {
        let script = self.project.script(revision);
        StepDone {
            revision: script.revision.clone(),
            message: script.message.clone(),
            direction,
            duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        }
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
                if script.matches(&row.checksum)? == Some(false) {
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

    fn execute(
        &self,
        driver: &mut dyn Driver,
        steps: &[Prepared<'_>],
        rows: &mut Vec<usize>,
        options: &Options,
        events: &mut dyn FnMut(Event),
        outcome: &mut Outcome,
    ) -> Result<(), MigrateError> {
        let graph = self.project.graph();
        if let Some(timeout) = options.statement_lock_timeout {
            driver
                .set_lock_wait(timeout)
                .map_err(db("setting the lock timeout"))?;
        }
        for (index, Prepared { step, statements }) in steps.iter().enumerate() {
            let step = *step;
            let script = self.project.script(step.revision);
            events(Event::StepStarted {
                index,
                total: steps.len(),
                revision: script.revision.clone(),
                message: script.message.clone(),
                direction: step.direction,
            });
            let started = Instant::now();
            let after = plan::next_rows(graph, rows, step);
            if segments::is_segmented(statements, script.transactional) {
                let run = Segmented {
                    script,
                    step,
                    statements,
                    before: rows,
                    after: &after,
                    started,
                    was_running: None,
                };
                self.run_segmented(driver, &run, 0, options, events)?;
            } else {
                self.in_transaction(driver, script, options, events, &mut |driver| {
                    self.run_statements(driver, script, step.direction, statements, 0)?;
                    self.record(driver, script, step, rows, &after, started)
                })?;
            }
            *rows = after;
            let done = self.step_done(step.revision, step.direction.name(), started.elapsed());
            events(Event::StepFinished { done: done.clone() });
            outcome.steps.push(done);
        }
        Ok(())
    }

    /// Runs `body` in a transaction and commits it, retrying on lock
    /// timeouts (see [`Migrator::retrying`]).
    pub(super) fn in_transaction(
        &self,
        driver: &mut dyn Driver,
        script: &Script,
        options: &Options,
        events: &mut dyn FnMut(Event),
        body: &mut dyn FnMut(&mut dyn Driver) -> Result<(), MigrateError>,
    ) -> Result<(), MigrateError> {
        self.retrying(driver, script, options, events, &mut |driver| {
            driver.begin().map_err(db("starting a transaction"))?;
            match body(driver) {
                Ok(()) => driver.commit().map_err(db("committing the migration")),
                Err(e) => {
                    // The first failure is the one to report; a rollback
                    // that fails too (the server already ended the
                    // transaction) adds nothing the user can act on.
                    let _ = driver.rollback();
                    Err(e)
                }
            }
        })
    }

    /// Runs `attempt`; when a statement in it timed out waiting for a lock
    /// (a long transaction holds the table), which leaves nothing of it
    /// applied, pauses and runs it again, rather than queueing every later
    /// query on that table behind it.
    pub(super) fn retrying(
        &self,
        driver: &mut dyn Driver,
        script: &Script,
        options: &Options,
        events: &mut dyn FnMut(Event),
        attempt: &mut dyn FnMut(&mut dyn Driver) -> Result<(), MigrateError>,
    ) -> Result<(), MigrateError> {
        let mut retries = 0;
        loop {
            match attempt(driver) {
                Ok(()) => return Ok(()),
                Err(e) if !is_lock_timeout(&e) || retries >= options.lock_retries => {
                    return Err(with_attempts(e, retries + 1));
                }
                Err(_) => {
                    retries += 1;
                    let wait = LOCK_RETRY_BASE * 2u32.saturating_pow(retries - 1);
                    events(Event::LockRetry {
                        revision: script.revision.clone(),
                        attempt: retries,
                        of: options.lock_retries,
                        wait,
                    });
                    std::thread::sleep(wait);
                }
            }
        }
    }

    /// Runs `statements`, the section's from index `first` on (those
    /// before it committed earlier, in parts of the same migration).
    pub(super) fn run_statements(
        &self,
        driver: &mut dyn Driver,
        script: &Script,
        direction: Direction,
        statements: &[sql::Statement<'_>],
        first: usize,
    ) -> Result<(), MigrateError> {
        let driver_name = driver.describe();
        for (offset, statement) in statements.iter().enumerate() {
            driver.run(statement.text).map_err(|error| {
                if error.kind == crate::db::DbErrorKind::ReadOnly {
                    return MigrateError::Database {
                        context: format!("writing to {driver_name}"),
                        error,
                    };
                }
                MigrateError::Statement(Box::new(StatementFailure {
                    revision: script.revision.clone(),
                    direction: direction.section_name(),
                    path: script.path.clone(),
                    line: statement.line,
                    excerpt: sql::excerpt(statement.text, 100),
                    error,
                    left_at: Vec::new(),
                    // Everything before `first` committed in earlier parts.
                    partial: first > 0,
                    statement: first + offset + 1,
                    note: None,
                }))
            })?;
        }
        Ok(())
    }

    /// The version-table change and the applied-table row of one step.
    pub(super) fn record(
        &self,
        driver: &mut dyn Driver,
        script: &Script,
        step: Step,
        before: &[usize],
        after: &[usize],
        started: Instant,
    ) -> Result<(), MigrateError> {
        self.change_rows(driver, before, after)?;
        match step.direction {
            Direction::Up => {
                let row = AppliedRow::new(
                    script,
                    UtcTime::now().rfc3339(),
                    started.elapsed(),
                    "upgrade",
                );
                for (sql, params) in self.tables.record_applied(Mode::Bind, &row) {
                    driver
                        .execute(&sql, &params)
                        .map_err(db("recording the revision"))?;
                }
            }
            Direction::Down => {
                let (sql, params) = self.tables.forget_applied(Mode::Bind, &script.revision);
                driver
                    .execute(&sql, &params)
                    .map_err(db("recording the revision"))?;
            }
        }
        Ok(())
    }

    /// Rewrites the version rows from `before` to `after`, checking each
    /// UPDATE and DELETE hit exactly one row.
    pub(super) fn change_rows(
        &self,
        driver: &mut dyn Driver,
        before: &[usize],
        after: &[usize],
    ) -> Result<(), MigrateError> {
        let graph = self.project.graph();
        let id = |i: usize| graph.node(i).id().to_owned();
        let change = plan::row_change(before, after);
        let mut expect_one = |(sql, params): (String, Vec<crate::db::Value>),
                              action: &'static str,
                              row: String|
         -> Result<(), MigrateError> {
            let n = driver
                .execute(&sql, &params)
                .map_err(db("updating the version table"))?;
            if n != 1 {
                return Err(MigrateError::Tampered { action, id: row });
            }
            Ok(())
        };
        for &d in &change.deletes {
            expect_one(
                self.tables.delete_version(Mode::Bind, &id(d)),
                "delete",
                id(d),
            )?;
        }
        for &(from, to) in &change.updates {
            expect_one(
                self.tables.update_version(Mode::Bind, &id(from), &id(to)),
                "update",
                id(from),
            )?;
        }
        for &i in &change.inserts {
            expect_one(
                self.tables.insert_version(Mode::Bind, &id(i)),
                "insert",
                id(i),
            )?;
        }
        Ok(())
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
        let before = if purge {
            Vec::new()
        } else {
            self.rows(driver)?
        };
        let current = self.ids(&before);
        let mut resolved = Vec::with_capacity(targets.len());
        for target in targets {
            resolved.push(
                graph
                    .resolve(target, Some(&current))
                    .map_err(plan::PlanError::from)?,
            );
        }
        let after = plan::stamp(graph, &before, &resolved, purge)?;
        let applied_before = plan::applied_set(graph, &before);
        let applied_after = plan::applied_set(graph, &after);
        let mut outcome = Outcome {
            steps: Vec::new(),
            heads: self.ids(&after),
        };
        let added: Vec<usize> = (0..graph.len())
            .filter(|&i| applied_after[i] && !applied_before[i])
            .collect();
        let removed: Vec<usize> = (0..graph.len())
            .filter(|&i| applied_before[i] && !applied_after[i])
            .collect();
        for &i in removed.iter().rev().chain(&added) {
            outcome
                .steps
                .push(self.step_done(i, "stamp", Duration::ZERO));
        }
        events(Event::Plan { steps: Vec::new() });
        if options.dry_run {
            return Ok(outcome);
        }
        self.ensure_tables(driver)?;
        let write = |driver: &mut dyn Driver| -> Result<(), MigrateError> {
            if purge {
                driver
                    .execute(&self.tables.delete_all_versions(), &[])
                    .map_err(db("purging the version table"))?;
                // Forget checksums of this project's revisions no longer
                // applied; a revision no file defines may be another
                // project's, sharing the applied table.
                let recorded = self
                    .tables
                    .read_applied(driver)
                    .map_err(db("reading the applied table"))?;
                for row in recorded {
                    let forget = graph
                        .index_of(&row.revision)
                        .is_some_and(|i| !applied_after[i]);
                    if forget {
                        let (sql, params) = self.tables.forget_applied(Mode::Bind, &row.revision);
                        driver
                            .execute(&sql, &params)
                            .map_err(db("updating the applied table"))?;
                    }
                }
            }
            self.change_rows(driver, &before, &after)?;
            for &i in &removed {
                let (sql, params) = self.tables.forget_applied(Mode::Bind, graph.node(i).id());
                driver
                    .execute(&sql, &params)
                    .map_err(db("updating the applied table"))?;
            }
            for &i in &added {
                let script = self.project.script(i);
                let row = AppliedRow::new(
                    script,
                    UtcTime::now().rfc3339(),
                    std::time::Duration::ZERO,
                    "stamp",
                );
                for (sql, params) in self.tables.record_applied(Mode::Bind, &row) {
                    driver
                        .execute(&sql, &params)
                        .map_err(db("updating the applied table"))?;
                }
            }
            Ok(())
        };
        driver.begin().map_err(db("starting a transaction"))?;
        if let Err(e) = write(driver) {
            driver.rollback().map_err(db("rolling back"))?;
            return Err(e);
        }
        driver.commit().map_err(db("committing the stamp"))?;
        Ok(outcome)
    }
}

/// A planned step with its statements.
struct Prepared<'p> {
    step: Step,
    statements: Vec<sql::Statement<'p>>,
}

pub(super) fn section(body: &Body, direction: Direction) -> &Section {
    match direction {
        Direction::Up => &body.upgrade,
        // Callers check reversibility first; an absent section runs nothing.
        Direction::Down => body.downgrade.as_ref().unwrap_or(&EMPTY),
    }
}

static EMPTY: Section = Section {
    sql: String::new(),
    line: 1,
};

/// The first pause before retrying a migration whose statement timed out
/// waiting for a lock; each further retry waits twice as long.
const LOCK_RETRY_BASE: std::time::Duration = std::time::Duration::from_millis(500);

fn is_lock_timeout(error: &MigrateError) -> bool {
    matches!(error, MigrateError::Statement(f) if f.error.kind == crate::db::DbErrorKind::LockTimeout)
}

fn with_attempts(error: MigrateError, attempts: u32) -> MigrateError {
    match error {
        MigrateError::Statement(mut failure)
            if failure.error.kind == crate::db::DbErrorKind::LockTimeout =>
        {
            failure.error.message = format!(
                "{} (gave up after {attempts} attempt(s))",
                failure.error.message
            );
            MigrateError::Statement(failure)
        }
        other => other,
    }
}

/// Why a migration cannot run inside `--atomic`.
fn atomic_obstacle(
    script: &Script,
    statements: &[sql::Statement<'_>],
    dialect: crate::Dialect,
) -> String {
    if !script.transactional {
        return "it is marked `-- retort:transaction off`".to_owned();
    }
    statements
        .iter()
        .find(|s| s.no_transaction)
        .map(|s| {
            format!(
                "its statement at line {} ({}) {}",
                s.line,
                sql::excerpt(s.text, 60),
                if dialect == crate::Dialect::Mysql {
                    "commits implicitly"
                } else {
                    "cannot run inside a transaction"
                }
            )
        })
        .unwrap_or_default()
}
