//! Fan-out: one request on many databases, or on many schemas of one
//! PostgreSQL database (a schema per tenant), as `retort upgrade --targets`
//! and `--schemas` run it.
//!
//! The project is loaded once. Each [`Target`] is opened on its own, with
//! its own version tables and its own run lock (keyed by database, schema
//! and version table), so tenants never wait for each other's lock. A
//! target the request has nothing to do on is skipped after one read of
//! its version table (and journal), without the lock
//! ([`crate::migrator::Migrator::settled`]); the others run as `retort upgrade` runs them.
//! [`Rollout`] says how: the canaries first, alone, stopping at the first
//! failure; then the rest, `concurrency` at once, stopping (the targets
//! running finish, no new one starts) or going on after a failure.
//!
//! ```
//! use retort::config::{Config, DatabaseUrl};
//! use retort::fanout::{self, OnError, Progress, Rollout, Target, TargetState};
//! use retort::migrator::{Options, Request};
//! use retort::project::Project;
//! # let dir = tempfile::tempdir().unwrap();
//! # let dir = dir.path();
//! # std::fs::create_dir(dir.join("migrations")).unwrap();
//! # std::fs::write(dir.join("retort.toml"), "").unwrap();
//! # std::fs::write(
//! #     dir.join("migrations/0001_3a4feffbb7a1_add_users.sql"),
//! #     "-- retort:revision 3a4feffbb7a1\n-- retort:message add users table\n\n\
//! #      -- retort:upgrade\nCREATE TABLE users (id integer PRIMARY KEY);\n\n\
//! #      -- retort:downgrade\nDROP TABLE users;\n",
//! # )
//! # .unwrap();
//!
//! let project = Project::load(Config::load(&dir.join("retort.toml"))?)?;
//! let targets: Vec<Target> = (1..=3)
//!     .map(|i| {
//!         let url = format!("sqlite:///{}", dir.join(format!("tenant{i}.db")).display());
//!         Target::database(DatabaseUrl::parse(&url).unwrap())
//!     })
//!     .collect();
//! let upgrade = Request::Upgrade { target: "head".into() };
//! let rollout = Rollout { concurrency: 2, canary: 1, on_error: OnError::Stop };
//! let summary = fanout::run(&project, &targets, &upgrade, &Options::default(), &rollout, &mut |progress| {
//!     if let Progress::Done(report) = progress {
//!         assert_eq!(report.state, TargetState::Ok);
//!     }
//! });
//! assert_eq!((summary.ok, summary.failed), (3, 0));
//! // Again: every target is at head, each is read once and skipped.
//! let again = fanout::run(&project, &targets, &upgrade, &Options::default(), &rollout, &mut |_| {});
//! assert_eq!(again.skipped, 3);
//! # Ok::<(), retort::Error>(())
//! ```

mod error;
mod schedule;
mod targets;

use std::time::{Duration, Instant};

pub use error::FanoutError;
pub use targets::{Target, parse_targets, read_targets, schema_targets};

use crate::db::{Access, DbErrorKind};
use crate::migrator::{Event, MigrateError, Options, Request, Status, StepDone};
use crate::project::Project;
use schedule::{Message, schedule};

/// How a fan-out goes through its targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// How many targets run at once (at least 1).
    pub concurrency: usize,
    /// How many targets, the first ones, run before the others, as a stage
    /// of their own; the first failure among them stops the run, whatever
    /// [`Rollout::on_error`] says.
    pub canary: usize,
    /// What a failing target does to the others.
    pub on_error: OnError,
}

impl Default for Rollout {
    fn default() -> Self {
        Rollout {
            concurrency: 1,
            canary: 0,
            on_error: OnError::Stop,
        }
    }
}

/// What a failing target does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// The targets running finish; no new one starts.
    Stop,
    /// Every target runs.
    Continue,
}

/// Why a run stopped before every target started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// A target failed ([`OnError::Stop`]).
    Failure,
    /// A canary failed.
    Canary,
}

impl Stopped {
    /// `failure` or `canary`.
    pub fn name(self) -> &'static str {
        match self {
            Stopped::Failure => "failure",
            Stopped::Canary => "canary",
        }
    }
}

/// How a target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    /// The request ran and did something.
    Ok,
    /// The request had nothing to do.
    Skipped,
    /// The request failed.
    Failed,
    /// Another run held the target's run lock longer than the lock
    /// timeout: the target was left alone.
    Locked,
}

impl TargetState {
    /// `ok`, `skipped`, `failed` or `locked`.
    pub fn name(self) -> &'static str {
        match self {
            TargetState::Ok => "ok",
            TargetState::Skipped => "skipped",
            TargetState::Failed => "failed",
            TargetState::Locked => "locked",
        }
    }
}

/// What finishes a failed target once its cause is dealt with (the
/// error's hint says how).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// `retort resume` on the target: a migration stopped half way.
    Resume,
    /// The same request again, on the target alone.
    Rerun,
}

/// What a request did on one target.
#[derive(Debug)]
pub struct TargetReport {
    /// The target's position in the list.
    pub index: usize,
    /// How it ended.
    pub state: TargetState,
    /// The version rows before (`None`: never read).
    pub from: Option<Vec<String>>,
    /// The version rows after (`None`: unknown).
    pub to: Option<Vec<String>>,
    /// The steps run (or planned, for a dry run).
    pub steps: Vec<StepDone>,
    /// How long the target took, connecting included.
    pub duration: Duration,
    /// Why it failed or was locked.
    pub error: Option<crate::Error>,
    /// What finishes it, when it failed.
    pub recovery: Option<Recovery>,
}

/// What a fan-out reports while it runs, on the caller's thread.
#[derive(Debug)]
pub enum Progress<'a> {
    /// Progress of the request on target `index`.
    Event(usize, &'a Event),
    /// Target `report.index` is done.
    Done(&'a TargetReport),
}

/// What a fan-out did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// How many targets there were.
    pub targets: usize,
    /// Targets the request did something on.
    pub ok: usize,
    /// Targets it had nothing to do on.
    pub skipped: usize,
    /// Targets it failed on.
    pub failed: usize,
    /// Targets whose run lock another run held.
    pub locked: usize,
    /// Targets never started, after a failure stopped the run.
    pub not_started: usize,
    /// Why the run stopped early, if it did.
    pub stopped: Option<Stopped>,
    /// The whole run.
    pub duration: Duration,
}

impl Summary {
    /// Whether every target is where the request takes it: none failed,
    /// was locked, or was left unstarted.
    pub fn succeeded(&self) -> bool {
        self.failed == 0 && self.locked == 0 && self.not_started == 0
    }
}

/// Runs `request` on every target as `rollout` says; `progress` hears of
/// each target as it finishes (and of lock waits meanwhile).
pub fn run(
    project: &Project,
    targets: &[Target],
    request: &Request,
    options: &Options,
    rollout: &Rollout,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Summary {
    let started = Instant::now();
    let job = |index: usize, events: &mut dyn FnMut(Event)| {
        run_one(project, index, &targets[index], request, options, events)
    };
    let failed = |report: &TargetReport| report.state == TargetState::Failed;
    let mut summary = Summary {
        targets: targets.len(),
        ok: 0,
        skipped: 0,
        failed: 0,
        locked: 0,
        not_started: 0,
        stopped: None,
        duration: Duration::ZERO,
    };
    let ended = schedule(
        targets.len(),
        rollout,
        &job,
        &failed,
        &mut |message| match message {
            Message::Event(index, event) => progress(Progress::Event(index, &event)),
            Message::Done(report) => {
                match report.state {
                    TargetState::Ok => summary.ok += 1,
                    TargetState::Skipped => summary.skipped += 1,
                    TargetState::Failed => summary.failed += 1,
                    TargetState::Locked => summary.locked += 1,
                }
                progress(Progress::Done(&report));
            }
        },
    );
    summary.not_started = ended.not_started;
    summary.stopped = ended.stopped;
    summary.duration = started.elapsed();
    summary
}

/// `request` on one target: a read without the lock, then, unless there
/// is nothing to do, the run.
fn run_one(
    project: &Project,
    index: usize,
    target: &Target,
    request: &Request,
    options: &Options,
    events: &mut dyn FnMut(Event),
) -> TargetReport {
    let started = Instant::now();
    let access = if options.dry_run {
        Access::Read
    } else {
        Access::Write
    };
    let mut from = None;
    let result = (|| {
        let driver = target.open(project.config(), access)?;
        let mut migrator = target.migrator(project, driver);
        let settled = migrator.settled(request)?;
        from = Some(settled.heads.clone());
        if settled.nothing_to_do {
            return Ok(None);
        }
        let outcome = migrator.run(request, options, events)?;
        Ok::<_, crate::Error>(Some(outcome))
    })();
    let duration = started.elapsed();
    let report = |state, to, steps, error, recovery| TargetReport {
        index,
        state,
        from: from.clone(),
        to,
        steps,
        duration,
        error,
        recovery,
    };
    match result {
        Ok(None) => report(TargetState::Skipped, from.clone(), Vec::new(), None, None),
        Ok(Some(outcome)) => {
            let state = if outcome.steps.is_empty() {
                TargetState::Skipped
            } else {
                TargetState::Ok
            };
            report(state, Some(outcome.heads), outcome.steps, None, None)
        }
        Err(error) => {
            let to = match &error {
                crate::Error::Migrate(MigrateError::Statement(failure)) => {
                    Some(failure.left_at.clone())
                }
                _ => from.clone(),
            };
            let (state, recovery) = if lock_timed_out(&error) {
                (TargetState::Locked, Recovery::Rerun)
            } else {
                (TargetState::Failed, recovery_of(&error))
            };
            report(state, to, Vec::new(), Some(error), Some(recovery))
        }
    }
}

/// Whether another run held the target's run lock past the timeout.
fn lock_timed_out(error: &crate::Error) -> bool {
    matches!(
        error,
        crate::Error::Migrate(MigrateError::Database { context, error })
            if context == "taking the run lock" && error.kind == DbErrorKind::LockTimeout
    )
}

/// What finishes a target that failed with `error`.
fn recovery_of(error: &crate::Error) -> Recovery {
    match error {
        crate::Error::Migrate(MigrateError::Interrupted(_)) => Recovery::Resume,
        crate::Error::Migrate(MigrateError::Statement(failure)) if failure.partial => {
            Recovery::Resume
        }
        _ => Recovery::Rerun,
    }
}

/// Where one target stands ([`crate::migrator::Migrator::status`]).
#[derive(Debug)]
pub struct TargetStatus {
    /// The target's position in the list.
    pub index: usize,
    /// Its status, or why it could not be read.
    pub status: Result<Status, crate::Error>,
    /// How long reading it took.
    pub duration: Duration,
}

/// What `status` over a fleet found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSummary {
    /// How many targets there were.
    pub targets: usize,
    /// Targets with nothing pending and nothing to attend to.
    pub up_to_date: usize,
    /// Targets with revisions pending (and nothing to attend to).
    pub behind: usize,
    /// Targets `upgrade` would refuse: a problem with the version table, a
    /// migration left half way, applied files that changed.
    pub need_attention: usize,
    /// Targets that could not be read.
    pub unreadable: usize,
    /// The whole run.
    pub duration: Duration,
}

/// Reads every target's status, `concurrency` at once; `each` hears of
/// each target as it is read.
pub fn status(
    project: &Project,
    targets: &[Target],
    concurrency: usize,
    each: &mut dyn FnMut(&TargetStatus),
) -> StatusSummary {
    let started = Instant::now();
    let job = |index: usize, _: &mut dyn FnMut(Event)| {
        let started = Instant::now();
        let target = &targets[index];
        let status = target
            .open(project.config(), Access::Read)
            .and_then(|driver| Ok(target.migrator(project, driver).status()?));
        TargetStatus {
            index,
            status,
            duration: started.elapsed(),
        }
    };
    let rollout = Rollout {
        concurrency,
        canary: 0,
        on_error: OnError::Continue,
    };
    let mut summary = StatusSummary {
        targets: targets.len(),
        up_to_date: 0,
        behind: 0,
        need_attention: 0,
        unreadable: 0,
        duration: Duration::ZERO,
    };
    schedule(targets.len(), &rollout, &job, &|_| false, &mut |message| {
        if let Message::Done(read) = message {
            match &read.status {
                Err(_) => summary.unreadable += 1,
                Ok(status) if status.needs_attention() => summary.need_attention += 1,
                Ok(status) if status.pending.is_empty() => summary.up_to_date += 1,
                Ok(_) => summary.behind += 1,
            }
            each(&read);
        }
    });
    summary.duration = started.elapsed();
    summary
}
