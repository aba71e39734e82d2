//! Commands on a fleet (`--targets FILE`, `--schemas PATTERN`): `upgrade`,
//! `downgrade`, `stamp` and `resume` on every target, `status` of every
//! target. A line per target as it finishes, then a summary line; with
//! `--format json`, one JSON object a line, the summary last.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use retort::Diagnostic as _;
use retort::config::Config;
use retort::fanout::{
    self, OnError, Progress, Recovery, Rollout, Summary, Target, TargetReport, TargetState,
    TargetStatus,
};
use retort::migrator::{Event, Options, Request};
use retort::project::Project;
use serde::Serialize;

use super::Context;
use crate::args::{FleetArgs, Format, OnErrorArg, TargetArgs};
use crate::json;
use crate::output::{Failure, write_stdout};

/// Where the targets come from.
#[derive(Debug)]
enum Source {
    /// A file of URLs (`-`: standard input).
    File(PathBuf),
    /// The schemas of one PostgreSQL database matching a pattern.
    Schemas(String),
}

/// The targets of a command on a fleet, and how to go through them.
#[derive(Debug)]
pub(crate) struct Fleet {
    source: Source,
    rollout: Rollout,
}

impl Fleet {
    /// The fleet the options name, or `None` when they name none (the
    /// command runs on one database).
    pub(crate) fn from_args(context: &Context, args: &FleetArgs) -> Result<Option<Fleet>, Failure> {
        let on_error = if args.keep_going || args.on_error == OnErrorArg::Continue {
            OnError::Continue
        } else {
            OnError::Stop
        };
        let Some(source) = source(context, &args.targets)? else {
            if args.canary > 0 || on_error == OnError::Continue {
                return Err(no_fleet("`--canary`, `--on-error` and `--keep-going` go"));
            }
            return Ok(None);
        };
        Ok(Some(Fleet {
            source,
            rollout: Rollout {
                concurrency: concurrency(&args.targets),
                canary: args.canary,
                on_error,
            },
        }))
    }

    /// The fleet of `status`, or `None` for one database.
    pub(crate) fn of_targets(
        context: &Context,
        args: &TargetArgs,
    ) -> Result<Option<Fleet>, Failure> {
        Ok(source(context, args)?.map(|source| Fleet {
            source,
            rollout: Rollout {
                concurrency: concurrency(args),
                ..Rollout::default()
            },
        }))
    }
}

impl Fleet {
    /// The project, checksummed as it loads (as for a run on one
    /// database), and the targets, listed meanwhile (`--schemas` asks the
    /// server).
    fn load(&self, context: &Context) -> Result<(Project, Vec<Target>), Failure> {
        let config = context.config()?;
        let (project, targets) = Project::load_beside(config.clone(), true, || {
            targets(context, &config, &self.source)
        });
        Ok((project?, targets?))
    }
}

fn concurrency(args: &TargetArgs) -> usize {
    usize::try_from(args.concurrency).unwrap_or(usize::MAX)
}

fn source(context: &Context, args: &TargetArgs) -> Result<Option<Source>, Failure> {
    match (&args.targets, &args.schemas) {
        (Some(_), _) if context.url().is_some() => Err(Failure::usage(
            "`--targets` names the databases, so `--url` has no place beside it",
            Some("leave out `--url`, or put its URL in the list".into()),
        )),
        (Some(file), _) => Ok(Some(Source::File(file.clone()))),
        (None, Some(pattern)) => Ok(Some(Source::Schemas(pattern.clone()))),
        (None, None) if args.concurrency != 1 => Err(no_fleet("`--concurrency` goes")),
        (None, None) => Ok(None),
    }
}

fn no_fleet(options: &str) -> Failure {
    Failure::usage(
        format!("{options} with a fleet, and none is named"),
        Some("add `--targets FILE` (database URLs, one a line) or `--schemas PATTERN` (schemas of one PostgreSQL database)".into()),
    )
}

/// The targets `source` names.
fn targets(context: &Context, config: &Config, source: &Source) -> Result<Vec<Target>, Failure> {
    Ok(match source {
        Source::File(path) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| {
                Failure::usage(
                    format!("cannot read the list of targets from standard input: {e}"),
                    None,
                )
            })?;
            fanout::parse_targets(&text, "standard input", &context.cwd)
                .map_err(retort::Error::from)?
        }
        Source::File(path) => {
            fanout::read_targets(path, &context.cwd).map_err(retort::Error::from)?
        }
        Source::Schemas(pattern) => fanout::schema_targets(config, context.url(), pattern)?,
    })
}

/// Runs `request` on every target of `fleet`. `words` are the command and
/// its target as a recovery command repeats them (`upgrade head`).
pub(crate) fn run(
    context: &Context,
    fleet: &Fleet,
    words: &[String],
    request: &Request,
    options: &Options,
) -> Result<(), Failure> {
    context.no_dot(&words[0])?;
    let (project, targets) = fleet.load(context)?;
    let text = context.format() == Format::Text;
    let mut printed = Ok(());
    let summary = fanout::run(
        &project,
        &targets,
        request,
        options,
        &fleet.rollout,
        &mut |progress| match progress {
            Progress::Event(index, Event::LockWait { holder }) if text => {
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "{}: waiting for the lock: {holder}",
                    targets[index]
                );
            }
            Progress::Event(..) => {}
            // A reader gone away (`| head`) does not stop the targets
            // running, nor the ones after them.
            Progress::Done(report) if printed.is_ok() => {
                let target = &targets[report.index];
                printed = if text {
                    write_stdout(&report_text(report, target, words, options.dry_run))
                } else {
                    report_json(report, target, words)
                };
            }
            Progress::Done(_) => {}
        },
    );
    printed?;
    if text {
        write_stdout(&summary_text(
            &words[0],
            &summary,
            &fleet.rollout,
            options.dry_run,
        ))?;
    } else {
        json_line(&json::FleetSummary {
            summary: json::FleetTotals {
                command: &words[0],
                targets: summary.targets,
                ok: summary.ok,
                skipped: summary.skipped,
                failed: summary.failed,
                locked: summary.locked,
                not_started: summary.not_started,
                stopped: summary.stopped.map(fanout::Stopped::name),
                concurrency: fleet.rollout.concurrency,
                dry_run: options.dry_run,
                duration_ms: millis(summary.duration),
            },
        })?;
    }
    if summary.succeeded() {
        return Ok(());
    }
    // Every target's line and the summary say what happened.
    Err(Failure::runtime(
        "fleet_failed",
        format!(
            "{} of {} targets did not succeed",
            summary.targets - summary.ok - summary.skipped,
            summary.targets
        ),
        None,
    )
    .quiet(true))
}

/// `status` of every target of `fleet`.
pub(crate) fn status(context: &Context, fleet: &Fleet) -> Result<(), Failure> {
    context.no_dot("status")?;
    let (project, targets) = fleet.load(context)?;
    let text = context.format() == Format::Text;
    let mut printed = Ok(());
    let summary = fanout::status(&project, &targets, fleet.rollout.concurrency, &mut |read| {
        if printed.is_ok() {
            let target = &targets[read.index];
            printed = if text {
                write_stdout(&status_text(read, target))
            } else {
                status_json(read, target)
            };
        }
    });
    printed?;
    if text {
        write_stdout(&format!(
            "status: {} targets in {}: {} up to date, {} behind, {} need attention, {} unreadable\n",
            summary.targets,
            seconds(summary.duration),
            summary.up_to_date,
            summary.behind,
            summary.need_attention,
            summary.unreadable
        ))?;
    } else {
        json_line(&json::FleetSummary {
            summary: json::FleetStatusTotals {
                command: "status",
                targets: summary.targets,
                up_to_date: summary.up_to_date,
                behind: summary.behind,
                need_attention: summary.need_attention,
                unreadable: summary.unreadable,
                duration_ms: millis(summary.duration),
            },
        })?;
    }
    if summary.unreadable > 0 {
        return Err(Failure::runtime(
            "fleet_unreadable",
            format!("{} targets could not be read", summary.unreadable),
            None,
        )
        .quiet(true));
    }
    if summary.need_attention > 0 {
        return Err(Failure::check(
            "needs_attention",
            format!("{} targets need attention", summary.need_attention),
            None,
        )
        .quiet(true));
    }
    Ok(())
}

/// One compact JSON object and a newline.
fn json_line(value: &impl Serialize) -> std::io::Result<()> {
    let mut line = serde_json::to_string(value).map_err(std::io::Error::other)?;
    line.push('\n');
    write_stdout(&line)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

/// Version rows as text: `base` for none, `?` when unknown.
fn rows_text(rows: Option<&[String]>) -> String {
    match rows {
        None => "?".to_owned(),
        Some([]) => "base".to_owned(),
        Some(rows) => rows.join(", "),
    }
}

/// The command that finishes a failed target once its cause is dealt
/// with: `retort --url <redacted> resume`, or the command again on the
/// target alone. The password shows as `***`.
fn recover_command(target: &Target, recovery: Recovery, words: &[String]) -> String {
    let mut parts = vec![
        "retort".to_owned(),
        "--url".to_owned(),
        shell_word(&target.url().redacted()),
    ];
    match recovery {
        Recovery::Resume => parts.push("resume".to_owned()),
        Recovery::Rerun => parts.extend(words.iter().map(|w| shell_word(w))),
    }
    if let Some(schema) = target.schema() {
        parts.push("--schemas".to_owned());
        parts.push(shell_word(schema));
    }
    parts.join(" ")
}

/// `word` as a shell reads it back: in single quotes unless it is plain.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn report_text(report: &TargetReport, target: &Target, words: &[String], dry_run: bool) -> String {
    let mut text = format!("{:<8} {target}: ", report.state.name());
    let ms = millis(report.duration);
    match report.state {
        TargetState::Skipped | TargetState::Locked => text.push_str(&format!(
            "at {}, {ms} ms\n",
            rows_text(report.from.as_deref())
        )),
        TargetState::Ok | TargetState::Failed => text.push_str(&format!(
            "{} -> {}, {} step(s){}, {ms} ms\n",
            rows_text(report.from.as_deref()),
            rows_text(report.to.as_deref()),
            report.steps.len(),
            if dry_run { " planned" } else { "" },
        )),
    }
    if let Some(error) = &report.error {
        for (i, line) in error.to_string().lines().enumerate() {
            let lead = if i == 0 { "  error: " } else { "    " };
            text.push_str(&format!("{lead}{}\n", line.trim_start()));
        }
        if let Some(hint) = error.hint() {
            text.push_str(&format!("  hint: {hint}\n"));
        }
    }
    if let Some(recovery) = report.recovery {
        text.push_str(&format!(
            "  recover: {}\n",
            recover_command(target, recovery, words)
        ));
    }
    text
}

/// A target's JSON line.
fn report_json(report: &TargetReport, target: &Target, words: &[String]) -> std::io::Result<()> {
    let error = report
        .error
        .as_ref()
        .map(|e| (e.kind(), e.to_string(), e.hint()));
    json_line(&json::FleetTarget {
        target: target.url().redacted(),
        schema: target.schema(),
        status: report.state.name(),
        from: report.from.as_deref(),
        to: report.to.as_deref(),
        count: report.steps.len(),
        duration_ms: millis(report.duration),
        error: error.as_ref().map(|(kind, message, hint)| json::ErrorBody {
            kind,
            message,
            hint: hint.as_deref(),
            environment: None,
        }),
        recover: report
            .recovery
            .map(|recovery| recover_command(target, recovery, words)),
    })
}

fn summary_text(command: &str, summary: &Summary, rollout: &Rollout, dry_run: bool) -> String {
    let mut text = format!(
        "{command}{}: {} targets in {} (concurrency {}): {} ok, {} skipped, {} failed, {} locked, {} not started\n",
        if dry_run { " (dry run)" } else { "" },
        summary.targets,
        seconds(summary.duration),
        rollout.concurrency,
        summary.ok,
        summary.skipped,
        summary.failed,
        summary.locked,
        summary.not_started,
    );
    match summary.stopped {
        Some(fanout::Stopped::Canary) => text.push_str(
            "stopped: a canary failed, so no other target was started; run the command again once it is fixed (targets with nothing to do are skipped)\n",
        ),
        Some(fanout::Stopped::Failure) => text.push_str(
            "stopped: a target failed (`--on-error stop`): the targets running finished and no other was started; run the command again once it is fixed (targets with nothing to do are skipped), or pass `--keep-going`\n",
        ),
        None => {}
    }
    text
}

fn status_text(read: &TargetStatus, target: &Target) -> String {
    let status = match &read.status {
        Ok(status) => status,
        Err(error) => {
            let mut text = format!("{target}: cannot be read: {error}\n");
            if let Some(hint) = error.hint() {
                text.push_str(&format!("  hint: {hint}\n"));
            }
            return text;
        }
    };
    let mut text = format!(
        "{target}: at {}, ",
        rows_text(Some(&status.current.current))
    );
    if status.pending.is_empty() {
        text.push_str("up to date");
    } else {
        text.push_str(&format!("{} pending", status.pending.len()));
    }
    if let Some(interrupted) = &status.interrupted {
        text.push_str(&format!(
            "; `{}` was left half way (`retort status` on it says more)",
            interrupted.revision
        ));
    }
    if let Some(problem) = &status.current.problem {
        text.push_str(&format!("; version table: {}", problem.message));
    }
    if !status.changed.is_empty() {
        text.push_str(&format!(
            "; {} applied file(s) changed since",
            status.changed.len()
        ));
    }
    text.push('\n');
    text
}

fn status_json(read: &TargetStatus, target: &Target) -> std::io::Result<()> {
    let status = read.status.as_ref().ok();
    let error = read
        .status
        .as_ref()
        .err()
        .map(|e| (e.kind(), e.to_string(), e.hint()));
    json_line(&json::FleetStatus {
        target: target.url().redacted(),
        schema: target.schema(),
        heads_in_db: status.map(|s| s.current.heads.as_slice()),
        current: status.map(|s| s.current.current.as_slice()),
        pending: status.map(|s| s.pending.len()),
        interrupted: status
            .and_then(|s| s.interrupted.as_ref())
            .map(|i| i.revision.as_str()),
        problem: status
            .and_then(|s| s.current.problem.as_ref())
            .map(|p| json::ErrorBody {
                kind: p.kind,
                message: &p.message,
                hint: p.hint.as_deref(),
                environment: None,
            }),
        changed: status.map_or(0, |s| s.changed.len()),
        error: error.as_ref().map(|(kind, message, hint)| json::ErrorBody {
            kind,
            message,
            hint: hint.as_deref(),
            environment: None,
        }),
        duration_ms: millis(read.duration),
    })
}
