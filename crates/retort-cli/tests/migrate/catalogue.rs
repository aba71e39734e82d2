//! The bad-input catalogue: revision files, settings, URLs, arguments and
//! database states that must be refused. Each case prepares a project and
//! a fresh database, runs one command (as text, then as JSON), and checks
//! the exit code, that the error says what to type next (a hint), and that
//! the database is exactly as it was: its schema, every row, and for
//! SQLite whether the file and nothing else exists. The message and hint
//! of every case are snapshotted per dialect (`catalogue_<dialect>.snap`),
//! so a changed word shows in review.

use std::fmt::Write as _;
use std::net::TcpListener;

use crate::db::{Kind, TestDb, dialect_tests};
use crate::util::{Project, Rev, graph, linear};

dialect_tests! {
    catalogue,
}

/// What a case prepares before its command runs.
struct Setup<'a> {
    db: &'a TestDb,
    project: Project,
    /// A statement run on a connection kept open while the command runs
    /// (a lock it holds).
    hold: Option<&'static str>,
}

impl Setup<'_> {
    /// `retort ARGS`, which must succeed.
    fn run(&self, args: &[&str]) {
        self.project.json(args).ok();
    }

    /// Replaces the text of revision `id`'s file.
    fn file(&self, id: &str, text: &str) {
        self.project.write(&self.project.file_name(id), text);
    }

    /// The database's URL with `query` appended.
    fn url_with(&self, query: &str) -> String {
        let url = self.db.url();
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}{query}")
    }
}

/// One entry of the catalogue.
struct Case {
    name: &'static str,
    /// The revisions the project starts with.
    revs: fn() -> Vec<Rev>,
    setup: fn(&mut Setup<'_>),
    args: &'static [&'static str],
    code: i32,
    /// The dialects it applies to (all when empty).
    only: &'static [Kind],
    /// It fails in a migration: where DDL commits implicitly (MySQL,
    /// MariaDB) the state tables, created first, stay (empty).
    in_migration: bool,
}

const fn case(
    name: &'static str,
    setup: fn(&mut Setup<'_>),
    args: &'static [&'static str],
    code: i32,
) -> Case {
    Case {
        name,
        revs: three,
        setup,
        args,
        code,
        only: &[],
        in_migration: false,
    }
}

/// r01, r02 and r03 in a line, each creating a table with three rows.
fn three() -> Vec<Rev> {
    linear(3)
}

/// At r01 (its table holds rows a bad migration could destroy).
fn at_r01(s: &mut Setup<'_>) {
    s.run(&["upgrade", "r01"]);
}

/// Revision `r02` of `three` with `body` as its upgrade section.
fn r02_with(s: &mut Setup<'_>, body: &str) {
    s.run(&["upgrade", "r01"]);
    s.file(
        "r02",
        &format!("-- retort:revision r02\n-- retort:revises r01\n-- retort:message bad\n\n-- retort:upgrade\n{body}\n-- retort:downgrade\nDROP TABLE t02;\n"),
    );
}

/// A port on which something accepts connections and never answers.
fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.extend(stream.ok());
        }
    });
    port
}

/// A port on which something answers every connection in another
/// protocol (an HTTP error) and hangs up.
fn http_server() -> u16 {
    use std::io::Write as _;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    port
}

/// A port on which nothing listens.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The URL of a server on `port` in the test database's dialect.
fn server_url(db: &TestDb, port: u16, query: &str) -> String {
    match db.kind() {
        Kind::Mariadb => format!("mysql://root:s3cret@127.0.0.1:{port}/app{query}"),
        _ => format!("postgres://app:s3cret@127.0.0.1:{port}/app{query}"),
    }
}

#[allow(clippy::too_many_lines, reason = "one line per case")]
fn cases() -> Vec<Case> {
    let servers: &'static [Kind] = &[Kind::Postgres, Kind::Mariadb];
    vec![
        // ---------------------------------------------------------- files
        case(
            "nul byte inside a statement",
            |s| r02_with(s, "DELETE FROM t01\0 WHERE id = 5;"),
            &["upgrade"],
            2,
        ),
        case(
            "nul byte between statements",
            |s| r02_with(s, "CREATE TABLE a (id int);\0CREATE TABLE b (id int);"),
            &["upgrade"],
            2,
        ),
        case(
            "file not utf-8",
            |s| {
                at_r01(s);
                let path = s.project.path(&s.project.file_name("r02"));
                std::fs::write(path, b"-- retort:revision r02\n-- retort:revises r01\n-- retort:upgrade\nSELECT '\xff';\n").unwrap();
            },
            &["upgrade"],
            2,
        ),
        case(
            "revision id longer than the version column",
            |s| {
                at_r01(s);
                s.file("r03", "-- retort:revision r03_a_revision_id_longer_than_32_characters\n-- retort:revises r02\n-- retort:upgrade\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "created is not a date",
            |s| {
                s.file("r02", "-- retort:revision r02\n-- retort:revises r01\n-- retort:created not-a-date\n-- retort:upgrade\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "space after retort: in a directive",
            |s| {
                s.file("r02", "-- retort:revision r02\n-- retort:revises r01\n-- retort:upgrade\nCREATE TABLE t02 (id int);\n-- retort: downgrade\nDROP TABLE t02;\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "mistyped directive",
            |s| {
                s.file(
                    "r02",
                    "-- retort:revision r02\n-- retort:revisess r01\n-- retort:upgrade\n",
                );
            },
            &["upgrade"],
            2,
        ),
        case(
            "sql in the header",
            |s| {
                s.file("r02", "-- retort:revision r02\n-- retort:revises r01\nCREATE TABLE t02 (id int);\n-- retort:upgrade\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "no upgrade section",
            |s| {
                s.file("r02", "-- retort:revision r02\n-- retort:revises r01\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "header directive inside a section",
            |s| {
                s.file(
                    "r02",
                    "-- retort:revision r02\n-- retort:upgrade\n-- retort:revises r01\n",
                );
            },
            &["upgrade"],
            2,
        ),
        case(
            "downgrade section first",
            |s| {
                s.file("r02", "-- retort:revision r02\n-- retort:revises r01\n-- retort:downgrade\n-- retort:upgrade\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "revision revises itself",
            |s| {
                s.file(
                    "r02",
                    "-- retort:revision r02\n-- retort:revises r02\n-- retort:upgrade\n",
                );
            },
            &["upgrade"],
            2,
        ),
        case(
            "invalid branch label",
            |s| {
                s.file("r02", "-- retort:revision r02\n-- retort:revises r01\n-- retort:branch-labels heads\n-- retort:upgrade\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "revision id defined twice",
            |s| {
                s.file(
                    "r03",
                    "-- retort:revision r02\n-- retort:revises r01\n-- retort:upgrade\n",
                );
            },
            &["upgrade"],
            2,
        ),
        case(
            "parent no file defines",
            |s| {
                s.file(
                    "r02",
                    "-- retort:revision r02\n-- retort:revises r00\n-- retort:upgrade\n",
                );
            },
            &["upgrade"],
            2,
        ),
        case(
            "dependency no file defines",
            |s| {
                s.file("r02", "-- retort:revision r02\n-- retort:revises r01\n-- retort:depends-on billing\n-- retort:upgrade\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "cycle",
            |s| {
                s.file(
                    "r01",
                    "-- retort:revision r01\n-- retort:revises r03\n-- retort:upgrade\n",
                );
            },
            &["upgrade"],
            2,
        ),
        case(
            "branch label used twice",
            |s| {
                s.file("r02", "-- retort:revision r02\n-- retort:revises r01\n-- retort:branch-labels r01\n-- retort:upgrade\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "unclosed parenthesis",
            |s| {
                r02_with(
                    s,
                    "CREATE TABLE t02 (id int;\nINSERT INTO t01 (id, name) VALUES (9, 'nine');",
                )
            },
            &["upgrade"],
            2,
        ),
        case(
            "parenthesis that closes nothing",
            |s| r02_with(s, "CREATE TABLE t02 (id int));"),
            &["upgrade"],
            2,
        ),
        case(
            "unclosed quote",
            |s| {
                r02_with(
                    s,
                    "CREATE TABLE t02 (id int);\nINSERT INTO t02 VALUES ('nine);",
                )
            },
            &["upgrade"],
            2,
        ),
        case(
            "unclosed block comment",
            |s| {
                r02_with(
                    s,
                    "CREATE TABLE t02 (id int);\n/* not closed\nINSERT INTO t02 VALUES (1);",
                )
            },
            &["upgrade"],
            2,
        ),
        Case {
            only: &[Kind::Postgres],
            ..case(
                "unclosed dollar quote",
                |s| {
                    r02_with(
                        s,
                        "CREATE TABLE t02 (id int);\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; LANGUAGE sql;",
                    )
                },
                &["upgrade"],
                2,
            )
        },
        case(
            "migration commits by itself",
            |s| r02_with(s, "CREATE TABLE t02 (id int);\nCOMMIT;\nDELETE FROM t01;"),
            &["upgrade"],
            2,
        ),
        case(
            "downgrade through a revision without a downgrade section",
            |s| {
                s.run(&["upgrade"]);
                s.file(
                    "r02",
                    &Rev::table("r02", &["r01"], "t02").irreversible().text(),
                );
            },
            &["downgrade", "base", "--allow-changed"],
            2,
        ),
        case(
            "atomic with a migration outside transactions",
            |s| {
                s.file(
                    "r02",
                    &Rev::table("r02", &["r01"], "t02").transaction_off().text(),
                );
            },
            &["upgrade", "--atomic"],
            2,
        ),
        case(
            "applied file edited since",
            |s| {
                s.run(&["upgrade", "r02"]);
                let path = s.project.path(&s.project.file_name("r01"));
                let text = std::fs::read_to_string(&path).unwrap();
                std::fs::write(path, text.replace("'one'", "'uno'")).unwrap();
            },
            &["upgrade"],
            2,
        ),
        case(
            "no section for this database",
            |s| {
                let other = if s.db.kind() == Kind::Sqlite {
                    "postgres mysql"
                } else {
                    "sqlite"
                };
                r02_with(s, "SELECT 1;");
                s.file(
                    "r02",
                    &format!("-- retort:revision r02\n-- retort:revises r01\n\n-- retort:upgrade {other}\nCREATE TABLE t02 (id int);\n-- retort:downgrade\nDROP TABLE t02;\n"),
                );
            },
            &["upgrade"],
            2,
        ),
        case(
            "revision marked for review",
            |s| {
                at_r01(s);
                s.file("r03", "-- retort:revision r03\n-- retort:revises r02\n-- retort:review its SQL depended on data\n-- retort:upgrade\nDELETE FROM t01;\n");
            },
            &["upgrade"],
            2,
        ),
        // --------------------------------------------------------- config
        case(
            "retort.toml not utf-8",
            |s| {
                std::fs::write(
                    s.project.path("retort.toml"),
                    b"[migrations]\ndirs = [\"migrations\"]\n# \xff\n",
                )
                .unwrap();
            },
            &["upgrade"],
            2,
        ),
        case(
            "retort.toml does not parse",
            |s| {
                s.project
                    .write("retort.toml", "[migrations\ndirs = [\"migrations\"]\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "unknown key in retort.toml",
            |s| {
                s.project
                    .write("retort.toml", "[migrations]\ndir = [\"migrations\"]\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "migrations directory is a file",
            |s| {
                s.project
                    .write("retort.toml", "[migrations]\ndirs = [\"retort.toml\"]\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "migrations directory missing",
            |s| {
                s.project
                    .write("retort.toml", "[migrations]\ndirs = [\"migratoins\"]\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "variable in retort.toml unset",
            |s| {
                s.project.write("retort.toml", "[database]\nurl = \"${RETORT_TEST_NO_SUCH_VARIABLE}\"\n[migrations]\ndirs = [\"migrations\"]\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "bad line in .env",
            |s| {
                s.project.write(".env", "DATABASE_URL\n");
            },
            &["upgrade"],
            2,
        ),
        case(
            "--config names a missing file",
            |_| {},
            &["--config", "nowhere/retort.toml", "upgrade"],
            2,
        ),
        case(
            "unknown placeholder in the template",
            |s| {
                s.project.write(
                    "retort.toml",
                    "[migrations]\ndirs = [\"migrations\"]\ntemplate = \"tmpl.sql\"\n",
                );
                s.project
                    .write("tmpl.sql", "{{header}}\n{{nope}}\n-- retort:upgrade\n");
            },
            &["revision", "-m", "x"],
            2,
        ),
        // ----------------------------------------------------------- URLs
        case(
            "unknown URL scheme",
            |s| s.project.set_url("oracle://db.example.com/app"),
            &["upgrade"],
            2,
        ),
        case(
            "URL without a scheme",
            |s| s.project.set_url("app.db"),
            &["upgrade"],
            2,
        ),
        case(
            "port out of range",
            |s| {
                s.project
                    .set_url("postgres://app:s3cret@localhost:70000/app")
            },
            &["upgrade"],
            2,
        ),
        Case {
            only: &[Kind::Sqlite],
            ..case(
                "unknown SQLite URL parameter",
                |s| {
                    let url = s.url_with("cache=shared");
                    s.project.set_url(&url)
                },
                &["upgrade"],
                2,
            )
        },
        Case {
            only: &[Kind::Mariadb],
            ..case(
                "unknown MySQL URL parameter",
                |s| {
                    let url = s.url_with("ssl_mdoe=required");
                    s.project.set_url(&url)
                },
                &["upgrade"],
                2,
            )
        },
        Case {
            only: &[Kind::Postgres],
            ..case(
                "unknown PostgreSQL URL parameter",
                |s| {
                    let url = s.url_with("sslmod=require");
                    s.project.set_url(&url)
                },
                &["upgrade"],
                2,
            )
        },
        Case {
            only: &[Kind::Postgres],
            ..case(
                "unknown sslmode",
                |s| {
                    let url = s.url_with("sslmode=maybe");
                    s.project.set_url(&url)
                },
                &["upgrade"],
                2,
            )
        },
        Case {
            only: servers,
            ..case(
                "connect_timeout that is not a number",
                |s| {
                    let url = s.url_with("connect_timeout=soon");
                    s.project.set_url(&url)
                },
                &["upgrade"],
                2,
            )
        },
        Case {
            only: servers,
            ..case(
                "server that accepts and never answers",
                |s| {
                    let url = server_url(s.db, silent_server(), "?connect_timeout=1");
                    s.project.set_url(&url);
                },
                &["upgrade", "--lock-timeout", "1"],
                1,
            )
        },
        Case {
            only: servers,
            ..case(
                "server that never answers, reading the state",
                |s| {
                    let url = server_url(s.db, silent_server(), "?connect_timeout=1");
                    s.project.set_url(&url);
                },
                &["status"],
                1,
            )
        },
        Case {
            only: servers,
            ..case(
                "server that never answers, no connect_timeout (the default)",
                |s| {
                    let url = server_url(s.db, silent_server(), "");
                    s.project.set_url(&url);
                },
                &["status"],
                1,
            )
        },
        Case {
            only: servers,
            ..case(
                "server that speaks another protocol",
                |s| {
                    let url = server_url(s.db, http_server(), "?connect_timeout=2");
                    s.project.set_url(&url);
                },
                &["status"],
                1,
            )
        },
        Case {
            only: servers,
            ..case(
                "nothing listens on the port",
                |s| {
                    let url = server_url(s.db, closed_port(), "");
                    s.project.set_url(&url);
                },
                &["status"],
                1,
            )
        },
        Case {
            only: &[Kind::Sqlite],
            ..case(
                "SQLite file in a directory that does not exist",
                |s| s.project.set_url("sqlite:///no/such/dir/app.db"),
                &["upgrade"],
                1,
            )
        },
        Case {
            only: &[Kind::Sqlite],
            ..case(
                "SQLite file locked by another program",
                |s| {
                    at_r01(s);
                    s.hold = Some("BEGIN EXCLUSIVE");
                },
                &["upgrade"],
                1,
            )
        },
        // ------------------------------------------------------ arguments
        case("mistyped revision", at_r01, &["upgrade", "r3"], 2),
        Case {
            revs: graph,
            ..case(
                "mistyped revision close to one",
                |_| {},
                &["upgrade", "m0007"],
                2,
            )
        },
        Case {
            revs: graph,
            ..case("ambiguous prefix", |_| {}, &["upgrade", "c"], 2)
        },
        Case {
            revs: graph,
            ..case("head with two heads", |_| {}, &["upgrade", "head"], 2)
        },
        case("downgrade without a target", at_r01, &["downgrade"], 2),
        case(
            "downgrade to a revision not applied",
            at_r01,
            &["downgrade", "r03"],
            2,
        ),
        case(
            "upgrade to a revision below the current one",
            |s| s.run(&["upgrade", "r02"]),
            &["upgrade", "r01"],
            2,
        ),
        case("relative step past the head", at_r01, &["upgrade", "+5"], 2),
        Case {
            revs: graph,
            ..case(
                "relative step at a branch point",
                |s| s.run(&["upgrade", "b00002"]),
                &["upgrade", "+1"],
                2,
            )
        },
        case("range without --sql", |_| {}, &["upgrade", "r01:r03"], 2),
        case(
            "--sql with --dry-run",
            |_| {},
            &["upgrade", "--sql", "--dry-run"],
            2,
        ),
        case(
            "current in an offline range",
            |_| {},
            &["upgrade", "current:head", "--sql"],
            2,
        ),
        case(
            "offline upgrade range going down",
            |_| {},
            &["upgrade", "r03:r01", "--sql"],
            2,
        ),
        case(
            "offline downgrade range going up",
            |_| {},
            &["downgrade", "r01:r03", "--sql"],
            2,
        ),
        case(
            "offline downgrade without a range",
            |_| {},
            &["downgrade", "base", "--sql"],
            2,
        ),
        case(
            "--rev-id longer than the version column",
            |_| {},
            &[
                "revision",
                "-m",
                "x",
                "--rev-id",
                "a_revision_id_longer_than_32_chars",
            ],
            2,
        ),
        case("unknown option", |_| {}, &["upgrade", "--dryrun"], 2),
        case("stamp without a revision", |_| {}, &["stamp"], 2),
        case(
            "stamp --purge relative to a row no file defines",
            |s| {
                at_r01(s);
                s.db.exec("INSERT INTO retort_version (version_num) VALUES ('zzz999')");
            },
            &["stamp", "--purge", "+1"],
            2,
        ),
        case(
            "repair with nothing half-applied",
            at_r01,
            &["repair", "r01", "--done"],
            2,
        ),
        case(
            "rehash --accept of a revision not applied",
            at_r01,
            &["rehash", "--accept", "r02"],
            2,
        ),
        case(
            "merge with one head",
            |_| {},
            &["merge", "heads", "-m", "x"],
            2,
        ),
        case(
            "--format dot for upgrade",
            |_| {},
            &["--format", "dot", "upgrade"],
            2,
        ),
        case(
            "history range not along one line",
            |_| {},
            &["history", "-r", "r03:r01"],
            2,
        ),
        // ------------------------------------------------ database states
        case(
            "version table names an unknown revision",
            |s| {
                at_r01(s);
                s.db.exec("INSERT INTO retort_version (version_num) VALUES ('zzz999')");
            },
            &["upgrade"],
            2,
        ),
        case(
            "overlapping version rows",
            |s| {
                s.run(&["upgrade", "r02"]);
                s.db.exec("INSERT INTO retort_version (version_num) VALUES ('r01')");
            },
            &["upgrade"],
            2,
        ),
        case(
            "version table dropped by hand",
            |s| {
                s.run(&["upgrade", "r02"]);
                s.db.exec("DROP TABLE retort_version");
            },
            &["upgrade"],
            2,
        ),
        case(
            "database Alembic manages",
            |s| {
                s.db.exec("CREATE TABLE t01 (id INTEGER PRIMARY KEY)");
                s.db.exec(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
                );
                s.db.exec("INSERT INTO alembic_version (version_num) VALUES ('r01')");
            },
            &["upgrade"],
            2,
        ),
        case(
            "database another migration tool manages",
            |s| {
                s.db.exec(
                    "CREATE TABLE flyway_schema_history (installed_rank INTEGER PRIMARY KEY)",
                );
            },
            &["downgrade", "base"],
            2,
        ),
        case(
            "migration left half way",
            |s| {
                s.file(
                    "r02",
                    &Rev::table("r02", &["r01"], "t02").transaction_off().text(),
                );
                s.run(&["upgrade", "r01"]);
                s.db.exec("INSERT INTO retort_journal (version_table, revision, direction, statement, line, hash, state, session, recorded_at) VALUES ('retort_version', 'r02', 'upgrade', 0, 6, 'x', 'done', NULL, '2026-01-01T00:00:00Z')");
            },
            &["upgrade"],
            1,
        ),
        case(
            "resume of a migration whose next statement fails",
            |s| {
                let mut rev = Rev::table("r02", &["r01"], "t02").transaction_off();
                rev.upgrade = "CREATE TABLE t02 (id INTEGER PRIMARY KEY);\nINSERT INTO missing_table (id) VALUES (1);\n".to_owned();
                s.file("r02", &rev.text());
                s.run(&["upgrade", "r01"]);
                s.db.exec("CREATE TABLE t02 (id INTEGER PRIMARY KEY)");
                let hash =
                    retort::script::checksum::checksum("CREATE TABLE t02 (id INTEGER PRIMARY KEY)");
                s.db.exec(&format!("INSERT INTO retort_journal (version_table, revision, direction, statement, line, hash, state, session, recorded_at) VALUES ('retort_version', 'r02', 'upgrade', 0, 6, '{hash}', 'done', NULL, '2026-01-01T00:00:00Z')"));
            },
            &["resume"],
            1,
        ),
        Case {
            in_migration: true,
            ..case(
                "table a migration creates already exists",
                |s| {
                    s.db.exec("CREATE TABLE t01 (id INTEGER PRIMARY KEY)");
                },
                &["upgrade"],
                1,
            )
        },
    ]
}

/// Everything a command could change: for SQLite whether the file exists
/// (and nothing else beside it), then the schema and every row.
fn fingerprint(db: &TestDb) -> String {
    let mut out = String::new();
    if let Some(file) = db.file() {
        let dir = file.parent().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        writeln!(out, "files: {names:?}").unwrap();
        if !file.exists() {
            return out;
        }
    }
    for (object, definition) in db.schema() {
        writeln!(out, "schema {object}: {definition}").unwrap();
    }
    for table in db.tables() {
        let mut rows = db.rows(&format!("SELECT * FROM {table}"));
        rows.sort();
        writeln!(out, "rows {table}: {rows:?}").unwrap();
    }
    out
}

/// Every case against fresh databases of `db`'s dialect.
fn catalogue(db: &TestDb) {
    let mut report = String::new();
    let mut failures = Vec::new();
    let mut count = 0;
    for case in cases() {
        if !case.only.is_empty() && !case.only.contains(&db.kind()) {
            continue;
        }
        count += 1;
        let fresh = db.sibling();
        let mut setup = Setup {
            db: &fresh,
            project: Project::new(&fresh, (case.revs)()),
            hold: None,
        };
        (case.setup)(&mut setup);
        let before = fingerprint(&fresh);
        let guard = setup.hold.map(|sql| {
            let mut holder = fresh.connect();
            holder.run(sql).unwrap();
            holder
        });
        let text = setup.project.text(case.args);
        let json = setup.project.json(case.args);
        drop(guard);
        let after_text = fingerprint(&fresh);
        let after_json = after_text.clone();
        let what = format!("{}: `retort {}`", case.name, case.args.join(" "));
        if text.code != case.code || json.code != case.code {
            failures.push(format!(
                "{what}: exit {} (JSON {}), expected {}\n{}{}",
                text.code,
                json.code,
                case.code,
                text.transcript(),
                json.transcript()
            ));
            continue;
        }
        let (after_text, after_json) = if case.in_migration && !fresh.transactional_ddl() {
            (
                without_empty_state_tables(&after_text),
                without_empty_state_tables(&after_json),
            )
        } else {
            (after_text, after_json)
        };
        if after_text != before || after_json != before {
            failures.push(format!(
                "{what} changed the database\n{}\nbefore: {before}\nafter: {after_text}",
                text.transcript()
            ));
        }
        if json.doc().get("error").is_none() {
            failures.push(format!("{what}: no error document\n{}", json.transcript()));
            continue;
        }
        let hint = json.hint();
        if hint.is_empty() {
            failures.push(format!("{what}: no hint\n{}", json.transcript()));
        }
        let redact = |s: &str| {
            let s = setup.project.redact(&fresh.redact(s));
            redact_ports(&s)
        };
        writeln!(
            report,
            "## {}\n$ retort {}\nexit {} ({})\n{}",
            case.name,
            case.args.join(" "),
            json.code,
            json.kind(),
            redact(text.stderr.trim_end())
        )
        .unwrap();
        if text.stderr.contains("Usage:") {
            // clap's text; the JSON document says it on one line.
            writeln!(
                report,
                "json: {} / hint: {}",
                redact(json.message()),
                redact(hint)
            )
            .unwrap();
        } else if json.hint() != text_hint(&text.stderr) {
            writeln!(report, "json hint: {}", redact(hint)).unwrap();
        }
        report.push('\n');
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(count >= 60 || db.kind() != Kind::Sqlite, "{count} cases");
    insta::assert_snapshot!(format!("catalogue_{}", db.kind().name()), report);
}

/// A fingerprint without the state tables, where they are empty.
fn without_empty_state_tables(fingerprint: &str) -> String {
    let state = ["retort_applied", "retort_journal", "retort_version"];
    let empty = |t: &str| fingerprint.lines().any(|l| l == format!("rows {t}: []"));
    fingerprint
        .lines()
        .filter(|l| {
            !state.iter().any(|t| {
                empty(t)
                    && (l.starts_with(&format!("rows {t}:"))
                        || l.starts_with(&format!("schema {t}")))
            })
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The `hint:` line of a text error.
fn text_hint(stderr: &str) -> &str {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("hint: "))
        .unwrap_or("")
}

/// Ports the tests picked (`127.0.0.1:41234`) as `127.0.0.1:PORT`.
fn redact_ports(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("127.0.0.1:") {
        let start = at + "127.0.0.1:".len();
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push_str("PORT");
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}
