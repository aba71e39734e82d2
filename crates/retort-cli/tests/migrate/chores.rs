//! Environments (`[environments.NAME]`, `--env`, `RETORT_ENV`) and the
//! chores: `info`, `create`, `drop` and `reset`. A protected environment
//! refuses `reset` and `drop` with exit 2 and changes nothing, `--yes`
//! or not; every error names the environment in use.

use serde_json::json;

use crate::db::{Kind, TestDb, dialect_tests, unique_name};
use crate::util::{Project, linear, user_tables, version_rows};

dialect_tests! {
    an_environment_chooses_the_database,
    info_shows_the_database_in_one_view,
    a_protected_environment_refuses_reset_and_drop,
    reset_empties_the_database_and_upgrades_it,
    create_and_drop_the_configured_database,
}

/// retort.toml with the environments `staging` (the test database) and
/// `production` (the same, protected).
fn with_environments(project: &Project, db: &TestDb) {
    project.write(
        "retort.toml",
        &format!(
            "[migrations]\ndirs = [\"migrations\"]\n\n\
             [environments.staging]\nurl = \"{url}\"\n\n\
             [environments.production]\nurl = \"{url}\"\nprotected = true\n",
            url = db.url()
        ),
    );
}

/// `retort` without `--url`, so that the environment decides.
fn run_in(project: &Project, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(crate::util::retort_bin());
    command
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .env_remove("RETORT_ENV")
        .arg("-C")
        .arg(project.root())
        .args(args);
    command.output().unwrap()
}

fn code(output: &std::process::Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn stdout_json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// `--env` and `RETORT_ENV` choose the environment, whose URL wins over an
/// ambient `DATABASE_URL`; an unknown name is refused, naming those there
/// are.
fn an_environment_chooses_the_database(db: &TestDb) {
    let project = Project::new(db, linear(2));
    with_environments(&project, db);
    let elsewhere = tempfile::tempdir().unwrap();
    let decoy = format!("sqlite:///{}", elsewhere.path().join("decoy.db").display());
    let output = std::process::Command::new(crate::util::retort_bin())
        .env("DATABASE_URL", &decoy)
        .env_remove("RETORT_ENV")
        .arg("-C")
        .arg(project.root())
        .args(["--env", "staging", "upgrade"])
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{output:?}");
    assert_eq!(version_rows(db), ["r02"]);
    assert!(!elsewhere.path().join("decoy.db").exists());

    let output = std::process::Command::new(crate::util::retort_bin())
        .env_remove("DATABASE_URL")
        .env("RETORT_ENV", "staging")
        .arg("-C")
        .arg(project.root())
        .args(["--format", "json", "current"])
        .output()
        .unwrap();
    assert_eq!(stdout_json(&output)["heads"], json!(["r02"]));

    let output = run_in(&project, &["--env", "prod", "--format", "json", "status"]);
    assert_eq!(code(&output), 2);
    let error = &stdout_json(&output)["error"];
    assert_eq!(error["kind"], "unknown_environment");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .ends_with("its environments are `production`, `staging`"),
        "{error}"
    );
    assert_eq!(
        error["hint"],
        "did you mean `--env production`? (`RETORT_ENV` chooses one too)"
    );
}

fn info_shows_the_database_in_one_view(db: &TestDb) {
    let project = Project::new(db, linear(3));
    with_environments(&project, db);
    assert_eq!(
        code(&run_in(&project, &["--env", "staging", "upgrade", "r02"])),
        0
    );
    let output = run_in(&project, &["--env", "staging", "--format", "json", "info"]);
    assert_eq!(code(&output), 0, "{output:?}");
    let info = stdout_json(&output);
    assert_eq!(
        info["environment"],
        json!({"name": "staging", "protected": false})
    );
    assert_eq!(info["current"], json!(["r02"]));
    assert_eq!(info["heads"], json!(["r03"]));
    assert_eq!(info["pending"], json!(1));
    assert_eq!(info["interrupted"], json!(null));
    assert_eq!(info["changed"], json!([]));
    let applied: Vec<&str> = info["last_applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["revision"].as_str().unwrap())
        .collect();
    assert_eq!(applied.len(), 2, "{info:#}");
    assert!(applied.contains(&"r01") && applied.contains(&"r02"));
    assert_eq!(info["last_applied"][0]["operation"], "upgrade");
    assert!(
        info["size_bytes"].as_u64().is_some_and(|s| s > 0),
        "{info:#}"
    );
    assert!(!info["url"].as_str().unwrap().contains("secret"));

    let text = run_in(&project, &["--env", "staging", "info"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.starts_with("environment: staging\n"), "{text}");
    assert!(text.contains("pending:     1\n"), "{text}");
}

/// `reset --yes` and `drop --yes` in a protected environment: exit 2, the
/// environment named, every row where it was.
fn a_protected_environment_refuses_reset_and_drop(db: &TestDb) {
    let project = Project::new(db, linear(2));
    with_environments(&project, db);
    assert_eq!(code(&run_in(&project, &["--env", "staging", "upgrade"])), 0);
    let tables = user_tables(db);
    let rows = db.rows("SELECT COUNT(*) FROM t01");
    for command in [vec!["reset", "--yes"], vec!["drop", "--yes"], vec!["reset"]] {
        let mut args = vec!["--env", "production"];
        args.extend(&command);
        let output = run_in(&project, &args);
        assert_eq!(code(&output), 2, "{command:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!(
                "`retort {}` is refused in the protected environment `production`: nothing was changed",
                command[0]
            )),
            "{stderr}"
        );
        assert!(stderr.ends_with("environment: production\n"), "{stderr}");
        let mut json_args = args.clone();
        json_args.extend(["--format", "json"]);
        let error = stdout_json(&run_in(&project, &json_args));
        assert_eq!(error["error"]["kind"], "protected_environment");
        assert_eq!(error["error"]["environment"], "production");
    }
    assert_eq!(user_tables(db), tables);
    assert_eq!(db.rows("SELECT COUNT(*) FROM t01"), rows);
    assert_eq!(version_rows(db), ["r02"]);
}

/// Objects the migrations did not make go too; the database ends at head,
/// with each migration's rows once.
fn reset_empties_the_database_and_upgrades_it(db: &TestDb) {
    let project = Project::new(db, linear(2));
    with_environments(&project, db);
    assert_eq!(code(&run_in(&project, &["--env", "staging", "upgrade"])), 0);
    db.exec("CREATE TABLE stray (id INTEGER PRIMARY KEY)");
    db.exec("INSERT INTO t01 (id, name) VALUES (99, 'extra')");
    let refused = run_in(&project, &["--env", "staging", "reset"]);
    assert_eq!(code(&refused), 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("`retort reset --yes`"));
    assert!(user_tables(db).contains(&"stray".to_owned()));

    let output = run_in(
        &project,
        &["--env", "staging", "--format", "json", "reset", "--yes"],
    );
    assert_eq!(code(&output), 0, "{output:?}");
    assert_eq!(stdout_json(&output)["heads"], json!(["r02"]));
    assert_eq!(user_tables(db), ["t01", "t02"]);
    assert_eq!(db.rows("SELECT COUNT(*) FROM t01"), [["3"]]);
    assert_eq!(version_rows(db), ["r02"]);
}

/// A database of its own beside the test's: created, created again (left
/// as it is), refused without `--yes`, dropped, dropped again.
fn create_and_drop_the_configured_database(db: &TestDb) {
    let name = match db.kind() {
        Kind::Sqlite => "created.db".to_owned(),
        _ => unique_name(),
    };
    let url = match db.kind() {
        Kind::Sqlite => {
            let file = db.file().unwrap().with_file_name(&name);
            format!("sqlite:///{}", file.display())
        }
        _ => {
            let parsed = retort::config::DatabaseUrl::parse(&db.url()).unwrap();
            parsed.with_database(&name).expose_secret().to_owned()
        }
    };
    let mut project = Project::new(db, linear(1));
    project.set_url(&url);
    let exists = || {
        let parsed = retort::config::DatabaseUrl::parse(&url).unwrap();
        retort::db::admin(&parsed)
            .unwrap()
            .database_exists(&name)
            .unwrap()
    };
    let created = project.json(&["create"]).ok();
    assert_eq!(created.doc(), &json!({"database": name, "changed": true}));
    assert!(exists());
    let again = project.json(&["create"]).ok();
    assert_eq!(again.doc()["changed"], json!(false));

    let refused = project.json(&["drop"]).code(2);
    assert_eq!(refused.kind(), "confirmation_required");
    assert!(exists());
    let dropped = project.json(&["drop", "--yes"]).ok();
    assert_eq!(dropped.doc(), &json!({"database": name, "changed": true}));
    assert!(!exists());
    let again = project.json(&["drop", "--yes"]).ok();
    assert_eq!(again.doc()["changed"], json!(false));
}
