//! The schema model on a real SQLite database: a schema read, written
//! out and read back is the same schema; and for generated pairs (A, B),
//! A's database upgraded by the rendered diff reads as B, and downgraded
//! by its inverse reads as A again, with its rows kept.
//!
//! `RETORT_PROPTEST_CASES` raises the number of generated pairs.

#![cfg(feature = "sqlite")]

mod common;

use common::run_all;
use proptest::prelude::*;
use retort::Dialect;
use retort::config::DatabaseUrl;
use retort::db::{self, Driver};
use retort::schema::{
    Action, Check, Column, Deferrable, ForeignKey, Index, IndexKey, IndexPart, Name, PrimaryKey,
    Schema, Table, Unique, View, diff, inverse,
};

/// An empty database, through retort's driver.
fn memory() -> Box<dyn Driver> {
    db::connect(&DatabaseUrl::parse("sqlite::memory:").unwrap()).unwrap()
}

fn inspect(driver: &mut dyn Driver) -> Schema {
    common::inspect(driver)
}

fn create_statements(schema: &Schema) -> Vec<String> {
    common::create_statements(Dialect::Sqlite, schema)
}

fn statements_of(changes: &[retort::schema::Change]) -> Vec<String> {
    common::statements_of(Dialect::Sqlite, changes)
}

#[track_caller]
fn assert_same(left: &Schema, right: &Schema, context: &str) {
    common::assert_same(Dialect::Sqlite, left, right, context);
}

const SHOP: &str = r#"
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email VARCHAR(255) NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT DEFAULT 'anonymous',
    karma INT NOT NULL DEFAULT -1,
    created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT karma_bounded CHECK (karma BETWEEN -100 AND 100)
);
CREATE TABLE orders (
    id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    total NUMERIC(10, 2) NOT NULL CHECK (total >= 0),
    doubled NUMERIC GENERATED ALWAYS AS (total * 2) VIRTUAL,
    note TEXT,
    CONSTRAINT orders_pk PRIMARY KEY (id),
    CONSTRAINT one_note UNIQUE (user_id, note),
    FOREIGN KEY (user_id) REFERENCES users ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX orders_by_total ON orders (total DESC, user_id);
CREATE UNIQUE INDEX users_lower_name ON users (lower(name)) WHERE name IS NOT NULL;
CREATE TABLE tags (name TEXT PRIMARY KEY, weight REAL) WITHOUT ROWID;
CREATE TABLE strict_things (id INTEGER PRIMARY KEY, payload BLOB) STRICT;
CREATE VIEW big_orders AS SELECT o.id, u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE o.total > 100;
CREATE TRIGGER orders_touch AFTER UPDATE ON orders BEGIN UPDATE users SET karma = karma + 1 WHERE id = new.user_id; END;
"#;

#[test]
fn a_schema_written_out_reads_back_the_same() {
    let mut original = memory();
    original.begin().unwrap();
    for statement in retort::sql::split(SHOP, Dialect::Sqlite).unwrap() {
        original.run(statement.text).unwrap();
    }
    original.commit().unwrap();
    let read = inspect(original.as_mut());
    assert_eq!(read.tables.len(), 4);
    assert_eq!(read.views.len(), 1);

    let statements = create_statements(&read);
    let mut copy = memory();
    run_all(copy.as_mut(), &statements).unwrap();
    let copied = inspect(copy.as_mut());
    assert_same(&read, &copied, "copy against original");
    assert_same(&copied, &read, "original against copy");
    // The same text from the copy: the dump is stable.
    assert_eq!(create_statements(&copied), statements);
}

#[test]
fn what_sqlite_keeps_only_as_text_is_read() {
    let mut driver = memory();
    run_all(
        driver.as_mut(),
        &retort::sql::split(SHOP, Dialect::Sqlite)
            .unwrap()
            .iter()
            .map(|s| s.text.to_owned())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let schema = inspect(driver.as_mut());
    let users = &schema.tables[&Name::new("users")];
    let orders = &schema.tables[&Name::new("orders")];
    assert_eq!(
        users.column("email").unwrap().collation.as_deref(),
        Some("nocase")
    );
    assert_eq!(
        users.column("karma").unwrap().default.as_deref(),
        Some("- 1")
    );
    assert_eq!(users.checks[0].name, "karma_bounded");
    assert_eq!(orders.primary_key.as_ref().unwrap().name, "orders_pk");
    assert_eq!(orders.foreign_keys.len(), 2);
    assert!(
        orders.foreign_keys.iter().any(
            |k| k.deferrable == Deferrable::InitiallyDeferred && k.referenced_columns == ["id"]
        )
    );
    assert_eq!(
        orders
            .column("doubled")
            .unwrap()
            .generated
            .as_ref()
            .unwrap()
            .expression,
        "total * 2"
    );
    assert_eq!(orders.triggers.len(), 1);
    let index = &users.indexes[0];
    assert_eq!(
        index.parts[0].key,
        IndexKey::Expression("lower(name)".into())
    );
    assert_eq!(index.predicate.as_deref(), Some("name is not null"));
    let view = &schema.views[&Name::new("big_orders")];
    assert_eq!(
        view.reads
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>(),
        ["orders", "users"]
    );
    common::assert_own_tables_left_out(driver.as_mut());
}

#[test]
fn a_rebuild_keeps_the_rows_of_child_tables() {
    // With foreign keys enforced, the rebuild's DROP TABLE of the parent
    // would cascade into the children: retort's connections do not
    // enforce them, as SQLite's own default has it.
    let mut driver = memory();
    let parent = "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT)";
    let child = "CREATE TABLE child (id INTEGER PRIMARY KEY, \
                 parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE)";
    run_all(
        driver.as_mut(),
        &[
            parent.into(),
            child.into(),
            "INSERT INTO parent VALUES (1, 'a')".into(),
            "INSERT INTO child VALUES (10, 1)".into(),
        ],
    )
    .unwrap();
    let before = inspect(driver.as_mut());
    let mut wanted = before.clone();
    let table = wanted.tables.get_mut(&Name::new("parent")).unwrap();
    table.columns[1].nullable = false;
    table.columns[1].default = Some("'none'".into());
    let changes = diff(
        &before,
        &wanted,
        &Default::default(),
        db::diff_options(retort::Dialect::Sqlite),
    );
    let statements = statements_of(&changes);
    assert!(
        statements
            .iter()
            .any(|s| s.starts_with("DROP TABLE parent")),
        "{statements:#?}"
    );
    run_all(driver.as_mut(), &statements).unwrap();
    assert_same(&inspect(driver.as_mut()), &wanted, "after the rebuild");
    let rows = driver
        .query_text("SELECT id, parent_id FROM child")
        .unwrap();
    assert_eq!(rows, [[Some("10".to_owned()), Some("1".to_owned())]]);
}

// ------------------------------------------------------------ generated

/// A schema over a small universe of names, with every kind SQLite has.
fn any_schema() -> impl Strategy<Value = Schema> {
    let column = (
        0..4usize,
        0..4usize,
        any::<bool>(),
        proptest::option::of(0..3usize),
    );
    let table = (
        proptest::collection::vec(column, 1..5),
        any::<bool>(),
        proptest::option::of((0..3usize, any::<bool>())),
        proptest::option::of(0..4usize),
        proptest::option::of(0..2usize),
        any::<bool>(),
    );
    (
        proptest::collection::btree_map(0..4usize, table, 1..4),
        proptest::option::of(0..4usize),
    )
        .prop_map(|(tables, view)| {
            let mut schema = Schema::default();
            let present: Vec<usize> = tables.keys().copied().collect();
            for (at, (columns, keyed, index, reference, check, unique)) in tables {
                let mut table = Table::new(Name::new(format!("t{at}")));
                for (name, ty, nullable, default) in columns {
                    let name = format!("c{name}");
                    if table.column(&name).is_some() {
                        continue;
                    }
                    let mut column =
                        Column::new(name, ["integer", "text", "real", "varchar(20)"][ty]);
                    column.nullable = nullable;
                    column.default = default.map(|d| ["0", "'x'", "- 1"][d].to_owned());
                    table.columns.push(column);
                }
                // `id` keys every table, so foreign keys have a parent key.
                let mut id = Column::new("id", "integer");
                id.nullable = !keyed;
                table.columns.insert(0, id);
                table.primary_key = Some(PrimaryKey {
                    name: if keyed {
                        format!("t{at}_pk")
                    } else {
                        String::new()
                    },
                    generated_name: !keyed,
                    columns: vec!["id".into()],
                });
                let first = table.columns[1].name.clone();
                if let Some((variant, descending)) = index {
                    table.indexes.push(Index {
                        name: format!("t{at}_idx"),
                        unique: variant == 1,
                        parts: vec![IndexPart {
                            descending,
                            ..IndexPart::column(first.clone())
                        }],
                        predicate: (variant == 2).then(|| format!("{first} is not null")),
                        method: None,
                        include: Vec::new(),
                    });
                }
                if let Some(target) = reference
                    && present.contains(&target)
                {
                    table.foreign_keys.push(ForeignKey {
                        name: String::new(),
                        generated_name: true,
                        columns: vec![first.clone()],
                        references: Name::new(format!("t{target}")),
                        referenced_columns: vec!["id".into()],
                        on_delete: if target % 2 == 0 {
                            Action::Cascade
                        } else {
                            Action::NoAction
                        },
                        on_update: Action::NoAction,
                        deferrable: Deferrable::No,
                        match_full: false,
                    });
                }
                if let Some(variant) = check {
                    table.checks.push(Check {
                        name: if variant == 0 {
                            String::new()
                        } else {
                            format!("t{at}_check")
                        },
                        generated_name: variant == 0,
                        expression: "id > 0".into(),
                    });
                }
                if unique {
                    table.uniques.push(Unique {
                        name: String::new(),
                        generated_name: true,
                        columns: vec![first],
                    });
                }
                schema.tables.insert(table.name.clone(), table);
            }
            if let Some(read) = view
                && let Some(table) = schema
                    .tables
                    .keys()
                    .nth(read % schema.tables.len())
                    .cloned()
            {
                schema.views.insert(
                    Name::new("v"),
                    View {
                        name: Name::new("v"),
                        definition: format!("select id from {}", table.name),
                        reads: [table].into(),
                        comment: None,
                    },
                );
            }
            schema
        })
}

/// A database holding `schema`, and one row in each table.
fn build(schema: &Schema) -> Box<dyn Driver> {
    let mut driver = memory();
    run_all(driver.as_mut(), &create_statements(schema)).unwrap();
    driver
}

fn row_counts(driver: &mut dyn Driver, schema: &Schema) -> Vec<(String, String)> {
    schema
        .tables
        .keys()
        .map(|name| {
            let rows = driver
                .query_text(&format!("SELECT count(*) FROM \"{}\"", name.name))
                .unwrap();
            (name.name.clone(), rows[0][0].clone().unwrap_or_default())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("RETORT_PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(300)
    ))]

    #[test]
    fn upgrade_and_downgrade_between_any_two_schemas(a in any_schema(), b in any_schema()) {
        let read_a = inspect(build(&a).as_mut());
        let read_b = inspect(build(&b).as_mut());

        let mut driver = build(&a);
        // A row in every table, so the rebuilds have something to keep.
        let inserts: Vec<String> = read_a
            .tables
            .keys()
            .map(|t| format!("INSERT INTO \"{}\" (id) VALUES (1)", t.name))
            .collect();
        let seeded = run_all(driver.as_mut(), &inserts).is_ok();

        let changes = diff(&read_a, &read_b, &Default::default(), db::diff_options(Dialect::Sqlite));
        let upgrade = statements_of(&changes);
        if let Err(e) = run_all(driver.as_mut(), &upgrade) {
            // A new NOT NULL column without a default cannot be added to
            // a table that has rows: SQLite refuses, and nothing changed.
            prop_assert!(seeded && e.contains("NOT NULL"), "upgrade failed: {e}\n{upgrade:#?}");
            assert_same(&inspect(driver.as_mut()), &read_a, "after a refused upgrade");
            return Ok(());
        }
        assert_same(&inspect(driver.as_mut()), &read_b, "after upgrade");

        let downgrade = statements_of(&inverse(&changes));
        if let Err(e) = run_all(driver.as_mut(), &downgrade) {
            prop_assert!(seeded && e.contains("NOT NULL"), "downgrade failed: {e}\n{downgrade:#?}");
            return Ok(());
        }
        assert_same(&inspect(driver.as_mut()), &read_a, "after downgrade");
        if seeded {
            // Tables that stayed through both directions kept their row.
            for (table, count) in row_counts(driver.as_mut(), &read_a) {
                if read_b.tables.contains_key(&Name::new(table.clone())) {
                    prop_assert_eq!(count, "1", "rows of {}", table);
                }
            }
        }
    }
}

// ------------------------------------------------------------ rendered SQL

/// A table with one of everything SQLite keeps.
fn orders() -> Table {
    let mut table = Table::new(Name::new("orders"));
    let mut id = Column::new("id", "integer");
    id.identity = Some(retort::schema::Identity::AutoIncrement);
    let mut total = Column::new("total", "numeric(10,2)");
    total.nullable = false;
    total.default = Some("0".into());
    let mut note = Column::new("note", "text");
    note.collation = Some("nocase".into());
    table.columns = vec![id, Column::new("user_id", "integer"), total, note];
    table.primary_key = Some(PrimaryKey {
        name: String::new(),
        generated_name: true,
        columns: vec!["id".into()],
    });
    table.uniques.push(Unique {
        name: "one_note".into(),
        generated_name: false,
        columns: vec!["user_id".into(), "note".into()],
    });
    table.checks.push(Check {
        name: String::new(),
        generated_name: true,
        expression: "total >= 0".into(),
    });
    table.foreign_keys.push(ForeignKey {
        name: String::new(),
        generated_name: true,
        columns: vec!["user_id".into()],
        references: Name::new("users"),
        referenced_columns: vec!["id".into()],
        on_delete: Action::Cascade,
        on_update: Action::NoAction,
        deferrable: Deferrable::InitiallyDeferred,
        match_full: false,
    });
    table.indexes.push(Index {
        name: "orders_total".into(),
        unique: false,
        parts: vec![IndexPart {
            descending: true,
            ..IndexPart::column("total")
        }],
        predicate: Some("note is not null".into()),
        method: None,
        include: Vec::new(),
    });
    table
}

fn alter(from: &Table, to: &Table, changes: Vec<retort::schema::TableChange>) -> Vec<String> {
    statements_of(&[retort::schema::Change::AlterTable {
        from: from.clone(),
        to: to.clone(),
        changes,
    }])
}

#[test]
fn every_change_renders_as_sqlite_takes_it() {
    use retort::schema::{Change, TableChange};
    let table = orders();
    assert_eq!(
        statements_of(&[Change::CreateTable {
            table: table.clone()
        }]),
        [
            "CREATE TABLE orders (\n    id integer PRIMARY KEY AUTOINCREMENT,\n    user_id integer,\n    total numeric(10,2) NOT NULL DEFAULT 0,\n    note text COLLATE nocase,\n    CONSTRAINT one_note UNIQUE (user_id, note),\n    CHECK (total >= 0),\n    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED\n)",
            "CREATE INDEX orders_total ON orders (total DESC) WHERE note is not null",
        ]
    );
    assert_eq!(
        statements_of(&[Change::DropTable {
            table: table.clone()
        }]),
        ["DROP TABLE orders"]
    );
    assert_eq!(
        statements_of(&[Change::RenameTable {
            from: Name::new("orders"),
            to: Name::new("order")
        }]),
        ["ALTER TABLE orders RENAME TO \"order\""]
    );

    // What ALTER TABLE, CREATE INDEX and DROP INDEX do.
    let mut added = table.clone();
    let mut paid = Column::new("paid", "integer");
    paid.default = Some("0".into());
    paid.nullable = false;
    added.columns.push(paid.clone());
    assert_eq!(
        alter(
            &table,
            &added,
            vec![TableChange::AddColumn {
                column: paid.clone()
            }]
        ),
        ["ALTER TABLE orders ADD COLUMN paid integer NOT NULL DEFAULT 0"]
    );
    assert_eq!(
        alter(
            &added,
            &table,
            vec![TableChange::DropColumn { column: paid }]
        ),
        ["ALTER TABLE orders DROP COLUMN paid"]
    );
    let mut renamed = table.clone();
    renamed.columns[3].name = "remark".into();
    renamed.uniques[0].columns[1] = "remark".into();
    renamed.indexes[0].predicate = Some("remark is not null".into());
    assert_eq!(
        alter(
            &table,
            &renamed,
            vec![TableChange::RenameColumn {
                from: "note".into(),
                to: "remark".into()
            }]
        ),
        ["ALTER TABLE orders RENAME COLUMN note TO remark"]
    );
    let mut unindexed = table.clone();
    let index = unindexed.indexes.remove(0);
    assert_eq!(
        alter(
            &table,
            &unindexed,
            vec![TableChange::DropIndex {
                index: index.clone()
            }]
        ),
        ["DROP INDEX orders_total"]
    );
    assert_eq!(
        alter(&unindexed, &table, vec![TableChange::CreateIndex { index }]),
        ["CREATE INDEX orders_total ON orders (total DESC) WHERE note is not null"]
    );

    // Everything else is the rebuild, the rows copied by name.
    let mut rebuilt = table.clone();
    rebuilt.checks.clear();
    rebuilt.columns[2].nullable = true;
    let check = table.checks[0].clone();
    assert_eq!(
        alter(
            &table,
            &rebuilt,
            vec![
                TableChange::DropCheck { check },
                TableChange::AlterColumn {
                    from: table.columns[2].clone(),
                    to: rebuilt.columns[2].clone()
                },
            ]
        ),
        [
            "CREATE TABLE _retort_new_orders (\n    id integer PRIMARY KEY AUTOINCREMENT,\n    user_id integer,\n    total numeric(10,2) DEFAULT 0,\n    note text COLLATE nocase,\n    CONSTRAINT one_note UNIQUE (user_id, note),\n    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED\n)",
            "INSERT INTO _retort_new_orders (id, user_id, total, note) SELECT id, user_id, total, note FROM orders",
            "INSERT INTO sqlite_sequence (name, seq) SELECT '_retort_new_orders', seq FROM sqlite_sequence WHERE name = 'orders'",
            "DROP TABLE orders",
            "ALTER TABLE _retort_new_orders RENAME TO orders",
            "CREATE INDEX orders_total ON orders (total DESC) WHERE note is not null",
        ]
    );
    // Every kind of key and constraint change is a rebuild too.
    for change in [
        TableChange::DropPrimaryKey {
            key: table.primary_key.clone().unwrap(),
        },
        TableChange::DropUnique {
            unique: table.uniques[0].clone(),
        },
        TableChange::DropForeignKey {
            key: table.foreign_keys[0].clone(),
        },
        TableChange::AddCheck {
            check: table.checks[0].clone(),
        },
    ] {
        let statements = alter(&table, &table, vec![change.clone()]);
        assert!(
            statements[0].starts_with("CREATE TABLE _retort_new_orders"),
            "{change:?}: {statements:#?}"
        );
    }

    let view = View {
        name: Name::new("big"),
        definition: "select id from orders where total > 100".into(),
        reads: [Name::new("orders")].into(),
        comment: None,
    };
    assert_eq!(
        statements_of(&[Change::CreateView { view: view.clone() }]),
        ["CREATE VIEW big AS select id from orders where total > 100"]
    );
    assert_eq!(
        statements_of(&[Change::DropView { view }]),
        ["DROP VIEW big"]
    );
}
