//! The database as a [`Sink`]: statements run through the driver, each
//! transaction retried when a statement timed out waiting for a lock,
//! bookkeeping bound as parameters, progress reported as events.

use std::ops::Range;
use std::time::{Duration, Instant};

use super::error::StatementFailure;
use super::journal::{JournalRow, JournalState};
use super::prepare::{Migration, Prepared, Stamp};
use super::replicas::ReplicaGate;
use super::store::{AppliedRow, Mode};
use super::walk::Sink;
use super::{Engine, Event, MigrateError, Options, StepDone, db};
use crate::db::{DbErrorKind, Driver, Value};
use crate::script::checksum;
use crate::time::UtcTime;

/// The first pause before retrying a migration whose statement timed out
/// waiting for a lock; each further retry waits twice as long.
const LOCK_RETRY_BASE: Duration = Duration::from_millis(500);

/// A plan applied to a database.
pub(super) struct Database<'a, 'p> {
    pub(super) migrator: &'a Engine<'p>,
    pub(super) driver: &'a mut dyn Driver,
    pub(super) options: &'a Options,
    pub(super) events: &'a mut dyn FnMut(Event),
    /// The migrations done, in order.
    pub(super) done: Vec<StepDone>,
    /// When the current migration started.
    started: Instant,
    /// Whether the state tables are known to exist (committed). Where DDL
    /// is transactional they are created in the first transaction that
    /// writes, so that a run failing before anything is recorded leaves
    /// the database as it found it.
    tables_ready: bool,
    /// The tables the plan's own transaction (`--atomic`) created.
    plan_created: u8,
    /// Migration statements held back where the driver batches: they go
    /// out with the migration's bookkeeping, one round trip for both.
    deferred: Vec<String>,
    /// A batch of statements failed in this transaction: it is run again
    /// with `one_by_one`.
    batch_failed: bool,
    /// Statements run one round trip each (to find which one fails).
    one_by_one: bool,
    /// Waits for the replicas between migrations (`--max-replica-lag`).
    replicas: Option<ReplicaGate>,
}

impl<'a, 'p> Database<'a, 'p> {
    pub(super) fn new(
        migrator: &'a Engine<'p>,
        driver: &'a mut dyn Driver,
        options: &'a Options,
        events: &'a mut dyn FnMut(Event),
    ) -> Self {
        Database {
            migrator,
            driver,
            options,
            events,
            done: Vec::new(),
            started: Instant::now(),
            tables_ready: false,
            plan_created: 0,
            deferred: Vec::new(),
            batch_failed: false,
            one_by_one: false,
            replicas: options.max_replica_lag.map(ReplicaGate::new),
        }
    }

    /// Creates the state tables if this run has not yet, in the
    /// transaction open now (where DDL is transactional); the tables it
    /// created, to forget if that transaction rolls back.
    fn tables_in_transaction(&mut self) -> Result<u8, MigrateError> {
        if self.tables_ready {
            return Ok(0);
        }
        self.migrator.ensure_tables(self.driver)
    }

    /// Ends a transaction that created `created`: committed, the tables
    /// are there; rolled back, they are not.
    fn settle_tables(&mut self, committed: bool, created: u8) {
        if committed {
            self.tables_ready = true;
        } else {
            self.migrator.tables.forget(created);
        }
    }

    fn journal_row(
        &self,
        migration: &Migration<'_>,
        index: usize,
        state: JournalState,
    ) -> JournalRow {
        let statement = &migration.statements[index];
        JournalRow {
            revision: migration.script.revision.clone(),
            direction: migration.step.direction,
            statement: index,
            line: statement.line,
            hash: checksum::checksum(statement.text),
            state,
            session: None,
        }
    }

    /// Runs `statements[range]` of `migration`; an error names the file,
    /// line and statement.
    fn run_statements(
        &mut self,
        migration: &Migration<'_>,
        range: Range<usize>,
    ) -> Result<(), MigrateError> {
        let driver_name = self.driver.describe();
        let script = migration.script;
        let first = range.start;
        for (index, statement) in migration.statements[range].iter().enumerate() {
            self.driver.run(statement.text).map_err(|error| {
                if error.kind == DbErrorKind::ReadOnly {
                    return MigrateError::Database {
                        context: format!("writing to {driver_name}"),
                        error,
                    };
                }
                MigrateError::Statement(Box::new(StatementFailure {
                    revision: script.revision.clone(),
                    direction: migration.step.direction,
                    path: script.path.clone(),
                    line: statement.line,
                    excerpt: crate::sql::excerpt(statement.text, 100),
                    error,
                    left_at: Vec::new(),
                    // Everything before the first statement here committed
                    // in earlier parts.
                    partial: first > 0,
                    statement: first + index + 1,
                    note: None,
                }))
            })?;
        }
        Ok(())
    }

    /// Runs `attempt`; when a statement in it timed out waiting for a lock
    /// (a long transaction holds the table), which leaves nothing of it
    /// applied, pauses and runs it again, rather than queueing every later
    /// query on that table behind it.
    fn retrying(
        &mut self,
        revision: &str,
        attempt: &mut dyn FnMut(&mut Self) -> Result<(), MigrateError>,
    ) -> Result<(), MigrateError> {
        let mut retries = 0;
        loop {
            match attempt(self) {
                Ok(()) => return Ok(()),
                Err(e) if !is_lock_timeout(&e) || retries >= self.options.lock_retries => {
                    return Err(with_attempts(e, retries + 1));
                }
                Err(_) => {
                    retries += 1;
                    let wait = LOCK_RETRY_BASE * 2u32.saturating_pow(retries - 1);
                    (self.events)(Event::LockRetry {
                        revision: revision.to_owned(),
                        attempt: retries,
                        of: self.options.lock_retries,
                        wait,
                    });
                    std::thread::sleep(wait);
                }
            }
        }
    }

    /// One statement outside a transaction. A DDL statement on MySQL that
    /// timed out waiting for a metadata lock did nothing, so it is retried
    /// like a transaction; where the driver says a statement must not be
    /// retried (PostgreSQL's concurrent builds commit catalog entries
    /// before they wait), it runs once, without the lock timeout: it waits
    /// for older transactions by design, blocking no one meanwhile.
    fn run_alone(&mut self, migration: &Migration<'_>, index: usize) -> Result<(), MigrateError> {
        self.migrator.check_lease(self.driver)?;
        let range = index..index + 1;
        let statement = migration.statements[index].text;
        if self.driver.retries_alone(statement) {
            return self.retrying(&migration.script.revision, &mut |sink| {
                sink.run_statements(migration, range.clone())
            });
        }
        let limited = self.options.statement_lock_timeout;
        if limited.is_some() {
            self.driver
                .set_lock_wait(Duration::ZERO)
                .map_err(db("lifting the lock timeout"))?;
        }
        let ran = self.run_statements(migration, range);
        if let Some(timeout) = limited {
            self.driver
                .set_lock_wait(timeout)
                .map_err(db("setting the lock timeout"))?;
        }
        ran
    }

    /// The statements that rewrite the version rows from `before` to
    /// `after`, each to hit exactly its row.
    fn version_writes(&self, before: &[usize], after: &[usize]) -> Vec<Write> {
        let tables = &self.migrator.tables;
        let graph = self.migrator.project.graph();
        let id = |i: usize| graph.node(i).id().to_owned();
        let change = super::plan::row_change(before, after);
        let mut writes = Vec::new();
        for &d in &change.deletes {
            writes.push(Write::checked(
                |mode| tables.delete_version(mode, &id(d)),
                "delete",
                id(d),
            ));
        }
        for &(from, to) in &change.updates {
            writes.push(Write::checked(
                |mode| tables.update_version(mode, &id(from), &id(to)),
                "update",
                id(from),
            ));
        }
        for &i in &change.inserts {
            writes.push(Write::checked(
                |mode| tables.insert_version(mode, &id(i)),
                "insert",
                id(i),
            ));
        }
        writes
    }

    /// The statements that record `revision` as applied now.
    fn applied_writes(&self, revision: usize, took: Duration, operation: &str) -> Vec<Write> {
        let tables = &self.migrator.tables;
        let script = self.migrator.project.script(revision);
        let row = AppliedRow::new(
            script,
            tables.dialect,
            UtcTime::now().rfc3339(),
            took,
            operation,
        );
        let bound = tables.record_applied(Mode::Bind, &row);
        let literal = tables.record_applied(Mode::Literal, &row);
        bound
            .into_iter()
            .zip(literal)
            .map(|(bound, (literal, _))| Write {
                bound,
                literal,
                must_hit: None,
            })
            .collect()
    }

    /// The statement that forgets `revision`'s applied row.
    fn forget_write(&self, revision: &str) -> Write {
        Write::unchecked(|mode| self.migrator.tables.forget_applied(mode, revision))
    }

    /// Sends the migration statements held back (see
    /// [`Database::deferred`]).
    fn flush(&mut self) -> Result<(), MigrateError> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        let statements = std::mem::take(&mut self.deferred);
        self.driver
            .execute_batch(&statements)
            .map(drop)
            .map_err(|error| self.batch_failure(error))
    }

    /// A batch that held migration statements failed: which one is not
    /// known, so the transaction runs again one by one (see
    /// [`Sink::transaction`]).
    fn batch_failure(&mut self, error: crate::db::DbError) -> MigrateError {
        self.batch_failed = true;
        MigrateError::Database {
            context: "running a migration's statements".to_owned(),
            error,
        }
    }

    /// Runs bookkeeping statements, with the migration statements held
    /// back before them, in one round trip where the driver batches, and
    /// checks that each version-table change hit its row.
    fn apply_writes(
        &mut self,
        writes: &[Write],
        context: &'static str,
    ) -> Result<(), MigrateError> {
        let counts = if self.driver.batches() {
            let mut batch = std::mem::take(&mut self.deferred);
            let held = batch.len();
            batch.extend(writes.iter().map(|w| w.literal.clone()));
            match self.driver.execute_batch(&batch) {
                // The writes' counts are the last ones, whatever the
                // migration's statements reported.
                Ok(mut counts) => counts.split_off(counts.len().saturating_sub(writes.len())),
                Err(error) if held > 0 => return Err(self.batch_failure(error)),
                Err(error) => return Err(db(context)(error)),
            }
        } else {
            writes
                .iter()
                .map(|w| self.driver.execute(&w.bound.0, &w.bound.1))
                .collect::<Result<Vec<u64>, _>>()
                .map_err(db(context))?
        };
        for (i, write) in writes.iter().enumerate() {
            // A count that did not come back is no proof the row was hit.
            if let Some((action, row)) = &write.must_hit
                && counts.get(i) != Some(&1)
            {
                return Err(MigrateError::Tampered {
                    action,
                    id: row.clone(),
                });
            }
        }
        Ok(())
    }
}

/// One bookkeeping statement, with parameters and with literals (for a
/// driver that sends several in one round trip), and the version row it
/// must hit exactly, if any.
struct Write {
    bound: (String, Vec<Value>),
    literal: String,
    must_hit: Option<(&'static str, String)>,
}

impl Write {
    fn unchecked(statement: impl Fn(Mode) -> (String, Vec<Value>)) -> Write {
        Write {
            bound: statement(Mode::Bind),
            literal: statement(Mode::Literal).0,
            must_hit: None,
        }
    }

    fn checked(
        statement: impl Fn(Mode) -> (String, Vec<Value>),
        action: &'static str,
        row: String,
    ) -> Write {
        Write {
            must_hit: Some((action, row)),
            ..Write::unchecked(statement)
        }
    }
}

impl Sink for Database<'_, '_> {
    fn start(&mut self, _prepared: &Prepared<'_>) -> Result<(), MigrateError> {
        if self.migrator.ddl_commits_implicitly {
            // A CREATE TABLE would commit the first migration's
            // transaction half way: the tables come first.
            self.migrator.ensure_tables(self.driver)?;
            self.tables_ready = true;
        }
        if let Some(timeout) = self.options.statement_lock_timeout {
            self.driver
                .set_lock_wait(timeout)
                .map_err(db("setting the lock timeout"))?;
        }
        Ok(())
    }

    fn transaction(
        &mut self,
        migration: Option<&Migration<'_>>,
        body: &mut dyn FnMut(&mut dyn Sink) -> Result<(), MigrateError>,
    ) -> Result<(), MigrateError> {
        self.migrator.check_lease(self.driver)?;
        let mut attempt = |sink: &mut Self| -> Result<(), MigrateError> {
            loop {
                sink.driver.begin().map_err(db("starting a transaction"))?;
                let created = match sink.tables_in_transaction() {
                    Ok(created) => created,
                    Err(e) => {
                        let _ = sink.driver.rollback();
                        return Err(e);
                    }
                };
                let result = match body(sink).and_then(|()| sink.flush()) {
                    Ok(()) => sink.driver.commit().map_err(db("committing the migration")),
                    Err(e) => {
                        sink.deferred.clear();
                        // The first failure is the one to report; a
                        // rollback that fails too (the server already
                        // ended the transaction) adds nothing the user can
                        // act on.
                        let _ = sink.driver.rollback();
                        Err(e)
                    }
                };
                sink.settle_tables(result.is_ok(), created);
                if result.is_err() && std::mem::take(&mut sink.batch_failed) {
                    // A batch's error does not say which statement failed:
                    // the statements run again one by one, which names it
                    // (nothing of the first try was kept).
                    sink.one_by_one = true;
                    continue;
                }
                sink.one_by_one = false;
                return result;
            }
        };
        match migration {
            Some(migration) => self.retrying(&migration.script.revision, &mut attempt),
            None => attempt(self),
        }
    }

    fn between_migrations(&mut self) -> Result<(), MigrateError> {
        match &mut self.replicas {
            Some(gate) => gate.wait(self.driver, self.events),
            None => Ok(()),
        }
    }

    fn begin_plan(&mut self) -> Result<(), MigrateError> {
        self.driver
            .begin()
            .map_err(db("starting the transaction"))?;
        self.plan_created = self.tables_in_transaction()?;
        // Inside the plan's transaction: the migrations' own see them.
        self.tables_ready = true;
        Ok(())
    }

    fn end_plan(&mut self, result: Result<(), MigrateError>) -> Result<(), MigrateError> {
        let created = self.plan_created;
        match result {
            Ok(()) => {
                let committed = self
                    .driver
                    .commit()
                    .map_err(db("committing the transaction"));
                self.settle_tables(committed.is_ok(), created);
                committed
            }
            Err(e) => {
                self.settle_tables(false, created);
                self.driver
                    .rollback()
                    .map_err(db("rolling back the transaction"))?;
                Err(e)
            }
        }
    }

    fn started(&mut self, index: usize, total: usize, migration: &Migration<'_>) {
        (self.events)(Event::StepStarted {
            index,
            total,
            revision: migration.script.revision.clone(),
            message: migration.script.message.clone(),
            direction: migration.step.direction,
        });
        self.started = Instant::now();
    }

    fn finished(&mut self, migration: &Migration<'_>) {
        let step = migration.step;
        let done = self
            .migrator
            .step_done(step.revision, step.direction, self.started.elapsed());
        (self.events)(Event::StepFinished { done: done.clone() });
        self.done.push(done);
    }

    fn run_code(&mut self, migration: &Migration<'_>) -> Result<(), MigrateError> {
        let Some(function) = migration.code else {
            return Ok(());
        };
        // What the migration's statements would have batched goes first.
        self.flush()?;
        function(self.driver).map_err(|error| {
            let script = migration.script;
            let code = script.code.as_ref();
            MigrateError::CodeFailed {
                revision: script.revision.clone(),
                path: script.path.clone(),
                direction: migration.step.direction,
                function: code
                    .map(|c| format!("`{}` (version {})", c.name, c.version))
                    .unwrap_or_default(),
                message: error.to_string(),
            }
        })
    }

    fn run(
        &mut self,
        migration: &Migration<'_>,
        range: Range<usize>,
        alone: bool,
    ) -> Result<(), MigrateError> {
        if !alone {
            if self.driver.batches() && !self.one_by_one {
                // Held back to go out with what follows in the
                // transaction: the bookkeeping, or a journal row.
                self.deferred.extend(
                    migration.statements[range]
                        .iter()
                        .map(|s| s.text.to_owned()),
                );
                return Ok(());
            }
            return self.run_statements(migration, range);
        }
        self.flush()?;
        let index = range.start;
        let text = migration.statements[index].text;
        let before_invalid = self.driver.left_invalid(text).unwrap_or_default();
        let Err(mut error) = self.run_alone(migration, index) else {
            return Ok(());
        };
        // It failed, so it did not complete — unless it was cut off in an
        // earlier run and what it creates exists now: that run may have
        // completed it, which stays `running` for the user to judge
        // (`resume --skip-running`).
        let exists = matches!(&error, MigrateError::Statement(f) if f.error.kind == DbErrorKind::AlreadyExists);
        if !(exists && migration.was_running == Some(index)) {
            self.migrator
                .tables
                .journal_forget(self.driver, &migration.script.revision, index)
                .map_err(db("writing the journal"))?;
        }
        if let MigrateError::Statement(failure) = &mut error
            && let Some(mut invalid) = self.driver.left_invalid(text)
        {
            invalid.retain(|i| !before_invalid.contains(i));
            failure.note = invalid_note(&invalid);
        }
        Err(error)
    }

    fn journal(
        &mut self,
        migration: &Migration<'_>,
        done: Range<usize>,
        running: Option<usize>,
    ) -> Result<(), MigrateError> {
        self.flush()?;
        if !self.tables_ready {
            // A statement outside a transaction is announced first: the
            // tables are created on their own, with that row.
            self.migrator.ensure_tables(self.driver)?;
            self.tables_ready = true;
        }
        let mut rows: Vec<JournalRow> = done
            .map(|i| self.journal_row(migration, i, JournalState::Done))
            .collect();
        if let Some(index) = running {
            let session = self.driver.session();
            rows.push(JournalRow {
                session,
                ..self.journal_row(migration, index, JournalState::Running)
            });
        }
        self.migrator
            .tables
            .journal_write(self.driver, &rows, &UtcTime::now().rfc3339())
            .map_err(db("writing the journal"))
    }

    fn record(&mut self, migration: &Migration<'_>) -> Result<(), MigrateError> {
        let mut writes = Vec::new();
        if migration.journaled {
            writes.push(Write::unchecked(|mode| {
                self.migrator
                    .tables
                    .journal_clear_statement(mode, &migration.script.revision)
            }));
        }
        writes.extend(self.version_writes(&migration.before, &migration.after));
        match migration.step.direction {
            super::Direction::Up => writes.extend(self.applied_writes(
                migration.step.revision,
                self.started.elapsed(),
                "upgrade",
            )),
            super::Direction::Down => writes.push(self.forget_write(&migration.script.revision)),
        }
        self.apply_writes(&writes, "recording the migration")
    }

    fn stamp(&mut self, stamp: &Stamp) -> Result<(), MigrateError> {
        let graph = self.migrator.project.graph();
        if stamp.purge {
            let tables = &self.migrator.tables;
            self.driver
                .execute(&tables.delete_all_versions(), &[])
                .map_err(db("purging the version table"))?;
            // Forget checksums of this project's revisions no longer
            // applied; a revision no file defines may be another project's,
            // sharing the applied table.
            let recorded = tables
                .read_applied(self.driver)
                .map_err(db("reading the applied table"))?;
            for row in recorded {
                let forget = graph
                    .index_of(&row.revision)
                    .is_some_and(|i| stamp.unapplied.contains(&i));
                if forget {
                    let write = self.forget_write(&row.revision);
                    self.apply_writes(&[write], "updating the applied table")?;
                }
            }
        }
        let mut writes = self.version_writes(&stamp.before, &stamp.after);
        for &i in &stamp.removed {
            writes.push(self.forget_write(graph.node(i).id()));
        }
        for &i in &stamp.added {
            writes.extend(self.applied_writes(i, Duration::ZERO, "stamp"));
        }
        self.apply_writes(&writes, "recording the stamp")
    }
}

/// What a failed statement outside a transaction left that needs a hand:
/// PostgreSQL keeps the index of a failed `CREATE INDEX CONCURRENTLY`,
/// marked INVALID.
fn invalid_note(invalid: &[String]) -> Option<String> {
    if invalid.is_empty() {
        return None;
    }
    Some(format!(
        "PostgreSQL left {} INVALID: drop {} with {} before running it again",
        invalid
            .iter()
            .map(|i| format!("index `{i}`"))
            .collect::<Vec<_>>()
            .join(", "),
        if invalid.len() == 1 { "it" } else { "them" },
        invalid
            .iter()
            .map(|i| format!("`DROP INDEX CONCURRENTLY {i};`"))
            .collect::<Vec<_>>()
            .join(" "),
    ))
}

fn is_lock_timeout(error: &MigrateError) -> bool {
    matches!(error, MigrateError::Statement(f) if f.error.kind == DbErrorKind::LockTimeout)
}

fn with_attempts(error: MigrateError, attempts: u32) -> MigrateError {
    match error {
        MigrateError::Statement(mut failure) if failure.error.kind == DbErrorKind::LockTimeout => {
            failure.error.message = format!(
                "{} (gave up after {attempts} attempt(s))",
                failure.error.message
            );
            MigrateError::Statement(failure)
        }
        other => other,
    }
}
