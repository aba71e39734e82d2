//! MySQL's and MariaDB's words for the lease lock (see
//! `crate::db::lease`), and how a Galera node is recognised.

use crate::db::lease::LeaseSql;
use crate::db::{DbError, Driver};

pub(crate) const LEASE: LeaseSql = LeaseSql {
    timestamp: "DATETIME(6)",
    // UTC whatever the session's time zone.
    now: "UTC_TIMESTAMP(6)",
    later: |seconds| format!("UTC_TIMESTAMP(6) + INTERVAL {seconds} SECOND"),
    insert_free: |table, key| format!("INSERT IGNORE INTO {table} (name) VALUES ({key})"),
    text: |column| format!("DATE_FORMAT({column}, '%Y-%m-%dT%H:%i:%sZ')"),
    millis_until: |column| {
        format!("TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), {column}) DIV 1000")
    },
};

/// With `@@wsrep_on` set (a Galera node), its `wsrep_OSU_method`; `None`
/// elsewhere (MySQL has neither variable).
pub(crate) fn galera(driver: &mut dyn Driver) -> Result<Option<String>, DbError> {
    let rows = driver
        .query_text("SHOW VARIABLES WHERE Variable_name IN ('wsrep_on', 'wsrep_OSU_method')")?;
    let value = |name: &str| {
        rows.iter()
            .find(|row| {
                row.first()
                    .and_then(Option::as_deref)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .and_then(|row| row.get(1).cloned().flatten())
    };
    let on = value("wsrep_on").is_some_and(|v| v.eq_ignore_ascii_case("ON"));
    Ok(on.then(|| value("wsrep_OSU_method").unwrap_or_else(|| "TOI".to_owned())))
}
