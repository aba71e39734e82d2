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

fn entries(project: &Project, indices: &[usize], context: &Context) -> String {
    indices
        .iter()
        .map(|&i| render::entry(project, i, &context.cwd))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn history(
    context: &Context,
    range: Option<&str>,
    verbose: bool,
    graph: bool,
) -> Result<(), Failure> {
    let project = context.load_project()?;
    // The database's current revision is not consulted by this command yet,
    // so `current` and `+N` in a range are reported as unknown.
    let indices = project.history(range, None)?;
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
                entries(&project, &indices, context)
            } else {
                indices
                    .iter()
                    .map(|&i| render::line(&project, i, HISTORY_LINE) + "\n")
                    .collect()
            }
        },
        || json_list(&project, &indices, context),
    )?)
}

pub(crate) fn heads(context: &Context, verbose: bool) -> Result<(), Failure> {
    context.no_dot("heads")?;
    let project = context.load_project()?;
    let heads = project.graph().heads().to_vec();
    Ok(context.printer.emit(
        || {
            if verbose {
                entries(&project, &heads, context)
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
                    render::entry(&project, point, &context.cwd)
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
    let project = context.load_project()?;
    let indices = project.resolve(target, None)?;
    if indices.is_empty() {
        return Err(Failure::usage(
            format!("`{target}` names no revision (it is the base)"),
            Some("run `retort history` to list revisions".into()),
        ));
    }
    Ok(context.printer.emit(
        || entries(&project, &indices, context),
        || json_list(&project, &indices, context),
    )?)
}
