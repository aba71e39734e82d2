//! Connection failures on the servers: refused, unknown host, credentials
//! the server rejects, a database that does not exist. Each is one line
//! naming the URL with its password masked, a hint saying what to check,
//! exit code 1 — and the password never appears.

use crate::db::{Kind, TestDb, dialect_tests, skip};
use crate::util::{Project, Rev};

dialect_tests! {
    connection_failures_are_one_line_without_the_password,
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
