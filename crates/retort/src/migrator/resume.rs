//! A migration left half way: reporting it, resuming it, and recording
//! what the user did by hand (`repair`).

use std::time::Duration;

use super::error::{Interruption, JournalPosition};
use super::journal::{JournalRow, JournalState};
use super::online::Database;
use super::plan::{self, Direction, Step};
use super::prepare::{Action, Migration, Prepared};
use super::walk::Sink;
use super::{Engine, Event, MigrateError, Options, Outcome, db};
use crate::db::Driver;
use crate::script::checksum;
use crate::sql;

/// The journal rows of one migration.
struct Halfway<'j> {
    rows: Vec<&'j JournalRow>,
    step: Option<Step>,
}

impl<'p> Engine<'p> {
    /// The journal's migration, grouped; a journal names one migration at a
    /// time since runs hold the lock and stop at the first interruption.
    fn halfway<'j>(&self, journal: &'j [JournalRow]) -> Halfway<'j> {
        let revision = &journal[0].revision;
        let rows: Vec<&JournalRow> = journal.iter().filter(|r| &r.revision == revision).collect();
        let direction = rows[0].direction;
        let step = self
            .project
            .graph()
            .index_of(revision)
            .map(|revision| Step {
                revision,
                direction,
            });
        Halfway { rows, step }
    }

    /// Where the journal says a migration stopped, as an error for any
    /// command that would run something else.
    pub(super) fn interrupted(
        &self,
        driver: &mut dyn Driver,
        journal: &[JournalRow],
    ) -> MigrateError {
        MigrateError::Interrupted(Box::new(self.interruption_of(driver, journal)))
    }

    /// The interrupted migration, if the journal holds one (for `status`).
    /// A journal written by a run that holds the lease now is that run's
    /// migration in progress (on a cluster, perhaps through another node),
    /// not an interrupted one.
    pub(crate) fn interruption(
        &self,
        driver: &mut dyn Driver,
    ) -> Result<Option<Interruption>, MigrateError> {
        let journal = self
            .tables
            .read_journal(driver)
            .map_err(db("reading the journal"))?;
        if journal.is_empty() || self.lease(driver)?.is_some_and(|lease| lease.alive()) {
            return Ok(None);
        }
        Ok(Some(self.interruption_of(driver, &journal)))
    }

    fn interruption_of(&self, driver: &mut dyn Driver, journal: &[JournalRow]) -> Interruption {
        let halfway = self.halfway(journal);
        let first = halfway.rows[0];
        let script = halfway.step.map(|s| self.project.script(s.revision));
        let statements = match (script, halfway.step) {
            (Some(script), Some(step)) => self.statements(script, step.direction).ok(),
            _ => None,
        };
        let at = |row: &JournalRow| JournalPosition {
            statement: row.statement + 1,
            line: row.line,
            excerpt: statements
                .as_ref()
                .and_then(|s| s.get(row.statement))
                .map(|s| sql::excerpt(s.text, 80))
                .unwrap_or_default(),
        };
        let completed = leading_done(&halfway.rows);
        let running = halfway
            .rows
            .iter()
            .find(|r| r.state == JournalState::Running);
        let next = match &statements {
            Some(statements) if completed < statements.len() => {
                let statement = &statements[completed];
                Some(JournalPosition {
                    statement: completed + 1,
                    line: statement.line,
                    excerpt: sql::excerpt(statement.text, 80),
                })
            }
            _ => None,
        };
        // A statement that was cut off or failed may have left an index.
        let unfinished = running.map_or(completed, |r| r.statement);
        let note = statements
            .as_ref()
            .and_then(|s| s.get(unfinished))
            .and_then(|s| driver.left_invalid(s.text))
            .filter(|invalid| !invalid.is_empty())
            .map(|invalid| {
                format!(
                    "PostgreSQL holds INVALID index(es) {}: drop them with `DROP INDEX CONCURRENTLY <name>;` before running the statement again",
                    invalid
                        .iter()
                        .map(|i| format!("`{i}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        let still_running = running
            .and_then(|r| r.session.as_deref())
            .filter(|session| driver.session_busy(session))
            .map(str::to_owned);
        Interruption {
            still_running,
            revision: first.revision.clone(),
            direction: first.direction,
            path: script.map(|s| s.path.clone()),
            total: statements.as_ref().map(Vec::len),
            completed,
            last_done: completed
                .checked_sub(1)
                .and_then(|i| halfway.rows.get(i))
                .map(|r| at(r)),
            running: running.map(|r| at(r)),
            next,
            note,
        }
    }

    /// Finishes the journal's migration from its first statement that did
    /// not complete, after checking the completed ones are unchanged.
    pub(super) fn resume(
        &self,
        driver: &mut dyn Driver,
        journal: &[JournalRow],
        skip_running: bool,
        options: &Options,
        events: &mut dyn FnMut(Event),
    ) -> Result<Outcome, MigrateError> {
        let rows = self.rows(driver)?;
        if journal.is_empty() {
            events(Event::Plan { steps: Vec::new() });
            return Ok(Outcome {
                steps: Vec::new(),
                heads: self.ids(&rows),
            });
        }
        let halfway = self.halfway(journal);
        let step = self.known_step(&halfway, &rows)?;
        let script = self.project.script(step.revision);
        let statements = self.statements(script, step.direction)?;
        for row in &halfway.rows {
            let unchanged = statements
                .get(row.statement)
                .is_some_and(|s| checksum::checksum(s.text) == row.hash);
            if !unchanged {
                return Err(MigrateError::JournalMismatch {
                    revision: script.revision.clone(),
                    path: script.path.clone(),
                    statement: row.statement + 1,
                    line: row.line,
                });
            }
        }
        let mut from = leading_done(&halfway.rows);
        let running = halfway
            .rows
            .iter()
            .find(|r| r.state == JournalState::Running && r.statement == from);
        if let (true, Some(running), false) = (skip_running, running, options.dry_run) {
            // Recorded as done first, so a later stop resumes after it.
            let done = JournalRow {
                state: JournalState::Done,
                ..(*running).clone()
            };
            self.tables
                .journal_write(driver, &[done], &crate::time::UtcTime::now().rfc3339())
                .map_err(db("writing the journal"))?;
        }
        if skip_running && running.is_some() {
            from += 1;
        }
        events(Event::Plan {
            steps: vec![(script.revision.clone(), step.direction)],
        });
        let after = plan::next_rows(self.project.graph(), &rows, step);
        let prepared = Prepared {
            actions: vec![Action::Migrate(Migration {
                step,
                script,
                statements,
                before: rows.clone(),
                after,
                from,
                was_running: running.filter(|_| !skip_running).map(|r| r.statement),
                journaled: true,
                code: None,
            })],
            atomic: false,
            rows_before: rows,
        };
        self.apply(driver, &prepared, options, events)
    }

    /// Records how the user settled the journal's migration by hand:
    /// `done` records the step as completed; otherwise only the journal is
    /// cleared.
    pub(super) fn repair(
        &self,
        driver: &mut dyn Driver,
        journal: &[JournalRow],
        revision: &str,
        done: bool,
        options: &Options,
        events: &mut dyn FnMut(Event),
    ) -> Result<Outcome, MigrateError> {
        let holds: Vec<String> = {
            let mut ids: Vec<String> = journal.iter().map(|r| r.revision.clone()).collect();
            ids.dedup();
            ids
        };
        let matching: Vec<&String> = holds.iter().filter(|h| h.starts_with(revision)).collect();
        let [held] = matching.as_slice() else {
            return Err(MigrateError::NotInterrupted {
                revision: revision.to_owned(),
                holds,
            });
        };
        let journal: Vec<JournalRow> = journal
            .iter()
            .filter(|r| &r.revision == *held)
            .cloned()
            .collect();
        let rows = self.rows(driver)?;
        events(Event::Plan { steps: Vec::new() });
        let step = if done {
            Some(self.known_step(&self.halfway(&journal), &rows)?)
        } else {
            None
        };
        let after = step.map_or_else(
            || rows.clone(),
            |s| plan::next_rows(self.project.graph(), &rows, s),
        );
        let outcome = Outcome {
            steps: step
                .map(|s| self.step_done(s.revision, s.direction, Duration::ZERO))
                .into_iter()
                .collect(),
            heads: self.ids(&after),
        };
        if options.dry_run {
            return Ok(outcome);
        }
        match step {
            // Recorded as a resumed run records it, nothing left to run.
            Some(step) => {
                let mut database = Database::new(self, driver, options, events);
                let migration = Migration {
                    step,
                    script: self.project.script(step.revision),
                    statements: Vec::new(),
                    before: rows.clone(),
                    after,
                    from: 0,
                    was_running: None,
                    journaled: true,
                    code: None,
                };
                database.transaction(None, &mut |sink| sink.record(&migration))?;
            }
            None => {
                driver.begin().map_err(db("starting a transaction"))?;
                if let Err(e) = self.tables.journal_clear(driver, held) {
                    let _ = driver.rollback();
                    return Err(db("clearing the journal")(e));
                }
                driver.commit().map_err(db("committing the repair"))?;
            }
        }
        Ok(outcome)
    }

    /// The journal's step, when a file defines its revision and the version
    /// table agrees it is half way (not applied for an upgrade, applied for
    /// a downgrade).
    fn known_step(&self, halfway: &Halfway<'_>, rows: &[usize]) -> Result<Step, MigrateError> {
        let revision = &halfway.rows[0].revision;
        let Some(step) = halfway.step else {
            return Err(MigrateError::UnknownRevisions {
                ids: vec![revision.clone()],
            });
        };
        let applied = plan::applied_set(self.project.graph(), rows)[step.revision];
        if applied != (step.direction == Direction::Down) {
            return Err(MigrateError::JournalDisagrees {
                revision: revision.clone(),
                direction: step.direction,
                applied,
            });
        }
        Ok(step)
    }
}

/// How many statements completed: the unbroken run of `done` rows from the
/// first statement on (rows come ordered by statement).
fn leading_done(rows: &[&JournalRow]) -> usize {
    rows.iter()
        .enumerate()
        .take_while(|(i, r)| r.statement == *i && r.state == JournalState::Done)
        .count()
}
