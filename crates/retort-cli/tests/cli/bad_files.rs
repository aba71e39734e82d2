//! Projects that do not load: each error names the file (and line), exits 2,
//! and has a stable JSON kind.

use insta::assert_snapshot;

use crate::util::Project;

const A1: &str = "-- retort:revision a1\n-- retort:message first\n\n-- retort:upgrade\nSELECT 1;\n";

#[test]
fn unknown_directive() {
    let project = Project::with_revisions(&[
        ("1_a1.sql", A1),
        (
            "2_b2.sql",
            "-- retort:revision b2\n-- retort:revises a1\n-- retort:mesage typo\n-- retort:upgrade\n",
        ),
    ]);
    assert_snapshot!(project.retort(&["history"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: [TMP]/migrations/2_b2.sql:3: unknown directive `-- retort:mesage` (did you mean `-- retort:message`?)
    hint: known directives: `revision`, `revises`, `message`, `created`, `branch-labels`, `depends-on`, `transaction`, `review`, `code`, `upgrade`, `downgrade`
    ");
    assert_snapshot!(project.retort(&["history", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "bad_revision_file",
        "message": "[TMP]/migrations/2_b2.sql:3: unknown directive `-- retort:mesage` (did you mean `-- retort:message`?)",
        "hint": "known directives: `revision`, `revises`, `message`, `created`, `branch-labels`, `depends-on`, `transaction`, `review`, `code`, `upgrade`, `downgrade`"
      }
    }
    --- stderr
    "#);
}

#[test]
fn one_bad_file_stops_every_command() {
    let project = Project::with_revisions(&[
        ("1_a1.sql", A1),
        (
            "2_b2.sql",
            "-- retort:revision b2\nSELECT 1;\n-- retort:upgrade\n",
        ),
    ]);
    let expected = "exit: 2
--- stdout
--- stderr
error: [TMP]/migrations/2_b2.sql:2: SQL before `-- retort:upgrade`: the header holds only comments
hint: move the SQL below `-- retort:upgrade`, or comment it out with `--`
";
    for args in [
        &["heads"][..],
        &["branches"],
        &["show", "a1"],
        &["revision", "-m", "x"],
        &["merge", "heads"],
    ] {
        assert_eq!(project.retort(args), expected, "retort {args:?}");
    }
    assert_eq!(project.list("migrations"), ["1_a1.sql", "2_b2.sql"]);
}

#[test]
fn missing_upgrade_section() {
    let project = Project::with_revisions(&[("a1.sql", "-- retort:revision a1\nSELECT 1;\n")]);
    // The SQL in the header is reported first, on its line.
    assert_snapshot!(project.retort(&["heads"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: [TMP]/migrations/a1.sql:2: SQL before `-- retort:upgrade`: the header holds only comments
    hint: move the SQL below `-- retort:upgrade`, or comment it out with `--`
    ");
    project.write(
        "migrations/a1.sql",
        "-- retort:revision a1\n-- only a comment\n",
    );
    assert_snapshot!(project.retort(&["heads"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: [TMP]/migrations/a1.sql: missing `-- retort:upgrade` section
    hint: add a line `-- retort:upgrade` before the upgrade SQL
    ");
}

#[test]
fn duplicate_revision_id() {
    let project = Project::with_revisions(&[
        ("1_a1.sql", A1),
        (
            "2_copy.sql",
            "-- retort:revision a1\n-- retort:message copy\n-- retort:upgrade\n",
        ),
    ]);
    assert_snapshot!(project.retort(&["heads"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: revision `a1` is defined twice: in `[TMP]/migrations/1_a1.sql` and in `[TMP]/migrations/2_copy.sql`
    hint: give one of the files a new id in its `-- retort:revision` line and update the `-- retort:revises` lines that point to it
    ");
    assert_snapshot!(project.retort(&["heads", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "duplicate_revision",
        "message": "revision `a1` is defined twice: in `[TMP]/migrations/1_a1.sql` and in `[TMP]/migrations/2_copy.sql`",
        "hint": "give one of the files a new id in its `-- retort:revision` line and update the `-- retort:revises` lines that point to it"
      }
    }
    --- stderr
    "#);
}

#[test]
fn duplicate_branch_label() {
    let project = Project::with_revisions(&[
        (
            "1_a1.sql",
            "-- retort:revision a1\n-- retort:branch-labels main\n-- retort:upgrade\n",
        ),
        (
            "2_b2.sql",
            "-- retort:revision b2\n-- retort:revises a1\n-- retort:branch-labels main\n-- retort:upgrade\n",
        ),
    ]);
    assert_snapshot!(project.retort(&["heads", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "duplicate_branch_label",
        "message": "branch label `main` of revision `b2` is already used by revision `a1`",
        "hint": "branch labels and revision ids share one namespace; rename the label"
      }
    }
    --- stderr
    "#);
}

#[test]
fn missing_parent() {
    let project = Project::with_revisions(&[
        ("1_a1.sql", A1),
        (
            "2_b2.sql",
            "-- retort:revision b2\n-- retort:revises a1 zz9\n-- retort:upgrade\n",
        ),
    ]);
    assert_snapshot!(project.retort(&["history"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: revision `b2` (`[TMP]/migrations/2_b2.sql`) revises `zz9`, which no revision file defines
    hint: check `migrations.dirs` in retort.toml lists every directory, or fix the `-- retort:revises` line
    ");
    assert_snapshot!(project.retort(&["history", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "missing_parent",
        "message": "revision `b2` (`[TMP]/migrations/2_b2.sql`) revises `zz9`, which no revision file defines",
        "hint": "check `migrations.dirs` in retort.toml lists every directory, or fix the `-- retort:revises` line"
      }
    }
    --- stderr
    "#);
}

#[test]
fn missing_dependency() {
    let project = Project::with_revisions(&[
        ("1_a1.sql", A1),
        (
            "2_b2.sql",
            "-- retort:revision b2\n-- retort:depends-on nolabel\n-- retort:upgrade\n",
        ),
    ]);
    assert_snapshot!(project.retort(&["heads"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: revision `b2` (`[TMP]/migrations/2_b2.sql`) depends on `nolabel`, which is neither a revision nor a branch label
    hint: fix the `-- retort:depends-on` line, or add the missing revision
    ");
}

#[test]
fn cycle_through_parents() {
    // a1 revises c3, b2 revises a1, c3 revises b2.
    let project = Project::with_revisions(&[
        (
            "1_a1.sql",
            "-- retort:revision a1\n-- retort:revises c3\n-- retort:upgrade\n",
        ),
        (
            "2_b2.sql",
            "-- retort:revision b2\n-- retort:revises a1\n-- retort:upgrade\n",
        ),
        (
            "3_c3.sql",
            "-- retort:revision c3\n-- retort:revises b2\n-- retort:upgrade\n",
        ),
    ]);
    assert_snapshot!(project.retort(&["history"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: revisions form a cycle: a1 -> c3 -> b2 -> a1
    hint: a revision must not revise or depend on one of its descendants; fix the `-- retort:revises` or `-- retort:depends-on` lines
    ");
    assert_snapshot!(project.retort(&["history", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "cycle",
        "message": "revisions form a cycle: a1 -> c3 -> b2 -> a1",
        "hint": "a revision must not revise or depend on one of its descendants; fix the `-- retort:revises` or `-- retort:depends-on` lines"
      }
    }
    --- stderr
    "#);
}

#[test]
fn cycle_through_a_dependency() {
    // b2 revises a1 and depends on c3, which revises b2.
    let project = Project::with_revisions(&[
        ("1_a1.sql", A1),
        (
            "2_b2.sql",
            "-- retort:revision b2\n-- retort:revises a1\n-- retort:depends-on c3\n-- retort:upgrade\n",
        ),
        (
            "3_c3.sql",
            "-- retort:revision c3\n-- retort:revises b2\n-- retort:upgrade\n",
        ),
    ]);
    assert_snapshot!(project.retort(&["heads"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: revisions form a cycle: b2 -> c3 -> b2
    hint: a revision must not revise or depend on one of its descendants; fix the `-- retort:revises` or `-- retort:depends-on` lines
    ");
}

#[test]
fn revision_that_revises_itself() {
    let project = Project::with_revisions(&[(
        "a1.sql",
        "-- retort:revision a1\n-- retort:message me\n-- retort:revises a1\n-- retort:upgrade\n",
    )]);
    assert_snapshot!(project.retort(&["heads", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "bad_revision_file",
        "message": "[TMP]/migrations/a1.sql:3: revision `a1` revises itself",
        "hint": "a revision revises its parents: fix the `-- retort:revises` line (`retort history` lists the revisions)"
      }
    }
    --- stderr
    "#);
}

#[test]
fn files_that_are_not_revisions_are_ignored() {
    // Only `*.sql` directly in the directory: not subdirectories, not hidden
    // files, not other extensions.
    let project = Project::with_revisions(&[("1_a1.sql", A1)]);
    project.write("migrations/.hidden.sql", "garbage\n");
    project.write("migrations/old/2_x.sql", "garbage\n");
    project.write("migrations/notes.txt", "garbage\n");
    assert_snapshot!(project.retort(&["history"]), @r"
    exit: 0
    --- stdout
    <base> -> a1 (head), first
    --- stderr
    ");
}

#[test]
fn bom_and_crlf_are_accepted() {
    let project = Project::with_revisions(&[(
        "1_a1.sql",
        "\u{feff}-- retort:revision a1\r\n-- retort:message with crlf\r\n-- retort:upgrade\r\nSELECT 1;\r\n",
    )]);
    assert_snapshot!(project.retort(&["history"]), @r"
    exit: 0
    --- stdout
    <base> -> a1 (head), with crlf
    --- stderr
    ");
}

#[test]
fn missing_migrations_directory() {
    let project = Project::empty();
    project.write("retort.toml", crate::util::CONFIG);
    assert_snapshot!(project.retort(&["history", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "missing_migrations_dir",
        "message": "migrations directory `[TMP]/migrations` does not exist",
        "hint": "create the directory, or fix `migrations.dirs` in retort.toml"
      }
    }
    --- stderr
    "#);
}

#[cfg(unix)]
#[test]
fn symlinked_files_are_followed() {
    // Teams share revisions between projects by linking them: a link to a
    // file is a revision file, a link to a directory is a directory (not
    // read), and a dangling link is an error that names it.
    use std::os::unix::fs::symlink;
    let project = Project::with_revisions(&[("1_a1.sql", A1)]);
    project.write(
        "shared/2_b1.sql",
        "-- retort:revision b1\n-- retort:revises a1\n-- retort:message linked\n-- retort:upgrade\nSELECT 1;\n",
    );
    project.write("shared/dir.sql/3_x.sql", "garbage\n");
    symlink(
        project.path("shared/2_b1.sql"),
        project.path("migrations/2_b1.sql"),
    )
    .unwrap();
    symlink(
        project.path("shared/dir.sql"),
        project.path("migrations/dir.sql"),
    )
    .unwrap();
    assert_snapshot!(project.retort(&["history"]), @"
    exit: 0
    --- stdout
    a1 -> b1 (head), linked
    <base> -> a1, first
    --- stderr
    ");
    symlink(
        project.path("shared/gone.sql"),
        project.path("migrations/4_gone.sql"),
    )
    .unwrap();
    assert_snapshot!(project.retort(&["history"]), @"
    exit: 1
    --- stdout
    --- stderr
    error: cannot read `[TMP]/migrations/4_gone.sql`: No such file or directory (os error 2)
    hint: check the path, and that this user may read and write there
    ");
}
