//! Offline mode (`--sql`): the script a DBA could run instead of retort,
//! written by the same walk that runs a plan online (a [`Sink`] that
//! writes instead of running), so the two cannot disagree.
//!
//! The plan is the one an online run would make, starting from the base or
//! from the lower end of an `A:B` range, since no database is read. The
//! version and applied tables are written with literals, with the same
//! statements the online run binds.

use std::ops::Range;

use super::plan::{self, Direction, PlanError};
use super::prepare::{Migration, Prepared, Stamp};
use super::store::{AppliedRow, Mode};
use super::walk::{self, Sink};
use super::{Engine, MigrateError, Request};
use crate::db::Value;
use crate::graph::GraphError;
use crate::time::UtcTime;

impl Engine<'_> {
    /// Renders `request` (`upgrade`, `downgrade` or `stamp`) as a SQL
    /// script. Targets may be `A:B` ranges: the script then starts where a
    /// database at A is (`A1,A2:B` for one at several revisions, on
    /// branches); without a range it starts at the base, and a downgrade
    /// needs one. With `atomic`, the whole script is one transaction.
    pub(crate) fn offline(&self, request: &Request, atomic: bool) -> Result<String, MigrateError> {
        let graph = self.project.graph();
        let (command, written) = match request {
            Request::Upgrade { target } => ("upgrade", target.clone()),
            Request::Downgrade { target } => ("downgrade", target.clone()),
            Request::Stamp { targets, .. } => ("stamp", targets.join(" ")),
            Request::Resume { .. } | Request::Repair { .. } => {
                let command = if matches!(request, Request::Resume { .. }) {
                    "resume"
                } else {
                    "repair"
                };
                return Err(offline_refusal(
                    command,
                    format!(
                        "`{command}` settles what a run left in the database's journal, which a script cannot read; run it against the database"
                    ),
                ));
            }
        };
        // Where the script starts: the lower end of `A:B`, else the base.
        let (start, target) = match written.split_once(':') {
            Some((a, b)) => (a, b.to_owned()),
            None if command == "downgrade" => {
                return Err(offline_refusal(
                    &written,
                    "a downgrade needs a range `FROM:TO` (e.g. `head:base`), since the script does not read where the database is".to_owned(),
                ));
            }
            None => ("", written.clone()),
        };
        // `a,b:` starts where a database at both `a` and `b` is (branches).
        let mut start_revisions = Vec::new();
        for part in start.split(',').filter(|p| !p.is_empty()) {
            if part == "current" {
                return Err(offline_refusal(
                    &written,
                    "`current` names the database's revisions, which the script does not read; write them out (`REV:TARGET`, or `REV1,REV2:TARGET` on branches)".to_owned(),
                ));
            }
            let resolved = graph.resolve(part, None).map_err(offline_graph_error)?;
            start_revisions.extend(resolved.revisions);
        }
        let rows = plan::rows_of(graph, &graph.ancestors(&start_revisions, true));
        let current = self.ids(&rows);
        let prepared = match request {
            Request::Stamp { purge, .. } => {
                let mut resolved = Vec::new();
                for target in target.split_whitespace() {
                    resolved.push(
                        graph
                            .resolve(target, Some(&current))
                            .map_err(offline_graph_error)?,
                    );
                }
                let after = plan::stamp(graph, &rows, &resolved, *purge)?;
                self.prepare_stamp(&rows, after, *purge)
            }
            _ => {
                let resolved = graph
                    .resolve(&target, Some(&current))
                    .map_err(offline_graph_error)?;
                let steps = if command == "upgrade" {
                    plan::upgrade(graph, &rows, &resolved, &target)
                } else {
                    plan::downgrade(graph, &rows, &resolved, &target)
                }
                .map_err(|e| match e {
                    // There is no database: the range's start is what the
                    // target is below (or not).
                    PlanError::UpgradeBackwards { .. } | PlanError::DowngradeForwards { .. } => {
                        PlanError::RangeWrongWay {
                            range: written.clone(),
                            start: start.to_owned(),
                            target: target.clone(),
                            direction: if command == "upgrade" {
                                Direction::Up
                            } else {
                                Direction::Down
                            },
                        }
                    }
                    other => other,
                })?;
                // Refused as such, registered or not: no script holds Rust.
                if let Some(script) = steps
                    .iter()
                    .map(|step| self.project.script(step.revision))
                    .find(|script| script.code.is_some())
                {
                    return Err(code_in_script(script));
                }
                self.prepare(&steps, &rows, atomic)?
            }
        };
        let mut script = Script {
            migrator: self,
            out: String::new(),
            heading: format!("{command} {written}"),
            in_plan: false,
            now: UtcTime::now().rfc3339(),
        };
        walk::apply(&prepared, &mut script)?;
        Ok(script.out)
    }
}

/// A request offline mode cannot serve.
fn offline_refusal(target: &str, reason: String) -> MigrateError {
    plan::PlanError::NotOffline {
        target: target.to_owned(),
        reason,
    }
    .into()
}

/// A target offline mode cannot resolve: `current` and relative steps name
/// the database's revisions, which a script does not read.
fn offline_graph_error(error: GraphError) -> MigrateError {
    match error {
        GraphError::NeedsCurrent { target } => offline_refusal(
            &target,
            "it is relative to the database's current revision, which the script does not read; give a range from a revision, e.g. `<rev>:head`".to_owned(),
        ),
        other => plan::PlanError::Graph(other).into(),
    }
}

/// A plan written as a script.
struct Script<'a, 'p> {
    migrator: &'a Engine<'p>,
    out: String,
    /// The command, for the script's first line.
    heading: String,
    /// Inside the plan's own transaction (`--atomic`): no transaction per
    /// migration.
    in_plan: bool,
    now: String,
}

impl Script<'_, '_> {
    fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn statement(&mut self, (sql, _): (String, Vec<Value>)) {
        self.line(&format!("{sql};"));
    }

    fn version_change(&mut self, before: &[usize], after: &[usize]) {
        let tables = &self.migrator.tables;
        let graph = self.migrator.project.graph();
        let id = |i: usize| graph.node(i).id().to_owned();
        let change = plan::row_change(before, after);
        let mut statements = Vec::new();
        for &d in &change.deletes {
            statements.push(tables.delete_version(Mode::Literal, &id(d)));
        }
        for &(from, to) in &change.updates {
            statements.push(tables.update_version(Mode::Literal, &id(from), &id(to)));
        }
        for &i in &change.inserts {
            statements.push(tables.insert_version(Mode::Literal, &id(i)));
        }
        for statement in statements {
            self.statement(statement);
        }
    }

    fn applied(&mut self, revision: usize, operation: &str) {
        let script = self.migrator.project.script(revision);
        let row = AppliedRow::new(
            script,
            self.migrator.tables.dialect,
            self.now.clone(),
            std::time::Duration::ZERO,
            operation,
        );
        for statement in self.migrator.tables.record_applied(Mode::Literal, &row) {
            self.statement(statement);
        }
    }
}

impl Sink for Script<'_, '_> {
    fn start(&mut self, _prepared: &Prepared<'_>) -> Result<(), MigrateError> {
        let dialect = self.migrator.tables.dialect;
        self.out = format!(
            "-- retort offline script ({dialect}): {}\n-- generated {}\n\n",
            self.heading, self.now
        );
        if let Some(setting) = self
            .migrator
            .offline_lock_timeout
            .and_then(|t| dialect.lock_timeout_statement(t))
        {
            // As online: a statement stuck behind a long transaction fails
            // instead of queueing every query on its table behind it.
            self.line(&format!("{setting};"));
        }
        for ddl in self.migrator.tables.create() {
            self.line(&format!("{ddl};"));
        }
        Ok(())
    }

    fn transaction(
        &mut self,
        _migration: Option<&Migration<'_>>,
        body: &mut dyn FnMut(&mut dyn Sink) -> Result<(), MigrateError>,
    ) -> Result<(), MigrateError> {
        if self.in_plan {
            return body(self);
        }
        self.line(self.migrator.tables.dialect.begin_statement());
        body(self)?;
        self.line("COMMIT;");
        Ok(())
    }

    fn begin_plan(&mut self) -> Result<(), MigrateError> {
        self.line(self.migrator.tables.dialect.begin_statement());
        self.in_plan = true;
        Ok(())
    }

    fn end_plan(&mut self, result: Result<(), MigrateError>) -> Result<(), MigrateError> {
        self.in_plan = false;
        result?;
        self.line("\nCOMMIT;");
        Ok(())
    }

    fn started(&mut self, _index: usize, _total: usize, migration: &Migration<'_>) {
        let script = migration.script;
        let parents = if script.revises.is_empty() {
            "<base>".to_owned()
        } else {
            script.revises.join(", ")
        };
        // Alembic's step description: from where to where.
        let (from, to) = match migration.step.direction {
            Direction::Up => (parents.as_str(), script.revision.as_str()),
            Direction::Down => (script.revision.as_str(), parents.as_str()),
        };
        self.line(&format!(
            "\n-- Running {} {from} -> {to}, {}",
            migration.step.direction.section_name(),
            script.message
        ));
    }

    fn finished(&mut self, _migration: &Migration<'_>) {}

    fn run_code(&mut self, migration: &Migration<'_>) -> Result<(), MigrateError> {
        Err(code_in_script(migration.script))
    }

    fn run(
        &mut self,
        migration: &Migration<'_>,
        range: Range<usize>,
        alone: bool,
    ) -> Result<(), MigrateError> {
        if alone {
            let first = &migration.statements[range.start];
            let why = if !migration.script.transactional {
                " (`-- retort:transaction off`)"
            } else if self.migrator.ddl_commits_implicitly && first.changes_schema {
                " (it commits implicitly)"
            } else {
                " (it cannot run inside one)"
            };
            self.line(&format!(
                "-- line {}: runs outside a transaction{why}",
                first.line
            ));
        }
        for statement in &migration.statements[range] {
            self.out
                .push_str(&self.migrator.tables.dialect.for_client(statement.text));
        }
        Ok(())
    }

    fn journal(
        &mut self,
        _migration: &Migration<'_>,
        _done: Range<usize>,
        _running: Option<usize>,
    ) -> Result<(), MigrateError> {
        // A script runs start to end under the DBA's eyes: no journal.
        Ok(())
    }

    fn record(&mut self, migration: &Migration<'_>) -> Result<(), MigrateError> {
        self.version_change(&migration.before, &migration.after);
        match migration.step.direction {
            Direction::Up => self.applied(migration.step.revision, "upgrade"),
            Direction::Down => {
                let forget = self
                    .migrator
                    .tables
                    .forget_applied(Mode::Literal, &migration.script.revision);
                self.statement(forget);
            }
        }
        Ok(())
    }

    fn stamp(&mut self, stamp: &Stamp) -> Result<(), MigrateError> {
        let graph = self.migrator.project.graph();
        let tables = &self.migrator.tables;
        self.line("\n-- Stamping");
        if stamp.purge {
            self.line(&format!("{};", tables.delete_all_versions()));
            // The applied table is not read: every revision of the project
            // not applied afterwards is forgotten.
            if !stamp.unapplied.is_empty() {
                let ids = graph.ids(&stamp.unapplied);
                self.line(&format!("{};", tables.forget_applied_literals(&ids)));
            }
        }
        self.version_change(&stamp.before, &stamp.after);
        if !stamp.purge {
            for &i in &stamp.removed {
                let forget = tables.forget_applied(Mode::Literal, graph.node(i).id());
                self.statement(forget);
            }
        }
        for &i in &stamp.added {
            self.applied(i, "stamp");
        }
        Ok(())
    }
}

/// The refusal of a code revision (`-- retort:code`) in a script.
fn code_in_script(script: &crate::script::Script) -> MigrateError {
    MigrateError::CodeInScript {
        revision: script.revision.clone(),
        path: script.path.clone(),
        name: script
            .code
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
    }
}
