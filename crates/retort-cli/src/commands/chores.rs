//! `info`, `create`, `drop` and `reset`: the chores around migrating (see
//! `retort::chores`).

use retort::chores::{self, Created, Info};

use super::Context;
use super::migrate::heads_text;
use crate::args::Format;
use crate::json;
use crate::output::Failure;

pub(crate) fn info(context: &Context) -> Result<(), Failure> {
    context.no_dot("info")?;
    let project = context.load_project()?;
    let info = chores::info(&project, context.url())?;
    context
        .printer
        .emit(|| info_text(&info), || info_json(&info))?;
    Ok(())
}

fn info_text(info: &Info) -> String {
    let status = &info.status;
    let list = |ids: &[String]| {
        if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.join(", ")
        }
    };
    let mut text = String::new();
    if let Some((name, protected)) = &info.environment {
        let protected = if *protected { " (protected)" } else { "" };
        text.push_str(&format!("environment: {name}{protected}\n"));
    }
    text.push_str(&format!("database:    {}\n", info.database));
    text.push_str(&format!("url:         {}\n", info.url));
    text.push_str(&format!("server:      {}\n", info.server.summary()));
    if let Some(size) = info.size {
        text.push_str(&format!("size:        {}\n", bytes(size)));
    }
    text.push_str(&format!("current:     {}\n", list(&status.current.current)));
    text.push_str(&format!("heads:       {}\n", list(&status.heads)));
    text.push_str(&format!("pending:     {}\n", status.pending.len()));
    match info.interrupted() {
        Some(i) => text.push_str(&format!(
            "half-applied: {} ({}), {} statement(s) done{}: `retort status` says how to finish it\n",
            i.revision,
            i.direction.section_name(),
            i.completed,
            i.total.map(|t| format!(" of {t}")).unwrap_or_default()
        )),
        None => text.push_str("half-applied: none\n"),
    }
    if status.changed.is_empty() {
        text.push_str("changed:     none\n");
    } else {
        for (revision, path) in &status.changed {
            text.push_str(&format!("changed:     {revision} ({})\n", path.display()));
        }
    }
    if let Some(problem) = &status.current.problem {
        text.push_str(&format!("problem:     {}\n", problem.message));
    }
    if !info.last_applied.is_empty() {
        text.push_str("last applied:\n");
        for row in &info.last_applied {
            text.push_str(&format!(
                "  {}  {}  {} ms  {} by retort {}\n",
                row.applied_at, row.revision, row.duration_ms, row.operation, row.retort_version
            ));
        }
    }
    text
}

/// `1.2 MiB`.
fn bytes(size: u64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = size as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{size} bytes")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

fn info_json(info: &Info) -> json::Info<'_> {
    let status = &info.status;
    json::Info {
        environment: info
            .environment
            .as_ref()
            .map(|(name, protected)| json::Environment {
                name,
                protected: *protected,
            }),
        database: &info.database,
        url: &info.url,
        server: super::migrate::server_json(&info.server),
        size_bytes: info.size,
        current: &status.current.current,
        heads: &status.heads,
        pending: status.pending.len(),
        interrupted: info.interrupted().map(super::migrate::interruption_json),
        changed: status
            .changed
            .iter()
            .map(|(revision, path)| json::Changed {
                revision,
                path: path.display().to_string(),
            })
            .collect(),
        last_applied: info
            .last_applied
            .iter()
            .map(|row| json::Applied {
                revision: &row.revision,
                applied_at: &row.applied_at,
                duration_ms: row.duration_ms,
                operation: &row.operation,
                retort_version: &row.retort_version,
            })
            .collect(),
    }
}

pub(crate) fn create(context: &Context) -> Result<(), Failure> {
    context.no_dot("create")?;
    let config = context.config()?;
    let created = chores::create_database(&config, context.url())?;
    let (name, existed) = match &created {
        Created::Created(name) => (name, false),
        Created::Existed(name) => (name, true),
    };
    context.printer.emit(
        || {
            if existed {
                format!("database `{name}` exists already; nothing changed\n")
            } else {
                format!("created database `{name}`\n")
            }
        },
        || json::Chore {
            database: name,
            changed: !existed,
        },
    )?;
    Ok(())
}

pub(crate) fn drop(context: &Context, yes: bool) -> Result<(), Failure> {
    context.no_dot("drop")?;
    let config = context.config()?;
    chores::refuse_if_protected(&config, "drop")?;
    if !yes {
        return Err(Failure::confirmation(
            "`retort drop` deletes the database and everything in it",
            "run `retort drop --yes` once you are sure (`retort info` shows which database it is)",
        ));
    }
    let (name, existed) = chores::drop_database(&config, context.url())?;
    context.printer.emit(
        || {
            if existed {
                format!("dropped database `{name}`\n")
            } else {
                format!("database `{name}` does not exist; nothing changed\n")
            }
        },
        || json::Chore {
            database: &name,
            changed: existed,
        },
    )?;
    Ok(())
}

pub(crate) fn reset(context: &Context, yes: bool) -> Result<(), Failure> {
    context.no_dot("reset")?;
    let project = context.load_project()?;
    chores::refuse_if_protected(project.config(), "reset")?;
    if !yes {
        return Err(Failure::confirmation(
            "`retort reset` drops every object of the database, data included, then upgrades it to head",
            "run `retort reset --yes` once you are sure (`retort info` shows which database it is)",
        ));
    }
    let outcome = chores::reset(&project, context.url())?;
    context.printer.emit(
        || {
            format!(
                "reset: every object dropped, then {} step(s); the database is at {}\n",
                outcome.steps.len(),
                heads_text(&outcome.heads)
            )
        },
        || super::migrate::outcome_json(&outcome, false),
    )?;
    Ok(())
}

pub(crate) fn backup(context: &Context, output: Option<&std::path::Path>) -> Result<(), Failure> {
    context.no_dot("backup")?;
    let project = context.load_project()?;
    let made = retort::backup::backup(&project, context.url(), output)?;
    let path = crate::render::display_path(&made.path, &context.cwd);
    context.printer.emit(
        || {
            format!(
                "backed up to {path} ({} bytes; the database was at {})\n",
                made.bytes,
                heads_text(&made.revisions)
            )
        },
        || json::Backup {
            path: path.clone(),
            revisions: &made.revisions,
            bytes: made.bytes,
        },
    )?;
    Ok(())
}

pub(crate) fn restore(context: &Context, file: &std::path::Path, yes: bool) -> Result<(), Failure> {
    context.no_dot("restore")?;
    let project = context.load_project()?;
    // Read first: a file that is not a backup fails before anything goes.
    let plan = retort::backup::plan_restore(&project, context.url(), file)?;
    let file_shown = crate::render::display_path(&plan.file, &context.cwd);
    let what = format!(
        "restore replaces everything in {} (now at {}) with the backup {file_shown} (at {})",
        plan.database,
        heads_text(&plan.current),
        heads_text(&plan.backup)
    );
    if !yes {
        if !ask(&what)? {
            return Err(Failure::confirmation(
                format!("`retort restore` not confirmed: {what}"),
                "run `retort restore PATH --yes` to replace the database without being asked",
            ));
        }
    } else if context.format() == Format::Text {
        super::say(&what);
    }
    retort::backup::restore(&project, context.url(), &plan)?;
    context.printer.emit(
        || {
            format!(
                "restored {file_shown}: the database is at {}\n",
                heads_text(&plan.backup)
            )
        },
        || json::Restore {
            file: file_shown.clone(),
            database: &plan.database,
            replaced: &plan.current,
            restored: &plan.backup,
        },
    )?;
    Ok(())
}

/// Asks `question` on the terminal; `false` without one (a script must
/// say `--yes`).
fn ask(question: &str) -> Result<bool, Failure> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(false);
    }
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{question}.\nContinue? [y/N] ");
    let _ = stderr.flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
