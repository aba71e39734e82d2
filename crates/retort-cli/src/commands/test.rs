//! `retort test`: the project's migrations tried on a scratch database
//! (see `retort::testing`).

use retort::testing::{self, RevisionReport, TestReport};

use super::schema::on_scratch_databases;
use super::{Context, say};
use crate::args::Format;
use crate::json;
use crate::output::Failure;

pub(crate) fn test(context: &Context) -> Result<(), Failure> {
    context.no_dot("test")?;
    let project = context.load_project()?;
    let url = project
        .config()
        .database_url(context.url())
        .map_err(retort::Error::from)?;
    let text = context.format() == Format::Text;
    if text {
        say(&format!(
            "testing {} revision(s) on a scratch {} database: each upgraded, downgraded and upgraded again",
            project.scripts().len(),
            url.dialect()
        ));
    }
    let report = on_scratch_databases(|| {
        Ok(testing::test_project(&project, &url, &mut |revision| {
            if text {
                say(&progress_line(revision));
            }
        })?)
    })?;
    context
        .printer
        .emit(|| format!("{report}\n"), || report_json(&report))?;
    if report.passed() {
        return Ok(());
    }
    let first = &report.failures[0];
    let hint = match &first.path {
        Some(path) => format!(
            "fix {} (revision {}), then run `retort test` again",
            path.display(),
            first.revision.as_deref().unwrap_or("")
        ),
        None => "fix what the report names, then run `retort test` again".to_owned(),
    };
    Err(Failure::check(
        "test_failed",
        format!(
            "{} check(s) failed; the first: {} {}",
            report.failures.len(),
            first.check.name(),
            first.revision.as_deref().unwrap_or("")
        )
        .trim_end()
        .to_owned(),
        Some(hint),
    )
    .quiet(context.format() == Format::Json))
}

/// One revision's line while the test runs.
fn progress_line(revision: &RevisionReport) -> String {
    format!(
        "  {:<12} {} {}",
        revision.state.name(),
        revision.revision,
        revision.message
    )
}

fn report_json(report: &TestReport) -> json::Test<'_> {
    json::Test {
        ok: report.passed(),
        dialect: report.dialect.name(),
        revisions: report
            .revisions
            .iter()
            .map(|r| json::TestRevision {
                revision: &r.revision,
                message: &r.message,
                path: r.path.display().to_string(),
                state: r.state.name(),
            })
            .collect(),
        failures: report
            .failures
            .iter()
            .map(|f| json::TestFailure {
                check: f.check.name(),
                revision: f.revision.as_deref(),
                path: f.path.as_ref().map(|p| p.display().to_string()),
                message: &f.message,
                differences: &f.differences,
            })
            .collect(),
        notes: &report.notes,
        declared_schema: report.declared_schema,
    }
}
