use std::fmt;
use std::str::FromStr;

/// The SQL dialects retort speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    Mysql,
}

impl Dialect {
    /// Every dialect, in documentation order.
    pub const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

    /// The name used in configuration and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
        }
    }
}

/// What a SQL script in the dialect is written with (offline mode).
impl Dialect {
    /// The statement that opens a transaction in a script.
    pub fn begin_statement(self) -> &'static str {
        match self {
            Dialect::Mysql => "START TRANSACTION;",
            Dialect::Sqlite | Dialect::Postgres => "BEGIN;",
        }
    }

    /// Whether DDL commits the transaction it runs in (MySQL, MariaDB).
    pub fn commits_ddl_implicitly(self) -> bool {
        self == Dialect::Mysql
    }

    /// The statement that makes a session's statements give up after
    /// waiting `timeout` for a lock, where the dialect has one to write
    /// at the top of a script.
    pub fn lock_timeout_statement(self, timeout: std::time::Duration) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!("SET lock_timeout = '{}ms'", timeout.as_millis())),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    /// One statement as the dialect's shell reads it, with its terminator.
    /// The `mysql` client splits at every `;`, so a MySQL statement with
    /// one inside (a procedure, function or trigger body) is wrapped in
    /// `DELIMITER` lines.
    pub fn for_client(self, text: &str) -> String {
        if self != Dialect::Mysql || !text.contains(';') {
            return format!("{text};\n");
        }
        let delimiter = ["//", "$$", ";;", "@@"]
            .into_iter()
            .find(|d| !text.contains(d))
            .unwrap_or("//");
        format!("DELIMITER {delimiter}\n{text} {delimiter}\nDELIMITER ;\n")
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sqlite" => Ok(Dialect::Sqlite),
            "postgres" | "postgresql" => Ok(Dialect::Postgres),
            "mysql" | "mariadb" => Ok(Dialect::Mysql),
            other => Err(format!(
                "unknown dialect `{other}`; expected one of `sqlite`, `postgres`, `mysql`"
            )),
        }
    }
}
