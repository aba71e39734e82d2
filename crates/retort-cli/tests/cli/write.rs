//! `revision` and `merge` on the three-heads graph: what they refuse, and
//! what the files they write turn the graph into.

use insta::assert_snapshot;

use crate::util::Project;

#[test]
fn revision_without_head_when_there_are_several() {
    let project = Project::three_heads();
    assert_snapshot!(project.retort(&["revision", "-m", "x"]), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: there are 3 heads (`e1`, `f1`, `g1`); a new revision needs to know which one it revises
    hint: pass `--head e1` (or `--head <label>@head`), or join the heads first with `retort merge heads -m "merge"`
    "#);
    assert_snapshot!(project.retort(&["revision", "-m", "x", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "multiple_heads",
        "message": "there are 3 heads (`e1`, `f1`, `g1`); a new revision needs to know which one it revises",
        "hint": "pass `--head e1` (or `--head <label>@head`), or join the heads first with `retort merge heads -m \"merge\"`"
      }
    }
    --- stderr
    "#);
    assert_eq!(project.list("migrations").len(), 8, "nothing written");
}

#[test]
fn revision_on_a_head() {
    let project = Project::three_heads();
    assert_snapshot!(project.retort(&["revision", "-m", "Add refunds!", "--head", "f1"]), @r"
    exit: 0
    --- stdout
    migrations/[DATE]_[TIME]_[ID1]_add_refunds.sql
    --- stderr
    ");
    let file = project.new_file("_add_refunds.sql");
    assert_snapshot!(project.read_normalised(&file), @r"
    -- retort:revision [ID1]
    -- retort:revises f1
    -- retort:message Add refunds!
    -- retort:created [CREATED]

    -- retort:upgrade

    -- retort:downgrade
    ");
    assert_snapshot!(project.retort(&["heads"]), @"
    exit: 0
    --- stdout
    e1 (billing, catalog) (head)
    g1 (search) (head)
    [ID1] (billing, catalog) (head)
    --- stderr
    ");
}

#[test]
fn revision_on_a_branch_head_json() {
    // `--depends-on` keeps a label as a label and writes an id prefix in full.
    let project = Project::three_heads();
    assert_snapshot!(project.retort(&[
        "revision",
        "-m",
        "search invoices",
        "--head",
        "search@head",
        "--depends-on",
        "billing",
        "--depends-on",
        "c",
        "--branch-label",
        "invoice-search",
        "--rev-id",
        "s2",
        "--format",
        "json",
    ]));
    assert_snapshot!(
        "revision_on_a_branch_head_show",
        project.retort(&["show", "invoice-search"])
    );
}

#[test]
fn revision_on_a_revision_that_is_not_a_head() {
    assert_snapshot!(Project::three_heads().retort(&["revision", "-m", "x", "--head", "a0"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: revision `a0` is not a head: `b1`, `c1`, `d1` already revise it
    hint: pass `--splice` to start a new branch from `a0`
    ");
}

#[test]
fn revision_spliced_onto_a_revision_that_is_not_a_head() {
    let project = Project::three_heads();
    assert_snapshot!(project.retort(&["revision", "-m", "x", "--head", "a0", "--splice"]), @r"
    exit: 0
    --- stdout
    migrations/[DATE]_[TIME]_[ID1]_x.sql
    --- stderr
    ");
    assert_snapshot!(project.retort(&["heads"]), @"
    exit: 0
    --- stdout
    e1 (billing, catalog) (head)
    f1 (billing, catalog) (head)
    g1 (search) (head)
    [ID1] (head)
    --- stderr
    ");
    assert_snapshot!(project.retort(&["branches"]), @"
    exit: 0
    --- stdout
    m3 (billing, catalog) (branchpoint) (mergepoint)
       -> e1 (billing, catalog) (head)
       -> f1 (billing, catalog) (head)
    a0 (branchpoint)
       -> b1 (billing)
       -> c1 (catalog)
       -> d1
       -> [ID1] (head)
    --- stderr
    ");
}

#[test]
fn revision_with_a_label_that_is_taken() {
    let project = Project::three_heads();
    let args = [
        "revision",
        "-m",
        "x",
        "--head",
        "search@head",
        "--branch-label",
        "billing",
    ];
    assert_snapshot!(project.retort(&args), @r"
    exit: 2
    --- stdout
    --- stderr
    error: branch label `billing` is already used by revision `b1`
    hint: choose another `--branch-label`
    ");
    // A label may not be an id either: ids and labels share one namespace.
    let args = [
        "revision",
        "-m",
        "x",
        "--head",
        "g1",
        "--branch-label",
        "m3",
    ];
    assert_snapshot!(project.retort(&args), @r"
    exit: 2
    --- stdout
    --- stderr
    error: branch label `m3` is already used by revision `m3`
    hint: choose another `--branch-label`
    ");
}

#[test]
fn revision_with_an_invalid_label() {
    let args = [
        "revision",
        "-m",
        "x",
        "--head",
        "g1",
        "--branch-label",
        "head",
        "--format",
        "json",
    ];
    assert_snapshot!(Project::three_heads().retort(&args), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "invalid_branch_label",
        "message": "invalid branch label `head`: use letters, digits, `_` and `-`, not only digits, not `head`, `heads`, `base` or `current`",
        "hint": "choose a label like `auth` or `billing-v2`"
      }
    }
    --- stderr
    "#);
}

#[test]
fn revision_with_an_id_that_is_taken() {
    let project = Project::three_heads();
    assert_snapshot!(project.retort(&["revision", "-m", "x", "--head", "e1", "--rev-id", "a0"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: revision id `a0` is already used
    hint: choose another `--rev-id`, or omit it for a random one
    ");
    // A branch label is taken as an id too.
    let args = ["revision", "-m", "x", "--head", "e1", "--rev-id", "billing"];
    assert_snapshot!(project.retort(&args), @r"
    exit: 2
    --- stdout
    --- stderr
    error: revision id `billing` is already used
    hint: choose another `--rev-id`, or omit it for a random one
    ");
}

#[test]
fn revision_with_an_invalid_id() {
    let project = Project::three_heads();
    let args = ["revision", "-m", "x", "--head", "e1", "--rev-id", "bad-id"];
    assert_snapshot!(project.retort(&args), @r"
    exit: 2
    --- stdout
    --- stderr
    error: invalid revision id `bad-id`: use letters, digits and `_`
    hint: give at most 32 letters, digits and `_`, or omit `--rev-id` for a random id
    ");
    let args = [
        "revision", "-m", "x", "--head", "e1", "--rev-id", "bad-id", "--format", "json",
    ];
    assert_snapshot!(project.retort(&args), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "invalid_revision_id",
        "message": "invalid revision id `bad-id`: use letters, digits and `_`",
        "hint": "give at most 32 letters, digits and `_`, or omit `--rev-id` for a random id"
      }
    }
    --- stderr
    "#);
}

#[test]
fn revision_on_several_heads_at_once() {
    assert_snapshot!(Project::three_heads().retort(&["revision", "-m", "x", "--head", "heads"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `--head heads` names 3 revisions; a new revision revises one (use `retort merge` to join several)
    hint: run `retort show heads` and pass one of those revisions to `--head`
    ");
}

#[test]
fn revision_on_a_new_base() {
    let project = Project::three_heads();
    let args = [
        "revision",
        "--head",
        "base",
        "--branch-label",
        "newline",
        "-m",
        "new base",
    ];
    assert_snapshot!(project.retort(&args), @r"
    exit: 0
    --- stdout
    migrations/[DATE]_[TIME]_[ID1]_new_base.sql
    --- stderr
    ");
    let file = project.new_file("_new_base.sql");
    assert_snapshot!(project.read_normalised(&file), @r"
    -- retort:revision [ID1]
    -- retort:message new base
    -- retort:created [CREATED]
    -- retort:branch-labels newline

    -- retort:upgrade

    -- retort:downgrade
    ");
    assert_snapshot!(project.retort(&["heads"]), @"
    exit: 0
    --- stdout
    e1 (billing, catalog) (head)
    f1 (billing, catalog) (head)
    g1 (search) (head)
    [ID1] (newline) (head)
    --- stderr
    ");
    assert_snapshot!(project.retort(&["history", "-r", "newline@base:newline@head"]), @r"
    exit: 0
    --- stdout
    <base> -> [ID1] (newline) (head), new base
    --- stderr
    ");
}

#[test]
fn merge_of_a_revision_and_its_ancestor() {
    let project = Project::three_heads();
    assert_snapshot!(project.retort(&["merge", "a0", "b1"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: cannot merge `a0` into `b1`: it is already its ancestor
    hint: merge `b1` with the other heads instead; run `retort heads` to list them
    ");
    assert_snapshot!(project.retort(&["merge", "a0", "b1", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "merge_of_ancestor",
        "message": "cannot merge `a0` into `b1`: it is already its ancestor",
        "hint": "merge `b1` with the other heads instead; run `retort heads` to list them"
      }
    }
    --- stderr
    "#);
}

#[test]
fn merge_of_one_revision() {
    let project = Project::three_heads();
    assert_snapshot!(project.retort(&["merge", "e1"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: nothing to merge: only `e1`
    hint: run `retort heads` to see what there is to merge
    ");
    // Naming one head twice is still one head.
    assert_snapshot!(project.retort(&["merge", "e1", "e1", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "nothing_to_merge",
        "message": "nothing to merge: only `e1`",
        "hint": "run `retort heads` to see what there is to merge"
      }
    }
    --- stderr
    "#);
}

#[test]
fn merge_of_revisions_that_are_not_heads() {
    assert_snapshot!(Project::three_heads().retort(&["merge", "b1", "g1"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: revision `b1` is not a head: `m3` already revises it
    hint: pass `--splice` to start a new branch from `b1`
    ");
}

#[test]
fn merge_of_all_heads() {
    let project = Project::three_heads();
    assert_snapshot!(project.retort(&["merge", "heads", "-m", "merge all"]), @r"
    exit: 0
    --- stdout
    migrations/[DATE]_[TIME]_[ID1]_merge_all.sql
    --- stderr
    ");
    let file = project.new_file("_merge_all.sql");
    assert_snapshot!(project.read_normalised(&file), @r"
    -- retort:revision [ID1]
    -- retort:revises e1 f1 g1
    -- retort:message merge all
    -- retort:created [CREATED]

    -- retort:upgrade

    -- retort:downgrade
    ");
    // g1's independent line is joined too: one head remains.
    assert_snapshot!(project.retort(&["heads"]), @"
    exit: 0
    --- stdout
    [ID1] (billing, catalog, search) (head)
    --- stderr
    ");
    assert_snapshot!(
        "merge_of_all_heads_graph",
        project.retort(&["history", "--graph"])
    );
    assert_snapshot!(
        "merge_of_all_heads_show_head",
        project.retort(&["show", "head"])
    );
    // And now `revision` has one head to build on.
    assert_snapshot!(project.retort(&["revision", "-m", "after the merge"]), @r"
    exit: 0
    --- stdout
    migrations/[DATE]_[TIME]_[ID2]_after_the_merge.sql
    --- stderr
    ");
    assert_snapshot!(project.retort(&["history", "-r", "e1:"]), @"
    exit: 0
    --- stdout
    [ID1] -> [ID2] (billing, catalog, search) (head), after the merge
    e1, f1, g1 -> [ID1] (billing, catalog, search) (mergepoint), merge all
    m3 -> e1 (billing, catalog), add reports
    --- stderr
    ");
}

#[test]
fn merge_json_with_label_and_id() {
    let project = Project::three_heads();
    let args = [
        "merge",
        "e1",
        "f1",
        "-m",
        "join reports and payments",
        "--rev-id",
        "m4",
        "--branch-label",
        "trunk",
        "--format",
        "json",
    ];
    assert_snapshot!(project.retort(&args));
    assert_snapshot!(project.retort(&["heads"]), @"
    exit: 0
    --- stdout
    g1 (search) (head)
    m4 (billing, catalog, trunk) (head)
    --- stderr
    ");
}

#[test]
fn write_commands_have_no_dot_output() {
    let project = Project::three_heads();
    assert_snapshot!(project.retort(&["merge", "heads", "--format", "dot"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `retort merge` has no `--format dot` output
    hint: use `--format text` or `--format json`; `retort history --format dot` draws the graph
    ");
    assert_eq!(project.list("migrations").len(), 8, "nothing written");
}

#[test]
fn revision_through_a_template_with_an_unknown_placeholder() {
    let project = Project::quickstart();
    project.write(
        "migrations/script.sql.tmpl",
        "{{header}}\n-- by {{author}}\n\n-- retort:upgrade\n",
    );
    assert_snapshot!(project.retort(&["revision", "-m", "x"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: [TMP]/migrations/script.sql.tmpl:2: unknown placeholder `{{author}}`
    hint: placeholders: `{{header}}`, `{{revision}}`, `{{revises}}`, `{{message}}`, `{{created}}`, `{{branch_labels}}`, `{{depends_on}}`, `{{upgrade}}`, `{{downgrade}}`
    ");
    assert_eq!(project.list("migrations").len(), 8, "nothing written");
}

/// Runs a command that writes a revision, then checks the project still
/// loads: a command must not write a file that breaks every later command.
fn assert_still_loads(project: &Project, args: &[&str]) {
    let written = project.retort(args);
    let heads = project.retort(&["heads"]);
    assert!(
        heads.starts_with("exit: 0\n"),
        "retort {args:?}:\n{written}\nthen `retort heads`:\n{heads}"
    );
}

#[test]
fn revision_with_one_label_twice() {
    let args = ["revision", "-m", "x", "--head", "g1"];
    let args = [&args[..], &["--branch-label", "x", "--branch-label", "x"]].concat();
    assert_still_loads(&Project::three_heads(), &args);
}

#[test]
fn revision_with_a_label_equal_to_its_id() {
    let args = [
        "revision",
        "-m",
        "x",
        "--head",
        "g1",
        "--rev-id",
        "foo",
        "--branch-label",
        "foo",
    ];
    assert_still_loads(&Project::three_heads(), &args);
}

#[test]
fn merge_with_a_label_equal_to_its_id() {
    let args = ["merge", "heads", "--rev-id", "foo", "--branch-label", "foo"];
    assert_still_loads(&Project::three_heads(), &args);
}
