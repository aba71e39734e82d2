use thiserror::Error;

/// A problem with the revision graph or with a target resolved against it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GraphError {
    /// Two files declare the same revision id.
    #[error("revision `{id}` is defined twice: in {first} and in {second}")]
    DuplicateRevision {
        /// The repeated id.
        id: String,
        /// Where it was first seen.
        first: String,
        /// Where it was seen again.
        second: String,
    },
    /// A branch label is declared twice, or collides with a revision id.
    #[error("branch label `{label}` of revision `{id}` is already used by revision `{other}`")]
    DuplicateLabel {
        /// The label.
        label: String,
        /// The revision declaring it again.
        id: String,
        /// The revision that already has that label or id.
        other: String,
    },
    /// A revision revises an id no file defines.
    #[error("revision `{id}` ({origin}) revises `{parent}`, which no revision file defines")]
    MissingParent {
        /// The child revision.
        id: String,
        /// Where the child was read from.
        origin: String,
        /// The missing id.
        parent: String,
    },
    /// A revision depends on an id or label that does not exist.
    #[error(
        "revision `{id}` ({origin}) depends on `{dependency}`, which is neither a revision nor a branch label"
    )]
    MissingDependency {
        /// The dependent revision.
        id: String,
        /// Where it was read from.
        origin: String,
        /// The missing id or label.
        dependency: String,
    },
    /// The revisions' parents and dependencies form a cycle.
    #[error("revisions form a cycle: {}", cycle.join(" -> "))]
    Cycle {
        /// The ids around the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// A target names nothing.
    #[error("no revision or branch label matches `{ident}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownRevision {
        /// What was asked for.
        ident: String,
        /// The closest id or label, when one is close.
        suggestion: Option<String>,
    },
    /// A prefix matches several revisions.
    #[error(
        "revision prefix `{prefix}` is ambiguous: it matches {}",
        quote_list(candidates)
    )]
    AmbiguousPrefix {
        /// The prefix.
        prefix: String,
        /// The matching ids.
        candidates: Vec<String>,
    },
    /// `head` (or `label@head`) was asked for where there are several.
    #[error("`{target}` is ambiguous: there are {} heads ({})", heads.len(), quote_list(heads))]
    MultipleHeads {
        /// The target as written.
        target: String,
        /// The heads it could mean.
        heads: Vec<String>,
    },
    /// `label@rev` names a revision outside the label's lineage.
    #[error("revision `{id}` is not in the lineage of branch `{label}`")]
    NotInBranch {
        /// The revision.
        id: String,
        /// The branch label.
        label: String,
    },
    /// A relative target walked past the end of the graph.
    #[error("`{target}` walks past {} after {taken} of {requested} steps", if *upward { "the last revision" } else { "the base" })]
    Overwalk {
        /// The target as written.
        target: String,
        /// Steps that could be taken.
        taken: u64,
        /// Steps asked for.
        requested: u64,
        /// Whether the walk went towards the heads.
        upward: bool,
    },
    /// A relative walk reached a branch point (up) or merge point (down).
    #[error(
        "`{target}` is ambiguous at `{at}`: the walk could continue to {}",
        quote_list(choices)
    )]
    AmbiguousWalk {
        /// The target as written.
        target: String,
        /// Where the walk forked; `base` when several bases start it.
        at: String,
        /// The ways it could go.
        choices: Vec<String>,
        /// Whether the walk went towards the heads.
        upward: bool,
    },
    /// A target relative to the current revision was resolved without one.
    #[error("`{target}` is relative to the database's current revision, which is not known here")]
    NeedsCurrent {
        /// The target as written.
        target: String,
    },
    /// A target relative to the current revision, with several current heads.
    #[error(
        "`{target}` is ambiguous: the database is at several revisions ({})",
        quote_list(current)
    )]
    AmbiguousCurrent {
        /// The target as written.
        target: String,
        /// The current heads in scope.
        current: Vec<String>,
    },
    /// The database names a revision that is in no file.
    #[error("the database is at revision `{id}`, which no revision file defines")]
    UnknownCurrent {
        /// The unknown id.
        id: String,
    },
    /// `A:B` where A is not an ancestor of B.
    #[error("`{lower}` is not an ancestor of `{upper}`")]
    RangeNotAncestor {
        /// The lower end as written.
        lower: String,
        /// The upper end as written.
        upper: String,
    },
    /// A target that does not parse.
    #[error("invalid target `{target}`: {reason}")]
    InvalidTarget {
        /// The target as written.
        target: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl crate::Diagnostic for GraphError {
    /// A stable snake_case name for scripts (`--format json`).
    fn kind(&self) -> &'static str {
        match self {
            GraphError::DuplicateRevision { .. } => "duplicate_revision",
            GraphError::DuplicateLabel { .. } => "duplicate_branch_label",
            GraphError::MissingParent { .. } => "missing_parent",
            GraphError::MissingDependency { .. } => "missing_dependency",
            GraphError::Cycle { .. } => "cycle",
            GraphError::UnknownRevision { .. } | GraphError::UnknownCurrent { .. } => {
                "unknown_revision"
            }
            GraphError::AmbiguousPrefix { .. } => "ambiguous_prefix",
            GraphError::MultipleHeads { .. } => "multiple_heads",
            GraphError::NotInBranch { .. } => "not_in_branch",
            GraphError::Overwalk { .. } => "relative_overwalk",
            GraphError::AmbiguousWalk { .. } => "ambiguous_walk",
            GraphError::NeedsCurrent { .. } => "needs_current",
            GraphError::AmbiguousCurrent { .. } => "ambiguous_current",
            GraphError::RangeNotAncestor { .. } => "range_not_ancestor",
            GraphError::InvalidTarget { .. } => "invalid_target",
        }
    }

    /// What to type next.
    fn hint(&self) -> Option<String> {
        Some(match self {
            GraphError::DuplicateRevision { .. } => {
                "give one of the files a new id in its `-- retort:revision` line and update the `-- retort:revises` lines that point to it".into()
            }
            GraphError::DuplicateLabel { .. } => {
                "branch labels and revision ids share one namespace; rename the label".into()
            }
            GraphError::MissingParent { .. } => {
                "check `migrations.dirs` in retort.toml lists every directory, or fix the `-- retort:revises` line".into()
            }
            GraphError::MissingDependency { .. } => {
                "fix the `-- retort:depends-on` line, or add the missing revision".into()
            }
            GraphError::Cycle { .. } => {
                "a revision must not revise or depend on one of its descendants; fix the `-- retort:revises` or `-- retort:depends-on` lines".into()
            }
            GraphError::UnknownRevision { ident, .. } if ident.len() < 4 => {
                "run `retort history` to list revisions; a prefix of 4 or more characters is safest".into()
            }
            GraphError::UnknownRevision { .. } => "run `retort history` to list revisions".into(),
            GraphError::AmbiguousPrefix { .. } => "type more characters of the id".into(),
            GraphError::MultipleHeads { target, heads } => {
                let example = heads.first().map_or("<rev>", String::as_str);
                if target.ends_with("@head") {
                    format!("name one head (e.g. `{example}`), or use `heads`")
                } else {
                    format!(
                        "use `heads` for all of them, `<branch>@head` or a revision id (e.g. `{example}`) for one, or `retort merge heads` to join them"
                    )
                }
            }
            GraphError::NotInBranch { label, .. } => {
                format!("run `retort history -r {label}@base:{label}@head` to list the branch")
            }
            GraphError::Overwalk { .. } => "use a smaller step, or `head`/`base`".into(),
            GraphError::AmbiguousWalk {
                choices, upward, ..
            } => {
                let example = choices.first().map_or("<rev>", String::as_str);
                let step = if *upward { "+1" } else { "-1" };
                format!("name the branch (`<branch>@{step}`) or the revision (e.g. `{example}`)")
            }
            GraphError::NeedsCurrent { .. } => {
                "use an absolute target such as a revision id, `head` or `rev+1`".into()
            }
            GraphError::AmbiguousCurrent { .. } => {
                "name the branch (`<branch>@+1`, `<branch>@-1`) or the revision to start from (`<rev>+1`, `<rev>-1`)".into()
            }
            GraphError::UnknownCurrent { .. } => {
                "restore the missing revision file, or `retort stamp` the database to a revision that exists".into()
            }
            GraphError::RangeNotAncestor { .. } => {
                "write ranges as `older:newer` along one line of history".into()
            }
            GraphError::InvalidTarget { .. } => {
                "targets are `head`, `heads`, `base`, an id or unique prefix, `rev+N`, `rev-N`, `+N`, `-N`, `label@head`, `label@base`, `label@+N`".into()
            }
        })
    }
}

pub(crate) fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
