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
    assert_snapshot!(Project::quickstart().retort(&["history", "-r", "auth+1"]), @"
    exit: 0
    --- stdout
    c495453246ae -> ad297cbefc29 (auth), add password hash
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
fn history_from_current_reads_the_database() {
    let project = Project::quickstart();
    assert_snapshot!(project.retort(&["history", "-r", "current:"]), @"
    exit: 0
    --- stdout
    29a1d6a8bf14 -> 758a03d802cf (auth) (head), create comments
    8d639793754d, ad297cbefc29 -> 29a1d6a8bf14 (auth) (mergepoint), merge auth into main
    163c9bd7faec -> 8d639793754d, index posts by author
    754ce64befef -> 163c9bd7faec, create posts
    c495453246ae -> ad297cbefc29 (auth), add password hash
    754ce64befef -> c495453246ae (auth), add sessions
    <base> -> 754ce64befef (branchpoint), create users
    --- stderr
    ");
    assert_snapshot!(project.retort(&["history", "-r", "current:", "--format", "json"]), @r#"
    exit: 0
    --- stdout
    [
      {
        "revision": "758a03d802cf",
        "revises": [
          "29a1d6a8bf14"
        ],
        "message": "create comments",
        "branch_labels": [],
        "depends_on": [],
        "path": "migrations/20261107_0945_758a03d802cf_create_comments.sql",
        "created": "2026-11-07T09:45:00Z",
        "review": null,
        "code": null,
        "is_head": true,
        "is_base": false,
        "is_branch_point": false,
        "is_merge_point": false
      },
      {
        "revision": "29a1d6a8bf14",
        "revises": [
          "8d639793754d",
          "ad297cbefc29"
        ],
        "message": "merge auth into main",
        "branch_labels": [],
        "depends_on": [],
        "path": "migrations/20261106_1600_29a1d6a8bf14_merge_auth_into_main.sql",
        "created": "2026-11-06T16:00:00Z",
        "review": null,
        "code": null,
        "is_head": false,
        "is_base": false,
        "is_branch_point": false,
        "is_merge_point": true
      },
      {
        "revision": "8d639793754d",
        "revises": [
          "163c9bd7faec"
        ],
        "message": "index posts by author",
        "branch_labels": [],
        "depends_on": [],
        "path": "migrations/20261104_0830_8d639793754d_index_posts_by_author.sql",
        "created": "2026-11-04T08:30:00Z",
        "review": null,
        "code": null,
        "is_head": false,
        "is_base": false,
        "is_branch_point": false,
        "is_merge_point": false
      },
      {
        "revision": "163c9bd7faec",
        "revises": [
          "754ce64befef"
        ],
        "message": "create posts",
        "branch_labels": [],
        "depends_on": [],
        "path": "migrations/20261102_1015_163c9bd7faec_create_posts.sql",
        "created": "2026-11-02T10:15:00Z",
        "review": null,
        "code": null,
        "is_head": false,
        "is_base": false,
        "is_branch_point": false,
        "is_merge_point": false
      },
      {
        "revision": "ad297cbefc29",
        "revises": [
          "c495453246ae"
        ],
        "message": "add password hash",
        "branch_labels": [],
        "depends_on": [],
        "path": "migrations/20261105_1120_ad297cbefc29_add_password_hash.sql",
        "created": "2026-11-05T11:20:00Z",
        "review": null,
        "code": null,
        "is_head": false,
        "is_base": false,
        "is_branch_point": false,
        "is_merge_point": false
      },
      {
        "revision": "c495453246ae",
        "revises": [
          "754ce64befef"
        ],
        "message": "add sessions",
        "branch_labels": [
          "auth"
        ],
        "depends_on": [],
        "path": "migrations/20261103_1400_c495453246ae_add_sessions.sql",
        "created": "2026-11-03T14:00:00Z",
        "review": null,
        "code": null,
        "is_head": false,
        "is_base": false,
        "is_branch_point": false,
        "is_merge_point": false
      },
      {
        "revision": "754ce64befef",
        "revises": [],
        "message": "create users",
        "branch_labels": [],
        "depends_on": [],
        "path": "migrations/20261101_0900_754ce64befef_create_users.sql",
        "created": "2026-11-01T09:00:00Z",
        "review": null,
        "code": null,
        "is_head": false,
        "is_base": true,
        "is_branch_point": true,
        "is_merge_point": false
      }
    ]
    --- stderr
    "#);
}

#[test]
fn heads() {
    assert_snapshot!(Project::quickstart().retort(&["heads"]), @"
    exit: 0
    --- stdout
    758a03d802cf (auth) (head)
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
    assert_snapshot!(Project::quickstart().retort(&["show", "base"]), @"
    exit: 0
    --- stdout
    --- stderr
    ");
}

#[test]
fn show_json() {
    assert_snapshot!(Project::quickstart().retort(&["show", "29a1", "--format", "json"]));
}
