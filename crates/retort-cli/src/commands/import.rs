//! `import alembic`.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use retort::config::DatabaseUrl;
use retort::import::{self, Direction, ImportEvent, ImportReport, ImportRequest};

use super::Context;
use crate::args::{Format, ImportArgs};
use crate::json;
use crate::output::Failure;
use crate::render;

pub(crate) fn alembic(context: &Context, args: ImportArgs) -> Result<(), Failure> {
    context.no_dot("import alembic")?;
    let mut request = ImportRequest::new(args.source, args.dialect.dialect(), args.into);
    request.python = args.python;
    request.dev_url = match args.dev_url {
        Some(url) => Some(
            DatabaseUrl::parse(&url)
                .map_err(|e| Failure::usage(format!("--dev-url: {e}"), None))?,
        ),
        None => None,
    };
    let mut progress = Progress::new(context.format() == Format::Text);
    let report = super::schema::on_scratch_databases(|| {
        let report = import::import_alembic(&request, &mut |event| progress.event(event));
        progress.finish();
        Ok(report.map_err(retort::Error::from)?)
    })?;
    let path = |p: &std::path::Path| render::display_path(p, &context.cwd);
    let reviews: Vec<(String, String)> = report
        .needs_review
        .iter()
        .map(|r| (path(&r.path), r.reasons.join("; ")))
        .collect();
    Ok(context.printer.emit(
        || text(&report, &path(&report.migrations), &reviews),
        || json::Import {
            config: path(&report.config),
            migrations: path(&report.migrations),
            revisions: report.revisions,
            merges: report.merges,
            branch_labels: &report.branch_labels,
            depends_on: report.depends_on,
            irreversible: &report.irreversible,
            needs_review: report
                .needs_review
                .iter()
                .zip(&reviews)
                .map(|(r, (p, _))| json::Review {
                    revision: &r.revision,
                    path: p.clone(),
                    reasons: &r.reasons,
                })
                .collect(),
            version_table: &report.version_table,
            warnings: &report.warnings,
            alembic: &report.alembic,
            sqlalchemy: &report.sqlalchemy,
        },
    )?)
}

fn text(report: &ImportReport, migrations: &str, reviews: &[(String, String)]) -> String {
    let mut out = format!(
        "imported {} revision(s) into {migrations} ({} merge(s), {} with depends_on",
        report.revisions, report.merges, report.depends_on
    );
    if report.branch_labels.is_empty() {
        out.push_str(")\n");
    } else {
        out.push_str(&format!(
            ", branch labels: {})\n",
            report.branch_labels.join(", ")
        ));
    }
    out.push_str(&format!(
        "version table: {} (a database Alembic migrated continues where it is)\n",
        report.version_table
    ));
    for warning in &report.warnings {
        out.push_str(&format!("warning: {warning}\n"));
    }
    if !report.irreversible.is_empty() {
        out.push_str(&format!(
            "{} revision(s) without a downgrade (Alembic's raised or is missing): {}\n",
            report.irreversible.len(),
            report.irreversible.join(", ")
        ));
    }
    if reviews.is_empty() {
        out.push_str("no revision needs review\n");
    } else {
        out.push_str(&format!(
            "{} revision(s) need review; `retort upgrade` refuses to run them until the \
             `-- retort:review` line is removed:\n",
            reviews.len()
        ));
        for (path, reasons) in reviews {
            out.push_str(&format!("  {path}: {reasons}\n"));
        }
    }
    out.push_str("next: set `url` in retort.toml (or DATABASE_URL), then `retort status`\n");
    out
}

/// On a terminal, a bar for each pass over the revisions; in a pipe, a line
/// when each pass starts and one when it ends.
struct Progress {
    text: bool,
    terminal: bool,
    bar: Option<ProgressBar>,
    pass: Option<(Direction, Instant, usize)>,
}

impl Progress {
    fn new(text: bool) -> Progress {
        Progress {
            text,
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            pass: None,
        }
    }

    fn event(&mut self, event: ImportEvent) {
        if !self.text {
            return;
        }
        let ImportEvent::Revision {
            direction,
            index,
            total,
            revision,
        } = event
        else {
            return;
        };
        if self.pass.is_none_or(|(d, _, _)| d != direction) {
            self.finish();
            self.pass = Some((direction, Instant::now(), total));
            let line = format!(
                "running the {total} {}() functions with Alembic",
                name(direction)
            );
            if self.terminal {
                let bar =
                    ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
                if let Ok(style) =
                    ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} {msg}")
                {
                    bar.set_style(style);
                }
                bar.set_prefix(name(direction));
                self.bar = Some(bar);
            } else {
                let _ = writeln!(std::io::stderr(), "{line} ...");
            }
        }
        if let Some(bar) = &self.bar {
            bar.set_position(index as u64);
            bar.set_message(revision);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if let Some((direction, started, total)) = self.pass.take() {
            let _ = writeln!(
                std::io::stderr(),
                "ran the {total} {}() functions ({:.1} s)",
                name(direction),
                started.elapsed().as_secs_f64()
            );
        }
    }
}

fn name(direction: Direction) -> &'static str {
    match direction {
        Direction::Upgrade => "upgrade",
        Direction::Downgrade => "downgrade",
    }
}
