//! The one walk that applies a prepared plan, to a database or to an
//! offline script: each is a [`Sink`], and the walk decides, the same way
//! for both, what commits together (see [`super::segments`]), where the
//! version rows change and what the journal records.

use std::ops::Range;

use super::MigrateError;
use super::prepare::{Action, Migration, Prepared, Stamp};
use super::segments::segments;

/// Where a plan is applied.
pub(super) trait Sink {
    /// Before the first action: the state tables, session settings.
    fn start(&mut self, prepared: &Prepared<'_>) -> Result<(), MigrateError>;
    /// Runs `body` in a transaction of its own (a savepoint inside the
    /// plan's, with `--atomic`) and commits it.
    fn transaction(
        &mut self,
        migration: Option<&Migration<'_>>,
        body: &mut dyn FnMut(&mut dyn Sink) -> Result<(), MigrateError>,
    ) -> Result<(), MigrateError>;
    /// Before a migration, or before the plan's own transaction: waits
    /// for the replicas (`--max-replica-lag`).
    fn between_migrations(&mut self) -> Result<(), MigrateError> {
        Ok(())
    }
    /// Opens and closes the plan's own transaction (`--atomic`).
    fn begin_plan(&mut self) -> Result<(), MigrateError>;
    fn end_plan(&mut self, result: Result<(), MigrateError>) -> Result<(), MigrateError>;
    /// A migration starts and ends.
    fn started(&mut self, index: usize, total: usize, migration: &Migration<'_>);
    fn finished(&mut self, migration: &Migration<'_>);
    /// Runs a code revision's registered function, in the transaction
    /// `body` opened.
    fn run_code(&mut self, migration: &Migration<'_>) -> Result<(), MigrateError>;
    /// Runs statements `range` of the migration: in the transaction `body`
    /// opened, or (`alone`) one statement outside any.
    fn run(
        &mut self,
        migration: &Migration<'_>,
        range: Range<usize>,
        alone: bool,
    ) -> Result<(), MigrateError>;
    /// Records in the journal that statements `done` completed and that
    /// statement `running` is about to run outside a transaction.
    fn journal(
        &mut self,
        migration: &Migration<'_>,
        done: Range<usize>,
        running: Option<usize>,
    ) -> Result<(), MigrateError>;
    /// The migration's version-row change and applied row (and, for one
    /// that committed in parts, the end of its journal).
    fn record(&mut self, migration: &Migration<'_>) -> Result<(), MigrateError>;
    /// Writes a stamp.
    fn stamp(&mut self, stamp: &Stamp) -> Result<(), MigrateError>;
}

/// Applies `prepared` to `sink`.
pub(super) fn apply(prepared: &Prepared<'_>, sink: &mut dyn Sink) -> Result<(), MigrateError> {
    sink.start(prepared)?;
    if prepared.atomic {
        // Nothing commits between its migrations to wait for.
        if prepared
            .actions
            .iter()
            .any(|a| matches!(a, Action::Migrate(_)))
        {
            sink.between_migrations()?;
        }
        sink.begin_plan()?;
    }
    let result = apply_actions(prepared, sink);
    if prepared.atomic {
        return sink.end_plan(result);
    }
    result
}

fn apply_actions(prepared: &Prepared<'_>, sink: &mut dyn Sink) -> Result<(), MigrateError> {
    let total = prepared
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Migrate(_)))
        .count();
    let mut index = 0;
    for action in &prepared.actions {
        match action {
            Action::Migrate(migration) => {
                if !prepared.atomic {
                    sink.between_migrations()?;
                }
                sink.started(index, total, migration);
                migrate(migration, sink)?;
                sink.finished(migration);
                index += 1;
            }
            Action::Stamp(stamp) => sink.transaction(None, &mut |sink| sink.stamp(stamp))?,
        }
    }
    Ok(())
}

/// One migration, part by part: a part that runs in a transaction commits
/// its statements with their journal rows (the last, with the version
/// change); a statement outside any is announced `running` first and
/// recorded `done` after. The next part's `running` row goes out with the
/// commit before it, so that each part costs one commit.
fn migrate(migration: &Migration<'_>, sink: &mut dyn Sink) -> Result<(), MigrateError> {
    if migration.code.is_some() {
        return sink.transaction(Some(migration), &mut |sink| {
            sink.run_code(migration)?;
            sink.record(migration)
        });
    }
    if !migration.journaled {
        let all = 0..migration.statements.len();
        return sink.transaction(Some(migration), &mut |sink| {
            sink.run(migration, all.clone(), false)?;
            sink.record(migration)
        });
    }
    let parts = segments(
        &migration.statements,
        migration.script.transactional,
        migration.from,
    );
    let announce = |position: usize| -> Option<usize> {
        let next = parts.get(position + 1)?;
        (!next.transactional).then_some(next.statements.start)
    };
    let mut announced = false;
    for (position, part) in parts.iter().enumerate() {
        let last = position + 1 == parts.len();
        let range = part.statements.clone();
        if part.transactional {
            sink.transaction(Some(migration), &mut |sink| {
                sink.run(migration, range.clone(), false)?;
                if last {
                    sink.record(migration)
                } else {
                    sink.journal(migration, range.clone(), announce(position))
                }
            })?;
            announced = announce(position).is_some();
            continue;
        }
        let index = range.start;
        if !announced {
            sink.journal(migration, index..index, Some(index))?;
        }
        sink.run(migration, range.clone(), true)?;
        if last {
            // Its `done` row would be cleared by the same commit.
            sink.transaction(Some(migration), &mut |sink| sink.record(migration))?;
        } else {
            let next = announce(position);
            sink.journal(migration, range.clone(), next)?;
            announced = next.is_some();
        }
    }
    if parts.is_empty() {
        // Every statement had completed (a resumed run stopped just before
        // its last commit), or the section is empty.
        sink.transaction(Some(migration), &mut |sink| sink.record(migration))?;
    }
    Ok(())
}
