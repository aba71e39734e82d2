//! A primary's standbys, as `pg_stat_replication` shows them: how far
//! each has replayed the WAL, against where the primary's WAL is now.
//! Logical replication's senders (a slot of type `logical`) and base
//! backups in progress are not replicas to wait for.

use std::time::Duration;

use postgres::{Client, SimpleQueryMessage};

use crate::db::{Replica, Replication};

/// One row per WAL sender (one row of NULLs without any), with the
/// primary's position; positions as byte counts, as text.
const QUERY: &str = "SELECT (pg_current_wal_lsn() - '0/0')::text, r.pid::text, r.state, \
       concat_ws(' at ', NULLIF(r.application_name, ''), host(r.client_addr)), \
       (r.replay_lsn - '0/0')::text, extract(epoch FROM r.replay_lag)::text, \
       EXISTS (SELECT 1 FROM pg_replication_slots s WHERE s.active_pid = r.pid AND s.slot_type = 'logical') \
  FROM (SELECT 1) AS one LEFT JOIN pg_stat_replication r ON true";

/// Where the WAL is and how far each standby replayed it.
pub(super) fn replication(client: &mut Client) -> Result<Replication, postgres::Error> {
    let messages = client.simple_query(QUERY)?;
    let rows: Vec<[Option<&str>; 7]> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => {
                Some(std::array::from_fn(|i| row.try_get(i).ok().flatten()))
            }
            _ => None,
        })
        .collect();
    Ok(measured(&rows))
}

/// The rows [`QUERY`] returns, read.
fn measured(rows: &[[Option<&str>; 7]]) -> Replication {
    let number = |text: Option<&str>| -> Option<u64> {
        // `numeric` as text: whole bytes, no fraction.
        text.and_then(|t| t.split('.').next()?.parse().ok())
    };
    let position = rows.first().and_then(|row| number(row[0])).unwrap_or(0);
    let mut replicas = Vec::new();
    for row in rows {
        let [_, pid, state, name, replay, lag, logical] = *row;
        // `pid` is NULL only in the row of a primary without senders.
        if pid.is_none() || logical == Some("t") || state == Some("backup") {
            continue;
        }
        if state.is_none() {
            return Replication::Unknown(
                "this user may not see how far the standbys are (`pg_stat_replication` shows it to members of `pg_monitor` or `pg_read_all_stats`)",
            );
        }
        replicas.push(Replica {
            name: name
                .filter(|n| !n.is_empty())
                .unwrap_or("a standby")
                .to_owned(),
            // A standby starting up has replayed nothing of what it was sent yet.
            applied: number(replay).unwrap_or(0),
            lag: lag
                .and_then(|l| l.parse::<f64>().ok())
                .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok()),
        });
    }
    Replication::Measured {
        position,
        unit: "bytes of WAL",
        replicas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standbys_with_their_replay_positions() {
        let rows = [
            [
                Some("50332000"),
                Some("41"),
                Some("streaming"),
                Some("walreceiver at 10.0.0.7"),
                Some("50331000"),
                Some("0.25"),
                Some("f"),
            ],
            // A logical subscriber and a base backup are not waited for.
            [
                Some("50332000"),
                Some("42"),
                Some("streaming"),
                Some("sub"),
                Some("1"),
                None,
                Some("t"),
            ],
            [
                Some("50332000"),
                Some("43"),
                Some("backup"),
                Some("pg_basebackup"),
                None,
                None,
                Some("f"),
            ],
        ];
        assert_eq!(
            measured(&rows),
            Replication::Measured {
                position: 50_332_000,
                unit: "bytes of WAL",
                replicas: vec![Replica {
                    name: "walreceiver at 10.0.0.7".into(),
                    applied: 50_331_000,
                    lag: Some(Duration::from_millis(250)),
                }],
            }
        );
    }

    #[test]
    fn no_standby_and_no_privilege() {
        let none = [[Some("100"), None, None, Some(""), None, None, Some("f")]];
        assert_eq!(
            measured(&none),
            Replication::Measured {
                position: 100,
                unit: "bytes of WAL",
                replicas: Vec::new(),
            }
        );
        // Without the privilege the sender's columns but its pid (and
        // the session's name) are NULL.
        let hidden = [[
            Some("100"),
            Some("41"),
            None,
            Some("walreceiver"),
            None,
            None,
            Some("f"),
        ]];
        assert!(matches!(measured(&hidden), Replication::Unknown(_)));
    }
}
