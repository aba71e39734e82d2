//! MySQL's and MariaDB's words for the lease lock (see
//! `crate::db::lease`).

use crate::db::lease::LeaseSql;

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
