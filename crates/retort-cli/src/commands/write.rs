//! Commands that write files: init, revision, merge.

use std::path::Path;

use super::Context;
use crate::args::{DialectArg, RevisionArgs};
use crate::json;
use crate::output::{Failure, write_stdout};
use crate::render;
use retort::project::{self, NewRevision};

pub(crate) fn init(context: &Context, dir: &Path, dialect: DialectArg) -> Result<(), Failure> {
    context.no_dot("init")?;
    let dialect = dialect.dialect();
    let report = project::init(dir, dialect)?;
    let created: Vec<String> = report
        .created
        .iter()
        .map(|p| render::display_path(p, &context.cwd))
        .collect();
    Ok(context.printer.emit(
        || {
            let mut text: String = created.iter().map(|p| format!("created {p}\n")).collect();
            text.push_str("next: edit retort.toml, then `retort revision -m \"first revision\"`\n");
            text
        },
        || json::Init {
            created: &created,
            dialect: dialect.name(),
        },
    )?)
}

pub(crate) fn revision(context: &Context, args: RevisionArgs) -> Result<(), Failure> {
    context.no_dot("revision")?;
    let project = context.load_project()?;
    let script = project.create_revision(&new_revision(args, Default::default()))?;
    print_new(context, &script, None)
}

/// The request `revision`'s arguments make, with the sections' SQL.
pub(super) fn new_revision(
    args: RevisionArgs,
    bodies: retort::script::template::Bodies,
) -> NewRevision {
    NewRevision {
        message: args.message,
        rev_id: args.rev_id,
        head: args.head,
        splice: args.splice,
        branch_labels: args.branch_labels,
        depends_on: args.depends_on,
        version_path: args.version_path,
        bodies,
    }
}

pub(crate) fn merge(
    context: &Context,
    revisions: &[String],
    message: String,
    rev_id: Option<String>,
    branch_labels: Vec<String>,
) -> Result<(), Failure> {
    context.no_dot("merge")?;
    let project = context.load_project()?;
    let request = NewRevision {
        message,
        rev_id,
        branch_labels,
        ..NewRevision::default()
    };
    let script = project.merge(revisions, &request)?;
    print_new(context, &script, None)
}

/// The new file's path on stdout (so `$EDITOR "$(retort revision -m x)"`
/// works), or its revision object.
pub(super) fn print_new(
    context: &Context,
    script: &retort::script::Script,
    detected: Option<json::Detected>,
) -> Result<(), Failure> {
    let path = render::display_path(&script.path, &context.cwd);
    Ok(context.printer.emit(
        || format!("{path}\n"),
        || json::NewRevision {
            revision: &script.revision,
            revises: &script.revises,
            message: &script.message,
            branch_labels: &script.branch_labels,
            depends_on: &script.depends_on,
            path: path.clone(),
            created: script.created.as_deref(),
            autogenerate: detected,
        },
    )?)
}

/// `completions SHELL`: the shell's completion script, from the CLI's
/// definition.
pub(crate) fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(
        shell,
        &mut crate::args::Cli::command(),
        "retort",
        &mut script,
    );
    Ok(write_stdout(&String::from_utf8_lossy(&script))?)
}

/// `man`: the man page (section 1, roff), from the CLI's definition.
pub(crate) fn man() -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut page = Vec::new();
    clap_mangen::Man::new(crate::args::Cli::command()).render(&mut page)?;
    Ok(write_stdout(&String::from_utf8_lossy(&page))?)
}
