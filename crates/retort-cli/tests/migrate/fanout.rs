//! One command on a fleet: `upgrade`, `downgrade`, `stamp` and `status`
//! with `--targets FILE` (SQLite files, one URL a line) and `--schemas
//! PATTERN` (the schemas of one PostgreSQL database, each with its own
//! version tables and run lock): every target reaches head, a failure
//! stops the run or not as asked, a second run touches only the targets
//! not at head, and the JSON lines name each target.

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use retort::config::DatabaseUrl;
use retort::db::Value;
use serde_json::Value as Json;
use tempfile::TempDir;

use crate::db::{Kind, TestDb};
use crate::util::{Project, ROWS_PER_TABLE, Rev, linear, retort_bin};

/// The migrations every target gets: `r01`, `r02`, `r03`, each creating a
/// table of three rows.
const HEAD: &str = "r03";

/// A project of [`linear`]`(3)` and a directory of SQLite targets.
struct Fleet {
    project: Project,
    dir: TempDir,
    urls: Vec<String>,
    list: PathBuf,
}

impl Fleet {
    /// `n` SQLite targets (`t001.db`…, not created yet), listed in
    /// `targets.txt` with a comment and a blank line.
    fn sqlite(n: usize) -> Fleet {
        let project = Project::with_url("sqlite:///unused.db", linear(3));
        let dir = tempfile::Builder::new()
            .prefix("retort-fleet-")
            .tempdir()
            .unwrap();
        let urls: Vec<String> = (1..=n)
            .map(|i| {
                format!(
                    "sqlite:///{}",
                    dir.path().join(format!("t{i:03}.db")).display()
                )
            })
            .collect();
        let list = dir.path().join("targets.txt");
        fs::write(&list, format!("# every tenant\n\n{}\n", urls.join("\n"))).unwrap();
        Fleet {
            project,
            dir,
            urls,
            list,
        }
    }

    /// The file of target `i` (0-based).
    fn file(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("t{:03}.db", i + 1))
    }

    fn list(&self) -> &str {
        self.list.to_str().unwrap()
    }

    /// `retort --format json COMMAND --targets <list> ARGS`.
    fn json(&self, command: &str, args: &[&str]) -> Lines {
        let mut full = vec![command, "--targets", self.list()];
        full.extend_from_slice(args);
        json(&self.project, &full)
    }

    /// Creates, in target `i`, the table revision `rev` creates, so that
    /// its upgrade fails there.
    fn break_target(&self, i: usize, rev: &str) {
        let table = self
            .project
            .revs()
            .iter()
            .find(|r| r.id == rev)
            .and_then(|r| r.table.clone())
            .unwrap();
        exec(&self.urls[i], &format!("CREATE TABLE {table} (x INTEGER)"));
    }
}

/// `retort -C <project> ARGS`, with no `--url`.
fn retort(project: &Project, args: &[&str]) -> Command {
    let mut cmd = Command::new(retort_bin());
    cmd.env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .arg("-C")
        .arg(project.root())
        .args(args);
    cmd
}

/// What a `--format json` run on a fleet printed: one object a target,
/// then the summary.
#[derive(Debug)]
struct Lines {
    code: i32,
    targets: Vec<Json>,
    summary: Json,
    transcript: String,
}

impl Lines {
    /// The target lines with `status`.
    fn with_status(&self, status: &str) -> Vec<&Json> {
        self.targets
            .iter()
            .filter(|t| t["status"] == status)
            .collect()
    }

    /// The `target` of the lines with `status`, sorted.
    fn named(&self, status: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .with_status(status)
            .iter()
            .map(|t| t["target"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }
}

/// `retort -C <project> --format json ARGS`, as [`json_lines`].
fn json(project: &Project, args: &[&str]) -> Lines {
    let mut full = vec!["--format", "json"];
    full.extend_from_slice(args);
    json_lines(&mut retort(project, &full))
}

/// Runs `retort --format json ARGS` and checks it printed JSON lines only.
fn json_lines(cmd: &mut Command) -> Lines {
    let output = cmd.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let transcript = format!(
        "exit: {:?}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        output.status.code()
    );
    assert!(!stderr.contains("panicked"), "{transcript}");
    assert_eq!(
        stderr, "",
        "nothing on stderr with --format json\n{transcript}"
    );
    let mut lines: Vec<Json> = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line: {e}: {line}\n{transcript}"))
        })
        .collect();
    let summary = lines
        .pop()
        .unwrap_or_else(|| panic!("no output\n{transcript}"));
    assert!(
        summary["summary"].is_object(),
        "the summary comes last\n{transcript}"
    );
    assert!(
        lines.iter().all(|l| l["target"].is_string()),
        "a line per target\n{transcript}"
    );
    Lines {
        code: output.status.code().unwrap_or(-1),
        targets: lines,
        summary: summary["summary"].clone(),
        transcript,
    }
}

/// Runs a statement on a database through retort's driver (creating a
/// SQLite file that does not exist yet).
fn exec(url: &str, sql: &str) {
    let url = DatabaseUrl::parse(url).unwrap();
    retort::db::connect(&url)
        .unwrap()
        .run(sql)
        .unwrap_or_else(|e| panic!("`{sql}` on {url}: {e}"));
}

/// Runs a query on a database through retort's driver.
fn query(url: &str, sql: &str) -> Vec<Vec<Value>> {
    let url = DatabaseUrl::parse(url).unwrap();
    retort::db::connect(&url)
        .unwrap()
        .query(sql, &[])
        .unwrap_or_else(|e| panic!("`{sql}` on {url}: {e}"))
}

/// The version rows of a SQLite target.
fn version(url: &str) -> Vec<String> {
    query(url, "SELECT version_num FROM retort_version ORDER BY 1")
        .into_iter()
        .map(|row| row[0].as_text().unwrap().to_owned())
        .collect()
}

/// Asserts a SQLite target is at head with every table's rows once.
#[track_caller]
fn assert_at_head(url: &str) {
    assert_eq!(version(url), [HEAD], "{url}");
    for table in ["t01", "t02", "t03"] {
        assert_eq!(
            query(url, &format!("SELECT COUNT(*) FROM {table}")),
            [[Value::Int(i64::try_from(ROWS_PER_TABLE).unwrap())]],
            "{table} of {url}"
        );
    }
}

#[test]
fn two_hundred_sqlite_targets_reach_head() {
    let fleet = Fleet::sqlite(200);
    let run = fleet.json("upgrade", &["--concurrency", "8"]);
    assert_eq!(run.code, 0, "{}", run.transcript);
    assert_eq!(run.targets.len(), 200, "{}", run.transcript);
    assert_eq!(run.with_status("ok").len(), 200, "{}", run.transcript);
    for line in &run.targets {
        assert_eq!(line["from"], serde_json::json!([]));
        assert_eq!(line["to"], serde_json::json!([HEAD]));
        assert_eq!(line["count"], 3);
    }
    assert_eq!(run.summary["ok"], 200);
    assert_eq!(run.summary["targets"], 200);
    assert_eq!(run.summary["concurrency"], 8);
    for url in &fleet.urls {
        assert_at_head(url);
    }
    // Again: nothing to do anywhere, each target read once and skipped.
    let again = fleet.json("upgrade", &["--concurrency", "8"]);
    assert_eq!(again.code, 0, "{}", again.transcript);
    assert_eq!(again.with_status("skipped").len(), 200);
    assert_eq!(again.summary["skipped"], 200);
}

/// The PostgreSQL URL of `db` with a password (trust authentication
/// ignores it), which no output may show; and that password.
fn with_password(db: &TestDb) -> (String, String) {
    let url = db.url();
    let parsed = DatabaseUrl::parse(&url).unwrap();
    if let Some(password) = parsed.password() {
        return (url, password.to_owned());
    }
    let user = parsed.user().unwrap_or("postgres");
    let secret = "hunter2-fleet";
    (
        url.replacen(&format!("{user}@"), &format!("{user}:{secret}@"), 1),
        secret.to_owned(),
    )
}

#[test]
fn fifty_postgres_schemas_reach_head() {
    crate::db::run(fifty_schemas, Kind::Postgres);
}

fn fifty_schemas(db: &TestDb) {
    let schemas: Vec<String> = (1..=50).map(|i| format!("tenant_{i:02}")).collect();
    for schema in schemas
        .iter()
        .map(String::as_str)
        .chain(["tenantx51", "other"])
    {
        db.exec(&format!("CREATE SCHEMA {schema}"));
    }
    let (url, secret) = with_password(db);
    let project = Project::with_url(&url, linear(3));
    // Another run holds the lock of one tenant: that tenant waits, the
    // others do not (the lock is the schema's, not the database's).
    let mut held = retort::db::connect_to_schema(
        &DatabaseUrl::parse(&url).unwrap(),
        "retort_version",
        "tenant_07",
    )
    .unwrap();
    held.lock(Duration::from_secs(5), &mut |_| panic!("the lock was free"))
        .unwrap();
    let run = json(
        &project,
        &[
            "--url",
            &url,
            "upgrade",
            "--schemas",
            "tenant_*",
            "--concurrency",
            "8",
            "--lock-timeout",
            "1",
        ],
    );
    assert!(!run.transcript.contains(&secret), "{}", run.transcript);
    assert_eq!(run.code, 1, "one target locked\n{}", run.transcript);
    assert_eq!(run.targets.len(), 50, "{}", run.transcript);
    let locked = run.with_status("locked");
    assert_eq!(locked.len(), 1, "{}", run.transcript);
    assert_eq!(locked[0]["schema"], "tenant_07");
    assert_eq!(locked[0]["error"]["kind"], "lock_timeout");
    let recover = locked[0]["recover"].as_str().unwrap();
    assert!(
        recover.starts_with("retort --url ")
            && recover.ends_with(" upgrade head --schemas tenant_07")
            && recover.contains(":***@"),
        "{recover}"
    );
    assert_eq!(run.with_status("ok").len(), 49, "{}", run.transcript);
    assert_eq!(
        (run.summary["ok"].as_u64(), run.summary["locked"].as_u64()),
        (Some(49), Some(1))
    );
    // A single run whose configuration keeps its version table in that
    // schema takes the same lock.
    let single = Project::with_url(&url, linear(3));
    single.write(
        "retort.toml",
        "[migrations]\ndirs = [\"migrations\"]\nversion_table_schema = \"tenant_07\"\n",
    );
    let waited = single.json(&["upgrade", "--lock-timeout", "1"]).code(1);
    assert_eq!(waited.kind(), "lock_timeout", "{}", waited.transcript());
    held.unlock().unwrap();
    drop(held);

    // The locked one, alone, as the recovery command says.
    let rerun = json(
        &project,
        &["--url", &url, "upgrade", "head", "--schemas", "tenant_07"],
    );
    assert_eq!(rerun.code, 0, "{}", rerun.transcript);
    assert_eq!(rerun.named("ok").len(), 1);

    for schema in &schemas {
        assert_eq!(
            db.rows(&format!("SELECT version_num FROM {schema}.retort_version")),
            [[HEAD]],
            "{schema}"
        );
        for table in ["t01", "t02", "t03"] {
            assert_eq!(
                db.rows(&format!("SELECT COUNT(*) FROM {schema}.{table}")),
                [[ROWS_PER_TABLE.to_string()]],
                "{schema}.{table}"
            );
        }
    }
    // Schemas the pattern does not match, and public, are left alone.
    assert_eq!(
        db.rows(
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema IN ('public', 'other', 'tenantx51')"
        ),
        [["0"]]
    );

    // `status --schemas`: a line per schema, the version and what is pending.
    let status = json(&project, &["--url", &url, "status", "--schemas", "tenant*"]);
    assert_eq!(status.code, 0, "{}", status.transcript);
    assert_eq!(status.targets.len(), 51);
    let behind: Vec<&Json> = status
        .targets
        .iter()
        .filter(|t| t["pending"] != 0)
        .collect();
    assert_eq!(behind.len(), 1, "{}", status.transcript);
    assert_eq!(behind[0]["schema"], "tenantx51");
    assert_eq!(behind[0]["pending"], 3);
    assert_eq!(status.summary["up_to_date"], 50);
    assert_eq!(status.summary["behind"], 1);
}

#[test]
fn keep_going_leaves_the_others_at_head_and_names_the_failure() {
    let fleet = Fleet::sqlite(10);
    fleet.break_target(3, "r02");
    let run = fleet.json("upgrade", &["--keep-going"]);
    assert_eq!(run.code, 1, "{}", run.transcript);
    assert_eq!(run.targets.len(), 10, "{}", run.transcript);
    let failed = run.with_status("failed");
    assert_eq!(failed.len(), 1, "{}", run.transcript);
    let failed = failed[0];
    assert_eq!(failed["target"], fleet.urls[3].as_str());
    assert_eq!(failed["error"]["kind"], "statement_failed");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revision `r02` (upgrade) failed"),
        "{failed}"
    );
    // r01 committed, r02 rolled back.
    assert_eq!(failed["from"], serde_json::json!([]));
    assert_eq!(failed["to"], serde_json::json!(["r01"]));
    assert_eq!(
        failed["recover"],
        format!("retort --url {} upgrade head", fleet.urls[3]).as_str()
    );
    assert_eq!(run.summary["failed"], 1);
    assert_eq!(run.summary["ok"], 9);
    assert_eq!(run.summary["not_started"], 0);
    assert!(run.summary["stopped"].is_null());
    for (i, url) in fleet.urls.iter().enumerate() {
        if i == 3 {
            assert_eq!(version(url), ["r01"]);
        } else {
            assert_at_head(url);
        }
    }
}

#[test]
fn by_default_a_failure_stops_new_targets_from_starting() {
    let fleet = Fleet::sqlite(6);
    fleet.break_target(2, "r01");
    let output = retort(&fleet.project, &["upgrade", "--targets", fleet.list()])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    for i in 0..2 {
        assert_at_head(&fleet.urls[i]);
    }
    assert_eq!(version_or_none(&fleet.urls[2]), Vec::<String>::new());
    // Targets 4 to 6 were never opened: a SQLite file is created by the
    // first write.
    for i in 3..6 {
        assert!(!fleet.file(i).exists(), "target {} was touched", i + 1);
    }
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "ok       {}: base -> r03, 3 step(s), ",
            fleet.urls[0]
        )),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with(&format!(
            "failed   {}: base -> base, 0 step(s), ",
            fleet.urls[2]
        )),
        "{stdout}"
    );
    assert!(lines[3].starts_with("  error: "), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "  recover: retort --url {} upgrade head\n",
            fleet.urls[2]
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "upgrade: 6 targets in "
        ) && stdout.contains("(concurrency 1): 2 ok, 0 skipped, 1 failed, 0 locked, 3 not started\nstopped: a target failed (`--on-error stop`)"),
        "{stdout}"
    );
}

/// The version rows of a target that may have no version table.
fn version_or_none(url: &str) -> Vec<String> {
    let tables = query(
        url,
        "SELECT name FROM sqlite_master WHERE name = 'retort_version'",
    );
    if tables.is_empty() {
        Vec::new()
    } else {
        version(url)
    }
}

#[test]
fn a_second_run_touches_only_the_targets_not_at_head() {
    let fleet = Fleet::sqlite(10);
    let first = fleet.json("upgrade", &["--concurrency", "3"]);
    assert_eq!(first.code, 0, "{}", first.transcript);
    for i in [2, 7] {
        let down = retort(
            &fleet.project,
            &["--url", &fleet.urls[i], "downgrade", "-1"],
        )
        .output()
        .unwrap();
        assert!(down.status.success(), "{down:?}");
    }
    let modified = |i: usize| fs::metadata(fleet.file(i)).unwrap().modified().unwrap();
    let before: Vec<_> = (0..10).map(modified).collect();
    // File times are coarse: a write now would show.
    std::thread::sleep(Duration::from_millis(20));
    let second = fleet.json("upgrade", &["--concurrency", "3"]);
    assert_eq!(second.code, 0, "{}", second.transcript);
    let mut expected = vec![fleet.urls[2].clone(), fleet.urls[7].clone()];
    expected.sort();
    assert_eq!(second.named("ok"), expected, "{}", second.transcript);
    assert_eq!(second.summary["skipped"], 8);
    for line in second.with_status("ok") {
        assert_eq!(line["from"], serde_json::json!(["r02"]));
        assert_eq!(line["count"], 1);
    }
    for (i, url) in fleet.urls.iter().enumerate() {
        assert_at_head(url);
        if i != 2 && i != 7 {
            assert_eq!(
                modified(i),
                before[i],
                "skipped target {} was written",
                i + 1
            );
        }
    }
}

#[test]
fn a_failing_canary_stops_the_run() {
    let fleet = Fleet::sqlite(8);
    fleet.break_target(1, "r03");
    let run = fleet.json(
        "upgrade",
        &["--canary", "2", "--concurrency", "4", "--keep-going"],
    );
    assert_eq!(run.code, 1, "{}", run.transcript);
    assert_eq!(run.summary["stopped"], "canary");
    assert_eq!(run.summary["not_started"], 6, "{}", run.transcript);
    assert_eq!(run.named("failed"), [fleet.urls[1].clone()]);
    for i in 2..8 {
        assert!(!fleet.file(i).exists(), "target {} started", i + 1);
    }
    // With the canaries fixed (the stray table dropped), everything runs.
    exec(&fleet.urls[1], "DROP TABLE t03");
    let run = fleet.json("upgrade", &["--canary", "2"]);
    assert_eq!(run.code, 0, "{}", run.transcript);
    assert_eq!((run.named("ok").len(), run.named("skipped").len()), (7, 1));
}

#[test]
fn status_lists_each_target() {
    let fleet = Fleet::sqlite(3);
    let one = retort(&fleet.project, &["--url", &fleet.urls[0], "upgrade", "r02"])
        .output()
        .unwrap();
    assert!(one.status.success(), "{one:?}");
    let output = retort(&fleet.project, &["status", "--targets", fleet.list()])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let expected = format!(
        "{}: at r02, 1 pending\n{}: at base, 3 pending\n{}: at base, 3 pending\n",
        fleet.urls[0], fleet.urls[1], fleet.urls[2]
    );
    assert!(stdout.starts_with(&expected), "{stdout}");
    assert!(
        stdout.ends_with(": 0 up to date, 3 behind, 0 need attention, 0 unreadable\n"),
        "{stdout}"
    );
    // Reading creates nothing.
    assert!(!fleet.file(1).exists());

    // From standard input, with a target that cannot be read.
    let mut list = fleet.urls.join("\n");
    list.push_str("\nsqlite:////nowhere/at/all/t.db\n");
    let mut child = retort(
        &fleet.project,
        &[
            "--format",
            "json",
            "status",
            "--targets",
            "-",
            "--concurrency",
            "2",
        ],
    )
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let lines: Vec<Json> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    let of = |url: &str| lines.iter().find(|l| l["target"] == url).unwrap();
    assert_eq!(of(&fleet.urls[0])["current"], serde_json::json!(["r02"]));
    assert_eq!(of(&fleet.urls[0])["pending"], 1);
    assert_eq!(of(&fleet.urls[1])["pending"], 3);
    let unreadable = of("sqlite:////nowhere/at/all/t.db");
    assert_eq!(unreadable["error"]["kind"], "connect");
    assert!(unreadable["pending"].is_null());
    assert_eq!(lines[4]["summary"]["unreadable"], 1);
}

#[test]
fn downgrade_and_stamp_fan_out_too() {
    let fleet = Fleet::sqlite(4);
    let up = fleet.json("upgrade", &[]);
    assert_eq!(up.code, 0, "{}", up.transcript);
    let down = fleet.json("downgrade", &["r01", "--concurrency", "2"]);
    assert_eq!(down.code, 0, "{}", down.transcript);
    assert_eq!(down.with_status("ok").len(), 4);
    assert_eq!(down.summary["command"], "downgrade");
    for url in &fleet.urls {
        assert_eq!(version(url), ["r01"]);
        assert!(query(url, "SELECT name FROM sqlite_master WHERE name = 't02'").is_empty());
    }
    let stamp = fleet.json("stamp", &["head"]);
    assert_eq!(stamp.code, 0, "{}", stamp.transcript);
    assert_eq!(stamp.with_status("ok").len(), 4);
    assert!(stamp.targets.iter().all(|t| t["count"] == 2));
    for url in &fleet.urls {
        assert_eq!(version(url), [HEAD]);
    }
    // Stamping where it already is changes nothing.
    let again = fleet.json("stamp", &["head"]);
    assert_eq!(
        again.with_status("skipped").len(),
        4,
        "{}",
        again.transcript
    );
}

#[test]
fn usage_errors_name_what_is_wrong() {
    let fleet = Fleet::sqlite(2);
    let cases: [(&[&str], &str); 5] = [
        (
            &["upgrade", "--canary", "1"],
            "`--canary`, `--on-error` and `--keep-going` go with a fleet",
        ),
        (
            &["upgrade", "--targets", fleet.list(), "--sql"],
            "`--sql` writes one script",
        ),
        (
            &[
                "--url",
                "sqlite:///x.db",
                "upgrade",
                "--targets",
                fleet.list(),
            ],
            "`--targets` names the databases",
        ),
        (
            &["--url", "sqlite:///x.db", "upgrade", "--schemas", "t*"],
            "`--schemas` takes the schemas of a PostgreSQL database",
        ),
        (
            &["upgrade", "--targets", "/nowhere/list.txt"],
            "cannot read the list of targets",
        ),
    ];
    for (args, message) in cases {
        let output = retort(&fleet.project, args).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    fs::write(&fleet.list, "sqlite:///a.db\nnot a url\n").unwrap();
    let output = retort(&fleet.project, &["upgrade", "--targets", fleet.list()])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: {}:2: ", fleet.list())),
        "{stderr}"
    );
}

#[test]
fn a_migration_left_half_way_is_resumed_across_the_fleet() {
    crate::db::run(resumed_across_the_fleet, Kind::Mariadb);
}

/// MariaDB commits DDL as it goes: a revision whose second statement fails
/// on one database stops half way there, and `resume` is what finishes it.
fn resumed_across_the_fleet(db: &TestDb) {
    let other = db.sibling();
    let mut revs = linear(1);
    let mut two = Rev::table("r02", &["r01"], "t02");
    two.upgrade = "CREATE TABLE t02a (id INTEGER);\nCREATE TABLE t02b (id INTEGER);\n".to_owned();
    revs.push(two);
    let project = Project::with_url(&db.url(), revs);
    other.exec("CREATE TABLE t02b (x INTEGER)");
    let list = project.path("targets.txt");
    fs::write(&list, format!("{}\n{}\n", db.url(), other.url())).unwrap();
    let list = list.to_str().unwrap();
    let shown = |db: &TestDb| DatabaseUrl::parse(&db.url()).unwrap().redacted();
    let run = json(&project, &["upgrade", "--targets", list, "--keep-going"]);
    assert_eq!(run.code, 1, "{}", run.transcript);
    let failed = run.with_status("failed");
    assert_eq!(failed.len(), 1, "{}", run.transcript);
    assert_eq!(failed[0]["error"]["kind"], "statement_failed");
    assert_eq!(
        failed[0]["recover"],
        format!("retort --url {} resume", shown(&other)).as_str()
    );
    // Fixed by hand, then resumed: the one left half way only.
    other.exec("DROP TABLE t02b");
    let resumed = json(&project, &["resume", "--targets", list]);
    assert_eq!(resumed.code, 0, "{}", resumed.transcript);
    assert_eq!(resumed.named("ok"), [shown(&other)]);
    assert_eq!(resumed.named("skipped"), [shown(db)]);
    for target in [db, &other] {
        assert_eq!(
            target.rows("SELECT version_num FROM retort_version"),
            [["r02"]]
        );
        assert_eq!(target.rows("SELECT COUNT(*) FROM t02b"), [["0"]]);
    }
}
