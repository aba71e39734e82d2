//! Connection failures on the servers: refused, unknown host, credentials
//! the server rejects, a database that does not exist. Each is one line
//! naming the URL with its password masked, a hint saying what to check,
//! exit code 1 — and the password never appears. And connections that end
//! as the server expects.

use crate::db::{Kind, TestDb, dialect_tests, skip};
use crate::util::{Project, Rev};

dialect_tests! {
    connection_failures_are_one_line_without_the_password,
    sessions_end_with_a_goodbye,
}

/// Every connection a command opens is closed properly, the run lock's
/// too: a server logs a client that just disappears ("could not receive
/// data from client: Connection reset by peer"), and a deploy should not
/// leave a line in its log each time.
fn sessions_end_with_a_goodbye(db: &TestDb) {
    if db.kind() != Kind::Postgres {
        return skip(
            db,
            "only PostgreSQL counts abandoned sessions per database (MariaDB's Aborted_clients is server-wide, and the tests running beside this one move it)",
        );
    }
    let project = Project::new(db, vec![Rev::table("r01", &[], "t01")]);
    for args in [
        &["upgrade"][..],
        &["upgrade"],
        &["current"],
        &["status"],
        &["verify"],
        &["downgrade", "base"],
    ] {
        project.json(args).ok();
    }
    db.wait_for_other_sessions();
    let sessions = |column: &str| {
        db.rows(&format!(
            "SELECT {column} FROM pg_stat_database WHERE datname = current_database()"
        ))[0][0]
            .parse::<u64>()
            .unwrap()
    };
    assert!(sessions("sessions") >= 6, "the commands were not counted");
    assert_eq!(sessions("sessions_abandoned"), 0);
}

const PASSWORD: &str = "s3cret-Pw";

fn connection_failures_are_one_line_without_the_password(db: &TestDb) {
    let (scheme, user) = match db.kind() {
        Kind::Sqlite => return skip(db, "no server to connect to"),
        Kind::Postgres => ("postgres", "postgres"),
        Kind::Mariadb => ("mysql", "root"),
    };
    let url = retort::config::DatabaseUrl::parse(&db.url()).unwrap();
    let host = url.host().unwrap_or("127.0.0.1").to_owned();
    let port = url.port().unwrap_or(0);
    let database = url.database().unwrap_or_default().to_owned();
    // (URL, what the message says, what the hint says)
    let cases = [
        (
            format!("{scheme}://{user}:{PASSWORD}@127.0.0.1:1/{database}"),
            "refused",
            "is the server running",
        ),
        (
            format!("{scheme}://{user}:{PASSWORD}@no-such-host.invalid:{port}/{database}"),
            "",
            "the host name does not resolve",
        ),
        (
            match db.kind() {
                // Trust authentication accepts any password; an unknown
                // role is what it rejects.
                Kind::Postgres => {
                    format!("{scheme}://nobody_here:{PASSWORD}@{host}:{port}/{database}")
                }
                _ => format!("{scheme}://{user}:{PASSWORD}@{host}:{port}/{database}"),
            },
            "",
            "the server refused these credentials",
        ),
        (
            match db.kind() {
                Kind::Postgres => {
                    format!("{scheme}://{user}:{PASSWORD}@{host}:{port}/no_such_database_here")
                }
                // MariaDB checks the password first; use the test's account.
                _ => format!("{scheme}://{user}@{host}:{port}/no_such_database_here"),
            },
            "no_such_database_here",
            "create the database first",
        ),
    ];
    for (url, says, hint) in cases {
        let project = Project::with_url(&url, vec![Rev::table("r01", &[], "t01")]);
        let run = project.json(&["upgrade"]).code(1);
        assert_eq!(run.kind(), "connect", "{url}");
        let message = run.message();
        assert!(!message.contains('\n'), "one line: {message}");
        if url.contains(PASSWORD) {
            assert!(
                message.contains(":***@"),
                "the URL is shown masked: {message}"
            );
        }
        assert!(message.contains(says), "{url}: {message}");
        assert!(run.hint().contains(hint), "{url}: {}", run.hint());
        let text = project.text(&["status"]).code(1);
        for output in [&run.stdout, &run.stderr, &text.stdout, &text.stderr] {
            assert!(!output.contains(PASSWORD), "the password leaked: {output}");
        }
    }
}
