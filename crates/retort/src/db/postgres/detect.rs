//! What speaks PostgreSQL's wire at the other end: PostgreSQL itself (a
//! primary, or a hot standby), CockroachDB, YugabyteDB, or PostgreSQL
//! with Citus. One query when the connection opens; a server that does
//! not understand it (an emulation missing a function) is asked for its
//! `version()` alone.

use postgres::{Client, SimpleQueryMessage};

use crate::Dialect;
use crate::db::{DbError, DbErrorKind, ServerFacts, ServerKind};

/// Everything detection needs, in one round trip. `current_setting(…,
/// true)` is NULL for a setting the server does not have: `crdb_version`
/// exists only on CockroachDB, `yb_ddl_transaction_block_enabled` only on
/// YugabyteDB.
const QUERY: &str = "SELECT version(), current_setting('server_version'), pg_is_in_recovery(), \
     current_setting('crdb_version', true), \
     (SELECT extversion FROM pg_extension WHERE extname = 'citus'), \
     current_setting('yb_ddl_transaction_block_enabled', true)";

/// What the server answered, a column each.
#[derive(Debug, Default, PartialEq, Eq)]
struct Answer {
    version: String,
    server_version: Option<String>,
    in_recovery: Option<String>,
    crdb_version: Option<String>,
    citus: Option<String>,
    yb_transactional_ddl: Option<String>,
}

/// Asks the server what it is.
pub(super) fn detect(client: &mut Client) -> Result<ServerFacts, DbError> {
    let answer = match client.simple_query(QUERY) {
        Ok(messages) => answer(&messages),
        Err(_) => {
            let messages = client.simple_query("SELECT version()").map_err(|e| {
                DbError::new(
                    DbErrorKind::Connect,
                    format!("the server did not say what it is (`SELECT version()`): {e}"),
                )
            })?;
            Answer {
                version: answer(&messages).version,
                ..Answer::default()
            }
        }
    };
    Ok(facts(&answer))
}

fn answer(messages: &[SimpleQueryMessage]) -> Answer {
    let row = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    });
    let column = |i: usize| {
        row.and_then(|r| r.try_get(i).ok().flatten())
            .map(str::to_owned)
    };
    Answer {
        version: column(0).unwrap_or_default(),
        server_version: column(1),
        in_recovery: column(2),
        crdb_version: column(3),
        citus: column(4),
        yb_transactional_ddl: column(5),
    }
}

/// The facts an answer gives.
fn facts(answer: &Answer) -> ServerFacts {
    let on = |value: &Option<String>| {
        value
            .as_deref()
            .is_some_and(|v| matches!(v, "t" | "true" | "on"))
    };
    // `15.20 (Debian 15.20-0+deb12u1)`, or from `PostgreSQL 15.20 on …`.
    let release = answer
        .server_version
        .as_deref()
        .or_else(|| answer.version.strip_prefix("PostgreSQL "))
        .and_then(|v| v.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    let mut facts = ServerFacts::plain(Dialect::Postgres, "PostgreSQL", &release);
    facts.standby = on(&answer.in_recovery);
    // `CockroachDB CCL v25.1.0 (x86_64-pc-linux-gnu, …)`.
    let crdb = answer
        .crdb_version
        .as_deref()
        .or_else(|| Some(answer.version.as_str()).filter(|v| v.starts_with("CockroachDB")));
    if let Some(crdb) = crdb {
        facts.detected = ServerKind::CockroachDb;
        facts.product = "CockroachDB".into();
        facts.version = crdb
            .split_whitespace()
            .find(|word| word.starts_with('v'))
            .unwrap_or_default()
            .to_owned();
    } else if let Some(at) = release.find("-YB-").or_else(|| answer.version.find("-YB-")) {
        // `11.2-YB-2.20.1.0-b0`: PostgreSQL's release, then YugabyteDB's.
        let text = if release.contains("-YB-") {
            release.as_str()
        } else {
            answer.version.as_str()
        };
        facts.detected = ServerKind::YugabyteDb;
        facts.product = "YugabyteDB".into();
        facts.version = text[at + 4..]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        facts.yugabyte_transactional_ddl = on(&answer.yb_transactional_ddl);
    } else if answer.citus.is_some() {
        facts.detected = ServerKind::Citus;
        facts.citus.clone_from(&answer.citus);
    }
    facts.kind = facts.detected;
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    fn identity(facts: &ServerFacts) -> (ServerKind, &str, &str) {
        (facts.kind, &facts.product, &facts.version)
    }

    #[test]
    fn plain_postgresql_and_a_standby() {
        let mut answer = Answer {
            version: "PostgreSQL 15.20 (Debian 15.20-0+deb12u1) on x86_64-pc-linux-gnu".into(),
            server_version: text("15.20 (Debian 15.20-0+deb12u1)"),
            in_recovery: text("f"),
            ..Answer::default()
        };
        let primary = facts(&answer);
        assert_eq!(
            (
                primary.kind,
                primary.product.as_str(),
                primary.version.as_str(),
                primary.standby
            ),
            (ServerKind::Plain, "PostgreSQL", "15.20", false)
        );
        answer.in_recovery = text("t");
        assert!(facts(&answer).standby);
    }

    #[test]
    fn cockroachdb_by_its_setting_or_its_version() {
        let answer = Answer {
            version: "CockroachDB CCL v25.1.0 (x86_64-pc-linux-gnu, built 2025/02/18)".into(),
            server_version: text("13.0.0"),
            in_recovery: text("f"),
            crdb_version: text("CockroachDB CCL v25.1.0 (x86_64-pc-linux-gnu, built 2025/02/18)"),
            ..Answer::default()
        };
        let found = facts(&answer);
        assert_eq!(
            identity(&found),
            (ServerKind::CockroachDb, "CockroachDB", "v25.1.0")
        );
        assert!(found.needs_lease_lock() && found.ddl_commits_implicitly());
        // Only `version()` answered.
        let fallback = facts(&Answer {
            version: answer.version.clone(),
            ..Answer::default()
        });
        assert_eq!(fallback.kind, ServerKind::CockroachDb);
        assert_eq!(fallback.version, "v25.1.0");
    }

    #[test]
    fn yugabytedb_with_and_without_transactional_ddl() {
        let mut answer = Answer {
            version: "PostgreSQL 11.2-YB-2.20.1.0-b0 on x86_64-pc-linux-gnu, compiled by clang"
                .into(),
            server_version: text("11.2-YB-2.20.1.0-b0"),
            in_recovery: text("f"),
            ..Answer::default()
        };
        let found = facts(&answer);
        assert_eq!(
            identity(&found),
            (ServerKind::YugabyteDb, "YugabyteDB", "2.20.1.0-b0")
        );
        assert!(found.ddl_commits_implicitly());
        assert!(!found.needs_lease_lock());
        answer.yb_transactional_ddl = text("on");
        assert!(!facts(&answer).ddl_commits_implicitly());
    }

    #[test]
    fn citus_by_its_extension() {
        let found = facts(&Answer {
            version: "PostgreSQL 16.4 on x86_64-pc-linux-gnu".into(),
            server_version: text("16.4"),
            in_recovery: text("f"),
            citus: text("12.1-1"),
            ..Answer::default()
        });
        assert_eq!(found.kind, ServerKind::Citus);
        assert_eq!(found.summary(), "PostgreSQL 16.4 with Citus 12.1-1");
    }
}
