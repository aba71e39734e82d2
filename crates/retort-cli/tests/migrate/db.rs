//! The databases the suite runs against, behind one small type.
//!
//! Every test is written once, as `fn name(db: &TestDb)`, and listed in
//! [`dialect_tests!`], which generates one `#[test]` per dialect
//! (`name::sqlite`, later `name::postgres`, `name::mariadb`). Each test gets a
//! fresh, empty database and inspects it through retort's own [`Driver`], so
//! the suite needs no client library of its own.
//!
//! Adding a dialect (when its driver lands):
//! 1. a variant in [`Kind`] and in [`dialects`];
//! 2. an arm in [`TestDb::create`] that makes a fresh database (through the
//!    library's admin port, `retort::db::admin`, on a server URL such as
//!    `postgres://postgres@127.0.0.1:5432/postgres`, a database named
//!    `retort_t_<pid>_<n>_<nanos>`, dropped in `Drop`), returning
//!    `Err(reason)` when the server or the driver is not available, so the
//!    test is skipped with a message;
//! 3. arms in [`TestDb::tables`] and [`TestDb::schema`] (e.g.
//!    `information_schema.tables` / `information_schema.columns` of the test
//!    database), and in [`TestDb::script_runner`] (`psql -v ON_ERROR_STOP=1`,
//!    `mysql`);
//! 4. one line in `each_dialect!` below.
//!
//! Fixtures use SQL that SQLite, PostgreSQL and MariaDB all accept (plain
//! `CREATE TABLE`, multi-row `INSERT`, `DROP TABLE`). MariaDB commits DDL
//! implicitly, so assertions that a rolled-back migration left no table are
//! guarded by [`TestDb::transactional_ddl`].

use std::path::{Path, PathBuf};
use std::process::Command;

use retort::config::DatabaseUrl;
use retort::db::{Admin, Driver, Value};
use tempfile::TempDir;

/// The dialects the suite knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A fresh SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server (`RETORT_TEST_POSTGRES_URL`,
    /// default `postgres://postgres@127.0.0.1:5432/postgres`).
    Postgres,
    /// A fresh database on the MariaDB (or MySQL) server
    /// (`RETORT_TEST_MARIADB_URL`, default `mysql://root@127.0.0.1:3306/mysql`).
    Mariadb,
}

impl Kind {
    /// The name used in test names and snapshot names.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
            Kind::Mariadb => "mariadb",
        }
    }
}

/// Every dialect, in the order tests are generated for them.
pub(crate) fn dialects() -> &'static [Kind] {
    &[Kind::Sqlite, Kind::Postgres, Kind::Mariadb]
}

/// The server URL tests create their PostgreSQL databases through.
fn postgres_admin_url() -> String {
    std::env::var("RETORT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The server URL tests create their MariaDB databases through.
fn mariadb_admin_url() -> String {
    std::env::var("RETORT_TEST_MARIADB_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".to_owned())
}

/// A database name no other test (or test process) uses.
pub(crate) fn unique_name() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "retort_t_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The admin port of the server (or SQLite directory) `url` names, or
/// why there is none.
fn admin(url: &str) -> Result<Box<dyn Admin>, String> {
    let parsed = DatabaseUrl::parse(url).map_err(|e| e.to_string())?;
    retort::db::admin(&parsed).map_err(|e| format!("no server at {}: {e}", parsed.redacted()))
}

/// One fresh database for one test.
#[derive(Debug)]
pub(crate) struct TestDb {
    kind: Kind,
    url: String,
    /// Where a SQLite file lives (removed with the test).
    dir: TempDir,
    file: Option<PathBuf>,
    /// The server database to drop afterwards: (admin URL, name).
    server: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.server
            && let Ok(mut admin) = admin(admin_url)
        {
            let _ = admin.drop_database(name);
        }
    }
}

impl TestDb {
    /// A fresh, empty database, or why this dialect cannot run here.
    pub(crate) fn create(kind: Kind) -> Result<TestDb, String> {
        let dir = tempfile::Builder::new()
            .prefix("retort-db-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        match kind {
            Kind::Sqlite => {
                let file = dir.path().join("db.sqlite");
                // Four slashes: an absolute path (SQLAlchemy's convention).
                let url = format!("sqlite:///{}", file.display());
                Ok(TestDb {
                    kind,
                    url,
                    dir,
                    file: Some(file),
                    server: None,
                })
            }
            Kind::Postgres | Kind::Mariadb => {
                let admin_url = if kind == Kind::Postgres {
                    postgres_admin_url()
                } else {
                    mariadb_admin_url()
                };
                let mut server = admin(&admin_url)?;
                let name = unique_name();
                server
                    .create_database(&name)
                    .map_err(|e| format!("cannot create a test database: {e}"))?;
                Ok(TestDb {
                    kind,
                    url: server.url_of(&name).expose_secret().to_owned(),
                    dir,
                    file: None,
                    server: Some((admin_url, name)),
                })
            }
        }
    }

    /// Another fresh database of the same dialect (to compare two runs).
    pub(crate) fn sibling(&self) -> TestDb {
        TestDb::create(self.kind).expect("the dialect was available a moment ago")
    }

    /// The dialect.
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// The URL to give `retort --url`.
    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    /// The database file, for dialects that have one.
    pub(crate) fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Whether a rolled-back transaction also undoes `CREATE TABLE`.
    pub(crate) fn transactional_ddl(&self) -> bool {
        match self.kind {
            Kind::Sqlite | Kind::Postgres => true,
            Kind::Mariadb => false,
        }
    }

    /// The admin port of this database's server (for SQLite, of the
    /// files beside its file, removed with it).
    pub(crate) fn admin(&self) -> Box<dyn Admin> {
        let url = match &self.server {
            Some((server, _)) => server,
            None => &self.url,
        };
        admin(url).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A connection through retort's own driver.
    pub(crate) fn connect(&self) -> Box<dyn Driver> {
        let url = DatabaseUrl::parse(&self.url).expect("the test URL parses");
        retort::db::connect(&url).unwrap_or_else(|e| panic!("connecting to {}: {e}", self.url))
    }

    /// Runs a query; every value as text (`NULL` for null).
    pub(crate) fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let rows = self
            .connect()
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("query `{sql}` failed: {e}"));
        rows.into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|v| match v {
                        Value::Null => "NULL".to_owned(),
                        Value::Int(i) => i.to_string(),
                        Value::Text(t) => t,
                    })
                    .collect()
            })
            .collect()
    }

    /// Runs one statement (setting up a state by hand).
    pub(crate) fn exec(&self, sql: &str) {
        self.connect()
            .run(sql)
            .unwrap_or_else(|e| panic!("statement `{sql}` failed: {e}"));
    }

    /// Waits until no other session works in this database: after a client
    /// is killed, its server session may still finish what it was sent
    /// (a commit, a statement) before it notices.
    pub(crate) fn wait_for_other_sessions(&self) {
        let sql = match self.kind {
            Kind::Sqlite => return,
            Kind::Postgres => {
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            }
            Kind::Mariadb => {
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()"
            }
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.rows(sql)[0][0] != "0" {
            assert!(
                std::time::Instant::now() < deadline,
                "other sessions still work in {}",
                self.url
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Every table the user (or retort) created, sorted; no system tables.
    pub(crate) fn tables(&self) -> Vec<String> {
        let sql = match self.kind {
            Kind::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Kind::Postgres => {
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            }
            Kind::Mariadb => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1"
            }
        };
        // Sorted here: servers' collations order `_` differently.
        let mut tables: Vec<String> = self
            .rows(sql)
            .into_iter()
            .map(|mut r| r.remove(0))
            .collect();
        tables.sort();
        tables
    }

    /// The schema as `(object, definition)` pairs, sorted, to compare two
    /// databases built different ways.
    pub(crate) fn schema(&self) -> Vec<(String, String)> {
        let sql = match self.kind {
            Kind::Sqlite => {
                "SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Kind::Postgres => {
                "SELECT name, definition FROM ( \
                   SELECT table_name::text AS name, string_agg(column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, ''), ', ' ORDER BY ordinal_position) AS definition \
                   FROM information_schema.columns WHERE table_schema = 'public' GROUP BY table_name \
                   UNION ALL SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'public' \
                 ) s ORDER BY name, definition"
            }
            Kind::Mariadb => {
                "SELECT name, definition FROM ( \
                   SELECT table_name AS name, GROUP_CONCAT(CONCAT_WS(' ', column_name, column_type, is_nullable, COALESCE(column_default, '')) ORDER BY ordinal_position SEPARATOR ', ') AS definition \
                   FROM information_schema.columns WHERE table_schema = DATABASE() GROUP BY table_name \
                   UNION ALL SELECT CONCAT(table_name, '.', index_name), CONCAT_WS(' ', IF(non_unique = 0, 'UNIQUE', ''), GROUP_CONCAT(column_name ORDER BY seq_in_index)) \
                   FROM information_schema.statistics WHERE table_schema = DATABASE() GROUP BY table_name, index_name, non_unique \
                   UNION ALL SELECT routine_name, routine_definition FROM information_schema.routines WHERE routine_schema = DATABASE() \
                   UNION ALL SELECT trigger_name, action_statement FROM information_schema.triggers WHERE trigger_schema = DATABASE() \
                 ) s ORDER BY name, definition"
            }
        };
        self.rows(sql)
            .into_iter()
            .map(|mut r| {
                let definition = r.remove(1);
                (r.remove(0), definition)
            })
            .collect()
    }

    /// The command-line client that runs a SQL script read from stdin
    /// against this database, stopping at the first error; `Err` says why
    /// there is none.
    pub(crate) fn script_runner(&self) -> Result<Command, String> {
        match self.kind {
            Kind::Sqlite => {
                let shell = Path::new("/usr/bin/sqlite3");
                if !shell.exists() {
                    return Err("the sqlite3 shell is not installed at /usr/bin/sqlite3".into());
                }
                let mut cmd = Command::new(shell);
                cmd.arg("-bail")
                    .arg(self.file.as_ref().expect("a SQLite file"));
                Ok(cmd)
            }
            Kind::Postgres => {
                let psql = Path::new("/usr/bin/psql");
                if !psql.exists() {
                    return Err("psql is not installed at /usr/bin/psql".into());
                }
                let mut cmd = Command::new(psql);
                cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
                    .arg(&self.url);
                Ok(cmd)
            }
            Kind::Mariadb => {
                let client = Path::new("/usr/bin/mariadb");
                if !client.exists() {
                    return Err("the mariadb client is not installed at /usr/bin/mariadb".into());
                }
                let url = DatabaseUrl::parse(&self.url).expect("the test URL parses");
                let mut cmd = Command::new(client);
                cmd.arg(format!("--host={}", url.host().unwrap_or("127.0.0.1")))
                    .arg(format!("--port={}", url.port().unwrap_or(3306)))
                    .arg(format!("--user={}", url.user().unwrap_or("root")))
                    .arg(url.database().unwrap_or_default());
                if let Some(password) = url.password() {
                    cmd.env("MYSQL_PWD", password);
                }
                Ok(cmd)
            }
        }
    }

    /// Replaces the database's URL and location by `[DB]` (for snapshots).
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut text = text.replace(&self.url, "[DB]");
        if let Some((_, name)) = &self.server {
            text = text.replace(name, "[DBNAME]");
        }
        if let Some(file) = &self.file {
            text = text.replace(&file.display().to_string(), "[DB]");
        }
        // The server's release, which the description and `status`'s
        // `server:` line name.
        for flavour in ["MariaDB ", "MySQL ", "PostgreSQL ", "SQLite "] {
            let mut from = 0;
            while let Some(found) = text[from..].find(flavour) {
                let start = from + found + flavour.len();
                from = start;
                if text[start..].starts_with(|c: char| c.is_ascii_digit()) {
                    let end = text[start..]
                        .find(char::is_whitespace)
                        .map_or(text.len(), |n| start + n);
                    text.replace_range(start..end, "[VERSION]");
                }
            }
        }
        if let Ok(canonical) = self.dir.path().canonicalize() {
            text = text.replace(&canonical.display().to_string(), "[DBDIR]");
        }
        text.replace(&self.dir.path().display().to_string(), "[DBDIR]")
    }
}

/// Runs one test body against a fresh database of `kind`, or says why it
/// was skipped (the test then passes) — except where servers are required
/// (`RETORT_TEST_REQUIRE_SERVERS=1`, set by CI), where a missing server fails.
#[allow(clippy::print_stderr)]
pub(crate) fn run(test: fn(&TestDb), kind: Kind) {
    assert!(dialects().contains(&kind));
    match TestDb::create(kind) {
        Ok(db) => test(&db),
        Err(why) if servers_required() => {
            panic!(
                "{} is required here (RETORT_TEST_REQUIRE_SERVERS=1): {why}",
                kind.name()
            )
        }
        Err(why) => eprintln!("skipped on {}: {why}", kind.name()),
    }
}

/// Whether a missing server, or a server without what a test needs, fails
/// the test rather than skipping it (`RETORT_TEST_REQUIRE_SERVERS=1`).
pub(crate) fn servers_required() -> bool {
    std::env::var("RETORT_TEST_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

/// Says that (part of) a test was skipped, and why.
#[allow(clippy::print_stderr)]
pub(crate) fn skip(db: &TestDb, why: &str) {
    eprintln!("skipped on {}: {why}", db.kind().name());
}

/// Skips (part of) a test for want of something the machine should have (a
/// database's shell, `setpriv`, Alembic, a server with TLS); where servers
/// are required, CI's machine must have it too, and its absence fails the
/// test.
pub(crate) fn skip_without_tool(db: &TestDb, why: &str) {
    assert!(
        !servers_required(),
        "required here (RETORT_TEST_REQUIRE_SERVERS=1) on {}: {why}",
        db.kind().name()
    );
    skip(db, why);
}

/// One `#[test]` per dialect for a test body; the only list of dialects
/// that generates tests (keep it in step with [`dialects`]).
macro_rules! each_dialect {
    ($test:path $(, $why:literal)?) => {
        $(#[ignore = $why])?
        #[test]
        fn sqlite() {
            $crate::db::run($test, $crate::db::Kind::Sqlite);
        }
        $(#[ignore = $why])?
        #[test]
        fn postgres() {
            $crate::db::run($test, $crate::db::Kind::Postgres);
        }
        $(#[ignore = $why])?
        #[test]
        fn mariadb() {
            $crate::db::run($test, $crate::db::Kind::Mariadb);
        }
    };
}

/// Declares which functions are tests that run once per dialect:
///
/// ```ignore
/// dialect_tests! {
///     name,
///     #[ignore = "bug: ..."]
///     other,
/// }
///
/// /// What it checks.
/// fn name(db: &TestDb) { ... }
/// ```
///
/// generates a module `name` with one `#[test]` per dialect (`name::sqlite`)
/// calling `fn name(db: &TestDb)`. A body left out of the list is dead code,
/// which the build reports.
macro_rules! dialect_tests {
    ($($(#[ignore = $why:literal])? $name:ident),* $(,)?) => {$(
        mod $name {
            $crate::db::each_dialect!(super::$name $(, $why)?);
        }
    )*};
}

pub(crate) use {dialect_tests, each_dialect};
