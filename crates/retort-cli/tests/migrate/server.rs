//! What retort finds out about the server when it connects, in `status`
//! and `current`; the URL's `server` parameter and `database.server`
//! overriding it; `--max-replica-lag` where replicas cannot be measured.
//! (A hot standby and the replica wait are in `replicas`.)

use serde_json::{Value, json};

use crate::db::{Kind, TestDb, dialect_tests};
use crate::lease::with_params;
use crate::util::{Project, Rev, journal, linear, user_tables};

dialect_tests! {
    detected_facts_in_status_and_current,
    a_setting_overrides_detection,
    max_replica_lag_where_replicas_cannot_be_measured,
}

/// `name::postgres` only: the kinds that commit DDL implicitly on
/// PostgreSQL's wire are CockroachDB's and YugabyteDB's.
mod ddl_commits_where_the_server_says_so {
    #[test]
    fn postgres() {
        crate::db::run(
            super::ddl_commits_where_the_server_says_so,
            crate::db::Kind::Postgres,
        );
    }
}

/// The product and dialect each test server is.
fn expected(db: &TestDb) -> (&'static str, &'static str) {
    match db.kind() {
        Kind::Sqlite => ("sqlite", "SQLite"),
        Kind::Postgres => ("postgres", "PostgreSQL"),
        Kind::Mariadb => ("mysql", "MariaDB"),
    }
}

/// A plain server: its product and release, `plain`, detected, neither a
/// standby nor Galera; the same object in `current` and `status`, and a
/// `server:` line in `status`.
fn detected_facts_in_status_and_current(db: &TestDb) {
    let project = Project::new(db, linear(1));
    let status = project.json(&["status"]).ok();
    let server = &status.doc()["server"];
    let (dialect, product) = expected(db);
    let version = server["version"].as_str().unwrap().to_owned();
    assert!(
        version.starts_with(|c: char| c.is_ascii_digit()),
        "{server}"
    );
    let mariadb = db.kind() == Kind::Mariadb;
    assert_eq!(
        server,
        &json!({
            "dialect": dialect,
            "product": product,
            "version": version,
            "kind": "plain",
            "detected": "plain",
            "set_by": "detected",
            "standby": false,
            "citus": null,
            "galera": null,
            "needs_lease_lock": false,
            "ddl_commits_implicitly": mariadb,
        })
    );
    assert_eq!(&project.json(&["current"]).ok().doc()["server"], server);
    let text = project.text(&["status"]).ok();
    assert!(
        text.stdout
            .lines()
            .any(|line| line == format!("server:   {product} {version}")),
        "{}",
        text.transcript()
    );
}

/// `?server=` in the URL and `database.server` in retort.toml set the
/// kind (the URL's wins); one that does not fit the dialect is a usage
/// error before anything connects.
fn a_setting_overrides_detection(db: &TestDb) {
    let mut project = Project::new(db, linear(1));
    let (kind, other, title) = match db.kind() {
        Kind::Sqlite => ("plain", "galera", "plain SQLite"),
        Kind::Postgres => ("cockroachdb", "galera", "CockroachDB"),
        Kind::Mariadb => ("galera", "citus", "Galera"),
    };
    let server =
        |project: &Project| -> Value { project.json(&["status"]).ok().doc()["server"].clone() };

    // retort.toml.
    project.write(
        "retort.toml",
        &format!("[database]\nserver = \"{kind}\"\n\n[migrations]\ndirs = [\"migrations\"]\n"),
    );
    let found = server(&project);
    assert_eq!(
        (&found["kind"], &found["detected"], &found["set_by"]),
        (&json!(kind), &json!("plain"), &json!("config"))
    );
    let text = project.text(&["status"]).ok();
    assert!(
        text.stdout.contains(&format!(
            "; taken for {title} by `database.server` in retort.toml (detected: plain)\n"
        )),
        "{}",
        text.transcript()
    );

    // A kind of another dialect: refused before connecting.
    project.write(
        "retort.toml",
        &format!("[database]\nserver = \"{other}\"\n\n[migrations]\ndirs = [\"migrations\"]\n"),
    );
    let run = project.json(&["status"]).code(2);
    assert_eq!(run.kind(), "config_invalid", "{}", run.transcript());
    assert!(
        run.message().contains("invalid `database.server` in `"),
        "{}",
        run.message()
    );
    assert!(
        run.message().contains(&format!("`{other}` is a")),
        "{}",
        run.message()
    );

    if db.kind() == Kind::Sqlite {
        // A SQLite URL takes no `server`.
        project.set_url(&with_params(&db.url(), "server=plain"));
        assert_eq!(project.json(&["status"]).code(2).kind(), "url");
        return;
    }
    // The URL's parameter, over retort.toml's.
    project.set_url(&with_params(&db.url(), &format!("server={kind}")));
    let found = server(&project);
    assert_eq!(
        (&found["kind"], &found["detected"], &found["set_by"]),
        (&json!(kind), &json!("plain"), &json!("url"))
    );
    assert_eq!(found["needs_lease_lock"], json!(true));
    assert_eq!(found["ddl_commits_implicitly"], json!(true));
    project.set_url(&with_params(&db.url(), "server=plain"));
    assert_eq!(server(&project)["set_by"], json!("url"));
    if db.kind() == Kind::Postgres {
        // Also where the version table has a schema of its own, which
        // connects another way.
        project.write(
            "retort.toml",
            "[migrations]\ndirs = [\"migrations\"]\nversion_table_schema = \"public\"\n",
        );
        project.set_url(&with_params(&db.url(), &format!("server={kind}")));
        assert_eq!(server(&project)["kind"], json!(kind));
        assert_eq!(server(&project)["set_by"], json!("url"));
        project.write("retort.toml", "[migrations]\ndirs = [\"migrations\"]\n");
    }
    project.set_url(&with_params(&db.url(), &format!("server={other}")));
    let run = project.json(&["status"]).code(2);
    assert_eq!(run.kind(), "url", "{}", run.transcript());
    assert!(
        run.message().contains(&format!("`{other}` is a")),
        "{}",
        run.message()
    );
}

/// `--max-replica-lag` needs a server that reports its replicas:
/// refused before anything runs on SQLite and on a MariaDB primary
/// outside Galera; on a PostgreSQL primary without standbys there is
/// nothing to wait for. A bad duration is a usage error.
fn max_replica_lag_where_replicas_cannot_be_measured(db: &TestDb) {
    let project = Project::new(db, linear(2));
    let run = project.json(&["upgrade", "--max-replica-lag", "5s"]);
    if db.kind() == Kind::Postgres {
        run.ok();
        assert_eq!(
            project.json(&["current"]).ok().doc()["current"],
            json!(["r02"])
        );
    } else {
        let run = run.code(2);
        assert_eq!(run.kind(), "replica_lag_unknown", "{}", run.transcript());
        assert!(
            run.message()
                .starts_with("`--max-replica-lag` cannot measure the replicas of "),
            "{}",
            run.message()
        );
        assert_eq!(project.json(&["current"]).ok().doc()["heads"], json!([]));
    }
    let run = project
        .text(&["upgrade", "--max-replica-lag", "5h"])
        .code(2);
    assert!(
        run.stderr.contains("unknown unit `h`"),
        "{}",
        run.transcript()
    );
}

/// A server taken for one whose DDL commits the transaction it runs in
/// (CockroachDB; the URL's `server` parameter stands for detection here)
/// runs each statement that changes the schema alone, recorded in the
/// journal, as on MySQL: a migration failing half way leaves what
/// committed, which `status` explains and `resume` finishes. On the plain
/// server the same failure leaves nothing. `--sql` writes the same split.
fn ddl_commits_where_the_server_says_so(db: &TestDb) {
    let mut rev = Rev::merge("r01", &[], "two tables");
    rev.upgrade = "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n\
                   CREATE TABLE b (id int);\nINSERT INTO b VALUES (no_such_column);\n"
        .to_owned();
    rev.downgrade = Some("DROP TABLE b;\nDROP TABLE a;\n".to_owned());
    let mut project = Project::new(db, vec![rev.clone()]);

    let run = project.json(&["upgrade"]).code(1);
    assert_eq!(run.kind(), "statement_failed", "{}", run.transcript());
    assert_eq!(user_tables(db), Vec::<String>::new());
    assert_eq!(journal(db), Vec::<Vec<String>>::new());

    project.set_url(&with_params(&db.url(), "server=cockroachdb"));
    let sql = project.text(&["upgrade", "--sql"]).ok().stdout;
    let alone: Vec<&str> = sql
        .lines()
        .filter(|l| l.ends_with("runs outside a transaction (it commits implicitly)"))
        .collect();
    assert_eq!(
        alone,
        [
            "-- line 5: runs outside a transaction (it commits implicitly)",
            "-- line 7: runs outside a transaction (it commits implicitly)",
        ],
        "{sql}"
    );

    let run = project.json(&["upgrade"]).code(1);
    assert_eq!(run.kind(), "statement_failed", "{}", run.transcript());
    assert_eq!(user_tables(db), ["a", "b"]);
    assert_eq!(db.rows("SELECT id FROM a"), [["1"]]);
    let done = |i: &str| vec!["r01".to_owned(), i.to_owned(), "done".to_owned()];
    assert_eq!(journal(db), [done("0"), done("1"), done("2")]);
    let status = project.json(&["status"]).code(3);
    let interrupted = &status.doc()["interrupted"];
    assert_eq!(
        (&interrupted["completed"], &interrupted["next"]["line"]),
        (&json!(3), &json!(8)),
        "{}",
        status.transcript()
    );

    rev.upgrade = rev.upgrade.replace("VALUES (no_such_column)", "VALUES (2)");
    project.write(&project.file_name("r01"), &rev.text());
    project.json(&["resume"]).ok();
    assert_eq!(journal(db), Vec::<Vec<String>>::new());
    assert_eq!(db.rows("SELECT id FROM b"), [["2"]]);
    assert_eq!(
        project.json(&["current"]).ok().doc()["current"],
        json!(["r01"])
    );
}
