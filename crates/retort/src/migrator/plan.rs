//! Plans: which revisions to run, in which order, and what the version
//! table holds after each step — pure functions over the graph.
//!
//! The version table holds the heads of the applied set: Alembic's
//! `alembic_version` rows. The applied set is everything below those rows,
//! through parents and dependencies; a row is an applied revision that no
//! other applied revision revises or depends on. Each step's table change is
//! the difference between the rows before and after it, so branches, merges,
//! unmerges and stamps all follow from one rule.

use crate::graph::{Graph, GraphError, Resolved};

pub use crate::script::Direction;

/// One revision to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The revision (graph index).
    pub revision: usize,
    /// Up or down.
    pub direction: Direction,
}

/// A target that does not fit the direction asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Upgrading to a revision below the current ones.
    #[error(
        "`{target}` is below the database's current revision; upgrading to it would go backwards"
    )]
    UpgradeBackwards {
        /// The target as written.
        target: String,
    },
    /// Downgrading to a revision that is not applied.
    #[error("`{target}` is not applied, so the database cannot be downgraded to it")]
    DowngradeForwards {
        /// The target as written.
        target: String,
    },
    /// Downgrading a branch of which no revision is applied.
    #[error("`{target}`: no revision of `{label}`'s line of history is applied")]
    BranchNotApplied {
        /// The target as written.
        target: String,
        /// The branch label (or revision) it is scoped to.
        label: String,
    },
    /// An offline range (`A:B`, `--sql`) whose target lies the wrong way
    /// from its start: below it for an upgrade, not below it for a
    /// downgrade.
    #[error(
        "`{range}`: `{target}` is {} `{start}`, where the script starts; {} to it would go {}",
        if *direction == Direction::Up { "below" } else { "not below" },
        if *direction == Direction::Up { "upgrading" } else { "downgrading" },
        if *direction == Direction::Up { "backwards" } else { "forwards" }
    )]
    RangeWrongWay {
        /// The range as written.
        range: String,
        /// Its start.
        start: String,
        /// Its target.
        target: String,
        /// The command's direction.
        direction: Direction,
    },
    /// A range (`A:B`) where the database is read: ranges are for
    /// offline scripts.
    #[error(
        "`{target}` is a range, which only an offline script (`--sql`) starts from; against the database the start is where the database is"
    )]
    RangeNeedsSql {
        /// The target as written.
        target: String,
    },
    /// Something an offline script cannot do, since it reads no database.
    #[error("`{target}` cannot be written as an offline script: {reason}")]
    NotOffline {
        /// The target or command as written.
        target: String,
        /// Why.
        reason: String,
    },
    /// A graph problem resolving the target.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

impl crate::Diagnostic for PlanError {
    /// What to type next.
    fn hint(&self) -> Option<String> {
        match self {
            PlanError::UpgradeBackwards { target } => {
                Some(format!("run `retort downgrade {target}` to go back to it"))
            }
            PlanError::DowngradeForwards { target } => {
                Some(format!("run `retort upgrade {target}` to go forward to it"))
            }
            PlanError::RangeWrongWay {
                start,
                target,
                direction,
                ..
            } => {
                let other = match direction {
                    Direction::Up => "downgrade",
                    Direction::Down => "upgrade",
                };
                Some(format!(
                    "`retort {other} {start}:{target} --sql` writes the script that goes there"
                ))
            }
            PlanError::BranchNotApplied { label, .. } => Some(format!(
                "`retort current` shows what is applied; `retort upgrade {label}@head` applies the branch"
            )),
            PlanError::RangeNeedsSql { target } => Some(format!(
                "add `--sql` to print the script of `{target}`, or name one target (`{}`)",
                target
                    .rsplit(':')
                    .next()
                    .filter(|t| !t.is_empty())
                    .unwrap_or("head")
            )),
            PlanError::NotOffline { target, .. } => {
                let to = target.rsplit(':').next().unwrap_or(target);
                Some(format!(
                    "give the revisions the script starts from, e.g. `heads:{to}`; or run it against the database (without `--sql`)"
                ))
            }
            PlanError::Graph(e) => e.hint(),
        }
    }

    /// A stable snake_case name.
    fn kind(&self) -> &'static str {
        match self {
            PlanError::UpgradeBackwards { .. } => "upgrade_backwards",
            PlanError::DowngradeForwards { .. } => "downgrade_forwards",
            PlanError::RangeWrongWay {
                direction: Direction::Up,
                ..
            } => "upgrade_backwards",
            PlanError::RangeWrongWay {
                direction: Direction::Down,
                ..
            } => "downgrade_forwards",
            PlanError::BranchNotApplied { .. } => "branch_not_applied",
            PlanError::RangeNeedsSql { .. } => "range_needs_sql",
            PlanError::NotOffline { .. } => "not_offline",
            PlanError::Graph(e) => e.kind(),
        }
    }
}

/// The applied set implied by version rows: the rows and everything below.
pub fn applied_set(graph: &Graph, rows: &[usize]) -> Vec<bool> {
    graph.ancestors(rows, true)
}

/// The version rows for an applied set: applied revisions that no other
/// applied revision revises or depends on, in graph order.
pub fn rows_of(graph: &Graph, applied: &[bool]) -> Vec<usize> {
    tops(graph, applied, true)
}

/// The members of `set` that no other member revises (or, with
/// `with_dependencies`, depends on), in graph order.
pub(crate) fn tops(graph: &Graph, set: &[bool], with_dependencies: bool) -> Vec<usize> {
    let mut below = vec![false; graph.len()];
    for i in (0..graph.len()).filter(|&i| set[i]) {
        let node = graph.node(i);
        let deps: &[usize] = if with_dependencies {
            node.dependencies()
        } else {
            &[]
        };
        for &p in node.parents().iter().chain(deps) {
            below[p] = true;
        }
    }
    (0..graph.len()).filter(|&i| set[i] && !below[i]).collect()
}

/// The members of `targets` that no other member lies above (through
/// parents and dependencies): of `heads`, say, a head another head depends
/// on is left out.
fn topmost(graph: &Graph, targets: &[usize]) -> Vec<usize> {
    let below: Vec<Vec<bool>> = targets
        .iter()
        .map(|&t| graph.ancestors(&[t], true))
        .collect();
    targets
        .iter()
        .copied()
        .filter(|&t| {
            !targets
                .iter()
                .zip(&below)
                .any(|(&other, under)| other != t && under[t])
        })
        .collect()
}

/// The line of history of the branch a target is scoped to (`label@…`),
/// through dependencies, as Alembic draws it; `None` when unscoped.
fn branch_line(graph: &Graph, target: &Resolved) -> Result<Option<Vec<bool>>, PlanError> {
    match target.branch.as_deref() {
        Some(label) => Ok(Some(graph.lineage(graph.lookup(label)?, true))),
        None => Ok(None),
    }
}

/// Steps that bring the database from `rows` up to `target`.
pub fn upgrade(
    graph: &Graph,
    rows: &[usize],
    target: &Resolved,
    written: &str,
) -> Result<Vec<Step>, PlanError> {
    let applied = applied_set(graph, rows);
    let wanted = graph.ancestors(&target.revisions, true);
    let todo: Vec<bool> = wanted
        .iter()
        .zip(&applied)
        .map(|(w, a)| *w && !*a)
        .collect();
    // Alembic's order: walked down from the targets (of `heads`, those
    // no other head depends on), run backwards.
    let steps: Vec<Step> = graph
        .newest_first_of(&todo, &topmost(graph, &target.revisions))
        .into_iter()
        .rev()
        .map(|revision| Step {
            revision,
            direction: Direction::Up,
        })
        .collect();
    // Alembic refuses an upgrade whose destination lies strictly below the
    // current heads; a silent no-op would hide a mistyped target. Base is
    // below any applied revision (of the target's branch, when it names one).
    let below_current = if target.revisions.is_empty() {
        match branch_line(graph, target)? {
            Some(line) => rows.iter().any(|&r| line[r]),
            None => !rows.is_empty(),
        }
    } else {
        topmost(graph, &target.revisions)
            .iter()
            .any(|t| applied[*t] && !rows.contains(t))
    };
    if steps.is_empty() && below_current {
        return Err(PlanError::UpgradeBackwards {
            target: written.to_owned(),
        });
    }
    Ok(steps)
}

/// Steps that bring the database from `rows` down to `target`.
///
/// `base` removes everything; `label@base` removes the branch: the line of
/// history through the label's revision down to where it forks off (or to
/// its own base); a revision removes what was applied above it. As in
/// Alembic, a target scoped to a branch (`label@-1`, `label@rev`) removes
/// only revisions on the label's line of history, under the rows on that
/// line; a relative step only what lies under the revision it walked from;
/// and a walk that reaches base removes the line it walked, not what that
/// line depends on. Whatever rests on a removed revision is removed with it.
pub fn downgrade(
    graph: &Graph,
    rows: &[usize],
    target: &Resolved,
    written: &str,
) -> Result<Vec<Step>, PlanError> {
    let applied = applied_set(graph, rows);
    let line = branch_line(graph, target)?;
    let rows_on_line: Option<Vec<usize>> = line
        .as_ref()
        .map(|line| rows.iter().copied().filter(|&r| line[r]).collect());
    let moves_a_line = !target.revisions.is_empty() || target.walked_from.is_some();
    if let (Some(label), Some([]), true) = (&target.branch, rows_on_line.as_deref(), moves_a_line) {
        // The walk would start below the label, on a sibling branch that
        // shares its ancestors: that branch is not the label's to move.
        return Err(PlanError::BranchNotApplied {
            target: written.to_owned(),
            label: label.clone(),
        });
    }
    let mut remove: Vec<bool> = if target.revisions.is_empty() {
        match (target.walked_from, &target.branch) {
            (Some(from), _) => graph.ancestors(&[from], false),
            (None, None) => applied.clone(),
            (None, Some(label)) => {
                graph.descendants(&[branch_root(graph, graph.lookup(label)?)], true)
            }
        }
    } else {
        if let Some(_missing) = target.revisions.iter().find(|&&t| !applied[t]) {
            return Err(PlanError::DowngradeForwards {
                target: written.to_owned(),
            });
        }
        // What is above the target: its children and everything resting on
        // them. Revisions that merely depend on the target stay (Alembic
        // starts from the target's children too).
        let children: Vec<usize> = target
            .revisions
            .iter()
            .flat_map(|&t| graph.node(t).children().iter().copied())
            .collect();
        let mut above = graph.descendants(&children, true);
        for &t in &target.revisions {
            above[t] = false;
        }
        let tops = match target.walked_from {
            Some(from) => Some(vec![from]),
            None => rows_on_line,
        };
        if let Some(tops) = tops {
            keep_only(&mut above, &graph.ancestors(&tops, true));
        }
        above
    };
    if let Some(line) = &line {
        keep_only(&mut remove, line);
    }
    keep_only(&mut remove, &applied);
    // Whatever rests on a removed revision goes with it.
    let removed: Vec<usize> = (0..graph.len()).filter(|&i| remove[i]).collect();
    let mut remove = graph.descendants(&removed, true);
    keep_only(&mut remove, &applied);
    // Alembic's order: walked down from the version rows.
    Ok(graph
        .newest_first_of(&remove, rows)
        .into_iter()
        .map(|revision| Step {
            revision,
            direction: Direction::Down,
        })
        .collect())
}

/// Clears the members of `set` that are not in `within`.
fn keep_only(set: &mut [bool], within: &[bool]) {
    for (member, inside) in set.iter_mut().zip(within) {
        *member &= *inside;
    }
}

/// The first revision of the branch through `start`: walking down while the
/// line has no fork, stopping at a revision whose parent branches (or merges)
/// or at a base.
fn branch_root(graph: &Graph, start: usize) -> usize {
    let mut at = start;
    loop {
        let node = graph.node(at);
        match node.parents() {
            [parent] if graph.node(*parent).children().len() == 1 => at = *parent,
            _ => return at,
        }
    }
}

/// The rows after `stamp`, Alembic's rule: each target replaces the rows
/// that share its line of history (its ancestors and descendants, through
/// dependencies too) and leaves the others; a target already in the table
/// changes nothing. `base` empties the table, `label@base` removes the rows
/// of the label's line. With `purge`, the table starts empty.
///
/// Each target is matched against the rows of its own line, and a target
/// below another one is left out: Alembic matches every target against the
/// rows of all of them, so that `stamp heads` can drop a head that was
/// already stamped, and writes a row for each of two targets on one line.
pub fn stamp(
    graph: &Graph,
    rows: &[usize],
    targets: &[Resolved],
    purge: bool,
) -> Result<Vec<usize>, PlanError> {
    let mut rows: Vec<usize> = if purge { Vec::new() } else { rows.to_vec() };
    // A target below another one is implied by it, whatever the order.
    let all: Vec<usize> = targets
        .iter()
        .flat_map(|t| t.revisions.iter().copied())
        .collect();
    let topmost = topmost(graph, &all);
    for target in targets {
        if target.revisions.is_empty() {
            match branch_line(graph, target)? {
                Some(line) => rows.retain(|&r| !line[r]),
                None => rows.clear(),
            }
            continue;
        }
        for &t in &target.revisions {
            if rows.contains(&t) || !topmost.contains(&t) {
                continue;
            }
            let line = graph.lineage(t, true);
            rows.retain(|&r| !line[r]);
            rows.push(t);
        }
    }
    rows.sort_unstable();
    Ok(rows)
}

/// The rows after applying one step to `rows`.
pub fn next_rows(graph: &Graph, rows: &[usize], step: Step) -> Vec<usize> {
    let mut applied = applied_set(graph, rows);
    match step.direction {
        Direction::Up => {
            // Only the new revision and what it sits on change: a local
            // update keeps a long plan linear instead of quadratic.
            let node = graph.node(step.revision);
            let mut next: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|r| !node.parents().contains(r) && !node.dependencies().contains(r))
                .collect();
            next.push(step.revision);
            next.sort_unstable();
            return next;
        }
        Direction::Down => applied[step.revision] = false,
    }
    rows_of(graph, &applied)
}

/// How the version table changes between two row sets: `(update from → to)`
/// pairs first, then deletes and inserts, as Alembic issues them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowChange {
    /// Rows rewritten in place.
    pub updates: Vec<(usize, usize)>,
    /// Rows removed.
    pub deletes: Vec<usize>,
    /// Rows added.
    pub inserts: Vec<usize>,
}

/// The table change from `before` to `after`.
pub fn row_change(before: &[usize], after: &[usize]) -> RowChange {
    let removed: Vec<usize> = before
        .iter()
        .copied()
        .filter(|r| !after.contains(r))
        .collect();
    let added: Vec<usize> = after
        .iter()
        .copied()
        .filter(|r| !before.contains(r))
        .collect();
    let pairs = removed.len().min(added.len());
    // Alembic deletes the extra rows of a merge and updates the last one.
    let (deleted, updated_from) = removed.split_at(removed.len() - pairs);
    let (updated_to, inserted) = added.split_at(pairs);
    RowChange {
        updates: updated_from
            .iter()
            .copied()
            .zip(updated_to.iter().copied())
            .collect(),
        deletes: deleted.to_vec(),
        inserts: inserted.to_vec(),
    }
}

#[cfg(test)]
mod tests;
