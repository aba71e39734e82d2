//! What a database server is, beyond the dialect it speaks: a PostgreSQL
//! hot standby, CockroachDB, YugabyteDB or Citus on PostgreSQL's wire,
//! Galera or Vitess on MySQL's. Each driver finds out once, when it
//! connects (`db/<dialect>/detect.rs`); a URL's `server` parameter or
//! `database.server` in retort.toml can say instead. What retort does
//! differently on such a server asks these facts, never the dialect.

use std::fmt;

use crate::Dialect;

/// What kind of server speaks the dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerKind {
    /// The dialect's own server: PostgreSQL, MySQL or MariaDB outside a
    /// cluster, SQLite.
    Plain,
    /// MariaDB or MySQL (Percona XtraDB Cluster) with Galera replication
    /// on (`wsrep_on`).
    Galera,
    /// Vitess's query router (vtgate; PlanetScale), on MySQL's wire.
    Vitess,
    /// CockroachDB, on PostgreSQL's wire.
    CockroachDb,
    /// YugabyteDB, on PostgreSQL's wire.
    YugabyteDb,
    /// PostgreSQL with the Citus extension installed in the database.
    Citus,
}

impl ServerKind {
    /// Every kind, in documentation order.
    pub const ALL: [ServerKind; 6] = [
        ServerKind::Plain,
        ServerKind::Galera,
        ServerKind::Vitess,
        ServerKind::CockroachDb,
        ServerKind::YugabyteDb,
        ServerKind::Citus,
    ];

    /// The name a URL's `server` parameter, `database.server` and JSON
    /// use: `plain`, `galera`, `vitess`, `cockroachdb`, `yugabytedb`,
    /// `citus`.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Plain => "plain",
            ServerKind::Galera => "galera",
            ServerKind::Vitess => "vitess",
            ServerKind::CockroachDb => "cockroachdb",
            ServerKind::YugabyteDb => "yugabytedb",
            ServerKind::Citus => "citus",
        }
    }

    /// The kind [`ServerKind::name`] spells.
    pub fn from_name(name: &str) -> Option<ServerKind> {
        ServerKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The dialect whose wire the kind speaks; `None` for
    /// [`ServerKind::Plain`], which every dialect has.
    pub fn dialect(self) -> Option<Dialect> {
        match self {
            ServerKind::Plain => None,
            ServerKind::Galera | ServerKind::Vitess => Some(Dialect::Mysql),
            ServerKind::CockroachDb | ServerKind::YugabyteDb | ServerKind::Citus => {
                Some(Dialect::Postgres)
            }
        }
    }

    /// Whether a server of `dialect` can be of this kind.
    pub fn fits(self, dialect: Dialect) -> bool {
        self.dialect().is_none_or(|d| d == dialect)
    }

    /// The kinds a server of `dialect` can be, for messages.
    pub fn names_for(dialect: Dialect) -> Vec<&'static str> {
        ServerKind::ALL
            .into_iter()
            .filter(|kind| kind.fits(dialect))
            .map(ServerKind::name)
            .collect()
    }

    /// How the kind is written in prose (`CockroachDB`).
    fn title(self) -> &'static str {
        match self {
            ServerKind::Plain => "plain",
            ServerKind::Galera => "Galera",
            ServerKind::Vitess => "Vitess",
            ServerKind::CockroachDb => "CockroachDB",
            ServerKind::YugabyteDb => "YugabyteDB",
            ServerKind::Citus => "Citus",
        }
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who decided a server's [`ServerKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindSource {
    /// retort asked the server when it connected.
    Detected,
    /// The URL's `server` parameter.
    Url,
    /// `database.server` in retort.toml.
    Config,
}

impl KindSource {
    /// `detected`, `url` or `config` (JSON's `set_by`).
    pub fn name(self) -> &'static str {
        match self {
            KindSource::Detected => "detected",
            KindSource::Url => "url",
            KindSource::Config => "config",
        }
    }
}

/// Galera's settings, where it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Galera {
    /// How this session's DDL replicates (`wsrep_OSU_method`): `TOI`
    /// runs it on every node at the same point, `RSU` on this node only.
    pub osu_method: String,
    /// The node's name (`wsrep_node_name`), for messages.
    pub node: Option<String>,
}

/// What retort knows of the server a connection is open on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFacts {
    /// The dialect spoken.
    pub dialect: Dialect,
    /// What the server is taken for: what detection found, unless
    /// [`ServerFacts::set_by`] says a setting chose it.
    pub kind: ServerKind,
    /// What detection found.
    pub detected: ServerKind,
    /// Who chose [`ServerFacts::kind`].
    pub set_by: KindSource,
    /// The server's product: `PostgreSQL`, `MariaDB`, `MySQL`,
    /// `CockroachDB`, `YugabyteDB`, `Vitess`, `SQLite`.
    pub product: String,
    /// The product's release as it reports it (`15.20`, `10.11.19`,
    /// `v25.1.0`); empty when it said none.
    pub version: String,
    /// A PostgreSQL hot standby (`pg_is_in_recovery()`): it accepts no
    /// writes, and retort refuses to migrate it.
    pub standby: bool,
    /// The Citus extension's version, where it is installed.
    pub citus: Option<String>,
    /// Galera's settings, where `wsrep_on` is on.
    pub galera: Option<Galera>,
    /// YugabyteDB runs DDL inside the transaction it is in
    /// (`yb_ddl_transaction_block_enabled`); by default each DDL
    /// statement is a transaction of its own.
    pub yugabyte_transactional_ddl: bool,
}

impl ServerFacts {
    /// The dialect's own server, with nothing more known about it.
    pub fn plain(dialect: Dialect, product: &str, version: &str) -> ServerFacts {
        ServerFacts {
            dialect,
            kind: ServerKind::Plain,
            detected: ServerKind::Plain,
            set_by: KindSource::Detected,
            product: product.to_owned(),
            version: version.to_owned(),
            standby: false,
            citus: None,
            galera: None,
            yugabyte_transactional_ddl: false,
        }
    }

    /// The facts with `kind` chosen by a setting instead of detection;
    /// an error (for the setting's message) when the dialect cannot be
    /// of that kind.
    pub fn with_kind(mut self, kind: ServerKind, set_by: KindSource) -> Result<Self, String> {
        if !kind.fits(self.dialect) {
            return Err(mismatch(kind, self.dialect));
        }
        self.kind = kind;
        self.set_by = set_by;
        Ok(self)
    }

    /// Whether named or advisory locks fail to exclude a second runner
    /// on this server, so the run lock must be a row in a table (a lease):
    /// Galera (`GET_LOCK` holds on one node only), CockroachDB (advisory
    /// locks are missing, or stubs that always succeed) and Vitess (named
    /// locks are not known to reach one server).
    pub fn needs_lease_lock(&self) -> bool {
        matches!(
            self.kind,
            ServerKind::Galera | ServerKind::CockroachDb | ServerKind::Vitess
        )
    }

    /// Whether a DDL statement commits the transaction it runs in, so a
    /// migration with DDL commits in parts and goes through the journal:
    /// every MySQL and MariaDB server, CockroachDB (from 25.1 it commits
    /// before each DDL, and before that ran schema changes after the
    /// transaction), and YugabyteDB without transactional DDL.
    pub fn ddl_commits_implicitly(&self) -> bool {
        match self.kind {
            ServerKind::CockroachDb => true,
            ServerKind::YugabyteDb => !self.yugabyte_transactional_ddl,
            _ => self.dialect == Dialect::Mysql,
        }
    }

    /// One line for people: `PostgreSQL 15.20, hot standby (read only)`,
    /// `MariaDB 10.11.19 with Galera (wsrep_OSU_method TOI)`, and what
    /// set the kind when detection did not.
    pub fn summary(&self) -> String {
        let mut text = self.product.clone();
        if !self.version.is_empty() {
            text.push(' ');
            text.push_str(&self.version);
        }
        if let Some(citus) = &self.citus {
            text.push_str(&format!(" with Citus {citus}"));
        }
        if let Some(galera) = &self.galera {
            text.push_str(&format!(
                " with Galera (wsrep_OSU_method {})",
                galera.osu_method
            ));
        }
        if self.detected == ServerKind::Vitess {
            text.push_str(" (Vitess)");
        }
        if self.detected == ServerKind::YugabyteDb {
            text.push_str(if self.yugabyte_transactional_ddl {
                " (transactional DDL on)"
            } else {
                " (each DDL statement commits on its own)"
            });
        }
        if self.standby {
            text.push_str(", hot standby (read only)");
        }
        match self.set_by {
            KindSource::Detected => {}
            source => text.push_str(&format!(
                "; taken for {} by {} (detected: {})",
                if self.kind == ServerKind::Plain {
                    format!("plain {}", self.dialect_title())
                } else {
                    self.kind.title().to_owned()
                },
                match source {
                    KindSource::Url => "the URL's `server` parameter",
                    _ => "`database.server` in retort.toml",
                },
                self.detected.name()
            )),
        }
        text
    }

    fn dialect_title(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
            Dialect::Mysql => "MySQL/MariaDB",
        }
    }
}

/// Why a server of `dialect` cannot be `kind`, naming the kinds it can be.
pub(crate) fn mismatch(kind: ServerKind, dialect: Dialect) -> String {
    let what = match kind.dialect() {
        Some(Dialect::Mysql) => "a MySQL/MariaDB server",
        Some(Dialect::Postgres) => "a PostgreSQL-compatible server",
        _ => "a server",
    };
    let names = ServerKind::names_for(dialect)
        .into_iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>();
    let dialect = match dialect {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
        Dialect::Mysql => "MySQL/MariaDB",
    };
    format!(
        "`{kind}` is {what}, and this is a {dialect} database: it takes {}",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_fit_their_dialects() {
        for kind in ServerKind::ALL {
            assert_eq!(ServerKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ServerKind::from_name("Galera"), None);
        assert_eq!(
            ServerKind::names_for(Dialect::Postgres),
            ["plain", "cockroachdb", "yugabytedb", "citus"]
        );
        assert_eq!(
            ServerKind::names_for(Dialect::Mysql),
            ["plain", "galera", "vitess"]
        );
        assert_eq!(ServerKind::names_for(Dialect::Sqlite), ["plain"]);
    }

    #[test]
    fn predicates_follow_the_kind_in_force() {
        let pg = ServerFacts::plain(Dialect::Postgres, "PostgreSQL", "15.20");
        assert!(!pg.needs_lease_lock());
        assert!(!pg.ddl_commits_implicitly());
        let crdb = pg
            .clone()
            .with_kind(ServerKind::CockroachDb, KindSource::Url)
            .unwrap();
        assert!(crdb.needs_lease_lock());
        assert!(crdb.ddl_commits_implicitly());
        let yb = pg
            .clone()
            .with_kind(ServerKind::YugabyteDb, KindSource::Config)
            .unwrap();
        assert!(!yb.needs_lease_lock());
        assert!(yb.ddl_commits_implicitly());
        let yb_txn = ServerFacts {
            yugabyte_transactional_ddl: true,
            ..yb
        };
        assert!(!yb_txn.ddl_commits_implicitly());

        let maria = ServerFacts::plain(Dialect::Mysql, "MariaDB", "10.11.19");
        assert!(!maria.needs_lease_lock());
        assert!(maria.ddl_commits_implicitly());
        for kind in [ServerKind::Galera, ServerKind::Vitess] {
            let set = maria.clone().with_kind(kind, KindSource::Url).unwrap();
            assert!(set.needs_lease_lock());
        }
        let lite = ServerFacts::plain(Dialect::Sqlite, "SQLite", "3.49.1");
        assert!(!lite.needs_lease_lock());
        assert!(!lite.ddl_commits_implicitly());
    }

    #[test]
    fn a_kind_of_another_dialect_is_refused_with_the_ones_that_fit() {
        let pg = ServerFacts::plain(Dialect::Postgres, "PostgreSQL", "15.20");
        assert_eq!(
            pg.with_kind(ServerKind::Galera, KindSource::Url)
                .unwrap_err(),
            "`galera` is a MySQL/MariaDB server, and this is a PostgreSQL database: it takes `plain`, `cockroachdb`, `yugabytedb`, `citus`"
        );
        let lite = ServerFacts::plain(Dialect::Sqlite, "SQLite", "3.49.1");
        assert!(
            lite.with_kind(ServerKind::Citus, KindSource::Config)
                .unwrap_err()
                .ends_with("this is a SQLite database: it takes `plain`")
        );
    }

    #[test]
    fn the_summary_says_what_was_found_and_who_chose_otherwise() {
        let mut pg = ServerFacts::plain(Dialect::Postgres, "PostgreSQL", "15.20");
        assert_eq!(pg.summary(), "PostgreSQL 15.20");
        pg.standby = true;
        assert_eq!(pg.summary(), "PostgreSQL 15.20, hot standby (read only)");
        let mut maria = ServerFacts::plain(Dialect::Mysql, "MariaDB", "10.11.19");
        maria.galera = Some(Galera {
            osu_method: "TOI".into(),
            node: None,
        });
        maria.detected = ServerKind::Galera;
        maria.kind = ServerKind::Galera;
        assert_eq!(
            maria.summary(),
            "MariaDB 10.11.19 with Galera (wsrep_OSU_method TOI)"
        );
        let plain = maria
            .with_kind(ServerKind::Plain, KindSource::Config)
            .unwrap();
        assert_eq!(
            plain.summary(),
            "MariaDB 10.11.19 with Galera (wsrep_OSU_method TOI); taken for plain MySQL/MariaDB by `database.server` in retort.toml (detected: galera)"
        );
    }
}
