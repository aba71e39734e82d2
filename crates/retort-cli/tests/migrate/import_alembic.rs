//! `retort import alembic` on the project in `alembic_project/` (written
//! for these tests: a merge, a branch label, depends_on, batch operations,
//! bulk inserts, an autocommit block, a data step that reads rows, an empty
//! revision), against the real Alembic (`RETORT_TEST_ALEMBIC`, with
//! psycopg2 and PyMySQL beside it; `.ci/run` installs them).
//!
//! What the imported files do must be what Alembic does: the same schema
//! (retort's schema model, and `pg_dump --schema-only` on PostgreSQL), the
//! same rows, the same `alembic_version`, going up from an empty database,
//! continuing from where Alembic stopped, and going back down.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::alembic::alembic;
use crate::db::{Kind, TestDb, dialect_tests, skip_without_tool};
use crate::util::{Run, retort_bin};

dialect_tests! {
    imports_every_kind_of_revision,
    upgrades_like_alembic_and_back_down,
    continues_where_alembic_left_off,
}

/// The revision that reads rows (marked for review).
const BACKFILL: &str = "9c0000000009";

/// The fixture copied to a temporary directory, Alembic and its Python.
pub(crate) struct Setup {
    dir: TempDir,
    source: PathBuf,
    alembic: PathBuf,
    python: PathBuf,
}

impl Setup {
    fn new(db: &TestDb) -> Option<Setup> {
        let alembic = match alembic() {
            Ok(program) => program,
            Err(why) => {
                skip_without_tool(db, &why);
                return None;
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("alembic");
        copy_dir(&fixture(), &source);
        Some(Setup::of(dir, source, alembic))
    }

    /// The Alembic project in `source`, imported into `dir`, run with
    /// `alembic` and the Python beside it.
    pub(crate) fn of(dir: TempDir, source: PathBuf, alembic: PathBuf) -> Setup {
        let python = alembic.with_file_name("python");
        let python = if python.exists() {
            python
        } else {
            "python3".into()
        };
        Setup {
            dir,
            source,
            alembic,
            python,
        }
    }

    fn source(&self) -> PathBuf {
        self.source.clone()
    }

    pub(crate) fn into(&self) -> PathBuf {
        self.dir.path().join("retort")
    }

    /// `retort import alembic` of the fixture for `db`'s dialect.
    pub(crate) fn import(&self, db: &TestDb) -> Run {
        let mut args = vec![
            "import".to_owned(),
            "alembic".to_owned(),
            self.source().join("alembic.ini").display().to_string(),
            "--dialect".to_owned(),
            dialect(db).to_owned(),
            "--into".to_owned(),
            self.into().display().to_string(),
            "--python".to_owned(),
            self.python.display().to_string(),
            "--format".to_owned(),
            "json".to_owned(),
        ];
        if db.kind() != Kind::Sqlite {
            args.push("--dev-url".to_owned());
            args.push(db.url());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = Command::new(retort_bin()).args(&args).output().unwrap();
        Run::new(&args, true, output)
    }

    /// Imports, then reviews the marked revisions as a person would whose
    /// databases hold nothing those revisions' reads would find: the SQL
    /// captured on an empty database is right, so the marks go. Returns
    /// the import's report.
    pub(crate) fn import_reviewed(&self, db: &TestDb) -> Run {
        let run = self.import(db).ok();
        for marked in run.doc()["needs_review"].as_array().unwrap() {
            let file = PathBuf::from(marked["path"].as_str().unwrap());
            let text = fs::read_to_string(&file).unwrap();
            let reviewed: String = text
                .lines()
                .filter(|l| !l.starts_with("-- retort:review"))
                .map(|l| format!("{l}\n"))
                .collect();
            fs::write(file, reviewed).unwrap();
        }
        run
    }

    /// The imported file of a revision.
    pub(crate) fn file(&self, revision: &str) -> PathBuf {
        let migrations = self.into().join("migrations");
        fs::read_dir(&migrations)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(revision)
            })
            .unwrap_or_else(|| panic!("no file for {revision} in {}", migrations.display()))
    }

    pub(crate) fn text(&self, revision: &str) -> String {
        fs::read_to_string(self.file(revision)).unwrap()
    }

    /// The real Alembic on `db`.
    pub(crate) fn alembic(&self, db: &TestDb, args: &[&str]) {
        let output = self.alembic_output(db, args);
        assert!(
            output.status.success(),
            "alembic {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Whether the real Alembic succeeds on `db`.
    pub(crate) fn alembic_succeeds(&self, db: &TestDb, args: &[&str]) -> bool {
        self.alembic_output(db, args).status.success()
    }

    fn alembic_output(&self, db: &TestDb, args: &[&str]) -> std::process::Output {
        Command::new(&self.alembic)
            .arg("-c")
            .arg(self.source().join("alembic.ini"))
            .args(args)
            .env("ALEMBIC_URL", sqlalchemy_url(db))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap()
    }

    /// retort in the imported project, on `db`.
    pub(crate) fn retort(&self, db: &TestDb, args: &[&str]) -> Run {
        let url = db.url();
        let mut all = vec!["--url", url.as_str()];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--format", "json"]);
        let output = Command::new(retort_bin())
            .current_dir(self.into())
            .args(&all)
            .output()
            .unwrap();
        Run::new(&all, true, output)
    }

    /// What Alembic's run and retort's run must agree on.
    pub(crate) fn state(&self, db: &TestDb) -> State {
        let dump = self.retort(db, &["schema", "dump"]).ok();
        let mut versions: Vec<String> = db
            .rows("SELECT version_num FROM alembic_version")
            .into_iter()
            .map(|mut r| r.remove(0))
            .collect();
        versions.sort();
        let accounts = if db.tables().iter().any(|t| t == "accounts") {
            db.rows("SELECT id, name, note, email FROM accounts ORDER BY id")
        } else {
            vec![]
        };
        State {
            schema: serde_json::to_string_pretty(&dump.doc()["schema"]).unwrap(),
            versions,
            accounts,
            pg_dump: pg_dump(db),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct State {
    schema: String,
    versions: Vec<String>,
    accounts: Vec<Vec<String>>,
    pg_dump: Option<String>,
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/migrate/alembic_project")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn dialect(db: &TestDb) -> &'static str {
    match db.kind() {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
        Kind::Mariadb => "mysql",
    }
}

/// The test database's URL as SQLAlchemy takes it.
fn sqlalchemy_url(db: &TestDb) -> String {
    match db.kind() {
        Kind::Sqlite => format!("sqlite:///{}", db.file().unwrap().display()),
        Kind::Postgres => db
            .url()
            .replacen("postgres://", "postgresql+psycopg2://", 1),
        Kind::Mariadb => db.url().replacen("mysql://", "mysql+pymysql://", 1),
    }
}

/// `pg_dump --schema-only` without retort's own tables and without what
/// differs between two dumps of equal schemas (comments, the `\restrict`
/// key of recent clients).
fn pg_dump(db: &TestDb) -> Option<String> {
    if db.kind() != Kind::Postgres {
        return None;
    }
    let output = Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", "-T", "retort_*", &db.url()])
        .output()
        .expect("pg_dump is installed beside the server");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    Some(
        text.lines()
            .filter(|l| {
                !l.starts_with("--")
                    && !l.starts_with("\\restrict")
                    && !l.starts_with("\\unrestrict")
            })
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// Each kind of revision lands in its file as it should, and the summary
/// counts them.
fn imports_every_kind_of_revision(db: &TestDb) {
    let Some(setup) = Setup::new(db) else { return };
    let run = setup.import(db).ok();
    let doc = run.doc();
    assert_eq!(doc["revisions"], 11, "{}", run.transcript());
    assert_eq!(doc["merges"], 1);
    assert_eq!(doc["depends_on"], 1);
    assert_eq!(doc["branch_labels"], serde_json::json!(["billing"]));
    assert_eq!(doc["version_table"], "alembic_version");
    assert_eq!(doc["irreversible"], serde_json::json!([]));
    assert_eq!(doc["warnings"], serde_json::json!([]));
    let review = doc["needs_review"].as_array().unwrap();
    assert_eq!(review.len(), 1, "{}", run.transcript());
    assert_eq!(review[0]["revision"], BACKFILL);
    assert!(
        review[0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("reads rows (`SELECT id FROM invoices`)"),
        "{review:?}"
    );

    // env.py's naming convention named what the revision left unnamed.
    assert!(
        setup
            .text("3c0000000003")
            .contains("CONSTRAINT uq_invoices_number UNIQUE")
    );
    let merge = setup.text("5e0000000005");
    assert!(
        merge.contains("-- retort:revises 4d0000000004 3c0000000003\n"),
        "{merge}"
    );
    assert!(
        merge.contains("-- retort:upgrade\n\n-- retort:downgrade\n"),
        "{merge}"
    );
    assert!(
        setup
            .text("3c0000000003")
            .contains("-- retort:branch-labels billing\n")
    );
    assert!(
        setup
            .text("6f0000000006")
            .contains("-- retort:depends-on 3c0000000003\n")
    );
    assert!(
        setup
            .text("1a0000000001")
            .contains("-- retort:created 2021-03-01T09:00:00.000000Z\n")
    );
    let empty = setup.text("7a0000000007");
    assert!(
        empty.ends_with("-- retort:upgrade\n\n-- retort:downgrade\n"),
        "{empty}"
    );
    let backfill = setup.text(BACKFILL);
    assert!(
        backfill.contains("-- retort:review its upgrade() reads rows"),
        "{backfill}"
    );

    // Literals as the driver sent them, one INSERT per row or one for all.
    let inserts = setup.text("1a0000000001");
    let quote = if db.kind() == Kind::Mariadb {
        "O\\'Brien"
    } else {
        "O''Brien"
    };
    assert!(inserts.contains(quote), "{inserts}");
    assert!(inserts.contains("'50% off? -- no'"), "{inserts}");
    assert!(
        setup.text("8b0000000008").contains("it''s 100% idle")
            || setup.text("8b0000000008").contains("it\\'s 100% idle")
    );

    // A statement that failed while the revision went on did nothing in
    // Alembic's run: it is left out, and the file says so.
    let statuses = setup.text("8b0000000008");
    if db.kind() == Kind::Postgres {
        assert!(
            statuses.contains("\nDROP TYPE IF EXISTS legacy_status;\n"),
            "{statuses}"
        );
    } else {
        assert!(
            statuses.contains("-- Left out of the upgrade: `DROP TYPE IF EXISTS legacy_status`"),
            "{statuses}"
        );
        assert!(!statuses.contains("\nDROP TYPE"), "{statuses}");
    }

    let audit = setup.text("6f0000000006");
    if db.kind() == Kind::Postgres {
        // Alembic's autocommit block: retort runs CONCURRENTLY alone anyway.
        assert!(
            audit.contains("CREATE INDEX CONCURRENTLY ix_audit_what"),
            "{audit}"
        );
        assert!(!audit.contains("-- retort:transaction off"), "{audit}");
    }

    // Nothing was left behind: no scratch file beside the project, no
    // __pycache__ beside the revision files.
    assert!(!setup.source().join("versions/__pycache__").exists());

    // The marked revision stops `upgrade` before anything runs.
    let refused = setup.retort(db, &["upgrade"]).code(2);
    assert_eq!(refused.kind(), "needs_review", "{}", refused.transcript());
    assert!(
        refused.message().contains(BACKFILL),
        "{}",
        refused.transcript()
    );
    assert!(!db.tables().iter().any(|t| t == "accounts"));

    // Importing again into the same place is refused, and changes nothing.
    let again = setup.import(db).code(2);
    assert_eq!(again.kind(), "already_initialized");
}

/// From an empty database to the heads, then back to base: retort's run of
/// the imported files and Alembic's own run end the same at every end.
fn upgrades_like_alembic_and_back_down(db: &TestDb) {
    let Some(setup) = Setup::new(db) else { return };
    setup.import_reviewed(db);
    let theirs = db.sibling();
    setup.alembic(&theirs, &["upgrade", "heads"]);
    let run = setup.retort(db, &["upgrade", "heads"]).ok();
    assert_eq!(run.steps().len(), 11, "{}", run.transcript());
    let ours = setup.state(db);
    assert_eq!(ours.versions, ["1e0000000011"]);
    assert_eq!(ours, setup.state(&theirs));

    setup.alembic(&theirs, &["downgrade", "base"]);
    setup.retort(db, &["downgrade", "base"]).ok();
    let ours = setup.state(db);
    assert!(ours.versions.is_empty());
    assert_eq!(ours, setup.state(&theirs));
}

/// A database Alembic took half way continues with retort to the head, and
/// `downgrade -5` goes where Alembic's goes.
fn continues_where_alembic_left_off(db: &TestDb) {
    let Some(setup) = Setup::new(db) else { return };
    setup.import_reviewed(db);
    setup.alembic(db, &["upgrade", "6f0000000006"]);
    let run = setup.retort(db, &["upgrade"]).ok();
    assert_eq!(
        run.steps(),
        [
            "7a0000000007",
            "8b0000000008",
            BACKFILL,
            "0d0000000010",
            "1e0000000011"
        ]
    );
    let theirs = db.sibling();
    setup.alembic(&theirs, &["upgrade", "heads"]);
    assert_eq!(setup.state(db), setup.state(&theirs));

    setup.retort(db, &["downgrade", "-5"]).ok();
    setup.alembic(&theirs, &["downgrade", "-5"]);
    let ours = setup.state(db);
    assert_eq!(ours.versions, ["6f0000000006"]);
    assert_eq!(ours, setup.state(&theirs));
}

/// `retort import alembic` with `args` (the fixture's source and a
/// directory to write into are given by the caller).
fn import_with(args: &[&str]) -> Run {
    let mut all = vec!["import", "alembic"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let output = Command::new(retort_bin()).args(&all).output().unwrap();
    Run::new(&all, true, output)
}

/// What is missing, and what to type: no interpreter, no Alembic in it,
/// no Alembic project, no server for the scratch database. Nothing is
/// written.
#[test]
fn missing_pieces_are_named_with_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let into = dir.path().join("out");
    let into = into.to_str().unwrap();
    let fixture = fixture();
    let source = fixture.to_str().unwrap();
    let fails = |source: &str, dialect: &str, python: &str, extra: &[&str]| {
        let mut args = vec![
            source,
            "--dialect",
            dialect,
            "--into",
            into,
            "--python",
            python,
        ];
        args.extend_from_slice(extra);
        import_with(&args).code(2)
    };

    let run = fails(source, "sqlite", "/nonexistent/python3", &[]);
    assert_eq!(run.kind(), "no_python");
    assert!(run.hint().contains("--python"), "{}", run.transcript());

    // An interpreter without Alembic: a bare virtual environment.
    let bare = dir.path().join("bare");
    let made = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&bare)
        .status();
    if made.is_ok_and(|s| s.success()) {
        let run = fails(
            source,
            "sqlite",
            bare.join("bin/python").to_str().unwrap(),
            &[],
        );
        assert_eq!(run.kind(), "no_alembic", "{}", run.transcript());
        let hint = run.hint();
        assert!(
            hint.contains("-m pip install alembic"),
            "{}",
            run.transcript()
        );
    }

    let Ok(alembic) = alembic() else { return };
    let python = alembic.with_file_name("python");
    let python = python.to_str().unwrap();
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let run = fails(empty.to_str().unwrap(), "sqlite", python, &[]);
    assert_eq!(run.kind(), "not_alembic", "{}", run.transcript());
    assert!(
        run.message().contains("alembic.ini"),
        "{}",
        run.transcript()
    );

    let run = fails(source, "postgres", python, &[]);
    assert_eq!(run.kind(), "no_dev_url", "{}", run.transcript());
    assert!(run.hint().contains("--dev-url"), "{}", run.transcript());
    let run = fails(
        source,
        "postgres",
        python,
        &["--dev-url", "mysql://root@localhost/x"],
    );
    assert_eq!(run.kind(), "dev_url_dialect", "{}", run.transcript());
    assert!(
        !Path::new(into).exists(),
        "nothing is written when the import fails"
    );
}

/// A revision file that does not import (an application module missing
/// from the interpreter) stops the import with Python's words and the
/// file; one whose upgrade raises is imported, marked for review.
#[test]
fn broken_revisions_are_named() {
    let Ok(alembic) = alembic() else {
        assert!(!crate::db::servers_required(), "Alembic is required here");
        return;
    };
    let python = alembic.with_file_name("python");
    let python = python.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("alembic");
    copy_dir(&fixture(), &source);
    let into = dir.path().join("out");
    let head = "revision = \"2f0000000012\"\ndown_revision = \"1e0000000011\"\nbranch_labels = None\ndepends_on = None\n";

    let broken = source.join("versions/2f0000000012_broken.py");
    fs::write(&broken, format!("\"\"\"needs the app\"\"\"\nimport myapp.types\n{head}\ndef upgrade():\n    pass\n\ndef downgrade():\n    pass\n")).unwrap();
    let args = [
        source.to_str().unwrap(),
        "--dialect",
        "sqlite",
        "--into",
        into.to_str().unwrap(),
        "--python",
        python,
    ];
    let run = import_with(&args).code(2);
    assert_eq!(run.kind(), "alembic_load", "{}", run.transcript());
    assert!(
        run.message().contains("No module named 'myapp'"),
        "{}",
        run.transcript()
    );
    assert!(
        run.hint().contains("2f0000000012_broken.py"),
        "{}",
        run.transcript()
    );
    assert!(!into.exists());

    fs::write(&broken, format!("\"\"\"raises half way\"\"\"\nfrom alembic import op\n{head}\ndef upgrade():\n    op.execute(\"CREATE TABLE half (id INTEGER)\")\n    raise RuntimeError(\"boom\")\n\ndef downgrade():\n    op.execute(\"DROP TABLE half\")\n")).unwrap();
    let run = import_with(&args).ok();
    let review = &run.doc()["needs_review"];
    let reasons: Vec<&str> = review
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["revision"] == "2f0000000012")
        .flat_map(|r| {
            r["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
        })
        .collect();
    assert_eq!(
        reasons,
        ["its upgrade() raised RuntimeError: boom; the SQL is what ran before that"],
        "{}",
        run.transcript()
    );
    let text = fs::read_to_string(into.join("migrations/2f0000000012_broken.sql")).unwrap();
    assert!(
        text.contains("-- retort:upgrade\nCREATE TABLE half (id INTEGER);\n"),
        "{text}"
    );
}
