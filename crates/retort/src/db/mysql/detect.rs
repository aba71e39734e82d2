//! What speaks MySQL's wire at the other end: MySQL or MariaDB, a node
//! of a Galera cluster (`wsrep_on`), or Vitess's vtgate (a version
//! ending in `-Vitess`). One query when the connection opens; a server
//! without the wsrep variables (MySQL, vtgate) is asked for its
//! `VERSION()` alone. And, on Galera, how far this node is behind the
//! cluster (`--max-replica-lag`).

use mysql::Conn;
use mysql::prelude::Queryable;

use crate::Dialect;
use crate::db::{Galera, Replica, Replication, ServerFacts, ServerKind};

/// The version and Galera's settings in one round trip; MariaDB always
/// has the variables, MySQL only in Percona XtraDB Cluster.
const QUERY: &str =
    "SELECT VERSION(), @@GLOBAL.wsrep_on, @@SESSION.wsrep_OSU_method, @@GLOBAL.wsrep_node_name";

/// A row of [`QUERY`].
type Row = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The server's `VERSION()` as it wrote it, and what the server is.
pub(super) fn detect(conn: &mut Conn) -> Result<(String, ServerFacts), mysql::Error> {
    let row: Row = match conn.query_first::<Row, _>(QUERY) {
        Ok(row) => row.unwrap_or_default(),
        Err(_) => {
            let version: Option<String> = conn.query_first("SELECT VERSION()")?;
            (version, None, None, None)
        }
    };
    let version = row.0.clone().unwrap_or_default();
    Ok((version, facts(row)))
}

fn facts((version, wsrep_on, osu_method, node): Row) -> ServerFacts {
    let version = version.unwrap_or_default();
    let release = version.split('-').next().unwrap_or_default();
    let product = if version.contains("MariaDB") {
        "MariaDB"
    } else {
        "MySQL"
    };
    let mut facts = ServerFacts::plain(Dialect::Mysql, product, release);
    if version.ends_with("-Vitess") {
        facts.detected = ServerKind::Vitess;
    } else if wsrep_on
        .as_deref()
        .is_some_and(|on| matches!(on, "1" | "ON" | "on"))
    {
        facts.detected = ServerKind::Galera;
        facts.galera = Some(Galera {
            osu_method: osu_method.unwrap_or_default(),
            node,
        });
    }
    facts.kind = facts.detected;
    facts
}

/// How far this node is behind the cluster: the write-sets it received
/// (`wsrep_last_committed` plus `wsrep_local_recv_queue`) against those
/// it applied. Other nodes are not asked: they run retort's DDL at the
/// same point (TOI), and flow control keeps their queues short.
pub(super) fn replication(
    conn: &mut Conn,
    facts: &ServerFacts,
) -> Result<Replication, mysql::Error> {
    match facts.kind {
        ServerKind::Galera => {}
        ServerKind::Vitess => {
            return Ok(Replication::Unknown(
                "retort does not measure the replicas behind Vitess's vtgate",
            ));
        }
        _ => {
            return Ok(Replication::Unknown(
                "a MySQL or MariaDB primary does not report how far its replicas are (`Seconds_Behind_Master` is on each replica)",
            ));
        }
    }
    let rows: Vec<(String, String)> = conn.query(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_last_committed', 'wsrep_local_recv_queue')",
    )?;
    let value = |name: &str| {
        rows.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let applied = value("wsrep_last_committed");
    // Found when the connection opened.
    let node = facts.galera.as_ref().and_then(|g| g.node.clone());
    Ok(Replication::Measured {
        position: applied + value("wsrep_local_recv_queue"),
        unit: "write-sets",
        replicas: vec![Replica {
            name: format!(
                "this Galera node{}",
                node.map(|n| format!(" ({n})")).unwrap_or_default()
            ),
            applied,
            lag: None,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(version: &str, wsrep: Option<&str>, osu: Option<&str>) -> Row {
        (
            Some(version.to_owned()),
            wsrep.map(str::to_owned),
            osu.map(str::to_owned),
            None,
        )
    }

    #[test]
    fn mariadb_mysql_galera_and_vitess() {
        let maria = facts(row("10.11.19-MariaDB-0+deb12u1", Some("0"), Some("TOI")));
        assert_eq!(
            (maria.kind, maria.product.as_str(), maria.version.as_str()),
            (ServerKind::Plain, "MariaDB", "10.11.19")
        );
        assert_eq!(maria.galera, None);
        let mysql = facts(row("8.0.36", None, None));
        assert_eq!(
            (mysql.kind, mysql.product.as_str()),
            (ServerKind::Plain, "MySQL")
        );
        let galera = facts(row("10.11.19-MariaDB-0+deb12u1", Some("1"), Some("RSU")));
        assert_eq!(galera.kind, ServerKind::Galera);
        assert!(galera.needs_lease_lock());
        assert_eq!(
            galera.summary(),
            "MariaDB 10.11.19 with Galera (wsrep_OSU_method RSU)"
        );
        let vitess = facts(row("8.0.30-Vitess", None, None));
        assert_eq!(vitess.kind, ServerKind::Vitess);
        assert_eq!(vitess.summary(), "MySQL 8.0.30 (Vitess)");
    }
}
