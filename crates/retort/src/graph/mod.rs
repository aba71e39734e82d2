//! The revision map: Alembic's DAG of revisions, as pure data.
//!
//! A [`Graph`] is built from [`Node`]s (id, parents, dependencies, branch
//! labels) and never sees files or databases. Parents (`revises`) form the
//! versioned history: a revision with no children is a head, one with no
//! parents a base. Dependencies (`depends_on`) only order the upgrade: they
//! never make or unmake a head.
//!
//! Nodes keep the order they were given in (the project gives file order), and
//! every listing derived from the graph is deterministic in that order.

pub mod dot;
pub mod draw;
mod error;
mod target;
mod walk;

use std::collections::HashMap;

pub use error::GraphError;
pub(crate) use error::quote_list as quote;
pub use target::{Range, Resolved};

/// One revision as the graph needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The revision id.
    pub id: String,
    /// Ids this revision revises (several for a merge, none for a base).
    pub parents: Vec<String>,
    /// Ids or branch labels this revision depends on.
    pub depends_on: Vec<String>,
    /// Branch labels this revision declares.
    pub branch_labels: Vec<String>,
    /// Where it came from, for error messages (e.g. a file path).
    pub origin: String,
}

impl Node {
    /// A node with parents only.
    pub fn new(id: &str, parents: &[&str]) -> Node {
        Node {
            id: id.to_owned(),
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            depends_on: Vec::new(),
            branch_labels: Vec::new(),
            origin: format!("revision `{id}`"),
        }
    }

    /// Adds branch labels.
    #[must_use]
    pub fn labels(mut self, labels: &[&str]) -> Node {
        self.branch_labels = labels.iter().map(|l| (*l).to_owned()).collect();
        self
    }

    /// Adds dependencies.
    #[must_use]
    pub fn depends_on(mut self, deps: &[&str]) -> Node {
        self.depends_on = deps.iter().map(|d| (*d).to_owned()).collect();
        self
    }
}

/// One revision's links as [`Graph::build_from`] reads them.
pub(crate) struct NodeRef<'a> {
    pub(crate) id: &'a str,
    pub(crate) parents: &'a [String],
    pub(crate) depends_on: &'a [String],
    pub(crate) branch_labels: &'a [String],
}

/// A revision inside a built graph, with its links resolved to indices.
#[derive(Debug, Clone)]
pub struct Revision {
    id: String,
    branch_labels: Vec<String>,
    parents: Vec<usize>,
    children: Vec<usize>,
    dependencies: Vec<usize>,
    dependents: Vec<usize>,
}

impl Revision {
    /// The revision id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Branch labels declared by this revision.
    pub fn branch_labels(&self) -> &[String] {
        &self.branch_labels
    }
    /// Indices of the revisions this one revises.
    pub fn parents(&self) -> &[usize] {
        &self.parents
    }
    /// Indices of the revisions that revise this one.
    pub fn children(&self) -> &[usize] {
        &self.children
    }
    /// Indices of the revisions this one depends on.
    pub fn dependencies(&self) -> &[usize] {
        &self.dependencies
    }
    /// Indices of the revisions that depend on this one.
    pub fn dependents(&self) -> &[usize] {
        &self.dependents
    }
    /// No revision revises this one.
    pub fn is_head(&self) -> bool {
        self.children.is_empty()
    }
    /// A head that another revision depends on (Alembic's "effective
    /// head"): `upgrade heads` applies it on the way to that revision.
    pub fn is_effective_head(&self) -> bool {
        self.children.is_empty() && !self.dependents.is_empty()
    }
    /// This revision revises nothing.
    pub fn is_base(&self) -> bool {
        self.parents.is_empty()
    }
    /// Several revisions revise this one.
    pub fn is_branch_point(&self) -> bool {
        self.children.len() > 1
    }
    /// This revision revises several.
    pub fn is_merge_point(&self) -> bool {
        self.parents.len() > 1
    }
}

/// The validated revision graph.
#[derive(Debug, Clone)]
pub struct Graph {
    revisions: Vec<Revision>,
    by_id: HashMap<String, usize>,
    by_label: HashMap<String, usize>,
    heads: Vec<usize>,
    bases: Vec<usize>,
    /// Every index, each before its parents and dependencies, in the order
    /// Alembic walks them (the order `history` prints).
    newest_first: Vec<usize>,
    /// Per revision, what the walk leads down to (see [`walk`]).
    down: Vec<Vec<usize>>,
    /// Per revision, the branch names it is shown with (see
    /// [`Graph::branch_names`]); empty lists when no revision has a label.
    names: Vec<Vec<String>>,
}

impl Graph {
    /// Builds and validates the graph: duplicate ids or labels, missing
    /// parents or dependencies and cycles are errors.
    pub fn build(nodes: Vec<Node>) -> Result<Graph, GraphError> {
        Graph::build_from(
            nodes.len(),
            |i| NodeRef {
                id: &nodes[i].id,
                parents: &nodes[i].parents,
                depends_on: &nodes[i].depends_on,
                branch_labels: &nodes[i].branch_labels,
            },
            |i| nodes[i].origin.clone(),
        )
    }

    /// [`Graph::build`] from revisions borrowed where they live (the
    /// project's scripts): nothing is copied but what the graph keeps, and
    /// `origin` is asked only for an error message.
    pub(crate) fn build_from<'a>(
        len: usize,
        node: impl Fn(usize) -> NodeRef<'a>,
        origin: impl Fn(usize) -> String,
    ) -> Result<Graph, GraphError> {
        let mut by_id: HashMap<String, usize> = HashMap::with_capacity(len);
        for index in 0..len {
            let id = node(index).id;
            if let Some(&first) = by_id.get(id) {
                return Err(GraphError::DuplicateRevision {
                    id: id.to_owned(),
                    first: origin(first),
                    second: origin(index),
                });
            }
            by_id.insert(id.to_owned(), index);
        }
        let mut by_label: HashMap<String, usize> = HashMap::new();
        for index in 0..len {
            let n = node(index);
            for label in n.branch_labels {
                let other = by_label.get(label).or_else(|| by_id.get(label));
                if let Some(&other) = other {
                    return Err(GraphError::DuplicateLabel {
                        label: label.clone(),
                        id: n.id.to_owned(),
                        other: node(other).id.to_owned(),
                    });
                }
                by_label.insert(label.clone(), index);
            }
        }
        let mut revisions: Vec<Revision> = Vec::with_capacity(len);
        for index in 0..len {
            let n = node(index);
            let mut parents = Vec::with_capacity(n.parents.len());
            for parent in n.parents {
                let &p = by_id
                    .get(parent.as_str())
                    .ok_or_else(|| GraphError::MissingParent {
                        id: n.id.to_owned(),
                        origin: origin(index),
                        parent: parent.clone(),
                    })?;
                if !parents.contains(&p) {
                    parents.push(p);
                }
            }
            let mut dependencies = Vec::with_capacity(n.depends_on.len());
            for dep in n.depends_on {
                let &d = by_id
                    .get(dep.as_str())
                    .or_else(|| by_label.get(dep.as_str()))
                    .ok_or_else(|| GraphError::MissingDependency {
                        id: n.id.to_owned(),
                        origin: origin(index),
                        dependency: dep.clone(),
                    })?;
                if !dependencies.contains(&d) {
                    dependencies.push(d);
                }
            }
            revisions.push(Revision {
                id: n.id.to_owned(),
                branch_labels: n.branch_labels.to_vec(),
                parents,
                children: Vec::new(),
                dependencies,
                dependents: Vec::new(),
            });
        }
        for index in 0..revisions.len() {
            for k in 0..revisions[index].parents.len() {
                let p = revisions[index].parents[k];
                revisions[p].children.push(index);
            }
            for k in 0..revisions[index].dependencies.len() {
                let d = revisions[index].dependencies[k];
                revisions[d].dependents.push(index);
            }
        }
        check_acyclic(&revisions)?;
        let heads = (0..revisions.len())
            .filter(|&i| revisions[i].is_head())
            .collect();
        let bases = (0..revisions.len())
            .filter(|&i| revisions[i].is_base())
            .collect();
        let down = walk::down_links(&revisions);
        let mut graph = Graph {
            revisions,
            by_id,
            by_label,
            heads,
            bases,
            newest_first: Vec::new(),
            down,
            names: Vec::new(),
        };
        graph.names = graph.inherited_labels();
        graph.newest_first = graph.newest_first_of(&vec![true; len], &graph.real_heads());
        Ok(graph)
    }

    /// The branch names a revision is shown with, as Alembic shows them:
    /// the labels it declares, those of the revisions it descends from
    /// through `revises`, and, where a label's revision and everything
    /// after it form one straight line, that label on the line below it too,
    /// down to the first revision that forks, merges or is depended on.
    /// Sorted.
    pub fn branch_names(&self, index: usize) -> &[String] {
        self.names.get(index).map_or(&[], Vec::as_slice)
    }

    fn inherited_labels(&self) -> Vec<Vec<String>> {
        let mut names: Vec<Vec<String>> = vec![Vec::new(); self.revisions.len()];
        if self.by_label.is_empty() {
            return names;
        }
        // Forks where the walk down stops: several children or dependents,
        // or several parents.
        let stops = |r: &Revision| r.children.len() + r.dependents.len() > 1 || r.parents.len() > 1;
        for (i, revision) in self.revisions.iter().enumerate() {
            if revision.branch_labels.is_empty() {
                continue;
            }
            let after = self.descendants(&[i], false);
            let members: Vec<usize> = (0..self.revisions.len()).filter(|&j| after[j]).collect();
            for &j in &members {
                names[j].extend(revision.branch_labels.iter().cloned());
            }
            // A straight line from the label's revision up: the walk down
            // from its end passes through it and goes on below.
            let straight = members.iter().all(|&j| !stops(&self.revisions[j]));
            if straight {
                let mut at = revision.parents.first().copied();
                while let Some(p) = at.filter(|&p| !stops(&self.revisions[p])) {
                    names[p].extend(revision.branch_labels.iter().cloned());
                    at = self.revisions[p].parents.first().copied();
                }
            }
        }
        for list in &mut names {
            list.sort();
            list.dedup();
        }
        names
    }

    /// Number of revisions.
    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    /// Whether there are no revisions.
    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// The revision at `index` (indices follow the order of the input nodes).
    pub fn node(&self, index: usize) -> &Revision {
        &self.revisions[index]
    }

    /// The index of an exact revision id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The revision declaring a branch label.
    pub fn label_owner(&self, label: &str) -> Option<usize> {
        self.by_label.get(label).copied()
    }

    /// Heads (revisions nothing revises), in input order.
    pub fn heads(&self) -> &[usize] {
        &self.heads
    }

    /// Head ids, in input order.
    pub fn head_ids(&self) -> Vec<&str> {
        self.ids(&self.heads)
    }

    /// Bases (revisions that revise nothing), in input order.
    pub fn bases(&self) -> &[usize] {
        &self.bases
    }

    /// The ids of some indices.
    pub fn ids(&self, indices: &[usize]) -> Vec<&str> {
        indices.iter().map(|&i| self.revisions[i].id()).collect()
    }

    /// Every revision, newest first: each before its parents and
    /// dependencies, in the order Alembic's `history` lists them (see
    /// the walk in `graph/walk.rs`).
    pub fn newest_first(&self) -> &[usize] {
        &self.newest_first
    }

    /// Branch points, newest first.
    pub fn branch_points(&self) -> Vec<usize> {
        self.newest_first
            .iter()
            .copied()
            .filter(|&i| self.revisions[i].is_branch_point())
            .collect()
    }

    /// A membership mask of `start` and everything reachable by following
    /// parents (and dependencies when `with_dependencies`).
    pub fn ancestors(&self, start: &[usize], with_dependencies: bool) -> Vec<bool> {
        self.reach(start, |r| {
            let deps: &[usize] = if with_dependencies {
                &r.dependencies
            } else {
                &[]
            };
            r.parents.iter().chain(deps)
        })
    }

    /// A membership mask of `start` and everything reachable by following
    /// children (and dependents when `with_dependencies`).
    pub fn descendants(&self, start: &[usize], with_dependencies: bool) -> Vec<bool> {
        self.reach(start, |r| {
            let deps: &[usize] = if with_dependencies {
                &r.dependents
            } else {
                &[]
            };
            r.children.iter().chain(deps)
        })
    }

    fn reach<'g, F, I>(&'g self, start: &[usize], next: F) -> Vec<bool>
    where
        F: Fn(&'g Revision) -> I,
        I: Iterator<Item = &'g usize>,
    {
        let mut seen = vec![false; self.revisions.len()];
        let mut stack: Vec<usize> = Vec::with_capacity(start.len());
        for &s in start {
            if !seen[s] {
                seen[s] = true;
                stack.push(s);
            }
        }
        while let Some(i) = stack.pop() {
            for &n in next(&self.revisions[i]) {
                if !seen[n] {
                    seen[n] = true;
                    stack.push(n);
                }
            }
        }
        seen
    }

    /// Whether `a` and `b` lie on one line of history (one is an ancestor of
    /// the other, or they are the same).
    pub fn shares_lineage(&self, a: usize, b: usize) -> bool {
        self.lineage(a, false)[b]
    }

    /// A membership mask of `a`'s line of history: its ancestors, itself
    /// and its descendants (through parents, and through dependencies when
    /// `with_dependencies`).
    pub fn lineage(&self, a: usize, with_dependencies: bool) -> Vec<bool> {
        let below = self.ancestors(&[a], with_dependencies);
        let above = self.descendants(&[a], with_dependencies);
        below.iter().zip(&above).map(|(b, a)| *b || *a).collect()
    }
}

/// Finds a cycle through parents and dependencies, if there is one.
///
/// A revision becomes ready once every child and dependent is placed; the
/// revisions never ready are those on or below a cycle.
fn check_acyclic(revisions: &[Revision]) -> Result<(), GraphError> {
    let mut waiting: Vec<usize> = revisions
        .iter()
        .map(|r| r.children.len() + r.dependents.len())
        .collect();
    let mut stack: Vec<usize> = (0..revisions.len())
        .rev()
        .filter(|&i| waiting[i] == 0)
        .collect();
    let mut placed = 0;
    while let Some(i) = stack.pop() {
        placed += 1;
        let revision = &revisions[i];
        for &n in revision.dependencies.iter().chain(&revision.parents) {
            waiting[n] -= 1;
            if waiting[n] == 0 {
                stack.push(n);
            }
        }
    }
    if placed < revisions.len() {
        return Err(GraphError::Cycle {
            cycle: find_cycle(revisions, &waiting),
        });
    }
    Ok(())
}

/// A cycle among the revisions the ordering could not place (`waiting > 0`).
fn find_cycle(revisions: &[Revision], waiting: &[usize]) -> Vec<String> {
    let stuck = |i: usize| waiting[i] > 0;
    let Some(start) = (0..revisions.len()).find(|&i| stuck(i)) else {
        return Vec::new();
    };
    // A revision is stuck while a child or dependent is unplaced, and an
    // unplaced revision is itself stuck; so walking up through stuck
    // revisions must revisit one, and that revisit closes a cycle.
    let mut position: HashMap<usize, usize> = HashMap::new();
    let mut path = vec![start];
    let mut current = start;
    loop {
        position.insert(current, path.len() - 1);
        let revision = &revisions[current];
        let Some(&next) = revision
            .children
            .iter()
            .chain(&revision.dependents)
            .find(|&&n| stuck(n))
        else {
            break;
        };
        if let Some(&at) = position.get(&next) {
            let mut cycle: Vec<String> = path[at..]
                .iter()
                .map(|&i| revisions[i].id.clone())
                .collect();
            cycle.push(revisions[next].id.clone());
            // Read it the way files declare it: each id revises the next.
            cycle.reverse();
            return cycle;
        }
        path.push(next);
        current = next;
    }
    path.iter().map(|&i| revisions[i].id.clone()).collect()
}

#[cfg(test)]
mod tests;
