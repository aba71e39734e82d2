use std::path::PathBuf;

use thiserror::Error;

use crate::graph::GraphError;

/// A request that conflicts with the project as it is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A new revision without `--head` where there are several heads.
    #[error("there are {} heads ({}); a new revision needs to know which one it revises", heads.len(), crate::graph::quote(heads))]
    MultipleHeads {
        /// The heads.
        heads: Vec<String>,
    },
    /// `--head` names a revision that already has children.
    #[error("revision `{id}` is not a head: `{}` already {} it", children.join("`, `"), if children.len() == 1 { "revises" } else { "revise" })]
    NotAHead {
        /// The revision.
        id: String,
        /// Its children.
        children: Vec<String>,
    },
    /// `--rev-id` is taken.
    #[error("revision id `{0}` is already used")]
    IdTaken(String),
    /// `--rev-id` has bad characters or is too long.
    #[error("invalid revision id `{id}`: {reason}")]
    InvalidId {
        /// The id given.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `--branch-label` has bad characters.
    #[error(
        "invalid branch label `{0}`: use letters, digits, `_` and `-`, not only digits, not `head`, `heads`, `base` or `current`"
    )]
    InvalidLabel(String),
    /// `--branch-label` is taken.
    #[error("branch label `{label}` is already used by {owner}")]
    LabelTaken {
        /// The label.
        label: String,
        /// The revision holding it.
        owner: String,
    },
    /// `--version-path` is not one of `migrations.dirs`.
    #[error("`{}` is not one of the directories in `migrations.dirs`", path.display())]
    UnknownVersionPath {
        /// The path given.
        path: PathBuf,
    },
    /// Several directories and nothing to choose one by.
    #[error("`migrations.dirs` lists several directories and the new revision starts a new base")]
    VersionPathNeeded,
    /// A merge of fewer than two revisions.
    #[error("nothing to merge: {}", if revisions.is_empty() { "there are no revisions".to_owned() } else { format!("only `{}`", revisions.join("`, `")) })]
    NothingToMerge {
        /// What would have been merged.
        revisions: Vec<String>,
    },
    /// A merge of a revision with its own ancestor.
    #[error("cannot merge `{ancestor}` into `{descendant}`: it is already its ancestor")]
    MergeOfAncestor {
        /// The ancestor.
        ancestor: String,
        /// Its descendant.
        descendant: String,
    },
    /// `--head` resolves to several revisions.
    #[error(
        "`--head {target}` names {count} revisions; a new revision revises one (use `retort merge` to join several)"
    )]
    SeveralParents {
        /// The target as given.
        target: String,
        /// How many it named.
        count: usize,
    },
    /// `init` over an existing project.
    #[error("`{}` already exists; `retort init` does not overwrite a project", path.display())]
    AlreadyInitialized {
        /// The file or directory in the way.
        path: PathBuf,
    },
    /// A configured migrations directory is missing.
    #[error("migrations directory `{}` does not exist", path.display())]
    MissingDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// A configured migrations directory is a file.
    #[error("migrations directory `{}` is not a directory", path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// A code migration registered under a name no revision file gives.
    #[error(
        "the code migration `{name}` is registered, but no revision file says `-- retort:code {name} VERSION`"
    )]
    CodeWithoutRevision {
        /// The name registered.
        name: String,
    },
    /// Two code migrations registered under one name.
    #[error("two code migrations are registered as `{name}`")]
    CodeRegisteredTwice {
        /// The name.
        name: String,
    },
    /// Graph errors about the request's own revisions (e.g. `--depends-on`).
    #[error("{0}")]
    Target(GraphError),
}

impl crate::Diagnostic for RequestError {
    /// A stable snake_case name.
    fn kind(&self) -> &'static str {
        match self {
            RequestError::MultipleHeads { .. } => "multiple_heads",
            RequestError::NotAHead { .. } => "not_a_head",
            RequestError::IdTaken(_) => "revision_id_taken",
            RequestError::InvalidId { .. } => "invalid_revision_id",
            RequestError::InvalidLabel(_) => "invalid_branch_label",
            RequestError::LabelTaken { .. } => "branch_label_taken",
            RequestError::UnknownVersionPath { .. } => "unknown_version_path",
            RequestError::VersionPathNeeded => "version_path_needed",
            RequestError::NothingToMerge { .. } => "nothing_to_merge",
            RequestError::MergeOfAncestor { .. } => "merge_of_ancestor",
            RequestError::SeveralParents { .. } => "several_parents",
            RequestError::AlreadyInitialized { .. } => "already_initialized",
            RequestError::MissingDirectory { .. } | RequestError::NotADirectory { .. } => {
                "missing_migrations_dir"
            }
            RequestError::CodeWithoutRevision { .. } => "code_without_revision",
            RequestError::CodeRegisteredTwice { .. } => "code_registered_twice",
            RequestError::Target(e) => e.kind(),
        }
    }

    /// What to type next.
    fn hint(&self) -> Option<String> {
        Some(match self {
            RequestError::MultipleHeads { heads } => format!(
                "pass `--head {}` (or `--head <label>@head`), or join the heads first with `retort merge heads -m \"merge\"`",
                heads.first().map_or("<rev>", String::as_str)
            ),
            RequestError::NotAHead { id, .. } => {
                format!("pass `--splice` to start a new branch from `{id}`")
            }
            RequestError::IdTaken(_) => {
                "choose another `--rev-id`, or omit it for a random one".into()
            }
            RequestError::LabelTaken { .. } => "choose another `--branch-label`".into(),
            RequestError::UnknownVersionPath { .. } | RequestError::VersionPathNeeded => {
                "pass `--version-path` with one of the directories in `migrations.dirs`".into()
            }
            RequestError::NothingToMerge { .. } => {
                "run `retort heads` to see what there is to merge".into()
            }
            RequestError::AlreadyInitialized { .. } => {
                "run `retort init` in an empty directory, or edit the existing project".into()
            }
            RequestError::MissingDirectory { .. } => {
                "create the directory, or fix `migrations.dirs` in retort.toml".into()
            }
            RequestError::NotADirectory { .. } => {
                "`migrations.dirs` lists directories of revision files; fix it in retort.toml"
                    .into()
            }
            RequestError::CodeWithoutRevision { name } => format!(
                "check the name against the revision files (`grep -r 'retort:code' migrations`), or write the revision: a file with `-- retort:code {name} 1` in its header"
            ),
            RequestError::CodeRegisteredTwice { .. } => "register each code migration once".into(),
            RequestError::Target(e) => return e.hint(),
            RequestError::MergeOfAncestor { descendant, .. } => format!(
                "merge `{descendant}` with the other heads instead; run `retort heads` to list them"
            ),
            RequestError::InvalidId { .. } => {
                "give at most 32 letters, digits and `_`, or omit `--rev-id` for a random id".into()
            }
            RequestError::InvalidLabel(_) => "choose a label like `auth` or `billing-v2`".into(),
            RequestError::SeveralParents { target, .. } => {
                format!("run `retort show {target}` and pass one of those revisions to `--head`")
            }
        })
    }
}
