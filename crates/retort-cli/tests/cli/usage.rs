//! Usage errors from argument parsing, in text and as JSON documents.

use insta::assert_snapshot;

use crate::util::Project;

#[test]
fn unknown_subcommand() {
    let project = Project::quickstart();
    assert_snapshot!(project.retort(&["bogus"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: unrecognized subcommand 'bogus'

    Usage: retort [OPTIONS] <COMMAND>

    For more information, try '--help'.
    ");
    assert_snapshot!(project.retort(&["--format", "json", "bogus"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "usage",
        "message": "unrecognized subcommand 'bogus'",
        "hint": "run `retort --help` for usage"
      }
    }
    --- stderr
    "#);
    assert_snapshot!(project.retort(&["bogus", "--format=json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "usage",
        "message": "unrecognized subcommand 'bogus'",
        "hint": "run `retort --help` for usage"
      }
    }
    --- stderr
    "#);
}

#[test]
fn unknown_option_json() {
    assert_snapshot!(Project::quickstart().retort(&["history", "--oneline", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "usage",
        "message": "unexpected argument '--oneline' found",
        "hint": "run `retort --help` for usage"
      }
    }
    --- stderr
    "#);
}

#[test]
fn missing_argument() {
    assert_snapshot!(Project::quickstart().retort(&["show"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: the following required arguments were not provided:
      <REV>

    Usage: retort show <REV>

    For more information, try '--help'.
    ");
}

#[test]
fn bad_format_value() {
    assert_snapshot!(Project::quickstart().retort(&["heads", "--format", "yaml"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: invalid value 'yaml' for '--format <FORMAT>'
      [possible values: text, json, dot]

    For more information, try '--help'.
    ");
}

#[test]
fn help_and_version_succeed() {
    let project = Project::quickstart();
    let help = project.retort(&["--help"]);
    assert!(help.starts_with("exit: 0\n--- stdout\n"), "{help}");
    for command in [
        "init", "revision", "merge", "history", "heads", "branches", "show",
    ] {
        assert!(
            help.contains(&format!("  {command} ")),
            "{command} in {help}"
        );
    }
    assert!(help.ends_with("--- stderr\n"), "{help}");
    let version = project.retort(&["--version"]);
    assert_eq!(
        version,
        format!(
            "exit: 0\n--- stdout\nretort {}\n--- stderr\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}
