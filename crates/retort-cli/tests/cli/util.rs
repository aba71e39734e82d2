//! The test DSL: projects in temporary directories, and a runner that turns
//! one `retort` invocation into a normalised transcript for snapshots.
//!
//! A transcript reads
//!
//! ```text
//! exit: 0
//! --- stdout
//! …
//! --- stderr
//! …
//! ```
//!
//! with the temporary directory replaced by `[TMP]`. Revision files that a
//! command creates are noticed after each run: their random id becomes
//! `[ID1]`, `[ID2]`… (in creation order), their `created` time `[CREATED]`
//! and the date and time in their file name `[DATE]_[TIME]`.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

/// A `retort.toml` with one migrations directory and nothing else.
pub(crate) const CONFIG: &str = "[migrations]\ndirs = [\"migrations\"]\n";

/// The command, with an environment that cannot leak into the output.
pub(crate) fn command() -> Command {
    let mut cmd = Command::cargo_bin("retort").expect("the retort binary is built");
    cmd.env("NO_COLOR", "1").env_remove("DATABASE_URL");
    cmd
}

/// Runs `retort -C dir ARGS` and returns its transcript, `dir` shown as `[TMP]`.
pub(crate) fn retort(dir: &Path, args: &[&str]) -> String {
    let output = command().arg("-C").arg(dir).args(args).output().unwrap();
    transcript(&output, args, &tmp_replacements(dir))
}

/// A project in a temporary directory.
#[derive(Debug)]
pub(crate) struct Project {
    dir: TempDir,
    seen: RefCell<Seen>,
}

/// What the project knows about the files in it.
#[derive(Debug, Default)]
struct Seen {
    /// Revision files already accounted for (fixtures and noticed new files).
    files: BTreeSet<PathBuf>,
    /// Random parts of new revisions and their placeholders.
    replacements: Vec<(String, String)>,
    /// How many new revisions were noticed.
    new_ids: usize,
}

impl Project {
    /// An empty directory.
    pub(crate) fn empty() -> Project {
        Project {
            dir: tempfile::Builder::new()
                .prefix("retort-cli-")
                .tempdir()
                .unwrap(),
            seen: RefCell::default(),
        }
    }

    /// A copy of `examples/quickstart` (tests never write into the repository).
    pub(crate) fn quickstart() -> Project {
        let project = Project::empty();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart");
        copy_dir(&source, project.root());
        // The README's first command leaves the example's database beside
        // it; the copy starts without one, wherever that run got to.
        for leftover in [
            "quickstart.db",
            "quickstart.db-journal",
            "quickstart.db-wal",
            "quickstart.db-shm",
        ] {
            let _ = fs::remove_file(project.path(leftover));
        }
        project.mark_known();
        project
    }

    /// `retort.toml` ([`CONFIG`]) and `migrations/NAME` for each file.
    pub(crate) fn with_revisions(files: &[(&str, &str)]) -> Project {
        let project = Project::empty();
        project.write("retort.toml", CONFIG);
        fs::create_dir_all(project.path("migrations")).unwrap();
        for (name, text) in files {
            project.write(&format!("migrations/{name}"), text);
        }
        project
    }

    /// The project of the graph tests: three heads after a three-way merge,
    /// branch labels, a dependency and a second base.
    ///
    /// ```text
    /// e1   f1 (depends on billing)
    ///   \ /
    ///    m3  (merges b1, c1, d1)
    ///  / | \
    /// b1 c1 d1   b1 is `billing`, c1 `catalog`      g1 `search`, a second base
    ///  \ | /
    ///    a0
    /// ```
    pub(crate) fn three_heads() -> Project {
        Project::with_revisions(&THREE_HEADS)
    }

    /// The temporary directory.
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the project.
    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    /// Writes a file (creating directories); a revision file written this way
    /// keeps its id in transcripts.
    pub(crate) fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        self.seen.borrow_mut().files.insert(path);
    }

    /// A file's text.
    pub(crate) fn read(&self, relative: &str) -> String {
        fs::read_to_string(self.path(relative)).unwrap()
    }

    /// A file's text with the random parts of new revisions replaced.
    pub(crate) fn read_normalised(&self, relative: &str) -> String {
        self.normalise(self.read(relative))
    }

    /// The names in a directory, sorted, with random parts replaced.
    pub(crate) fn list(&self, relative: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path(relative))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names.into_iter().map(|n| self.normalise(n)).collect()
    }

    /// The project-relative path of the only new file named `*{suffix}`
    /// among the revision files noticed so far (e.g. `_first_revision.sql`).
    pub(crate) fn new_file(&self, suffix: &str) -> String {
        let seen = self.seen.borrow();
        let found: Vec<&PathBuf> = seen
            .files
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(suffix))
            .collect();
        assert_eq!(found.len(), 1, "one file ending in {suffix}: {found:?}");
        found[0]
            .strip_prefix(self.root())
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// `retort -C ROOT ARGS`.
    pub(crate) fn retort(&self, args: &[&str]) -> String {
        self.run(Some(self.root()), None, args)
    }

    /// `retort -C ROOT/RELATIVE ARGS`.
    pub(crate) fn retort_in(&self, relative: &str, args: &[&str]) -> String {
        self.run(Some(&self.path(relative)), None, args)
    }

    /// `retort ARGS` started in ROOT/RELATIVE, without `-C`.
    pub(crate) fn retort_from(&self, relative: &str, args: &[&str]) -> String {
        self.run(None, Some(&self.path(relative)), args)
    }

    fn run(&self, dash_c: Option<&Path>, cwd: Option<&Path>, args: &[&str]) -> String {
        let mut cmd = command();
        if let Some(dir) = dash_c {
            cmd.arg("-C").arg(dir);
        }
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let output = cmd.args(args).output().unwrap();
        self.notice_new_revisions();
        let text = transcript(&output, args, &tmp_replacements(self.root()));
        self.normalise(text)
    }

    fn normalise(&self, mut text: String) -> String {
        for (from, to) in &self.seen.borrow().replacements {
            text = text.replace(from.as_str(), to);
        }
        text
    }

    /// Accounts for every `*.sql` file now in the project (after a test
    /// moves fixture files around), so their ids stay in transcripts.
    pub(crate) fn mark_known(&self) {
        let mut files = Vec::new();
        sql_files(self.root(), &mut files);
        self.seen.borrow_mut().files.extend(files);
    }

    /// Registers placeholders for the revision files created since last time.
    fn notice_new_revisions(&self) {
        let mut files = Vec::new();
        sql_files(self.root(), &mut files);
        files.sort();
        let mut seen = self.seen.borrow_mut();
        for file in files {
            if !seen.files.insert(file.clone()) {
                continue;
            }
            let Ok(text) = fs::read_to_string(&file) else {
                continue;
            };
            let directive = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("-- retort:{name} ")))
                    .map(str::trim)
                    .map(str::to_owned)
            };
            if let Some(id) = directive("revision") {
                // Only random ids: 12 lowercase hex characters.
                let random = id.len() == 12
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                if random {
                    seen.new_ids += 1;
                    let placeholder = format!("[ID{}]", seen.new_ids);
                    seen.replacements.push((id, placeholder));
                }
            }
            if let Some(created) = directive("created") {
                // 2026-11-21T14:30:00Z: the file name says 20261121_1430.
                let date: String = created.get(0..10).unwrap_or("").replace('-', "");
                let time: String = created.get(11..16).unwrap_or("").replace(':', "");
                seen.replacements
                    .push((format!("{date}_{time}_"), "[DATE]_[TIME]_".to_owned()));
                seen.replacements.push((created, "[CREATED]".to_owned()));
            }
        }
    }
}

const THREE_HEADS: [(&str, &str); 8] = [
    (
        "01_a0_create_accounts.sql",
        "-- retort:revision a0
-- retort:message create accounts
-- retort:created 2026-01-01T09:00:00Z

-- retort:upgrade
CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);

-- retort:downgrade
DROP TABLE accounts;
",
    ),
    (
        "02_b1_add_invoices.sql",
        "-- retort:revision b1
-- retort:revises a0
-- retort:message add invoices
-- retort:created 2026-01-02T09:00:00Z
-- retort:branch-labels billing

-- retort:upgrade
CREATE TABLE invoices (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL);

-- retort:downgrade
DROP TABLE invoices;
",
    ),
    (
        "03_c1_add_products.sql",
        "-- retort:revision c1
-- retort:revises a0
-- retort:message add products
-- retort:created 2026-01-03T09:00:00Z
-- retort:branch-labels catalog

-- retort:upgrade
CREATE TABLE products (id INTEGER PRIMARY KEY, title TEXT NOT NULL);

-- retort:downgrade
DROP TABLE products;
",
    ),
    (
        "04_d1_add_audit_log.sql",
        "-- retort:revision d1
-- retort:revises a0
-- retort:message add audit log
-- retort:created 2026-01-04T09:00:00Z

-- retort:upgrade
CREATE TABLE audit_log (id INTEGER PRIMARY KEY, event TEXT NOT NULL);

-- retort:downgrade
DROP TABLE audit_log;
",
    ),
    (
        "05_m3_merge.sql",
        "-- retort:revision m3
-- retort:revises b1 c1 d1
-- retort:message merge billing, catalog and audit
-- retort:created 2026-01-05T09:00:00Z

-- retort:upgrade

-- retort:downgrade
",
    ),
    (
        "06_e1_add_reports.sql",
        "-- retort:revision e1
-- retort:revises m3
-- retort:message add reports
-- retort:created 2026-01-06T09:00:00Z

-- retort:upgrade
CREATE TABLE reports (id INTEGER PRIMARY KEY);

-- retort:downgrade
DROP TABLE reports;
",
    ),
    (
        "07_f1_add_payments.sql",
        "-- retort:revision f1
-- retort:revises m3
-- retort:message add payments
-- retort:created 2026-01-07T09:00:00Z
-- retort:depends-on billing

-- retort:upgrade
CREATE TABLE payments (id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL);

-- retort:downgrade
DROP TABLE payments;
",
    ),
    (
        // No `created` line: `Create Date` is left out, JSON says null.
        "08_g1_create_search_index.sql",
        "-- retort:revision g1
-- retort:message create search index
-- retort:branch-labels search

-- retort:upgrade
CREATE TABLE search_terms (term TEXT PRIMARY KEY);

-- retort:downgrade
DROP TABLE search_terms;
",
    ),
];

/// `dir` (as given and canonical) shown as `[TMP]`.
fn tmp_replacements(dir: &Path) -> Vec<(String, String)> {
    let mut list = Vec::new();
    if let Ok(canonical) = dir.canonicalize() {
        list.push((canonical.display().to_string(), "[TMP]".to_owned()));
    }
    list.push((dir.display().to_string(), "[TMP]".to_owned()));
    list
}

/// The transcript of a run; with `--format json` stdout must be exactly one
/// JSON document and stderr empty; a panic fails the test.
fn transcript(output: &Output, args: &[&str], replacements: &[(String, String)]) -> String {
    let stdout = String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8");
    let stderr = String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8");
    assert!(!stderr.contains("panicked"), "retort panicked:\n{stderr}");
    let json =
        args.windows(2).any(|w| w == ["--format", "json"]) || args.contains(&"--format=json");
    if json {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&stdout) {
            panic!("stdout is not one JSON document ({e}):\n{stdout}");
        }
        assert_eq!(stderr, "", "nothing on stderr with --format json");
    }
    let code = output
        .status
        .code()
        .map_or_else(|| "killed by a signal".to_owned(), |c| c.to_string());
    let mut text = format!(
        "exit: {code}\n--- stdout\n{}--- stderr\n{}",
        section(&stdout),
        section(&stderr)
    );
    for (from, to) in replacements {
        text = text.replace(from.as_str(), to);
    }
    text
}

/// Output as it is, flagging a missing final newline.
fn section(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_owned()
    } else {
        format!("{text}\n[no newline at end]\n")
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sql_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
}
