//! The admin ports of the library on each server: databases created,
//! found, reached and dropped (names that need quoting, names refused),
//! and what a database holds listed and dropped, retort's state tables
//! left out of the list.

use retort::db::{DbErrorKind, Object, ObjectKind};

use crate::db::{Kind, TestDb, dialect_tests, unique_name};
use crate::util::{Project, Rev};

dialect_tests! {
    databases_are_created_found_reached_and_dropped,
    names_are_quoted,
    names_the_server_would_change_are_refused,
    objects_are_listed_and_dropped,
}

fn databases_are_created_found_reached_and_dropped(db: &TestDb) {
    let mut admin = db.admin();
    let name = unique_name();
    assert!(!admin.database_exists(&name).unwrap());
    admin.create_database(&name).unwrap();
    assert!(admin.database_exists(&name).unwrap());
    let again = admin.create_database(&name).unwrap_err();
    assert_eq!(again.kind, DbErrorKind::AlreadyExists, "{again}");

    let mut conn = retort::db::connect(&admin.url_of(&name)).unwrap();
    conn.run("CREATE TABLE t (id INTEGER PRIMARY KEY)").unwrap();
    assert_eq!(names(conn.list_objects().unwrap()), ["table t"]);
    // Dropped with a session still connected to it.
    admin.drop_database(&name).unwrap();
    drop(conn);
    assert!(!admin.database_exists(&name).unwrap());
    admin.drop_database(&name).unwrap();
}

fn names_are_quoted(db: &TestDb) {
    let mut admin = db.admin();
    let name = format!("{} O'd \"q\" `b` é", unique_name());
    admin.create_database(&name).unwrap();
    assert!(admin.database_exists(&name).unwrap());
    let url = admin.url_of(&name);
    let mut conn = retort::db::connect(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
    conn.run("CREATE TABLE t (id INTEGER)").unwrap();
    drop(conn);
    admin.drop_database(&name).unwrap();
    assert!(!admin.database_exists(&name).unwrap());
}

fn names_the_server_would_change_are_refused(db: &TestDb) {
    let mut admin = db.admin();
    let mut refused = vec![String::new(), "a\0b".to_owned()];
    refused.push(match db.kind() {
        Kind::Sqlite => "sub/dir.db".to_owned(),
        // Cut to 63 bytes by the server.
        Kind::Postgres => "é".repeat(32),
        Kind::Mariadb => "x".repeat(65),
    });
    if db.kind() == Kind::Mariadb {
        refused.push("trailing ".to_owned());
    }
    for name in &refused {
        for result in [
            admin.create_database(name),
            admin.drop_database(name),
            admin.database_exists(name).map(drop),
        ] {
            let error = result.unwrap_err();
            assert_eq!(error.kind, DbErrorKind::InvalidName, "{name:?}: {error}");
        }
    }
}

fn objects_are_listed_and_dropped(db: &TestDb) {
    // The state tables, and a table of the project's.
    Project::new(db, vec![Rev::table("r01", &[], "t01")])
        .json(&["upgrade"])
        .ok();
    for sql in objects_sql(db.kind()) {
        db.exec(sql);
    }
    let mut conn = db.connect();
    let expected: &[&str] = match db.kind() {
        Kind::Sqlite => &["view v", "table author", "table book", "table t01"],
        Kind::Postgres => &[
            "view v",
            "materialized view m",
            "table author",
            "table book",
            "table log",
            "table t01",
            "sequence counter",
            "function twice(integer)",
            "procedure noop()",
            "type mood",
            "type pair",
            "domain positive",
        ],
        Kind::Mariadb => &[
            "view v",
            "table author",
            "table book",
            "table t01",
            "sequence counter",
            "function twice",
            "procedure noop",
            "event nightly",
        ],
    };
    assert_eq!(names(conn.list_objects().unwrap()), expected);

    if db.kind() == Kind::Sqlite {
        // `author` goes first, while `book` still refers to it.
        conn.run("PRAGMA foreign_keys = ON").unwrap();
    }
    conn.drop_all_objects().unwrap();
    assert_eq!(conn.list_objects().unwrap(), []);
    drop(conn);
    assert_eq!(
        db.tables(),
        Vec::<String>::new(),
        "the state tables went too"
    );
    db.connect().drop_all_objects().unwrap();
}

/// Objects of each kind the dialect has, with what goes with them (an
/// index, a trigger, a column's sequence, a partition) and a foreign key
/// between two tables.
fn objects_sql(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Sqlite => &[
            "CREATE TABLE author (id INTEGER PRIMARY KEY)",
            "CREATE TABLE book (id INTEGER PRIMARY KEY, author INTEGER REFERENCES author (id))",
            "CREATE INDEX book_author ON book (author)",
            "CREATE VIEW v AS SELECT id FROM book",
            "CREATE TRIGGER book_insert AFTER INSERT ON book BEGIN SELECT 1; END",
            "INSERT INTO author VALUES (1)",
            "INSERT INTO book VALUES (1, 1)",
        ],
        Kind::Postgres => &[
            "CREATE TABLE author (id serial PRIMARY KEY)",
            "CREATE TABLE book (id integer GENERATED ALWAYS AS IDENTITY, author integer REFERENCES author (id))",
            "CREATE VIEW v AS SELECT id FROM book",
            "CREATE MATERIALIZED VIEW m AS SELECT id FROM author",
            "CREATE SEQUENCE counter",
            "CREATE TYPE mood AS ENUM ('ok', 'sad')",
            "CREATE TYPE pair AS (a integer, b integer)",
            "CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
            "CREATE FUNCTION twice(x integer) RETURNS integer LANGUAGE sql AS 'SELECT 2 * x'",
            "CREATE PROCEDURE noop() LANGUAGE sql AS 'SELECT 1'",
            "CREATE TABLE log (id integer) PARTITION BY RANGE (id)",
            "CREATE TABLE log_1 PARTITION OF log FOR VALUES FROM (0) TO (10)",
            "INSERT INTO author DEFAULT VALUES",
            "INSERT INTO book (author) VALUES (1)",
        ],
        Kind::Mariadb => &[
            "CREATE TABLE author (id INTEGER AUTO_INCREMENT PRIMARY KEY)",
            "CREATE TABLE book (id INTEGER PRIMARY KEY, author INTEGER, FOREIGN KEY (author) REFERENCES author (id))",
            "CREATE VIEW v AS SELECT id FROM book",
            "CREATE SEQUENCE counter",
            "CREATE FUNCTION twice(x INTEGER) RETURNS INTEGER DETERMINISTIC RETURN 2 * x",
            "CREATE PROCEDURE noop() SELECT 1",
            "CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1",
            "CREATE TRIGGER book_insert AFTER INSERT ON book FOR EACH ROW SET @n = 1",
            "INSERT INTO author VALUES (1)",
            "INSERT INTO book VALUES (1, 1)",
        ],
    }
}

/// `kind name` for each object, as listed.
fn names(objects: Vec<Object>) -> Vec<String> {
    objects
        .iter()
        .map(|o| format!("{} {}", o.kind.name(), o.name))
        .collect()
}

#[test]
fn objects_read_as_sql_names_them() {
    let object = Object {
        kind: ObjectKind::MaterializedView,
        name: "m".into(),
    };
    assert_eq!(object.to_string(), "materialized view `m`");
}
