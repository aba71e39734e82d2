//! The state tables: the version table (Alembic's `alembic_version`, one row
//! per applied head) and the applied table (one row per applied revision
//! with its checksum).
//!
//! The same statements serve online runs (with bind parameters) and offline
//! scripts (with literals), so both write the tables identically.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::Dialect;
use crate::db::{
    AUDIT_TABLE, DbError, Driver, NO_LOAD_BALANCE, Value, placeholder, quote_ident, quote_literal,
};

/// Names and dialect of the state tables.
#[derive(Debug)]
pub(crate) struct Tables {
    pub(crate) dialect: Dialect,
    pub(crate) schema: Option<String>,
    pub(crate) version: String,
    pub(crate) applied: String,
    pub(crate) journal: String,
    /// The tables known to exist, a bit each in [`Tables::create`]'s
    /// order: set by [`Tables::ensure`] and by [`Tables::present`] finding
    /// one, so that neither asks the catalog or creates a table twice.
    pub(crate) known: AtomicU8,
    /// Whether the database was asked which tables exist: the tables not
    /// in [`Tables::known`] then do not.
    pub(crate) probed: std::sync::atomic::AtomicBool,
}

/// Every bit of [`Tables::known`].
const ALL_KNOWN: u8 = 0b111;

/// What checking applied files needs of an applied row.
#[derive(Debug)]
pub(crate) struct AppliedChecksum {
    pub(crate) revision: String,
    pub(crate) checksum: String,
    pub(crate) applied_at: String,
}

/// One row of the applied table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRow {
    /// The revision id.
    pub revision: String,
    /// The tagged checksum of the file when it was applied.
    pub checksum: String,
    /// When (UTC, RFC 3339).
    pub applied_at: String,
    /// How long its SQL ran.
    pub duration_ms: i64,
    /// The retort version that applied it.
    pub retort_version: String,
    /// `upgrade` or `stamp`.
    pub operation: String,
}

impl AppliedRow {
    /// The row recorded for `script` now, by this retort.
    pub(crate) fn new(
        script: &crate::script::Script,
        dialect: Dialect,
        applied_at: String,
        duration: std::time::Duration,
        operation: &str,
    ) -> AppliedRow {
        AppliedRow {
            revision: script.revision.clone(),
            checksum: script.checksum_for(dialect).to_owned(),
            applied_at,
            duration_ms: i64::try_from(duration.as_millis()).unwrap_or(i64::MAX),
            retort_version: env!("CARGO_PKG_VERSION").to_owned(),
            operation: operation.to_owned(),
        }
    }
}

/// Either bind parameters or inline literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Bind,
    Literal,
}

impl Tables {
    pub(super) fn qualified(&self, table: &str) -> String {
        let table = quote_ident(self.dialect, table);
        match &self.schema {
            Some(schema) => format!("{}.{table}", quote_ident(self.dialect, schema)),
            None => table,
        }
    }

    pub(crate) fn version_name(&self) -> String {
        self.qualified(&self.version)
    }

    pub(crate) fn applied_name(&self) -> String {
        self.qualified(&self.applied)
    }

    /// `CREATE TABLE IF NOT EXISTS` for the state tables. The version
    /// table's shape is Alembic's, so either tool can read the other's.
    pub(crate) fn create(&self) -> [String; 3] {
        let pk = quote_ident(self.dialect, &format!("{}_pkc", self.version));
        [
            format!(
                "CREATE TABLE IF NOT EXISTS {} (version_num VARCHAR(32) NOT NULL, CONSTRAINT {pk} PRIMARY KEY (version_num))",
                self.version_name()
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (revision VARCHAR(255) NOT NULL PRIMARY KEY, checksum VARCHAR(100) NOT NULL, applied_at VARCHAR(40) NOT NULL, duration_ms BIGINT NOT NULL, retort_version VARCHAR(40) NOT NULL, operation VARCHAR(16) NOT NULL)",
                self.applied_name()
            ),
            self.create_journal(),
        ]
    }

    pub(super) fn arg(&self, mode: Mode, n: usize, value: &Value) -> String {
        match (mode, value) {
            (Mode::Bind, _) => placeholder(self.dialect, n),
            (Mode::Literal, Value::Text(t)) => quote_literal(self.dialect, t),
            (Mode::Literal, Value::Int(i)) => i.to_string(),
            (Mode::Literal, Value::Null) => "NULL".to_owned(),
        }
    }

    pub(crate) fn insert_version(&self, mode: Mode, id: &str) -> (String, Vec<Value>) {
        let params = vec![Value::Text(id.to_owned())];
        let sql = format!(
            "INSERT INTO {} (version_num) VALUES ({})",
            self.version_name(),
            self.arg(mode, 1, &params[0])
        );
        (sql, params)
    }

    pub(crate) fn delete_version(&self, mode: Mode, id: &str) -> (String, Vec<Value>) {
        let params = vec![Value::Text(id.to_owned())];
        let sql = format!(
            "DELETE FROM {} WHERE version_num = {}",
            self.version_name(),
            self.arg(mode, 1, &params[0])
        );
        (sql, params)
    }

    pub(crate) fn update_version(&self, mode: Mode, from: &str, to: &str) -> (String, Vec<Value>) {
        let params = vec![Value::Text(to.to_owned()), Value::Text(from.to_owned())];
        let sql = format!(
            "UPDATE {} SET version_num = {} WHERE version_num = {}",
            self.version_name(),
            self.arg(mode, 1, &params[0]),
            self.arg(mode, 2, &params[1])
        );
        (sql, params)
    }

    pub(crate) fn delete_all_versions(&self) -> String {
        format!("DELETE FROM {}", self.version_name())
    }

    pub(crate) fn record_applied(&self, mode: Mode, row: &AppliedRow) -> [(String, Vec<Value>); 2] {
        let delete = self.forget_applied(mode, &row.revision);
        let params = vec![
            Value::Text(row.revision.clone()),
            Value::Text(row.checksum.clone()),
            Value::Text(row.applied_at.clone()),
            Value::Int(row.duration_ms),
            Value::Text(row.retort_version.clone()),
            Value::Text(row.operation.clone()),
        ];
        let args: Vec<String> = params
            .iter()
            .enumerate()
            .map(|(i, v)| self.arg(mode, i + 1, v))
            .collect();
        let insert = format!(
            "INSERT INTO {} (revision, checksum, applied_at, duration_ms, retort_version, operation) VALUES ({})",
            self.applied_name(),
            args.join(", ")
        );
        [delete, (insert, params)]
    }

    pub(crate) fn forget_applied(&self, mode: Mode, id: &str) -> (String, Vec<Value>) {
        let params = vec![Value::Text(id.to_owned())];
        let sql = format!(
            "DELETE FROM {} WHERE revision = {}",
            self.applied_name(),
            self.arg(mode, 1, &params[0])
        );
        (sql, params)
    }

    /// The audit table: what was accepted by hand (`rehash --accept`),
    /// when, and the checksums before and after. Created when first
    /// needed, not with the other state tables.
    pub(crate) fn create_audit(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (version_table VARCHAR(255) NOT NULL, revision VARCHAR(255) NOT NULL, action VARCHAR(16) NOT NULL, old_checksum VARCHAR(100), new_checksum VARCHAR(100), at VARCHAR(40) NOT NULL, retort_version VARCHAR(40) NOT NULL)",
            self.qualified(AUDIT_TABLE)
        )
    }

    /// An audit row: `revision`'s checksum went from `old` to `new` by
    /// `action`.
    pub(crate) fn audit(
        &self,
        revision: &str,
        action: &str,
        old: &str,
        new: &str,
        at: &str,
    ) -> (String, Vec<Value>) {
        let params = vec![
            Value::Text(self.version.clone()),
            Value::Text(revision.to_owned()),
            Value::Text(action.to_owned()),
            Value::Text(old.to_owned()),
            Value::Text(new.to_owned()),
            Value::Text(at.to_owned()),
            Value::Text(env!("CARGO_PKG_VERSION").to_owned()),
        ];
        let args: Vec<String> = (1..=params.len())
            .map(|n| self.arg(Mode::Bind, n, &params[n - 1]))
            .collect();
        let sql = format!(
            "INSERT INTO {} (version_table, revision, action, old_checksum, new_checksum, at, retort_version) VALUES ({})",
            self.qualified(AUDIT_TABLE),
            args.join(", ")
        );
        (sql, params)
    }

    /// Forgets the checksums of `ids` in one statement, with literals.
    pub(crate) fn forget_applied_literals(&self, ids: &[&str]) -> String {
        let list: Vec<String> = ids
            .iter()
            .map(|id| quote_literal(self.dialect, id))
            .collect();
        format!(
            "DELETE FROM {} WHERE revision IN ({})",
            self.applied_name(),
            list.join(", ")
        )
    }

    pub(crate) fn update_checksum(&self, id: &str, checksum: &str) -> (String, Vec<Value>) {
        let params = vec![Value::Text(checksum.to_owned()), Value::Text(id.to_owned())];
        let sql = format!(
            "UPDATE {} SET checksum = {} WHERE revision = {}",
            self.applied_name(),
            placeholder(self.dialect, 1),
            placeholder(self.dialect, 2)
        );
        (sql, params)
    }

    /// Creates the state tables where they are missing.
    /// Returns the tables it was not known to have before (as
    /// [`Tables::known`] bits), for [`Tables::forget`] when the
    /// transaction they were created in rolls back.
    pub(crate) fn ensure(&self, driver: &mut dyn Driver) -> Result<u8, DbError> {
        let known = self.known.load(Ordering::Relaxed);
        for (i, ddl) in self.create().into_iter().enumerate() {
            if known & (1 << i) == 0 {
                driver.run(&ddl)?;
            }
        }
        self.known.store(ALL_KNOWN, Ordering::Relaxed);
        Ok(ALL_KNOWN & !known)
    }

    /// Forgets that the tables of `created` (from [`Tables::ensure`])
    /// exist: the transaction that created them rolled back.
    pub(crate) fn forget(&self, created: u8) {
        self.known.fetch_and(!created, Ordering::Relaxed);
    }

    /// Forgets everything known of the state tables, to find out again:
    /// another run may have created them since they were last looked at.
    pub(crate) fn forget_all(&self) {
        self.known.store(0, Ordering::Relaxed);
        self.probed.store(false, Ordering::Relaxed);
    }

    /// Whether state table `table` exists (read-only commands do not
    /// create them).
    pub(super) fn present(&self, driver: &mut dyn Driver, table: &str) -> Result<bool, DbError> {
        let bit = [&self.version, &self.applied, &self.journal]
            .iter()
            .position(|t| *t == table)
            .map_or(0, |i| 1 << i);
        if self.known.load(Ordering::Relaxed) & bit != 0 {
            return Ok(true);
        }
        if self.probed.load(Ordering::Relaxed) {
            return Ok(false);
        }
        // All three at once: a run reads them all, one question each
        // would cost a round trip each.
        let tables = [
            self.version.as_str(),
            self.applied.as_str(),
            self.journal.as_str(),
        ];
        let exist = driver.tables_exist(self.schema.as_deref(), &tables)?;
        let found = exist
            .iter()
            .enumerate()
            .filter(|(_, e)| **e)
            .fold(0, |bits, (i, _)| bits | 1 << i);
        self.known.fetch_or(found, Ordering::Relaxed);
        self.probed.store(true, Ordering::Relaxed);
        Ok(found & bit != 0)
    }

    /// The version rows; an absent table means none.
    pub(crate) fn read_versions(&self, driver: &mut dyn Driver) -> Result<Vec<String>, DbError> {
        if !self.present(driver, &self.version)? {
            return Ok(Vec::new());
        }
        let rows = driver.query_text(&format!(
            "{NO_LOAD_BALANCE}SELECT version_num FROM {} ORDER BY version_num",
            self.version_name()
        ))?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect())
    }

    /// Each applied revision with its checksum, all a run needs to find
    /// edited files; an absent table means none.
    pub(crate) fn read_checksums(
        &self,
        driver: &mut dyn Driver,
    ) -> Result<Vec<AppliedChecksum>, DbError> {
        // Unordered: sorting every row would cost a no-op run more than
        // sorting the few changed ones.
        if !self.present(driver, &self.applied)? {
            return Ok(Vec::new());
        }
        let rows = driver.query_text(&format!(
            "{NO_LOAD_BALANCE}SELECT revision, checksum, applied_at FROM {}",
            self.applied_name()
        ))?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut text = r.into_iter().map(Option::unwrap_or_default);
                let mut next = || text.next().unwrap_or_default();
                AppliedChecksum {
                    revision: next(),
                    checksum: next(),
                    applied_at: next(),
                }
            })
            .collect())
    }

    /// `columns` of the applied table, followed by `order` (an `ORDER BY`
    /// clause, or nothing); an absent table has no rows.
    fn select_applied(
        &self,
        driver: &mut dyn Driver,
        columns: &str,
        order: &str,
    ) -> Result<Vec<Vec<Value>>, DbError> {
        if !self.present(driver, &self.applied)? {
            return Ok(Vec::new());
        }
        driver.query(
            &format!(
                "{NO_LOAD_BALANCE}SELECT {columns} FROM {} {order}",
                self.applied_name()
            ),
            &[],
        )
    }

    /// The applied rows; an absent table means none.
    pub(crate) fn read_applied(&self, driver: &mut dyn Driver) -> Result<Vec<AppliedRow>, DbError> {
        let rows = self.select_applied(
            driver,
            "revision, checksum, applied_at, duration_ms, retort_version, operation",
            "ORDER BY applied_at, revision",
        )?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let text = |i: usize| r.get(i).and_then(Value::as_text).unwrap_or("").to_owned();
                AppliedRow {
                    revision: text(0),
                    checksum: text(1),
                    applied_at: text(2),
                    duration_ms: r.get(3).and_then(Value::as_int).unwrap_or(0),
                    retort_version: text(4),
                    operation: text(5),
                }
            })
            .collect())
    }
}
