use super::*;

use Dialect::{Mysql, Postgres, Sqlite};

fn texts(sql: &str, dialect: Dialect) -> Vec<&str> {
    match split(sql, dialect) {
        Ok(statements) => statements.iter().map(|s| s.text).collect(),
        Err(e) => panic!("{dialect}: {e}\n{sql}"),
    }
}

fn error(sql: &str, dialect: Dialect) -> (usize, usize, String) {
    match split(sql, dialect) {
        Ok(statements) => panic!("{dialect}: expected an error, got {statements:#?}"),
        Err(e) => (e.line, e.column, e.message),
    }
}

fn positions(sql: &str, dialect: Dialect) -> Vec<(usize, usize, usize)> {
    split(sql, dialect)
        .unwrap()
        .iter()
        .map(|s| (s.start, s.line, s.column))
        .collect()
}

fn no_transaction(sql: &str) -> bool {
    let statements = split(sql, Postgres).unwrap();
    assert_eq!(statements.len(), 1, "{sql}");
    statements[0].no_transaction
}

// ---- common rules -------------------------------------------------------

#[test]
fn nothing_to_run_gives_no_statement() {
    for dialect in Dialect::ALL {
        for sql in [
            "",
            "  \n\t\r\n",
            "-- only a comment",
            "/* a; b */\n-- c;\n",
            ";",
            " ; ;\n;",
            "-- x\n;\n/* y */ ;",
        ] {
            assert_eq!(
                texts(sql, dialect),
                Vec::<&str>::new(),
                "{dialect}: {sql:?}"
            );
        }
    }
}

#[test]
fn splits_at_semicolons_and_keeps_a_final_statement_without_one() {
    for dialect in Dialect::ALL {
        assert_eq!(
            texts("CREATE TABLE a (x int);\nINSERT INTO a VALUES (1)", dialect),
            ["CREATE TABLE a (x int)", "INSERT INTO a VALUES (1)"]
        );
        assert_eq!(
            texts("SELECT 1;;SELECT 2;", dialect),
            ["SELECT 1", "SELECT 2"]
        );
    }
}

#[test]
fn semicolons_in_strings_identifiers_and_comments_do_not_split() {
    for dialect in Dialect::ALL {
        let sql = "INSERT INTO t VALUES ('a;b', 'it''s; here'); SELECT 2";
        assert_eq!(
            texts(sql, dialect),
            ["INSERT INTO t VALUES ('a;b', 'it''s; here')", "SELECT 2"]
        );
        let sql = "SELECT 1 -- no; split\n, 2; SELECT /* a; b */ 3;";
        assert_eq!(
            texts(sql, dialect),
            ["SELECT 1 -- no; split\n, 2", "SELECT /* a; b */ 3"]
        );
    }
    for dialect in [Sqlite, Postgres] {
        let sql = "CREATE TABLE \"a;\"\"b\" (x int); SELECT 2";
        assert_eq!(
            texts(sql, dialect),
            ["CREATE TABLE \"a;\"\"b\" (x int)", "SELECT 2"]
        );
    }
}

#[test]
fn comments_and_whitespace_around_a_statement_are_not_part_of_it() {
    for dialect in Dialect::ALL {
        let sql =
            "-- header; here\n/* more */\n  SELECT 1 /* inner */ + 2 -- trailing\n ; \n-- end";
        assert_eq!(texts(sql, dialect), ["SELECT 1 /* inner */ + 2"]);
    }
}

#[test]
fn positions_are_those_of_the_first_token() {
    let sql = "SELECT 'é';\r\n  /* c */ SELECT 2;\n\tSELECT 3";
    for dialect in Dialect::ALL {
        let statements = split(sql, dialect).unwrap();
        assert_eq!(
            positions(sql, dialect),
            [(0, 1, 1), (24, 2, 11), (35, 3, 2)]
        );
        for s in &statements {
            assert_eq!(&sql[s.start..s.start + s.text.len()], s.text);
        }
    }
    // Columns count characters, not bytes; a byte-order mark takes none.
    let sql = "\u{feff}SELECT 'ü'; SELECT 'ß'";
    assert_eq!(positions(sql, Sqlite), [(3, 1, 1), (16, 1, 13)]);
    // Multi-line statements.
    let sql = "CREATE TABLE t (\n  a int\n);\n\n\nDROP TABLE t;";
    assert_eq!(positions(sql, Postgres), [(0, 1, 1), (30, 6, 1)]);
}

#[test]
fn unterminated_literals_are_errors_at_their_opening() {
    for dialect in Dialect::ALL {
        assert_eq!(
            error("SELECT 1;\nSELECT 'é', 'oops;\nSELECT 2;", dialect),
            (2, 13, "unterminated string literal".to_owned())
        );
        assert_eq!(
            error("SELECT 1; /* never; closed", dialect),
            (1, 11, "unterminated block comment".to_owned())
        );
    }
    for dialect in [Sqlite, Postgres] {
        assert_eq!(
            error("SELECT \"a;b FROM t;", dialect),
            (1, 8, "unterminated quoted identifier".to_owned())
        );
    }
    for dialect in [Sqlite, Mysql] {
        assert_eq!(
            error("SELECT 1;\n  SELECT `a`` FROM t;", dialect),
            (2, 10, "unterminated quoted identifier".to_owned())
        );
    }
    assert_eq!(
        error("SELECT [a; FROM t;", Sqlite),
        (1, 8, "unterminated quoted identifier".to_owned())
    );
}

#[test]
fn split_errors_render_with_their_position() {
    let e = split("SELECT 'x", Sqlite).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1, column 8: unterminated string literal"
    );
}

// ---- PostgreSQL ---------------------------------------------------------

#[test]
fn postgres_dollar_quoted_plpgsql_function() {
    let function = "CREATE FUNCTION log_change() RETURNS trigger\nLANGUAGE plpgsql AS $$\nDECLARE\n  q text := $x$SELECT 1; -- not a comment$x$;\nBEGIN\n  EXECUTE q;\n  INSERT INTO audit(msg) VALUES ('it''s; done');\n  RETURN NEW;\nEND;\n$$";
    let sql = format!("{function};\nSELECT 1;");
    assert_eq!(texts(&sql, Postgres), [function, "SELECT 1"]);

    let sql =
        "DO $body$ BEGIN RAISE NOTICE '$$; still inside'; PERFORM 1; END $body$; SELECT $$a;b$$";
    assert_eq!(
        texts(sql, Postgres),
        [
            "DO $body$ BEGIN RAISE NOTICE '$$; still inside'; PERFORM 1; END $body$",
            "SELECT $$a;b$$"
        ]
    );
}

#[test]
fn postgres_parameters_and_dollars_in_identifiers_are_not_dollar_quotes() {
    assert_eq!(
        texts("PREPARE p(int) AS SELECT $1; EXECUTE p(1);", Postgres),
        ["PREPARE p(int) AS SELECT $1", "EXECUTE p(1)"]
    );
    assert_eq!(
        texts("SELECT 1 AS a$b$; SELECT $2::int", Postgres),
        ["SELECT 1 AS a$b$", "SELECT $2::int"]
    );
    // A lone `$` is an ordinary character.
    assert_eq!(
        texts("SELECT $ ; SELECT 2", Postgres),
        ["SELECT $", "SELECT 2"]
    );
}

#[test]
fn postgres_escape_and_unicode_strings() {
    assert_eq!(
        texts(r"SELECT E'it\'s; fine'; SELECT e'a\\'; SELECT 3", Postgres),
        [r"SELECT E'it\'s; fine'", r"SELECT e'a\\'", "SELECT 3"]
    );
    // With standard_conforming_strings, a backslash in '…' is a character.
    assert_eq!(
        texts(r"SELECT 'a\'; SELECT 2", Postgres),
        [r"SELECT 'a\'", "SELECT 2"]
    );
    assert_eq!(
        texts(
            r#"SELECT U&'d\0061t\+000061; x' AS U&"a;b"; SELECT 2"#,
            Postgres
        ),
        [r#"SELECT U&'d\0061t\+000061; x' AS U&"a;b""#, "SELECT 2"]
    );
    // `E` and `U` only prefix a string as a whole word.
    assert_eq!(
        texts("SELECT name'x'; SELECT 2", Postgres),
        ["SELECT name'x'", "SELECT 2"]
    );
}

#[test]
fn postgres_block_comments_nest() {
    let sql = "/* outer /* inner; */ still; */ SELECT 1; SELECT 2";
    assert_eq!(texts(sql, Postgres), ["SELECT 1", "SELECT 2"]);
    // In SQLite the first `*/` ends the comment.
    assert_eq!(
        texts("/* a /* b */ SELECT 1; SELECT 2", Sqlite),
        ["SELECT 1", "SELECT 2"]
    );
}

#[test]
fn postgres_begin_atomic_bodies() {
    let function = "CREATE OR REPLACE FUNCTION grade(score int) RETURNS text\nLANGUAGE sql IMMUTABLE\nBEGIN ATOMIC\n  SELECT CASE WHEN score >= 90 THEN 'A' WHEN score >= 80 THEN 'B' ELSE 'C' END;\nEND";
    let procedure = "CREATE PROCEDURE insert_two(a int, b int)\nLANGUAGE SQL\nbegin atomic\n  INSERT INTO tbl VALUES (a);\n  -- a comment; with a semicolon\n  INSERT INTO tbl SELECT t.end FROM t WHERE (CASE WHEN b > 0 THEN true END);\nend";
    let sql = format!("{function};\n{procedure};\nSELECT 1;");
    assert_eq!(texts(&sql, Postgres), [function, procedure, "SELECT 1"]);

    // No BEGIN: a RETURN body with CASE … END ends at its `;`.
    let sql =
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN CASE WHEN true THEN 1 END; SELECT 2";
    assert_eq!(
        texts(sql, Postgres),
        [
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN CASE WHEN true THEN 1 END",
            "SELECT 2"
        ]
    );
    // BEGIN outside a routine is a transaction statement.
    assert_eq!(
        texts("BEGIN; SELECT 1; END;", Postgres),
        ["BEGIN", "SELECT 1", "END"]
    );
}

#[test]
fn postgres_semicolons_inside_parentheses_do_not_split() {
    let rule = "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))";
    assert_eq!(
        texts(&format!("{rule}; SELECT 1"), Postgres),
        [rule, "SELECT 1"]
    );
}

#[test]
fn postgres_errors() {
    assert_eq!(
        error("SELECT 1;\nCREATE FUNCTION f() AS $$ BEGIN; END;", Postgres),
        (
            2,
            24,
            "unterminated dollar-quoted string: no closing `$$`".to_owned()
        )
    );
    assert_eq!(
        error("SELECT $fn$ x $Fn$;", Postgres),
        (
            1,
            8,
            "unterminated dollar-quoted string: no closing `$fn$`".to_owned()
        )
    );
    assert_eq!(
        error(r"SELECT E'it\';", Postgres),
        (1, 8, "unterminated string literal".to_owned())
    );
    assert_eq!(
        error("SELECT U&'x;", Postgres),
        (1, 8, "unterminated string literal".to_owned())
    );
    assert_eq!(
        error("SELECT 1 AS u&\"x;", Postgres),
        (1, 13, "unterminated quoted identifier".to_owned())
    );
    assert_eq!(
        error("/* a /* b */ SELECT 1;", Postgres),
        (1, 1, "unterminated block comment".to_owned())
    );
    assert_eq!(
        error(
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql\n  BEGIN ATOMIC\n  SELECT 1;\nSELECT 2;",
            Postgres
        ),
        (
            2,
            3,
            "unterminated `BEGIN … END`: not closed before the end of the input".to_owned()
        )
    );
    assert_eq!(
        error("SELECT 1;\nSELECT (1, (2);\nSELECT 3;", Postgres),
        (
            2,
            8,
            "unterminated `(`: not closed before the end of the input".to_owned()
        )
    );
}

#[test]
fn postgres_statements_that_cannot_run_in_a_transaction() {
    for sql in [
        "CREATE INDEX CONCURRENTLY i ON t (a)",
        "create unique index concurrently if not exists i on t (a)",
        "CREATE /* why */ INDEX -- not\n CONCURRENTLY i ON t (a)",
        "DROP INDEX CONCURRENTLY i",
        "REINDEX INDEX CONCURRENTLY i",
        "REINDEX (VERBOSE) TABLE CONCURRENTLY t",
        "REINDEX (CONCURRENTLY) TABLE t",
        "REINDEX SCHEMA public",
        "reindex database app",
        "REINDEX SYSTEM app",
        "VACUUM",
        "vacuum (analyze) t",
        "ALTER SYSTEM SET work_mem = '64MB'",
        "CREATE DATABASE app",
        "DROP DATABASE IF EXISTS app",
        "ALTER DATABASE app SET TABLESPACE fast",
        "CREATE TABLESPACE fast LOCATION '/ssd'",
        "DROP TABLESPACE fast",
        "CLUSTER",
        "CLUSTER VERBOSE",
        "CLUSTER (VERBOSE)",
        "CREATE SUBSCRIPTION s CONNECTION 'dbname=a' PUBLICATION p",
        "ALTER SUBSCRIPTION s REFRESH PUBLICATION",
        "DROP SUBSCRIPTION s",
        "DISCARD ALL",
        "ALTER TABLE ONLY s.m DETACH PARTITION s.m_2020 CONCURRENTLY",
    ] {
        assert!(no_transaction(sql), "{sql}");
    }
    for sql in [
        "CREATE INDEX i ON t (a)",
        "CREATE INDEX i ON t (a) WHERE b = 'concurrently'",
        "CREATE INDEX \"concurrently\" ON t (a)",
        "CREATE INDEX i ON t (concurrently_updated)",
        "REFRESH MATERIALIZED VIEW CONCURRENTLY mv",
        "ALTER TYPE mood ADD VALUE 'meh'",
        "REINDEX TABLE t",
        "REINDEX (CONCURRENTLY false) TABLE t",
        "CLUSTER t",
        "CLUSTER VERBOSE t USING i",
        "ALTER DATABASE app SET work_mem = '1MB'",
        "ALTER TABLE m DETACH PARTITION m_2020",
        "DISCARD PLANS",
        "ANALYZE",
        "SELECT 'VACUUM'",
        "CREATE TABLE vacuum_log (a int)",
    ] {
        assert!(!no_transaction(sql), "{sql}");
    }
    // Each statement is judged on its own.
    let statements = split(
        "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);",
        Postgres,
    )
    .unwrap();
    assert_eq!(
        statements
            .iter()
            .map(|s| s.no_transaction)
            .collect::<Vec<_>>(),
        [false, true]
    );
    // SQLite runs everything in a transaction.
    assert!(!split("VACUUM", Sqlite).unwrap()[0].no_transaction);
}

#[test]
fn postgres_statements_that_change_the_schema() {
    let sql = "CREATE TABLE t (a int); INSERT INTO t VALUES (1); ALTER TABLE t ADD b int; \
               UPDATE t SET a = 2; COMMENT ON TABLE t IS 'x'; GRANT SELECT ON t TO app; \
               DO $$ BEGIN EXECUTE 'DROP TABLE t'; END $$; WITH c AS (SELECT 1) SELECT * FROM c; \
               SET LOCAL search_path = app; TRUNCATE t; CREATE INDEX CONCURRENTLY i ON t (a); \
               DELETE FROM t; MERGE INTO t USING u ON t.a = u.a WHEN MATCHED THEN DELETE";
    let statements = split(sql, Postgres).unwrap();
    let marks: Vec<bool> = statements.iter().map(|s| s.changes_schema).collect();
    assert_eq!(
        marks,
        [
            true, false, true, false, true, true, true, false, false, true, true, false, false
        ]
    );
    // Only statements PostgreSQL refuses in a transaction stand alone on
    // PostgreSQL itself.
    let alone: Vec<bool> = statements.iter().map(|s| s.no_transaction).collect();
    assert_eq!(alone.iter().filter(|&&a| a).count(), 1);
    assert!(alone[10]);
    assert!(!split("CREATE TABLE t (a int)", Sqlite).unwrap()[0].changes_schema);
}

#[test]
fn mysql_statements_that_commit_implicitly_stand_alone() {
    let sql = "CREATE TABLE t (a int); INSERT INTO t VALUES (1); UPDATE t SET a = 2; \
               ALTER TABLE t ADD b int; DELETE FROM t; CREATE TEMPORARY TABLE x (a int); \
               DROP TABLE x; RENAME TABLE t TO u; REPLACE INTO u VALUES (1, 2); \
               WITH c AS (SELECT 1) SELECT * FROM c; CALL p(); TRUNCATE u";
    let marks: Vec<bool> = split(sql, Mysql)
        .unwrap()
        .iter()
        .map(|s| s.no_transaction)
        .collect();
    assert_eq!(
        marks,
        [
            true, false, false, true, false, false, true, true, false, false, true, true
        ]
    );
    let procedure =
        "DELIMITER //\nCREATE PROCEDURE p() BEGIN INSERT INTO t VALUES (1); END //\nDELIMITER ;\n";
    assert!(split(procedure, Mysql).unwrap()[0].no_transaction);
}

// ---- SQLite -------------------------------------------------------------

#[test]
fn sqlite_trigger_bodies_keep_their_semicolons() {
    let trigger = "CREATE TRIGGER orders_status AFTER UPDATE OF qty ON orders\nFOR EACH ROW\nWHEN NEW.qty <> OLD.qty\nBEGIN\n  UPDATE orders SET status = CASE WHEN NEW.qty = 0 THEN 'empty' ELSE 'open' END\n    WHERE id = NEW.id;\n  INSERT INTO log(msg) VALUES ('qty; changed'); -- note; here\nEND";
    let sql = format!("{trigger};\nSELECT 1;");
    assert_eq!(texts(&sql, Sqlite), [trigger, "SELECT 1"]);

    let trigger = "create temp trigger if not exists t1 before delete on a begin\n  select case when old.x then raise(abort, 'no; way') end;\n  delete from b where b.a = old.id;\nend";
    assert_eq!(texts(&format!("{trigger};"), Sqlite), [trigger]);

    let trigger = "CREATE TEMPORARY TRIGGER t2 AFTER INSERT ON a BEGIN SELECT 1; END";
    assert_eq!(
        texts(
            &format!("{trigger}\n-- the last statement, no terminator"),
            Sqlite
        ),
        [trigger]
    );
    assert_eq!(
        texts(&format!("EXPLAIN {trigger}; SELECT 2"), Sqlite),
        [format!("EXPLAIN {trigger}").as_str(), "SELECT 2"]
    );
}

#[test]
fn sqlite_transactions_and_quoted_identifiers() {
    assert_eq!(
        texts(
            "BEGIN TRANSACTION; INSERT INTO t VALUES (1); END TRANSACTION;",
            Sqlite
        ),
        [
            "BEGIN TRANSACTION",
            "INSERT INTO t VALUES (1)",
            "END TRANSACTION"
        ]
    );
    assert_eq!(
        texts("SELECT [a;b], `c;``d` FROM t; SELECT 2", Sqlite),
        ["SELECT [a;b], `c;``d` FROM t", "SELECT 2"]
    );
    // A trigger without BEGIN ends at its first `;` (and the server reports
    // the syntax error).
    assert_eq!(
        texts("CREATE TRIGGER t AFTER INSERT ON a; SELECT 2", Sqlite),
        ["CREATE TRIGGER t AFTER INSERT ON a", "SELECT 2"]
    );
}

#[test]
fn sqlite_unterminated_trigger_body() {
    let sql = "CREATE TRIGGER t AFTER INSERT ON a\nBEGIN\n  SELECT 1;\nSELECT 2;\n";
    assert_eq!(
        error(sql, Sqlite),
        (
            2,
            1,
            "unterminated trigger body `BEGIN … END`: not closed before the end of the input"
                .to_owned()
        )
    );
    // CASE … END is not the end of the body.
    let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT CASE WHEN 1 THEN 2 END;";
    assert_eq!(error(sql, Sqlite).0, 1);
}

// ---- MySQL and MariaDB --------------------------------------------------

#[test]
fn mysql_strings_take_backslash_escapes_and_double_quotes_are_strings() {
    assert_eq!(
        texts(
            r#"INSERT INTO t VALUES ('it\'s; x', "say \"hi\"; ok", "a""b;"); SELECT 2"#,
            Mysql
        ),
        [
            r#"INSERT INTO t VALUES ('it\'s; x', "say \"hi\"; ok", "a""b;")"#,
            "SELECT 2"
        ]
    );
    assert_eq!(
        texts(r"SELECT 'a\\'; SELECT 2", Mysql),
        [r"SELECT 'a\\'", "SELECT 2"]
    );
    assert_eq!(
        texts("SELECT `a;``b` FROM t; SELECT 2", Mysql),
        ["SELECT `a;``b` FROM t", "SELECT 2"]
    );
}

#[test]
fn mysql_comments() {
    assert_eq!(
        texts("# a; comment\nSELECT 1 # x; y\n; SELECT 2", Mysql),
        ["SELECT 1", "SELECT 2"]
    );
    // `--` is a comment only before whitespace or a control character.
    assert_eq!(
        texts("SELECT 1--1; SELECT 2", Mysql),
        ["SELECT 1--1", "SELECT 2"]
    );
    assert_eq!(
        texts("SELECT 1 --\n; SELECT 2 --\t;x\n; SELECT 3 --", Mysql),
        ["SELECT 1", "SELECT 2", "SELECT 3"]
    );
    // Block comments do not nest.
    assert_eq!(
        texts("/* a /* b */ SELECT 1; SELECT 2", Mysql),
        ["SELECT 1", "SELECT 2"]
    );
    // Executable comments are code.
    assert_eq!(
        texts(
            "/*!40101 SET NAMES utf8mb4 */;\n/*M!100100 SET a = 1; */;\nSELECT /*+ NO_ICP(t) */ 1 /*!50000 ; */",
            Mysql
        ),
        [
            "/*!40101 SET NAMES utf8mb4 */",
            "/*M!100100 SET a = 1; */",
            "SELECT /*+ NO_ICP(t) */ 1 /*!50000 ; */"
        ]
    );
}

#[test]
fn mysql_delimiter_sections() {
    let procedure = "CREATE PROCEDURE add_item(IN p_name VARCHAR(50))\nBEGIN\n  DECLARE n INT DEFAULT 0;\n  SELECT COUNT(*) INTO n FROM items WHERE name = p_name;\n  IF n = 0 THEN\n    INSERT INTO items(name) VALUES (p_name);\n  END IF;\nEND";
    let sql = format!(
        "DROP PROCEDURE IF EXISTS add_item;\nDELIMITER //\n{procedure} //\nDELIMITER ;\nCALL add_item('x');"
    );
    let statements = split(&sql, Mysql).unwrap();
    assert_eq!(
        statements.iter().map(|s| s.text).collect::<Vec<_>>(),
        [
            "DROP PROCEDURE IF EXISTS add_item",
            procedure,
            "CALL add_item('x')"
        ]
    );
    assert_eq!(
        statements
            .iter()
            .map(|s| (s.line, s.column))
            .collect::<Vec<_>>(),
        [(1, 1), (3, 1), (12, 1)]
    );

    // `$$`, glued to END; lowercase command; `;;` as in mysqldump.
    let sql = "delimiter $$\nCREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END$$\nSELECT '$$'$$\nDELIMITER ;;\nCREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; END ;;\nDELIMITER ;\nSELECT 1;";
    assert_eq!(
        texts(sql, Mysql),
        [
            "CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END",
            "SELECT '$$'",
            "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; END",
            "SELECT 1"
        ]
    );

    // The DELIMITER line ends a statement before it and produces none; in
    // a section, the last statement needs no delimiter.
    assert_eq!(
        texts(
            "SELECT 1\n  DELIMITER //  ignored\nSELECT 2; SELECT 3 //\nSELECT 4",
            Mysql
        ),
        ["SELECT 1", "SELECT 2; SELECT 3", "SELECT 4"]
    );
    // At the start of a line or of a statement, and only as a command.
    assert_eq!(
        texts("SELECT 1; DELIMITER //\nSELECT 2; SELECT 3 //", Mysql),
        ["SELECT 1", "SELECT 2; SELECT 3"]
    );
    assert_eq!(
        texts(
            "SELECT 1 AS delimiter; SELECT delimiter_x FROM t; SELECT a, delimiter FROM t",
            Mysql
        ),
        [
            "SELECT 1 AS delimiter",
            "SELECT delimiter_x FROM t",
            "SELECT a, delimiter FROM t"
        ]
    );
    // Other dialects have no DELIMITER command.
    assert_eq!(
        texts("DELIMITER //\nSELECT 1;", Sqlite),
        ["DELIMITER //\nSELECT 1"]
    );
}

#[test]
fn mysql_delimiter_errors() {
    assert_eq!(
        error("SELECT 1;\nDELIMITER   \nSELECT 2;", Mysql),
        (
            2,
            1,
            "`DELIMITER` needs the new terminator, e.g. `DELIMITER //`".to_owned()
        )
    );
    assert_eq!(
        error("DELIMITER \\\\", Mysql),
        (
            1,
            1,
            "`DELIMITER \\\\`: the terminator cannot contain a backslash".to_owned()
        )
    );
    assert_eq!(
        error("  DELIMITER 0123456789abcdef", Mysql),
        (
            1,
            3,
            "`DELIMITER 0123456789abcdef`: the terminator is longer than 15 bytes".to_owned()
        )
    );
    assert_eq!(
        error(
            "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nDELIMITER //\n",
            Mysql
        ),
        (
            2,
            1,
            "unterminated `BEGIN … END`: not closed before the `DELIMITER` line 4".to_owned()
        )
    );
}

#[test]
fn mysql_procedure_without_delimiter() {
    let procedure = "CREATE PROCEDURE fill(IN n INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  fill_loop: LOOP\n    SET i = i + 1;\n    IF i > n THEN\n      LEAVE fill_loop;\n    END IF;\n    INSERT INTO nums(v) VALUES (IF(i % 2 = 0, 'even', 'odd'));\n  END LOOP fill_loop;\nEND";
    let sql = format!("{procedure};\nCALL fill(3);");
    assert_eq!(texts(&sql, Mysql), [procedure, "CALL fill(3)"]);
}

#[test]
fn mysql_compound_statements_nest() {
    let procedure = "CREATE DEFINER=`root`@`localhost` PROCEDURE counters(IN mode INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  DECLARE done INT DEFAULT FALSE;\n  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN SET done = TRUE; END;\n  DROP TEMPORARY TABLE IF EXISTS tmp;\n  CREATE TEMPORARY TABLE IF NOT EXISTS tmp (v INT, `end` INT);\n  WHILE i < 3 DO\n    SET i = i + 1;\n  END WHILE;\n  REPEAT\n    SET i = i - 1;\n  UNTIL i <= 0 END REPEAT;\n  CASE mode\n    WHEN 1 THEN INSERT INTO tmp VALUES (1, 1);\n    ELSE IF (mode > 1) THEN INSERT INTO tmp VALUES (2, 2); END IF;\n  END CASE;\n  SET @end = CASE WHEN mode > 0 THEN IF(mode > 1, 'many', 'one') ELSE REPEAT('x', 2) END;\n  SELECT NEW.end, t.begin FROM t;\n  IF EXISTS (SELECT 1 FROM tmp) THEN\n    BEGIN\n      DELETE FROM tmp;\n    END;\n  ELSEIF mode = 0 THEN\n    SELECT 0;\n  END IF;\nEND";
    let sql = format!("{procedure};\nCALL counters(1);");
    assert_eq!(texts(&sql, Mysql), [procedure, "CALL counters(1)"]);
}

#[test]
fn mysql_routines_triggers_and_events() {
    for (statement, rest) in [
        (
            "CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC RETURN IF(x > 0, x, 0)",
            "SELECT f(1)",
        ),
        (
            "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.x = IF(NEW.x < 0, 0, NEW.x)",
            "INSERT INTO a VALUES (1)",
        ),
        (
            "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW IF NEW.x < 0 THEN SET NEW.x = 0; END IF",
            "SELECT 1",
        ),
        (
            "CREATE OR REPLACE DEFINER = 'admin'@'%' TRIGGER t AFTER DELETE ON a FOR EACH ROW FOLLOWS t0 BEGIN DELETE FROM b WHERE id = OLD.id; END",
            "SELECT 1",
        ),
        (
            "CREATE DEFINER=CURRENT_USER() PROCEDURE p() BEGIN SELECT 1; SELECT 2; END",
            "SELECT 1",
        ),
        (
            "CREATE DEFINER=admin@localhost PROCEDURE IF NOT EXISTS p() BEGIN SELECT 1; END",
            "SELECT 1",
        ),
        (
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM a; DELETE FROM b; END",
            "SELECT 1",
        ),
        (
            "CREATE PROCEDURE p() BEGIN FOR i IN 1..3 DO INSERT INTO t VALUES (i); END FOR; END",
            "SELECT 1",
        ),
        (
            "CREATE AGGREGATE FUNCTION agg(x INT) RETURNS INT BEGIN DECLARE s INT DEFAULT 0; LOOP FETCH GROUP NEXT ROW; SET s = s + x; END LOOP; END",
            "SELECT 1",
        ),
        ("BEGIN NOT ATOMIC SELECT 1; SELECT 2; END", "SELECT 1"),
        ("IF @x > 0 THEN SELECT 1; ELSE SELECT 2; END IF", "SELECT 1"),
        // A routine with a single statement, written for the mysql client.
        ("CREATE PROCEDURE p() SELECT 1", "SELECT 2"),
    ] {
        let sql = format!("{statement};\n{rest};");
        assert_eq!(texts(&sql, Mysql), [statement, rest], "{sql}");
    }
    // A top-level BEGIN starts a transaction.
    assert_eq!(
        texts("BEGIN; INSERT INTO t VALUES (1); COMMIT;", Mysql),
        ["BEGIN", "INSERT INTO t VALUES (1)", "COMMIT"]
    );
    assert_eq!(texts("BEGIN WORK; COMMIT", Mysql), ["BEGIN WORK", "COMMIT"]);
}

#[test]
fn mysql_errors() {
    assert_eq!(
        error(
            "SELECT 1;\nCREATE PROCEDURE p()\nBEGIN\n  IF 1 THEN SELECT 1; END IF;\n",
            Mysql
        ),
        (
            3,
            1,
            "unterminated `BEGIN … END`: not closed before the end of the input".to_owned()
        )
    );
    assert_eq!(
        error("CREATE PROCEDURE p() LOOP SELECT 1;", Mysql),
        (
            1,
            22,
            "unterminated `LOOP … END LOOP`: not closed before the end of the input".to_owned()
        )
    );
    assert_eq!(
        error(r#"SELECT "a\";"#, Mysql),
        (1, 8, "unterminated string literal".to_owned())
    );
    assert_eq!(
        error("SELECT 1; /*!40101 SET x = 1;", Mysql),
        (
            1,
            11,
            "unterminated executable comment `/*! … */`".to_owned()
        )
    );
}

// ---- excerpt ------------------------------------------------------------

#[test]
fn excerpts_are_one_line_and_cut() {
    assert_eq!(excerpt("SELECT 1", 20), "SELECT 1");
    assert_eq!(
        excerpt("CREATE TABLE t (\n    a int,\r\n\tb text\n)", 100),
        "CREATE TABLE t ( a int, b text )"
    );
    assert_eq!(excerpt("SELECT a, b, c FROM t", 10), "SELECT a,…");
    assert_eq!(excerpt("SELECT abcdef", 8), "SELECT…");
    assert_eq!(excerpt("SELECT 'é€ü' FROM t", 12), "SELECT 'é€ü…");
    assert_eq!(excerpt("SELECT 1", 8), "SELECT 1");
    assert_eq!(excerpt("SELECT 12", 8), "SELECT…");
    assert_eq!(excerpt("  \n SELECT\n\n1  ", 8), "SELECT 1");
    assert_eq!(excerpt("SELECT 1", 1), "…");
    assert_eq!(excerpt("SELECT 1", 0), "");
    assert_eq!(excerpt("", 5), "");
}

/// Which statements of `sql` control the transaction.
fn controls(sql: &str, dialect: Dialect) -> Vec<bool> {
    split(sql, dialect)
        .unwrap()
        .iter()
        .map(|s| s.transaction_control)
        .collect()
}

#[test]
fn transaction_control_statements_are_marked_on_every_dialect() {
    for dialect in [Sqlite, Postgres, Mysql] {
        for sql in [
            "BEGIN",
            "begin transaction",
            "COMMIT",
            "commit work",
            "END",
            "ROLLBACK",
            "ROLLBACK TRANSACTION",
        ] {
            assert_eq!(controls(sql, dialect), [true], "{sql} on {dialect}");
        }
        for sql in [
            "SAVEPOINT s",
            "RELEASE SAVEPOINT s",
            "ROLLBACK TO SAVEPOINT s",
            "ROLLBACK WORK TO s",
            "INSERT INTO t (begin) VALUES (1)",
            "UPDATE t SET commit = 1",
            "SELECT \"commit\" FROM t",
        ] {
            assert_eq!(controls(sql, dialect), [false], "{sql} on {dialect}");
        }
    }
    assert_eq!(controls("START TRANSACTION", Postgres), [true]);
    assert_eq!(controls("START TRANSACTION", Mysql), [true]);
    assert_eq!(controls("PREPARE TRANSACTION 'x'", Postgres), [true]);
    assert_eq!(controls("ABORT", Postgres), [true]);
    assert_eq!(controls("XA START 'x'", Mysql), [true]);
}

#[test]
fn blocks_that_begin_with_begin_control_no_transaction() {
    let trigger = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET n = 1; END;\nCOMMIT";
    assert_eq!(controls(trigger, Sqlite), [false, true]);
    let block = "BEGIN NOT ATOMIC SELECT 1; END;\nCOMMIT";
    assert_eq!(controls(block, Mysql), [false, true]);
    let function = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\nEND";
    assert_eq!(controls(function, Postgres), [false, true]);
    let plpgsql = "DO $$ BEGIN COMMIT; END $$";
    assert_eq!(controls(plpgsql, Postgres), [false]);
}
