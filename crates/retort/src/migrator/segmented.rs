//! Running a migration that commits in several parts (see
//! [`super::segments`]), recording each completed part in the journal.

use std::time::Instant;

use super::error::StatementFailure;
use super::journal::{DONE, JournalRow, RUNNING};
use super::plan::Step;
use super::segments::segments;
use super::{Event, MigrateError, Migrator, Options, db};
use crate::Dialect;
use crate::db::Driver;
use crate::script::{Script, checksum};
use crate::sql::Statement;
use crate::time::UtcTime;

/// One migration to run in parts.
pub(super) struct Segmented<'a, 'p> {
    pub(super) script: &'p Script,
    pub(super) step: Step,
    pub(super) statements: &'a [Statement<'p>],
    /// The version rows before and after the step.
    pub(super) before: &'a [usize],
    pub(super) after: &'a [usize],
    pub(super) started: Instant,
    /// A statement a stopped run left `running`, run again now.
    pub(super) was_running: Option<usize>,
}

impl Segmented<'_, '_> {
    fn journal_row(&self, index: usize, state: &str) -> JournalRow {
        let statement = &self.statements[index];
        JournalRow {
            revision: self.script.revision.clone(),
            direction: self.step.direction.section_name().to_owned(),
            statement: index,
            line: statement.line,
            hash: checksum::checksum(statement.text),
            state: state.to_owned(),
            session: None,
        }
    }
}

impl Migrator<'_> {
    /// Runs the statements of `run` from index `from` on, segment by
    /// segment, then records the step. The last commit clears the
    /// migration's journal rows with the version change.
    pub(super) fn run_segmented(
        &self,
        driver: &mut dyn Driver,
        run: &Segmented<'_, '_>,
        from: usize,
        options: &Options,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), MigrateError> {
        let parts = segments(run.statements, run.script.transactional, from);
        let now = || UtcTime::now().rfc3339();
        // Journal rows go out with the commit that ends a part: that
        // part's `done` rows, and the next part's `running` row when it
        // runs outside a transaction — one commit for both.
        let journal = |driver: &mut dyn Driver, rows: &[JournalRow]| {
            self.tables
                .journal_write(driver, rows, &now())
                .map_err(db("writing the journal"))
        };
        let session = driver.session();
        let running = |index: usize| JournalRow {
            session: session.clone(),
            ..run.journal_row(index, RUNNING)
        };
        let announce = |position: usize| -> Option<JournalRow> {
            let next = parts.get(position + 1)?;
            (!next.transactional).then(|| running(next.statements.start))
        };
        let finish = |driver: &mut dyn Driver| -> Result<(), MigrateError> {
            self.tables
                .journal_clear(driver, &run.script.revision)
                .map_err(db("clearing the journal"))?;
            self.record(
                driver,
                run.script,
                run.step,
                run.before,
                run.after,
                run.started,
            )
        };
        let mut announced = false;
        for (position, part) in parts.iter().enumerate() {
            let last = position + 1 == parts.len();
            let range = part.statements.clone();
            let statements = &run.statements[range.clone()];
            if part.transactional {
                self.in_transaction(driver, run.script, options, events, &mut |driver| {
                    self.run_statements(
                        driver,
                        run.script,
                        run.step.direction,
                        statements,
                        range.start,
                    )?;
                    if last {
                        return finish(driver);
                    }
                    let mut rows: Vec<JournalRow> =
                        range.clone().map(|i| run.journal_row(i, DONE)).collect();
                    rows.extend(announce(position));
                    journal(driver, &rows)
                })?;
                announced = announce(position).is_some();
                continue;
            }
            // Outside a transaction: say the statement started before it
            // runs, so a run that dies meanwhile leaves that on record.
            let index = range.start;
            if !announced {
                journal(driver, &[running(index)])?;
            }
            let before_invalid = self.concurrent_leftovers(driver, &run.statements[index]);
            if let Err(mut error) = self.run_alone(driver, run, index, options, events) {
                // It failed, so it did not complete — unless it was cut
                // off in an earlier run and what it creates exists now:
                // that run may have completed it, which stays `running`
                // for the user to judge (`resume --skip-running`).
                let exists = matches!(&error, MigrateError::Statement(f) if f.error.kind == crate::db::DbErrorKind::AlreadyExists);
                if !(exists && run.was_running == Some(index)) {
                    self.tables
                        .journal_forget(driver, &run.script.revision, index)
                        .map_err(db("writing the journal"))?;
                }
                if let MigrateError::Statement(failure) = &mut error {
                    failure.note = self.leftovers(driver, failure, &before_invalid);
                }
                return Err(error);
            }
            if last {
                // Its `done` row would be cleared by the same commit.
                self.in_transaction(driver, run.script, options, events, &mut |driver| {
                    finish(driver)
                })?;
            } else {
                let mut rows = vec![run.journal_row(index, DONE)];
                rows.extend(announce(position));
                journal(driver, &rows)?;
                announced = rows.len() > 1;
            }
        }
        if parts.is_empty() {
            // Every statement had completed (a resumed run stopped just
            // before its last commit), or the section is empty.
            self.in_transaction(driver, run.script, options, events, &mut |driver| {
                finish(driver)
            })?;
        }
        Ok(())
    }

    /// Runs one statement outside a transaction. On MySQL a DDL statement
    /// that timed out waiting for a metadata lock did nothing, so it is
    /// retried like a transaction. PostgreSQL's concurrent builds commit
    /// catalog entries before they wait, so they are never retried, and
    /// run without `lock_timeout`: they wait for older transactions by
    /// design, without blocking reads or writes meanwhile.
    fn run_alone(
        &self,
        driver: &mut dyn Driver,
        run: &Segmented<'_, '_>,
        index: usize,
        options: &Options,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), MigrateError> {
        let statements = &run.statements[index..=index];
        let direction = run.step.direction;
        if self.tables.dialect != Dialect::Postgres {
            return self.retrying(driver, run.script, options, events, &mut |driver| {
                self.run_statements(driver, run.script, direction, statements, index)
            });
        }
        let limited = options.statement_lock_timeout.is_some();
        if limited {
            driver
                .set_lock_wait(std::time::Duration::ZERO)
                .map_err(db("lifting the lock timeout"))?;
        }
        let ran = self.run_statements(driver, run.script, direction, statements, index);
        if let (true, Some(timeout)) = (limited, options.statement_lock_timeout) {
            driver
                .set_lock_wait(timeout)
                .map_err(db("setting the lock timeout"))?;
        }
        ran
    }

    /// The INVALID indexes before a PostgreSQL concurrent statement runs,
    /// so that a failure reports only those it left; empty otherwise.
    fn concurrent_leftovers(
        &self,
        driver: &mut dyn Driver,
        statement: &Statement<'_>,
    ) -> Vec<String> {
        let concurrently = statement.text.to_ascii_uppercase().contains("CONCURRENTLY");
        if self.tables.dialect == Dialect::Postgres && concurrently {
            invalid_indexes(driver)
        } else {
            Vec::new()
        }
    }

    /// What a failed statement outside a transaction left behind that the
    /// user must clean up: PostgreSQL keeps the index of a failed
    /// `CREATE INDEX CONCURRENTLY`, marked INVALID. `before` are the
    /// INVALID indexes from before the statement, not its doing.
    pub(super) fn leftovers(
        &self,
        driver: &mut dyn Driver,
        failure: &StatementFailure,
        before: &[String],
    ) -> Option<String> {
        let concurrently = failure
            .excerpt
            .to_ascii_uppercase()
            .contains("CONCURRENTLY");
        if self.tables.dialect != Dialect::Postgres || !concurrently {
            return None;
        }
        let mut invalid = invalid_indexes(driver);
        invalid.retain(|i| !before.contains(i));
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
}

/// Indexes PostgreSQL marks invalid (a `CREATE INDEX CONCURRENTLY` that
/// failed or was interrupted), schema-qualified and quoted as needed.
pub(super) fn invalid_indexes(driver: &mut dyn Driver) -> Vec<String> {
    driver
        .query(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT i.indisvalid ORDER BY 1",
            &[],
        )
        .unwrap_or_default()
        .into_iter()
        .filter_map(|row| row.into_iter().next()?.as_text().map(str::to_owned))
        .collect()
}
