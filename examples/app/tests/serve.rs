//! The example service, started as a container would start it: it
//! migrates its database (SQLite by default, PostgreSQL with
//! `DATABASE_URL`), then serves `GET /notes` from the migrated table. Eight
//! copies started at once against one new PostgreSQL database all serve,
//! and each migration ran once.
//!
//! The PostgreSQL tests create their own databases through
//! `RETORT_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! without a server they say they were skipped, unless
//! `RETORT_TEST_REQUIRE_SERVERS=1` (CI), where that fails them.

#![allow(clippy::print_stderr, reason = "a skipped test says why")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use retort::config::DatabaseUrl;
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_retort-example-app");
const HEAD: &str = "7c3d9e4f5a02";
/// How long a copy may take to migrate and listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running copy of the service; killed when dropped.
struct Service {
    child: Child,
    port: u16,
    stderr: mpsc::Receiver<String>,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Service {
    /// Starts a copy on `url`, without waiting for it.
    fn spawn(url: &str) -> Child {
        Command::new(BINARY)
            .env("DATABASE_URL", url)
            .env("BIND", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the service starts")
    }

    /// Waits until the copy says where it listens (it has migrated then).
    fn ready(mut child: Child) -> Service {
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = line_tx.send(line);
        });
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut text);
            let _ = err_tx.send(text);
        });
        let line = line_rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let Some(port) = line
            .trim()
            .strip_prefix("listening on 127.0.0.1:")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err_rx
                .recv_timeout(Duration::from_secs(5))
                .unwrap_or_default();
            panic!("the service did not start: {line:?}\n{stderr}");
        };
        Service {
            child,
            port,
            stderr: err_rx,
        }
    }

    fn start(url: &str) -> Service {
        Service::ready(Service::spawn(url))
    }

    /// `GET path`: the status code and the JSON body.
    fn get(&self, path: &str) -> (u16, Value) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("the service listens");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status code");
        let body = serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()));
        (status, body)
    }

    /// What it logged, once it has stopped.
    fn log(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default()
    }
}

fn expected_notes() -> Value {
    json!({ "notes": [
        { "id": 1, "title": "migrated at start-up", "body": "one line per revision" },
        { "id": 2, "title": "served from the table", "body": "" },
    ]})
}

fn query(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut db = retort::db::connect(&DatabaseUrl::parse(url).unwrap()).unwrap();
    db.query_text(sql).unwrap()
}

#[test]
fn serves_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("app.db").display());
    let service = Service::start(&url);
    assert_eq!(service.get("/notes"), (200, expected_notes()));
    let log = service.log();
    assert!(
        log.contains("migration finished: add a body to notes"),
        "{log}"
    );
    // Started again: nothing to migrate, the same answer.
    let again = Service::start(&url);
    assert_eq!(again.get("/notes"), (200, expected_notes()));
    assert!(!again.log().contains("migration started"));
    assert_eq!(
        query(&url, "SELECT version_num FROM retort_version"),
        [[Some(HEAD.to_owned())]]
    );
}

/// A PostgreSQL database of its own, dropped afterwards.
struct Database {
    admin_url: String,
    name: String,
    url: String,
}

impl Database {
    /// A new database, or `None` (the test is skipped) without a server.
    fn create() -> Option<Database> {
        let admin_url = std::env::var("RETORT_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let admin = DatabaseUrl::parse(&admin_url)
            .map_err(|e| e.to_string())
            .and_then(|url| retort::db::admin(&url).map_err(|e| e.to_string()));
        let mut admin = match admin {
            Ok(admin) => admin,
            Err(why) if std::env::var("RETORT_TEST_REQUIRE_SERVERS").is_ok_and(|v| v == "1") => {
                panic!("PostgreSQL is required here (RETORT_TEST_REQUIRE_SERVERS=1): {why}")
            }
            Err(why) => {
                eprintln!("skipped on postgres: {why}");
                return None;
            }
        };
        let name = format!(
            "retort_app_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        admin.create_database(&name).expect("a test database");
        let url = admin.url_of(&name).expose_secret().to_owned();
        Some(Database {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut admin) = retort::db::admin(&DatabaseUrl::parse(&self.admin_url).unwrap()) {
            let _ = admin.drop_database(&self.name);
        }
    }
}

#[test]
fn serves_on_postgres() {
    let Some(db) = Database::create() else {
        return;
    };
    let service = Service::start(&db.url);
    assert_eq!(service.get("/notes"), (200, expected_notes()));
    drop(service);
}

/// Eight copies at once against one new database: one migrates while the
/// others wait for the run lock and then find nothing to do; all serve.
#[test]
fn eight_copies_start_at_once_on_postgres() {
    let Some(db) = Database::create() else {
        return;
    };
    let children: Vec<Child> = (0..8).map(|_| Service::spawn(&db.url)).collect();
    let services: Vec<Service> = children.into_iter().map(Service::ready).collect();
    for service in &services {
        assert_eq!(service.get("/notes"), (200, expected_notes()));
    }
    let logs: Vec<String> = services.into_iter().map(Service::log).collect();
    for revision in ["create notes", "add a body to notes"] {
        let ran = logs
            .iter()
            .filter(|log| log.contains(&format!("migration finished: {revision}")))
            .count();
        assert_eq!(ran, 1, "`{revision}` ran {ran} times:\n{logs:#?}");
    }
    assert_eq!(
        query(&db.url, "SELECT count(*) FROM retort_applied"),
        [[Some("2".to_owned())]]
    );
    assert_eq!(
        query(&db.url, "SELECT version_num FROM retort_version"),
        [[Some(HEAD.to_owned())]]
    );
    assert_eq!(
        query(&db.url, "SELECT count(*) FROM notes"),
        [[Some("2".to_owned())]]
    );
}
