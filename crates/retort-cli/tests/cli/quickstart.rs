//! The read-only commands on a copy of `examples/quickstart`:
//!
//! ```text
//! 758a03d802cf (head)
//! 29a1d6a8bf14 merges 8d639793754d and ad297cbefc29
//! 8d639793754d <- 163c9bd7faec        ad297cbefc29 <- c495453246ae (auth)
//!                  \________ 754ce64befef (base, branch point) ________/
//! ```

use insta::assert_snapshot;

use crate::util::Project;

#[test]
fn history() {
    // Newest first; a branch reads as one run (the main line, then `auth`).
    assert_snapshot!(Project::quickstart().retort(&["history"]));
}

#[test]
fn history_verbose() {
    assert_snapshot!(Project::quickstart().retort(&["history", "--verbose"]));
}

#[test]
fn history_graph() {
    assert_snapshot!(Project::quickstart().retort(&["history", "--graph"]));
}

#[test]
fn history_dot() {
    assert_snapshot!(Project::quickstart().retort(&["history", "--format", "dot"]));
}

#[test]
fn history_json() {
    assert_snapshot!(Project::quickstart().retort(&["history", "--format", "json"]));
}

#[test]
fn history_range_of_prefixes() {
    // Descendants of 163c that lead to 758a: the `auth` side is not in it.
    assert_snapshot!(Project::quickstart().retort(&["history", "-r", "163c:758a"]));
}

#[test]
fn history_range_of_a_branch() {
    // The line of history through `auth`: its base, the branch, and the
    // merge and head above it (the main line's revisions are ancestors of
    // `auth@head` too, as in Alembic).
    assert_snapshot!(Project::quickstart().retort(&["history", "-r", "auth@base:auth@head"]));
}

#[test]
fn history_range_to_a_label() {
    assert_snapshot!(Project::quickstart().retort(&["history", "-r", ":auth"]), @r"
    exit: 0
    --- stdout
    754ce64befef -> c495453246ae (auth), add sessions
    <base> -> 754ce64befef (branchpoint), create users
    --- stderr
    ");
}

#[test]
fn history_of_one_target() {
    assert_snapshot!(Project::quickstart().retort(&["history", "-r", "auth+1"]), @r"
    exit: 0
    --- stdout
    c495453246ae -> ad297cbefc29, add password hash
    --- stderr
    ");
}

#[test]
fn history_range_not_along_one_line() {
    assert_snapshot!(Project::quickstart().retort(&["history", "-r", "auth:163c"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `auth` is not an ancestor of `163c`
    hint: write ranges as `older:newer` along one line of history
    ");
}

#[test]
fn history_from_current_needs_the_database() {
    let project = Project::quickstart();
    assert_snapshot!(project.retort(&["history", "-r", "current:"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `current` is relative to the database's current revision, which is not known here
    hint: use an absolute target such as a revision id, `head` or `rev+1`
    ");
    assert_snapshot!(project.retort(&["history", "-r", "current:", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "needs_current",
        "message": "`current` is relative to the database's current revision, which is not known here",
        "hint": "use an absolute target such as a revision id, `head` or `rev+1`"
      }
    }
    --- stderr
    "#);
}

#[test]
fn heads() {
    assert_snapshot!(Project::quickstart().retort(&["heads"]), @r"
    exit: 0
    --- stdout
    758a03d802cf (head)
    --- stderr
    ");
}

#[test]
fn heads_verbose() {
    assert_snapshot!(Project::quickstart().retort(&["heads", "--verbose"]));
}

#[test]
fn heads_json() {
    assert_snapshot!(Project::quickstart().retort(&["heads", "--format", "json"]));
}

#[test]
fn heads_has_no_dot_output() {
    assert_snapshot!(Project::quickstart().retort(&["heads", "--format", "dot"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `retort heads` has no `--format dot` output
    hint: use `--format text` or `--format json`; `retort history --format dot` draws the graph
    ");
}

#[test]
fn branches() {
    assert_snapshot!(Project::quickstart().retort(&["branches"]), @r"
    exit: 0
    --- stdout
    754ce64befef (branchpoint)
                 -> 163c9bd7faec
                 -> c495453246ae (auth)
    --- stderr
    ");
}

#[test]
fn branches_verbose() {
    assert_snapshot!(Project::quickstart().retort(&["branches", "--verbose"]));
}

#[test]
fn branches_json() {
    assert_snapshot!(Project::quickstart().retort(&["branches", "--format", "json"]));
}

#[test]
fn show_label() {
    assert_snapshot!(Project::quickstart().retort(&["show", "auth"]));
}

#[test]
fn show_head() {
    assert_snapshot!(Project::quickstart().retort(&["show", "head"]));
}

#[test]
fn show_head_minus_one() {
    // One step down from the head is the merge point.
    assert_snapshot!(Project::quickstart().retort(&["show", "head-1"]));
}

#[test]
fn show_head_minus_two_forks_at_the_merge() {
    // The second step down leaves a merge point: two parents to choose from.
    assert_snapshot!(Project::quickstart().retort(&["show", "head-2"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `head-2` is ambiguous at `29a1d6a8bf14`: the walk could continue to `8d639793754d`, `ad297cbefc29`
    hint: name the branch (`<branch>@-1`) or the revision (e.g. `8d639793754d`)
    ");
}

#[test]
fn show_walk_up_from_a_branch_point() {
    assert_snapshot!(Project::quickstart().retort(&["show", "754c+1"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `754c+1` is ambiguous at `754ce64befef`: the walk could continue to `163c9bd7faec`, `c495453246ae`
    hint: name the branch (`<branch>@+1`) or the revision (e.g. `163c9bd7faec`)
    ");
}

#[test]
fn show_walk_up_from_a_label() {
    // Two steps up from `auth`: its child, then the merge.
    assert_snapshot!(Project::quickstart().retort(&["show", "auth+2"]));
}

#[test]
fn show_ambiguous_prefix() {
    let project = Project::quickstart();
    assert_snapshot!(project.retort(&["show", "7"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: revision prefix `7` is ambiguous: it matches `754ce64befef`, `758a03d802cf`
    hint: type more characters of the id
    ");
    assert_snapshot!(project.retort(&["show", "7", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "ambiguous_prefix",
        "message": "revision prefix `7` is ambiguous: it matches `754ce64befef`, `758a03d802cf`",
        "hint": "type more characters of the id"
      }
    }
    --- stderr
    "#);
}

#[test]
fn show_unknown_revision() {
    assert_snapshot!(Project::quickstart().retort(&["show", "fff"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: no revision or branch label matches `fff`
    hint: run `retort history` to list revisions; a prefix of 4 or more characters is safest
    ");
}

#[test]
fn show_base_names_no_revision() {
    assert_snapshot!(Project::quickstart().retort(&["show", "base"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `base` names no revision (it is the base)
    hint: run `retort history` to list revisions
    ");
}

#[test]
fn show_json() {
    assert_snapshot!(Project::quickstart().retort(&["show", "29a1", "--format", "json"]));
}
