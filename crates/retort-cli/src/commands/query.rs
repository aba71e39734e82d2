//! Commands that read the revision graph: history, heads, branches, show.

use super::Context;
use crate::args::Format;
use crate::output::{Failure, write_stdout};
use crate::render::{self, Line};
use retort::graph::{dot, draw};
use retort::project::Project;

const HISTORY_LINE: Line = Line {
    parents: true,
    tree: true,
    message: true,
    current: false,
};

fn json_list<'p>(
    project: &'p Project,
    indices: &[usize],
    context: &Context,
) -> Vec<crate::json::Revision<'p>> {
    indices
        .iter()
        .map(|&i| render::json(project, i, &context.cwd))
        .collect()
}

/// Every detail of each revision; `current` marks those the database is
/// at.
fn entries(project: &Project, indices: &[usize], context: &Context, current: &[usize]) -> String {
    indices
        .iter()
        .map(|&i| render::entry(project, i, &context.cwd, current.contains(&i)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `target` names the database's revisions (`current`), so that
/// the database must be read, as Alembic reads it for them (only).
fn needs_database(target: &str) -> bool {
    target.split(':').any(|part| part == "current")
}

/// The project and, when `read` says so, the version rows of its database.
fn project_and_rows(
    context: &Context,
    read: bool,
) -> Result<(Project, Option<Vec<String>>), Failure> {
    if !read {
        return Ok((context.load_project()?, None));
    }
    let (project, driver) = context.load_project_and_database(super::DbUse::Read)?;
    let mut migrator = retort::migrator::Migrator::new(&project, driver);
    let current = migrator.current().map_err(retort::Error::from)?;
    super::close(migrator.into_driver());
    Ok((project, Some(current.heads)))
}

pub(crate) fn history(
    context: &Context,
    range: Option<&str>,
    verbose: bool,
    graph: bool,
    indicate_current: bool,
) -> Result<(), Failure> {
    // The database is read only when the range names it or `-i` asks.
    let read = indicate_current || range.is_some_and(needs_database);
    let (project, rows) = project_and_rows(context, read)?;
    let indices = project.history(range, rows.as_deref())?;
    let current: Vec<usize> = match &rows {
        Some(rows) if indicate_current => rows
            .iter()
            .filter_map(|id| project.graph().index_of(id))
            .collect(),
        _ => Vec::new(),
    };
    if context.format() == Format::Dot {
        let text = dot::render(project.graph(), &indices, |i| {
            let script = project.script(i);
            format!("{}\n{}", script.revision, script.message)
        });
        return Ok(write_stdout(&text)?);
    }
    Ok(context.printer.emit(
        || {
            if graph {
                let position: std::collections::HashMap<usize, usize> = indices
                    .iter()
                    .enumerate()
                    .map(|(row, &i)| (i, row))
                    .collect();
                let parents: Vec<Vec<usize>> = indices
                    .iter()
                    .map(|&i| {
                        project
                            .graph()
                            .node(i)
                            .parents()
                            .iter()
                            .filter_map(|p| position.get(p).copied())
                            .collect()
                    })
                    .collect();
                let labels: Vec<String> = indices
                    .iter()
                    .map(|&i| {
                        render::line(
                            &project,
                            i,
                            Line {
                                parents: false,
                                ..HISTORY_LINE
                            },
                        )
                    })
                    .collect();
                let mut lines = draw::draw(&parents, &labels).join("\n");
                lines.push('\n');
                lines
            } else if verbose {
                entries(&project, &indices, context, &current)
            } else {
                indices
                    .iter()
                    .map(|&i| {
                        let line = Line {
                            current: current.contains(&i),
                            ..HISTORY_LINE
                        };
                        render::line(&project, i, line) + "\n"
                    })
                    .collect()
            }
        },
        || json_list(&project, &indices, context),
    )?)
}

pub(crate) fn heads(
    context: &Context,
    verbose: bool,
    resolve_dependencies: bool,
) -> Result<(), Failure> {
    context.no_dot("heads")?;
    let project = context.load_project()?;
    let heads = if resolve_dependencies {
        project.graph().real_heads()
    } else {
        project.graph().heads().to_vec()
    };
    Ok(context.printer.emit(
        || {
            if verbose {
                entries(&project, &heads, context, &[])
            } else {
                heads
                    .iter()
                    .map(|&i| render::line(&project, i, Line::default()) + "\n")
                    .collect()
            }
        },
        || json_list(&project, &heads, context),
    )?)
}

pub(crate) fn branches(context: &Context, verbose: bool) -> Result<(), Failure> {
    context.no_dot("branches")?;
    let project = context.load_project()?;
    let points = project.graph().branch_points();
    Ok(context.printer.emit(
        || {
            let mut text = String::new();
            for &point in &points {
                let node = project.graph().node(point);
                let head_line = if verbose {
                    render::entry(&project, point, &context.cwd, false)
                } else {
                    render::line(
                        &project,
                        point,
                        Line {
                            tree: true,
                            ..Line::default()
                        },
                    ) + "\n"
                };
                text.push_str(&head_line);
                let indent = " ".repeat(node.id().len());
                for &child in node.children() {
                    let child_line = render::line(
                        &project,
                        child,
                        Line {
                            tree: true,
                            message: verbose,
                            ..Line::default()
                        },
                    );
                    text.push_str(&format!("{indent} -> {child_line}\n"));
                }
                if verbose {
                    text.push('\n');
                }
            }
            text
        },
        || json_list(&project, &points, context),
    )?)
}

pub(crate) fn show(context: &Context, target: &str) -> Result<(), Failure> {
    context.no_dot("show")?;
    let (project, indices) = named(context, target)?;
    // `base`, or `head` of a project without revisions: nothing to show,
    // as Alembic, and as `heads` prints nothing then.
    Ok(context.printer.emit(
        || entries(&project, &indices, context, &[]),
        || json_list(&project, &indices, context),
    )?)
}

/// The project and the revisions `target` names; `current` (the version
/// rows) and steps from it read the database.
fn named(context: &Context, target: &str) -> Result<(Project, Vec<usize>), Failure> {
    let (project, rows) = project_and_rows(context, needs_database(target))?;
    let indices = match &rows {
        Some(rows) if target == "current" => {
            let mut indices: Vec<usize> = rows
                .iter()
                .filter_map(|id| project.graph().index_of(id))
                .collect();
            indices.sort_unstable();
            indices
        }
        _ => project.resolve(target, rows.as_deref())?,
    };
    Ok((project, indices))
}

/// Opens the files of the revisions `target` names in the user's editor
/// (`$EDITOR`, else `$VISUAL`, else `vi`), one after the other.
pub(crate) fn edit(context: &Context, target: &str) -> Result<(), Failure> {
    context.no_dot("edit")?;
    let (project, indices) = named(context, target)?;
    if indices.is_empty() {
        return Err(Failure::usage(
            format!("`{target}` names no revision, so there is no file to edit"),
            Some("run `retort history` to list revisions".into()),
        ));
    }
    let editor = ["EDITOR", "VISUAL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "vi".to_owned());
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    for &i in &indices {
        let path = &project.script(i).path;
        let status = std::process::Command::new(program)
            .args(words.clone())
            .arg(path)
            .status()
            .map_err(|e| {
                Failure::usage(
                    format!("cannot start the editor `{editor}`: {e}"),
                    Some(
                        "set `EDITOR` to the editor to use, e.g. `EDITOR=nano retort edit head`"
                            .into(),
                    ),
                )
            })?;
        if !status.success() {
            return Err(Failure::runtime(
                "editor",
                format!(
                    "the editor `{editor}` exited with {status} on `{}`",
                    render::display_path(path, &context.cwd)
                ),
                Some(
                    "the file is as the editor left it; run `retort verify` if it was applied"
                        .into(),
                ),
            ));
        }
    }
    Ok(())
}
