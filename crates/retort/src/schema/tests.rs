//! The differ against a model of a database: changes are applied to a
//! schema in memory, each refused as a server would refuse it (a table
//! created twice, a foreign key to a table that does not exist yet, a
//! table dropped while another refers to it, a change whose `from` is not
//! what is there). Then `from + diff == to` and `to + inverse == from`, on
//! hand-written cases and on generated pairs.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

/// Applies `changes` to `schema` as a database would, or says which
/// change it would refuse and why.
fn apply(schema: &Schema, changes: &[Change]) -> Result<Schema, String> {
    let mut now = schema.clone();
    for (at, change) in changes.iter().enumerate() {
        apply_one(&mut now, change).map_err(|why| format!("change {at} ({change:?}): {why}"))?;
    }
    Ok(now)
}

fn apply_one(now: &mut Schema, change: &Change) -> Result<(), String> {
    match change {
        Change::CreateSchema { name } => insert_new(&mut now.schemas, name.clone()),
        Change::DropSchema { name } => remove_present(&mut now.schemas, name),
        Change::CreateExtension { extension } => put_new(
            &mut now.extensions,
            extension.name.clone(),
            extension.clone(),
        ),
        Change::DropExtension { extension } => {
            take_same(&mut now.extensions, &extension.name, extension)
        }
        Change::CreateEnum { enum_type } => {
            put_new(&mut now.enums, enum_type.name.clone(), enum_type.clone())
        }
        Change::DropEnum { enum_type } => {
            if now.tables.values().any(|t| uses_type(t, &enum_type.name)) {
                return Err("a column still uses the type".into());
            }
            take_same(&mut now.enums, &enum_type.name, enum_type)
        }
        Change::AlterEnum { from, to, columns } => {
            // A rebuild converts the columns, which PostgreSQL refuses
            // under a view.
            if let Some(view) = now
                .views
                .values()
                .find(|v| columns.iter().any(|(t, _)| v.reads.contains(t)))
            {
                return Err(format!("view {} reads a column of the type", view.name));
            }
            take_same(&mut now.enums, &from.name, from)?;
            put_new(&mut now.enums, to.name.clone(), to.clone())
        }
        Change::CreateSequence { sequence } => {
            put_new(&mut now.sequences, sequence.name.clone(), sequence.clone())
        }
        Change::DropSequence { sequence } => {
            take_same(&mut now.sequences, &sequence.name, sequence)
        }
        Change::AlterSequence { from, to } => {
            take_same(&mut now.sequences, &from.name, from)?;
            put_new(&mut now.sequences, to.name.clone(), to.clone())
        }
        Change::CreateTable { table } => {
            for key in &table.foreign_keys {
                if key.references != table.name && !now.tables.contains_key(&key.references) {
                    return Err(format!(
                        "refers to {}, which does not exist",
                        key.references
                    ));
                }
            }
            put_new(&mut now.tables, table.name.clone(), table.clone())
        }
        Change::DropTable { table } => {
            refused_while_read(now, &table.name)?;
            take_same(&mut now.tables, &table.name, table)
        }
        Change::RenameTable { from, to } => {
            if let Some(view) = now.views.values().find(|v| v.reads.contains(from)) {
                return Err(format!("view {} reads it", view.name));
            }
            let mut table = now.tables.remove(from).ok_or("no such table")?;
            table.name = to.clone();
            put_new(&mut now.tables, to.clone(), table)?;
            // Foreign keys follow the table they refer to.
            for table in now.tables.values_mut() {
                for key in &mut table.foreign_keys {
                    if key.references == *from {
                        key.references = to.clone();
                    }
                }
            }
            Ok(())
        }
        Change::AlterTable { from, to, changes } => {
            let current = now.tables.get(&from.name).ok_or("no such table")?;
            if normalised_table(current) != normalised_table(from) {
                return Err(format!("`from` is not the table there: {current:?}"));
            }
            let mut table = from.clone();
            for change in changes {
                // MySQL refuses to retype a column a foreign key uses,
                // from either side.
                if let TableChange::AlterColumn { from: a, to: b } = change
                    && a.ty != b.ty
                {
                    let uses = |t: &Table| {
                        t.foreign_keys.iter().any(|k| {
                            (t.name == table.name && k.columns.contains(&a.name))
                                || (k.references == table.name
                                    && k.referenced_columns.contains(&a.name))
                        })
                    };
                    if uses(&table) || now.tables.values().any(uses) {
                        return Err(format!("a foreign key uses {}", a.name));
                    }
                }
                apply_table_change(&mut table, change)?;
            }
            if normalised_table(&table) != normalised_table(to) {
                return Err(format!("its changes give {table:?}, not `to`"));
            }
            for key in &to.foreign_keys {
                if key.references != to.name && !now.tables.contains_key(&key.references) {
                    return Err(format!(
                        "refers to {}, which does not exist",
                        key.references
                    ));
                }
            }
            now.tables.insert(to.name.clone(), to.clone());
            Ok(())
        }
        Change::CreateView { view } => {
            for read in &view.reads {
                if !now.tables.contains_key(read) && !now.views.contains_key(read) {
                    return Err(format!("reads {read}, which does not exist"));
                }
            }
            put_new(&mut now.views, view.name.clone(), view.clone())
        }
        Change::DropView { view } => {
            if now.views.values().any(|v| v.reads.contains(&view.name)) {
                return Err("another view reads it".into());
            }
            take_same(&mut now.views, &view.name, view)
        }
    }
}

/// Changing a table under a view that reads it is refused (PostgreSQL
/// refuses column changes, SQLite's rebuild loses the view).
fn refused_while_read(now: &Schema, table: &Name) -> Result<(), String> {
    if let Some(view) = now.views.values().find(|v| v.reads.contains(table)) {
        return Err(format!("view {} reads it", view.name));
    }
    if let Some(other) = now
        .tables
        .values()
        .find(|t| t.name != *table && t.foreign_keys.iter().any(|k| k.references == *table))
    {
        return Err(format!("table {} refers to it", other.name));
    }
    Ok(())
}

fn apply_table_change(table: &mut Table, change: &TableChange) -> Result<(), String> {
    match change {
        TableChange::AddColumn { column } => {
            if table.column(&column.name).is_some() {
                return Err(format!("column {} exists", column.name));
            }
            table.columns.push(column.clone());
        }
        TableChange::DropColumn { column } => {
            let at = table
                .columns
                .iter()
                .position(|c| c == column)
                .ok_or("no such column")?;
            table.columns.remove(at);
        }
        TableChange::AlterColumn { from, to } => {
            let column = table
                .columns
                .iter_mut()
                .find(|c| *c == from)
                .ok_or("no such column")?;
            *column = to.clone();
        }
        TableChange::RenameColumn { from, to } => {
            if table.column(from).is_none() {
                return Err("no such column".into());
            }
            let names = [(from.as_str(), to.as_str())].into();
            *table = super::diff::with_columns_renamed(table, &names);
        }
        TableChange::AddPrimaryKey { key } => {
            if table.primary_key.replace(key.clone()).is_some() {
                return Err("a primary key exists".into());
            }
        }
        TableChange::DropPrimaryKey { key } => {
            if table.primary_key.take().as_ref() != Some(key) {
                return Err("not its primary key".into());
            }
        }
        TableChange::AddUnique { unique } => table.uniques.push(unique.clone()),
        TableChange::DropUnique { unique } => remove_item(&mut table.uniques, unique)?,
        TableChange::CreateIndex { index } => table.indexes.push(index.clone()),
        TableChange::DropIndex { index } => remove_item(&mut table.indexes, index)?,
        TableChange::AddForeignKey { key } => table.foreign_keys.push(key.clone()),
        TableChange::DropForeignKey { key } => remove_item(&mut table.foreign_keys, key)?,
        TableChange::AddCheck { check } => table.checks.push(check.clone()),
        TableChange::DropCheck { check } => remove_item(&mut table.checks, check)?,
        TableChange::CreateTrigger { trigger } => table.triggers.push(trigger.clone()),
        TableChange::DropTrigger { trigger } => remove_item(&mut table.triggers, trigger)?,
        TableChange::SetOptions { from, to } => {
            if table.options != *from {
                return Err("not its options".into());
            }
            table.options.clone_from(to);
        }
        TableChange::SetComment { from, to } => {
            if table.comment != *from {
                return Err("not its comment".into());
            }
            table.comment.clone_from(to);
        }
    }
    Ok(())
}

fn uses_type(table: &Table, name: &Name) -> bool {
    table.columns.iter().any(|c| c.ty == name.to_string())
}

fn insert_new(set: &mut BTreeSet<String>, name: String) -> Result<(), String> {
    set.insert(name)
        .then_some(())
        .ok_or_else(|| "exists".into())
}

fn remove_present(set: &mut BTreeSet<String>, name: &String) -> Result<(), String> {
    set.remove(name)
        .then_some(())
        .ok_or_else(|| "no such schema".into())
}

fn put_new<K: Ord + std::fmt::Debug, V>(
    map: &mut std::collections::BTreeMap<K, V>,
    key: K,
    value: V,
) -> Result<(), String> {
    if map.contains_key(&key) {
        return Err(format!("{key:?} exists"));
    }
    map.insert(key, value);
    Ok(())
}

fn take_same<K: Ord + std::fmt::Debug, V: PartialEq + std::fmt::Debug>(
    map: &mut std::collections::BTreeMap<K, V>,
    key: &K,
    value: &V,
) -> Result<(), String> {
    match map.remove(key) {
        Some(there) if there == *value => Ok(()),
        Some(there) => Err(format!("{key:?} is {there:?}")),
        None => Err(format!("no {key:?}")),
    }
}

fn remove_item<T: PartialEq>(items: &mut Vec<T>, item: &T) -> Result<(), String> {
    let at = items.iter().position(|i| i == item).ok_or("not there")?;
    items.remove(at);
    Ok(())
}

/// Equal as the differ sees them: lists whose order the server does not
/// keep (constraints, indexes) sorted, and columns too (ADD COLUMN
/// appends; the differ does not reorder columns).
fn normalised(schema: &Schema) -> Schema {
    let mut schema = schema.clone();
    for table in schema.tables.values_mut() {
        *table = normalised_table(table);
    }
    schema
}

fn normalised_table(table: &Table) -> Table {
    let mut table = table.clone();
    // A name the server chose says nothing (a renamed table keeps its
    // key's old one).
    if let Some(key) = table.primary_key.as_mut().filter(|k| k.generated_name) {
        key.name.clear();
    }
    table
        .uniques
        .iter_mut()
        .filter(|u| u.generated_name)
        .for_each(|u| u.name.clear());
    table
        .checks
        .iter_mut()
        .filter(|c| c.generated_name)
        .for_each(|c| c.name.clear());
    table
        .foreign_keys
        .iter_mut()
        .filter(|k| k.generated_name)
        .for_each(|k| k.name.clear());
    table.columns.sort_by(|a, b| a.name.cmp(&b.name));
    table.uniques.sort_by_key(|u| format!("{u:?}"));
    table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    table.foreign_keys.sort_by_key(|k| format!("{k:?}"));
    table.checks.sort_by_key(|c| format!("{c:?}"));
    table
}

/// `from + diff == to`, `to + inverse == from`, and a second diff finds
/// nothing.
#[track_caller]
fn round_trip(from: &Schema, to: &Schema, renames: &Renames) -> Vec<Change> {
    let changes = diff(from, to, renames, DiffOptions::default());
    let upgraded = apply(from, &changes).unwrap_or_else(|why| panic!("upgrade: {why}"));
    assert_eq!(normalised(&upgraded), normalised(to), "upgrade");
    let downgraded =
        apply(&upgraded, &inverse(&changes)).unwrap_or_else(|why| panic!("downgrade: {why}"));
    assert_eq!(normalised(&downgraded), normalised(from), "downgrade");
    assert_eq!(
        diff(&upgraded, to, &Renames::default(), DiffOptions::default()),
        []
    );
    changes
}

fn table(name: &str, columns: &[&str]) -> Table {
    let mut table = Table::new(Name::new(name));
    table.columns = columns.iter().map(|c| Column::new(*c, "integer")).collect();
    table
}

fn key(columns: &[&str], references: &str, referenced: &[&str]) -> ForeignKey {
    ForeignKey {
        name: format!("{}_fk", columns.join("_")),
        generated_name: false,
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        references: Name::new(references),
        referenced_columns: referenced.iter().map(|c| (*c).to_owned()).collect(),
        on_delete: Action::NoAction,
        on_update: Action::NoAction,
        deferrable: Deferrable::No,
        match_full: false,
    }
}

fn schema(tables: Vec<Table>) -> Schema {
    let mut schema = Schema::default();
    for table in tables {
        schema.tables.insert(table.name.clone(), table);
    }
    schema
}

fn described(changes: &[Change]) -> Vec<String> {
    changes.iter().flat_map(Change::describe).collect()
}

#[test]
fn equal_schemas_have_no_changes() {
    let a = schema(vec![table("users", &["id"])]);
    assert_eq!(round_trip(&a, &a, &Renames::default()), []);
}

#[test]
fn tables_referred_to_are_created_first_and_dropped_last() {
    let mut orders = table("orders", &["id", "user_id"]);
    orders
        .foreign_keys
        .push(key(&["user_id"], "users", &["id"]));
    let mut audit = table("audit", &["order_id"]);
    audit
        .foreign_keys
        .push(key(&["order_id"], "orders", &["id"]));
    let to = schema(vec![orders, table("users", &["id"]), audit]);
    let changes = round_trip(&Schema::default(), &to, &Renames::default());
    assert_eq!(
        described(&changes),
        [
            "added table users",
            "added table orders",
            "added table audit"
        ]
    );
    assert_eq!(
        described(&inverse(&changes)),
        [
            "removed table audit",
            "removed table orders",
            "removed table users"
        ]
    );
}

#[test]
fn a_dropped_table_takes_its_foreign_keys_along() {
    let mut child = table("child", &["id", "parent_id"]);
    child
        .foreign_keys
        .push(key(&["parent_id"], "parent", &["id"]));
    let from = schema(vec![table("parent", &["id"]), child]);
    let to = schema(vec![table("parent", &["id", "name"])]);
    let changes = round_trip(&from, &to, &Renames::default());
    assert_eq!(
        described(&changes),
        ["removed table child", "added column parent.name"]
    );
}

#[test]
fn a_cycle_of_foreign_keys_is_closed_after_the_tables_exist() {
    let mut a = table("a", &["id", "b_id"]);
    a.foreign_keys.push(key(&["b_id"], "b", &["id"]));
    let mut b = table("b", &["id", "a_id"]);
    b.foreign_keys.push(key(&["a_id"], "a", &["id"]));
    let to = schema(vec![a, b]);
    let changes = round_trip(&Schema::default(), &to, &Renames::default());
    assert_eq!(
        described(&changes),
        [
            "added table a",
            "added table b",
            "added foreign key a(b_id) -> b"
        ]
    );
}

#[test]
fn a_new_table_referring_to_a_changed_one_waits_for_its_key() {
    let from = schema(vec![table("users", &["id"])]);
    let mut users = table("users", &["id"]);
    users.primary_key = Some(PrimaryKey {
        name: "users_pkey".into(),
        generated_name: true,
        columns: vec!["id".into()],
    });
    let mut posts = table("posts", &["user_id"]);
    posts.foreign_keys.push(key(&["user_id"], "users", &["id"]));
    let to = schema(vec![users, posts]);
    let changes = round_trip(&from, &to, &Renames::default());
    assert_eq!(
        described(&changes),
        [
            "added table posts",
            "added primary key on users",
            "added foreign key posts(user_id) -> users"
        ]
    );
}

#[test]
fn columns_added_dropped_and_changed() {
    let from = schema(vec![table("t", &["a", "b"])]);
    let mut t = table("t", &["a", "c"]);
    t.columns[0].nullable = false;
    t.columns[0].ty = "bigint".into();
    let to = schema(vec![t]);
    let changes = round_trip(&from, &to, &Renames::default());
    assert_eq!(
        described(&changes),
        [
            "removed column t.b",
            "changed column t.a (type integer to bigint, NOT NULL)",
            "added column t.c"
        ]
    );
    assert!(
        changes[0]
            .destructive()
            .unwrap()
            .contains("drops column t.b")
    );
}

#[test]
fn renames_come_only_from_hints() {
    let from = schema(vec![table("people", &["id", "mail"])]);
    let to = schema(vec![table("users", &["id", "email"])]);
    let guessed = round_trip(&from, &to, &Renames::default());
    assert_eq!(
        described(&guessed),
        ["removed table people", "added table users"]
    );
    let mut renames = Renames::default();
    renames
        .tables
        .insert(Name::new("users"), Name::new("people"));
    renames
        .columns
        .insert((Name::new("users"), "email".into()), "mail".into());
    let hinted = round_trip(&from, &to, &renames);
    assert_eq!(
        described(&hinted),
        [
            "renamed table people to users",
            "renamed column users.mail to email"
        ]
    );
    // Once applied, the hint left in the declared schema changes nothing.
    assert_eq!(diff(&to, &to, &renames, DiffOptions::default()), []);
}

#[test]
fn a_view_is_recreated_around_a_change_to_a_column_it_may_read() {
    let view = |definition: &str| View {
        name: Name::new("v"),
        definition: definition.into(),
        reads: [Name::new("t")].into(),
        comment: None,
    };
    let mut from = schema(vec![table("t", &["a"])]);
    from.views.insert(Name::new("v"), view("SELECT a FROM t"));
    let mut t = table("t", &["a"]);
    t.columns[0].ty = "text".into();
    let mut to = schema(vec![t]);
    to.views.insert(Name::new("v"), view("SELECT a FROM t"));
    let changes = round_trip(&from, &to, &Renames::default());
    assert_eq!(
        described(&changes),
        [
            "removed view v",
            "changed column t.a (type integer to text)",
            "added view v"
        ]
    );
    // A new index does not touch the view.
    let mut t = from.tables[&Name::new("t")].clone();
    t.indexes.push(Index {
        name: "t_a".into(),
        unique: false,
        parts: vec![IndexPart::column("a")],
        predicate: None,
        method: None,
        include: Vec::new(),
    });
    let mut indexed = from.clone();
    indexed.tables.insert(t.name.clone(), t);
    assert_eq!(
        described(&round_trip(&from, &indexed, &Renames::default())),
        ["added index t_a on t"]
    );
}

#[test]
fn enum_labels_added_and_removed() {
    let labels = |values: &[&str]| EnumType {
        name: Name::new("mood"),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    };
    let mut from = Schema::default();
    from.enums
        .insert(Name::new("mood"), labels(&["sad", "happy"]));
    let mut to = Schema::default();
    to.enums
        .insert(Name::new("mood"), labels(&["sad", "ok", "happy"]));
    let changes = round_trip(&from, &to, &Renames::default());
    let Change::AlterEnum { from: a, to: b, .. } = &changes[0] else {
        panic!("{changes:?}")
    };
    assert!(only_adds_labels(a, b));
    assert!(changes[0].destructive().is_none());
    assert!(!only_adds_labels(b, a));
    assert!(inverse(&changes)[0].destructive().unwrap().contains("ok"));
}

#[test]
fn foreign_keys_on_a_replaced_key_are_dropped_around_it() {
    let keyed = |name: &str| {
        let mut users = table("users", &["id"]);
        users.primary_key = Some(PrimaryKey {
            name: name.into(),
            generated_name: false,
            columns: vec!["id".into()],
        });
        users
    };
    let mut orders = table("orders", &["user_id"]);
    orders
        .foreign_keys
        .push(key(&["user_id"], "users", &["id"]));
    let from = schema(vec![keyed("users_pk"), orders.clone()]);
    let to = schema(vec![keyed("users_key"), orders]);
    let changes = round_trip(&from, &to, &Renames::default());
    assert_eq!(
        described(&changes),
        [
            "removed foreign key orders(user_id) -> users",
            "removed primary key on users",
            "added primary key on users",
            "added foreign key orders(user_id) -> users",
        ]
    );
}

#[test]
fn an_enum_change_knows_the_columns_of_the_type() {
    let mood = |values: &[&str]| EnumType {
        name: Name::in_schema("app", "Mood"),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    };
    let mut users = table("users", &["id"]);
    users.columns.push(Column::new("feeling", "app.\"Mood\""));
    users.columns.push(Column::new("history", "app.\"Mood\"[]"));
    users.columns.push(Column::new("other", "mood"));
    let mut from = schema(vec![users]);
    from.enums.insert(mood(&[]).name, mood(&["a", "b"]));
    let mut to = from.clone();
    to.enums.insert(mood(&[]).name, mood(&["b", "a"]));
    let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
    let Change::AlterEnum { columns, .. } = &changes[0] else {
        panic!("{changes:?}")
    };
    let names: Vec<&str> = columns.iter().map(|(_, c)| c.name.as_str()).collect();
    assert_eq!(names, ["feeling", "history"]);
}

#[test]
fn views_on_a_column_of_a_changed_enum_go_around_the_change() {
    let mood = |values: &[&str]| EnumType {
        name: Name::new("mood"),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    };
    let mut users = table("users", &["id"]);
    users.columns.push(Column::new("feeling", "mood"));
    let mut from = schema(vec![users, table("other", &["id"])]);
    from.enums.insert(Name::new("mood"), mood(&["a", "b"]));
    for (name, read) in [("v", "users"), ("w", "other")] {
        from.views.insert(
            Name::new(name),
            View {
                name: Name::new(name),
                definition: format!("SELECT * FROM {read}"),
                reads: [Name::new(read)].into(),
                comment: None,
            },
        );
    }
    let mut to = from.clone();
    to.enums.insert(Name::new("mood"), mood(&["a", "c", "b"]));
    let changes = round_trip(&from, &to, &Renames::default());
    assert_eq!(
        described(&changes),
        [
            "removed view v",
            "changed the values of type mood",
            "added view v"
        ]
    );
}

#[test]
fn server_named_constraints_match_by_what_they_say() {
    let check = |name: &str, generated_name: bool| Check {
        name: name.into(),
        generated_name,
        expression: "a > 0".into(),
    };
    let mut a = table("t", &["a"]);
    a.checks.push(check("t_a_check", true));
    let mut b = table("t", &["a"]);
    b.checks.push(check("t_a_check1", true));
    assert_eq!(
        diff(
            &schema(vec![a.clone()]),
            &schema(vec![b]),
            &Renames::default(),
            DiffOptions::default()
        ),
        []
    );
    let mut named = table("t", &["a"]);
    named.checks.push(check("positive", false));
    let changes = round_trip(&schema(vec![a]), &schema(vec![named]), &Renames::default());
    assert_eq!(
        described(&changes),
        ["removed check on t: a > 0", "added check on t: a > 0"]
    );
}

// ------------------------------------------------------------ generated

/// A schema from a small universe of tables, columns, keys and views, so
/// that two generated schemas overlap often.
fn any_schema() -> impl Strategy<Value = Schema> {
    let table_names = ["a", "b", "c", "d"];
    let column = (0..4usize, any::<bool>(), 0..3usize).prop_map(|(name, nullable, ty)| {
        let mut column = Column::new(format!("c{name}"), ["integer", "text", "bigint"][ty]);
        column.nullable = nullable;
        column
    });
    let table = (
        proptest::collection::vec(column, 1..4),
        any::<bool>(),
        proptest::collection::vec((0..4usize, 0..4usize), 0..2),
        proptest::option::of(0..2usize),
    );
    (
        proptest::collection::btree_map(0..4usize, table, 0..4),
        proptest::collection::vec((0..4usize, 0..4usize), 0..2),
    )
        .prop_map(move |(tables, views)| {
            let mut schema = Schema::default();
            for (at, (columns, keyed, keys, index)) in &tables {
                let mut t = Table::new(Name::new(table_names[*at]));
                for column in columns {
                    if t.column(&column.name).is_none() {
                        t.columns.push(column.clone());
                    }
                }
                if *keyed {
                    t.primary_key = Some(PrimaryKey {
                        name: format!("{}_pkey", t.name),
                        generated_name: true,
                        columns: vec![t.columns[0].name.clone()],
                    });
                }
                for (target, column) in keys {
                    let column = &t.columns[column % t.columns.len()].name;
                    if tables.contains_key(target) {
                        let mut k = key(&[column], table_names[*target], &["c0"]);
                        k.name = format!("{}_{column}_{}", t.name, table_names[*target]);
                        if !t.foreign_keys.contains(&k) {
                            t.foreign_keys.push(k);
                        }
                    }
                }
                if let Some(variant) = index {
                    t.indexes.push(Index {
                        name: format!("{}_idx", t.name),
                        unique: *variant == 1,
                        parts: vec![IndexPart::column(t.columns[0].name.clone())],
                        predicate: None,
                        method: None,
                        include: Vec::new(),
                    });
                }
                schema.tables.insert(t.name.clone(), t);
            }
            for (view, read) in views {
                if let Some(t) = schema
                    .tables
                    .keys()
                    .nth(read % schema.tables.len().max(1))
                    .cloned()
                {
                    let name = Name::new(format!("v{view}"));
                    schema.views.insert(
                        name.clone(),
                        View {
                            name,
                            definition: format!("SELECT * FROM {t}"),
                            reads: [t].into(),
                            comment: None,
                        },
                    );
                }
            }
            schema
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("RETORT_PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(500)
    ))]

    #[test]
    fn any_two_schemas_round_trip(from in any_schema(), to in any_schema()) {
        round_trip(&from, &to, &Renames::default());
    }

    #[test]
    fn any_two_schemas_round_trip_with_renames(
        from in any_schema(),
        to in any_schema(),
        tables in proptest::collection::vec((0..4usize, 0..4usize), 0..3),
        columns in proptest::collection::vec((0..4usize, 0..4usize, 0..4usize), 0..4),
    ) {
        let names = ["a", "b", "c", "d"];
        let mut renames = Renames::default();
        for (new, old) in tables {
            renames.tables.insert(Name::new(names[new]), Name::new(names[old]));
        }
        for (table, new, old) in columns {
            renames
                .columns
                .insert((Name::new(names[table]), format!("c{new}")), format!("c{old}"));
        }
        round_trip(&from, &to, &renames);
    }
}
