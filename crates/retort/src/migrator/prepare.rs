//! A plan made ready to apply, once, for the database and for an offline
//! script alike: each step with its statements (split once) and the
//! version rows before and after it, or the rows a stamp writes. Whatever
//! would stop the plan half way (a revision without a downgrade, a section
//! that does not split, a statement that controls the transaction, a step
//! `--atomic` cannot hold) is found here, before anything runs.

use super::plan::{self, Direction, Step};
use super::{Engine, MigrateError, StepDone, StepKind, segments};
use crate::project::CodeFn;
use crate::script::Script;
use crate::sql;

/// What applying a plan does, in order.
#[derive(Debug)]
pub(super) struct Prepared<'p> {
    /// The actions, in order.
    pub(super) actions: Vec<Action<'p>>,
    /// Everything in one transaction (`--atomic`).
    pub(super) atomic: bool,
    /// The version rows before the first action.
    pub(super) rows_before: Vec<usize>,
}

/// One thing a plan does.
#[derive(Debug)]
pub(super) enum Action<'p> {
    /// Runs a revision's section and records it.
    Migrate(Migration<'p>),
    /// Rewrites the version and applied tables without running SQL.
    Stamp(Stamp),
}

/// A revision to run, with where it starts.
#[derive(Debug)]
pub(super) struct Migration<'p> {
    pub(super) step: Step,
    pub(super) script: &'p Script,
    pub(super) statements: Vec<sql::Statement<'p>>,
    /// The version rows before and after it.
    pub(super) before: Vec<usize>,
    pub(super) after: Vec<usize>,
    /// The first statement to run: 0, or where a resumed run goes on.
    pub(super) from: usize,
    /// A statement a stopped run left `running`, run again now.
    pub(super) was_running: Option<usize>,
    /// Whether it commits in parts, each recorded in the journal: a
    /// migration that needs to, or one a stopped run left there.
    pub(super) journaled: bool,
    /// A code revision's registered function for this direction, which
    /// runs instead of statements (see [`crate::CodeMigration`]).
    pub(super) code: Option<CodeFn>,
}

/// What a stamp writes.
#[derive(Debug)]
pub(super) struct Stamp {
    /// Empty the version table first.
    pub(super) purge: bool,
    /// The version rows before (after a purge: none) and after.
    pub(super) before: Vec<usize>,
    pub(super) after: Vec<usize>,
    /// Revisions no longer applied, and newly applied, in graph order.
    pub(super) removed: Vec<usize>,
    pub(super) added: Vec<usize>,
    /// The project's revisions not applied afterwards: with `purge`, their
    /// checksums are forgotten whatever the table held.
    pub(super) unapplied: Vec<usize>,
}

impl<'p> Engine<'p> {
    /// Prepares `steps` from the version rows `rows`.
    pub(super) fn prepare(
        &self,
        steps: &[Step],
        rows: &[usize],
        atomic: bool,
    ) -> Result<Prepared<'p>, MigrateError> {
        self.check_reviewed(steps)?;
        self.check_reversible(steps)?;
        let graph = self.project.graph();
        let mut before = rows.to_vec();
        let mut actions = Vec::with_capacity(steps.len());
        for &step in steps {
            let script = self.project.script(step.revision);
            let code = self.code_fn(script, step.direction)?;
            let statements = self.statements(script, step.direction)?;
            let after = plan::next_rows(graph, &before, step);
            let migration = Migration {
                step,
                script,
                code,
                journaled: code.is_none()
                    && segments::is_segmented(&statements, script.transactional),
                statements,
                before: std::mem::replace(&mut before, after.clone()),
                after,
                from: 0,
                was_running: None,
            };
            if atomic && migration.journaled {
                return Err(MigrateError::AtomicNotPossible {
                    revision: script.revision.clone(),
                    reason: atomic_obstacle(
                        script,
                        &migration.statements,
                        self.ddl_commits_implicitly,
                    ),
                });
            }
            actions.push(Action::Migrate(migration));
        }
        Ok(Prepared {
            actions,
            atomic,
            rows_before: rows.to_vec(),
        })
    }

    /// Prepares a stamp from `rows` (as read, before any purge) to the
    /// rows `after`.
    pub(super) fn prepare_stamp(
        &self,
        rows: &[usize],
        after: Vec<usize>,
        purge: bool,
    ) -> Prepared<'p> {
        let graph = self.project.graph();
        let before = if purge { Vec::new() } else { rows.to_vec() };
        let applied_before = plan::applied_set(graph, &before);
        let applied_after = plan::applied_set(graph, &after);
        let differ = |a: &[bool], b: &[bool]| -> Vec<usize> {
            (0..graph.len()).filter(|&i| a[i] && !b[i]).collect()
        };
        Prepared {
            actions: vec![Action::Stamp(Stamp {
                purge,
                removed: differ(&applied_before, &applied_after),
                added: differ(&applied_after, &applied_before),
                unapplied: (0..graph.len()).filter(|&i| !applied_after[i]).collect(),
                before,
                after,
            })],
            atomic: false,
            rows_before: rows.to_vec(),
        }
    }

    /// A section's statements, split once; their lines are the file's.
    pub(super) fn statements(
        &self,
        script: &'p Script,
        direction: Direction,
    ) -> Result<Vec<sql::Statement<'p>>, MigrateError> {
        if script.code.is_some() {
            return Ok(Vec::new());
        }
        let dialect = self.tables.dialect;
        let Some(section) = script.body()?.section(direction, dialect) else {
            if direction == Direction::Down {
                return Err(MigrateError::Irreversible {
                    revision: script.revision.clone(),
                    path: script.path.clone(),
                });
            }
            return Err(MigrateError::NotCovered {
                revision: script.revision.clone(),
                path: script.path.clone(),
                direction,
                dialect,
            });
        };
        let mut statements =
            sql::split(&section.sql, self.tables.dialect).map_err(|e| MigrateError::Split {
                revision: script.revision.clone(),
                path: script.path.clone(),
                line: section.line + e.line - 1,
                message: e.message,
            })?;
        for statement in &mut statements {
            statement.line += section.line - 1;
            statement.no_transaction |= self.ddl_commits_implicitly && statement.changes_schema;
        }
        // Also refused with `transaction off`: each statement's journal
        // row is written in a transaction of retort's own.
        if let Some(statement) = statements.iter().find(|s| s.transaction_control) {
            return Err(MigrateError::TransactionControl {
                revision: script.revision.clone(),
                direction,
                path: script.path.clone(),
                line: statement.line,
                excerpt: sql::excerpt(statement.text, 60),
            });
        }
        Ok(statements)
    }

    /// A revision in the plan marked `-- retort:review`, which a person
    /// must read before it runs (up or down).
    fn check_reviewed(&self, steps: &[Step]) -> Result<(), MigrateError> {
        let mut marked = steps.iter().filter_map(|step| {
            let script = self.project.script(step.revision);
            Some((script, script.review.as_ref()?))
        });
        let Some((script, review)) = marked.next() else {
            return Ok(());
        };
        Err(MigrateError::NeedsReview {
            revision: script.revision.clone(),
            path: script.path.clone(),
            line: review.line,
            reason: review.reason.clone(),
            others: marked.map(|(other, _)| other.revision.clone()).collect(),
        })
    }

    /// A downgrade through a revision without a downgrade section.
    pub(super) fn check_reversible(&self, steps: &[Step]) -> Result<(), MigrateError> {
        for step in steps {
            let script = self.project.script(step.revision);
            if script.code.is_some() {
                // Its registered function says (see `code_fn`).
                continue;
            }
            let dialect = self.tables.dialect;
            if step.direction == Direction::Down
                && !script.covers(Direction::Down, dialect)
                && script.reversible
            {
                return Err(MigrateError::NotCovered {
                    revision: script.revision.clone(),
                    path: script.path.clone(),
                    direction: Direction::Down,
                    dialect,
                });
            }
            if step.direction == Direction::Down && !script.covers(Direction::Down, dialect) {
                return Err(MigrateError::Irreversible {
                    revision: script.revision.clone(),
                    path: script.path.clone(),
                });
            }
        }
        Ok(())
    }

    /// The function a code revision runs in `direction`; `None` for a
    /// revision of SQL. Unregistered, or without a downgrade, it is an
    /// error before anything runs.
    pub(super) fn code_fn(
        &self,
        script: &Script,
        direction: Direction,
    ) -> Result<Option<CodeFn>, MigrateError> {
        let Some(code) = &script.code else {
            return Ok(None);
        };
        let Some(registered) = self.project.code_for(script) else {
            return Err(MigrateError::CodeNotRegistered {
                revision: script.revision.clone(),
                path: script.path.clone(),
                line: code.line,
                name: code.name.clone(),
                version: code.version.clone(),
            });
        };
        match direction {
            Direction::Up => Ok(Some(registered.upgrade)),
            Direction::Down => {
                registered
                    .downgrade
                    .map(Some)
                    .ok_or_else(|| MigrateError::CodeIrreversible {
                        revision: script.revision.clone(),
                        path: script.path.clone(),
                        name: code.name.clone(),
                    })
            }
        }
    }

    /// Whether `index` can be downgraded here: a downgrade section for the
    /// dialect, or a registered downgrade function.
    pub(crate) fn can_downgrade(&self, index: usize) -> bool {
        let script = self.project.script(index);
        match &script.code {
            Some(_) => self
                .project
                .code_for(script)
                .is_some_and(|c| c.downgrade.is_some()),
            None => script.covers(Direction::Down, self.tables.dialect),
        }
    }

    /// What a step reports once done (or planned).
    pub(super) fn step_done(
        &self,
        revision: usize,
        direction: impl Into<StepKind>,
        took: std::time::Duration,
    ) -> StepDone {
        let script = self.project.script(revision);
        StepDone {
            revision: script.revision.clone(),
            message: script.message.clone(),
            direction: direction.into(),
            duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The steps a prepared plan reports before it runs (a dry run's).
    pub(super) fn planned(&self, prepared: &Prepared<'_>) -> Vec<StepDone> {
        let mut steps = Vec::new();
        for action in &prepared.actions {
            match action {
                Action::Migrate(m) => steps.push(self.step_done(
                    m.step.revision,
                    m.step.direction,
                    std::time::Duration::ZERO,
                )),
                Action::Stamp(stamp) => {
                    for &i in stamp.removed.iter().rev().chain(&stamp.added) {
                        steps.push(self.step_done(i, StepKind::Stamp, std::time::Duration::ZERO));
                    }
                }
            }
        }
        steps
    }
}

impl Prepared<'_> {
    /// The version rows once every action is applied.
    pub(super) fn rows_after(&self) -> &[usize] {
        match self.actions.last() {
            Some(Action::Migrate(m)) => &m.after,
            Some(Action::Stamp(s)) => &s.after,
            None => &self.rows_before,
        }
    }
}

/// Why a migration cannot run inside `--atomic`.
fn atomic_obstacle(
    script: &Script,
    statements: &[sql::Statement<'_>],
    ddl_commits_implicitly: bool,
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
                if ddl_commits_implicitly && s.changes_schema {
                    "commits implicitly"
                } else {
                    "cannot run inside a transaction"
                }
            )
        })
        .unwrap_or_default()
}
