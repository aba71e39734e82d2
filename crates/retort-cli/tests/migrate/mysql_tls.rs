//! `ssl-mode` and `ssl-ca` on MariaDB. The shared test server has TLS off,
//! so this test starts a private `mariadbd` with a certificate from its
//! own test CA (issued to `localhost` only) on a free port, and stops it
//! at the end. Whether a connection was encrypted is read on the server's
//! side: a migration records its session's `Ssl_cipher`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::db::servers_required;
use crate::util::{Project, Rev};

/// A private MariaDB server with TLS, stopped when dropped.
struct TlsServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TlsServer {
    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn url(&self, database: &str, query: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{database}{query}", self.port)
    }

    fn sql(&self, sql: &str) -> String {
        let out = client(self.port, sql).unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

/// `mariadb` running `sql` on the private server, in the clear.
fn client(port: u16, sql: &str) -> std::io::Result<std::process::Output> {
    Command::new("mariadb")
        .args([
            "-h",
            "127.0.0.1",
            "-u",
            "root",
            "--skip-ssl",
            "-N",
            "-e",
            sql,
        ])
        .arg(format!("--port={port}"))
        .output()
}

fn run(program: &str, args: &[&str], dir: &Path) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A CA, a server certificate for `localhost` signed by it, a data
/// directory, and the server on a free port; `Err` says what is missing.
fn start() -> Result<TlsServer, String> {
    for tool in [
        "/usr/sbin/mariadbd",
        "/usr/bin/mariadb-install-db",
        "/usr/bin/openssl",
    ] {
        if !Path::new(tool).exists() {
            return Err(format!("{tool} is not installed"));
        }
    }
    let dir = tempfile::Builder::new()
        .prefix("retort-mariadb-tls-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let d = dir.path();
    let subject = |cn: &str| format!("/CN={cn}");
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            &subject("retort test CA"),
        ],
        d,
    )?;
    run(
        "openssl",
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            &subject("localhost"),
        ],
        d,
    )?;
    std::fs::write(d.join("ext.cnf"), "subjectAltName=DNS:localhost\n")
        .map_err(|e| e.to_string())?;
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
        ],
        d,
    )?;
    let root = is_root();
    let data = d.join("data");
    let mut install = vec![
        "--no-defaults".to_owned(),
        format!("--datadir={}", data.display()),
        "--auth-root-authentication-method=normal".to_owned(),
        "--skip-test-db".to_owned(),
    ];
    if root {
        install.push("--user=root".to_owned());
    }
    let install: Vec<&str> = install.iter().map(String::as_str).collect();
    run("mariadb-install-db", &install, d)?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let mut server = Command::new("/usr/sbin/mariadbd");
    server
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--socket={}", d.join("sock").display()))
        .arg(format!("--pid-file={}", d.join("pid").display()))
        .arg(format!("--log-error={}", d.join("error.log").display()))
        .arg(format!("--ssl-ca={}", d.join("ca.pem").display()))
        .arg(format!("--ssl-cert={}", d.join("server.pem").display()))
        .arg(format!("--ssl-key={}", d.join("server.key").display()))
        .arg("--innodb-buffer-pool-size=16M")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if root {
        server.arg("--user=root");
    }
    let child = server
        .spawn()
        .map_err(|e| format!("cannot start mariadbd: {e}"))?;
    let tls = TlsServer { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = client(port, "SELECT 1").is_ok_and(|o| o.status.success());
        if ready {
            return Ok(tls);
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(tls.dir.path().join("error.log")).unwrap_or_default();
            return Err(format!("the private mariadbd did not start: {log}"));
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// mariadbd refuses to run as root unless told to.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A migration that records its own session's cipher.
fn recorder() -> Vec<Rev> {
    let mut rev = Rev::merge("r01", &[], "record the cipher");
    rev.upgrade = "CREATE TABLE seen (cipher VARCHAR(200));\n\
                   INSERT INTO seen SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS \
                   WHERE VARIABLE_NAME = 'SSL_CIPHER';\n"
        .to_owned();
    rev.downgrade = Some("DROP TABLE seen;\n".to_owned());
    vec![rev]
}

#[test]
#[allow(clippy::print_stderr)]
fn ssl_modes_on_a_server_with_tls() {
    let server = match start() {
        Ok(server) => server,
        Err(why) if servers_required() => {
            panic!("a MariaDB server with TLS is required here: {why}")
        }
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let ca = server.ca().display().to_string();
    // (query, encrypted)
    let connects = [
        (String::new(), true),
        ("?ssl-mode=DISABLED".to_owned(), false),
        ("?ssl-mode=required".to_owned(), true),
        (format!("?ssl-mode=verify_ca&ssl-ca={ca}"), true),
    ];
    for (n, (query, encrypted)) in connects.iter().enumerate() {
        let database = format!("tls_{n}");
        server.sql(&format!("CREATE DATABASE {database}"));
        let project = Project::with_url(&server.url(&database, query), recorder());
        project.json(&["upgrade"]).ok();
        let cipher = server.sql(&format!("SELECT cipher FROM {database}.seen"));
        assert_eq!(!cipher.is_empty(), *encrypted, "{query}: cipher `{cipher}`");
    }
    // (query, what the message says)
    let refused = [
        (
            "?ssl-mode=verify_ca".to_owned(),
            "the server's TLS certificate is not trusted",
        ),
        (
            format!("?ssl-mode=verify_identity&ssl-ca={ca}"),
            "does not name this host",
        ),
        (
            "?ssl-mode=verify_ca&ssl-ca=/nonexistent/ca.pem".to_owned(),
            "cannot read `ssl-ca` file `/nonexistent/ca.pem`",
        ),
    ];
    server.sql("CREATE DATABASE tls_refused");
    for (query, says) in refused {
        let project = Project::with_url(&server.url("tls_refused", &query), recorder());
        let run = project.json(&["upgrade"]).code(1);
        assert_eq!(run.kind(), "connect", "{query}");
        assert!(run.message().contains(says), "{query}: {}", run.message());
        assert!(
            run.hint().contains("TLS settings") || says.contains("ssl-ca"),
            "{}",
            run.hint()
        );
    }
    let project = Project::with_url(&server.url("tls_refused", "?ssl-mode=bogus"), recorder());
    let run = project.json(&["upgrade"]).code(2);
    assert!(
        run.message().contains("expected one of `disabled`"),
        "{}",
        run.message()
    );
}

/// The shared server has TLS off: `required` says so, `preferred` (the
/// default) connects in the clear, as the mysql client does.
#[test]
#[allow(clippy::print_stderr)]
fn required_tls_on_a_server_without_it() {
    let url = std::env::var("RETORT_TEST_MARIADB_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".to_owned());
    let project = Project::with_url(&format!("{url}?ssl-mode=required"), recorder());
    let run = project.json(&["status"]);
    if run.code == 0 {
        return eprintln!("skipped: the MariaDB server at {url} has TLS on");
    }
    let message = run.message().to_owned();
    if !message.contains("does not support TLS") {
        assert!(!servers_required(), "no MariaDB server at {url}: {message}");
        return eprintln!("skipped: no MariaDB server at {url}: {message}");
    }
    assert_eq!(run.kind(), "connect");
    assert!(message.contains("`ssl-mode=required`"), "{message}");
    let plain = Project::with_url(&url, recorder());
    plain.json(&["status"]).ok();
}
