//! Function and trigger bodies with semicolons inside, as each server
//! accepts them: the splitter must send each one whole. PostgreSQL: `$$`,
//! `$tag$`, `E''`, `BEGIN ATOMIC`, nested block comments and a quoted
//! identifier with `;`; SQLite: a trigger with `CASE … END`; MariaDB:
//! `DELIMITER` blocks, `#` comments, backticks and `\'`. Also what an
//! offline script sets first on each dialect.

use crate::db::{Kind, TestDb, dialect_tests};
use crate::util::{Project, Rev, version_rows};

dialect_tests! {
    bodies_with_semicolons_run_whole,
    offline_script_sets_a_lock_timeout_on_postgres,
}

fn body_revision(kind: Kind) -> Rev {
    let mut rev = Rev::merge("r02", &["r01"], "bodies with semicolons");
    let (upgrade, downgrade) = match kind {
        Kind::Sqlite => (
            "CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT);\n\
             CREATE TRIGGER t01_audit AFTER INSERT ON t01\n\
             BEGIN\n\
               INSERT INTO audit (note) VALUES (CASE WHEN NEW.id > 10 THEN 'big; id' ELSE 'small' END);\n\
               INSERT INTO audit (note) VALUES ('second; statement');\n\
             END;\n\
             INSERT INTO t01 (id, name) VALUES (42, 'x');\n",
            "DROP TRIGGER t01_audit;\nDROP TABLE audit;\n",
        ),
        Kind::Postgres => (
            "CREATE TABLE audit (id SERIAL PRIMARY KEY, note TEXT);\n\
             CREATE FUNCTION note_insert() RETURNS trigger LANGUAGE plpgsql AS $body$\n\
             BEGIN\n\
               INSERT INTO audit (note) VALUES ($x$big; id$x$);\n\
               INSERT INTO audit (note) VALUES ('second; statement');\n\
               RETURN NEW;\n\
             END;\n\
             $body$;\n\
             CREATE TRIGGER t01_audit AFTER INSERT ON t01 FOR EACH ROW EXECUTE FUNCTION note_insert();\n\
             CREATE FUNCTION twice(n integer) RETURNS integer LANGUAGE sql\n\
             BEGIN ATOMIC\n\
               SELECT n * 2;\n\
             END;\n\
             /* a comment /* nested; still a comment */ ; still one */\n\
             CREATE TABLE \"odd;name\" (id integer);\n\
             CREATE FUNCTION thrice(n integer) RETURNS integer LANGUAGE plpgsql AS $$\n\
             BEGIN\n\
               INSERT INTO \"odd;name\" VALUES (n);\n\
               RETURN n * 3;\n\
             END;\n\
             $$;\n\
             INSERT INTO t01 (id, name) VALUES (42, E'it\\'s; fine');\n",
            "DROP TRIGGER t01_audit ON t01;\nDROP FUNCTION note_insert();\nDROP FUNCTION twice(integer);\nDROP FUNCTION thrice(integer);\nDROP TABLE \"odd;name\";\nDROP TABLE audit;\n",
        ),
        Kind::Mariadb => (
            "CREATE TABLE audit (id INTEGER AUTO_INCREMENT PRIMARY KEY, note TEXT);\n\
             # a comment; with a semicolon\n\
             DELIMITER //\n\
             CREATE TRIGGER t01_audit AFTER INSERT ON t01 FOR EACH ROW\n\
             BEGIN\n\
               INSERT INTO audit (note) VALUES (IF(NEW.id > 10, 'big; id', 'small'));\n\
               INSERT INTO audit (note) VALUES ('second; statement'); -- a comment; too\n\
             END //\n\
             CREATE FUNCTION `twice;fn`(n INT) RETURNS INT DETERMINISTIC\n\
             BEGIN\n\
               DECLARE r INT;\n\
               SET r = n * 2;\n\
               RETURN r;\n\
             END //\n\
             DELIMITER ;\n\
             INSERT INTO t01 (id, name) VALUES (42, 'it\\'s; fine');\n",
            "DROP TRIGGER t01_audit;\nDROP FUNCTION `twice;fn`;\nDROP TABLE audit;\n",
        ),
    };
    rev.upgrade = upgrade.to_owned();
    rev.downgrade = Some(downgrade.to_owned());
    rev
}

fn bodies_with_semicolons_run_whole(db: &TestDb) {
    let project = Project::new(
        db,
        vec![Rev::table("r01", &[], "t01"), body_revision(db.kind())],
    );
    project.json(&["upgrade"]).ok();
    assert_eq!(version_rows(db), ["r02"]);
    // The trigger fired once, running both of its statements.
    let notes = db.rows("SELECT note FROM audit ORDER BY id");
    assert_eq!(notes, [["big; id"], ["second; statement"]]);
    if db.kind() == Kind::Mariadb {
        assert_eq!(db.rows("SELECT `twice;fn`(21)"), [["42"]]);
        assert_eq!(
            db.rows("SELECT name FROM t01 WHERE id = 42"),
            [["it's; fine"]]
        );
    }
    if db.kind() == Kind::Postgres {
        assert_eq!(db.rows("SELECT twice(21)::text"), [["42"]]);
        assert_eq!(db.rows("SELECT thrice(5)::text"), [["15"]]);
        assert_eq!(db.rows("SELECT id::text FROM \"odd;name\""), [["5"]]);
        assert_eq!(
            db.rows("SELECT name FROM t01 WHERE id = 42"),
            [["it's; fine"]]
        );
    }
    project.json(&["downgrade", "base"]).ok();
    assert!(version_rows(db).is_empty());
}

fn offline_script_sets_a_lock_timeout_on_postgres(db: &TestDb) {
    let project = Project::new(db, vec![Rev::table("r01", &[], "t01")]);
    let script = project.text(&["upgrade", "--sql"]).ok();
    let sets = script.stdout.contains("SET lock_timeout = '5000ms';");
    assert_eq!(sets, db.kind() == Kind::Postgres, "{}", script.stdout);
    let none = project
        .text(&["upgrade", "--sql", "--statement-lock-timeout", "0"])
        .ok();
    assert!(!none.stdout.contains("lock_timeout"), "{}", none.stdout);
}
