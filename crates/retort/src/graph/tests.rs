use super::*;
use crate::Diagnostic as _;

fn graph(nodes: Vec<Node>) -> Graph {
    Graph::build(nodes).unwrap()
}

fn ids(g: &Graph, indices: &[usize]) -> Vec<String> {
    g.ids(indices).iter().map(|s| (*s).to_owned()).collect()
}

fn resolve(g: &Graph, target: &str, current: Option<&[&str]>) -> Result<Vec<String>, String> {
    let current: Option<Vec<String>> = current.map(|c| c.iter().map(|s| (*s).to_owned()).collect());
    g.resolve(target, current.as_deref())
        .map(|r| ids(g, &r.revisions))
        .map_err(|e| e.to_string())
}

/// a - b - c (head, "main")
///      \
///       d - e (head, label "auth" on d)
///
/// plus f depending on d
fn branched() -> Graph {
    graph(vec![
        Node::new("aaaa1111", &[]),
        Node::new("bbbb2222", &["aaaa1111"]).labels(&["main"]),
        Node::new("cccc3333", &["bbbb2222"]),
        Node::new("dddd4444", &["bbbb2222"]).labels(&["auth"]),
        Node::new("eeee5555", &["dddd4444"]),
    ])
}

#[test]
fn heads_bases_points() {
    let g = branched();
    assert_eq!(g.head_ids(), ["cccc3333", "eeee5555"]);
    assert_eq!(ids(&g, g.bases()), ["aaaa1111"]);
    assert_eq!(ids(&g, &g.branch_points()), ["bbbb2222"]);
    assert!(!g.node(0).is_merge_point());
}

#[test]
fn newest_first_keeps_a_branch_together() {
    let g = graph(vec![
        Node::new("a", &[]),
        Node::new("b1", &["a"]),
        Node::new("c1", &["a"]),
        Node::new("b2", &["b1"]),
        Node::new("c2", &["c1"]),
        Node::new("m", &["b2", "c2"]),
    ]);
    assert_eq!(
        ids(&g, g.newest_first()),
        ["m", "b2", "b1", "c2", "c1", "a"]
    );
}

#[test]
fn dependencies_order_but_do_not_unmake_heads() {
    let g = graph(vec![
        Node::new("a", &[]),
        Node::new("x", &[]).depends_on(&["a"]),
    ]);
    assert_eq!(g.head_ids(), ["a", "x"]);
    assert_eq!(ids(&g, g.newest_first()), ["x", "a"]);
}

#[test]
fn dependency_on_a_label() {
    let g = graph(vec![
        Node::new("a", &[]).labels(&["core"]),
        Node::new("x", &[]).depends_on(&["core"]),
    ]);
    assert_eq!(ids(&g, g.node(1).dependencies()), ["a"]);
}

#[test]
fn duplicate_revision() {
    let mut second = Node::new("a", &[]);
    second.origin = "`m/2.sql`".into();
    let err = Graph::build(vec![Node::new("a", &[]), second]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "revision `a` is defined twice: in revision `a` and in `m/2.sql`"
    );
    assert_eq!(err.kind(), "duplicate_revision");
}

#[test]
fn duplicate_label() {
    let err = Graph::build(vec![
        Node::new("a", &[]).labels(&["x"]),
        Node::new("b", &[]).labels(&["x"]),
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "branch label `x` of revision `b` is already used by revision `a`"
    );
    let err = Graph::build(vec![
        Node::new("a", &[]),
        Node::new("b", &[]).labels(&["a"]),
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "branch label `a` of revision `b` is already used by revision `a`"
    );
}

#[test]
fn missing_parent_and_dependency() {
    let err = Graph::build(vec![Node::new("b", &["a"])]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "revision `b` (revision `b`) revises `a`, which no revision file defines"
    );
    assert!(err.hint().unwrap().contains("migrations.dirs"));
    let err = Graph::build(vec![Node::new("b", &[]).depends_on(&["zz"])]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "revision `b` (revision `b`) depends on `zz`, which is neither a revision nor a branch label"
    );
}

#[test]
fn cycles() {
    let err = Graph::build(vec![
        Node::new("a", &["c"]),
        Node::new("b", &["a"]),
        Node::new("c", &["b"]),
        Node::new("d", &["c"]),
    ])
    .unwrap_err();
    let GraphError::Cycle { cycle } = &err else {
        panic!("{err}")
    };
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4);
    assert!(err.to_string().starts_with("revisions form a cycle: "));
    let err = Graph::build(vec![Node::new("a", &["a"])]).unwrap_err();
    assert_eq!(err.to_string(), "revisions form a cycle: a -> a");
    let err = Graph::build(vec![
        Node::new("a", &[]).depends_on(&["b"]),
        Node::new("b", &["a"]),
    ])
    .unwrap_err();
    assert_eq!(err.kind(), "cycle");
}

#[test]
fn absolute_targets() {
    let g = branched();
    assert_eq!(resolve(&g, "base", None).unwrap(), Vec::<String>::new());
    assert_eq!(
        resolve(&g, "heads", None).unwrap(),
        ["cccc3333", "eeee5555"]
    );
    assert_eq!(resolve(&g, "cccc", None).unwrap(), ["cccc3333"]);
    assert_eq!(resolve(&g, "auth", None).unwrap(), ["dddd4444"]);
    assert_eq!(resolve(&g, "auth@head", None).unwrap(), ["eeee5555"]);
    assert_eq!(resolve(&g, "dddd4444@head", None).unwrap(), ["eeee5555"]);
    assert_eq!(resolve(&g, "auth@heads", None).unwrap(), ["eeee5555"]);
    assert_eq!(
        resolve(&g, "auth@base", None).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(resolve(&g, "auth@eeee", None).unwrap(), ["eeee5555"]);
    assert_eq!(resolve(&g, "auth@aaaa", None).unwrap(), ["aaaa1111"]);
    let r = g.resolve("auth@base", None).unwrap();
    assert_eq!(r.branch.as_deref(), Some("auth"));
}

#[test]
fn head_with_several_heads() {
    let g = branched();
    let err = g.resolve("head", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`head` is ambiguous: there are 2 heads (`cccc3333`, `eeee5555`)"
    );
    assert!(err.hint().unwrap().contains("`heads`"));
    assert!(err.hint().unwrap().contains("retort merge heads"));
    // `main` is at b, below both heads.
    let err = g.resolve("main@head", None).unwrap_err();
    assert_eq!(err.kind(), "multiple_heads");
}

#[test]
fn unknown_and_ambiguous() {
    let g = graph(vec![Node::new("abc1", &[]), Node::new("abc2", &["abc1"])]);
    assert_eq!(
        resolve(&g, "zz", None).unwrap_err(),
        "no revision or branch label matches `zz`"
    );
    let err = g.resolve("ab", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "revision prefix `ab` is ambiguous: it matches `abc1`, `abc2`"
    );
    assert_eq!(err.kind(), "ambiguous_prefix");
    assert_eq!(resolve(&g, "abc2", None).unwrap(), ["abc2"]);
}

#[test]
fn not_in_branch() {
    let g = branched();
    assert_eq!(
        resolve(&g, "auth@cccc", None).unwrap_err(),
        "revision `cccc3333` is not in the lineage of branch `auth`"
    );
}

#[test]
fn relative_from_symbols() {
    let g = branched();
    assert_eq!(resolve(&g, "aaaa+1", None).unwrap(), ["bbbb2222"]);
    assert_eq!(resolve(&g, "eeee-2", None).unwrap(), ["bbbb2222"]);
    assert_eq!(resolve(&g, "eeee-4", None).unwrap(), Vec::<String>::new());
    assert_eq!(resolve(&g, "auth@head-1", None).unwrap(), ["dddd4444"]);
    assert_eq!(resolve(&g, "base+2", None).unwrap(), ["bbbb2222"]);
    assert_eq!(resolve(&g, "auth@bbbb+1", None).unwrap(), ["dddd4444"]);
    assert_eq!(
        resolve(&g, "eeee-5", None).unwrap_err(),
        "`eeee-5` walks past the base after 4 of 5 steps"
    );
    assert_eq!(
        resolve(&g, "cccc+1", None).unwrap_err(),
        "`cccc+1` walks past the last revision after 0 of 1 steps"
    );
    let err = g.resolve("aaaa+2", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`aaaa+2` is ambiguous at `bbbb2222`: the walk could continue to `cccc3333`, `dddd4444`"
    );
    assert_eq!(err.kind(), "ambiguous_walk");
}

#[test]
fn relative_to_current() {
    let g = branched();
    assert_eq!(
        resolve(&g, "+1", None).unwrap_err(),
        "`+1` is relative to the database's current revision, which is not known here"
    );
    assert_eq!(resolve(&g, "+1", Some(&[])).unwrap(), ["aaaa1111"]);
    assert!(
        resolve(&g, "+2", Some(&["aaaa1111"]))
            .unwrap_err()
            .contains("ambiguous at `bbbb2222`")
    );
    assert_eq!(
        resolve(&g, "-1", Some(&["eeee5555"])).unwrap(),
        ["dddd4444"]
    );
    assert_eq!(
        resolve(&g, "+1", Some(&["cccc3333", "eeee5555"])).unwrap_err(),
        "`+1` is ambiguous: the database is at several revisions (`cccc3333`, `eeee5555`)"
    );
    assert_eq!(
        resolve(&g, "auth@+1", Some(&["cccc3333", "dddd4444"])).unwrap(),
        ["eeee5555"]
    );
    // The branch has not started: walk up from the ancestor, inside the branch.
    assert_eq!(
        resolve(&g, "auth@+1", Some(&["bbbb2222"])).unwrap(),
        ["dddd4444"]
    );
    assert_eq!(
        resolve(&g, "auth@-1", Some(&["cccc3333", "eeee5555"])).unwrap(),
        ["dddd4444"]
    );
    assert_eq!(
        resolve(&g, "-1", Some(&["zzzz"])).unwrap_err(),
        "the database is at revision `zzzz`, which no revision file defines"
    );
}

#[test]
fn ranges() {
    let g = branched();
    let range = |spec: &str| {
        g.range(spec, None)
            .map(|r| ids(&g, &r))
            .map_err(|e| e.to_string())
    };
    assert_eq!(range(":").unwrap(), ids(&g, g.newest_first()));
    assert_eq!(
        range("bbbb:eeee").unwrap(),
        ["eeee5555", "dddd4444", "bbbb2222"]
    );
    assert_eq!(
        range("auth@base:auth@head").unwrap(),
        ["eeee5555", "dddd4444", "bbbb2222", "aaaa1111"]
    );
    assert_eq!(range("dddd:").unwrap(), ["eeee5555", "dddd4444"]);
    assert_eq!(range(":bbbb").unwrap(), ["bbbb2222", "aaaa1111"]);
    assert_eq!(
        range("cccc:eeee").unwrap_err(),
        "`cccc` is not an ancestor of `eeee`"
    );
    assert_eq!(
        range("head").unwrap_err(),
        "invalid target `head`: a range is written `A:B`"
    );
    assert_eq!(
        range("current:").unwrap_err(),
        "`current` is relative to the database's current revision, which is not known here"
    );
    let current = ["bbbb2222".to_owned()];
    assert_eq!(
        ids(&g, &g.range("current:cccc", Some(&current)).unwrap()),
        ["cccc3333", "bbbb2222"]
    );
}

#[test]
fn invalid_targets() {
    let g = branched();
    assert_eq!(
        resolve(&g, "a:b c", None).unwrap_err(),
        "invalid target `a:b c`: revision ids and labels use only letters, digits, `_`, `-` and `.`"
    );
    assert_eq!(
        resolve(&g, "", None).unwrap_err(),
        "invalid target ``: it is empty"
    );
}
