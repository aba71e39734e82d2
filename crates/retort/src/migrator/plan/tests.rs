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

#[test]
fn stamps() {
    let g = graph();
    let r = |t: &str, current: &[&str]| {
        let current: Vec<String> = current.iter().map(|s| (*s).to_owned()).collect();
        g.resolve(t, Some(&current)).unwrap()
    };
    // Up one branch, leaving the other alone.
    let rows = stamp(&g, &idx(&g, &["c2"]), &[r("d2", &["c2"])], false);
    assert_eq!(names(&g, &rows), ["c2", "d2"]);
    // Down within a branch.
    let rows = stamp(&g, &idx(&g, &["c2", "d2"]), &[r("d1", &[])], false);
    assert_eq!(names(&g, &rows), ["c2", "d1"]);
    // Several targets at once.
    let rows = stamp(&g, &[], &[r("c1", &[]), r("x", &[])], false);
    assert_eq!(names(&g, &rows), ["c1", "x"]);
    // base empties the table; purge starts from nothing.
    assert!(stamp(&g, &idx(&g, &["n"]), &[r("base", &[])], false).is_empty());
    let rows = stamp(&g, &idx(&g, &["n"]), &[r("b", &[])], true);
    assert_eq!(names(&g, &rows), ["b"]);
}
