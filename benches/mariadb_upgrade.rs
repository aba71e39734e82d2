//! Applying 1,000 migrations to a new MariaDB (or MySQL) database with the
//! real `retort` binary, as a deploy or a container start runs it, against
//! the floor: the same SQL run by the `mariadb` client, committed as retort
//! commits it (each DDL statement commits implicitly on this server; a
//! migration's INSERTs share one transaction). Also the no-op `retort
//! upgrade` of a database already at head.
//!
//! ```text
//! cargo build --release -p retort-cli
//! cargo bench -p retort-benches --bench mariadb_upgrade
//! ```
//!
//! The benchmark runs `target/release/retort` (built by the first command;
//! `CARGO_TARGET_DIR` is honoured) and `mariadb` from `PATH` (else `mysql`)
//! against the server of `RETORT_BENCH_MARIADB_URL` (default
//! `mysql://root@127.0.0.1:3306/mysql`), as a user that may create
//! databases. Every database it uses is new, `retort_bench_<pid>_<n>`,
//! created and dropped through that URL. Both sides connect over TCP,
//! without TLS unless the URL names an `ssl-mode` (then both use that mode).
//! Without a client or without a server answering there it says that it
//! skipped, and why, and exits 0.
//!
//! Before every timed fresh run it makes InnoDB write out its dirty pages by
//! setting `innodb_max_dirty_pages_pct` to 0 for a few seconds, when the user
//! may; a run killed meanwhile leaves it at 0, which
//! `SET GLOBAL innodb_max_dirty_pages_pct = 90` (the default) undoes.
//!
//! There is no target of MariaDB's own: the verdicts apply PostgreSQL's, for
//! comparison, and say so.
//!
//! Environment: `RETORT_BENCH_QUICK=1` for a smoke run (100 migrations, 2
//! timed rounds); `RETORT_BENCH_REVISIONS=N` to choose the migration count.
//! Exits non-zero when a command fails or leaves a database wrong, never
//! because a figure is slow.
//!
//! The rounds, checks and report are shared with the other database
//! benchmarks (`retort_benches::upgrade`); this file says how to make, run
//! and query MariaDB databases.

// A setting it could not put back is said on stderr, which the workspace
// lints warn about for library code.
#![allow(clippy::print_stderr)]

use std::env;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::thread;
use std::time::{Duration, Instant};

use retort::Dialect;
use retort_benches::upgrade::{
    self, Checks, Hosted, Scratch, Server, Settings, Spec, find_on_path, redact, timed,
    with_database,
};

const URL_VAR: &str = "RETORT_BENCH_MARIADB_URL";
const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/mysql";

/// MariaDB has no targets of its own: PostgreSQL's apply, for comparison.
const SPEC: Spec = Spec {
    name: "mariadb_upgrade",
    shell: "mariadb",
    // DDL commits implicitly on this server, on both sides.
    floor_case: "DDL alone, INSERTs in one transaction",
    targets_of: Some("PostgreSQL"),
    noop_target: upgrade::POSTGRES_NOOP_TARGET,
};

fn main() -> ExitCode {
    retort_benches::exit(SPEC.name, run())
}

/// How long the client may try to reach the server before the benchmark
/// says it skipped; it would otherwise wait as long as TCP does.
const PROBE_TIMEOUT_SECS: &str = "5";

/// The URL parameters retort reads as the TLS mode; without one it tries
/// TLS first.
const SSL_KEYS: [&str; 3] = ["ssl-mode", "sslmode", "ssl_mode"];

/// How long writing out dirty pages before a timed run may take; past it
/// the run goes on, and the report says how often that happened.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

/// Dirty pages left that count as written out: the server's own background
/// work (statistics, purge) keeps dirtying a few.
const SETTLED_PAGES: u64 = 64;

/// Where the client connects, from the URL.
#[derive(Debug)]
struct Address {
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
    /// The URL's `ssl-mode` as retort spells it (`disabled` when it names
    /// none, as the benchmark then adds that for retort).
    ssl_mode: String,
    /// The URL's `ssl-ca`.
    ssl_ca: Option<String>,
}

/// A MariaDB or MySQL server reached with its client.
#[derive(Debug)]
struct Mariadb {
    client: PathBuf,
    /// Whether the client is MariaDB's, whose TLS options differ from
    /// MySQL's.
    mariadb_client: bool,
    address: Address,
    /// The URL given, for retort's URLs.
    admin: String,
    /// `innodb_max_dirty_pages_pct` as found, restored after each flush;
    /// `None` when the user may not change it (no flush between runs).
    dirty_pct: Option<String>,
    /// While `innodb_max_dirty_pages_pct` is lowered; when putting it back
    /// failed, [`Drop`] tries again.
    flushing: bool,
    /// Flushes that ran into [`SETTLE_LIMIT`].
    unsettled: usize,
    /// Time spent flushing, for the report.
    settling: Duration,
    /// The floor's script.
    script: PathBuf,
    /// Where the checks' SQL is written for the client's stdin.
    checks: PathBuf,
}

impl Mariadb {
    /// The client without option files (they could name another server,
    /// user or protocol), over TCP as retort connects, in batch mode: it
    /// stops at the first error and prints rows as tab-separated lines.
    fn client(&self, database: Option<&str>) -> Command {
        client_command(&self.client, self.mariadb_client, &self.address, database)
    }

    /// The client running `sql` on `database`.
    fn execute(&self, database: Option<&str>, sql: &str) -> Command {
        let mut command = self.client(database);
        command.arg("--execute").arg(sql);
        command
    }

    /// Runs `sql` without a database; returns what it printed.
    fn ask(&self, sql: &str) -> Result<String, String> {
        let (_, output) = timed(&mut self.execute(None, sql))?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Puts `innodb_max_dirty_pages_pct` back to `pct`, as found.
    fn restore_flushing(&mut self, pct: &str) -> Result<(), String> {
        self.admin(&format!("SET GLOBAL innodb_max_dirty_pages_pct = {pct}"))
            .map_err(|e| format!("cannot put innodb_max_dirty_pages_pct back to {pct}: {e}"))?;
        self.flushing = false;
        Ok(())
    }

    /// Dirty pages in InnoDB's buffer pool.
    fn dirty_pages(&self) -> Result<u64, String> {
        let line = self.ask("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'")?;
        line.split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("unexpected answer for dirty pages: {line:?}"))
    }
}

impl Server for Mariadb {
    fn admin(&self, sql: &str) -> Result<(), String> {
        self.ask(sql).map(drop)
    }

    /// The admin URL naming `key`, with `ssl-mode=disabled` unless it names
    /// a mode: the client is then told to skip TLS too, so both connect the
    /// same way whatever the server offers.
    fn url(&self, key: &str) -> String {
        with_database(&self.admin, key, &SSL_KEYS, "ssl-mode=disabled")
    }

    /// Writes out the buffer pool's dirty pages, as PostgreSQL's benchmark
    /// checkpoints: InnoDB flushes little while idle, so without this the
    /// pages of earlier runs pile up until the redo log is nearly full and
    /// a flush storm lands on whichever side runs then. Lowering
    /// `innodb_max_dirty_pages_pct` to 0 is how MariaDB is told to flush
    /// everything; the value found is put back at once. Untimed.
    fn settle(&mut self) -> Result<(), String> {
        let Some(pct) = self.dirty_pct.clone() else {
            return Ok(());
        };
        let start = Instant::now();
        self.flushing = true;
        self.admin("SET GLOBAL innodb_max_dirty_pages_pct = 0")
            .map_err(|e| format!("flushing before a timed run: {e}"))?;
        let waited = loop {
            match self.dirty_pages() {
                Ok(pages) if pages <= SETTLED_PAGES => break Ok(()),
                Ok(_) if start.elapsed() >= SETTLE_LIMIT => {
                    self.unsettled += 1;
                    break Ok(());
                }
                Ok(_) => thread::sleep(Duration::from_millis(50)),
                Err(e) => break Err(e),
            }
        };
        let restored = self.restore_flushing(&pct);
        self.settling += start.elapsed();
        waited.and(restored)
    }

    /// `mariadb ... --database=<new database> < script.sql`.
    fn floor(&self, key: &str) -> Result<Option<Command>, String> {
        let script = File::open(&self.script)
            .map_err(|e| format!("cannot open `{}`: {e}", self.script.display()))?;
        let mut command = self.client(Some(key));
        command.stdin(script);
        Ok(Some(command))
    }

    fn read_version(&self, key: &str) -> Option<Command> {
        Some(self.execute(Some(key), "SELECT version_num FROM retort_version"))
    }

    /// Columns come back separated by tabs; the checks compare them as
    /// `|`-separated, the other shells' way.
    fn query(&self, key: &str, sql: &str) -> Result<String, String> {
        fs::write(&self.checks, sql)
            .map_err(|e| format!("cannot write `{}`: {e}", self.checks.display()))?;
        let stdin = File::open(&self.checks)
            .map_err(|e| format!("cannot open `{}`: {e}", self.checks.display()))?;
        let (_, output) = timed(self.client(Some(key)).stdin(stdin))
            .map_err(|e| format!("check: {}: {e}", SPEC.shell))?;
        Ok(String::from_utf8_lossy(&output.stdout).replace('\t', "|"))
    }
}

/// Puts the flushing setting back if a flush could not.
impl Drop for Mariadb {
    fn drop(&mut self) {
        if let (true, Some(pct)) = (self.flushing, self.dirty_pct.clone())
            && let Err(e) = self.restore_flushing(&pct)
        {
            eprintln!("{}: warning: {e}", SPEC.name);
        }
    }
}

/// The client command of [`Mariadb::client`], before there is a server.
fn client_command(
    client: &Path,
    mariadb_client: bool,
    address: &Address,
    database: Option<&str>,
) -> Command {
    let mut command = Command::new(client);
    // `--no-defaults` is only understood first.
    command
        .arg("--no-defaults")
        .arg("--protocol=TCP")
        .arg(format!("--host={}", address.host))
        .arg(format!("--port={}", address.port))
        .arg(format!("--user={}", address.user))
        .args(["--batch", "--skip-column-names", "--no-auto-rehash"]);
    // The same TLS mode as retort's: MySQL's client takes retort's values;
    // MariaDB's has off, on (its default: TLS when the server offers it,
    // as `preferred`), required, and verification.
    let mode = address.ssl_mode.as_str();
    if !mariadb_client {
        command.arg(format!("--ssl-mode={}", mode.to_ascii_uppercase()));
    } else {
        match mode {
            "disabled" => command.arg("--skip-ssl"),
            "preferred" => &mut command,
            "verify_identity" => command.args(["--ssl", "--ssl-verify-server-cert"]),
            _ => command.arg("--ssl"),
        };
    }
    if let Some(ca) = &address.ssl_ca {
        command.arg(format!("--ssl-ca={ca}"));
    }
    if let Some(database) = database {
        command.arg(format!("--database={database}"));
    }
    // The environment keeps the password off the process list; a stray one
    // must not replace the URL's.
    match &address.password {
        Some(password) => command.env("MYSQL_PWD", password),
        None => command.env_remove("MYSQL_PWD"),
    };
    command
}

/// The parts of a `mysql://` or `mariadb://` URL the client needs, with
/// retort's defaults (user `root`, host `localhost`, port 3306).
fn address(url: &str) -> Result<Address, String> {
    let rest = url
        .strip_prefix("mysql://")
        .or_else(|| url.strip_prefix("mariadb://"))
        .ok_or_else(|| format!("`{}` is not a mysql:// or mariadb:// URL", redact(url)))?;
    let (authority, query) = match rest.split_once('?') {
        Some((before, query)) => (before, query),
        None => (rest, ""),
    };
    let authority = authority.split('/').next().unwrap_or("");
    let (userinfo, hostport) = authority.rsplit_once('@').unwrap_or(("", authority));
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(decode(password))),
        None => (userinfo, None),
    };
    let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| format!("unclosed `[` in `{}`", redact(url)))?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    let port = match port {
        Some(port) => port
            .parse()
            .map_err(|_| format!("bad port `{port}` in `{}`", redact(url)))?,
        None => 3306,
    };
    let mut ssl_mode = "disabled".to_owned();
    let mut ssl_ca = None;
    for (key, value) in query.split('&').filter_map(|param| param.split_once('=')) {
        if SSL_KEYS.contains(&key) {
            ssl_mode = value.to_ascii_lowercase().replace('-', "_");
        } else if ["ssl-ca", "ssl_ca", "sslca"].contains(&key) {
            ssl_ca = Some(decode(value));
        }
    }
    Ok(Address {
        host: if host.is_empty() { "localhost" } else { host }.to_owned(),
        port,
        user: if user.is_empty() {
            "root".to_owned()
        } else {
            decode(user)
        },
        password,
        ssl_mode,
        ssl_ca,
    })
}

/// Percent-decoding, as URLs carry user names and passwords.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `mariadb` from `PATH`, else `mysql` (Debian links both to the same
/// client); `None` without either.
fn find_client() -> Option<PathBuf> {
    find_on_path("mariadb").or_else(|| find_on_path("mysql"))
}

/// What the probe learnt of the server.
struct Probe {
    /// The version and the settings that decide how a commit reaches the
    /// disk, in one line.
    settings: String,
    /// `innodb_max_dirty_pages_pct`, when the user may set it.
    dirty_pct: Option<String>,
}

/// Asks the server for its version and durability settings, and whether
/// the user may make InnoDB flush; or says what the client said when it
/// could not use the server.
fn probe(client: &Path, mariadb_client: bool, address: &Address) -> Result<Probe, String> {
    let ask = |sql: &str| {
        upgrade::answer(
            client_command(client, mariadb_client, address, None)
                .arg(format!("--connect-timeout={PROBE_TIMEOUT_SECS}"))
                .arg("--execute")
                .arg(sql),
        )
    };
    let settings = ask("SELECT CONCAT(VERSION(), \
         '; innodb_flush_log_at_trx_commit=', @@innodb_flush_log_at_trx_commit, \
         ', innodb_flush_method=', @@innodb_flush_method, \
         ', innodb_doublewrite=', @@innodb_doublewrite, \
         ', log_bin=', @@log_bin, ', sync_binlog=', @@sync_binlog, \
         ', innodb_buffer_pool_size=', @@innodb_buffer_pool_size DIV 1048576, 'M', \
         ', innodb_log_file_size=', @@innodb_log_file_size DIV 1048576, 'M')")?;
    let pct = ask("SELECT @@GLOBAL.innodb_max_dirty_pages_pct")?;
    // Setting it to what it is tells whether the user may (SUPER or
    // SYSTEM_VARIABLES_ADMIN) without changing anything; without it the runs
    // go on unflushed, and the report says so.
    let dirty_pct = ask(&format!("SET GLOBAL innodb_max_dirty_pages_pct = {pct}"))
        .is_ok()
        .then_some(pct);
    Ok(Probe {
        settings,
        dirty_pct,
    })
}

fn run() -> Result<(), String> {
    let settings = Settings::from_env()?;
    // A malformed URL is an error even on a machine without a client.
    let admin = env::var(URL_VAR).unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let address = address(&admin)?;
    let Some(client) = find_client() else {
        return upgrade::skipped(
            &SPEC,
            "no `mariadb` or `mysql` on PATH (install the MariaDB client to measure)",
        );
    };
    let version = Command::new(&client)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mariadb_client = version.contains("MariaDB");
    let found = match probe(&client, mariadb_client, &address) {
        Ok(found) => found,
        Err(e) => {
            return upgrade::skipped_server(&SPEC, "MariaDB", &admin, URL_VAR, &e);
        }
    };

    // retort opens its transactions with START TRANSACTION.
    let Scratch { dir, bench, script } =
        Scratch::new(SPEC, settings, "START TRANSACTION", Dialect::Mysql)?;
    let floor = format!(
        "floor: {} --no-defaults --protocol=TCP ... --batch --database=<new database> \
         < script ({} KiB: per migration CREATE TABLE; CREATE INDEX; each committing \
         implicitly, as on retort's side; then START TRANSACTION; <the INSERTs>; COMMIT;)",
        client.display(),
        upgrade::kib(&script),
    );
    let mut hosted = Hosted::new(
        &SPEC,
        Mariadb {
            client,
            mariadb_client,
            address,
            admin,
            // A smoke run's figures are not read, and the first flush alone
            // can take longer than the rest of it.
            dirty_pct: found.dirty_pct.filter(|_| !settings.quick),
            flushing: false,
            unsettled: 0,
            settling: Duration::ZERO,
            script,
            checks: dir.path().join("check.sql"),
        },
    );

    let n = bench.revisions();
    let checks = Checks {
        counts: vec![
            (
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name REGEXP '^t[0-9]+$';"
                    .to_owned(),
                n,
            ),
            // One row per indexed column; each of these indexes has one.
            (
                "SELECT count(*) FROM information_schema.statistics \
                 WHERE table_schema = DATABASE() AND index_name LIKE 'ix\\_t%';"
                    .to_owned(),
                n,
            ),
            (
                "SELECT count(*) FROM information_schema.referential_constraints \
                 WHERE constraint_schema = DATABASE();"
                    .to_owned(),
                n.saturating_sub(1),
            ),
        ],
        // InnoDB checks every reference as the rows go in.
        silent: String::new(),
        // User objects only: the floor has no retort tables.
        schema: "SELECT table_name, engine, table_collation FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name NOT LIKE 'retort%' \
                 ORDER BY table_name;\n\
                 SELECT table_name, ordinal_position, column_name, column_type, is_nullable, \
                 column_default FROM information_schema.columns \
                 WHERE table_schema = DATABASE() AND table_name NOT LIKE 'retort%' \
                 ORDER BY table_name, ordinal_position;\n\
                 SELECT table_name, index_name, seq_in_index, column_name, non_unique \
                 FROM information_schema.statistics \
                 WHERE table_schema = DATABASE() AND table_name NOT LIKE 'retort%' \
                 ORDER BY table_name, index_name, seq_in_index;\n\
                 SELECT k.table_name, k.constraint_name, k.column_name, \
                 k.referenced_table_name, k.referenced_column_name, r.update_rule, r.delete_rule \
                 FROM information_schema.key_column_usage k \
                 JOIN information_schema.referential_constraints r \
                 ON r.constraint_schema = k.constraint_schema \
                 AND r.constraint_name = k.constraint_name AND r.table_name = k.table_name \
                 WHERE k.table_schema = DATABASE() AND k.table_name NOT LIKE 'retort%' \
                 ORDER BY k.table_name, k.constraint_name;\n"
            .to_owned(),
        versions: "SELECT GROUP_CONCAT(version_num ORDER BY version_num) FROM retort_version;"
            .to_owned(),
    };
    // Both ways give the same schema and data, and retort's bookkeeping
    // says head, before anything is timed.
    let figures = upgrade::check_and_measure(&bench, &mut hosted, &checks)?;
    let server = &hosted.server;
    let flushing = match &server.dirty_pct {
        Some(_) => format!(
            "InnoDB's dirty pages written out before every timed fresh run ({:.1} s in all{})",
            server.settling.as_secs_f64(),
            if server.unsettled > 0 {
                format!(
                    "; {} times not done within {} s",
                    server.unsettled,
                    SETTLE_LIMIT.as_secs()
                )
            } else {
                String::new()
            },
        ),
        None if settings.quick => "no flush of dirty pages between runs (quick run)".to_owned(),
        None => "no flush of dirty pages between runs (the user may not set \
                 innodb_max_dirty_pages_pct)"
            .to_owned(),
    };
    let databases = format!(
        "server: {} at {} (the server's settings, the same for both sides); \
         both sides connect over TCP to {}, a new database each run; {flushing}",
        found.settings,
        redact(&server.admin),
        hosted.url_pattern(),
    );
    upgrade::report(&bench, &[floor, databases], &figures);
    Ok(())
}
