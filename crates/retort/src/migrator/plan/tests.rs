//! Version-table semantics, row for row, as Alembic's `alembic_version`
//! behaves through branches, merges, dependencies and stamps.

use super::*;
use crate::graph::{Graph, Node};

/// a - b - c1 - c2 --- m - n
///      \            /
///       d1 - d2 ---+          (d1 labelled `auth`)
/// x (a second base, label `extra`); y depends on d1
fn graph() -> Graph {
    Graph::build(vec![
        Node::new("a", &[]),
        Node::new("b", &["a"]),
        Node::new("c1", &["b"]),
        Node::new("c2", &["c1"]),
        Node::new("d1", &["b"]).labels(&["auth"]),
        Node::new("d2", &["d1"]),
        Node::new("m", &["c2", "d2"]),
        Node::new("n", &["m"]),
        Node::new("x", &[]).labels(&["extra"]),
        Node::new("y", &["x"]).depends_on(&["d1"]),
    ])
    .unwrap()
}

fn idx(g: &Graph, ids: &[&str]) -> Vec<usize> {
    let mut v: Vec<usize> = ids.iter().map(|i| g.index_of(i).unwrap()).collect();
    v.sort_unstable();
    v
}

fn names(g: &Graph, rows: &[usize]) -> Vec<String> {
    let mut v: Vec<String> = g.ids(rows).iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// Runs a plan step by step and returns the rows after each step.
fn walk(g: &Graph, rows: &[usize], steps: &[Step]) -> Vec<Vec<String>> {
    let mut rows = rows.to_vec();
    let mut out = Vec::new();
    for &s in steps {
        rows = next_rows(g, &rows, s);
        out.push(names(g, &rows));
    }
    out
}

fn up(g: &Graph, rows: &[&str], target: &str) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let rows = idx(g, rows);
    let current: Vec<String> = g.ids(&rows).iter().map(|s| (*s).to_owned()).collect();
    let resolved = g
        .resolve(target, Some(&current))
        .map_err(|e| e.to_string())?;
    let steps = upgrade(g, &rows, &resolved, target).map_err(|e| e.to_string())?;
    let order = steps
        .iter()
        .map(|s| g.node(s.revision).id().to_owned())
        .collect();
    Ok((order, walk(g, &rows, &steps)))
}

fn down(g: &Graph, rows: &[&str], target: &str) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let rows = idx(g, rows);
    let current: Vec<String> = g.ids(&rows).iter().map(|s| (*s).to_owned()).collect();
    let resolved = g
        .resolve(target, Some(&current))
        .map_err(|e| e.to_string())?;
    let steps = downgrade(g, &rows, &resolved, target).map_err(|e| e.to_string())?;
    let order = steps
        .iter()
        .map(|s| g.node(s.revision).id().to_owned())
        .collect();
    Ok((order, walk(g, &rows, &steps)))
}

#[test]
fn linear_upgrade_updates_one_row() {
    let g = graph();
    let (order, rows) = up(&g, &[], "c1").unwrap();
    assert_eq!(order, ["a", "b", "c1"]);
    assert_eq!(rows, [vec!["a"], vec!["b"], vec!["c1"]]);
    let change = row_change(&idx(&g, &["a"]), &idx(&g, &["b"]));
    assert_eq!(change.updates, [(idx(&g, &["a"])[0], idx(&g, &["b"])[0])]);
}

#[test]
fn branches_add_rows_and_merges_remove_them() {
    let g = graph();
    // From b, applying both branches: the second branch inserts a row.
    let (_, rows) = up(&g, &["b"], "c2").unwrap();
    assert_eq!(rows.last().unwrap(), &vec!["c2"]);
    let (order, rows) = up(&g, &["c2"], "d2").unwrap();
    assert_eq!(order, ["d1", "d2"]);
    assert_eq!(rows, [vec!["c2", "d1"], vec!["c2", "d2"]]);
    let (order, rows) = up(&g, &["c2", "d2"], "m").unwrap();
    assert_eq!(order, ["m"]);
    assert_eq!(rows, [vec!["m"]]);
    // The merge deletes one parent's row and updates the other's.
    let change = row_change(&idx(&g, &["c2", "d2"]), &idx(&g, &["m"]));
    assert_eq!(change.deletes.len(), 1);
    assert_eq!(change.updates.len(), 1);
    assert!(change.inserts.is_empty());
}

#[test]
fn upgrade_heads_from_base_reaches_every_head() {
    let g = graph();
    let (order, rows) = up(&g, &[], "heads").unwrap();
    assert_eq!(order.len(), g.len());
    assert_eq!(rows.last().unwrap(), &vec!["n", "y"]);
    // Dependencies come first.
    let pos = |id: &str| order.iter().position(|o| o == id).unwrap();
    assert!(pos("d1") < pos("y"));
}

#[test]
fn dependency_row_is_absorbed_like_a_merge() {
    let g = graph();
    // d1 is a row; y depends on it: Alembic's normalized down revisions
    // include dependencies, so y replaces both x and d1.
    let (order, rows) = up(&g, &["c2", "d1", "x"], "y").unwrap();
    assert_eq!(order, ["y"]);
    assert_eq!(rows, [vec!["c2", "y"]]);
}

#[test]
fn upgrade_backwards_is_an_error() {
    let g = graph();
    assert_eq!(
        up(&g, &["c2"], "b").unwrap_err(),
        "`b` is below the database's current revision; upgrading to it would go backwards"
    );
    assert_eq!(up(&g, &["c2"], "c2").unwrap().0, Vec::<String>::new());
    // Base, named or walked to, is below every applied revision.
    assert!(up(&g, &["a"], "-1").unwrap_err().contains("backwards"));
    assert!(up(&g, &["a"], "base").unwrap_err().contains("backwards"));
    assert!(
        up(&g, &["c2", "x"], "extra@base")
            .unwrap_err()
            .contains("backwards")
    );
    assert_eq!(up(&g, &[], "base").unwrap().0, Vec::<String>::new());
    assert_eq!(
        up(&g, &["c2"], "extra@base").unwrap().0,
        Vec::<String>::new()
    );
}

#[test]
fn downgrade_one_branch_keeps_the_other() {
    let g = graph();
    let (order, rows) = down(&g, &["c2", "d2"], "d1").unwrap();
    assert_eq!(order, ["d2"]);
    assert_eq!(rows, [vec!["c2", "d1"]]);
    let (order, rows) = down(&g, &["c2", "d2"], "auth@base").unwrap();
    assert_eq!(order, ["d2", "d1"]);
    assert_eq!(rows, [vec!["c2", "d1"], vec!["c2"]]);
}

#[test]
fn unmerge_restores_both_rows() {
    let g = graph();
    // `-2` would be ambiguous at the merge; name the side to land on.
    assert!(
        down(&g, &["n"], "-2")
            .unwrap_err()
            .contains("ambiguous at `m`")
    );
    let (order, rows) = down(&g, &["n"], "c2").unwrap();
    assert_eq!(order, ["n", "m"]);
    assert_eq!(rows, [vec!["m"], vec!["c2", "d2"]]);
    let change = row_change(&idx(&g, &["m"]), &idx(&g, &["c2", "d2"]));
    assert_eq!(change.updates.len(), 1);
    assert_eq!(change.inserts.len(), 1);
}

#[test]
fn downgrade_to_base_removes_everything_newest_first() {
    let g = graph();
    let (order, rows) = down(&g, &["n", "y"], "base").unwrap();
    assert_eq!(order.len(), g.len());
    assert!(rows.last().unwrap().is_empty());
    let pos = |id: &str| order.iter().position(|o| o == id).unwrap();
    assert!(
        pos("y") < pos("d1"),
        "a dependent goes before its dependency"
    );
    assert!(pos("n") < pos("m") && pos("m") < pos("c2"));
}

/// A target scoped to a branch moves that branch only, as Alembic does:
/// the other branch's row stays even where it rests on the target.
#[test]
fn branch_scoped_downgrade_leaves_the_other_branch() {
    let g = graph();
    let (order, rows) = down(&g, &["c1", "d1"], "auth@-1").unwrap();
    assert_eq!(order, ["d1"]);
    assert_eq!(rows, [vec!["c1"]]);
    let (order, _) = down(&g, &["c1", "d2"], "auth@-2").unwrap();
    assert_eq!(order, ["d2", "d1"]);
    let (order, _) = down(&g, &["c1", "d2"], "auth@b").unwrap();
    assert_eq!(order, ["d2", "d1"]);
    // Below a merge: only the label's side of it goes.
    let (order, rows) = down(&g, &["m"], "auth@b").unwrap();
    assert_eq!(order, ["m", "d2", "d1"]);
    assert_eq!(rows.last().unwrap(), &vec!["c2"]);
    let (order, rows) = down(&g, &["c2", "d2"], "c2@-2").unwrap();
    assert_eq!(order, ["c2", "c1"]);
    assert_eq!(rows.last().unwrap(), &vec!["d2"]);
    // What rests on a removed revision goes with it: y depends on d1.
    let (order, rows) = down(&g, &["y"], "auth@-1").unwrap();
    assert_eq!(order, ["y", "d1"]);
    assert_eq!(rows.last().unwrap(), &vec!["b", "x"]);
    // No row on the label's line: the walk would start on the sibling
    // branch, which is not the label's to move.
    for (rows, target) in [
        (&["c2"][..], "auth@-1"),
        (&["c2"], "auth@-2"),
        (&["d2", "y"], "c2@-1"),
    ] {
        let e = down(&g, rows, target).unwrap_err();
        assert!(e.contains("line of history is applied"), "{target}: {e}");
    }
    // Walking the branch down to base removes the line walked, shared
    // revisions included, and what rests on them.
    let (_, rows) = down(&g, &["c1", "d1"], "auth@-3").unwrap();
    assert!(rows.last().unwrap().is_empty());
}

/// A relative walk that reaches base removes the line it walked; what that
/// line merely depends on stays.
#[test]
fn relative_walk_to_base_keeps_the_dependencies() {
    let g = graph();
    let (order, rows) = down(&g, &["y"], "-2").unwrap();
    assert_eq!(order, ["y", "x"]);
    assert_eq!(rows.last().unwrap(), &vec!["d1"]);
}

#[test]
fn downgrade_takes_dependents_along() {
    let g = graph();
    let (order, _) = down(&g, &["c2", "y"], "b").unwrap();
    assert_eq!(order, ["c2", "c1", "y", "d1"]);
}

#[test]
fn downgrade_to_unapplied_is_an_error() {
    let g = graph();
    assert_eq!(
        down(&g, &["c1"], "c2").unwrap_err(),
        "`c2` is not applied, so the database cannot be downgraded to it"
    );
    assert!(
        down(&g, &["c2", "d2"], "-1")
            .unwrap_err()
            .contains("several revisions")
    );
}

/// `stamp` of one target from `rows`, as sorted ids.
fn stamped(g: &Graph, rows: &[&str], targets: &[&str], purge: bool) -> Vec<String> {
    let rows = idx(g, rows);
    let current: Vec<String> = g.ids(&rows).iter().map(|s| (*s).to_owned()).collect();
    let resolved: Vec<Resolved> = targets
        .iter()
        .map(|t| g.resolve(t, Some(&current)).unwrap())
        .collect();
    names(g, &stamp(g, &rows, &resolved, purge).unwrap())
}

#[test]
fn stamps() {
    let g = graph();
    // Up one branch, leaving the other alone.
    assert_eq!(stamped(&g, &["c2"], &["d2"], false), ["c2", "d2"]);
    // Down within a branch.
    assert_eq!(stamped(&g, &["c2", "d2"], &["d1"], false), ["c2", "d1"]);
    // Several targets at once.
    assert_eq!(stamped(&g, &[], &["c1", "x"], false), ["c1", "x"]);
    // base empties the table; purge starts from nothing.
    assert!(stamped(&g, &["n"], &["base"], false).is_empty());
    assert_eq!(stamped(&g, &["n"], &["b"], true), ["b"]);
}

/// Alembic's rule: the target replaces every row on its line of history,
/// the rows of other lines stay.
#[test]
fn stamp_replaces_the_rows_on_the_targets_line() {
    let g = graph();
    // Below a merge: the merged row goes, and with it the other parent's
    // line (Alembic's `alembic_version` then holds the target alone).
    assert_eq!(stamped(&g, &["n"], &["c1"], false), ["c1"]);
    assert_eq!(stamped(&g, &["n", "x"], &["d1"], false), ["d1", "x"]);
    // Through a dependency: y rests on d1, so it is on d1's line.
    assert_eq!(stamped(&g, &["c2", "y"], &["d1"], false), ["c2", "d1"]);
    assert_eq!(stamped(&g, &["c2", "y"], &["x"], false), ["c2", "x"]);
    // `label@base` removes the rows of the label's line only.
    assert_eq!(stamped(&g, &["c1", "d2"], &["auth@base"], false), ["c1"]);
    assert_eq!(stamped(&g, &["n", "x"], &["extra@base"], false), ["n"]);
    assert!(stamped(&g, &["y"], &["auth@base"], false).is_empty());
    // A target already in the table changes nothing.
    assert_eq!(stamped(&g, &["c2", "d2"], &["d2"], false), ["c2", "d2"]);
}

/// Several targets: each replaces the rows of its own line, so a target
/// already stamped stays (Alembic's `stamp heads` can drop it).
#[test]
fn stamp_of_several_targets_keeps_the_heads_already_stamped() {
    let g = graph();
    assert_eq!(stamped(&g, &["c1", "y"], &["heads"], false), ["n", "y"]);
    assert_eq!(stamped(&g, &["n", "x"], &["heads"], false), ["n", "y"]);
    // Two targets on one line: the one above the other is the row, in
    // either order.
    assert_eq!(stamped(&g, &[], &["b", "c1"], false), ["c1"]);
    assert_eq!(stamped(&g, &[], &["c1", "b"], false), ["c1"]);
}

/// h2 depends on h1; both are heads (a dependency makes no head).
fn head_on_a_head() -> Graph {
    Graph::build(vec![
        Node::new("h1", &[]),
        Node::new("h2", &[]).depends_on(&["h1"]),
    ])
    .unwrap()
}

/// `heads` where one head depends on another: the row is the dependent
/// head, and a database there is up to date rather than above `heads`.
#[test]
fn a_head_another_head_depends_on_is_implied() {
    let g = head_on_a_head();
    for rows in [&[][..], &["h1"], &["h2"]] {
        assert_eq!(
            stamped(&g, rows, &["heads"], false),
            ["h2"],
            "from {rows:?}"
        );
    }
    assert_eq!(up(&g, &["h2"], "heads").unwrap().0, Vec::<String>::new());
    let (order, rows) = up(&g, &[], "heads").unwrap();
    assert_eq!(order, ["h1", "h2"]);
    assert_eq!(rows.last().unwrap(), &vec!["h2"]);
}
