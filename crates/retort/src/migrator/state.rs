//! The version table as read, and what can be wrong with it: rows no file
//! defines, rows that overlap (a revision and one of its ancestors, as a
//! hand edit or another tool can leave), and a table dropped while the
//! applied table still records this project's revisions. Commands that
//! change the database refuse such a table; `current` and `status` show
//! it. Where there is no version table but another migration tool's
//! (Alembic's, Flyway's…), `upgrade` and `downgrade` refuse too: every
//! revision would run again on a schema that already has them.

use super::{Engine, MigrateError, db};
use crate::db::Driver;

/// The tables other migration tools keep their history in, with the tool.
const FOREIGN_TABLES: [(&str, &str); 7] = [
    ("alembic_version", "Alembic"),
    ("_sqlx_migrations", "sqlx"),
    ("refinery_schema_history", "refinery"),
    ("flyway_schema_history", "Flyway"),
    ("schema_migrations", "golang-migrate or dbmate"),
    ("__diesel_schema_migrations", "Diesel"),
    ("seaql_migrations", "SeaORM"),
];

/// Another migration tool's history table, in a database without a
/// version table of retort's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignHistory {
    /// The table (`alembic_version`).
    pub table: String,
    /// The tool that keeps it (`Alembic`).
    pub tool: &'static str,
    /// retort's version table, which the database lacks.
    pub version_table: String,
}

impl ForeignHistory {
    /// The refusal of `upgrade` and `downgrade`, with what adopts the
    /// database.
    pub fn error(&self) -> MigrateError {
        MigrateError::ForeignHistory {
            table: self.table.clone(),
            tool: self.tool,
            version_table: self.version_table.clone(),
        }
    }
}

/// The version rows and their problems.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct VersionState {
    /// The rows a file defines, as graph indices, sorted.
    pub(super) rows: Vec<usize>,
    /// Rows no revision file defines.
    pub(super) unknown: Vec<String>,
    /// Rows below another row: (the row below, the row above it).
    pub(super) overlapping: Vec<(String, String)>,
    /// With no version table: this project's revisions the applied table
    /// still records.
    pub(super) dropped: Vec<String>,
    /// With no version table and nothing of retort's: another tool's
    /// history table.
    pub(super) foreign: Option<ForeignHistory>,
}

impl VersionState {
    /// The error a command that changes the database gives for this
    /// table, if any.
    pub(super) fn problem(&self, migrator: &Engine<'_>) -> Option<MigrateError> {
        if !self.unknown.is_empty() {
            return Some(MigrateError::UnknownRevisions {
                ids: self.unknown.clone(),
            });
        }
        if !self.overlapping.is_empty() {
            let below: Vec<usize> = self
                .overlapping
                .iter()
                .filter_map(|(b, _)| migrator.project.graph().index_of(b))
                .collect();
            let keep = self.rows.iter().copied().filter(|r| !below.contains(r));
            return Some(MigrateError::OverlappingRows {
                pairs: self.overlapping.clone(),
                keep: keep
                    .map(|r| migrator.project.graph().node(r).id().to_owned())
                    .collect(),
            });
        }
        if !self.dropped.is_empty() {
            return Some(MigrateError::VersionTableMissing {
                table: migrator.tables.version.clone(),
                applied: self.dropped.clone(),
            });
        }
        None
    }

    /// The error a command that runs migrations gives: a problem of the
    /// table, or another tool's history where retort has none (`stamp`,
    /// which adopts such a database, checks only [`VersionState::problem`]).
    pub(super) fn refusal(&self, migrator: &Engine<'_>) -> Option<MigrateError> {
        self.problem(migrator)
            .or_else(|| self.foreign.as_ref().map(ForeignHistory::error))
    }
}

impl Engine<'_> {
    /// Reads the version table and finds what is wrong with it.
    pub(super) fn read_state(&self, driver: &mut dyn Driver) -> Result<VersionState, MigrateError> {
        let ids = self
            .tables
            .read_versions(driver)
            .map_err(db("reading the version table"))?;
        self.state_of(driver, ids)
    }

    /// The state of a version table holding the rows `ids`.
    pub(super) fn state_of(
        &self,
        driver: &mut dyn Driver,
        ids: Vec<String>,
    ) -> Result<VersionState, MigrateError> {
        let graph = self.project.graph();
        let mut state = VersionState::default();
        for id in &ids {
            match graph.index_of(id) {
                Some(i) => state.rows.push(i),
                None => state.unknown.push(id.clone()),
            }
        }
        state.rows.sort_unstable();
        if state.rows.len() > 1 {
            for &row in &state.rows {
                let below = graph.ancestors(&[row], true);
                for &other in &state.rows {
                    if other != row && below[other] {
                        state.overlapping.push((
                            graph.node(other).id().to_owned(),
                            graph.node(row).id().to_owned(),
                        ));
                    }
                }
            }
            state.overlapping.sort();
        }
        if ids.is_empty()
            && !self
                .tables
                .present(driver, &self.tables.version)
                .map_err(db("reading the version table"))?
        {
            // Only where there is no version table: a table emptied on
            // purpose (`stamp base`) is a database at base.
            let recorded = self
                .tables
                .read_applied(driver)
                .map_err(db("reading the applied table"))?;
            state.dropped = recorded
                .into_iter()
                .filter(|row| graph.index_of(&row.revision).is_some())
                .map(|row| row.revision)
                .collect();
            if state.dropped.is_empty() {
                state.foreign = self.foreign_history(driver)?;
            }
        }
        Ok(state)
    }

    /// The first of the other tools' history tables the database holds,
    /// in the version table's schema (the configured version table itself,
    /// `alembic_version` say, is retort's own).
    fn foreign_history(
        &self,
        driver: &mut dyn Driver,
    ) -> Result<Option<ForeignHistory>, MigrateError> {
        let candidates: Vec<(&str, &'static str)> = FOREIGN_TABLES
            .into_iter()
            .filter(|(table, _)| *table != self.tables.version)
            .collect();
        let names: Vec<&str> = candidates.iter().map(|(table, _)| *table).collect();
        let exist = driver
            .tables_exist(self.tables.schema.as_deref(), &names)
            .map_err(db("looking for another migration tool's tables"))?;
        Ok(candidates
            .into_iter()
            .zip(exist)
            .find_map(|((table, tool), exists)| {
                exists.then(|| ForeignHistory {
                    table: table.to_owned(),
                    tool,
                    version_table: self.tables.version.clone(),
                })
            }))
    }

    /// The version rows as graph indices, for a command that changes the
    /// database: a table with a problem is refused, and so is a database
    /// another tool migrates.
    pub(super) fn rows(&self, driver: &mut dyn Driver) -> Result<Vec<usize>, MigrateError> {
        let state = self.read_state(driver)?;
        match state.refusal(self) {
            Some(problem) => Err(problem),
            None => Ok(state.rows),
        }
    }
}
