//! `retort test`: what a team checks before it deploys, on a scratch
//! database (SQLite in memory; on a server, a database of its own on
//! `schema.dev_url`, dropped afterwards), never on the project's own.
//!
//! - **One head**: a graph with several heads needs a merge before
//!   `upgrade head` can run.
//! - **The stairway**: each revision, in upgrade order, is upgraded,
//!   downgraded and upgraded again, so an upgrade that cannot run twice
//!   (its downgrade left something behind) or a downgrade that fails is
//!   caught.
//! - **Downgrade correctness**: the schema after a revision's downgrade is
//!   read back and compared, with the schema model, to the schema before
//!   its upgrade: a lost unique index, a NOT NULL not restored, an enum
//!   value or a type left behind, a renamed constraint.
//! - **The declared schema**: where the project declares one
//!   (`schema.sql`), the migrations must build it, as `retort check` says.
//!
//! The first revision that fails stops the stairway (what it left is not a
//! state the next revision was written for); the revisions after it are
//! reported as not reached.

use std::fmt;
use std::path::PathBuf;

use crate::autogenerate::{self, Current, DevDatabase, read};
use crate::config::DatabaseUrl;
use crate::db::{self, Driver};
use crate::migrator::{Direction, Engine, MigrateError};
use crate::project::Project;
use crate::schema::{self, Schema};
use crate::{Dialect, Error};

/// What a test run found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TestReport {
    /// The dialect the revisions ran in.
    pub dialect: Dialect,
    /// Each revision, in upgrade order, with what became of it.
    pub revisions: Vec<RevisionReport>,
    /// Every failure, in the order found.
    pub failures: Vec<TestFailure>,
    /// Checks that could not run, and why (a revision without a
    /// downgrade, no declared schema).
    pub notes: Vec<String>,
    /// Whether the migrations build the declared schema; `None` when it
    /// was not compared (none declared, or the heads not reached).
    pub declared_schema: Option<bool>,
}

impl TestReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// One revision's part of the stairway.
#[derive(Debug, Clone)]
pub struct RevisionReport {
    /// The revision id.
    pub revision: String,
    /// Its message.
    pub message: String,
    /// Its file.
    pub path: PathBuf,
    /// What became of it.
    pub state: RevisionState,
}

/// What became of a revision on the stairway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionState {
    /// Upgraded, downgraded to the same schema, and upgraded again.
    Passed,
    /// Upgraded only: it has no downgrade for this dialect.
    NoDowngrade,
    /// One of its checks failed (see [`TestReport::failures`]).
    Failed,
    /// An earlier revision failed, so it was not run.
    NotReached,
}

impl RevisionState {
    /// `passed`, `no_downgrade`, `failed` or `not_reached`.
    pub fn name(self) -> &'static str {
        match self {
            RevisionState::Passed => "passed",
            RevisionState::NoDowngrade => "no_downgrade",
            RevisionState::Failed => "failed",
            RevisionState::NotReached => "not_reached",
        }
    }
}

/// A check that failed.
#[derive(Debug, Clone)]
pub struct TestFailure {
    /// Which check.
    pub check: Check,
    /// The revision it concerns, if one.
    pub revision: Option<String>,
    /// That revision's file.
    pub path: Option<PathBuf>,
    /// What went wrong, in words.
    pub message: String,
    /// The schema differences, one a line, where schemas were compared.
    pub differences: Vec<String>,
}

/// The checks of a test run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The graph has exactly one head.
    OneHead,
    /// The revision's upgrade runs.
    Upgrade,
    /// Its downgrade runs.
    Downgrade,
    /// Its downgrade restores the schema from before its upgrade.
    DowngradeRestores,
    /// Its upgrade runs again after its downgrade.
    UpgradeAgain,
    /// The migrations build the declared schema.
    DeclaredSchema,
}

impl Check {
    /// A stable snake_case name (`check` in `--format json`).
    pub fn name(self) -> &'static str {
        match self {
            Check::OneHead => "one_head",
            Check::Upgrade => "upgrade",
            Check::Downgrade => "downgrade",
            Check::DowngradeRestores => "downgrade_restores",
            Check::UpgradeAgain => "upgrade_again",
            Check::DeclaredSchema => "declared_schema",
        }
    }
}

/// Tests `project`'s migrations in the dialect of `target` (the project's
/// database URL: its server holds the scratch database unless
/// `schema.dev_url` names another; the database itself is never used).
/// `progress` hears of each revision when its part is done.
///
/// In a project's own tests:
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let migrations = dir.path().join("migrations");
/// # std::fs::create_dir(&migrations).unwrap();
/// # std::fs::write(
/// #     migrations.join("0001_3a4feffbb7a1_add_users.sql"),
/// #     "-- retort:revision 3a4feffbb7a1\n-- retort:message add users table\n\n\
/// #      -- retort:upgrade\nCREATE TABLE users (id integer PRIMARY KEY);\n\n\
/// #      -- retort:downgrade\nDROP TABLE users;\n",
/// # )
/// # .unwrap();
/// let migrations = retort::Migrations::from_dir(&migrations);
/// let report = migrations.test("sqlite::memory:")?;
/// assert!(report.passed(), "{report}");
/// # Ok::<(), retort::Error>(())
/// ```
pub fn test_project(
    project: &Project,
    target: &DatabaseUrl,
    progress: &mut dyn FnMut(&RevisionReport),
) -> Result<TestReport, Error> {
    let dialect = target.dialect();
    let server = project
        .config()
        .dev_url()?
        .unwrap_or_else(|| target.clone());
    let mut report = TestReport {
        dialect,
        revisions: Vec::new(),
        failures: Vec::new(),
        notes: Vec::new(),
        declared_schema: None,
    };
    let graph = project.graph();
    let heads = graph.head_ids();
    if heads.len() > 1 {
        report.failures.push(TestFailure {
            check: Check::OneHead,
            revision: None,
            path: None,
            message: format!(
                "the graph has {} heads ({}): `retort merge heads -m MESSAGE` joins them",
                heads.len(),
                heads.join(", ")
            ),
            differences: Vec::new(),
        });
    }
    let mut dev = DevDatabase::create(dialect, &server)?;
    let reached_head = stairway(project, dev.driver(), &mut report, progress)?;
    let schema = &project.config().schema;
    if schema.command.is_none() && !schema.files.iter().any(|file| file.exists()) {
        report
            .notes
            .push("no declared schema (`schema.files`), so it was not compared".into());
    } else if reached_head {
        // The stairway left its database at the heads: compared as it is,
        // rather than replaying every migration on another one.
        declared_schema(project, target, dev.driver(), &mut report)?;
    } else {
        report.notes.push(
            "the declared schema was not compared: the migrations did not reach the heads".into(),
        );
    }
    Ok(report)
}

/// Each revision up, down and up again; whether every upgrade ran.
fn stairway(
    project: &Project,
    driver: &mut dyn Driver,
    report: &mut TestReport,
    progress: &mut dyn FnMut(&RevisionReport),
) -> Result<bool, Error> {
    let dialect = driver.dialect();
    let exclude = autogenerate::own_tables(project);
    let engine = Engine::new(project, driver);
    let order = engine.upgrade_order()?;
    let mut rows: Vec<usize> = Vec::new();
    let mut before = read(driver, &exclude)?;
    let mut failed = false;
    for &index in &order {
        let script = project.script(index);
        let mut revision = RevisionReport {
            revision: script.revision.clone(),
            message: script.message.clone(),
            path: script.path.clone(),
            state: RevisionState::NotReached,
        };
        if failed {
            report.revisions.push(revision);
            continue;
        }
        let fail = |report: &mut TestReport, check, message, differences| {
            report.failures.push(TestFailure {
                check,
                revision: Some(script.revision.clone()),
                path: Some(script.path.clone()),
                message,
                differences,
            });
        };
        let up = match engine.step(driver, index, Direction::Up, &rows) {
            Ok(up) => up,
            Err(error) => {
                fail(
                    report,
                    Check::Upgrade,
                    reason("its upgrade failed", &error),
                    Vec::new(),
                );
                failed = true;
                revision.state = RevisionState::Failed;
                progress(&revision);
                report.revisions.push(revision);
                continue;
            }
        };
        if !engine.can_downgrade(index) {
            rows = up;
            before = read(driver, &exclude)?;
            revision.state = RevisionState::NoDowngrade;
            report.notes.push(format!(
                "{} ({}): no downgrade for {dialect}, so it was upgraded only",
                script.revision,
                script.path.display()
            ));
            progress(&revision);
            report.revisions.push(revision);
            continue;
        }
        let outcome = (|| -> Result<Vec<usize>, (Check, String, Vec<String>)> {
            let down = engine
                .step(driver, index, Direction::Down, &up)
                .map_err(|e| {
                    (
                        Check::Downgrade,
                        reason("its downgrade failed", &e),
                        Vec::new(),
                    )
                })?;
            let after = read(driver, &exclude)
                .map_err(|e| (Check::Downgrade, e.to_string(), Vec::new()))?;
            let differences = differences(dialect, &before, &after);
            if !differences.is_empty() {
                return Err((
                    Check::DowngradeRestores,
                    "its downgrade does not restore the schema from before its upgrade; \
                     compared with before the upgrade, after the downgrade:"
                        .to_owned(),
                    differences,
                ));
            }
            engine
                .step(driver, index, Direction::Up, &down)
                .map_err(|e| {
                    (
                        Check::UpgradeAgain,
                        reason(
                            "its upgrade failed when run again after its downgrade \
                         (the downgrade left something behind, or the upgrade cannot run twice)",
                            &e,
                        ),
                        Vec::new(),
                    )
                })
        })();
        match outcome {
            Ok(again) => {
                rows = again;
                before = read(driver, &exclude)?;
                revision.state = RevisionState::Passed;
            }
            Err((check, message, differences)) => {
                fail(report, check, message, differences);
                failed = true;
                revision.state = RevisionState::Failed;
            }
        }
        progress(&revision);
        report.revisions.push(revision);
    }
    Ok(!failed)
}

/// The declared schema against `at_heads`, a database at the heads.
fn declared_schema(
    project: &Project,
    target: &DatabaseUrl,
    at_heads: &mut dyn Driver,
    report: &mut TestReport,
) -> Result<(), Error> {
    let comparison = autogenerate::compare(project, target, Current::Database(at_heads))?;
    report.declared_schema = Some(comparison.is_empty());
    if !comparison.is_empty() {
        report.failures.push(TestFailure {
            check: Check::DeclaredSchema,
            revision: None,
            path: None,
            message: format!(
                "the migrations do not build the declared schema: {} difference(s); `retort revision --autogenerate -m MESSAGE` writes the revision that closes the gap",
                comparison.changes.len()
            ),
            differences: comparison.lines(),
        });
    }
    Ok(())
}

/// What turns `before` into `after`, in words.
fn differences(dialect: Dialect, before: &Schema, after: &Schema) -> Vec<String> {
    schema::diff(
        before,
        after,
        &Default::default(),
        db::diff_options(dialect),
    )
    .iter()
    .flat_map(schema::Change::describe)
    .collect()
}

/// `what`, with the migrator's words for why.
fn reason(what: &str, error: &MigrateError) -> String {
    format!("{what}: {error}")
}

/// The report as `retort test` prints it.
impl fmt::Display for TestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for failure in &self.failures {
            match (&failure.revision, &failure.path) {
                (Some(revision), Some(path)) => writeln!(
                    f,
                    "FAILED {} {revision} ({}): {}",
                    failure.check.name(),
                    path.display(),
                    failure.message
                )?,
                _ => writeln!(f, "FAILED {}: {}", failure.check.name(), failure.message)?,
            }
            for difference in &failure.differences {
                writeln!(f, "  {difference}")?;
            }
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        let count = |state| self.revisions.iter().filter(|r| r.state == state).count();
        write!(
            f,
            "{} revision(s): {} passed, {} upgraded only (no downgrade), {} failed, {} not reached; declared schema: {}; {} failure(s)",
            self.revisions.len(),
            count(RevisionState::Passed),
            count(RevisionState::NoDowngrade),
            count(RevisionState::Failed),
            count(RevisionState::NotReached),
            match self.declared_schema {
                Some(true) => "built by the migrations",
                Some(false) => "differs",
                None => "not compared",
            },
            self.failures.len()
        )
    }
}
