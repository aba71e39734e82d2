//! A 3-node MariaDB Galera cluster on loopback (the recipe of the
//! research notes on clusters: node 1 bootstraps with
//! `--wsrep-new-cluster`, nodes 2 and 3 join one at a time through rsync
//! state transfers), and what retort does on it with the lock chosen by
//! itself (`lock = "auto"` finds `wsrep_on` and takes the lease):
//!
//! - 12 `retort upgrade` processes spread over the three nodes, three
//!   rounds on fresh databases, 30 revisions each inserting a row: every
//!   revision applied exactly once, every process exits 0;
//! - a node killed (SIGKILL of its `mariadbd`) in the middle of a run:
//!   `status` on a surviving node explains the lease the dead run left,
//!   and the next run there takes over once it expires and completes.
//!
//! Starting a cluster takes about a minute, so every case runs in one test
//! (nextest runs each test in a process of its own), against one cluster
//! started for it and stopped after, even when a case fails. A lock file
//! keeps two test processes from starting clusters on the same ports.
//! Without galera-4, `mariadbd`, `mariadb-install-db`, the `mariadb`
//! client or rsync, the test says it is skipped (and fails where servers
//! are required).

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use retort::config::DatabaseUrl;
use retort::db::Driver;

use crate::db::{servers_required, unique_name};
use crate::lease::{assert_applied_once, command_at, counters, race, with_params};
use crate::util::Project;

/// The programs and library the cluster needs.
const TOOLS: [&str; 5] = [
    "/usr/lib/galera/libgalera_smm.so",
    "/usr/sbin/mariadbd",
    "/usr/bin/mariadb-install-db",
    "/usr/bin/mariadb",
    "/usr/bin/rsync",
];

/// Node `i`'s (0-based) SQL port; its Galera port is
/// `14567 + 10 i` (and the next one for incremental transfers), its
/// state-transfer port `14444 + 10 i`.
fn sql_port(i: usize) -> u16 {
    13306 + u16::try_from(i).unwrap()
}

fn galera_port(i: usize) -> u16 {
    14567 + 10 * u16::try_from(i).unwrap()
}

fn sst_port(i: usize) -> u16 {
    14444 + 10 * u16::try_from(i).unwrap()
}

/// One node: its configuration file and its server process.
#[derive(Debug)]
struct Node {
    dir: PathBuf,
    config: PathBuf,
    server: Option<Child>,
}

/// A running cluster, stopped when dropped.
#[derive(Debug)]
struct Cluster {
    nodes: Vec<Node>,
    /// Holds the datadirs (owned by `mysql`).
    _dir: tempfile::TempDir,
    /// Held while the cluster runs.
    _lock: File,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.stop();
        }
    }
}

impl Node {
    /// `mysqld` settings of node `i` under `root`.
    fn settings(root: &Path, i: usize) -> String {
        let dir = root.join(format!("n{}", i + 1));
        let members: Vec<String> = (0..3)
            .map(|n| format!("127.0.0.1:{}", galera_port(n)))
            .collect();
        format!(
            "[mysqld]\n\
             user=mysql\n\
             datadir={dir}/data\n\
             socket={dir}/sock\n\
             pid-file={dir}/pid\n\
             log-error={dir}/error.log\n\
             port={port}\n\
             bind-address=127.0.0.1\n\
             binlog_format=ROW\n\
             default_storage_engine=InnoDB\n\
             innodb_autoinc_lock_mode=2\n\
             innodb_buffer_pool_size=64M\n\
             wsrep_on=ON\n\
             wsrep_provider=/usr/lib/galera/libgalera_smm.so\n\
             wsrep_cluster_name=retort_galera\n\
             wsrep_cluster_address=gcomm://{members}\n\
             wsrep_node_name=n{n}\n\
             wsrep_node_address=127.0.0.1:{galera}\n\
             wsrep_node_incoming_address=127.0.0.1:{port}\n\
             wsrep_provider_options=base_host=127.0.0.1;base_port={galera};gcache.size=32M\n\
             wsrep_sst_method=rsync\n\
             wsrep_sst_receive_address=127.0.0.1:{sst}\n",
            dir = dir.display(),
            port = sql_port(i),
            members = members.join(","),
            n = i + 1,
            galera = galera_port(i),
            sst = sst_port(i),
        )
    }

    /// Starts the server; `bootstrap` for the first node of a new cluster.
    fn start(&mut self, bootstrap: bool) {
        let mut cmd = Command::new("/usr/sbin/mariadbd");
        cmd.arg(format!("--defaults-file={}", self.config.display()));
        if bootstrap {
            cmd.arg("--wsrep-new-cluster");
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mariadbd starts");
        self.server = Some(child);
    }

    /// A statement through the `mariadb` client on the node's socket (as
    /// root, by the socket's authentication: TCP users are not made yet).
    fn client(&self, sql: &str) -> Result<String, String> {
        let output = Command::new("/usr/bin/mariadb")
            .arg(format!("--socket={}", self.dir.join("sock").display()))
            .args(["-uroot", "-N", "-B", "-e", sql])
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
        }
    }

    /// Waits until the node is `Synced` in a cluster of `size`.
    fn wait_synced(&mut self, size: usize) {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let state = self.client(
                "SELECT CONCAT(v1.VARIABLE_VALUE, '/', v2.VARIABLE_VALUE) FROM information_schema.GLOBAL_STATUS v1, information_schema.GLOBAL_STATUS v2 WHERE v1.VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT' AND v2.VARIABLE_NAME = 'WSREP_CLUSTER_SIZE'",
            );
            if state.as_deref() == Ok(&format!("Synced/{size}")) {
                return;
            }
            if let Some(server) = &mut self.server
                && let Ok(Some(exit)) = server.try_wait()
            {
                panic!(
                    "the node's mariadbd exited ({exit}); its log:\n{}",
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the node at {} was not Synced in a cluster of {size} within 180 s ({state:?}); its log:\n{}",
                self.dir.display(),
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// SIGKILL, as a crashed server.
    fn kill(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }

    /// SIGTERM, waiting for a clean shutdown (SIGKILL after 60 s).
    fn stop(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = server.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = server.kill();
        let _ = server.wait();
    }
}

/// Why the cluster cannot run here, if it cannot.
fn missing() -> Option<String> {
    if let Some(tool) = TOOLS.iter().find(|t| !Path::new(t).exists()) {
        return Some(format!(
            "{tool} is not installed (Debian: galera-4, mariadb-server, mariadb-client, rsync)"
        ));
    }
    for i in 0..3 {
        for port in [sql_port(i), galera_port(i), galera_port(i) + 1, sst_port(i)] {
            if TcpListener::bind(("127.0.0.1", port)).is_err() {
                return Some(format!(
                    "port {port} on 127.0.0.1 is taken (a cluster left running by an earlier run?)"
                ));
            }
        }
    }
    None
}

impl Cluster {
    /// Starts three nodes, or says why it cannot.
    fn start() -> Result<Cluster, String> {
        // One cluster at a time on this machine: the ports are fixed.
        let lock = File::create(std::env::temp_dir().join("retort-galera-test.lock"))
            .map_err(|e| e.to_string())?;
        lock.lock().map_err(|e| e.to_string())?;
        if let Some(why) = missing() {
            return Err(why);
        }
        let dir = tempfile::Builder::new()
            .prefix("retort-galera-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let mut nodes = Vec::new();
        for i in 0..3 {
            let node_dir = dir.path().join(format!("n{}", i + 1));
            std::fs::create_dir_all(&node_dir).map_err(|e| e.to_string())?;
            let config = dir.path().join(format!("n{}.cnf", i + 1));
            std::fs::write(&config, Node::settings(dir.path(), i)).map_err(|e| e.to_string())?;
            nodes.push(Node {
                dir: node_dir,
                config,
                server: None,
            });
        }
        // The servers run as `mysql` (the rsync transfer refuses root).
        let owned = Command::new("chown")
            .args(["-R", "mysql:mysql"])
            .arg(dir.path())
            .status()
            .map_err(|e| e.to_string())?;
        assert!(owned.success(), "chown of the cluster's directory");
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .map_err(|e| e.to_string())?;
        for node in &nodes {
            let installed = Command::new("/usr/bin/mariadb-install-db")
                .arg(format!("--defaults-file={}", node.config.display()))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| e.to_string())?;
            assert!(installed.success(), "mariadb-install-db for {node:?}");
        }
        let mut cluster = Cluster {
            nodes,
            _dir: dir,
            _lock: lock,
        };
        cluster.nodes[0].start(true);
        cluster.nodes[0].wait_synced(1);
        // retort connects over TCP: root without a password from
        // 127.0.0.1, as on the suite's other servers (replicated to the
        // nodes that join).
        cluster.nodes[0]
            .client(
                "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD(''); \
                 CREATE USER root@'127.0.0.1' IDENTIFIED BY ''; \
                 GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION",
            )
            .expect("a TCP user for retort");
        for i in 1..3 {
            cluster.nodes[i].start(false);
            cluster.nodes[i].wait_synced(i + 1);
        }
        Ok(cluster)
    }

    /// The URL of database `name` on node `i`.
    fn url(i: usize, name: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{name}", sql_port(i))
    }

    /// A connection to database `name` through node `i`, whose reads see
    /// everything the cluster committed before them.
    fn connect(i: usize, name: &str) -> Box<dyn Driver> {
        let url = DatabaseUrl::parse(&Cluster::url(i, name)).unwrap();
        let mut driver = retort::db::connect(&url).expect("a node answers");
        driver.run("SET SESSION wsrep_sync_wait = 7").unwrap();
        driver
    }

    /// A query's rows, every value as text, through node `i`.
    fn rows(i: usize, name: &str, sql: &str) -> Vec<Vec<String>> {
        Cluster::connect(i, name)
            .query_text(sql)
            .unwrap_or_else(|e| panic!("`{sql}` on node {}: {e}", i + 1))
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|v| v.unwrap_or_else(|| "NULL".to_owned()))
                    .collect()
            })
            .collect()
    }

    /// A fresh database, created through node 1.
    fn database() -> String {
        let name = unique_name();
        Cluster::connect(0, "")
            .run(&format!("CREATE DATABASE {name}"))
            .expect("CREATE DATABASE");
        name
    }
}

#[test]
#[allow(clippy::print_stderr)]
fn galera_cluster() {
    let cluster = match Cluster::start() {
        Ok(cluster) => cluster,
        Err(why) if servers_required() => {
            panic!("a Galera cluster is required here (RETORT_TEST_REQUIRE_SERVERS=1): {why}")
        }
        Err(why) => {
            eprintln!("skipped: no Galera cluster: {why}");
            return;
        }
    };
    upgraders_spread_over_the_nodes();
    node_killed_in_the_middle_of_a_run(cluster);
}

/// Revisions and upgraders of the race.
const REVISIONS: usize = 30;
const UPGRADERS: usize = 12;

/// 12 upgraders, four on each node, three rounds on fresh databases.
fn upgraders_spread_over_the_nodes() {
    for round in 1..=3 {
        let name = Cluster::database();
        let project = Project::with_url(&Cluster::url(0, &name), counters(REVISIONS));
        let urls: Vec<String> = (0..UPGRADERS).map(|k| Cluster::url(k % 3, &name)).collect();
        let racers = race(&project, &urls);
        assert_applied_once(
            &racers,
            REVISIONS,
            |sql| Cluster::rows(1, &name, sql),
            &format!("round {round}"),
        );
        // The lock was the lease, found by itself.
        let status = project.json(&["lock", "status"]).ok();
        assert_eq!(status.doc()["lock"], "lease", "{}", status.transcript());
        assert_eq!(status.doc()["galera"], true);
        assert_eq!(status.doc()["held"], false);
    }
}

/// A run on node 3 whose node is killed half way: the migration it was
/// in rolls back with the node, the lease it held stays until it expires,
/// which `status` on node 1 explains; the next run on node 1 waits for the
/// expiry, then applies the rest, each revision once.
fn node_killed_in_the_middle_of_a_run(mut cluster: Cluster) {
    let name = Cluster::database();
    let mut revs = counters(REVISIONS);
    for rev in &mut revs[1..] {
        // A plan of about 6 s: time to kill the node in the middle.
        rev.upgrade.push_str("SELECT SLEEP(0.2);\n");
    }
    let ttl = "retort_lock_ttl=10";
    let project = Project::with_url(&with_params(&Cluster::url(0, &name), ttl), revs);
    let node3 = with_params(&Cluster::url(2, &name), ttl);
    let run = command_at(&project, &node3, &["upgrade"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let counted = || -> usize {
        let tables = Cluster::rows(0, &name, "SHOW TABLES LIKE 'counter'");
        if tables.is_empty() {
            return 0;
        }
        Cluster::rows(0, &name, "SELECT COUNT(*) FROM counter")[0][0]
            .parse()
            .unwrap()
    };
    while counted() < 5 {
        assert!(
            Instant::now() < deadline,
            "the run applied 5 revisions within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    cluster.nodes[2].kill();
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the run lost its node: {stderr}");

    let before = counted();
    assert!(before < REVISIONS, "killed in the middle: {before} applied");
    let status = project.json(&["status"]).ok();
    let doc = status.doc();
    assert!(doc["interrupted"].is_null(), "{}", status.transcript());
    assert!(
        !doc["running"]["holder"].is_null(),
        "{}",
        status.transcript()
    );
    assert_eq!(
        doc["current"].as_array().unwrap().len(),
        1,
        "{}",
        status.transcript()
    );
    assert_eq!(
        doc["pending"].as_array().unwrap().len(),
        REVISIONS - before,
        "{}",
        status.transcript()
    );
    let text = project.text(&["status"]).ok();
    assert!(
        text.stdout.contains("running:  a run holds the lease")
            && text.stdout.contains("takes over once the lease expires"),
        "{}",
        text.stdout
    );

    let next = project.text(&["upgrade"]).ok();
    assert!(
        next.stderr
            .contains("waiting for the lock: a lease held by"),
        "{}",
        next.transcript()
    );
    assert!(
        next.stdout
            .starts_with(&format!("{} step(s) done", REVISIONS - before)),
        "{}",
        next.transcript()
    );
    let counted = Cluster::rows(
        1,
        &name,
        "SELECT rev, COUNT(*) FROM counter GROUP BY rev ORDER BY rev",
    );
    let expected: Vec<Vec<String>> = (1..=REVISIONS)
        .map(|i| vec![format!("r{i:02}"), "1".to_owned()])
        .collect();
    assert_eq!(counted, expected, "each revision applied once");
    let status = project.json(&["status"]).ok();
    assert!(status.doc()["running"].is_null(), "{}", status.transcript());
    assert!(status.doc()["pending"].as_array().unwrap().is_empty());
    drop(cluster);
}
