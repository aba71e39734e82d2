//! Projects, revision fixtures, a runner for the `retort` binary, and
//! assertions on the database's state.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;
use tempfile::TempDir;

use crate::db::TestDb;

/// The state tables retort creates.
pub(crate) const STATE_TABLES: [&str; 5] = [
    "retort_applied",
    "retort_audit",
    "retort_journal",
    "retort_lock",
    "retort_version",
];

/// The `retort` binary, located once (cargo builds it for integration tests).
pub(crate) fn retort_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| assert_cmd::cargo::cargo_bin("retort"))
}

// ---------------------------------------------------------------- fixtures

/// One revision file of a fixture.
#[derive(Debug, Clone)]
pub(crate) struct Rev {
    pub(crate) id: String,
    pub(crate) revises: Vec<String>,
    pub(crate) labels: Vec<String>,
    pub(crate) depends_on: Vec<String>,
    pub(crate) message: String,
    /// The table its upgrade creates (and its downgrade drops).
    pub(crate) table: Option<String>,
    pub(crate) upgrade: String,
    /// `None`: no downgrade section (irreversible).
    pub(crate) downgrade: Option<String>,
    /// `-- retort:transaction off`.
    pub(crate) transaction_off: bool,
}

/// Rows every fixture table gets, so a double application shows.
pub(crate) const ROWS_PER_TABLE: usize = 3;

impl Rev {
    /// A revision creating `table` (with three rows) and dropping it.
    pub(crate) fn table(id: &str, revises: &[&str], table: &str) -> Rev {
        Rev {
            id: id.to_owned(),
            revises: revises.iter().map(|s| (*s).to_owned()).collect(),
            labels: Vec::new(),
            depends_on: Vec::new(),
            message: format!("create {table}"),
            table: Some(table.to_owned()),
            upgrade: format!(
                "CREATE TABLE {table} (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n\
                 INSERT INTO {table} (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three');\n"
            ),
            downgrade: Some(format!("DROP TABLE {table};\n")),
            transaction_off: false,
        }
    }

    /// A merge revision with empty sections.
    pub(crate) fn merge(id: &str, revises: &[&str], message: &str) -> Rev {
        Rev {
            id: id.to_owned(),
            revises: revises.iter().map(|s| (*s).to_owned()).collect(),
            labels: Vec::new(),
            depends_on: Vec::new(),
            message: message.to_owned(),
            table: None,
            upgrade: String::new(),
            downgrade: Some(String::new()),
            transaction_off: false,
        }
    }

    pub(crate) fn labels(mut self, labels: &[&str]) -> Rev {
        self.labels = labels.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    pub(crate) fn depends_on(mut self, deps: &[&str]) -> Rev {
        self.depends_on = deps.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// Without a `-- retort:downgrade` section.
    pub(crate) fn irreversible(mut self) -> Rev {
        self.downgrade = None;
        self
    }

    /// With `-- retort:transaction off`.
    pub(crate) fn transaction_off(mut self) -> Rev {
        self.transaction_off = true;
        self
    }

    /// The file's text.
    pub(crate) fn text(&self) -> String {
        let mut text = format!("-- retort:revision {}\n", self.id);
        if !self.revises.is_empty() {
            writeln!(text, "-- retort:revises {}", self.revises.join(" ")).unwrap();
        }
        writeln!(text, "-- retort:message {}", self.message).unwrap();
        if !self.labels.is_empty() {
            writeln!(text, "-- retort:branch-labels {}", self.labels.join(" ")).unwrap();
        }
        if !self.depends_on.is_empty() {
            writeln!(text, "-- retort:depends-on {}", self.depends_on.join(" ")).unwrap();
        }
        if self.transaction_off {
            text.push_str("-- retort:transaction off\n");
        }
        write!(text, "\n-- retort:upgrade\n{}", self.upgrade).unwrap();
        if let Some(down) = &self.downgrade {
            write!(text, "\n-- retort:downgrade\n{down}").unwrap();
        }
        text
    }
}

/// The graph of the walk tests (the one of `plan/tests.rs`, with one more
/// revision after the merge so that `+2` has a straight line to walk):
///
/// ```text
/// a00001 - b00002 - c10003 - c20004 ---- m00007 - n00008 - o00009
///                \                     /
///                 d10005 - d20006 ----+            d10005 is `auth`
///
/// x00010 - y00011     a second base (`extra`); y00011 depends on `auth`
/// ```
///
/// Heads: o00009 and y00011. Each revision creates one table, except the
/// merge, which is empty.
pub(crate) fn graph() -> Vec<Rev> {
    vec![
        Rev::table("a00001", &[], "accounts"),
        Rev::table("b00002", &["a00001"], "users"),
        Rev::table("c10003", &["b00002"], "orders"),
        Rev::table("c20004", &["c10003"], "order_items"),
        Rev::table("d10005", &["b00002"], "sessions").labels(&["auth"]),
        Rev::table("d20006", &["d10005"], "tokens"),
        Rev::merge("m00007", &["c20004", "d20006"], "merge orders and auth"),
        Rev::table("n00008", &["m00007"], "audit_log"),
        Rev::table("o00009", &["n00008"], "reports"),
        Rev::table("x00010", &[], "settings").labels(&["extra"]),
        Rev::table("y00011", &["x00010"], "feature_flags").depends_on(&["auth"]),
    ]
}

/// `n` revisions in a line: `r01` creates `t01`, `r02` revises it…
pub(crate) fn linear(n: usize) -> Vec<Rev> {
    (1..=n)
        .map(|i| {
            let id = format!("r{i:02}");
            let parent = format!("r{:02}", i - 1);
            let revises: Vec<&str> = if i == 1 { vec![] } else { vec![&parent] };
            Rev::table(&id, &revises, &format!("t{i:02}"))
        })
        .collect()
}

/// Whether `order` applies every revision after its parents and
/// dependencies (those present in `order`); `reverse` for downgrades.
pub(crate) fn assert_topological(revs: &[Rev], order: &[String], reverse: bool) {
    let pos = |id: &str| order.iter().position(|o| o == id);
    let resolve = |name: &str| -> String {
        revs.iter()
            .find(|r| r.id == name || r.labels.iter().any(|l| l == name))
            .map(|r| r.id.clone())
            .unwrap_or_else(|| name.to_owned())
    };
    for rev in revs {
        let Some(me) = pos(&rev.id) else { continue };
        for below in rev.revises.iter().chain(&rev.depends_on) {
            let below = resolve(below);
            if let Some(p) = pos(&below) {
                assert!(
                    if reverse { me < p } else { p < me },
                    "{} must come {} {below} in {order:?}",
                    rev.id,
                    if reverse { "before" } else { "after" }
                );
            }
        }
    }
}

// ---------------------------------------------------------------- projects

/// A project in a temporary directory, pointed at one test database.
#[derive(Debug)]
pub(crate) struct Project {
    dir: TempDir,
    url: String,
    revs: Vec<Rev>,
    /// A program (and its arguments) that runs `retort` (e.g. `setpriv`).
    wrapper: Vec<String>,
}

impl Project {
    /// `retort.toml` and one file per revision (`migrations/NN_<id>.sql`).
    pub(crate) fn new(db: &TestDb, revs: Vec<Rev>) -> Project {
        Project::with_url(&db.url(), revs)
    }

    /// The same with another database URL.
    pub(crate) fn with_url(url: &str, revs: Vec<Rev>) -> Project {
        let dir = tempfile::Builder::new()
            .prefix("retort-migrate-")
            .tempdir()
            .unwrap();
        let project = Project {
            dir,
            url: url.to_owned(),
            revs,
            wrapper: Vec::new(),
        };
        project.write("retort.toml", "[migrations]\ndirs = [\"migrations\"]\n");
        fs::create_dir_all(project.path("migrations")).unwrap();
        for rev in &project.revs {
            project.write(&project.file_name(&rev.id), &rev.text());
        }
        project
    }

    /// Points the project at another database URL from now on.
    pub(crate) fn set_url(&mut self, url: &str) {
        url.clone_into(&mut self.url);
    }

    /// The revisions of the fixture.
    pub(crate) fn revs(&self) -> &[Rev] {
        &self.revs
    }

    /// The temporary directory.
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the project.
    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    /// `migrations/NN_<id>.sql`, relative to the project: numbered wide
    /// enough that names sort in fixture order.
    pub(crate) fn file_name(&self, id: &str) -> String {
        let n = self
            .revs
            .iter()
            .position(|r| r.id == id)
            .unwrap_or_else(|| panic!("no revision {id} in the fixture"));
        let width = self.revs.len().to_string().len().max(2);
        format!("migrations/{:0width$}_{id}.sql", n + 1)
    }

    /// Writes a file.
    pub(crate) fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Adds a revision file to the project.
    pub(crate) fn add(&mut self, rev: Rev) {
        self.revs.push(rev);
        let rev = self.revs.last().unwrap();
        self.write(&self.file_name(&rev.id), &rev.text());
    }

    /// Runs `retort` through a wrapper program from now on.
    pub(crate) fn set_wrapper(&mut self, wrapper: &[&str]) {
        self.wrapper = wrapper.iter().map(|s| (*s).to_owned()).collect();
    }

    /// `retort -C ROOT --url URL ARGS`, not started yet.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = match self.wrapper.split_first() {
            Some((program, rest)) => {
                let mut cmd = Command::new(program);
                cmd.args(rest).arg(retort_bin());
                cmd
            }
            None => Command::new(retort_bin()),
        };
        cmd.env("NO_COLOR", "1")
            .env_remove("DATABASE_URL")
            .env_remove("RETORT_LOCK_URL")
            .arg("-C")
            .arg(self.root())
            .arg("--url")
            .arg(&self.url)
            .args(args);
        cmd
    }

    /// Runs `retort ARGS` (text output).
    pub(crate) fn text(&self, args: &[&str]) -> Run {
        Run::new(args, false, self.command(args).output().unwrap())
    }

    /// Runs `retort --format json ARGS`.
    pub(crate) fn json(&self, args: &[&str]) -> Run {
        let mut full = vec!["--format", "json"];
        full.extend_from_slice(args);
        Run::new(args, true, self.command(&full).output().unwrap())
    }

    /// Replaces the project directory by `[TMP]` (for snapshots).
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        if let Ok(canonical) = self.root().canonicalize() {
            text = text.replace(&canonical.display().to_string(), "[TMP]");
        }
        text.replace(&self.root().display().to_string(), "[TMP]")
    }
}

/// One finished run of `retort`.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) args: String,
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    json: Option<Value>,
}

impl Run {
    /// Parses the output; with `--format json` stdout must be one document
    /// and stderr empty.
    pub(crate) fn new(args: &[&str], json: bool, output: Output) -> Run {
        let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
        let stderr = String::from_utf8(output.stderr).expect("stderr is UTF-8");
        assert!(!stderr.contains("panicked"), "retort panicked:\n{stderr}");
        let run = Run {
            args: args.join(" "),
            code: output.status.code().unwrap_or(-1),
            json: None,
            stdout,
            stderr,
        };
        if !json {
            return run;
        }
        let doc = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
            panic!("{}\nstdout is not one JSON document: {e}", run.transcript())
        });
        assert_eq!(
            run.stderr,
            "",
            "{}\nnothing on stderr with --format json",
            run.transcript()
        );
        Run {
            json: Some(doc),
            ..run
        }
    }

    /// Everything about the run, for failure messages.
    pub(crate) fn transcript(&self) -> String {
        format!(
            "$ retort {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    /// Asserts the exit code.
    #[track_caller]
    pub(crate) fn code(self, expected: i32) -> Run {
        assert_eq!(
            self.code,
            expected,
            "unexpected exit code\n{}",
            self.transcript()
        );
        self
    }

    /// Asserts success.
    #[track_caller]
    pub(crate) fn ok(self) -> Run {
        self.code(0)
    }

    /// The JSON document.
    pub(crate) fn doc(&self) -> &Value {
        self.json.as_ref().expect("a --format json run")
    }

    /// `error.kind` of a JSON failure.
    pub(crate) fn kind(&self) -> &str {
        self.doc()["error"]["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error document\n{}", self.transcript()))
    }

    /// `error.message` of a JSON failure.
    pub(crate) fn message(&self) -> &str {
        self.doc()["error"]["message"].as_str().unwrap()
    }

    /// `error.hint` of a JSON failure (empty when null).
    pub(crate) fn hint(&self) -> &str {
        self.doc()["error"]["hint"].as_str().unwrap_or("")
    }

    /// The revisions of `steps`, in order.
    pub(crate) fn steps(&self) -> Vec<String> {
        self.doc()["steps"]
            .as_array()
            .unwrap_or_else(|| panic!("no steps\n{}", self.transcript()))
            .iter()
            .map(|s| s["revision"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The directions of `steps`, in order.
    pub(crate) fn directions(&self) -> Vec<String> {
        self.doc()["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["direction"].as_str().unwrap().to_owned())
            .collect()
    }

    /// `heads`, sorted.
    pub(crate) fn heads(&self) -> Vec<String> {
        strings(&self.doc()["heads"])
    }
}

/// A JSON array of strings, sorted.
pub(crate) fn strings(value: &Value) -> Vec<String> {
    let mut out: Vec<String> = value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

/// `&["b", "a"]` as a sorted `Vec<String>`.
pub(crate) fn sorted(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// `(N ms)` → `(X ms)` and `after 0.3s` → `after Xs`, for snapshots.
pub(crate) fn normalise_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('(') {
        out.push_str(&rest[..=start]);
        rest = &rest[start + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(" ms)") {
            out.push('X');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

// ------------------------------------------------------------ the database

/// The version table's rows, sorted (none when the table does not exist).
pub(crate) fn version_rows(db: &TestDb) -> Vec<String> {
    version_rows_in(db, "retort_version")
}

/// The rows of version table `table` (`alembic_version`, say), sorted.
pub(crate) fn version_rows_in(db: &TestDb, table: &str) -> Vec<String> {
    if !db.tables().iter().any(|t| t == table) {
        return Vec::new();
    }
    db.rows(&format!(
        "SELECT version_num FROM {table} ORDER BY version_num"
    ))
    .into_iter()
    .map(|mut r| r.remove(0))
    .collect()
}

/// The revisions in the applied table, sorted.
pub(crate) fn applied(db: &TestDb) -> Vec<String> {
    if !db.tables().iter().any(|t| t == "retort_applied") {
        return Vec::new();
    }
    db.rows("SELECT revision FROM retort_applied ORDER BY revision")
        .into_iter()
        .map(|mut r| r.remove(0))
        .collect()
}

/// One column of the applied table for one revision.
pub(crate) fn applied_column(db: &TestDb, revision: &str, column: &str) -> String {
    let rows = db.rows(&format!(
        "SELECT {column} FROM retort_applied WHERE revision = '{revision}'"
    ));
    assert_eq!(rows.len(), 1, "one applied row for {revision}");
    rows[0][0].clone()
}

/// The tables that are not retort's, sorted.
pub(crate) fn user_tables(db: &TestDb) -> Vec<String> {
    db.tables()
        .into_iter()
        .filter(|t| !STATE_TABLES.contains(&t.as_str()))
        .collect()
}

/// The tables the revisions `applied` create, sorted.
pub(crate) fn tables_of(revs: &[Rev], applied: &BTreeSet<String>) -> Vec<String> {
    let mut tables: Vec<String> = revs
        .iter()
        .filter(|r| applied.contains(&r.id))
        .filter_map(|r| r.table.clone())
        .collect();
    tables.sort();
    tables
}

/// Asserts the version rows, the applied table and the schema: the tables
/// that exist are exactly those of the applied revisions, each with its
/// rows once.
/// The journal's rows (revision, statement, state), empty when the table
/// does not exist.
pub(crate) fn journal(db: &TestDb) -> Vec<Vec<String>> {
    if !db.tables().iter().any(|t| t == "retort_journal") {
        return Vec::new();
    }
    db.rows("SELECT revision, statement, state FROM retort_journal ORDER BY revision, statement")
}

#[track_caller]
pub(crate) fn assert_state(
    db: &TestDb,
    revs: &[Rev],
    rows: &[&str],
    applied_ids: &[&str],
    when: &str,
) {
    assert_eq!(version_rows(db), sorted(rows), "version rows {when}");
    assert_eq!(applied(db), sorted(applied_ids), "retort_applied {when}");
    assert_eq!(
        journal(db),
        Vec::<Vec<String>>::new(),
        "retort_journal {when}"
    );
    let set: BTreeSet<String> = applied_ids.iter().map(|s| (*s).to_owned()).collect();
    let expected = tables_of(revs, &set);
    assert_eq!(user_tables(db), expected, "tables {when}");
    for table in &expected {
        assert_eq!(
            db.rows(&format!("SELECT COUNT(*) FROM {table}")),
            [[ROWS_PER_TABLE.to_string()]],
            "rows of {table} {when}"
        );
    }
}
