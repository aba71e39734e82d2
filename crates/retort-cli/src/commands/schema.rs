//! Commands on schemas: `revision --autogenerate`, `check`, `schema dump`.

use std::io::Write as _;

use retort::autogenerate::{self, Comparison, Current};
use retort::db::Access;
use retort::migrator::Migrator;
use retort::project::NewRevision;

use super::Context;
use super::write::{new_revision, print_new};
use crate::args::{Format, RevisionArgs};
use crate::json;
use crate::output::Failure;

pub(crate) fn autogenerate(context: &Context, args: RevisionArgs) -> Result<(), Failure> {
    context.no_dot("revision")?;
    let project = context.load_project()?;
    let comparison = compare(context, &project, args.from_db)?;
    tell(context, &comparison);
    if comparison.is_empty() {
        let source = if args.from_db {
            "the database"
        } else {
            "the migrations"
        };
        return Ok(context.printer.emit(
            || {
                let _ = writeln!(
                    std::io::stderr(),
                    "no changes: the declared schema matches {source}; no revision written"
                );
                String::new()
            },
            || json::Check {
                ok: true,
                changes: Vec::new(),
                warnings: Vec::new(),
            },
        )?);
    }
    let bodies = comparison.bodies()?;
    let script = project.create_revision(&new_revision(args, bodies))?;
    print_new(
        context,
        &script,
        Some(json::Detected {
            changes: comparison.lines(),
            warnings: comparison.warnings(),
        }),
    )
}

pub(crate) fn check(context: &Context) -> Result<(), Failure> {
    context.no_dot("check")?;
    let project = context.load_project()?;
    let comparison = compare(context, &project, false)?;
    let changes = comparison.lines();
    context.printer.emit(
        || {
            let mut text = String::new();
            for line in &changes {
                text.push_str(line);
                text.push('\n');
            }
            if changes.is_empty() {
                text.push_str("ok: the migrations build the declared schema\n");
            }
            text
        },
        || json::Check {
            ok: changes.is_empty(),
            changes: changes.clone(),
            warnings: comparison.warnings(),
        },
    )?;
    if !changes.is_empty() {
        return Err(Failure::check(
            "schema_drift",
            format!(
                "the migrations do not build the declared schema: {} difference(s)",
                changes.len()
            ),
            Some("`retort revision --autogenerate -m MESSAGE` writes the revision that closes the gap; or change the declared schema to match".into()),
        )
        .quiet(context.format() == Format::Json));
    }
    Ok(())
}

pub(crate) fn baseline(
    context: &Context,
    message: String,
    rev_id: Option<String>,
) -> Result<(), Failure> {
    context.no_dot("baseline")?;
    let project = context.load_project()?;
    let mut driver = retort::open(project.config(), context.url(), Access::Write)?;
    let comparison = autogenerate::baseline(&project, driver.as_mut())?;
    let request = NewRevision {
        message,
        rev_id,
        bodies: comparison.bodies()?,
        ..NewRevision::default()
    };
    let script = project.create_revision(&request)?;
    // The new file is part of the project now: stamp the database at it.
    let project = context.load_project()?;
    let mut migrator = Migrator::new(&project, driver);
    migrator.stamp(&[&script.revision])?;
    let driver = migrator.into_driver();
    if context.format() != Format::Json {
        let _ = writeln!(
            std::io::stderr(),
            "the schema of {} is the new revision's ({} step(s)); the database is now at {}",
            driver.describe(),
            comparison.changes.len(),
            script.revision
        );
    }
    super::close(driver);
    print_new(
        context,
        &script,
        Some(json::Detected {
            changes: comparison.lines(),
            warnings: Vec::new(),
        }),
    )
}

pub(crate) fn dump(context: &Context) -> Result<(), Failure> {
    context.no_dot("schema dump")?;
    let project = context.load_project()?;
    let mut driver = retort::open(project.config(), context.url(), Access::Read)?;
    let (schema, text) = autogenerate::dump(&project, driver.as_mut())?;
    let dialect = driver.dialect();
    super::close(driver);
    Ok(context.printer.emit(
        || text,
        || json::Dump {
            dialect: dialect.name(),
            schema: &schema,
        },
    )?)
}

/// The declared schema against the migrations, or the live database.
fn compare(
    context: &Context,
    project: &retort::project::Project,
    from_db: bool,
) -> Result<Comparison, Failure> {
    on_scratch_databases(|| compare_now(context, project, from_db))
}

/// Runs `work`, which makes scratch databases, so that Ctrl-C drops them.
pub(super) fn on_scratch_databases<T>(
    work: impl FnOnce() -> Result<T, Failure>,
) -> Result<T, Failure> {
    drop_scratch_databases_on_interrupt();
    let done = work();
    if done.is_err() && autogenerate::interrupted() {
        // The work failed because Ctrl-C took its databases away: the
        // thread that did it ends the process with the signal's code.
        loop {
            std::thread::park();
        }
    }
    done
}

fn compare_now(
    context: &Context,
    project: &retort::project::Project,
    from_db: bool,
) -> Result<Comparison, Failure> {
    let url = project
        .config()
        .database_url(context.url())
        .map_err(retort::Error::from)?;
    if !from_db {
        return Ok(autogenerate::compare(project, &url, Current::Migrations)?);
    }
    let mut driver = retort::open(project.config(), context.url(), Access::Read)?;
    let comparison = autogenerate::compare(project, &url, Current::Database(driver.as_mut()))?;
    super::close(driver);
    Ok(comparison)
}

/// What was detected, on stderr as Alembic logs it, warnings marked.
fn tell(context: &Context, comparison: &Comparison) {
    if context.format() == Format::Json {
        return;
    }
    let mut err = std::io::stderr().lock();
    for line in comparison.lines() {
        let _ = writeln!(err, "detected {line}");
    }
    for warning in comparison.warnings() {
        let _ = writeln!(err, "warning: {warning}");
    }
}

/// Ctrl-C (or SIGTERM) while scratch databases exist drops them before the
/// process ends; the signal's default would leave them on the server.
#[cfg(unix)]
fn drop_scratch_databases_on_interrupt() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            autogenerate::drop_dev_databases();
            let _ = writeln!(
                std::io::stderr(),
                "interrupted: the scratch databases were dropped"
            );
            std::process::exit(128 + signal);
        }
    });
}

#[cfg(not(unix))]
fn drop_scratch_databases_on_interrupt() {}
