//! A PostgreSQL primary with a streaming hot standby, made for each test
//! on loopback ports from the machine's server binaries (`initdb`, then
//! `pg_basebackup -R`): the standby is refused before anything runs, and
//! `--max-replica-lag` waits while the standby's replay is paused.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use retort::config::DatabaseUrl;
use retort::db::Value;
use serde_json::json;
use tempfile::TempDir;

use crate::db::servers_required;
use crate::util::{Project, linear};

/// A primary and its standby in a temporary directory, both stopped
/// (and the directory removed) when dropped.
struct Replicated {
    dir: TempDir,
    bin: PathBuf,
    /// The user the server runs as: `postgres` when the tests run as root
    /// (`initdb` refuses root); none otherwise.
    user: Option<String>,
    primary: u16,
    standby: u16,
}

impl Replicated {
    /// Starts both, or says why this machine cannot.
    fn start() -> Result<Replicated, String> {
        let bin = server_bin()?;
        let user = if command_output("id", &["-u"])? == "0" {
            Some("postgres".to_owned())
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("retort-replicas-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        if let Some(user) = &user {
            let id = |flag: &str| -> Result<u32, String> {
                command_output("id", &[flag, user])?
                    .parse()
                    .map_err(|e| format!("`id {flag} {user}`: {e}"))
            };
            std::os::unix::fs::chown(dir.path(), Some(id("-u")?), Some(id("-g")?))
                .map_err(|e| format!("cannot give the directory to `{user}`: {e}"))?;
        }
        let mut cluster = Replicated {
            dir,
            bin,
            user,
            primary: 0,
            standby: 0,
        };
        let primary = cluster.path("primary");
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                primary.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "--no-sync".as_ref(),
                "--no-instructions".as_ref(),
            ],
        )?;
        cluster.primary = free_port()?;
        cluster.pg_ctl_start("primary", cluster.primary)?;
        let standby = cluster.path("standby");
        cluster.run(
            "pg_basebackup",
            &[
                "-h".as_ref(),
                "127.0.0.1".as_ref(),
                "-p".as_ref(),
                cluster.primary.to_string().as_ref(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-D".as_ref(),
                standby.as_os_str(),
                "-R".as_ref(),
                "-X".as_ref(),
                "stream".as_ref(),
                "-c".as_ref(),
                "fast".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        cluster.standby = free_port()?;
        cluster.pg_ctl_start("standby", cluster.standby)?;
        cluster.wait_for_streaming();
        Ok(cluster)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs a server program, as the server's user.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
        let path = self.bin.join(program);
        let mut command = match &self.user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&path);
                command
            }
            None => Command::new(&path),
        };
        let output = command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    fn pg_ctl_start(&self, name: &str, port: u16) -> Result<(), String> {
        let data = self.path(name);
        let log = self.path(&format!("{name}.log"));
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "-o".as_ref(),
                options.as_ref(),
                "start".as_ref(),
            ],
        )
        .map_err(|e| format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()))
    }

    fn url(port: u16) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/postgres")
    }

    fn primary_url(&self) -> String {
        Replicated::url(self.primary)
    }

    fn standby_url(&self) -> String {
        Replicated::url(self.standby)
    }

    /// A query's first column, as text.
    fn column(port: u16, sql: &str) -> Vec<String> {
        let url = DatabaseUrl::parse(&Replicated::url(port)).unwrap();
        let mut driver = retort::db::connect(&url).unwrap();
        driver
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
            .into_iter()
            .map(|row| match row.into_iter().next() {
                Some(Value::Text(t)) => t,
                Some(Value::Int(i)) => i.to_string(),
                _ => "NULL".to_owned(),
            })
            .collect()
    }

    fn wait_for_streaming(&self) {
        self.wait_for_standby("state = 'streaming'", "stream");
    }

    /// Waits until the standby has replayed all the primary wrote.
    fn wait_for_replay(&self) {
        self.wait_for_standby("replay_lsn >= pg_current_wal_lsn()", "catch up");
    }

    /// Waits until the primary's one standby meets `condition` (on
    /// `pg_stat_replication`), for a minute at most.
    fn wait_for_standby(&self, condition: &str, what: &str) {
        let sql = format!("SELECT count(*)::int FROM pg_stat_replication WHERE {condition}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Replicated::column(self.primary, &sql) != ["1"] {
            assert!(
                Instant::now() < deadline,
                "the standby did not {what} within a minute"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The tables of `public`, sorted.
    fn tables(port: u16) -> Vec<String> {
        Replicated::column(
            port,
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        )
    }
}

impl Drop for Replicated {
    fn drop(&mut self) {
        for name in ["standby", "primary"] {
            let data = self.path(name);
            if data.exists() {
                let _ = self.run(
                    "pg_ctl",
                    &[
                        "-D".as_ref(),
                        data.as_os_str(),
                        "-m".as_ref(),
                        "immediate".as_ref(),
                        "stop".as_ref(),
                    ],
                );
            }
        }
    }
}

/// The newest PostgreSQL server binaries on this machine
/// (`RETORT_TEST_PG_BIN` names another directory).
fn server_bin() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("RETORT_TEST_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "no PostgreSQL server binaries in /usr/lib/postgresql".to_owned())?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin".to_owned())
}

fn command_output(program: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A primary and its standby, or `None` (the test then passes) with why
/// not — except where servers are required, where that fails the test.
#[allow(clippy::print_stderr)]
fn replicated() -> Option<Replicated> {
    match Replicated::start() {
        Ok(cluster) => Some(cluster),
        Err(why) => {
            assert!(
                !servers_required(),
                "a PostgreSQL primary with a standby is required here (RETORT_TEST_REQUIRE_SERVERS=1): {why}"
            );
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// `upgrade`, `downgrade` and `stamp` (also `--dry-run`) on a hot standby
/// fail before anything with `standby`, naming the server and saying to
/// use the primary; `status` and `current` read it and say it is one.
#[test]
fn a_standby_is_refused_before_anything() {
    let Some(cluster) = replicated() else {
        return;
    };
    let mut project = Project::with_url(&cluster.standby_url(), linear(2));
    for args in [
        &["upgrade"][..],
        &["upgrade", "--dry-run"],
        &["downgrade", "base"],
        &["stamp", "head"],
    ] {
        let run = project.json(args).code(1);
        assert_eq!(run.kind(), "standby", "{}", run.transcript());
        assert_eq!(
            run.message(),
            format!(
                "PostgreSQL database `postgres` at 127.0.0.1:{} is a hot standby (in recovery): it replays its primary's changes and accepts no writes, so retort does not migrate it",
                cluster.standby
            )
        );
        assert!(
            run.hint().starts_with("point `--url`") && run.hint().contains("primary"),
            "{}",
            run.hint()
        );
    }
    let text = project.text(&["upgrade"]).code(1);
    assert!(
        text.stderr
            .starts_with("error: PostgreSQL database `postgres` at 127.0.0.1:"),
        "{}",
        text.transcript()
    );
    // Nothing was written: no state tables on the primary (nor, through
    // replay, on the standby).
    assert_eq!(Replicated::tables(cluster.primary), Vec::<String>::new());

    let status = project.json(&["status"]).ok();
    assert_eq!(status.doc()["server"]["standby"], json!(true));
    assert_eq!(status.doc()["server"]["kind"], json!("plain"));
    let text = project.text(&["status"]).ok();
    assert!(
        text.stdout.contains(", hot standby (read only)\n"),
        "{}",
        text.transcript()
    );
    assert_eq!(
        project.json(&["current"]).ok().doc()["server"]["standby"],
        json!(true)
    );

    // The primary is migrated as usual, and says it is no standby.
    project.set_url(&cluster.primary_url());
    let status = project.json(&["status"]).ok();
    assert_eq!(status.doc()["server"]["standby"], json!(false));
    project.json(&["upgrade"]).ok();
}

/// `--max-replica-lag 1s` while the standby's replay is paused: the run
/// waits before a migration while the standby is behind (by what was
/// written before retort looked, or for more than a second since),
/// says what it waits for, and goes on when replay resumes.
#[test]
fn max_replica_lag_waits_while_replay_is_paused() {
    let Some(cluster) = replicated() else {
        return;
    };
    let mut revs = linear(5);
    // Long enough for the paused standby to fall a second behind r03.
    revs[3].upgrade = format!("SELECT pg_sleep(1.5);\n{}", revs[3].upgrade);
    let project = Project::with_url(&cluster.primary_url(), revs);

    // Caught up (the standby has replayed what setting it up wrote): no
    // wait, nothing said.
    cluster.wait_for_replay();
    let run = project
        .text(&["upgrade", "r01", "--max-replica-lag", "1s"])
        .ok();
    assert!(!run.stderr.contains("waiting"), "{}", run.transcript());

    // Behind on what was written before retort looked: waited for,
    // however young it is.
    cluster.wait_for_replay();
    Replicated::column(cluster.standby, "SELECT pg_wal_replay_pause()");
    Replicated::column(cluster.primary, "CREATE TABLE written_before (id int)");
    let (waiting, rest) = paused_run(
        &cluster,
        &project,
        &["upgrade", "r02", "--max-replica-lag", "1s"],
        "t02",
    );
    assert!(
        waiting.starts_with(
            "waiting for replicas to be within 1s: walreceiver at 127.0.0.1 has not applied what was written before retort looked ("
        ),
        "{waiting}"
    );
    assert!(rest.iter().any(|l| l.contains("upgrade   r02")), "{rest:?}");

    // Behind on a migration of the run, for more than a second.
    cluster.wait_for_replay();
    Replicated::column(cluster.standby, "SELECT pg_wal_replay_pause()");
    let (waiting, rest) = paused_run(
        &cluster,
        &project,
        &["upgrade", "--max-replica-lag", "1s"],
        "t05",
    );
    assert!(
        waiting.starts_with("waiting for replicas to be within 1s: walreceiver at 127.0.0.1 is "),
        "{waiting}"
    );
    assert!(
        waiting.ends_with("bytes of WAL not applied yet)"),
        "{waiting}"
    );
    assert!(rest.iter().any(|l| l.contains("upgrade   r05")), "{rest:?}");
    assert_eq!(
        project.json(&["current"]).ok().doc()["current"],
        json!(["r05"])
    );
}

/// Runs `args` while the standby's replay is paused: waits for the line
/// saying the run waits, checks that `table` (of the migration it waits
/// before) is not there yet, resumes replay and returns that line and
/// the lines said after it, once the run succeeded.
fn paused_run(
    cluster: &Replicated,
    project: &Project,
    args: &[&str],
    table: &str,
) -> (String, Vec<String>) {
    let mut child = project
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut before = Vec::new();
    let waiting = loop {
        match received.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.starts_with("waiting for replicas") => break line,
            Ok(line) => before.push(line),
            Err(e) => {
                let _ = child.kill();
                Replicated::column(cluster.standby, "SELECT pg_wal_replay_resume()");
                panic!(
                    "no wait for the paused standby ({e}); said:\n{}",
                    before.join("\n")
                );
            }
        }
    };
    // It waits, before the migration that makes `table`.
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "it did not wait");
    assert!(!Replicated::tables(cluster.primary).contains(&table.to_owned()));

    Replicated::column(cluster.standby, "SELECT pg_wal_replay_resume()");
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let rest: Vec<String> = received.try_iter().collect();
    assert!(status.success(), "{}", rest.join("\n"));
    assert!(
        rest.iter()
            .any(|line| line.starts_with("replicas within 1s after waiting ")),
        "{}",
        rest.join("\n")
    );
    assert!(Replicated::tables(cluster.primary).contains(&table.to_owned()));
    (waiting, rest)
}
