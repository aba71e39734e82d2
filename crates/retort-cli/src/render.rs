//! How revisions read as text and as JSON (Alembic's output formats).

use std::path::Path;

use retort::project::Project;

use crate::json;

/// What a one-line summary includes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Line {
    /// `parents -> rev` instead of `rev`.
    pub(crate) parents: bool,
    /// `(head)`, `(branchpoint)`, `(mergepoint)`.
    pub(crate) tree: bool,
    /// `, message`.
    pub(crate) message: bool,
    /// `(current)`: the database is at it.
    pub(crate) current: bool,
}

/// `a1, b2 -> c3 (label) (head) (mergepoint), message`, as Alembic's
/// `history`, `heads` and `branches` print a revision.
pub(crate) fn line(project: &Project, index: usize, what: Line) -> String {
    let graph = project.graph();
    let node = graph.node(index);
    let script = project.script(index);
    let mut text = String::new();
    if what.parents {
        text.push_str(&parents_text(project, index));
        if !script.depends_on.is_empty() {
            text.push_str(&format!(" ({})", script.depends_on.join(", ")));
        }
        text.push_str(" -> ");
    }
    text.push_str(node.id());
    let names = graph.branch_names(index);
    if !names.is_empty() {
        text.push_str(&format!(" ({})", names.join(", ")));
    }
    text.push_str(head_word(node));
    if what.current {
        text.push_str(" (current)");
    }
    if what.tree {
        if node.is_branch_point() {
            text.push_str(" (branchpoint)");
        }
        if node.is_merge_point() {
            text.push_str(" (mergepoint)");
        }
    }
    if what.message {
        text.push_str(", ");
        text.push_str(&script.message);
    }
    text
}

fn parents_text(project: &Project, index: usize) -> String {
    let graph = project.graph();
    let parents = graph.node(index).parents();
    if parents.is_empty() {
        "<base>".to_owned()
    } else {
        graph.ids(parents).join(", ")
    }
}

/// ` (head)`, ` (effective head)` for a head another revision depends on
/// (as Alembic marks them), or nothing.
fn head_word(node: &retort::graph::Revision) -> &'static str {
    if node.is_effective_head() {
        " (effective head)"
    } else if node.is_head() {
        " (head)"
    } else {
        ""
    }
}

/// Every detail of a revision (Alembic's `log_entry`), ending in a blank
/// line; `current` marks a revision the database is at.
pub(crate) fn entry(project: &Project, index: usize, cwd: &Path, current: bool) -> String {
    let graph = project.graph();
    let node = graph.node(index);
    let script = project.script(index);
    let mut text = format!("Rev: {}{}", node.id(), head_word(node));
    for (flag, word) in [
        (node.is_branch_point(), " (branchpoint)"),
        (node.is_merge_point(), " (mergepoint)"),
        (current, " (current)"),
    ] {
        if flag {
            text.push_str(word);
        }
    }
    text.push('\n');
    let parent_word = if node.is_merge_point() {
        "Merges"
    } else {
        "Parent"
    };
    text.push_str(&format!(
        "{parent_word}: {}\n",
        parents_text(project, index)
    ));
    if !script.depends_on.is_empty() {
        text.push_str(&format!(
            "Also depends on: {}\n",
            script.depends_on.join(", ")
        ));
    }
    if node.is_branch_point() {
        text.push_str(&format!(
            "Branches into: {}\n",
            graph.ids(node.children()).join(", ")
        ));
    }
    let names = graph.branch_names(index);
    if !names.is_empty() {
        text.push_str(&format!("Branch names: {}\n", names.join(", ")));
    }
    if let Some(review) = &script.review {
        text.push_str(&format!(
            "Needs review: {} (`-- retort:review`, line {})\n",
            review.reason, review.line
        ));
    }
    if let Some(code) = &script.code {
        text.push_str(&format!(
            "Runs code: {} version {} (`-- retort:code`, line {}), registered by the application\n",
            code.name, code.version, code.line
        ));
    }
    text.push_str(&format!("Path: {}\n", display_path(&script.path, cwd)));
    text.push('\n');
    if !script.message.is_empty() {
        text.push_str(&format!("    {}\n\n", script.message));
    }
    text.push_str(&format!("    Revision ID: {}\n", node.id()));
    text.push_str(&format!("    Revises: {}\n", script.revises.join(", ")));
    if let Some(created) = &script.created {
        text.push_str(&format!("    Create Date: {created}\n"));
    }
    text
}

/// The JSON object of a revision (the `--format json` contract).
pub(crate) fn json<'p>(project: &'p Project, index: usize, cwd: &Path) -> json::Revision<'p> {
    let node = project.graph().node(index);
    let script = project.script(index);
    json::Revision {
        revision: node.id(),
        revises: &script.revises,
        message: &script.message,
        branch_labels: &script.branch_labels,
        depends_on: &script.depends_on,
        path: display_path(&script.path, cwd),
        created: script.created.as_deref(),
        review: script.review.as_ref().map(|r| r.reason.as_str()),
        code: script.code.as_ref().map(|c| json::Code {
            name: &c.name,
            version: &c.version,
        }),
        is_head: node.is_head(),
        is_base: node.is_base(),
        is_branch_point: node.is_branch_point(),
        is_merge_point: node.is_merge_point(),
    }
}

/// `path` relative to the working directory when it is below it.
pub(crate) fn display_path(path: &Path, cwd: &Path) -> String {
    let shown = path.strip_prefix(cwd).unwrap_or(path);
    // `init .` builds `./retort.toml`; print it as the user would type it.
    shown
        .strip_prefix(".")
        .unwrap_or(shown)
        .display()
        .to_string()
}
