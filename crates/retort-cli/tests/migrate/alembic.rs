//! `version_table = "alembic_version"`: retort takes over a database that
//! Alembic migrated with the same revision ids, and keeps the table Alembic
//! can read back.
//!
//! [`alembic_and_retort_take_turns`] runs the real Alembic: the executable
//! named by `RETORT_TEST_ALEMBIC`, else `alembic` on `PATH` (`.ci/run`
//! installs it); without one the test is skipped, except in CI.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::db::{Kind, TestDb, dialect_tests, skip_without_tool};
use crate::util::{Project, Rev, applied, linear, sorted, user_tables, version_rows_in};

dialect_tests! {
    takes_over_an_alembic_database,
}

/// The state Alembic leaves after `alembic upgrade r02` of the same
/// revisions: their tables, and `alembic_version` with one row (Alembic's
/// DDL: `version_num VARCHAR(32) NOT NULL`, primary key `alembic_version_pkc`).
fn takes_over_an_alembic_database(db: &TestDb) {
    let project = Project::new(db, linear(3));
    use_alembic_version(&project);
    db.exec("CREATE TABLE t01 (id INTEGER PRIMARY KEY, n INTEGER)");
    db.exec("CREATE TABLE t02 (id INTEGER PRIMARY KEY, n INTEGER)");
    db.exec(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
    );
    db.exec("INSERT INTO alembic_version (version_num) VALUES ('r02')");

    let current = project.json(&["current"]).ok();
    assert_eq!(current.doc()["heads"], serde_json::json!(["r02"]));
    let pending = project.json(&["status"]).ok();
    assert_eq!(pending.doc()["pending"][0]["revision"], "r03");

    // Revisions Alembic applied have no checksum yet: reported, not failed.
    let verify = project.json(&["verify"]).ok();
    assert_eq!(verify.doc()["ok"], true);
    assert_eq!(verify.doc()["findings"][0]["kind"], "unrecorded");

    let run = project.json(&["upgrade"]).ok();
    assert_eq!(run.steps(), ["r03"]);
    let rows = db.rows("SELECT version_num FROM alembic_version");
    assert_eq!(rows, [["r03"]]);
    assert!(!db.tables().iter().any(|t| t == "retort_version"));
    assert_eq!(applied(db), ["r03"]);

    let rehash = project.json(&["rehash"]).ok();
    assert_eq!(rehash.doc()["recorded"], serde_json::json!(["r01", "r02"]));
    assert_eq!(applied(db), ["r01", "r02", "r03"]);
}

/// Points the project's version table at `alembic_version`.
pub(crate) fn use_alembic_version(project: &Project) {
    project.write(
        "retort.toml",
        "[migrations]\ndirs = [\"migrations\"]\nversion_table = \"alembic_version\"\n",
    );
}

/// The Alembic executable, or why there is none.
pub(crate) fn alembic() -> Result<PathBuf, String> {
    let program = std::env::var_os("RETORT_TEST_ALEMBIC").map_or("alembic".into(), PathBuf::from);
    match Command::new(&program).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(program),
        Ok(out) => Err(format!(
            "`{} --version` failed: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        )),
        Err(e) => Err(format!(
            "Alembic is not installed (`{}`: {e}); set RETORT_TEST_ALEMBIC",
            program.display()
        )),
    }
}

/// An Alembic project (`alembic init`) on `db` with one Python revision
/// file per fixture revision, running the same SQL.
pub(crate) struct AlembicProject {
    program: PathBuf,
    ini: PathBuf,
}

impl AlembicProject {
    pub(crate) fn new(program: PathBuf, root: &Path, db: &TestDb, revs: &[Rev]) -> AlembicProject {
        let scripts = root.join("alembic");
        let init = Command::new(&program)
            .current_dir(root)
            .arg("init")
            .arg(&scripts)
            .output()
            .unwrap();
        assert!(
            init.status.success(),
            "{}",
            String::from_utf8_lossy(&init.stderr)
        );
        let ini = root.join("alembic.ini");
        let url = format!("sqlite:///{}", db.file().unwrap().display());
        let text = fs::read_to_string(&ini).unwrap();
        let text: String = text
            .lines()
            .map(|l| {
                if l.starts_with("sqlalchemy.url") {
                    format!("sqlalchemy.url = {url}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        fs::write(&ini, text).unwrap();
        for rev in revs {
            fs::write(scripts.join(format!("versions/{}.py", rev.id)), python(rev)).unwrap();
        }
        AlembicProject { program, ini }
    }

    /// Its `alembic.ini`.
    pub(crate) fn ini(&self) -> &Path {
        &self.ini
    }

    /// The Python that runs this Alembic: the one beside it (a virtual
    /// environment's), else `python3`.
    pub(crate) fn python(&self) -> PathBuf {
        let beside = self.program.with_file_name("python");
        if beside.exists() {
            beside
        } else {
            PathBuf::from("python3")
        }
    }

    pub(crate) fn run(&self, args: &[&str]) -> String {
        self.run_with(args, &[])
    }

    /// Runs `alembic ARGS` with environment variables `env`; its stdout.
    pub(crate) fn run_with(&self, args: &[&str], env: &[(&str, &Path)]) -> String {
        let (stdout, ok) = self.try_run_with(args, env);
        assert!(ok, "alembic {} failed: {stdout}", args.join(" "));
        stdout
    }

    /// Runs `alembic ARGS`: its stdout, and whether it succeeded.
    pub(crate) fn try_run(&self, args: &[&str]) -> (String, bool) {
        self.try_run_with(args, &[])
    }

    /// [`AlembicProject::try_run`] with environment variables `env`.
    pub(crate) fn try_run_with(&self, args: &[&str], env: &[(&str, &Path)]) -> (String, bool) {
        let out = Command::new(&self.program)
            .envs(env.iter().copied())
            .arg("-c")
            .arg(&self.ini)
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        (stdout, out.status.success())
    }

    /// What `alembic current` says the database is at, sorted.
    fn current(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .run(&["current"])
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect();
        ids.sort();
        ids
    }
}

/// A revision as an Alembic script: the same statements through `op.execute`.
fn python(rev: &Rev) -> String {
    let statements = |sql: &str| -> String {
        let body: String = sql
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| format!("    op.execute({s:?})\n"))
            .collect();
        if body.is_empty() {
            "    pass\n".to_owned()
        } else {
            body
        }
    };
    python_with(
        rev,
        &statements(&rev.upgrade),
        &statements(rev.downgrade.as_deref().unwrap_or_default()),
    )
}

/// A revision's Alembic script with the given function bodies.
pub(crate) fn python_with(rev: &Rev, upgrade: &str, downgrade: &str) -> String {
    let tuple = |ids: &[String]| match ids {
        [] => "None".to_owned(),
        [one] => format!("{one:?}"),
        many => format!(
            "({})",
            many.iter().map(|r| format!("{r:?}, ")).collect::<String>()
        ),
    };
    format!(
        "from alembic import op\n\nrevision = {:?}\ndown_revision = {}\n\
         branch_labels = {}\ndepends_on = {}\n\n\ndef upgrade():\n{}\n\ndef downgrade():\n{}",
        rev.id,
        tuple(&rev.revises),
        tuple(&rev.labels),
        tuple(&rev.depends_on),
        upgrade,
        downgrade,
    )
}

/// Alembic and retort migrate one SQLite database in turns, through a
/// branch, its merge and back: after every command each tool reads the
/// version table as the other left it.
///
/// ```text
/// r01 - a01 ---- m01 - r02
///     \        /
///      b01 ---+
/// ```
#[test]
fn alembic_and_retort_take_turns() {
    let db = TestDb::create(Kind::Sqlite).unwrap();
    let program = match alembic() {
        Ok(program) => program,
        Err(why) => return skip_without_tool(&db, &why),
    };
    let revs = vec![
        Rev::table("r01", &[], "t01"),
        Rev::table("a01", &["r01"], "ta1"),
        Rev::table("b01", &["r01"], "tb1"),
        Rev::merge("m01", &["a01", "b01"], "merge"),
        Rev::table("r02", &["m01"], "t02"),
    ];
    let project = Project::new(&db, revs.clone());
    use_alembic_version(&project);
    let alembic = AlembicProject::new(program, project.root(), &db, &revs);
    let retort_current = || project.json(&["current"]).ok().heads();
    let both_at = |ids: &[&str], when: &str| {
        assert_eq!(
            version_rows_in(&db, "alembic_version"),
            sorted(ids),
            "version rows {when}"
        );
        assert_eq!(alembic.current(), sorted(ids), "alembic current {when}");
        assert_eq!(retort_current(), sorted(ids), "retort current {when}");
    };

    alembic.run(&["upgrade", "a01"]);
    both_at(&["a01"], "after alembic upgrade a01");

    // The other side of the branch point: a second row, as Alembic adds.
    assert_eq!(project.json(&["upgrade", "b01"]).ok().steps(), ["b01"]);
    both_at(&["a01", "b01"], "after retort upgrade b01");

    alembic.run(&["upgrade", "heads"]);
    both_at(&["r02"], "after alembic upgrade heads (the merge)");
    assert_eq!(
        project.json(&["status"]).ok().doc()["pending"],
        serde_json::json!([])
    );

    assert_eq!(project.json(&["downgrade", "-1"]).ok().steps(), ["r02"]);
    both_at(&["m01"], "after retort downgrade -1");

    // Alembic unmerges what retort left: both parents come back (Alembic
    // calls `-1` from a merge point an ambiguous walk, and so does retort).
    alembic.run(&["downgrade", "a01"]);
    both_at(&["a01", "b01"], "after alembic downgrade a01 (the unmerge)");

    let down = project.json(&["downgrade", "base"]).ok();
    assert_eq!(
        sorted(&down.steps().iter().map(String::as_str).collect::<Vec<_>>()),
        ["a01", "b01", "r01"]
    );
    both_at(&[], "after retort downgrade base");
    // Every migration's table is gone; the version table stays, empty.
    assert_eq!(user_tables(&db), ["alembic_version"]);
}
