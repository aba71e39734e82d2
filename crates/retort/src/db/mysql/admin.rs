//! MySQL's and MariaDB's admin ports: databases created and dropped on a
//! connection that chose none, and what the current database holds.

use super::driver::Mysql;
use crate::config::{DEFAULT_VERSION_TABLE, DatabaseUrl};
use crate::db::server::ServerAdmin;
use crate::db::shared::{Catalog, Found, check_database_name, drop_statements};
use crate::db::{DbError, Driver};

impl Catalog for Mysql {
    /// What users made in the current database. Triggers go with their
    /// tables; MariaDB's packages (Oracle mode only) are not listed.
    const QUERY: &'static str = "\
SELECT CASE TABLE_TYPE WHEN 'VIEW' THEN 'view' WHEN 'SEQUENCE' THEN 'sequence' ELSE 'table' END, \
       TABLE_NAME, CONCAT('`', REPLACE(TABLE_NAME, '`', '``'), '`') \
  FROM information_schema.TABLES \
 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'VIEW', 'SEQUENCE') \
UNION ALL \
SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME, CONCAT('`', REPLACE(ROUTINE_NAME, '`', '``'), '`') \
  FROM information_schema.ROUTINES \
 WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE IN ('FUNCTION', 'PROCEDURE') \
UNION ALL \
SELECT 'event', EVENT_NAME, CONCAT('`', REPLACE(EVENT_NAME, '`', '``'), '`') \
  FROM information_schema.EVENTS \
 WHERE EVENT_SCHEMA = DATABASE()";

    fn version_table(&self) -> &str {
        &self.version_table
    }

    fn drop_found(&mut self, found: &[Found]) -> Result<(), DbError> {
        // DDL commits at once here, so there is no transaction to wait in
        // for the checks: they are off while the tables go, then as they
        // were.
        self.run("SET @retort_foreign_key_checks = @@SESSION.foreign_key_checks")?;
        self.run("SET SESSION foreign_key_checks = 0")?;
        let dropped = self.execute_batch(&drop_statements(found, ""));
        let restored = self.run("SET SESSION foreign_key_checks = @retort_foreign_key_checks");
        dropped.and(restored)
    }
}

/// Connects to `url`'s server choosing no database: a user may create
/// databases without being allowed into one, and the URL's may not exist.
pub(crate) fn connect_admin(url: &DatabaseUrl) -> Result<ServerAdmin, DbError> {
    Ok(ServerAdmin {
        conn: Box::new(Mysql::open(&url.with_database(""), DEFAULT_VERSION_TABLE)?),
        url: url.clone(),
        check,
        exists: "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        drop_suffix: "",
    })
}

/// Refuses a name the server would refuse.
fn check(name: &str) -> Result<(), DbError> {
    check_database_name(name, |name| {
        if name.chars().count() > 64 {
            Some("MySQL/MariaDB names are at most 64 characters long")
        } else if name.ends_with(' ') {
            Some("MySQL/MariaDB database names cannot end with a space")
        } else {
            None
        }
    })
}
