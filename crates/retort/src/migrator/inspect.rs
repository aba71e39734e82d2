//! Read-only views of the database's state, and rehash.

use std::path::PathBuf;

use super::plan::{self, Direction};
use super::state::VersionState;
use super::store::AppliedRow;
use super::{Engine, ForeignHistory, MigrateError, db};
use crate::Diagnostic as _;
use crate::db::Driver;
use crate::graph::Resolved;
use crate::script::checksum;

/// The database's current revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// The version table's rows.
    pub heads: Vec<String>,
    /// The effective current revisions (Alembic's `current`): the rows plus
    /// revisions they depend on that nothing applied revises.
    pub current: Vec<String>,
    /// What is wrong with the version table, which every command that
    /// changes the database refuses (rows no file defines, overlapping
    /// rows, a dropped table).
    pub problem: Option<StateProblem>,
    /// Where there is no version table: another migration tool's history
    /// table, which `upgrade` and `downgrade` refuse (see
    /// [`MigrateError::ForeignHistory`]) and `stamp` adopts.
    pub foreign_history: Option<ForeignHistory>,
}

/// A problem with the version table, as `current` and `status` report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateProblem {
    /// A stable snake_case name (the error's kind).
    pub kind: &'static str,
    /// What is wrong.
    pub message: String,
    /// What to type next.
    pub hint: Option<String>,
}

/// Where the database stands against the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The database's current revisions.
    pub current: Current,
    /// The heads of the revision files.
    pub heads: Vec<String>,
    /// Revisions `upgrade heads` would apply, in order.
    pub pending: Vec<String>,
    /// A migration a run left half way, which must be resumed or repaired
    /// before anything else runs.
    pub interrupted: Option<super::Interruption>,
    /// The lease of a run that holds it now (or died less than the lease's
    /// time to live ago): its journal rows are its migration in progress,
    /// not an interrupted one.
    pub running: Option<crate::db::lease::LeaseRow>,
    /// Applied revisions whose files changed since (revision, file), which
    /// stop `upgrade` until restored or accepted (`rehash --accept`).
    pub changed: Vec<(String, PathBuf)>,
}

impl Status {
    /// Whether anything stops `upgrade`: a problem with the version table,
    /// a half-applied migration, an applied file that changed.
    pub fn needs_attention(&self) -> bool {
        self.current.problem.is_some() || self.interrupted.is_some() || !self.changed.is_empty()
    }
}

/// What `verify` found about one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The revision id.
    pub revision: String,
    /// Its file, when there is one.
    pub path: Option<PathBuf>,
    /// What is wrong.
    pub kind: FindingKind,
}

/// Kinds of `verify` findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// The file changed since it was applied.
    Changed,
    /// The revision is applied but its file is gone.
    Missing,
    /// The stored checksum uses an algorithm this retort does not know (a
    /// newer retort wrote it); reported, not a failure.
    UnknownAlgorithm,
    /// Applied per the version table, but no checksum was recorded (a
    /// database migrated by another tool); not a failure.
    Unrecorded,
}

impl FindingKind {
    /// A stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Changed => "changed",
            FindingKind::Missing => "missing",
            FindingKind::UnknownAlgorithm => "unknown_algorithm",
            FindingKind::Unrecorded => "unrecorded",
        }
    }

    /// Whether this finding fails `verify`.
    pub fn is_problem(self) -> bool {
        matches!(self, FindingKind::Changed | FindingKind::Missing)
    }
}

/// What `rehash` did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RehashReport {
    /// Checksums rewritten with the current algorithm (the file was proven
    /// equal to the applied one under the stored algorithm).
    pub updated: Vec<String>,
    /// Checksums recorded for applied revisions that had none.
    pub recorded: Vec<String>,
    /// Files whose SQL really changed; their checksums were left alone
    /// unless accepted.
    pub changed: Vec<(String, PathBuf)>,
    /// Changed files accepted as they are now (`--accept`): their new
    /// checksums are recorded, the old ones kept in the audit table.
    pub accepted: Vec<String>,
}

impl Engine<'_> {
    /// The current revisions, and what is wrong with the version table.
    pub(crate) fn current(&self, driver: &mut dyn Driver) -> Result<Current, MigrateError> {
        let state = self.read_state(driver)?;
        Ok(self.current_of(&state))
    }

    fn current_of(&self, state: &VersionState) -> Current {
        let graph = self.project.graph();
        let applied = plan::applied_set(graph, &state.rows);
        // Alembic's `current`: what no applied revision revises, so a
        // dependency that is a head of its own line shows too.
        let effective = plan::tops(graph, &applied, false);
        let mut heads = self.ids(&state.rows);
        heads.extend(state.unknown.iter().cloned());
        heads.sort();
        Current {
            heads,
            current: self.ids(&effective),
            problem: state.problem(self).map(|e| StateProblem {
                kind: e.kind(),
                message: e.to_string(),
                hint: e.hint(),
            }),
            foreign_history: state.foreign.clone(),
        }
    }

    /// Current revisions, file heads and pending revisions (from the rows
    /// a file defines, whatever else the table holds).
    pub(crate) fn status(&self, driver: &mut dyn Driver) -> Result<Status, MigrateError> {
        let state = self.read_state(driver)?;
        let rows = &state.rows;
        let graph = self.project.graph();
        let heads = Resolved {
            revisions: graph.heads().to_vec(),
            branch: None,
            walked_from: None,
        };
        let pending = plan::upgrade(graph, rows, &heads, "heads")?
            .into_iter()
            .filter(|s| s.direction == Direction::Up)
            .map(|s| graph.node(s.revision).id().to_owned())
            .collect();
        let running = self
            .lease(driver)?
            .filter(crate::db::lease::LeaseRow::alive);
        let interrupted = match running {
            Some(_) => None,
            None => self.interruption(driver)?,
        };
        Ok(Status {
            current: self.current_of(&state),
            heads: graph.head_ids().iter().map(|s| (*s).to_owned()).collect(),
            pending,
            interrupted,
            running,
            changed: self.changed(driver, rows)?,
        })
    }

    /// Compares applied revisions with their files.
    pub(crate) fn verify(&self, driver: &mut dyn Driver) -> Result<Vec<Finding>, MigrateError> {
        let graph = self.project.graph();
        let rows = self
            .tables
            .read_versions(driver)
            .map_err(db("reading the version table"))?;
        let known: Vec<usize> = rows.iter().filter_map(|id| graph.index_of(id)).collect();
        let applied_set = plan::applied_set(graph, &known);
        let recorded = self
            .tables
            .read_applied(driver)
            .map_err(db("reading the applied table"))?;
        let mut findings: Vec<Finding> = rows
            .iter()
            .filter(|id| graph.index_of(id).is_none())
            .map(|id| Finding {
                revision: id.clone(),
                path: None,
                kind: FindingKind::Missing,
            })
            .collect();
        for row in &recorded {
            let Some(index) = self.own_applied(&applied_set, &row.revision) else {
                continue;
            };
            let script = self.project.script(index);
            let kind = match script.matches(&row.checksum, self.tables.dialect)? {
                Some(true) => continue,
                Some(false) => FindingKind::Changed,
                None => FindingKind::UnknownAlgorithm,
            };
            findings.push(Finding {
                revision: row.revision.clone(),
                path: Some(script.path.clone()),
                kind,
            });
        }
        for i in (0..graph.len()).filter(|&i| applied_set[i]) {
            let id = graph.node(i).id();
            if !recorded.iter().any(|r| r.revision == id) {
                findings.push(Finding {
                    revision: id.to_owned(),
                    path: Some(self.project.script(i).path.clone()),
                    kind: FindingKind::Unrecorded,
                });
            }
        }
        Ok(findings)
    }

    /// Rewrites stored checksums to the current algorithm where the file is
    /// provably the one applied, and records missing ones. The revisions in
    /// `accept` (ids or unique prefixes of applied revisions) have their
    /// files recorded as they are now, changed or not, with an audit row.
    pub(crate) fn rehash(
        &self,
        driver: &mut dyn Driver,
        accept: &[String],
    ) -> Result<RehashReport, MigrateError> {
        driver
            .lock(std::time::Duration::from_secs(300), &mut |_| {})
            .map_err(db("taking the run lock"))?;
        let result = self.rehash_locked(driver, accept);
        let released = driver.unlock().map_err(db("releasing the run lock"));
        let report = result?;
        released?;
        Ok(report)
    }

    fn rehash_locked(
        &self,
        driver: &mut dyn Driver,
        accept: &[String],
    ) -> Result<RehashReport, MigrateError> {
        let graph = self.project.graph();
        let rows = self.rows(driver)?;
        let applied_set = plan::applied_set(graph, &rows);
        let mut accepting = Vec::with_capacity(accept.len());
        for target in accept {
            let index = graph.lookup(target).map_err(plan::PlanError::from)?;
            if !applied_set[index] {
                return Err(MigrateError::NotApplied {
                    revision: graph.node(index).id().to_owned(),
                });
            }
            accepting.push(index);
        }
        self.ensure_tables(driver)?;
        if !accepting.is_empty() {
            driver
                .run(&self.tables.create_audit())
                .map_err(db("creating the audit table"))?;
        }
        let recorded = self
            .tables
            .read_applied(driver)
            .map_err(db("reading the applied table"))?;
        let mut report = RehashReport::default();
        driver.begin().map_err(db("starting a transaction"))?;
        let result = (|| -> Result<(), MigrateError> {
            for row in &recorded {
                let Some(index) = self.own_applied(&applied_set, &row.revision) else {
                    continue;
                };
                let script = self.project.script(index);
                match script.matches(&row.checksum, self.tables.dialect)? {
                    Some(true)
                        if checksum::algorithm_of(&row.checksum) == Some(checksum::CURRENT) => {}
                    Some(true) => {
                        let (sql, params) = self.tables.update_checksum(
                            &row.revision,
                            script.checksum_for(self.tables.dialect),
                        );
                        driver
                            .execute(&sql, &params)
                            .map_err(db("updating a checksum"))?;
                        report.updated.push(row.revision.clone());
                    }
                    Some(false) if accepting.contains(&index) => {
                        let now = crate::time::UtcTime::now().rfc3339();
                        let (sql, params) = self.tables.audit(
                            &row.revision,
                            "accept",
                            &row.checksum,
                            script.checksum_for(self.tables.dialect),
                            &now,
                        );
                        driver
                            .execute(&sql, &params)
                            .map_err(db("writing the audit table"))?;
                        let (sql, params) = self.tables.update_checksum(
                            &row.revision,
                            script.checksum_for(self.tables.dialect),
                        );
                        driver
                            .execute(&sql, &params)
                            .map_err(db("updating a checksum"))?;
                        report.accepted.push(row.revision.clone());
                    }
                    Some(false) => report
                        .changed
                        .push((row.revision.clone(), script.path.clone())),
                    // A newer retort's checksum: nothing here can prove or refute it.
                    None => {}
                }
            }
            for i in (0..graph.len()).filter(|&i| applied_set[i]) {
                let script = self.project.script(i);
                if recorded.iter().any(|r| r.revision == script.revision) {
                    continue;
                }
                let row = AppliedRow::new(
                    script,
                    self.tables.dialect,
                    crate::time::UtcTime::now().rfc3339(),
                    std::time::Duration::ZERO,
                    "rehash",
                );
                for (sql, params) in self.tables.record_applied(super::store::Mode::Bind, &row) {
                    driver
                        .execute(&sql, &params)
                        .map_err(db("recording a checksum"))?;
                }
                report.recorded.push(script.revision.clone());
            }
            Ok(())
        })();
        match result {
            Ok(()) => driver.commit().map_err(db("committing"))?,
            Err(e) => {
                driver.rollback().map_err(db("rolling back"))?;
                return Err(e);
            }
        }
        Ok(report)
    }
}

/// The applied rows as recorded (for `current --verbose` and tests).
impl Engine<'_> {
    /// Every row of the applied table.
    pub(crate) fn applied_rows(
        &self,
        driver: &mut dyn Driver,
    ) -> Result<Vec<AppliedRow>, MigrateError> {
        self.tables
            .read_applied(driver)
            .map_err(db("reading the applied table"))
    }
}
