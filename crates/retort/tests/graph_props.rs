//! Property tests for the revision graph: random DAGs (with shared id
//! prefixes, branch labels, dependencies and a shuffled input order) checked
//! against naive reference computations written here.
//!
//! The reference model reads the same `Vec<Node>` the graph is built from and
//! keeps sets as `u64` bit masks (a generated graph has at most 40 nodes);
//! ancestry is a repeated union until nothing changes. Graph indices are
//! checked to follow the input order, and failures are reported by revision
//! id, with the whole input listed compactly.

use retort::Diagnostic as _;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{RngAlgorithm, TestCaseError};
use retort::graph::{Graph, GraphError, Node, Resolved};

/// Cases per property: 11 properties, 22,000 random graphs per run.
const CASES: u32 = 2000;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        // Keep failures in the report, not in files next to the tests.
        failure_persistence: None,
        // ChaCha dominates the run time of a debug build; XorShift is plenty.
        rng_algorithm: RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    }
}

type Check = Result<(), TestCaseError>;

// ---------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------

/// Prefixes several ids may start with, so that short prefixes are ambiguous.
const POOL: [&str; 4] = ["ab", "abc", "c0", "ff"];

/// The random draws behind one node, turned into a `Node` by `build_nodes`.
/// Plain integers keep generation cheap in a debug build; each shrinks
/// towards the simplest choice (one parent, the previous node; no labels).
#[derive(Debug, Clone)]
struct NodeSpec {
    /// Number of parents: 0..8 one, 8..11 two, 11 three, 12..14 none.
    parent_roll: u8,
    /// Parent picks; see `pick_parent`.
    parent_picks: [u16; 3],
    /// Number of dependencies: 0..6 none, 6..8 one, 8 two.
    dep_roll: u8,
    /// Dependency picks (an earlier node; odd: by its label if it has one).
    dep_picks: [u16; 2],
    /// Labels: 0..8 none, 8 `lbl<i>`, 9 a short hex one, 10 both.
    label_roll: u8,
    /// 0: random hex; 1: starts with a `POOL` prefix; 2: shares a prefix
    /// with an earlier id; 3: a strict prefix of an earlier id.
    id_mode: u8,
    id_from: u16,
    id_cut: u16,
    id_len: u8,
    /// Hex digits of the id, one per nibble.
    id_bits: u64,
    /// Position in the input to `Graph::build` (sorted by key).
    order_key: u16,
}

fn node_spec() -> impl Strategy<Value = NodeSpec> {
    (
        (
            0u8..14,
            any::<[u16; 3]>(),
            0u8..9,
            any::<[u16; 2]>(),
            0u8..11,
        ),
        (
            0u8..4,
            any::<u16>(),
            any::<u16>(),
            4u8..=12,
            any::<u64>(),
            any::<u16>(),
        ),
    )
        .prop_map(
            |(
                (parent_roll, parent_picks, dep_roll, dep_picks, label_roll),
                (id_mode, id_from, id_cut, id_len, id_bits, order_key),
            )| NodeSpec {
                parent_roll,
                parent_picks,
                dep_roll,
                dep_picks,
                label_roll,
                id_mode,
                id_from,
                id_cut,
                id_len,
                id_bits,
                order_key,
            },
        )
}

/// A parent for node `i > 0`: the previous node at least half the time
/// (long lines of history), otherwise any earlier node.
fn pick_parent(i: usize, pick: u16) -> usize {
    let v = usize::from(pick) % (2 * i);
    if v >= i { i - 1 } else { i - 1 - v }
}

fn hex_digit(d: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(d % 16)])
}

/// The next hex string of the same length (wrapping), to make ids distinct.
fn increment_hex(id: &str) -> String {
    let mut digits: Vec<u8> = id
        .bytes()
        .map(|b| match b {
            b'0'..=b'9' => b - b'0',
            _ => b - b'a' + 10,
        })
        .collect();
    for d in digits.iter_mut().rev() {
        if *d == 15 {
            *d = 0;
        } else {
            *d += 1;
            break;
        }
    }
    digits.into_iter().map(hex_digit).collect()
}

/// Distinct hex ids of length 4..=12; many share prefixes with earlier ids or
/// are a strict prefix of one.
fn make_ids(specs: &[NodeSpec]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(specs.len());
    let mut used: HashSet<String> = HashSet::new();
    for (i, spec) in specs.iter().enumerate() {
        let len = usize::from(spec.id_len);
        let tail: String = (0..len)
            .map(|k| hex_digit(spec.id_bits.to_le_bytes()[k / 2] >> (4 * (k % 2))))
            .collect();
        let from = usize::from(spec.id_from);
        let cut = usize::from(spec.id_cut);
        let mut id = match spec.id_mode {
            1 => {
                let mut id = format!("{}{tail}", POOL[from % POOL.len()]);
                id.truncate(len);
                id
            }
            2 | 3 if i > 0 => {
                let earlier = &ids[from % i];
                if spec.id_mode == 3 && earlier.len() > 4 {
                    // A strict prefix of an earlier id.
                    earlier[..4 + cut % (earlier.len() - 4)].to_owned()
                } else {
                    let mut id = format!("{}{tail}", &earlier[..1 + cut % earlier.len()]);
                    id.truncate(12);
                    id
                }
            }
            _ => tail,
        };
        while used.contains(&id) {
            id = increment_hex(&id);
        }
        used.insert(id.clone());
        ids.push(id);
    }
    ids
}

/// Nodes in generation order (node `i` revises and depends only on nodes
/// before it), then sorted by `order_key` for the input to `Graph::build`.
fn build_nodes(specs: &[NodeSpec]) -> Vec<Node> {
    let ids = make_ids(specs);
    // Mostly `lbl<i>`; some labels are 3 hex digits, the start of the node's
    // own id, so a label can shadow an id prefix (ids have 4 or more digits).
    let mut used: HashSet<String> = HashSet::new();
    let labels: Vec<Vec<String>> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut short = || {
                let prefix = &ids[i][..3];
                if used.insert(prefix.to_owned()) {
                    prefix.to_owned()
                } else {
                    format!("lbl{i}x")
                }
            };
            match s.label_roll {
                0..8 => vec![],
                8 => vec![format!("lbl{i}")],
                9 => vec![short()],
                _ => vec![format!("lbl{i}"), short()],
            }
        })
        .collect();
    let mut nodes: Vec<(u16, Node)> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let mut parents = Vec::new();
            let mut deps = Vec::new();
            if i > 0 {
                let parent_count = match spec.parent_roll {
                    0..8 => 1,
                    8..11 => 2,
                    11 => 3,
                    _ => 0,
                };
                // Repeats are allowed on purpose: the graph dedupes them.
                for &pick in &spec.parent_picks[..parent_count] {
                    parents.push(ids[pick_parent(i, pick)].as_str());
                }
                let dep_count = match spec.dep_roll {
                    0..6 => 0,
                    6..8 => 1,
                    _ => 2,
                };
                for &pick in &spec.dep_picks[..dep_count] {
                    let d = usize::from(pick) % i;
                    match labels[d].first() {
                        Some(label) if pick % 2 == 1 => deps.push(label.as_str()),
                        _ => deps.push(ids[d].as_str()),
                    }
                }
            }
            let node_labels: Vec<&str> = labels[i].iter().map(String::as_str).collect();
            let node = Node::new(&ids[i], &parents)
                .depends_on(&deps)
                .labels(&node_labels);
            (spec.order_key, node)
        })
        .collect();
    // Stable: equal keys keep generation order.
    nodes.sort_by_key(|(key, _)| *key);
    nodes.into_iter().map(|(_, node)| node).collect()
}

/// The input to `Graph::build`, printed compactly when a property fails.
#[derive(Clone)]
struct Case {
    nodes: Vec<Node>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Case ({} nodes, input order) [", self.nodes.len())?;
        for (i, node) in self.nodes.iter().enumerate() {
            write!(f, "  {i}: {} revises {:?}", node.id, node.parents)?;
            if !node.depends_on.is_empty() {
                write!(f, " depends_on {:?}", node.depends_on)?;
            }
            if !node.branch_labels.is_empty() {
                write!(f, " labels {:?}", node.branch_labels)?;
            }
            writeln!(f)?;
        }
        write!(f, "]")
    }
}

fn graph_case() -> impl Strategy<Value = Case> {
    prop::collection::vec(node_spec(), 0..40).prop_map(|specs| Case {
        nodes: build_nodes(&specs),
    })
}

fn picks(len: usize) -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), len)
}

// ---------------------------------------------------------------------------
// Reference model
// ---------------------------------------------------------------------------

fn bit(i: usize) -> u64 {
    1u64 << i
}

fn has(set: u64, i: usize) -> bool {
    set & bit(i) != 0
}

/// Indices of a mask, ascending (input order).
fn members(set: u64, n: usize) -> Vec<usize> {
    (0..n).filter(|&i| has(set, i)).collect()
}

/// Naive graph facts, indexed by position in the input vector.
#[derive(Debug)]
struct Model {
    n: usize,
    ids: Vec<String>,
    label_owner: BTreeMap<String, usize>,
    parents: Vec<Vec<usize>>,
    deps: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
    /// Ancestors-or-self through parents.
    anc: Vec<u64>,
    /// Ancestors-or-self through parents and dependencies.
    anc_deps: Vec<u64>,
}

/// Repeats `set(i) |= set(p)` for every edge `i -> p` until nothing changes.
fn closure(edges: &[Vec<usize>]) -> Vec<u64> {
    let mut sets: Vec<u64> = (0..edges.len()).map(bit).collect();
    loop {
        let mut changed = false;
        for i in 0..edges.len() {
            let grown = edges[i].iter().fold(sets[i], |acc, &p| acc | sets[p]);
            if grown != sets[i] {
                sets[i] = grown;
                changed = true;
            }
        }
        if !changed {
            return sets;
        }
    }
}

fn dedup(items: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut out = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

impl Model {
    /// Assumes the nodes are valid (distinct ids, existing parents, acyclic).
    fn new(nodes: &[Node]) -> Model {
        let n = nodes.len();
        assert!(n <= 64, "the model keeps sets in a u64");
        let ids: Vec<String> = nodes.iter().map(|node| node.id.clone()).collect();
        let by_id: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let mut label_owner = BTreeMap::new();
        for (i, node) in nodes.iter().enumerate() {
            for label in &node.branch_labels {
                label_owner.insert(label.clone(), i);
            }
        }
        let parents: Vec<Vec<usize>> = nodes
            .iter()
            .map(|node| dedup(node.parents.iter().map(|p| by_id[p.as_str()])))
            .collect();
        let deps: Vec<Vec<usize>> = nodes
            .iter()
            .map(|node| {
                dedup(node.depends_on.iter().map(|d| {
                    by_id
                        .get(d.as_str())
                        .or_else(|| label_owner.get(d))
                        .copied()
                        .expect("dependency exists")
                }))
            })
            .collect();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (c, ps) in parents.iter().enumerate() {
            for &p in ps {
                children[p].push(c);
            }
        }
        let anc = closure(&parents);
        let with_deps: Vec<Vec<usize>> = (0..n)
            .map(|i| parents[i].iter().chain(&deps[i]).copied().collect())
            .collect();
        let anc_deps = closure(&with_deps);
        Model {
            n,
            ids,
            label_owner,
            parents,
            deps,
            children,
            anc,
            anc_deps,
        }
    }

    fn anc(&self, i: usize, with_deps: bool) -> u64 {
        if with_deps {
            self.anc_deps[i]
        } else {
            self.anc[i]
        }
    }

    /// Descendants-or-self: every node that has `i` among its ancestors.
    fn desc(&self, i: usize, with_deps: bool) -> u64 {
        (0..self.n)
            .filter(|&j| has(self.anc(j, with_deps), i))
            .fold(0, |acc, j| acc | bit(j))
    }

    /// Ancestors-or-self and descendants-or-self (parents only).
    fn lineage(&self, i: usize) -> u64 {
        self.anc[i] | self.desc(i, false)
    }

    fn all(&self) -> u64 {
        (0..self.n).fold(0, |acc, i| acc | bit(i))
    }

    fn heads(&self) -> Vec<usize> {
        (0..self.n)
            .filter(|&i| self.children[i].is_empty())
            .collect()
    }

    fn bases(&self) -> Vec<usize> {
        (0..self.n)
            .filter(|&i| self.parents[i].is_empty())
            .collect()
    }

    fn names(&self, indices: &[usize]) -> Vec<String> {
        indices.iter().map(|&i| self.ids[i].clone()).collect()
    }

    fn name_set(&self, set: u64) -> BTreeSet<String> {
        members(set, self.n)
            .into_iter()
            .map(|i| self.ids[i].clone())
            .collect()
    }

    fn sorted_names(&self, indices: &[usize]) -> Vec<String> {
        let mut names = self.names(indices);
        names.sort();
        names
    }

    /// Exact id, then label, then the ids starting with `ident`.
    fn lookup(&self, ident: &str) -> Lookup {
        if let Some(i) = self.ids.iter().position(|id| id == ident) {
            return Lookup::Found(i);
        }
        if let Some(&i) = self.label_owner.get(ident) {
            return Lookup::Found(i);
        }
        let matches: Vec<usize> = (0..self.n)
            .filter(|&i| self.ids[i].starts_with(ident))
            .collect();
        match matches.as_slice() {
            [] => Lookup::Unknown,
            [one] => Lookup::Found(*one),
            _ => Lookup::Ambiguous(self.sorted_names(&matches)),
        }
    }

    /// Takes `steps` unique steps from `start` (`None` is base): up through
    /// children (only those in `lineage` when given), down through parents.
    fn walk(&self, start: Option<usize>, steps: i64, lineage: Option<u64>) -> Walk {
        let mut at = start;
        let mut taken = 0u64;
        while taken < steps.unsigned_abs() {
            let next: Vec<usize> = if steps > 0 {
                let candidates = match at {
                    None => self.bases(),
                    Some(i) => self.children[i].clone(),
                };
                candidates
                    .into_iter()
                    .filter(|&c| lineage.is_none_or(|l| has(l, c)))
                    .collect()
            } else {
                match at {
                    None => return Walk::Overwalk { taken },
                    Some(i) => self.parents[i].clone(),
                }
            };
            if steps < 0 && next.is_empty() {
                // Down from a base is `base`: no revision.
                at = None;
            } else {
                match next.as_slice() {
                    [] => return Walk::Overwalk { taken },
                    [one] => at = Some(*one),
                    _ => {
                        return Walk::Ambiguous {
                            at: at.map_or_else(|| "base".to_owned(), |i| self.ids[i].clone()),
                            choices: self.sorted_names(&next),
                        };
                    }
                }
            }
            taken += 1;
        }
        Walk::At(at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Lookup {
    Found(usize),
    Unknown,
    Ambiguous(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Walk {
    At(Option<usize>),
    Overwalk { taken: u64 },
    Ambiguous { at: String, choices: Vec<String> },
}

// ---------------------------------------------------------------------------
// Helpers on the graph side
// ---------------------------------------------------------------------------

/// Builds the graph and the model. Graph indices are documented to follow
/// the input order; checked here, so later comparisons may use indices.
fn build(case: &Case) -> Result<(Graph, Model), TestCaseError> {
    let graph = Graph::build(case.nodes.clone())
        .map_err(|e| TestCaseError::fail(format!("valid graph rejected: {e}\n{case:?}")))?;
    let model = Model::new(&case.nodes);
    prop_assert_eq!(graph.len(), model.n, "graph size");
    for (i, id) in model.ids.iter().enumerate() {
        prop_assert_eq!(
            graph.node(i).id(),
            id.as_str(),
            "index {} is not input position",
            i
        );
    }
    Ok((graph, model))
}

fn mask_bits(mask: &[bool]) -> u64 {
    (0..mask.len())
        .filter(|&i| mask[i])
        .fold(0, |acc, i| acc | bit(i))
}

fn names(g: &Graph, indices: &[usize]) -> Vec<String> {
    indices.iter().map(|&i| g.node(i).id().to_owned()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn mask_names(g: &Graph, mask: &[bool]) -> BTreeSet<String> {
    mask.iter()
        .enumerate()
        .filter(|(_, in_set)| **in_set)
        .map(|(i, _)| g.node(i).id().to_owned())
        .collect()
}

fn owned(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

/// Checks a relative target's outcome against a reference walk.
fn check_walk(
    g: &Graph,
    m: &Model,
    target: &str,
    actual: &Result<Resolved, GraphError>,
    expected: &Walk,
    branch: Option<&str>,
) -> Check {
    match (expected, actual) {
        (Walk::At(at), Ok(resolved)) => {
            let want: Vec<usize> = at.iter().copied().collect();
            prop_assert_eq!(
                names(g, &resolved.revisions),
                m.names(&want),
                "`{}` resolved to the wrong revision",
                target
            );
            prop_assert_eq!(resolved.branch.as_deref(), branch, "`{}` branch", target);
        }
        (Walk::Overwalk { taken }, Err(err)) => {
            prop_assert_eq!(err.kind(), "relative_overwalk", "`{}`: {}", target, err);
            if let GraphError::Overwalk { taken: t, .. } = err {
                prop_assert_eq!(t, taken, "`{}` steps taken before the overwalk", target);
            }
        }
        (Walk::Ambiguous { at, choices }, Err(err)) => {
            prop_assert_eq!(err.kind(), "ambiguous_walk", "`{}`: {}", target, err);
            if let GraphError::AmbiguousWalk {
                at: got_at,
                choices: got_choices,
                ..
            } = err
            {
                prop_assert_eq!(got_at, at, "`{}` fork", target);
                prop_assert_eq!(
                    &sorted(got_choices.clone()),
                    choices,
                    "`{}` choices",
                    target
                );
            }
        }
        (expected, actual) => {
            prop_assert!(
                false,
                "`{}`: expected {:?}, got {:?}",
                target,
                expected,
                actual.as_ref().map(|r| names(g, &r.revisions))
            );
        }
    }
    Ok(())
}

fn expect_kind(actual: &Result<Resolved, GraphError>, kind: &str, target: &str) -> Check {
    match actual {
        Err(err) => prop_assert_eq!(err.kind(), kind, "`{}`: {}", target, err),
        Ok(r) => prop_assert!(false, "`{}`: expected {}, got {:?}", target, kind, r),
    }
    Ok(())
}

/// A set of nodes none of which is an ancestor of another (a possible set of
/// database heads).
fn antichain(m: &Model, picked: &[usize]) -> Vec<usize> {
    let set = dedup(picked.iter().copied());
    set.iter()
        .copied()
        .filter(|&x| !set.iter().any(|&y| y != x && has(m.anc[y], x)))
        .collect()
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// 1. Structure: indices, links, heads, bases, branch and merge points.
    #[test]
    fn structure_matches_reference(case in graph_case()) {
        let (g, m) = build(&case)?;
        prop_assert_eq!(g.len(), m.n);
        prop_assert_eq!(g.is_empty(), m.n == 0);
        for i in 0..m.n {
            let id = m.ids[i].as_str();
            prop_assert_eq!(g.index_of(id), Some(i), "index_of({})", id);
            prop_assert_eq!(g.node(i).id(), id);
            prop_assert_eq!(
                sorted(names(&g, g.node(i).parents())),
                m.sorted_names(&m.parents[i]),
                "parents of {}", id
            );
            prop_assert_eq!(g.node(i).parents().len(), m.parents[i].len(), "parents of {} repeat", id);
            prop_assert_eq!(
                sorted(names(&g, g.node(i).children())),
                m.sorted_names(&m.children[i]),
                "children of {}", id
            );
            prop_assert_eq!(
                sorted(names(&g, g.node(i).dependencies())),
                m.sorted_names(&m.deps[i]),
                "dependencies of {}", id
            );
            prop_assert_eq!(g.node(i).is_head(), m.children[i].is_empty(), "is_head {}", id);
            prop_assert_eq!(g.node(i).is_base(), m.parents[i].is_empty(), "is_base {}", id);
            prop_assert_eq!(g.node(i).is_branch_point(), m.children[i].len() > 1, "is_branch_point {}", id);
            prop_assert_eq!(g.node(i).is_merge_point(), m.parents[i].len() > 1, "is_merge_point {}", id);
        }
        for (label, &owner) in &m.label_owner {
            prop_assert_eq!(g.label_owner(label), Some(owner), "label_owner({})", label);
        }
        prop_assert_eq!(g.label_owner("lblnone"), None);
        // Heads and bases are documented to come in input order.
        prop_assert_eq!(names(&g, g.heads()), m.names(&m.heads()), "heads");
        prop_assert_eq!(owned(&g.head_ids()), m.names(&m.heads()), "head_ids");
        prop_assert_eq!(names(&g, g.bases()), m.names(&m.bases()), "bases");
        let branch_points: Vec<usize> = (0..m.n).filter(|&i| m.children[i].len() > 1).collect();
        let got = g.branch_points();
        prop_assert_eq!(sorted(names(&g, &got)), m.sorted_names(&branch_points), "branch points");
        // Newest first: the same order as in `newest_first()`.
        let order: Vec<usize> = g.newest_first().iter().copied().filter(|i| got.contains(i)).collect();
        prop_assert_eq!(got, order, "branch points are not newest first");
    }

    /// 2. Ancestor and descendant masks equal the reference closures.
    #[test]
    fn reachability_matches_reference(
        case in graph_case(),
        starts in prop::collection::vec(picks(3), 3),
        pairs in prop::collection::vec((any::<Index>(), any::<Index>()), 8),
    ) {
        let (g, m) = build(&case)?;
        let mut start_sets: Vec<Vec<usize>> = (0..m.n).map(|i| vec![i]).collect();
        start_sets.push(Vec::new());
        if m.n > 0 {
            start_sets.extend(starts.iter().map(|s| s.iter().map(|x| x.index(m.n)).collect()));
        }
        for start in &start_sets {
            for with_deps in [false, true] {
                let up = start.iter().fold(0, |acc, &s| acc | m.anc(s, with_deps));
                let down = start.iter().fold(0, |acc, &s| acc | m.desc(s, with_deps));
                let got_up = g.ancestors(start, with_deps);
                let got_down = g.descendants(start, with_deps);
                prop_assert_eq!(got_up.len(), m.n);
                prop_assert_eq!(got_down.len(), m.n);
                prop_assert!(
                    mask_bits(&got_up) == up,
                    "ancestors of {:?} with_deps={}: got {:?}, want {:?}",
                    m.names(start), with_deps, mask_names(&g, &got_up), m.name_set(up)
                );
                prop_assert!(
                    mask_bits(&got_down) == down,
                    "descendants of {:?} with_deps={}: got {:?}, want {:?}",
                    m.names(start), with_deps, mask_names(&g, &got_down), m.name_set(down)
                );
            }
        }
        if m.n > 0 {
            for (a, b) in &pairs {
                let (a, b) = (a.index(m.n), b.index(m.n));
                prop_assert_eq!(
                    g.shares_lineage(a, b),
                    has(m.anc[a], b) || has(m.anc[b], a),
                    "shares_lineage({}, {})", &m.ids[a], &m.ids[b]
                );
            }
        }
    }

    /// 3. `newest_first` lists every revision once, each before its parents
    /// and dependencies.
    #[test]
    fn newest_first_is_a_topological_order(case in graph_case()) {
        let (g, m) = build(&case)?;
        let order = g.newest_first();
        let mut seen = order.to_vec();
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..m.n).collect::<Vec<_>>(), "not a permutation");
        let mut position = vec![0; m.n];
        for (at, &i) in order.iter().enumerate() {
            position[i] = at;
        }
        for i in 0..m.n {
            for &p in m.parents[i].iter().chain(&m.deps[i]) {
                prop_assert!(
                    position[i] < position[p],
                    "{} is listed after its parent or dependency {}: {:?}",
                    &m.ids[i], &m.ids[p], names(&g, order)
                );
            }
        }
        // The order is a function of the input alone.
        let again = Graph::build(case.nodes.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again.newest_first(), order);
    }

    /// 4. `lookup`: exact ids, labels, and prefixes (unique, ambiguous, none).
    #[test]
    fn lookup_matches_reference(
        case in graph_case(),
        random in prop::collection::vec((any::<u16>(), 1usize..=4), 6),
    ) {
        let (g, m) = build(&case)?;
        // Every prefix of every id (so every exact id), every label, a few
        // random hex strings, and a name nothing has.
        let mut idents: BTreeSet<String> = BTreeSet::new();
        for id in &m.ids {
            idents.extend((1..=id.len()).map(|len| id[..len].to_owned()));
        }
        idents.extend(m.label_owner.keys().cloned());
        for &(digits, len) in &random {
            let hex: String = (0..len).map(|k| hex_digit(u8::try_from((digits >> (4 * k)) & 15).unwrap_or(0))).collect();
            idents.insert(hex);
        }
        idents.insert("lblnone".to_owned());
        for ident in &idents {
            let got = g.lookup(ident);
            match (m.lookup(ident), got) {
                (Lookup::Found(i), Ok(j)) => {
                    prop_assert_eq!(g.node(j).id(), m.ids[i].as_str(), "lookup({})", ident);
                }
                (Lookup::Unknown, Err(err)) => {
                    prop_assert_eq!(err.kind(), "unknown_revision", "lookup({}): {}", ident, err);
                }
                (Lookup::Ambiguous(candidates), Err(err)) => {
                    let GraphError::AmbiguousPrefix { prefix, candidates: got } = &err else {
                        return Err(TestCaseError::fail(format!("lookup({ident}): expected ambiguous_prefix, got {err}")));
                    };
                    prop_assert_eq!(prefix, ident);
                    prop_assert_eq!(got, &candidates, "lookup({}) candidates (sorted)", ident);
                }
                (want, got) => {
                    prop_assert!(false, "lookup({}): expected {:?}, got {:?}", ident, want, got);
                }
            }
        }
        // A plain target resolves like `lookup`.
        for id in &m.ids {
            let r = g.resolve(id, None).map_err(|e| TestCaseError::fail(format!("`{id}`: {e}")))?;
            prop_assert_eq!(names(&g, &r.revisions), vec![id.clone()]);
            prop_assert_eq!(r.branch, None);
        }
    }

    /// 5. `head`, `heads`, `base`.
    #[test]
    fn head_heads_base(case in graph_case()) {
        let (g, m) = build(&case)?;
        let heads = m.heads();
        let r = g.resolve("heads", None).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(names(&g, &r.revisions), m.names(&heads), "heads");
        prop_assert_eq!(r.branch, None);
        let r = g.resolve("base", None).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(r.revisions.is_empty(), "base: {:?}", r);
        match (heads.len(), g.resolve("head", None)) {
            (0 | 1, Ok(r)) => prop_assert_eq!(names(&g, &r.revisions), m.names(&heads), "head"),
            (_, Err(GraphError::MultipleHeads { target, heads: got })) => {
                prop_assert!(heads.len() > 1, "MultipleHeads with {} heads", heads.len());
                prop_assert_eq!(target, "head");
                prop_assert_eq!(sorted(got), m.sorted_names(&heads), "head: listed heads");
            }
            (count, other) => prop_assert!(false, "head with {} heads: {:?}", count, other),
        }
        // Steps from the symbols: `base+k` walks up from no revision.
        for k in 0..5i64 {
            let target = format!("base+{k}");
            let actual = g.resolve(&target, None);
            check_walk(&g, &m, &target, &actual, &m.walk(None, k, None), None)?;
            let target = format!("head-{k}");
            let actual = g.resolve(&target, None);
            match heads.as_slice() {
                [] => check_walk(&g, &m, &target, &actual, &m.walk(None, -k, None), None)?,
                [one] => check_walk(&g, &m, &target, &actual, &m.walk(Some(*one), -k, None), None)?,
                _ => expect_kind(&actual, "multiple_heads", &target)?,
            }
        }
    }

    /// 6. `<rev>+k` and `<rev>-k` from every revision (by id or label).
    #[test]
    fn relative_from_revision(
        case in graph_case(),
        ks in prop::collection::vec((0i64..5, any::<bool>()), 40),
    ) {
        let (g, m) = build(&case)?;
        for (i, &(k, by_label)) in ks.iter().enumerate().take(m.n) {
            let label = m.label_owner.iter().find(|(_, o)| **o == i).map(|(l, _)| l.clone());
            let name = match label {
                Some(label) if by_label => label,
                _ => m.ids[i].clone(),
            };
            for (steps, sign) in [(k, '+'), (-k, '-')] {
                let target = format!("{name}{sign}{k}");
                let actual = g.resolve(&target, None);
                check_walk(&g, &m, &target, &actual, &m.walk(Some(i), steps, None), None)?;
            }
        }
    }

    /// 7. `label@head`, `label@heads`, `label@base`, `label@<rev>`.
    #[test]
    fn branch_scoped_targets(
        case in graph_case(),
        anchor in any::<Index>(),
        revs in picks(3),
        k in 0i64..4,
    ) {
        let (g, m) = build(&case)?;
        let mut anchors: Vec<(String, usize)> =
            m.label_owner.iter().map(|(l, &o)| (l.clone(), o)).collect();
        if m.n > 0 {
            let a = anchor.index(m.n);
            anchors.push((m.ids[a].clone(), a));
        }
        for (name, owner) in &anchors {
            let lineage = m.lineage(*owner);
            let heads: Vec<usize> = m.heads().into_iter().filter(|&h| has(lineage, h)).collect();
            let target = format!("{name}@heads");
            let r = g.resolve(&target, None).map_err(|e| TestCaseError::fail(format!("`{target}`: {e}")))?;
            prop_assert_eq!(names(&g, &r.revisions), m.names(&heads), "`{}`", &target);
            prop_assert_eq!(r.branch.as_deref(), Some(name.as_str()));

            let target = format!("{name}@head");
            match (heads.len(), g.resolve(&target, None)) {
                (1, Ok(r)) => {
                    prop_assert_eq!(names(&g, &r.revisions), m.names(&heads), "`{}`", &target);
                    prop_assert_eq!(r.branch.as_deref(), Some(name.as_str()));
                }
                (count, Err(GraphError::MultipleHeads { heads: got, .. })) if count > 1 => {
                    prop_assert_eq!(sorted(got), m.sorted_names(&heads), "`{}` listed heads", &target);
                }
                (count, other) => prop_assert!(false, "`{}` with {} heads in lineage: {:?}", &target, count, other),
            }

            let target = format!("{name}@base");
            let r = g.resolve(&target, None).map_err(|e| TestCaseError::fail(format!("`{target}`: {e}")))?;
            prop_assert!(r.revisions.is_empty(), "`{}`: {:?}", &target, r);
            prop_assert_eq!(r.branch.as_deref(), Some(name.as_str()));

            // Steps from the branch's symbols stay in its lineage going up.
            let target = format!("{name}@base+{k}");
            let actual = g.resolve(&target, None);
            let expected = m.walk(None, k, Some(lineage));
            check_walk(&g, &m, &target, &actual, &expected, Some(name.as_str()))?;
            let target = format!("{name}@head-{k}");
            let actual = g.resolve(&target, None);
            match heads.as_slice() {
                [one] => {
                    let expected = m.walk(Some(*one), -k, Some(lineage));
                    check_walk(&g, &m, &target, &actual, &expected, Some(name.as_str()))?;
                }
                _ => expect_kind(&actual, "multiple_heads", &target)?,
            }

            for (step, pick) in (0i64..).zip(&revs) {
                let x = pick.index(m.n);
                let target = format!("{name}@{}", m.ids[x]);
                let actual = g.resolve(&target, None);
                let stepped = format!("{name}@{}+{step}", m.ids[x]);
                let actual_stepped = g.resolve(&stepped, None);
                if has(lineage, x) {
                    check_walk(&g, &m, &target, &actual, &Walk::At(Some(x)), Some(name.as_str()))?;
                    let expected = m.walk(Some(x), step, Some(lineage));
                    check_walk(&g, &m, &stepped, &actual_stepped, &expected, Some(name.as_str()))?;
                } else {
                    expect_kind(&actual, "not_in_branch", &target)?;
                    expect_kind(&actual_stepped, "not_in_branch", &stepped)?;
                }
            }
        }
    }

    /// 8. `a:b` ranges (and `:b`, `a:`, `:`, `base:b`, `a:heads`,
    /// `label@base:…`, `current:b`).
    #[test]
    fn ranges_match_reference(
        case in graph_case(),
        pairs in prop::collection::vec((any::<Index>(), any::<Index>(), any::<bool>()), 10),
        current in picks(3),
        current_len in 0usize..=3,
    ) {
        let (g, m) = build(&case)?;
        let check = |spec: &str, current: Option<&[String]>, expected: Option<u64>| -> Check {
            let actual = g.range(spec, current);
            let spec = format!("{spec} (current {current:?})");
            match (expected, actual) {
                (Some(set), Ok(got)) => {
                    // The reference set, each revision once and before
                    // its parents and dependencies (the order itself is
                    // Alembic's walk, compared with Alembic elsewhere).
                    let got_set: BTreeSet<String> = names(&g, &got).into_iter().collect();
                    prop_assert_eq!(got_set, m.name_set(set), "range `{}`: wrong set", &spec);
                    prop_assert_eq!(got.len(), m.name_set(set).len(), "range `{}`: repeats", &spec);
                    for (at, &i) in got.iter().enumerate() {
                        for &below in m.parents[i].iter().chain(&m.deps[i]) {
                            if let Some(p) = got.iter().position(|&x| x == below) {
                                prop_assert!(
                                    p > at,
                                    "range `{}`: {} listed after {}", &spec, m.ids[i], m.ids[below]
                                );
                            }
                        }
                    }
                }
                (None, Err(err)) => {
                    prop_assert_eq!(err.kind(), "range_not_ancestor", "range `{}`: {}", &spec, err);
                }
                (expected, actual) => prop_assert!(
                    false, "range `{}`: expected {:?}, got {:?}",
                    &spec, expected.map(|s| m.name_set(s)), actual.map(|r| names(&g, &r))
                ),
            }
            Ok(())
        };
        // The reference, Alembic's: what the upper ends need (dependencies
        // included) and the lower ends need not, plus the lower ends,
        // of which only what descends from a lower end through parents
        // (anything when there is none); an error when a lower end is not
        // below the upper ends.
        let reference = |upper: &[usize], lower: &[usize]| -> Option<u64> {
            let below = upper.iter().fold(0, |acc, &u| acc | m.anc_deps[u]);
            if lower.iter().any(|&l| !has(below, l)) {
                return None;
            }
            let lowers = lower.iter().fold(0, |acc, &l| acc | bit(l));
            let under_lowers = lower.iter().fold(0, |acc, &l| acc | m.anc_deps[l]);
            let above = if lower.is_empty() {
                m.all()
            } else {
                lower.iter().fold(0, |acc, &l| acc | m.desc(l, false))
            };
            Some(((below & !under_lowers) | lowers) & above)
        };
        let heads = m.heads();
        check(":", None, Some(m.all()))?;
        check("base:", None, Some(m.all()))?;
        if m.n == 0 {
            return Ok(());
        }
        for (b, a, from_ancestors) in &pairs {
            let b = b.index(m.n);
            let a = if *from_ancestors {
                *a.get(&members(m.anc[b], m.n))
            } else {
                a.index(m.n)
            };
            let (ia, ib) = (&m.ids[a], &m.ids[b]);
            check(&format!("{ia}:{ib}"), None, reference(&[b], &[a]))?;
            check(&format!(":{ib}"), None, reference(&[b], &[]))?;
            check(&format!("base:{ib}"), None, reference(&[b], &[]))?;
            check(&format!("{ia}:"), None, reference(&heads, &[a]))?;
            check(&format!("{ia}:heads"), None, reference(&heads, &[a]))?;
        }
        // `label@base` as a lower end: the bases below the label.
        let b = pairs[0].0.index(m.n);
        for (label, &owner) in &m.label_owner {
            let roots: Vec<usize> = m.bases().into_iter().filter(|&r| has(m.anc[owner], r)).collect();
            let lineage_heads: Vec<usize> = heads.iter().copied().filter(|&h| has(m.lineage(owner), h)).collect();
            check(&format!("{label}@base:{label}@heads"), None, reference(&lineage_heads, &roots))?;
            check(&format!("{label}@base:{}", m.ids[b]), None, reference(&[b], &roots))?;
        }
        // `current` as the lower end: the database's heads.
        let picked: Vec<usize> = current[..current_len].iter().map(|c| c.index(m.n)).collect();
        let current = antichain(&m, &picked);
        let current_ids = m.names(&current);
        let ib = &m.ids[b];
        check(&format!("current:{ib}"), Some(&current_ids), reference(&[b], &current))?;
        check("current:", Some(&current_ids), reference(&heads, &current))?;
    }

    /// 9. `+k` / `-k` relative to the database's current revision.
    #[test]
    fn relative_to_current(
        case in graph_case(),
        k in 0i64..5,
        x in any::<Index>(),
        y in any::<Index>(),
    ) {
        let (g, m) = build(&case)?;
        for (steps, sign) in [(k, '+'), (-k, '-')] {
            let target = format!("{sign}{k}");
            expect_kind(&g.resolve(&target, None), "needs_current", &target)?;
            let actual = g.resolve(&target, Some(&[]));
            check_walk(&g, &m, &target, &actual, &m.walk(None, steps, None), None)?;
            let unknown = ["lblnone".to_owned()];
            expect_kind(&g.resolve(&target, Some(&unknown)), "unknown_revision", &target)?;
            if m.n == 0 {
                continue;
            }
            let (x, y) = (x.index(m.n), y.index(m.n));
            let current = [m.ids[x].clone()];
            let actual = g.resolve(&target, Some(&current));
            check_walk(&g, &m, &target, &actual, &m.walk(Some(x), steps, None), None)?;
            if x != y {
                let current = [m.ids[x].clone(), m.ids[y].clone()];
                expect_kind(&g.resolve(&target, Some(&current)), "ambiguous_current", &target)?;
            }
        }
    }

    /// 10. Build errors: duplicate ids, missing parents or dependencies, and
    /// cycles, whose report is a real cycle of the input.
    #[test]
    fn build_errors(
        case in graph_case(),
        choice in picks(4),
        parent_picks in picks(2),
        as_dependency in any::<bool>(),
        extra_edge in prop::option::weighted(0.5, (any::<Index>(), any::<Index>(), any::<bool>())),
    ) {
        let n = case.nodes.len();
        let m = Model::new(&case.nodes);
        let some_parents: Vec<&str> = if n == 0 {
            Vec::new()
        } else {
            parent_picks.iter().map(|p| m.ids[p.index(n)].as_str()).collect()
        };
        let at = choice[0].index(n + 1);

        // A revising id no node has (hex, but longer than any generated id).
        let missing = "0123456789abcde";
        let mut nodes = case.nodes.clone();
        let mut parents = some_parents.clone();
        parents.insert(choice[1].index(parents.len() + 1), missing);
        nodes.insert(at, Node::new("newnode", &parents));
        match Graph::build(nodes) {
            Err(GraphError::MissingParent { id, parent, .. }) => {
                prop_assert_eq!(id, "newnode");
                prop_assert_eq!(parent, missing);
            }
            other => prop_assert!(false, "missing parent: {:?}", other.map(|_| ())),
        }

        let mut nodes = case.nodes.clone();
        nodes.insert(at, Node::new("newnode", &some_parents).depends_on(&["lblmissing"]));
        let err = Graph::build(nodes).err();
        prop_assert_eq!(err.as_ref().map(GraphError::kind), Some("missing_dependency"), "{:?}", err);

        if n == 0 {
            return Ok(());
        }

        // The same id twice.
        let dup = m.ids[choice[2].index(n)].clone();
        let mut nodes = case.nodes.clone();
        nodes.insert(at, Node::new(&dup, &some_parents));
        match Graph::build(nodes) {
            Err(GraphError::DuplicateRevision { id, .. }) => prop_assert_eq!(id, dup),
            other => prop_assert!(false, "duplicate {}: {:?}", dup, other.map(|_| ())),
        }

        // A node revising (or depending on) one of its descendants or itself
        // closes a cycle.
        let x = choice[3].index(n);
        let y = *choice[1].get(&members(m.desc(x, true), n));
        let mut nodes = case.nodes.clone();
        let y_id = m.ids[y].clone();
        if as_dependency {
            nodes[x].depends_on.push(y_id);
        } else {
            nodes[x].parents.push(y_id);
        }
        let mut what = format!("{} {} {}", m.ids[x], if as_dependency { "depends on" } else { "revises" }, m.ids[y]);
        // Sometimes one more edge anywhere (it may close further cycles).
        if let Some((from, to, dependency)) = &extra_edge {
            let (from, to) = (from.index(n), to.index(n));
            let to_id = m.ids[to].clone();
            if *dependency {
                nodes[from].depends_on.push(to_id);
            } else {
                nodes[from].parents.push(to_id);
            }
            let verb = if *dependency { "depends on" } else { "revises" };
            what = format!("{what}, and {} {verb} {}", m.ids[from], m.ids[to]);
        }
        let cycle = match Graph::build(nodes.clone()) {
            Err(GraphError::Cycle { cycle }) => cycle,
            other => {
                return Err(TestCaseError::fail(format!("{what}: expected a cycle, got {:?}", other.map(|_| ()))));
            }
        };
        prop_assert!(cycle.len() >= 2, "{}: cycle {:?}", &what, cycle);
        prop_assert_eq!(cycle.first(), cycle.last(), "{}: cycle {:?} is not closed", &what, &cycle);
        let owner = |name: &str| {
            nodes.iter().find(|node| node.id == name || node.branch_labels.iter().any(|l| l == name))
        };
        for pair in cycle.windows(2) {
            let node = owner(&pair[0]).filter(|node| node.id == pair[0]);
            prop_assert!(node.is_some(), "{}: cycle {:?} names an unknown id {}", &what, &cycle, &pair[0]);
            let linked = node.is_some_and(|node| {
                node.parents.iter().chain(&node.depends_on).any(|target| {
                    owner(target).is_some_and(|t| t.id == pair[1])
                })
            });
            prop_assert!(
                linked,
                "{}: cycle {:?}: {} neither revises nor depends on {}",
                &what, &cycle, &pair[0], &pair[1]
            );
        }
    }

    /// 11. `label@+k` / `label@-k`: from the current revision within the
    /// branch's lineage (the database at a valid set of heads), or, before
    /// the branch starts, from the newest applied revision below it.
    #[test]
    fn branch_relative_to_current(
        case in graph_case(),
        k in 0i64..5,
        current in picks(3),
        current_len in 0usize..=3,
        anchor in any::<Index>(),
    ) {
        let (g, m) = build(&case)?;
        if m.n == 0 {
            return Ok(());
        }
        let picked: Vec<usize> = current[..current_len].iter().map(|c| c.index(m.n)).collect();
        let current = antichain(&m, &picked);
        let current_ids = m.names(&current);
        let mut anchors: Vec<(String, usize)> =
            m.label_owner.iter().map(|(l, &o)| (l.clone(), o)).collect();
        let a = anchor.index(m.n);
        anchors.push((m.ids[a].clone(), a));
        for (name, owner) in &anchors {
            let lineage = m.lineage(*owner);
            // On the branch: the current revisions above the label's. Before
            // the branch starts: the newest applied revisions below it, which
            // a sibling branch may share.
            let above = m.desc(*owner, false);
            let mut in_scope: Vec<usize> = current.iter().copied().filter(|&c| has(above, c)).collect();
            if in_scope.is_empty() {
                let applied = current.iter().fold(0u64, |acc, &c| acc | m.anc_deps[c]);
                let shared = applied & m.anc[*owner];
                in_scope = (0..m.n)
                    .filter(|&i| has(shared, i) && !m.children[i].iter().any(|&c| has(shared, c)))
                    .collect();
            }
            for (steps, sign) in [(k, '+'), (-k, '-')] {
                let target = format!("{name}@{sign}{k}");
                let context = format!("{target} with current {current_ids:?}");
                let without_current = g.resolve(&target, None);
                if sign == '-' && k > 0 {
                    // No database: a step down counts from the label's head.
                    let from_head = g.resolve(&format!("{name}@head-{k}"), None);
                    match (&without_current, &from_head) {
                        (Ok(a), Ok(b)) => {
                            prop_assert_eq!(&a.revisions, &b.revisions, "`{}` without current", &target);
                            prop_assert_eq!(a.walked_from, None, "`{}` walked from nothing", &target);
                        }
                        (Err(a), Err(b)) => prop_assert_eq!(a.kind(), b.kind(), "`{}` without current", &target),
                        (a, b) => prop_assert!(false, "`{}` without current: {:?} vs {:?}", &target, a, b),
                    }
                } else {
                    expect_kind(&without_current, "needs_current", &target)?;
                }
                let actual = g.resolve(&target, Some(&current_ids));
                match in_scope.as_slice() {
                    [] => check_walk(&g, &m, &context, &actual, &m.walk(None, steps, Some(lineage)), Some(name.as_str()))?,
                    [one] => check_walk(&g, &m, &context, &actual, &m.walk(Some(*one), steps, Some(lineage)), Some(name.as_str()))?,
                    _ => expect_kind(&actual, "ambiguous_current", &context)?,
                }
            }
        }
    }
}
