//! The journal: which statements of a migration that commits in several
//! parts (see [`super::segments`]) have completed.
//!
//! A row per statement: `running` is written (and committed) before a
//! statement that runs outside a transaction, `done` once it completed;
//! statements of a transactional segment are written `done` in that
//! segment's own transaction. The migration's last commit removes its rows
//! together with the version change, so rows left behind mean a run
//! stopped half way: the next run refuses to go on until `retort resume`
//! finishes the migration or `retort repair` records what was done by hand.
//!
//! Projects sharing a database through different version tables share the
//! table; each row names its version table, and each project sees its own.

use super::plan::Direction;
use super::store::{Mode, Tables};
use crate::db::{DbError, Driver, NO_LOAD_BALANCE, Value};

/// One journal row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRow {
    /// The revision being applied or reverted.
    pub revision: String,
    /// Its upgrade or its downgrade.
    pub direction: Direction,
    /// 0-based index of the statement in its section.
    pub statement: usize,
    /// Its line in the revision file.
    pub line: usize,
    /// The tagged checksum of the statement's text.
    pub hash: String,
    /// Whether the statement completed.
    pub state: JournalState,
    /// The server session that ran a `running` statement (PostgreSQL's
    /// backend pid, MySQL's connection id): after the client dies, the
    /// server may still be running the statement in it.
    pub session: Option<String>,
}

/// Where a journaled statement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalState {
    /// A statement outside a transaction was started; whether it completed
    /// is unknown if the run stopped.
    Running,
    /// The statement completed.
    Done,
}

impl JournalState {
    /// As stored: `running` or `done`.
    pub fn name(self) -> &'static str {
        match self {
            JournalState::Running => "running",
            JournalState::Done => "done",
        }
    }
}

impl Tables {
    pub(crate) fn journal_name(&self) -> String {
        self.qualified(&self.journal)
    }

    pub(crate) fn create_journal(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (version_table VARCHAR(255) NOT NULL, revision VARCHAR(255) NOT NULL, direction VARCHAR(16) NOT NULL, statement BIGINT NOT NULL, line BIGINT NOT NULL, hash VARCHAR(100) NOT NULL, state VARCHAR(16) NOT NULL, session VARCHAR(40), recorded_at VARCHAR(40) NOT NULL, PRIMARY KEY (version_table, revision, statement))",
            self.journal_name()
        )
    }

    /// Writes `rows`, each replacing its statement's earlier row, in one
    /// transaction (a savepoint inside one): a run killed in between must
    /// neither lose a row nor keep half of them.
    pub(crate) fn journal_write(
        &self,
        driver: &mut dyn Driver,
        rows: &[JournalRow],
        at: &str,
    ) -> Result<(), DbError> {
        driver.begin()?;
        let written = rows
            .iter()
            .try_for_each(|row| self.replace_journal_row(driver, row, at));
        match written {
            Ok(()) => driver.commit(),
            Err(e) => {
                driver.rollback()?;
                Err(e)
            }
        }
    }

    fn replace_journal_row(
        &self,
        driver: &mut dyn Driver,
        row: &JournalRow,
        at: &str,
    ) -> Result<(), DbError> {
        let (sql, params) = self.journal_forget_statement(&row.revision, row.statement);
        driver.execute(&sql, &params)?;
        let params = vec![
            Value::Text(self.version.clone()),
            Value::Text(row.revision.clone()),
            Value::Text(row.direction.section_name().to_owned()),
            Value::Int(i64::try_from(row.statement).unwrap_or(i64::MAX)),
            Value::Int(i64::try_from(row.line).unwrap_or(i64::MAX)),
            Value::Text(row.hash.clone()),
            Value::Text(row.state.name().to_owned()),
            row.session.clone().map_or(Value::Null, Value::Text),
            Value::Text(at.to_owned()),
        ];
        let args: Vec<String> = (1..=params.len())
            .map(|n| self.arg(Mode::Bind, n, &params[n - 1]))
            .collect();
        let sql = format!(
            "INSERT INTO {} (version_table, revision, direction, statement, line, hash, state, session, recorded_at) VALUES ({})",
            self.journal_name(),
            args.join(", ")
        );
        driver.execute(&sql, &params)?;
        Ok(())
    }

    fn journal_forget_statement(&self, revision: &str, statement: usize) -> (String, Vec<Value>) {
        let params = vec![
            Value::Text(self.version.clone()),
            Value::Text(revision.to_owned()),
            Value::Int(i64::try_from(statement).unwrap_or(i64::MAX)),
        ];
        let sql = format!(
            "DELETE FROM {} WHERE version_table = {} AND revision = {} AND statement = {}",
            self.journal_name(),
            self.arg(Mode::Bind, 1, &params[0]),
            self.arg(Mode::Bind, 2, &params[1]),
            self.arg(Mode::Bind, 3, &params[2])
        );
        (sql, params)
    }

    /// Removes one statement's row (a statement that failed, so is known
    /// not to have completed).
    pub(crate) fn journal_forget(
        &self,
        driver: &mut dyn Driver,
        revision: &str,
        statement: usize,
    ) -> Result<(), DbError> {
        let (sql, params) = self.journal_forget_statement(revision, statement);
        driver.execute(&sql, &params).map(drop)
    }

    /// Removes a migration's rows (it completed, or was repaired).
    pub(crate) fn journal_clear(
        &self,
        driver: &mut dyn Driver,
        revision: &str,
    ) -> Result<(), DbError> {
        let (sql, params) = self.journal_clear_statement(Mode::Bind, revision);
        driver.execute(&sql, &params).map(drop)
    }

    /// The statement [`Tables::journal_clear`] runs.
    pub(crate) fn journal_clear_statement(
        &self,
        mode: Mode,
        revision: &str,
    ) -> (String, Vec<Value>) {
        let params = vec![
            Value::Text(self.version.clone()),
            Value::Text(revision.to_owned()),
        ];
        let sql = format!(
            "DELETE FROM {} WHERE version_table = {} AND revision = {}",
            self.journal_name(),
            self.arg(mode, 1, &params[0]),
            self.arg(mode, 2, &params[1])
        );
        (sql, params)
    }

    /// The version rows, and whether the journal holds a migration of
    /// this version table, in one query; `None` when it fails, as it does
    /// where a state table is missing (the caller then reads them one by
    /// one, which tells why).
    pub(crate) fn read_versions_and_pending(
        &self,
        driver: &mut dyn Driver,
    ) -> Option<(Vec<String>, bool)> {
        // A NULL row stands for the journal's.
        let rows = driver
            .query_text(&format!(
                "{NO_LOAD_BALANCE}SELECT version_num FROM {} UNION ALL \
                 SELECT NULL FROM (SELECT 1 AS one FROM {} WHERE version_table = {} LIMIT 1) AS pending",
                self.version_name(),
                self.journal_name(),
                self.arg(Mode::Literal, 1, &Value::Text(self.version.clone()))
            ))
            .ok()?;
        let mut pending = false;
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            match row.into_iter().next().flatten() {
                Some(id) => ids.push(id),
                None => pending = true,
            }
        }
        ids.sort_unstable();
        Some((ids, pending))
    }

    /// Every journal row, by revision and statement; an absent table has
    /// none.
    pub(crate) fn read_journal(&self, driver: &mut dyn Driver) -> Result<Vec<JournalRow>, DbError> {
        if !self.present(driver, &self.journal)? {
            return Ok(Vec::new());
        }
        let params = [Value::Text(self.version.clone())];
        let rows = driver.query(
            &format!(
                "{NO_LOAD_BALANCE}SELECT revision, direction, statement, line, hash, state, session FROM {} WHERE version_table = {} ORDER BY revision, statement",
                self.journal_name(),
                self.arg(Mode::Bind, 1, &params[0])
            ),
            &params,
        )?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let text = |i: usize| r.get(i).and_then(Value::as_text).unwrap_or("").to_owned();
                let number = |i: usize| {
                    r.get(i)
                        .and_then(Value::as_int)
                        .and_then(|n| usize::try_from(n).ok())
                        .unwrap_or(0)
                };
                JournalRow {
                    revision: text(0),
                    // Rows written by this retort: anything else reads as
                    // the cautious value (a downgrade; not completed).
                    direction: Direction::from_section_name(&text(1)).unwrap_or(Direction::Down),
                    statement: number(2),
                    line: number(3),
                    hash: text(4),
                    state: if text(5) == JournalState::Done.name() {
                        JournalState::Done
                    } else {
                        JournalState::Running
                    },
                    session: r.get(6).and_then(Value::as_text).map(str::to_owned),
                }
            })
            .collect())
    }
}
