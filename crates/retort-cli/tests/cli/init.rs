//! `init`, and a new project's first revisions.

use insta::assert_snapshot;

use crate::util::Project;

#[test]
fn init_in_an_empty_directory() {
    let project = Project::empty();
    assert_snapshot!(project.retort(&["init"]), @r#"
    exit: 0
    --- stdout
    created retort.toml
    created migrations
    created migrations/script.sql.tmpl
    created schema.sql
    next: edit retort.toml, then `retort revision -m "first revision"`
    --- stderr
    "#);
    assert_eq!(
        project.list(""),
        ["migrations", "retort.toml", "schema.sql"]
    );
    assert_eq!(project.list("migrations"), ["script.sql.tmpl"]);
    assert_snapshot!(project.read("migrations/script.sql.tmpl"), @r"
    {{header}}

    -- retort:upgrade
    {{upgrade}}

    -- retort:downgrade
    {{downgrade}}
    ");
    assert_snapshot!("init_sqlite_config", project.read("retort.toml"));
    // The new project loads: no revisions yet.
    assert_snapshot!(project.retort(&["heads"]), @r"
    exit: 0
    --- stdout
    --- stderr
    ");
}

#[test]
fn init_json() {
    let project = Project::empty();
    assert_snapshot!(project.retort(&["init", "--dialect", "mysql", "--format", "json"]), @r#"
    exit: 0
    --- stdout
    {
      "created": [
        "retort.toml",
        "migrations",
        "migrations/script.sql.tmpl",
        "schema.sql"
      ],
      "dialect": "mysql"
    }
    --- stderr
    "#);
}

#[test]
fn init_again_overwrites_nothing() {
    let project = Project::empty();
    assert!(project.retort(&["init"]).starts_with("exit: 0\n"));
    project.write(
        "retort.toml",
        "# edited\n[migrations]\ndirs = [\"migrations\"]\n",
    );
    project.write("schema.sql", "CREATE TABLE kept (id int);\n");
    let template = project.read("migrations/script.sql.tmpl");
    assert_snapshot!(project.retort(&["init"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `./retort.toml` already exists; `retort init` does not overwrite a project
    hint: run `retort init` in an empty directory, or edit the existing project
    ");
    assert_snapshot!(project.retort(&["init", "--format", "json"]), @r#"
    exit: 2
    --- stdout
    {
      "error": {
        "kind": "already_initialized",
        "message": "`./retort.toml` already exists; `retort init` does not overwrite a project",
        "hint": "run `retort init` in an empty directory, or edit the existing project"
      }
    }
    --- stderr
    "#);
    assert_eq!(
        project.read("retort.toml"),
        "# edited\n[migrations]\ndirs = [\"migrations\"]\n"
    );
    assert_eq!(project.read("schema.sql"), "CREATE TABLE kept (id int);\n");
    assert_eq!(project.read("migrations/script.sql.tmpl"), template);
    assert_eq!(
        project.list(""),
        ["migrations", "retort.toml", "schema.sql"]
    );
}

#[test]
fn init_refuses_a_used_migrations_directory() {
    let project = Project::empty();
    project.write(
        "migrations/0001_a.sql",
        "-- retort:revision a\n-- retort:upgrade\n",
    );
    assert_snapshot!(project.retort(&["init"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `./migrations` already exists; `retort init` does not overwrite a project
    hint: run `retort init` in an empty directory, or edit the existing project
    ");
    assert_eq!(project.list(""), ["migrations"]);
    assert_eq!(project.list("migrations"), ["0001_a.sql"]);
}

#[test]
fn init_refuses_an_existing_schema() {
    let project = Project::empty();
    project.write("schema.sql", "-- mine\n");
    assert_snapshot!(project.retort(&["init"]), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `./schema.sql` already exists; `retort init` does not overwrite a project
    hint: run `retort init` in an empty directory, or edit the existing project
    ");
    assert_eq!(project.list(""), ["schema.sql"]);
    assert_eq!(project.read("schema.sql"), "-- mine\n");
}

#[test]
fn init_a_subdirectory_then_write_revisions() {
    let project = Project::empty();
    assert_snapshot!(project.retort(&["init", "sub", "--dialect", "postgres"]), @r#"
    exit: 0
    --- stdout
    created sub/retort.toml
    created sub/migrations
    created sub/migrations/script.sql.tmpl
    created sub/schema.sql
    next: edit retort.toml, then `retort revision -m "first revision"`
    --- stderr
    "#);
    assert!(
        project
            .read("sub/retort.toml")
            .contains("url = \"postgres://")
    );
    // An empty project has an empty history.
    assert_snapshot!(project.retort_in("sub", &["history"]), @r"
    exit: 0
    --- stdout
    --- stderr
    ");
    assert_snapshot!(project.retort_in("sub", &["history", "--format", "json"]), @r"
    exit: 0
    --- stdout
    []
    --- stderr
    ");
    // The first revision is a base; its path is printed relative to `-C`.
    assert_snapshot!(project.retort_in("sub", &["revision", "-m", "first revision"]), @r"
    exit: 0
    --- stdout
    migrations/[DATE]_[TIME]_[ID1]_first_revision.sql
    --- stderr
    ");
    let first = project.new_file("_first_revision.sql");
    assert!(first.starts_with("sub/migrations/"), "{first}");
    assert_snapshot!(project.read_normalised(&first), @r"
    -- retort:revision [ID1]
    -- retort:message first revision
    -- retort:created [CREATED]

    -- retort:upgrade

    -- retort:downgrade
    ");
    assert_snapshot!(project.retort_in("sub", &["show", "head"]), @r"
    exit: 0
    --- stdout
    Rev: [ID1] (head)
    Parent: <base>
    Path: migrations/[DATE]_[TIME]_[ID1]_first_revision.sql

        first revision

        Revision ID: [ID1]
        Revises: 
        Create Date: [CREATED]
    --- stderr
    ");
    // The second revises the first.
    assert_snapshot!(project.retort_in("sub", &["revision", "-m", "second", "--format", "json"]), @r#"
    exit: 0
    --- stdout
    {
      "revision": "[ID2]",
      "revises": [
        "[ID1]"
      ],
      "message": "second",
      "branch_labels": [],
      "depends_on": [],
      "path": "migrations/[DATE]_[TIME]_[ID2]_second.sql",
      "created": "[CREATED]"
    }
    --- stderr
    "#);
    assert_snapshot!(project.retort_in("sub", &["history"]), @r"
    exit: 0
    --- stdout
    [ID1] -> [ID2] (head), second
    <base> -> [ID1], first revision
    --- stderr
    ");
}
