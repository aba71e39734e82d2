//! Commands that read or change the database: upgrade, downgrade, stamp,
//! current, status, verify, rehash.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use retort::Diagnostic as _;
use retort::db::ServerFacts;
use retort::migrator::{
    Event, FindingKind, ForeignHistory, Migrator, OfflineSql, Options, Outcome, Request,
    StateProblem, StepKind,
};

use super::fanout::Fleet;
use super::{Context, DbUse};
use crate::args::{Format, RunArgs};
use crate::json;
use crate::output::{Failure, write_stdout};
use crate::render::{self, Line};

/// More steps than this draw a progress bar on a terminal instead of a
/// line per migration.
const SCREENFUL: usize = 40;

pub(crate) fn upgrade(context: &Context, args: RunArgs, up: bool) -> Result<(), Failure> {
    context.no_dot(if up { "upgrade" } else { "downgrade" })?;
    let target = match (args.target, up) {
        (Some(target), _) => target,
        (None, true) => "head".to_owned(),
        (None, false) => {
            return Err(Failure::usage(
                "`retort downgrade` needs a target",
                Some("e.g. `retort downgrade -1`, `retort downgrade <rev>` or `retort downgrade base`".into()),
            ));
        }
    };
    let fleet = Fleet::from_args(context, &args.fleet)?;
    let words = [
        if up { "upgrade" } else { "downgrade" }.to_owned(),
        target.clone(),
    ];
    let request = if up {
        Request::Upgrade { target }
    } else {
        Request::Downgrade { target }
    };
    let statement_lock_timeout = seconds(args.statement_lock_timeout);
    if args.sql {
        no_fleet_offline(fleet.as_ref())?;
        return offline(context, &request, args.atomic, statement_lock_timeout);
    }
    let mut options = Options::default();
    options.atomic = args.atomic;
    options.allow_changed = args.allow_changed;
    options.lock_timeout = Duration::from_secs(args.lock_timeout);
    options.dry_run = args.dry_run;
    options.statement_lock_timeout = statement_lock_timeout;
    options.lock_retries = args.lock_retries;
    options.max_replica_lag = args.max_replica_lag;
    match fleet {
        Some(_) if args.backup => Err(Failure::usage(
            "`--backup` backs up one database, so it does not go with `--targets` or `--schemas`",
            Some(
                "back each database up with `retort --url URL backup` first, or drop `--backup`"
                    .into(),
            ),
        )),
        Some(fleet) => super::fanout::run(context, &fleet, &words, &request, &options),
        None => run(context, &request, &options, args.backup),
    }
}

/// `--sql` writes one script, for no database in particular.
pub(crate) fn no_fleet_offline(fleet: Option<&Fleet>) -> Result<(), Failure> {
    match fleet {
        Some(_) => Err(Failure::usage(
            "`--sql` writes one script without reading any database, so it does not go with `--targets` or `--schemas`",
            Some("leave out `--targets`/`--schemas` (the script suits every database at the same revision)".into()),
        )),
        None => Ok(()),
    }
}

/// Prints the script of `request` (offline mode, `--sql`) for the
/// database the URL names, without connecting to it.
pub(crate) fn offline(
    context: &Context,
    request: &Request,
    atomic: bool,
    statement_lock_timeout: Option<Duration>,
) -> Result<(), Failure> {
    context.no_dot("--sql")?;
    let project = context.load_project()?;
    let server = retort::offline_server(project.config(), context.url())?;
    let script = OfflineSql::new(&project, &server)
        .with_lock_timeout(statement_lock_timeout)
        .script(request, atomic)
        .map_err(retort::Error::from)?;
    Ok(write_stdout(&script)?)
}

/// `stamp`, `resume` and `repair`: one request against the database.
pub(crate) fn request(
    context: &Context,
    command: &str,
    request: &Request,
    options: &Options,
) -> Result<(), Failure> {
    context.no_dot(command)?;
    run(context, request, options, false)
}

/// A timeout in seconds from the command line; 0 means none.
pub(crate) fn seconds(value: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
}

/// Loads the project, opens the database, runs `request` and prints what it
/// did; with `backup` (or `backup_before_upgrade` in the environment, for
/// an upgrade), backs the database up first when there is something to do.
fn run(
    context: &Context,
    request: &Request,
    options: &Options,
    backup: bool,
) -> Result<(), Failure> {
    let purpose = if options.dry_run {
        DbUse::DryRun
    } else {
        DbUse::Migrate
    };
    let (project, driver) = context.load_project_and_database(purpose)?;
    let mut migrator = Migrator::new(&project, driver);
    let backup = !options.dry_run
        && (backup
            || matches!(request, Request::Upgrade { .. })
                && project
                    .config()
                    .environment
                    .as_ref()
                    .is_some_and(|e| e.backup_before_upgrade));
    let backed_up = if backup
        && !migrator
            .settled(request)
            .map_err(retort::Error::from)?
            .nothing_to_do
    {
        let made = retort::backup::backup(&project, context.url(), None)?;
        if context.format() == Format::Text {
            let _ = writeln!(
                std::io::stderr(),
                "backed up to {} ({} bytes, at {}) before migrating",
                render::display_path(&made.path, &context.cwd),
                made.bytes,
                heads_text(&made.revisions)
            );
        }
        Some(made.path)
    } else {
        None
    };
    let mut reporter = Reporter::new(context.format() == Format::Text, options.dry_run);
    let outcome = migrator
        .run(request, options, &mut |event| reporter.event(event))
        .map_err(retort::Error::from);
    reporter.finish();
    let outcome = outcome?;
    context.printer.emit(
        || match request {
            Request::Resume { .. } if outcome.steps.is_empty() => {
                "nothing to resume: no migration was left half way\n".to_owned()
            }
            Request::Repair {
                revision,
                done: false,
            } => format!(
                "{} the half-applied state of {revision}; the database is at {}\n",
                if options.dry_run {
                    "would forget"
                } else {
                    "forgot"
                },
                heads_text(&outcome.heads)
            ),
            _ => summary(&outcome, options.dry_run),
        },
        || json::Outcome {
            backup: backed_up
                .as_ref()
                .map(|p| render::display_path(p, &context.cwd)),
            ..outcome_json(&outcome, options.dry_run)
        },
    )?;
    super::close(migrator.into_driver());
    super::leave_to_exit(project);
    Ok(())
}

pub(super) fn heads_text(heads: &[String]) -> String {
    if heads.is_empty() {
        "base".to_owned()
    } else {
        heads.join(", ")
    }
}

fn summary(outcome: &Outcome, dry_run: bool) -> String {
    let at = heads_text(&outcome.heads);
    match (outcome.steps.len(), dry_run) {
        (0, _) => format!("nothing to do; the database is at {at}\n"),
        (n, true) => format!("{n} step(s) planned; the database would be at {at}\n"),
        (n, false) => format!("{n} step(s) done; the database is at {at}\n"),
    }
}

pub(super) fn outcome_json(outcome: &Outcome, dry_run: bool) -> json::Outcome<'_> {
    json::Outcome {
        steps: outcome
            .steps
            .iter()
            .map(|s| json::Step {
                revision: &s.revision,
                message: &s.message,
                direction: s.direction.name(),
                duration_ms: s.duration_ms,
            })
            .collect(),
        heads: &outcome.heads,
        dry_run,
        backup: None,
    }
}

/// Shows progress on stderr. In a pipe or a container's log: a line when
/// each migration starts and one when it ends, so a long migration is not
/// silent. On a terminal: the line when it ends, with a spinner and the
/// time spent while it runs, or one bar when more than a screenful runs.
/// Quiet for JSON.
struct Reporter {
    text: bool,
    dry_run: bool,
    terminal: bool,
    bar: Option<ProgressBar>,
    /// The spinner of the migration running (terminal, short plans).
    spinner: Option<ProgressBar>,
}

impl Reporter {
    fn new(text: bool, dry_run: bool) -> Reporter {
        Reporter {
            text,
            dry_run,
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            spinner: None,
        }
    }

    fn say(&self, line: &str) {
        if let Some(bar) = self.bar.as_ref().or(self.spinner.as_ref()) {
            bar.println(line);
        } else {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }

    fn event(&mut self, event: Event) {
        if !self.text {
            return;
        }
        match event {
            Event::LockWait { holder } => {
                self.say(&format!("waiting for the lock: {holder}"));
            }
            Event::LockRetry {
                revision,
                attempt,
                of,
                wait,
            } => {
                self.say(&format!(
                    "  {revision} timed out waiting for a lock; rolled back, retry {attempt} of {of} in {:.1}s",
                    wait.as_secs_f64()
                ));
            }
            Event::Warning { message } => {
                self.say(&format!("warning: {message}"));
            }
            Event::LockAcquired { waited } => {
                self.say(&format!("lock acquired after {:.1}s", waited.as_secs_f64()));
            }
            Event::Plan { steps } if !steps.is_empty() => {
                let verb = if self.dry_run { "would run" } else { "running" };
                self.say(&format!("{verb} {} migration(s)", steps.len()));
                if self.dry_run {
                    for (revision, direction) in steps {
                        self.say(&format!(
                            "  {:<9} {revision}",
                            direction_word(direction.into())
                        ));
                    }
                } else if steps.len() > SCREENFUL && self.terminal {
                    let bar = ProgressBar::with_draw_target(
                        Some(steps.len() as u64),
                        ProgressDrawTarget::stderr(),
                    );
                    if let Ok(style) =
                        ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {msg}")
                    {
                        bar.set_style(style);
                    }
                    self.bar = Some(bar);
                }
            }
            Event::StepStarted {
                revision,
                message,
                direction,
                ..
            } => {
                let line = step_line(direction.into(), &revision, &message);
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("{revision} {message}"));
                } else if self.terminal {
                    let spinner =
                        ProgressBar::new_spinner().with_message(line.trim_start().to_owned());
                    if let Ok(style) = ProgressStyle::with_template("  {spinner} {msg} ({elapsed})")
                    {
                        spinner.set_style(style);
                    }
                    spinner.enable_steady_tick(Duration::from_millis(120));
                    self.spinner = Some(spinner);
                } else {
                    self.say(&format!("{line} ..."));
                }
            }
            Event::ReplicaWait { bound, replicas } => {
                let behind: Vec<String> = replicas
                    .iter()
                    .map(|r| match r.lag {
                        Some(lag) => format!(
                            "{} is {} behind ({} {} not applied yet)",
                            r.name,
                            span(lag),
                            r.behind,
                            r.unit
                        ),
                        None => format!(
                            "{} has not applied what was written before retort looked ({} {} not applied yet)",
                            r.name, r.behind, r.unit
                        ),
                    })
                    .collect();
                self.say(&format!(
                    "waiting for replicas to be within {}: {}",
                    span(bound),
                    behind.join("; ")
                ));
            }
            Event::ReplicasCaughtUp { waited, bound } => {
                self.say(&format!(
                    "replicas within {} after waiting {}",
                    span(bound),
                    span(waited)
                ));
            }
            Event::StepFinished { done } => {
                if let Some(spinner) = self.spinner.take() {
                    spinner.finish_and_clear();
                }
                match &self.bar {
                    Some(bar) => bar.inc(1),
                    None => self.say(&format!(
                        "{} ({} ms)",
                        step_line(done.direction, &done.revision, &done.message),
                        done.duration_ms
                    )),
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self) {
        for bar in [self.bar.take(), self.spinner.take()].into_iter().flatten() {
            bar.finish_and_clear();
        }
    }
}

/// A duration for people: `500ms`, `5s`, `1.2s`.
fn span(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

/// `  upgrade   a1b2c3 add users`: what a step does, to which revision (a
/// revision without a message reads as its id alone).
fn step_line(kind: StepKind, revision: &str, message: &str) -> String {
    let separator = if message.is_empty() { "" } else { " " };
    format!(
        "  {:<9} {revision}{separator}{message}",
        direction_word(kind)
    )
}

fn direction_word(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Up => "upgrade",
        StepKind::Down => "downgrade",
        StepKind::Stamp => "stamp",
    }
}

pub(crate) fn current(context: &Context, verbose: bool, check_heads: bool) -> Result<(), Failure> {
    context.no_dot("current")?;
    let (project, driver) = context.load_project_and_database(DbUse::Read)?;
    let mut migrator = Migrator::new(&project, driver);
    let current = migrator.current().map_err(retort::Error::from)?;
    let graph = project.graph();
    context.printer.emit(
        || {
            let mut text: String = current
                .current
                .iter()
                .filter_map(|id| graph.index_of(id))
                .map(|i| {
                    if verbose {
                        render::entry(&project, i, &context.cwd, false)
                    } else {
                        render::line(&project, i, Line::default()) + "\n"
                    }
                })
                .collect();
            for id in current
                .heads
                .iter()
                .filter(|id| graph.index_of(id).is_none())
            {
                text.push_str(&format!("{id} (no revision file defines it)\n"));
            }
            if let Some(foreign) = &current.foreign_history {
                text.push_str(&format!(
                    "(no `{}`; {} manages this database through `{}`: `retort status` says how to adopt it)\n",
                    foreign.version_table, foreign.tool, foreign.table
                ));
            }
            text
        },
        || json::Current {
            heads: &current.heads,
            current: &current.current,
            problem: current.problem.as_ref().map(problem_json),
            foreign_history: current.foreign_history.as_ref().map(foreign_json),
            server: server_json(migrator.server()),
        },
    )?;
    state_problem(current.problem.as_ref(), context.format())?;
    if check_heads {
        // Every head applied: `upgrade heads` has nothing to do.
        let rows: Vec<usize> = current
            .heads
            .iter()
            .filter_map(|id| graph.index_of(id))
            .collect();
        let applied = retort::migrator::plan::applied_set(graph, &rows);
        let missing: Vec<&str> = graph
            .heads()
            .iter()
            .filter(|&&h| !applied[h])
            .map(|&h| graph.node(h).id())
            .collect();
        if !missing.is_empty() {
            return Err(Failure::check(
                "not_at_heads",
                format!(
                    "the database is not on all head revisions: {} not applied",
                    missing
                        .iter()
                        .map(|h| format!("`{h}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Some(
                    "`retort upgrade heads` applies them; `retort status` lists what is pending"
                        .into(),
                ),
            )
            .quiet(context.format() == Format::Json));
        }
    }
    Ok(())
}

/// What the server is (`server` in `status` and `current`).
pub(super) fn server_json(server: &ServerFacts) -> json::Server<'_> {
    json::Server {
        dialect: server.dialect.name(),
        product: &server.product,
        version: &server.version,
        kind: server.kind.name(),
        detected: server.detected.name(),
        set_by: server.set_by.name(),
        standby: server.standby,
        citus: server.citus.as_deref(),
        galera: server.galera.as_ref().map(|galera| json::Galera {
            osu_method: &galera.osu_method,
        }),
        needs_lease_lock: server.needs_lease_lock(),
        ddl_commits_implicitly: server.ddl_commits_implicitly(),
    }
}

fn foreign_json(foreign: &ForeignHistory) -> json::ForeignHistory<'_> {
    json::ForeignHistory {
        table: &foreign.table,
        tool: foreign.tool,
    }
}

fn problem_json(problem: &StateProblem) -> json::ErrorBody<'_> {
    json::ErrorBody {
        kind: problem.kind,
        message: &problem.message,
        hint: problem.hint.as_deref(),
        environment: None,
    }
}

/// A problem of the version table ends `current` and `status` with exit
/// code 3, once their output is printed.
fn state_problem(problem: Option<&StateProblem>, format: Format) -> Result<(), Failure> {
    match problem {
        Some(problem) => {
            Err(
                Failure::check(problem.kind, problem.message.clone(), problem.hint.clone())
                    .quiet(format == Format::Json),
            )
        }
        None => Ok(()),
    }
}

pub(crate) fn status(context: &Context) -> Result<(), Failure> {
    context.no_dot("status")?;
    // Checksummed: drift is part of the state.
    let (project, driver) = context.load_project_and_database(DbUse::Verify)?;
    let mut migrator = Migrator::new(&project, driver);
    let status = migrator.status().map_err(retort::Error::from)?;
    let message = |id: &str| {
        project
            .graph()
            .index_of(id)
            .map(|i| project.script(i).message.clone())
            .unwrap_or_default()
    };
    context.printer.emit(
        || {
            let list = |ids: &[String]| {
                if ids.is_empty() {
                    "base".to_owned()
                } else {
                    ids.join(", ")
                }
            };
            let mut text = format!(
                "database: {}\nserver:   {}\ncurrent:  {}\nheads:    {}\n",
                migrator.describe(),
                migrator.server().summary(),
                list(&status.current.current),
                list(&status.heads)
            );
            if let Some(lease) = &status.running {
                text.push_str(&format!(
                    "running:  a run holds the lease: {}\n  hint: its migration is in progress, not interrupted; if that run died, the next run takes over once the lease expires, or `retort lock release --yes` frees it now\n",
                    lease.describe()
                ));
            }
            if let Some(interrupted) = &status.interrupted {
                let error =
                    retort::migrator::MigrateError::Interrupted(Box::new(interrupted.clone()));
                text.push_str(&format!("half-applied: {error}\n"));
                if let Some(hint) = error.hint() {
                    text.push_str(&format!("  hint: {hint}\n"));
                }
            }
            if let Some(problem) = &status.current.problem {
                text.push_str(&format!("version table: {}\n", problem.message));
                if let Some(hint) = &problem.hint {
                    text.push_str(&format!("  hint: {hint}\n"));
                }
            }
            if let Some(foreign) = &status.current.foreign_history {
                let error = foreign.error();
                text.push_str(&format!("another tool: {error}\n"));
                if let Some(hint) = error.hint() {
                    text.push_str(&format!("  hint: {hint}\n"));
                }
            }
            if !status.changed.is_empty() {
                text.push_str("changed since applied (`upgrade` stops until they are restored or accepted):\n");
                for (id, path) in &status.changed {
                    text.push_str(&format!(
                        "  {id} ({})\n",
                        render::display_path(path, &context.cwd)
                    ));
                }
                text.push_str(&format!(
                    "  hint: restore the files, or record them as they are now with `retort rehash --accept {}`\n",
                    status
                        .changed
                        .iter()
                        .map(|(id, _)| id.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
            if status.pending.is_empty() && !status.needs_attention() {
                text.push_str("up to date\n");
            } else if status.pending.is_empty() {
                text.push_str("pending:  none\n");
            } else {
                text.push_str(&format!("pending:  {}\n", status.pending.len()));
                for id in &status.pending {
                    let line = format!("  {id} {}", message(id));
                    text.push_str(line.trim_end());
                    text.push('\n');
                }
            }
            text
        },
        || json::Status {
            heads_in_db: &status.current.heads,
            current: &status.current.current,
            heads: &status.heads,
            pending: status
                .pending
                .iter()
                .map(|id| json::Pending {
                    revision: id,
                    message: message(id),
                })
                .collect(),
            interrupted: status.interrupted.as_ref().map(interruption_json),
            running: status.running.as_ref().map(json::Lease::of),
            problem: status.current.problem.as_ref().map(problem_json),
            changed: status
                .changed
                .iter()
                .map(|(id, path)| json::Changed {
                    revision: id,
                    path: render::display_path(path, &context.cwd),
                })
                .collect(),
            foreign_history: status.current.foreign_history.as_ref().map(foreign_json),
            server: server_json(migrator.server()),
        },
    )?;
    if let Some(problem) = &status.current.problem {
        return state_problem(Some(problem), context.format());
    }
    if status.needs_attention() {
        return Err(Failure::check(
            "needs_attention",
            if status.interrupted.is_some() {
                "a migration was left half way".to_owned()
            } else {
                format!(
                    "{} applied revision file(s) changed since they were applied",
                    status.changed.len()
                )
            },
            None,
        )
        .quiet(true));
    }
    Ok(())
}

pub(super) fn interruption_json(i: &retort::migrator::Interruption) -> json::Interruption<'_> {
    fn at(p: &Option<retort::migrator::JournalPosition>) -> Option<json::Position<'_>> {
        p.as_ref().map(|p| json::Position {
            statement: p.statement,
            line: p.line,
            excerpt: &p.excerpt,
        })
    }
    json::Interruption {
        revision: &i.revision,
        direction: i.direction.section_name(),
        path: i.path.as_deref(),
        statements: i.total,
        completed: i.completed,
        last_completed: at(&i.last_done),
        running: at(&i.running),
        next: at(&i.next),
        note: i.note.as_deref(),
        still_running_in_session: i.still_running.as_deref(),
    }
}

pub(crate) fn verify(context: &Context) -> Result<(), Failure> {
    context.no_dot("verify")?;
    let (project, driver) = context.load_project_and_database(DbUse::Verify)?;
    let mut migrator = Migrator::new(&project, driver);
    let findings = migrator.verify().map_err(retort::Error::from)?;
    let problems = findings.iter().filter(|f| f.kind.is_problem()).count();
    let path =
        |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| render::display_path(p, &context.cwd));
    context.printer.emit(
        || {
            let mut text = String::new();
            for f in &findings {
                let what = match f.kind {
                    FindingKind::Changed => "changed since it was applied",
                    FindingKind::Missing => "applied, but its file is missing",
                    FindingKind::UnknownAlgorithm => "checksum made by a newer retort",
                    FindingKind::Unrecorded => {
                        "applied without a recorded checksum (run `retort rehash` to record it)"
                    }
                };
                text.push_str(&format!(
                    "{} {what}{}\n",
                    f.revision,
                    path(&f.path).map(|p| format!(" ({p})")).unwrap_or_default()
                ));
            }
            if problems == 0 {
                text.push_str("ok: applied revisions match their files\n");
            }
            text
        },
        || json::Verify {
            ok: problems == 0,
            findings: findings
                .iter()
                .map(|f| json::Finding {
                    revision: &f.revision,
                    kind: f.kind.name(),
                    path: path(&f.path),
                })
                .collect(),
        },
    )?;
    if problems > 0 {
        // The findings are already on stdout; the exit code tells scripts.
        return Err(Failure::check(
            "verify_failed",
            format!("{problems} applied revision(s) do not match their files"),
            Some("an applied revision should not change: restore it and write a new revision instead; `retort rehash` fixes checksums of files that only changed line endings".into()),
        )
        .quiet(context.format() == Format::Json));
    }
    Ok(())
}

pub(crate) fn rehash(context: &Context, accept: &[String]) -> Result<(), Failure> {
    context.no_dot("rehash")?;
    let (project, driver) = context.load_project_and_database(DbUse::Migrate)?;
    let mut migrator = Migrator::new(&project, driver);
    let report = migrator.rehash(accept).map_err(retort::Error::from)?;
    let changed: Vec<json::Changed<'_>> = report
        .changed
        .iter()
        .map(|(id, p)| json::Changed {
            revision: id,
            path: render::display_path(p, &context.cwd),
        })
        .collect();
    context.printer.emit(
        || {
            let mut text = String::new();
            for id in &report.updated {
                text.push_str(&format!("{id} checksum updated\n"));
            }
            for id in &report.recorded {
                text.push_str(&format!("{id} checksum recorded\n"));
            }
            for id in &report.accepted {
                text.push_str(&format!(
                    "{id} accepted as it is now (the old checksum is kept in `retort_audit`)\n"
                ));
            }
            for (id, p) in &report.changed {
                text.push_str(&format!(
                    "{id} SQL changed since it was applied; checksum left as it was ({})\n",
                    render::display_path(p, &context.cwd)
                ));
            }
            if report.updated.is_empty()
                && report.recorded.is_empty()
                && report.changed.is_empty()
                && report.accepted.is_empty()
            {
                text.push_str("nothing to rehash\n");
            }
            text
        },
        || json::Rehash {
            updated: &report.updated,
            recorded: &report.recorded,
            changed,
            accepted: &report.accepted,
        },
    )?;
    if !report.changed.is_empty() {
        return Err(Failure::check(
            "checksum_mismatch",
            format!(
                "{} revision file(s) really changed since they were applied",
                report.changed.len()
            ),
            Some(format!(
                "restore them (write a new revision for new changes), or record them as they are now with `retort rehash --accept {}`",
                report
                    .changed
                    .iter()
                    .map(|(id, _)| id.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        )
        .quiet(context.format() == Format::Json));
    }
    Ok(())
}
