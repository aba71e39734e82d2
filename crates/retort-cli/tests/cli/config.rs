//! Finding the project: `--config PATH`, `-C DIR`, discovery from a nested
//! directory, and running outside any project.

use insta::assert_snapshot;

use crate::util::{Project, retort};

/// The quickstart project moved into `sub/` of the temporary directory.
fn project_in_sub() -> Project {
    let project = Project::quickstart();
    std::fs::create_dir(project.path("sub")).unwrap();
    for name in ["retort.toml", "schema.sql", "migrations"] {
        std::fs::rename(project.path(name), project.path(&format!("sub/{name}"))).unwrap();
    }
    project.mark_known();
    project
}

#[test]
fn config_in_a_subdirectory_from_the_parent() {
    let project = project_in_sub();
    // Without `--config` nothing is found: discovery looks up, not down.
    assert_snapshot!(project.retort(&["heads"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: cannot find `retort.toml` in `[TMP]` or any parent directory
    hint: run `retort init` to create one, or pass `--config PATH`
    ");
    // `--config` is relative to `-C`; paths print relative to it too.
    assert_snapshot!(
        "config_from_the_parent_with_dash_c",
        project.retort(&["--config", "sub/retort.toml", "heads", "--verbose"])
    );
    // The same without `-C`, from the parent itself.
    assert_snapshot!(
        "config_from_the_parent_without_dash_c",
        project.retort_from(
            "",
            &["heads", "--config", "sub/retort.toml", "--format", "json"]
        )
    );
}

#[test]
fn config_relative_to_the_starting_directory() {
    let project = project_in_sub();
    // From inside `sub/migrations`, `--config ../retort.toml`.
    assert_snapshot!(project.retort_from("sub/migrations", &["--config", "../retort.toml", "heads"]), @"
    exit: 0
    --- stdout
    758a03d802cf (auth) (head)
    --- stderr
    ");
    // `-C` applies first: `-C sub --config retort.toml` is `sub/retort.toml`.
    assert_snapshot!(
        "config_relative_to_dash_c",
        project.retort_from(
            "",
            &[
                "-C",
                "sub",
                "--config",
                "retort.toml",
                "show",
                "auth",
                "--format",
                "json"
            ]
        )
    );
}

#[test]
fn config_that_does_not_exist() {
    let project = Project::quickstart();
    assert_snapshot!(project.retort(&["--config", "nope.toml", "heads"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: cannot read `[TMP]/nope.toml`: No such file or directory (os error 2)
    hint: check the path; without `--config`, retort looks for `retort.toml` in the current directory and its parents
    ");
}

#[test]
fn discovery_from_a_nested_directory() {
    let project = Project::quickstart();
    std::fs::create_dir_all(project.path("migrations/deeper/still")).unwrap();
    // Paths are relative to the working directory when below it…
    assert_snapshot!(
        "discovery_paths_below_the_directory",
        project.retort_in("migrations", &["show", "auth"])
    );
    // …and absolute when not.
    assert_snapshot!(
        "discovery_paths_not_below_the_directory",
        project.retort_from("migrations/deeper/still", &["heads", "--format", "json"])
    );
}

#[test]
fn directory_that_does_not_exist() {
    let project = Project::empty();
    assert_snapshot!(project.retort_from("", &["-C", "nowhere", "heads"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: cannot change to directory `nowhere`: No such file or directory (os error 2)
    ");
    assert_snapshot!(project.retort_from("", &["-C", "nowhere", "heads", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "usage",
        "message": "cannot change to directory `nowhere`: No such file or directory (os error 2)",
        "hint": null
      }
    }
    --- stderr
    "#);
}

#[test]
fn outside_any_project() {
    let dir = tempfile::tempdir().unwrap();
    assert_snapshot!(retort(dir.path(), &["history"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: cannot find `retort.toml` in `[TMP]` or any parent directory
    hint: run `retort init` to create one, or pass `--config PATH`
    ");
    assert_snapshot!(retort(dir.path(), &["heads", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "config_not_found",
        "message": "cannot find `retort.toml` in `[TMP]` or any parent directory",
        "hint": "run `retort init` to create one, or pass `--config PATH`"
      }
    }
    --- stderr
    "#);
}
