//! TLS to PostgreSQL: each `sslmode` against the local server, with the
//! server's own certificate as `sslrootcert` (Debian's self-signed
//! snakeoil). Encryption is proven from the server's side: a migration
//! records `pg_stat_ssl` for every connection of the run, so the work
//! connection and the lock connection are both checked.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use retort::config::DatabaseUrl;

use crate::db::{TestDb, skip, skip_without_tool};
use crate::util::{Project, Rev, Run};

/// One `#[test]` named `name::postgres` for each body: TLS is PostgreSQL's.
macro_rules! postgres_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn postgres() {
                $crate::db::run(super::$name, $crate::db::Kind::Postgres);
            }
        }
    )*};
}

postgres_tests! {
    require_encrypts_both_connections,
    disable_encrypts_neither,
    other_modes,
    verify_ca_trusts_the_root_file,
    verify_full_without_a_root_file_is_untrusted,
    verify_full_checks_the_host_name,
    unusable_root_files,
}

/// A password the URLs carry (trust authentication ignores it) that no
/// output may show.
const SECRET: &str = "hunter2-tls";

/// `(work connection?, encrypted?)` for the lock connection and the work
/// connection, both encrypted.
const BOTH_ENCRYPTED: [[&str; 2]; 2] = [["0", "1"], ["1", "1"]];

/// The server's certificate file; `None` after saying why TLS cannot be
/// tested here (failing instead where servers are required).
fn server_certificate(db: &TestDb) -> Option<PathBuf> {
    let cannot = |why: &str| {
        skip_without_tool(db, &format!("TLS cannot be tested: {why}"));
        None
    };
    if db.rows("SHOW ssl") != [["on"]] {
        return cannot("the server runs with `ssl = off`");
    }
    let setting = |name: &str| db.rows(&format!("SHOW {name}")).remove(0).remove(0);
    let mut file = PathBuf::from(setting("ssl_cert_file"));
    if file.is_relative() {
        file = Path::new(&setting("data_directory")).join(file);
    }
    if std::fs::read(&file).is_err() {
        return cannot(&format!(
            "cannot read the server's certificate {}",
            file.display()
        ));
    }
    Some(file)
}

/// The test database's URL with `query`, through `host` when given, and
/// with [`SECRET`] as the password when it has none.
fn url(db: &TestDb, host: Option<&str>, query: &str) -> String {
    let mut text = db.url();
    let parsed = DatabaseUrl::parse(&text).expect("the test URL parses");
    if let Some(host) = host {
        let server = format!("@{}:", parsed.host().expect("the test URL names a host"));
        assert!(text.contains(&server), "{text} has no `{server}`");
        text = text.replacen(&server, &format!("@{host}:"), 1);
    }
    if let (Some(user), None) = (parsed.user(), parsed.password()) {
        text = text.replacen(&format!("//{user}@"), &format!("//{user}:{SECRET}@"), 1);
    }
    format!("{text}?{query}")
}

/// A revision recording, for each of the run's connections to the
/// database, whether it is the one migrating and whether it is encrypted.
fn recorder() -> Rev {
    let mut rev = Rev::merge("r01", &[], "record the connections' encryption");
    rev.upgrade = "CREATE TABLE tls_seen (work BOOLEAN NOT NULL, ssl BOOLEAN NOT NULL);\n\
                   INSERT INTO tls_seen (work, ssl) \
                   SELECT s.pid = pg_backend_pid(), s.ssl FROM pg_stat_ssl s \
                   JOIN pg_stat_activity a ON a.pid = s.pid \
                   WHERE a.datname = current_database() AND a.application_name = 'retort';\n"
        .to_owned();
    rev.downgrade = Some("DROP TABLE tls_seen;\n".to_owned());
    rev
}

#[track_caller]
fn assert_no_secret(run: &Run) {
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "the password is shown\n{}",
        run.transcript()
    );
}

/// Upgrades through `url` and returns what the server saw (see
/// [`BOTH_ENCRYPTED`]), then downgrades again.
fn seen(db: &TestDb, url: &str) -> Vec<Vec<String>> {
    let project = Project::with_url(url, vec![recorder()]);
    assert_no_secret(&project.text(&["upgrade"]).ok());
    let rows = db.rows("SELECT work::int, ssl::int FROM tls_seen ORDER BY work");
    project.text(&["downgrade", "base"]).ok();
    rows
}

/// Upgrades through `url`, which must fail to connect; the error message.
fn connect_failure(url: &str) -> String {
    let run = Project::with_url(url, vec![recorder()])
        .json(&["upgrade"])
        .code(1);
    assert_eq!(run.kind(), "connect", "{}", run.transcript());
    assert_no_secret(&run);
    run.message().to_owned()
}

fn require_encrypts_both_connections(db: &TestDb) {
    if server_certificate(db).is_none() {
        return;
    }
    assert_eq!(seen(db, &url(db, None, "sslmode=require")), BOTH_ENCRYPTED);
}

fn disable_encrypts_neither(db: &TestDb) {
    assert_eq!(
        seen(db, &url(db, None, "sslmode=disable")),
        [["0", "0"], ["1", "0"]]
    );
}

/// `prefer` (also the default) encrypts when the server can; `allow` does
/// not unless the server insists; `require` with a root file checks the
/// chain like `verify-ca`.
fn other_modes(db: &TestDb) {
    let Some(certificate) = server_certificate(db) else {
        return;
    };
    let with_root = format!("sslmode=require&sslrootcert={}", certificate.display());
    let plain = [["0", "0"], ["1", "0"]];
    for (query, expected) in [
        ("", BOTH_ENCRYPTED),
        ("sslmode=prefer", BOTH_ENCRYPTED),
        ("sslmode=allow", plain),
        (with_root.as_str(), BOTH_ENCRYPTED),
    ] {
        assert_eq!(seen(db, &url(db, None, query)), expected, "?{query}");
    }
}

fn verify_ca_trusts_the_root_file(db: &TestDb) {
    let Some(certificate) = server_certificate(db) else {
        return;
    };
    let query = format!("sslmode=verify-ca&sslrootcert={}", certificate.display());
    assert_eq!(seen(db, &url(db, None, &query)), BOTH_ENCRYPTED);
}

fn verify_full_without_a_root_file_is_untrusted(db: &TestDb) {
    if server_certificate(db).is_none() {
        return;
    }
    let message = connect_failure(&url(db, None, "sslmode=verify-full"));
    assert!(
        message.ends_with(
            ": the server's certificate is not trusted: none of the public root certificates built into retort signed it; \
             add `sslrootcert=PATH` to the URL, naming a PEM file with the certificate of the CA that did \
             (for a self-signed server certificate, that certificate itself)"
        ),
        "{message}"
    );
    assert!(db.tables().is_empty(), "nothing ran: {:?}", db.tables());
}

fn verify_full_checks_the_host_name(db: &TestDb) {
    let Some(certificate) = server_certificate(db) else {
        return;
    };
    let query = format!("sslmode=verify-full&sslrootcert={}", certificate.display());
    // A certificate for a host name does not name the address.
    let message = connect_failure(&url(db, Some("127.0.0.1"), &query));
    assert!(
        message.contains(": the server's certificate is not valid for host `127.0.0.1` (it names `")
            && message.ends_with(
                "); connect with a host name the certificate names, or use `sslmode=verify-ca` to check the certificate but not the host name"
            ),
        "{message}"
    );
    // Through the name it does give, the same root passes.
    if message.contains("(it names `localhost`") {
        assert_eq!(
            seen(db, &url(db, Some("localhost"), &query)),
            BOTH_ENCRYPTED
        );
    } else {
        skip(db, "the server's certificate is not for localhost");
    }
}

fn unusable_root_files(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("key.txt");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    for (mode, file, why) in [
        (
            "verify-ca",
            dir.path().join("root.crt"),
            "No such file or directory (os error 2)",
        ),
        ("require", not_pem, "it holds no `BEGIN CERTIFICATE` block"),
    ] {
        let query = format!("sslmode={mode}&sslrootcert={}", file.display());
        let message = connect_failure(&url(db, None, &query));
        let expected = format!(
            ": cannot use `sslrootcert` file `{}`: {why}; give a PEM file of the certificates to trust",
            file.display()
        );
        assert!(message.ends_with(&expected), "{message}");
    }
}

#[test]
fn unknown_sslmode_is_an_input_error() {
    let project = Project::with_url(
        &format!("postgres://postgres:{SECRET}@127.0.0.1:5432/none?sslmode=verify"),
        vec![recorder()],
    );
    let run = project.json(&["upgrade"]).code(2);
    assert_eq!(run.kind(), "url");
    assert_no_secret(&run);
    assert!(
        run.message().ends_with(
            "invalid database URL `postgres://postgres:***@127.0.0.1:5432/none?sslmode=verify`: \
             unknown `sslmode=verify`; expected one of `disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`"
        ),
        "{}",
        run.transcript()
    );
}

/// The local server has TLS on, so a refusal comes from a stand-in that
/// answers the SSLRequest with `N`, as a server with `ssl = off` does.
#[test]
fn require_fails_where_the_server_has_no_tls() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let server = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("no connection: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut request = [0u8; 8];
        stream.read_exact(&mut request).unwrap();
        stream.write_all(b"N").unwrap();
        request
    });
    let message = connect_failure(&format!(
        "postgres://postgres:{SECRET}@127.0.0.1:{port}/none?sslmode=require"
    ));
    // Length 8, then the SSLRequest code 80877103.
    assert_eq!(server.join().unwrap(), [0, 0, 0, 8, 4, 210, 22, 47]);
    assert!(
        message.ends_with(
            ": the server does not support SSL, which `sslmode=require` requires; \
             turn on `ssl` in the server's postgresql.conf, or use `sslmode=prefer` to connect unencrypted"
        ),
        "{message}"
    );
}
