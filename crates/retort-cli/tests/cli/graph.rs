//! The read-only commands on a graph with three heads, a three-way merge,
//! branch labels, a dependency and a second base ([`Project::three_heads`]).

use insta::assert_snapshot;

use crate::util::Project;

#[test]
fn history() {
    assert_snapshot!(Project::three_heads().retort(&["history"]));
}

#[test]
fn history_graph() {
    assert_snapshot!(Project::three_heads().retort(&["history", "--graph"]));
}

#[test]
fn history_verbose() {
    assert_snapshot!(Project::three_heads().retort(&["history", "--verbose"]));
}

#[test]
fn history_dot() {
    assert_snapshot!(Project::three_heads().retort(&["history", "--format", "dot"]));
}

#[test]
fn history_json() {
    assert_snapshot!(Project::three_heads().retort(&["history", "--format", "json"]));
}

#[test]
fn history_range_of_a_second_base() {
    assert_snapshot!(Project::three_heads().retort(&["history", "-r", "search@base:search@head"]), @r"
    exit: 0
    --- stdout
    <base> -> g1 (search) (head), create search index
    --- stderr
    ");
}

#[test]
fn heads() {
    assert_snapshot!(Project::three_heads().retort(&["heads"]), @"
    exit: 0
    --- stdout
    e1 (billing, catalog) (head)
    f1 (billing, catalog) (head)
    g1 (search) (head)
    --- stderr
    ");
}

#[test]
fn heads_json() {
    assert_snapshot!(Project::three_heads().retort(&["heads", "--format", "json"]));
}

#[test]
fn branches() {
    assert_snapshot!(Project::three_heads().retort(&["branches"]), @"
    exit: 0
    --- stdout
    m3 (billing, catalog) (branchpoint) (mergepoint)
       -> e1 (billing, catalog) (head)
       -> f1 (billing, catalog) (head)
    a0 (branchpoint)
       -> b1 (billing)
       -> c1 (catalog)
       -> d1
    --- stderr
    ");
}

#[test]
fn branches_verbose() {
    assert_snapshot!(Project::three_heads().retort(&["branches", "--verbose"]));
}

#[test]
fn show_heads() {
    assert_snapshot!(Project::three_heads().retort(&["show", "heads"]));
}

#[test]
fn show_heads_of_a_branch() {
    // The heads above `billing`: both children of the merge, not `g1`.
    assert_snapshot!(Project::three_heads().retort(&["show", "billing@heads", "--format", "json"]));
}

#[test]
fn show_head_of_a_branch_with_two_heads() {
    // `billing` leads through the merge to two heads, e1 and f1.
    assert_snapshot!(Project::three_heads().retort(&["show", "billing@head"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `billing@head` is ambiguous: there are 2 heads (`e1`, `f1`)
    hint: name one head (e.g. `e1`), or use `heads`
    ");
}

#[test]
fn show_head_of_a_branch() {
    assert_snapshot!(Project::three_heads().retort(&["show", "search@head"]));
}

#[test]
fn show_head_with_several_heads() {
    let project = Project::three_heads();
    assert_snapshot!(project.retort(&["show", "head"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `head` is ambiguous: there are 3 heads (`e1`, `f1`, `g1`)
    hint: use `heads` for all of them, `<branch>@head` or a revision id (e.g. `e1`) for one, or `retort merge heads` to join them
    ");
    assert_snapshot!(project.retort(&["show", "head", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "multiple_heads",
        "message": "`head` is ambiguous: there are 3 heads (`e1`, `f1`, `g1`)",
        "hint": "use `heads` for all of them, `<branch>@head` or a revision id (e.g. `e1`) for one, or `retort merge heads` to join them"
      }
    }
    --- stderr
    "#);
}

#[test]
fn show_revision_outside_a_branch() {
    assert_snapshot!(Project::three_heads().retort(&["show", "catalog@d1"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: revision `d1` is not in the lineage of branch `catalog`
    hint: run `retort history -r catalog@base:catalog@head` to list the branch
    ");
}

#[test]
fn show_walk_down_from_a_three_way_merge() {
    assert_snapshot!(Project::three_heads().retort(&["show", "m3-1"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `m3-1` is ambiguous at `m3`: the walk could continue to `b1`, `c1`, `d1`
    hint: name the branch (`<branch>@-1`) or the revision (e.g. `b1`)
    ");
}

#[test]
fn show_walk_below_a_base() {
    assert_snapshot!(Project::three_heads().retort(&["show", "g1-2"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `g1-2` walks past the base after 1 of 2 steps
    hint: use a smaller step, or `head`/`base`
    ");
}
