//! PostgreSQL's words for the lease lock (see `crate::db::lease`).

use crate::db::lease::LeaseSql;

pub(crate) const LEASE: LeaseSql = LeaseSql {
    timestamp: "TIMESTAMPTZ",
    // The start of the statement's transaction: each statement of the
    // lease runs in one of its own.
    now: "now()",
    later: |seconds| format!("now() + interval '{seconds} seconds'"),
    insert_free: |table, key| {
        format!("INSERT INTO {table} (name) VALUES ({key}) ON CONFLICT (name) DO NOTHING")
    },
    text: |column| {
        format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
    },
    millis_until: |column| format!("(EXTRACT(EPOCH FROM ({column} - now())) * 1000)::bigint"),
};
