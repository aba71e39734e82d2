//! The schema model on a real MySQL or MariaDB server: a schema read,
//! written out into another database and read back is the same schema,
//! and `SHOW CREATE TABLE` says the same of both; for generated pairs
//! (A, B), A's database upgraded by the rendered diff reads as B, and
//! downgraded by its inverse reads as A again, with its rows kept; and the
//! SQL written for each kind of change.
//!
//! The server is `RETORT_TEST_MARIADB_URL` (default
//! `mysql://root@127.0.0.1:3306/mysql`); each test makes its own
//! databases and drops them. Without a server the tests say they were
//! skipped and pass, unless `RETORT_TEST_REQUIRE_SERVERS=1` (CI).
//! `RETORT_PROPTEST_CASES` raises the number of generated pairs.

#![cfg(feature = "mysql")]

use std::collections::BTreeMap;

use proptest::prelude::*;
use retort::Dialect;
use retort::config::DatabaseUrl;
use retort::db::{self, Driver};
use retort::schema::{
    Action, Change, Check, Column, Deferrable, ForeignKey, Generated, Identity, Index, IndexPart,
    Name, PrimaryKey, Schema, Table, TableChange, Trigger, Unique, View, diff, inverse,
};

const OWN_TABLES: &[&str] = &["retort_version", "retort_applied", "retort_journal"];

fn admin_url() -> String {
    std::env::var("RETORT_TEST_MARIADB_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".to_owned())
}

fn connect(url: &str) -> Result<Box<dyn Driver>, String> {
    let parsed = DatabaseUrl::parse(url).map_err(|e| e.to_string())?;
    db::connect(&parsed).map_err(|e| format!("no server at {}: {e}", parsed.redacted()))
}

/// A database of its own for one test, dropped with it.
struct Database {
    name: String,
    driver: Box<dyn Driver>,
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self
            .driver
            .run(&format!("DROP DATABASE IF EXISTS `{}`", self.name));
    }
}

impl Database {
    /// A fresh database, or why there is none (no server).
    fn create(tag: &str) -> Result<Database, String> {
        let admin = admin_url();
        let mut driver = connect(&admin)?;
        let name = format!("retort_schema_{tag}_{}", std::process::id());
        driver
            .run(&format!("DROP DATABASE IF EXISTS `{name}`"))
            .and_then(|()| driver.run(&format!("CREATE DATABASE `{name}`")))
            .map_err(|e| format!("cannot create a test database: {e}"))?;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let driver = connect(&format!("{base}/{name}"))?;
        Ok(Database { name, driver })
    }

    fn driver(&mut self) -> &mut dyn Driver {
        self.driver.as_mut()
    }

    fn inspect(&mut self) -> Schema {
        db::inspect(self.driver(), OWN_TABLES).unwrap()
    }

    /// Drops every table and view: a clean database for the next case,
    /// cheaper than a new one.
    fn clear(&mut self) {
        let objects = self
            .driver
            .query_text(
                "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE()",
            )
            .unwrap();
        let mut statements = vec!["SET FOREIGN_KEY_CHECKS = 0".to_owned()];
        for row in objects {
            let (name, kind) = (row[0].clone().unwrap(), row[1].clone().unwrap());
            let kind = if kind == "VIEW" { "VIEW" } else { "TABLE" };
            statements.push(format!("DROP {kind} `{name}`"));
        }
        statements.push("SET FOREIGN_KEY_CHECKS = 1".to_owned());
        run_all(self.driver(), &statements).unwrap();
    }

    fn show_create_table(&mut self, table: &str) -> String {
        let rows = self
            .driver
            .query_text(&format!("SHOW CREATE TABLE `{table}`"))
            .unwrap();
        rows[0][1].clone().unwrap()
    }
}

/// A fresh database, or `None` after saying why the test is skipped.
#[allow(clippy::print_stderr)]
fn database(tag: &str) -> Option<Database> {
    match Database::create(tag) {
        Ok(database) => Some(database),
        Err(why) if std::env::var("RETORT_TEST_REQUIRE_SERVERS").is_ok_and(|v| v == "1") => {
            panic!("MariaDB is required here (RETORT_TEST_REQUIRE_SERVERS=1): {why}")
        }
        Err(why) => {
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// Runs statements one by one; MySQL commits DDL as it goes, so there is
/// nothing to roll back.
fn run_all(driver: &mut dyn Driver, statements: &[String]) -> Result<(), String> {
    for statement in statements {
        driver
            .run(statement)
            .map_err(|e| format!("{statement}: {e}"))?;
    }
    Ok(())
}

fn plan(from: &Schema, to: &Schema) -> Vec<Change> {
    diff(
        from,
        to,
        &Default::default(),
        db::diff_options(Dialect::Mysql),
    )
}

fn statements_of(changes: &[Change]) -> Vec<String> {
    db::render(Dialect::Mysql, changes)
        .unwrap()
        .into_iter()
        .flat_map(|r| r.statements)
        .collect()
}

/// The statements that build `schema` in an empty database.
fn create_statements(schema: &Schema) -> Vec<String> {
    statements_of(&plan(&Schema::default(), schema))
}

fn assert_same(left: &Schema, right: &Schema, context: &str) {
    let changes = plan(left, right);
    assert!(changes.is_empty(), "{context}: {changes:#?}");
}

// Keys, indexes, foreign keys and checks in the order the renderer writes
// them (by name), so that `SHOW CREATE TABLE` lists them alike.
const SHOP: &str = r"
CREATE TABLE users (
    id int unsigned NOT NULL AUTO_INCREMENT,
    email varchar(255) COLLATE utf8mb4_bin NOT NULL,
    name varchar(100) DEFAULT 'anon' COMMENT 'display name',
    active bool NOT NULL DEFAULT TRUE,
    karma int(11) NOT NULL DEFAULT -1,
    kind enum('a','b','c') NOT NULL DEFAULT 'a',
    flags set('x','y') DEFAULT NULL,
    prefs json,
    legacy varchar(20) CHARACTER SET latin1,
    created timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    updated datetime(3) NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP(3),
    price decimal(10,2) NOT NULL DEFAULT 0.00,
    bio text,
    lower_email varchar(255) AS (lower(email)) VIRTUAL,
    doubled int AS (karma * 2) STORED,
    PRIMARY KEY (id),
    UNIQUE KEY (email),
    UNIQUE KEY name_kind (name, kind),
    KEY bio_prefix (bio(20), created DESC),
    FULLTEXT KEY ft_bio (bio),
    CHECK (price >= 0),
    CONSTRAINT karma_bounded CHECK (karma BETWEEN -100 AND 100)
) COMMENT='people';
CREATE TABLE orders (
    id bigint NOT NULL AUTO_INCREMENT,
    user_id int unsigned NOT NULL,
    parent_id bigint,
    total decimal(10,2) NOT NULL,
    note varchar(50),
    PRIMARY KEY (id),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE ON UPDATE RESTRICT,
    CONSTRAINT orders_parent FOREIGN KEY (parent_id) REFERENCES orders (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
CREATE TABLE items (
    order_id bigint NOT NULL,
    n int NOT NULL,
    sku char(8) NOT NULL,
    PRIMARY KEY (order_id, n),
    KEY sku (sku),
    CONSTRAINT items_order FOREIGN KEY (order_id) REFERENCES orders (id)
);
CREATE TABLE logs (msg text, at datetime) ENGINE=MyISAM;
CREATE VIEW big_orders AS SELECT o.id, u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE o.total > 100;
CREATE VIEW bigger AS SELECT id FROM big_orders WHERE id > 5;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW SET NEW.karma = NEW.karma + 1;
";

/// Runs a script of statements.
fn run_script(database: &mut Database, sql: &str) {
    let statements: Vec<String> = retort::sql::split(sql, Dialect::Mysql)
        .unwrap()
        .iter()
        .map(|s| s.text.to_owned())
        .collect();
    run_all(database.driver(), &statements).unwrap();
}

fn build_shop(database: &mut Database) {
    run_script(database, SHOP);
}

#[test]
fn a_schema_written_out_reads_back_the_same() {
    let Some(mut original) = database("shop") else {
        return;
    };
    build_shop(&mut original);
    let read = original.inspect();
    assert_eq!(read.tables.len(), 4);
    assert_eq!(read.views.len(), 2);

    let statements = create_statements(&read);
    let Some(mut copy) = database("shop_copy") else {
        return;
    };
    run_all(copy.driver(), &statements).unwrap();
    let copied = copy.inspect();
    assert_same(&read, &copied, "copy against original");
    assert_same(&copied, &read, "original against copy");
    // The same text from the copy: the dump is stable.
    assert_eq!(create_statements(&copied), statements);
    // And the server sees the same tables.
    for name in read.tables.keys() {
        assert_eq!(
            copy.show_create_table(&name.name),
            original.show_create_table(&name.name),
            "SHOW CREATE TABLE {name}"
        );
    }
}

#[test]
fn what_differs_between_servers_reads_in_one_spelling() {
    let Some(mut database) = database("spelling") else {
        return;
    };
    build_shop(&mut database);
    let schema = database.inspect();
    let users = &schema.tables[&Name::new("users")];
    let orders = &schema.tables[&Name::new("orders")];
    let items = &schema.tables[&Name::new("items")];
    let column = |table: &Table, name: &str| table.column(name).unwrap().clone();

    assert_eq!(column(users, "id").ty, "int unsigned");
    assert_eq!(column(users, "id").identity, Some(Identity::AutoIncrement));
    assert_eq!(column(users, "karma").ty, "int");
    assert_eq!(column(users, "active").ty, "tinyint(1)");
    assert_eq!(column(users, "active").default.as_deref(), Some("1"));
    assert_eq!(column(users, "kind").ty, "enum('a','b','c')");
    assert_eq!(column(users, "kind").default.as_deref(), Some("'a'"));
    assert_eq!(column(users, "flags").default, None);
    assert_eq!(
        column(users, "name").comment.as_deref(),
        Some("display name")
    );
    // MariaDB's JSON is a longtext with a check: read as MySQL's type.
    assert_eq!(column(users, "prefs").ty, "json");
    assert_eq!(column(users, "prefs").collation, None);
    assert_eq!(
        column(users, "email").collation.as_deref(),
        Some("utf8mb4_bin")
    );
    assert_eq!(
        column(users, "legacy").collation.as_deref(),
        Some("latin1_swedish_ci")
    );
    assert_eq!(
        column(users, "created").default.as_deref(),
        Some("current_timestamp()")
    );
    assert_eq!(
        column(users, "created").on_update.as_deref(),
        Some("current_timestamp()")
    );
    assert_eq!(
        column(users, "updated").on_update.as_deref(),
        Some("current_timestamp(3)")
    );
    assert!(column(users, "doubled").generated.as_ref().unwrap().stored);
    assert!(
        !column(users, "lower_email")
            .generated
            .as_ref()
            .unwrap()
            .stored
    );

    // Names the server chose are marked, the JSON check is hidden.
    assert_eq!(users.checks.len(), 2);
    assert!(users.checks.iter().any(|c| c.generated_name));
    assert!(
        users
            .checks
            .iter()
            .any(|c| c.name == "karma_bounded" && !c.generated_name)
    );
    assert_eq!(users.uniques.len(), 2);
    assert!(
        users
            .uniques
            .iter()
            .any(|u| u.generated_name && u.columns == ["email"])
    );
    let prefix = users
        .indexes
        .iter()
        .find(|i| i.name == "bio_prefix")
        .unwrap();
    assert_eq!(prefix.parts[0].prefix, Some(20));
    assert!(prefix.parts[1].descending);
    let fulltext = users.indexes.iter().find(|i| i.name == "ft_bio").unwrap();
    assert_eq!(fulltext.method.as_deref(), Some("fulltext"));
    assert_eq!(users.comment.as_deref(), Some("people"));
    assert_eq!(users.triggers.len(), 1);
    assert!(users.options.is_empty(), "{:?}", users.options);

    // The indexes InnoDB made for the foreign keys are not the user's;
    // RESTRICT is NO ACTION.
    assert!(orders.indexes.is_empty(), "{:?}", orders.indexes);
    let to_users = orders
        .foreign_keys
        .iter()
        .find(|k| k.references == Name::new("users"))
        .unwrap();
    assert!(to_users.generated_name);
    assert_eq!(to_users.on_delete, Action::Cascade);
    assert_eq!(to_users.on_update, Action::NoAction);
    assert_eq!(
        orders.options.get("charset").map(String::as_str),
        Some("latin1")
    );
    assert_eq!(items.indexes.len(), 1);
    let logs = &schema.tables[&Name::new("logs")];
    assert_eq!(
        logs.options.get("engine").map(String::as_str),
        Some("MyISAM")
    );

    let bigger = &schema.views[&Name::new("bigger")];
    assert_eq!(
        bigger
            .reads
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>(),
        ["big_orders"]
    );
    assert!(!bigger.definition.contains(&database.name));

    // retort's own tables are never part of the schema.
    run_all(
        database.driver(),
        &["CREATE TABLE retort_version (version_num varchar(32))".into()],
    )
    .unwrap();
    assert!(
        !database
            .inspect()
            .tables
            .contains_key(&Name::new("retort_version"))
    );
}

/// Pairs of schemas, as DDL, whose migrations MySQL makes hard: each is
/// built, A upgraded to B and downgraded again, read back each time.
const SCENARIOS: &[(&str, &str)] = &[
    // Both ends of a foreign key change type: MariaDB refuses either
    // change under the key (1832/1833), so the key goes and comes back.
    (
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE t (id int PRIMARY KEY, a int, CONSTRAINT to_p FOREIGN KEY (a) REFERENCES p (id))",
        "CREATE TABLE p (id bigint PRIMARY KEY);
         CREATE TABLE t (id int PRIMARY KEY, a bigint, CONSTRAINT to_p FOREIGN KEY (a) REFERENCES p (id))",
    ),
    // The index InnoDB made for a foreign key, replaced by the user's
    // under its name, and given back.
    (
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE t (id int PRIMARY KEY, a int, FOREIGN KEY (a) REFERENCES p (id))",
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE t (id int PRIMARY KEY, a int, KEY a (a, id), FOREIGN KEY (a) REFERENCES p (id))",
    ),
    // A unique key replaces the user's index under a foreign key: the
    // index that serves the key in between is not the server's own.
    (
        "CREATE TABLE t (id int PRIMARY KEY, c int, KEY t_idx (c), FOREIGN KEY (c) REFERENCES t (id))",
        "CREATE TABLE t (id int PRIMARY KEY, c int, UNIQUE KEY (c), FOREIGN KEY (c) REFERENCES t (id))",
    ),
    // The user's index under a foreign key goes, the key stays.
    (
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE t (id int PRIMARY KEY, a int, KEY by_a (a),
             CONSTRAINT to_p FOREIGN KEY (a) REFERENCES p (id))",
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE t (id int PRIMARY KEY, a int, CONSTRAINT to_p FOREIGN KEY (a) REFERENCES p (id))",
    ),
    // A primary key serving a foreign key changes.
    (
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE t (a int NOT NULL, b int NOT NULL, PRIMARY KEY (a, b),
             FOREIGN KEY (a) REFERENCES p (id))",
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE t (a int NOT NULL, b int NOT NULL, PRIMARY KEY (b),
             FOREIGN KEY (a) REFERENCES p (id))",
    ),
    // Timestamps, JSON, a changed comment, a generated column made stored.
    (
        "CREATE TABLE t (id int PRIMARY KEY, at timestamp NULL, doc text,
             g int AS (id + 1) VIRTUAL) COMMENT 'one'",
        "CREATE TABLE t (id int PRIMARY KEY,
             at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
             doc json, g int AS (id + 1) STORED, extra varchar(9) NOT NULL DEFAULT '')
             COMMENT 'two'",
    ),
];

#[test]
fn migrations_mysql_makes_hard() {
    let (Some(mut db_a), Some(mut db_b)) = (database("hard_a"), database("hard_b")) else {
        return;
    };
    for (a, b) in SCENARIOS {
        let build = |database: &mut Database, sql: &str| {
            database.clear();
            run_script(database, sql);
            database.inspect()
        };
        let read_b = build(&mut db_b, b);
        let read_a = build(&mut db_a, a);
        let changes = plan(&read_a, &read_b);
        let upgrade = statements_of(&changes);
        run_all(db_a.driver(), &upgrade).unwrap_or_else(|e| panic!("{e}\n{upgrade:#?}"));
        assert_same(&db_a.inspect(), &read_b, &format!("after {upgrade:#?}"));
        let downgrade = statements_of(&inverse(&changes));
        run_all(db_a.driver(), &downgrade).unwrap_or_else(|e| panic!("{e}\n{downgrade:#?}"));
        assert_same(&db_a.inspect(), &read_a, &format!("after {downgrade:#?}"));
    }
}

#[test]
fn renames_keep_the_rows() {
    let (Some(mut db_a), Some(mut db_b)) = (database("rename_a"), database("rename_b")) else {
        return;
    };
    run_script(
        &mut db_a,
        "CREATE TABLE t (id int PRIMARY KEY, a varchar(9) NOT NULL DEFAULT 'x');
         INSERT INTO t VALUES (1, 'kept')",
    );
    run_script(
        &mut db_b,
        "CREATE TABLE u (id int PRIMARY KEY, b varchar(9) NOT NULL DEFAULT 'x')",
    );
    let (read_a, read_b) = (db_a.inspect(), db_b.inspect());
    let mut renames = retort::schema::Renames::default();
    renames.tables.insert(Name::new("u"), Name::new("t"));
    renames
        .columns
        .insert((Name::new("u"), "b".into()), "a".into());
    let changes = diff(&read_a, &read_b, &renames, db::diff_options(Dialect::Mysql));
    let upgrade = statements_of(&changes);
    assert_eq!(
        upgrade,
        ["RENAME TABLE t TO u", "ALTER TABLE u RENAME COLUMN a TO b"]
    );
    run_all(db_a.driver(), &upgrade).unwrap();
    assert_same(&db_a.inspect(), &read_b, "after the renames");
    run_all(db_a.driver(), &statements_of(&inverse(&changes))).unwrap();
    assert_same(&db_a.inspect(), &read_a, "after their inverses");
    let rows = db_a.driver().query_text("SELECT a FROM t").unwrap();
    assert_eq!(rows, [[Some("kept".to_owned())]]);
}

// ------------------------------------------------------------ rendering

fn table(name: &str, columns: Vec<Column>) -> Table {
    let mut table = Table::new(Name::new(name));
    table.columns = columns;
    table
}

fn not_null(name: &str, ty: &str) -> Column {
    Column {
        nullable: false,
        ..Column::new(name, ty)
    }
}

fn key(name: &str, generated: bool, column: &str, parent: &str) -> ForeignKey {
    ForeignKey {
        name: name.into(),
        generated_name: generated,
        columns: vec![column.into()],
        references: Name::new(parent),
        referenced_columns: vec!["id".into()],
        on_delete: Action::Cascade,
        on_update: Action::NoAction,
        deferrable: Deferrable::No,
        match_full: false,
    }
}

fn index(name: &str, parts: Vec<IndexPart>) -> Index {
    Index {
        name: name.into(),
        unique: false,
        parts,
        predicate: None,
        method: None,
        include: Vec::new(),
    }
}

/// The SQL of the changes to `from` (a table `t`).
fn alter_sql(from: &Table, changes: Vec<TableChange>) -> Vec<String> {
    statements_of(&[Change::AlterTable {
        from: from.clone(),
        to: from.clone(),
        changes,
    }])
}

#[test]
fn create_table_writes_everything_inline() {
    let mut id = not_null("id", "bigint");
    id.identity = Some(Identity::AutoIncrement);
    let mut name = Column::new("name", "varchar(100)");
    name.default = Some("'anon'".into());
    name.collation = Some("utf8mb4_bin".into());
    name.comment = Some("it's".into());
    let mut seen = not_null("seen", "timestamp");
    seen.default = Some("current_timestamp()".into());
    seen.on_update = Some("current_timestamp()".into());
    let mut double = Column::new("double", "bigint");
    double.generated = Some(Generated {
        expression: "`id` * 2".into(),
        stored: true,
    });
    let mut t = table(
        "t",
        vec![id, name, seen, double, Column::new("at", "timestamp")],
    );
    t.primary_key = Some(PrimaryKey {
        name: "PRIMARY".into(),
        generated_name: true,
        columns: vec!["id".into()],
    });
    t.uniques.push(Unique {
        name: "name".into(),
        generated_name: true,
        columns: vec!["name".into()],
    });
    t.uniques.push(Unique {
        name: "name_seen".into(),
        generated_name: false,
        columns: vec!["name".into(), "seen".into()],
    });
    t.indexes.push(index(
        "by_name",
        vec![
            IndexPart {
                prefix: Some(10),
                ..IndexPart::column("name")
            },
            IndexPart {
                descending: true,
                ..IndexPart::column("seen")
            },
        ],
    ));
    t.indexes.push(Index {
        method: Some("fulltext".into()),
        ..index("words", vec![IndexPart::column("name")])
    });
    t.foreign_keys.push(key("t_ibfk_1", true, "id", "p"));
    t.foreign_keys.push(key("to_q", false, "double", "q"));
    t.checks.push(Check {
        name: "CONSTRAINT_1".into(),
        generated_name: true,
        expression: "`id` > 0".into(),
    });
    t.triggers.push(Trigger {
        name: "t_touch".into(),
        definition: "CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW SET NEW.id = NEW.id"
            .into(),
    });
    t.comment = Some("things".into());
    t.options.insert("engine".into(), "MyISAM".into());
    t.options.insert("charset".into(), "latin1".into());
    t.options.insert("collation".into(), "latin1_bin".into());
    let statements = statements_of(&[Change::CreateTable { table: t.clone() }]);
    assert_eq!(
        statements,
        [
            "CREATE TABLE t (\n  \
             id bigint NOT NULL AUTO_INCREMENT,\n  \
             name varchar(100) COLLATE utf8mb4_bin DEFAULT 'anon' COMMENT 'it''s',\n  \
             seen timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),\n  \
             `double` bigint GENERATED ALWAYS AS (`id` * 2) STORED,\n  \
             at timestamp NULL,\n  \
             PRIMARY KEY (id),\n  \
             UNIQUE KEY name (name),\n  \
             UNIQUE KEY name_seen (name, seen),\n  \
             KEY by_name (name(10), seen DESC),\n  \
             FULLTEXT KEY words (name),\n  \
             FOREIGN KEY (id) REFERENCES p (id) ON DELETE CASCADE,\n  \
             CONSTRAINT to_q FOREIGN KEY (`double`) REFERENCES q (id) ON DELETE CASCADE,\n  \
             CHECK (`id` > 0)\n\
             ) ENGINE=MyISAM DEFAULT CHARSET=latin1 COLLATE=latin1_bin COMMENT='things'",
            "CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW SET NEW.id = NEW.id",
        ]
    );
    assert_eq!(
        statements_of(&[Change::DropTable { table: t }]),
        ["DROP TABLE t"]
    );
    assert_eq!(
        statements_of(&[Change::RenameTable {
            from: Name::new("t"),
            to: Name::new("order"),
        }]),
        ["RENAME TABLE t TO `order`"]
    );
}

#[test]
fn column_changes_write_the_whole_column() {
    let t = table("t", vec![not_null("id", "int"), Column::new("a", "int")]);
    let mut b = Column::new("b", "varchar(9)");
    b.default = Some("current_timestamp() + interval 1 day".into());
    let mut wider = not_null("a", "bigint");
    wider.default = Some("0".into());
    let mut generated = Column::new("a", "int");
    generated.generated = Some(Generated {
        expression: "`id` + 1".into(),
        stored: false,
    });
    let mut shape = t.clone();
    shape.columns.insert(1, b.clone());
    assert_eq!(
        statements_of(&[Change::AlterTable {
            from: t.clone(),
            to: shape,
            changes: vec![TableChange::AddColumn { column: b.clone() }],
        }]),
        [
            "ALTER TABLE t ADD COLUMN b varchar(9) DEFAULT (current_timestamp() + interval 1 day) AFTER id"
        ]
    );
    assert_eq!(
        alter_sql(
            &t,
            vec![
                TableChange::DropColumn { column: b },
                TableChange::AlterColumn {
                    from: Column::new("a", "int"),
                    to: wider,
                },
                TableChange::RenameColumn {
                    from: "a".into(),
                    to: "c".into(),
                },
                TableChange::AlterColumn {
                    from: Column::new("a", "int"),
                    to: generated,
                },
                TableChange::SetComment {
                    from: None,
                    to: Some("x".into()),
                },
                TableChange::SetComment {
                    from: Some("x".into()),
                    to: None,
                },
            ]
        ),
        [
            "ALTER TABLE t DROP COLUMN b",
            "ALTER TABLE t MODIFY COLUMN a bigint NOT NULL DEFAULT 0",
            "ALTER TABLE t RENAME COLUMN a TO c",
            // MODIFY cannot make a column generated.
            "ALTER TABLE t DROP COLUMN a",
            "ALTER TABLE t ADD COLUMN a int GENERATED ALWAYS AS (`id` + 1) VIRTUAL AFTER id",
            "ALTER TABLE t COMMENT = 'x'",
            "ALTER TABLE t COMMENT = ''",
        ]
    );
}

#[test]
fn keys_indexes_and_constraints() {
    let mut t = table("t", vec![not_null("id", "int"), Column::new("a", "int")]);
    t.primary_key = Some(PrimaryKey {
        name: "PRIMARY".into(),
        generated_name: true,
        columns: vec!["id".into()],
    });
    let unique = Unique {
        name: "a".into(),
        generated_name: true,
        columns: vec!["a".into()],
    };
    let named = Unique {
        name: "one_a".into(),
        generated_name: false,
        columns: vec!["a".into()],
    };
    let descending = index(
        "a_desc",
        vec![IndexPart {
            descending: true,
            ..IndexPart::column("a")
        }],
    );
    let check = Check {
        name: "positive".into(),
        generated_name: false,
        expression: "`a` > 0".into(),
    };
    let unnamed = Check {
        name: "CONSTRAINT_1".into(),
        generated_name: true,
        ..check.clone()
    };
    let trigger = Trigger {
        name: "t_touch".into(),
        definition: "CREATE TRIGGER t_touch BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1".into(),
    };
    assert_eq!(
        alter_sql(
            &t,
            vec![
                TableChange::DropPrimaryKey {
                    key: t.primary_key.clone().unwrap()
                },
                TableChange::AddPrimaryKey {
                    key: t.primary_key.clone().unwrap()
                },
                TableChange::AddUnique {
                    unique: unique.clone()
                },
                TableChange::AddUnique {
                    unique: named.clone()
                },
                TableChange::DropUnique { unique: named },
                TableChange::CreateIndex {
                    index: descending.clone()
                },
                TableChange::DropIndex { index: descending },
                TableChange::AddCheck {
                    check: check.clone()
                },
                TableChange::AddCheck { check: unnamed },
                TableChange::DropCheck { check },
                TableChange::CreateTrigger {
                    trigger: trigger.clone()
                },
                TableChange::DropTrigger { trigger },
            ]
        ),
        [
            "ALTER TABLE t DROP PRIMARY KEY",
            "ALTER TABLE t ADD PRIMARY KEY (id)",
            "ALTER TABLE t ADD UNIQUE KEY a (a)",
            "ALTER TABLE t ADD UNIQUE KEY one_a (a)",
            "ALTER TABLE t DROP INDEX one_a",
            "CREATE INDEX a_desc ON t (a DESC)",
            "ALTER TABLE t DROP INDEX a_desc",
            "ALTER TABLE t ADD CONSTRAINT positive CHECK (`a` > 0)",
            "ALTER TABLE t ADD CHECK (`a` > 0)",
            "ALTER TABLE t DROP CONSTRAINT positive",
            "CREATE TRIGGER t_touch BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
            "DROP TRIGGER t_touch",
        ]
    );
}

#[test]
fn foreign_keys_keep_the_index_innodb_needs() {
    let mut t = table("t", vec![not_null("id", "int"), Column::new("a", "int")]);
    let fk = key("t_ibfk_1", true, "a", "p");
    let named = key("to_p", false, "a", "p");
    // Adding and dropping a key with no index of its own: InnoDB makes
    // one, named after the column (or the constraint), which goes too.
    assert_eq!(
        alter_sql(
            &t,
            vec![
                TableChange::AddForeignKey { key: named.clone() },
                TableChange::DropForeignKey { key: named.clone() },
            ]
        ),
        [
            "ALTER TABLE t ADD CONSTRAINT to_p FOREIGN KEY (a) REFERENCES p (id) ON DELETE CASCADE",
            "ALTER TABLE t DROP FOREIGN KEY to_p, DROP INDEX to_p",
        ]
    );
    // A key served by an index of the user's leaves it alone; removing
    // that index brings back the one InnoDB would make.
    let by_a = index("by_a", vec![IndexPart::column("a")]);
    t.indexes.push(by_a.clone());
    t.foreign_keys.push(fk.clone());
    assert_eq!(
        alter_sql(
            &t,
            vec![
                TableChange::DropIndex {
                    index: by_a.clone()
                },
                TableChange::CreateIndex { index: by_a },
                TableChange::DropForeignKey { key: fk.clone() },
            ]
        ),
        [
            "ALTER TABLE t DROP INDEX by_a, ADD INDEX a (a)",
            "ALTER TABLE t DROP INDEX a, ADD INDEX by_a (a)",
            "ALTER TABLE t DROP FOREIGN KEY t_ibfk_1",
        ]
    );
    t.indexes.clear();
    // An index of the user's under the name InnoDB gave its own.
    assert_eq!(
        alter_sql(
            &t,
            vec![TableChange::CreateIndex {
                index: index("a", vec![IndexPart::column("a"), IndexPart::column("id")]),
            }]
        ),
        ["ALTER TABLE t DROP INDEX a, ADD INDEX a (a, id)"]
    );
    assert_eq!(
        alter_sql(&t, vec![TableChange::DropForeignKey { key: fk }]),
        ["ALTER TABLE t DROP FOREIGN KEY t_ibfk_1, DROP INDEX a"]
    );
}

#[test]
fn views() {
    let view = View {
        name: Name::new("v"),
        definition: "select `t`.`id` AS `id` from `t`".into(),
        reads: [Name::new("t")].into(),
        comment: None,
    };
    assert_eq!(
        statements_of(&[
            Change::CreateView { view: view.clone() },
            Change::DropView { view }
        ]),
        [
            "CREATE VIEW v AS select `t`.`id` AS `id` from `t`",
            "DROP VIEW v"
        ]
    );
}

// ------------------------------------------------------------ generated

/// Types that convert into one another with the value `'1'` every row
/// holds, and can all be indexed whole.
const TYPES: &[(&str, [&str; 2])] = &[
    ("int", ["0", "-1"]),
    ("varchar(20)", ["'x'", "''"]),
    ("bigint", ["7", "1"]),
    ("enum('1','2')", ["'2'", "'1'"]),
    ("double", ["1.5", "0"]),
];

/// One generated table: columns (name, type, nullable, default,
/// collation), auto-increment id, an index (unique?, descending?), a
/// foreign key's target, a check (named?), a unique key, a comment, a
/// generated column (stored?).
type TableSpec = (
    Vec<(usize, usize, bool, Option<usize>, bool)>,
    bool,
    Option<(bool, bool)>,
    Option<usize>,
    Option<bool>,
    bool,
    Option<usize>,
    Option<bool>,
);

fn any_table() -> impl Strategy<Value = TableSpec> {
    let column = (
        0..4usize,
        0..TYPES.len(),
        any::<bool>(),
        proptest::option::of(0..2usize),
        any::<bool>(),
    );
    (
        proptest::collection::vec(column, 1..4),
        any::<bool>(),
        proptest::option::of((any::<bool>(), any::<bool>())),
        proptest::option::of(0..4usize),
        proptest::option::of(any::<bool>()),
        any::<bool>(),
        proptest::option::of(0..2usize),
        proptest::option::of(any::<bool>()),
    )
}

/// A schema over a small universe of names, with the kinds MySQL has.
fn any_schema() -> impl Strategy<Value = Schema> {
    (
        proptest::collection::btree_map(0..4usize, any_table(), 1..4),
        proptest::option::of((0..4usize, any::<bool>())),
    )
        .prop_map(|(tables, view)| {
            let present: Vec<usize> = tables.keys().copied().collect();
            let mut schema = Schema::default();
            for (at, spec) in tables {
                let table = generated_table(at, spec, &present);
                schema.tables.insert(table.name.clone(), table);
            }
            if let Some((read, second)) = view {
                add_views(&mut schema, read, second);
            }
            schema
        })
}

fn generated_table(at: usize, spec: TableSpec, present: &[usize]) -> Table {
    let (columns, counted, index, reference, check, unique, comment, computed) = spec;
    let mut table = Table::new(Name::new(format!("t{at}")));
    let mut id = not_null("id", "int");
    id.identity = counted.then_some(Identity::AutoIncrement);
    table.columns.push(id);
    for (name, ty, nullable, default, binary) in columns {
        let name = format!("c{name}");
        if table.column(&name).is_some() {
            continue;
        }
        let (ty, defaults) = TYPES[ty];
        let mut column = Column::new(name, ty);
        column.nullable = nullable;
        column.default = default.map(|d| defaults[d].to_owned());
        column.collation = (binary && ty.starts_with("varchar")).then(|| "utf8mb4_bin".into());
        table.columns.push(column);
    }
    table.primary_key = Some(PrimaryKey {
        name: "PRIMARY".into(),
        generated_name: true,
        columns: vec!["id".into()],
    });
    let first = table.columns[1].name.clone();
    if let Some(target) = reference.filter(|t| present.contains(t)) {
        // InnoDB wants the types alike; every row holds 1, which every
        // parent has.
        let column = &mut table.columns[1];
        column.ty = "int".into();
        column.collation = None;
        column.default = (!column.nullable).then(|| "1".into());
        let mut fk = key("", true, &first, &format!("t{target}"));
        if target % 2 == 1 {
            fk.on_delete = Action::NoAction;
        }
        table.foreign_keys.push(fk);
    }
    if let Some((unique, descending)) = index {
        table.indexes.push(Index {
            unique,
            ..index_on(&format!("t{at}_idx"), &first, descending)
        });
    }
    if let Some(named) = check {
        table.checks.push(Check {
            name: if named {
                format!("t{at}_check")
            } else {
                String::new()
            },
            generated_name: !named,
            // Not on `id`: MariaDB refuses checks on AUTO_INCREMENT.
            expression: format!("length({first}) < 100"),
        });
    }
    if unique {
        table.uniques.push(Unique {
            name: String::new(),
            generated_name: true,
            columns: vec![first],
        });
    }
    table.comment = comment.map(|c| ["note", "it's"][c].to_owned());
    if let Some(stored) = computed {
        let mut g = Column::new("g", "int");
        g.generated = Some(Generated {
            // MariaDB refuses AUTO_INCREMENT columns in the expression.
            expression: "7 * 6".into(),
            stored,
        });
        table.columns.push(g);
    }
    table
}

/// Rows stay through the upgrade and the downgrade in the tables A and B
/// share, and the tables only one of them has are created empty: a
/// foreign key from a shared table to one of those could never be added.
fn only_shared_parents(a: &mut Schema, b: &mut Schema) {
    let shared: Vec<Name> = a
        .tables
        .keys()
        .filter(|name| b.tables.contains_key(*name))
        .cloned()
        .collect();
    for schema in [a, b] {
        for name in &shared {
            if let Some(table) = schema.tables.get_mut(name) {
                table
                    .foreign_keys
                    .retain(|key| shared.contains(&key.references));
            }
        }
    }
}

fn index_on(name: &str, column: &str, descending: bool) -> Index {
    index(
        name,
        vec![IndexPart {
            descending,
            ..IndexPart::column(column)
        }],
    )
}

/// A view reading a table, and maybe a second reading the first.
fn add_views(schema: &mut Schema, read: usize, second: bool) {
    let Some(table) = schema
        .tables
        .keys()
        .nth(read % schema.tables.len())
        .cloned()
    else {
        return;
    };
    let mut view = |name: &str, reads: &Name| {
        schema.views.insert(
            Name::new(name),
            View {
                name: Name::new(name),
                definition: format!("select id from {}", reads.name),
                reads: [reads.clone()].into(),
                comment: None,
            },
        );
    };
    view("v", &table);
    if second {
        view("w", &Name::new("v"));
    }
}

/// One row in each table, `'1'` in every column it can be written to.
fn seed(database: &mut Database, schema: &Schema) -> Result<(), String> {
    let mut statements = vec!["SET FOREIGN_KEY_CHECKS = 0".to_owned()];
    for table in schema.tables.values() {
        let columns: Vec<&Column> = table
            .columns
            .iter()
            .filter(|c| c.generated.is_none())
            .collect();
        statements.push(format!(
            "INSERT INTO `{}` ({}) VALUES ({})",
            table.name.name,
            columns
                .iter()
                .map(|c| format!("`{}`", c.name))
                .collect::<Vec<_>>()
                .join(", "),
            vec!["'1'"; columns.len()].join(", ")
        ));
    }
    statements.push("SET FOREIGN_KEY_CHECKS = 1".to_owned());
    run_all(database.driver(), &statements)
}

fn row_counts(database: &mut Database, schema: &Schema) -> BTreeMap<String, String> {
    schema
        .tables
        .keys()
        .map(|name| {
            let rows = database
                .driver
                .query_text(&format!("SELECT count(*) FROM `{}`", name.name))
                .unwrap();
            (name.name.clone(), rows[0][0].clone().unwrap_or_default())
        })
        .collect()
}

fn build(database: &mut Database, schema: &Schema) -> Schema {
    database.clear();
    let statements = create_statements(schema);
    if let Err(e) = run_all(database.driver(), &statements) {
        panic!("building a generated schema: {e}\n{statements:#?}");
    }
    database.inspect()
}

/// A's database upgraded to B and downgraded again.
fn up_and_down(
    db_a: &mut Database,
    db_b: &mut Database,
    a: &Schema,
    b: &Schema,
) -> Result<(), TestCaseError> {
    let read_b = build(db_b, b);
    let read_a = build(db_a, a);
    seed(db_a, &read_a).map_err(TestCaseError::fail)?;

    let changes = plan(&read_a, &read_b);
    let upgrade = statements_of(&changes);
    if let Err(e) = run_all(db_a.driver(), &upgrade) {
        prop_assert!(false, "upgrade failed: {e}\n{upgrade:#?}");
    }
    assert_same(&db_a.inspect(), &read_b, "after upgrade");

    let downgrade = statements_of(&inverse(&changes));
    if let Err(e) = run_all(db_a.driver(), &downgrade) {
        prop_assert!(false, "downgrade failed: {e}\n{downgrade:#?}");
    }
    assert_same(&db_a.inspect(), &read_a, "after downgrade");
    // Tables that stayed through both directions kept their row.
    for (table, count) in row_counts(db_a, &read_a) {
        if read_b.tables.contains_key(&Name::new(table.clone())) {
            prop_assert_eq!(count, "1", "rows of {}", table);
        }
    }
    Ok(())
}

#[test]
fn upgrade_and_downgrade_between_any_two_schemas() {
    // Two databases for every case: one is faster to empty than to make.
    let (Some(db_a), Some(db_b)) = (database("prop_a"), database("prop_b")) else {
        return;
    };
    // The runner's closure is `Fn`.
    let pair = std::cell::RefCell::new((db_a, db_b));
    let cases = std::env::var("RETORT_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases));
    let pairs = (any_schema(), any_schema()).prop_map(|(mut a, mut b)| {
        only_shared_parents(&mut a, &mut b);
        (a, b)
    });
    let result = runner.run(&pairs, |(a, b)| {
        let (db_a, db_b) = &mut *pair.borrow_mut();
        up_and_down(db_a, db_b, &a, &b)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
