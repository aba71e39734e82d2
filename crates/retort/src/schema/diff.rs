//! The differ: two schemas in, the ordered changes that turn one into the
//! other out.
//!
//! The order is fixed by phase, as migra orders its statements, and within
//! a phase by dependency, then by name, so the same two schemas always give
//! the same changes:
//!
//! 1. schemas, extensions, new enum types, sequences;
//! 2. views dropped (gone, changed, or reading a table that changes);
//! 3. enum types' labels changed (rebuilding a type converts its columns,
//!    which the server refuses under a view: the views reading them are
//!    gone by then);
//! 4. tables renamed (from hints);
//! 5. foreign keys dropped;
//! 6. tables dropped, those that refer to others first;
//! 7. tables created, those referred to first;
//! 8. columns, keys, constraints and indexes changed;
//! 9. foreign keys added;
//! 10. views created;
//! 11. sequences, enum types, extensions and schemas dropped.
//!
//! The phases mirror each other around the middle (enum labels, which
//! need the tables as they are at either end, around the table phases),
//! so the inverses of a plan, in reverse order, are again in an order the
//! database accepts: that is the downgrade.

use std::collections::{BTreeMap, BTreeSet};

use super::change::{Change, TableChange};
use super::model::{Column, EnumType, ForeignKey, IndexKey, Name, Schema, Table, Unique};

/// The table option that says how a table is partitioned.
const PARTITIONING: &str = "partition_by";

/// Renames declared in the wanted schema: without them a renamed table or
/// column reads as one dropped and another added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renames {
    /// New table name → the name it had.
    pub tables: BTreeMap<Name, Name>,
    /// (table's new name, new column name) → the column's old name.
    pub columns: BTreeMap<(Name, String), String>,
}

/// What the differ asks of the dialect it diffs for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Views reading a table are dropped and recreated around any change
    /// to it (SQLite, whose table rebuild cannot keep them), not only
    /// around changes to the columns they may read.
    pub views_around_every_table_change: bool,
}

/// The changes that turn `from` into `to`, in an order a database accepts.
pub fn diff(from: &Schema, to: &Schema, renames: &Renames, options: DiffOptions) -> Vec<Change> {
    let mut plan = Plan::default();
    objects_before(from, to, &mut plan);
    tables(from, to, renames, &mut plan);
    views(from, to, options, &mut plan);
    objects_after(from, to, &mut plan);
    plan.into_changes()
}

/// The changes, by phase.
#[derive(Debug, Default)]
struct Plan {
    create_objects: Vec<Change>,
    drop_views: Vec<Change>,
    alter_enums: Vec<Change>,
    rename_tables: Vec<Change>,
    drop_foreign_keys: Vec<Change>,
    drop_tables: Vec<Change>,
    create_tables: Vec<Change>,
    alter_tables: Vec<Change>,
    add_foreign_keys: Vec<Change>,
    create_views: Vec<Change>,
    drop_objects: Vec<Change>,
    /// Tables whose columns change, are dropped or renamed.
    reshaped: BTreeSet<Name>,
    /// Tables with any change.
    touched: BTreeSet<Name>,
}

impl Plan {
    fn into_changes(self) -> Vec<Change> {
        [
            self.create_objects,
            self.drop_views,
            self.alter_enums,
            self.rename_tables,
            self.drop_foreign_keys,
            self.drop_tables,
            self.create_tables,
            self.alter_tables,
            self.add_foreign_keys,
            self.create_views,
            self.drop_objects,
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Phases 1 and 3: what tables may need, and enum labels.
fn objects_before(from: &Schema, to: &Schema, plan: &mut Plan) {
    for name in to.schemas.difference(&from.schemas) {
        plan.create_objects
            .push(Change::CreateSchema { name: name.clone() });
    }
    for (name, extension) in &to.extensions {
        let old = from.extensions.get(name);
        if old == Some(extension) {
            continue;
        }
        // Moving an extension to another schema: the two cannot coexist
        // under one name.
        if let Some(old) = old {
            plan.create_objects.push(Change::DropExtension {
                extension: old.clone(),
            });
        }
        plan.create_objects.push(Change::CreateExtension {
            extension: extension.clone(),
        });
    }
    for (name, wanted) in &to.enums {
        match from.enums.get(name) {
            None => plan.create_objects.push(Change::CreateEnum {
                enum_type: wanted.clone(),
            }),
            Some(old) if old != wanted => {
                let columns = columns_of_type(from, name);
                // Views reading those columns go around the change, in
                // both directions (the inverse of new labels is a rebuild).
                plan.reshaped
                    .extend(columns.iter().map(|(table, _)| table.clone()));
                plan.alter_enums.push(Change::AlterEnum {
                    from: old.clone(),
                    to: wanted.clone(),
                    columns,
                });
            }
            Some(_) => {}
        }
    }
    for (name, wanted) in &to.sequences {
        match from.sequences.get(name) {
            None => plan.create_objects.push(Change::CreateSequence {
                sequence: wanted.clone(),
            }),
            Some(old) if old != wanted => plan.create_objects.push(Change::AlterSequence {
                from: old.clone(),
                to: wanted.clone(),
            }),
            Some(_) => {}
        }
    }
}

/// The columns, by table, whose type is `name` or an array of it.
fn columns_of_type(schema: &Schema, name: &Name) -> Vec<(Name, Column)> {
    let wanted = name.to_string();
    schema
        .tables
        .values()
        .flat_map(|t| t.columns.iter().map(move |c| (t, c)))
        .filter(|(_, c)| {
            // The server quotes names that need it (`"Mood"[]`).
            let base = c.ty.trim_end_matches("[]").replace('"', "");
            base == wanted
        })
        .map(|(t, c)| (t.name.clone(), c.clone()))
        .collect()
}

/// Phase 11: what no table needs any more, in the reverse of phase 1.
fn objects_after(from: &Schema, to: &Schema, plan: &mut Plan) {
    let mut drops = Vec::new();
    for (name, sequence) in from.sequences.iter().rev() {
        if !to.sequences.contains_key(name) {
            drops.push(Change::DropSequence {
                sequence: sequence.clone(),
            });
        }
    }
    for (name, enum_type) in from.enums.iter().rev() {
        if !to.enums.contains_key(name) {
            drops.push(Change::DropEnum {
                enum_type: enum_type.clone(),
            });
        }
    }
    for (name, extension) in from.extensions.iter().rev() {
        if !to.extensions.contains_key(name) {
            drops.push(Change::DropExtension {
                extension: extension.clone(),
            });
        }
    }
    for name in from
        .schemas
        .iter()
        .rev()
        .filter(|s| !to.schemas.contains(*s))
    {
        drops.push(Change::DropSchema { name: name.clone() });
    }
    plan.drop_objects = drops;
}

/// Phases 4 to 9.
fn tables(from: &Schema, to: &Schema, renames: &Renames, plan: &mut Plan) {
    // Which old table each wanted table continues: itself, or the table a
    // hint names, when that one is not wanted under its own name and the
    // new name is free.
    let mut matched: BTreeMap<&Name, &Name> = BTreeMap::new();
    let mut renamed: BTreeMap<Name, Name> = BTreeMap::new();
    for name in to.tables.keys() {
        if let Some(old) = from.tables.get(name) {
            // A table partitioned another way is another table: no
            // server changes partitioning in place.
            if old.options.get(PARTITIONING) == to.tables[name].options.get(PARTITIONING) {
                matched.insert(name, name);
            }
            continue;
        }
        let old = renames.tables.get(name).filter(|old| {
            from.tables.contains_key(*old)
                && !to.tables.contains_key(*old)
                && !renamed.contains_key(*old)
        });
        if let Some(old) = old {
            plan.rename_tables.push(Change::RenameTable {
                from: old.clone(),
                to: name.clone(),
            });
            plan.reshaped.insert(old.clone());
            plan.touched.insert(old.clone());
            renamed.insert(old.clone(), name.clone());
            matched.insert(name, old);
        }
    }
    let continued: BTreeSet<&Name> = matched.values().copied().collect();
    // A renamed table's foreign keys follow it (every dialect's rename
    // does this), so the old tables are compared as the renames leave
    // them.
    let from_tables: BTreeMap<Name, Table> = from
        .tables
        .iter()
        .map(|(name, table)| {
            let mut table = table.clone();
            for key in &mut table.foreign_keys {
                if let Some(new) = renamed.get(&key.references) {
                    key.references = new.clone();
                }
            }
            (name.clone(), table)
        })
        .collect();

    let created: Vec<&Table> = to
        .tables
        .values()
        .filter(|t| !matched.contains_key(&t.name))
        .collect();
    let dropped: Vec<&Table> = from_tables
        .values()
        .filter(|t| !continued.contains(&t.name))
        .collect();

    // Keys a foreign key may rest on that are replaced: the server
    // refuses to drop one under a foreign key, so the foreign keys on it
    // are dropped before and added back after.
    let replaced: BTreeSet<(Name, Vec<String>)> = matched
        .iter()
        .flat_map(|(new_name, old_name)| {
            replaced_keys(&from_tables[*old_name], &to.tables[*new_name])
                .into_iter()
                .map(|columns| ((*new_name).clone(), columns))
        })
        .collect();
    // Columns whose type changes: a foreign key on one of them, or on a
    // column it refers to, is dropped before and added back after (MySQL
    // refuses the change under it; PostgreSQL when the types no longer
    // match).
    let retyped: BTreeSet<(Name, String)> = matched
        .iter()
        .flat_map(|(new_name, old_name)| {
            let old = &from_tables[*old_name];
            to.tables[*new_name]
                .columns
                .iter()
                .filter(|c| old.column(&c.name).is_some_and(|o| o.ty != c.ty))
                .map(|c| ((*new_name).clone(), c.name.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let around = Around {
        replaced: &replaced,
        retyped: &retyped,
    };
    for (new_name, old_name) in &matched {
        let mut old = from_tables[*old_name].clone();
        old.name = (*new_name).clone();
        alter_table(&old, &to.tables[*new_name], renames, &around, plan);
    }

    // Dropped tables: in the reverse of the order they would be created
    // in, their foreign keys in a cycle dropped first. A key to a table
    // that changes goes with its table (which is dropped before the other
    // changes): holding it back would change a table about to go.
    let (order, detached) = creation_order(&dropped, &BTreeSet::new());
    for (table, keys) in detached.iter().rev() {
        let mut without = table.clone();
        without.foreign_keys.retain(|k| !keys.contains(k));
        plan.drop_foreign_keys.push(Change::AlterTable {
            from: table.clone(),
            to: without,
            changes: keys
                .iter()
                .map(|key| TableChange::DropForeignKey { key: key.clone() })
                .collect(),
        });
    }
    for table in order.into_iter().rev() {
        plan.reshaped.insert(table.name.clone());
        plan.touched.insert(table.name.clone());
        plan.drop_tables.push(Change::DropTable { table });
    }

    let (order, detached) = creation_order(&created, &plan.touched);
    for table in order {
        plan.create_tables.push(Change::CreateTable { table });
    }
    for (table, keys) in detached {
        let mut without = table.clone();
        without.foreign_keys.retain(|k| !keys.contains(k));
        plan.add_foreign_keys.push(Change::AlterTable {
            from: without,
            to: table,
            changes: keys
                .into_iter()
                .map(|key| TableChange::AddForeignKey { key })
                .collect(),
        });
    }
}

/// The order to create `tables` in so that each one's foreign keys refer
/// to tables that exist by then and do not change later (`changing`):
/// the tables (with the keys that cannot be created inline removed), and
/// those keys, to be added once every table exists.
#[allow(clippy::type_complexity, reason = "a private pair of lists")]
fn creation_order(
    tables: &[&Table],
    changing: &BTreeSet<Name>,
) -> (Vec<Table>, Vec<(Table, Vec<ForeignKey>)>) {
    let pending_names: BTreeSet<&Name> = tables.iter().map(|t| &t.name).collect();
    let mut done: BTreeSet<Name> = BTreeSet::new();
    let mut left: Vec<&Table> = tables.to_vec();
    left.sort_by(|a, b| a.name.cmp(&b.name));
    let mut order = Vec::new();
    let mut detached = Vec::new();
    while !left.is_empty() {
        // The first table (by name) whose references are all ready; in a
        // cycle, the first table, whose unready references wait.
        let ready = |t: &Table| {
            t.foreign_keys.iter().all(|k| {
                k.references == t.name
                    || done.contains(&k.references)
                    || (!pending_names.contains(&k.references) && !changing.contains(&k.references))
            })
        };
        let at = left.iter().position(|t| ready(t)).unwrap_or(0);
        let table = left.remove(at);
        let (inline, later): (Vec<ForeignKey>, Vec<ForeignKey>) =
            table.foreign_keys.iter().cloned().partition(|k| {
                k.references == table.name
                    || done.contains(&k.references)
                    || (!pending_names.contains(&k.references) && !changing.contains(&k.references))
            });
        let mut created = (*table).clone();
        created.foreign_keys = inline;
        if !later.is_empty() {
            detached.push(((*table).clone(), later));
        }
        done.insert(table.name.clone());
        order.push(created);
    }
    (order, detached)
}

/// The changes inside one table (`from` already under its new name): its
/// foreign keys dropped in phase 5, the rest in phase 8, new foreign keys
/// in phase 9.
/// What changes under foreign keys: keys a foreign key may rest on that
/// are replaced, and columns whose type changes, by table.
struct Around<'a> {
    replaced: &'a BTreeSet<(Name, Vec<String>)>,
    retyped: &'a BTreeSet<(Name, String)>,
}

impl Around<'_> {
    /// Whether foreign key `key` of table `table` must go while something
    /// under it changes.
    fn disturbs(&self, table: &Name, key: &ForeignKey) -> bool {
        self.replaced
            .contains(&(key.references.clone(), key.referenced_columns.clone()))
            || key
                .columns
                .iter()
                .any(|c| self.retyped.contains(&(table.clone(), c.clone())))
            || key
                .referenced_columns
                .iter()
                .any(|c| self.retyped.contains(&(key.references.clone(), c.clone())))
    }
}

fn alter_table(from: &Table, to: &Table, renames: &Renames, around: &Around<'_>, plan: &mut Plan) {
    // Columns renamed by hints, new name → old name. A rename carries the
    // keys, constraints and indexes along (every dialect's RENAME COLUMN
    // does), so they are compared as they stand after it.
    let mut old_names: BTreeMap<String, String> = BTreeMap::new();
    for column in &to.columns {
        let hinted = renames
            .columns
            .get(&(to.name.clone(), column.name.clone()))
            .filter(|old| {
                from.column(old).is_some()
                    && to.column(old).is_none()
                    && !old_names.values().any(|claimed| claimed == *old)
            });
        if let Some(old) = hinted
            && from.column(&column.name).is_none()
        {
            old_names.insert(column.name.clone(), old.clone());
        }
    }
    let new_name: BTreeMap<&str, &str> = old_names
        .iter()
        .map(|(new, old)| (old.as_str(), new.as_str()))
        .collect();
    let renamed = with_columns_renamed(from, &new_name);

    let mut drop_keys = Vec::new();
    let mut changes: Vec<TableChange> = old_names
        .iter()
        .map(|(new, old)| TableChange::RenameColumn {
            from: old.clone(),
            to: new.clone(),
        })
        .collect();
    let mut add_keys = Vec::new();

    // A foreign key on a key that is replaced goes and comes back: the
    // server refuses to drop the key under it.
    let kept = |a: &ForeignKey, b: &ForeignKey| same_key(a, b) && !around.disturbs(&to.name, a);
    // A foreign key is dropped before the rename, under its old column
    // names; it is compared under the new ones.
    let mut kept_keys = Vec::new();
    for (original, key) in from.foreign_keys.iter().zip(&renamed.foreign_keys) {
        if to.foreign_keys.iter().any(|w| kept(key, w)) {
            kept_keys.push(key.clone());
        } else {
            drop_keys.push(TableChange::DropForeignKey {
                key: original.clone(),
            });
        }
    }
    let (_, new) = split(&kept_keys, &to.foreign_keys, kept);
    add_keys.extend(
        new.into_iter()
            .map(|key| TableChange::AddForeignKey { key }),
    );

    let (gone, new) = split(&renamed.checks, &to.checks, |a, b| {
        a.expression == b.expression && ((a.generated_name && b.generated_name) || a.name == b.name)
    });
    changes.extend(
        gone.into_iter()
            .map(|check| TableChange::DropCheck { check }),
    );
    let add_checks: Vec<TableChange> = new
        .into_iter()
        .map(|check| TableChange::AddCheck { check })
        .collect();

    let (gone, new) = split(&renamed.uniques, &to.uniques, same_unique);
    changes.extend(
        gone.into_iter()
            .map(|unique| TableChange::DropUnique { unique }),
    );
    let add_uniques: Vec<TableChange> = new
        .into_iter()
        .map(|unique| TableChange::AddUnique { unique })
        .collect();

    // Triggers go first and come back last: they may name any column.
    let (gone, new) = split(&renamed.triggers, &to.triggers, |a, b| a == b);
    changes.extend(
        gone.into_iter()
            .map(|trigger| TableChange::DropTrigger { trigger }),
    );
    let add_triggers: Vec<TableChange> = new
        .into_iter()
        .map(|trigger| TableChange::CreateTrigger { trigger })
        .collect();

    let (gone, new) = split(&renamed.indexes, &to.indexes, |a, b| a == b);
    changes.extend(
        gone.into_iter()
            .map(|index| TableChange::DropIndex { index }),
    );
    let add_indexes: Vec<TableChange> = new
        .into_iter()
        .map(|index| TableChange::CreateIndex { index })
        .collect();

    let same_pk = same_primary_key(&renamed, to);
    if !same_pk && let Some(key) = &renamed.primary_key {
        changes.push(TableChange::DropPrimaryKey { key: key.clone() });
    }

    // Before the columns: MySQL converts the columns that inherit the
    // table's collation, then a column's own change settles it.
    if from.options != to.options {
        changes.push(TableChange::SetOptions {
            from: from.options.clone(),
            to: to.options.clone(),
        });
    }
    let mut reshaped = !old_names.is_empty();
    for column in &renamed.columns {
        if to.column(&column.name).is_none() {
            changes.push(TableChange::DropColumn {
                column: column.clone(),
            });
            reshaped = true;
        }
    }
    for column in &to.columns {
        match renamed.column(&column.name) {
            None => changes.push(TableChange::AddColumn {
                column: column.clone(),
            }),
            Some(old) if old != column => {
                reshaped |= old.ty != column.ty || old.generated != column.generated;
                changes.push(TableChange::AlterColumn {
                    from: old.clone(),
                    to: column.clone(),
                });
            }
            Some(_) => {}
        }
    }

    if !same_pk && let Some(key) = &to.primary_key {
        changes.push(TableChange::AddPrimaryKey { key: key.clone() });
    }
    changes.extend(add_uniques);
    changes.extend(add_checks);
    changes.extend(add_indexes);
    changes.extend(add_triggers);
    if from.comment != to.comment {
        changes.push(TableChange::SetComment {
            from: from.comment.clone(),
            to: to.comment.clone(),
        });
    }

    if drop_keys.is_empty() && changes.is_empty() && add_keys.is_empty() {
        return;
    }
    plan.touched.insert(to.name.clone());
    if reshaped {
        plan.reshaped.insert(to.name.clone());
    }
    // The table as it stands between the phases.
    let mut after_drops = from.clone();
    after_drops.foreign_keys = from
        .foreign_keys
        .iter()
        .zip(&renamed.foreign_keys)
        .filter(|(_, key)| kept_keys.contains(key))
        .map(|(original, _)| original.clone())
        .collect();
    let mut before_adds = to.clone();
    before_adds
        .foreign_keys
        .retain(|k| kept_keys.iter().any(|w| kept(w, k)));
    if !drop_keys.is_empty() {
        plan.drop_foreign_keys.push(Change::AlterTable {
            from: from.clone(),
            to: after_drops.clone(),
            changes: drop_keys,
        });
    }
    if !changes.is_empty() {
        plan.alter_tables.push(Change::AlterTable {
            from: after_drops,
            to: before_adds.clone(),
            changes,
        });
    }
    if !add_keys.is_empty() {
        plan.add_foreign_keys.push(Change::AlterTable {
            from: before_adds,
            to: to.clone(),
            changes: add_keys,
        });
    }
}

/// `table` with its columns renamed (old name → new name), in its keys,
/// constraints and indexes too, as RENAME COLUMN leaves them.
pub(crate) fn with_columns_renamed(table: &Table, new_name: &BTreeMap<&str, &str>) -> Table {
    let rename = |name: &mut String| {
        if let Some(new) = new_name.get(name.as_str()) {
            *name = (*new).to_owned();
        }
    };
    let mut table = table.clone();
    for column in &mut table.columns {
        rename(&mut column.name);
    }
    if let Some(key) = &mut table.primary_key {
        key.columns.iter_mut().for_each(rename);
    }
    for unique in &mut table.uniques {
        unique.columns.iter_mut().for_each(rename);
    }
    for index in &mut table.indexes {
        index.include.iter_mut().for_each(rename);
        for part in &mut index.parts {
            if let super::model::IndexKey::Column(name) = &mut part.key {
                rename(name);
            }
        }
    }
    for key in &mut table.foreign_keys {
        key.columns.iter_mut().for_each(rename);
        if key.references == table.name {
            key.referenced_columns.iter_mut().for_each(rename);
        }
    }
    table
}

fn same_primary_key(from: &Table, to: &Table) -> bool {
    match (&from.primary_key, &to.primary_key) {
        (Some(a), Some(b)) => {
            a.columns == b.columns && ((a.generated_name && b.generated_name) || a.name == b.name)
        }
        (None, None) => true,
        _ => false,
    }
}

fn same_unique(a: &Unique, b: &Unique) -> bool {
    a.columns == b.columns && ((a.generated_name && b.generated_name) || a.name == b.name)
}

/// The column lists of `from`'s primary key, unique constraints and
/// unique indexes that `to` drops (to replace them or not).
fn replaced_keys(from: &Table, to: &Table) -> Vec<Vec<String>> {
    let mut keys = Vec::new();
    if !same_primary_key(from, to)
        && let Some(key) = &from.primary_key
    {
        keys.push(key.columns.clone());
    }
    let (gone, _) = split(&from.uniques, &to.uniques, same_unique);
    keys.extend(gone.into_iter().map(|u| u.columns));
    let (gone, _) = split(&from.indexes, &to.indexes, |a, b| a == b);
    keys.extend(gone.into_iter().filter(|i| i.unique).filter_map(|i| {
        i.parts
            .iter()
            .map(|p| match &p.key {
                IndexKey::Column(c) => Some(c.clone()),
                IndexKey::Expression(_) => None,
            })
            .collect::<Option<Vec<String>>>()
    }));
    keys
}

/// Two foreign keys are the same when they say the same, and have the
/// same name unless the server chose both names.
fn same_key(a: &ForeignKey, b: &ForeignKey) -> bool {
    a.columns == b.columns
        && a.references == b.references
        && a.referenced_columns == b.referenced_columns
        && a.on_delete == b.on_delete
        && a.on_update == b.on_update
        && a.deferrable == b.deferrable
        && a.match_full == b.match_full
        && ((a.generated_name && b.generated_name) || a.name == b.name)
}

/// What is only in `from` and what is only in `to`, matching each item at
/// most once.
fn split<T: Clone>(from: &[T], to: &[T], same: impl Fn(&T, &T) -> bool) -> (Vec<T>, Vec<T>) {
    let mut unmatched: Vec<&T> = to.iter().collect();
    let mut gone = Vec::new();
    for item in from {
        match unmatched.iter().position(|w| same(item, w)) {
            Some(at) => {
                unmatched.remove(at);
            }
            None => gone.push(item.clone()),
        }
    }
    (gone, unmatched.into_iter().cloned().collect())
}

/// Phases 2 and 10: views gone or changed, and views reading a table that
/// changes shape (which the server would refuse to change under them).
fn views(from: &Schema, to: &Schema, options: DiffOptions, plan: &mut Plan) {
    let around = if options.views_around_every_table_change {
        &plan.touched
    } else {
        &plan.reshaped
    };
    // A view recreated makes the views reading it recreated too.
    let mut recreated: BTreeSet<Name> = BTreeSet::new();
    loop {
        let before = recreated.len();
        for (name, view) in &from.views {
            let changed = to.views.get(name) != Some(view);
            let reads_changed = view
                .reads
                .iter()
                .any(|r| around.contains(r) || recreated.contains(r));
            if changed || reads_changed {
                recreated.insert(name.clone());
            }
        }
        if recreated.len() == before {
            break;
        }
    }
    // Dropped dependents first; created in the reverse.
    let order = view_order(from, &recreated);
    for name in order.iter().rev() {
        plan.drop_views.push(Change::DropView {
            view: from.views[name].clone(),
        });
    }
    let wanted: BTreeSet<Name> = to
        .views
        .keys()
        .filter(|name| recreated.contains(*name) || !from.views.contains_key(*name))
        .cloned()
        .collect();
    for name in view_order(to, &wanted) {
        plan.create_views.push(Change::CreateView {
            view: to.views[&name].clone(),
        });
    }
}

/// `names` ordered so that a view comes after the views it reads.
fn view_order(schema: &Schema, names: &BTreeSet<Name>) -> Vec<Name> {
    let mut order: Vec<Name> = Vec::new();
    let mut left: Vec<&Name> = names.iter().collect();
    while !left.is_empty() {
        let at = left
            .iter()
            .position(|name| {
                schema.views[*name]
                    .reads
                    .iter()
                    .all(|r| !names.contains(r) || order.contains(r) || r == *name)
            })
            .unwrap_or(0);
        order.push(left.remove(at).clone());
    }
    order
}

/// Whether an enum's change only adds labels, keeping the others in their
/// order (PostgreSQL adds those in place).
pub fn only_adds_labels(from: &EnumType, to: &EnumType) -> bool {
    let mut wanted = to.values.iter();
    from.values.iter().all(|v| wanted.any(|w| w == v))
}
