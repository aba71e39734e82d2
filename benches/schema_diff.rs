//! The differ alone: two 1,000-table schema models (the one the migrations
//! build and the declared one, edited on 3% of the tables) compared by
//! `retort::schema::diff`, then the changes written as SQL (upgrade and
//! downgrade) by each dialect's renderer. Inspection is not part of it:
//! the models are built in memory (`retort_benches::schema`).
//!
//! `cargo bench -p retort-benches --bench schema_diff`
//!
//! Environment: `RETORT_BENCH_QUICK=1` for a smoke run (200 tables, 3
//! rounds); `RETORT_BENCH_TABLES=N` to choose the table count. Before
//! timing, the result is checked: the models are what the SQLite inspector
//! reads back from the same DDL, the changes are exactly the edits made
//! (and the views around them), and the SQLite upgrade and downgrade, run
//! on an in-memory database, give the other schema (the differ finds
//! nothing left). Exits non-zero when a check fails, never because a
//! figure is slow.

// This binary's output is its result: it prints the table to stdout, which
// the workspace lints warn about for library code.
#![allow(clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::time::Duration;

use retort::Dialect;
use retort::config::DatabaseUrl;
use retort::db::{self, Rendered};
use retort::schema::{self, Change, Renames, Schema, TableChange};
use retort_benches::schema::{Design, Edit, design, edit};
use retort_benches::{Built, Case, load_average_line, measure, millis, print_cases, quick};

/// The table count the target is set for.
const TARGET_TABLES: usize = 1_000;
/// `diff` must stay under this (median) for [`TARGET_TABLES`] tables.
const TARGET: Duration = Duration::from_millis(500);
const WARM_UP: usize = 3;
const ROUNDS: usize = 31;
const QUICK_TABLES: usize = 200;
const QUICK_ROUNDS: usize = 3;

/// The dialects whose renderers are timed, in the report's order.
const DIALECTS: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

/// (what, table or view, column, index or key column): one detected
/// change, in a form both the plan and the edits can be written in.
type Found = (&'static str, String, String);

fn main() -> ExitCode {
    retort_benches::exit("schema_diff", run())
}

fn run() -> Result<(), String> {
    let quick = quick();
    let tables = retort_benches::table_count(TARGET_TABLES, QUICK_TABLES)?;
    let rounds = if quick { QUICK_ROUNDS } else { ROUNDS };
    let base = design(tables, true);
    let (wanted, edits) = edit(&base);
    let from = base.model();
    let to = wanted.model();
    check_models(&base, &from)?;
    check_models(&wanted, &to)?;

    // A dialect without a renderer gets no row; the report says why.
    let mut rendered = Vec::new();
    let mut missing = Vec::new();
    for dialect in DIALECTS {
        let changes = diff(&from, &to, dialect);
        check_changes(&base, &edits, &changes, dialect)?;
        match render(dialect, &changes) {
            Ok(steps) => {
                check_rendered(dialect, &changes, &steps)?;
                rendered.push((dialect, changes.len(), statements(&steps)));
            }
            Err(e) => missing.push((dialect, e)),
        }
    }
    check_sqlite_round_trip(&base, &from, &to)?;
    let (from, to) = (&from, &to);

    let mut cases = vec![
        Case::baseline("baseline: compare every object (==)", || {
            Ok(Box::new(compare_all(from, to)))
        }),
        Case::new("(context) clone both schemas", || {
            Ok(Box::new((from.clone(), to.clone())))
        }),
        Case::new("diff", || Ok(Box::new(diff(from, to, Dialect::Sqlite)))),
    ];
    for &(dialect, ..) in &rendered {
        let name = match dialect {
            Dialect::Sqlite => "diff + render, SQLite",
            Dialect::Postgres => "diff + render, PostgreSQL",
            Dialect::Mysql => "diff + render, MySQL",
        };
        cases.push(Case::new(name, move || {
            let changes = diff(from, to, dialect);
            let steps = render(dialect, &changes)?;
            Ok(Box::new((changes, steps)) as Built)
        }));
    }
    measure(&mut cases, WARM_UP, rounds)?;

    println!(
        "schema_diff: {} tables ({} columns, {} indexes, {} foreign keys, {} views) \
         against {} tables; {} edits{}",
        base.tables.len(),
        from.tables.values().map(|t| t.columns.len()).sum::<usize>(),
        from.tables.values().map(|t| t.indexes.len()).sum::<usize>(),
        from.tables
            .values()
            .map(|t| t.foreign_keys.len())
            .sum::<usize>(),
        from.views.len(),
        wanted.tables.len(),
        edits.len(),
        if quick { ", quick run" } else { "" },
    );
    for (dialect, changes, statements) in &rendered {
        println!(
            "{}: {changes} changes, {statements} statements (upgrade and downgrade)",
            dialect.name()
        );
    }
    println!(
        "{WARM_UP} untimed warm-up rounds of every case, then {rounds} timed rounds; \
         each case's result is freed after its clock stops"
    );
    if let Some(line) = load_average_line() {
        println!("{line}");
    }
    println!();
    let rows = print_cases(&mut cases);
    for (dialect, error) in &missing {
        println!("(no row for {}: db::render: {error})", dialect.name());
    }
    println!();
    let figure = |name: &str| rows.iter().find(|r| r.0 == name).map(|r| r.1.median);
    if tables != TARGET_TABLES {
        println!(
            "target: diff < {} ms applies to {TARGET_TABLES} tables; not checked",
            TARGET.as_millis()
        );
        return Ok(());
    }
    for (name, _) in &rows {
        if !name.starts_with("diff") {
            continue;
        }
        if let Some(median) = figure(name) {
            println!(
                "target: {name} < {} ms (median, {TARGET_TABLES} tables): {} ({:.2} ms)",
                TARGET.as_millis(),
                if median < TARGET { "PASS" } else { "FAIL" },
                millis(median),
            );
        }
    }
    Ok(())
}

fn diff(from: &Schema, to: &Schema, dialect: Dialect) -> Vec<Change> {
    schema::diff(from, to, &Renames::default(), db::diff_options(dialect))
}

/// What a revision needs written: the upgrade, and the downgrade from the
/// inverses, as `revision --autogenerate` renders them.
fn render(dialect: Dialect, changes: &[Change]) -> Result<(Vec<Rendered>, Vec<Rendered>), String> {
    let upgrade = db::render(dialect, changes).map_err(|e| e.to_string())?;
    let downgrade = db::render(dialect, &schema::inverse(changes)).map_err(|e| e.to_string())?;
    Ok((upgrade, downgrade))
}

fn statements((upgrade, downgrade): &(Vec<Rendered>, Vec<Rendered>)) -> usize {
    upgrade
        .iter()
        .chain(downgrade)
        .map(|s| s.statements.len())
        .sum()
}

/// The least any differ does: look at every object on both sides once.
/// Returns how many tables and views differ.
fn compare_all(from: &Schema, to: &Schema) -> usize {
    differing(&from.tables, &to.tables) + differing(&from.views, &to.views)
}

/// How many entries are only in one map, or in both but unequal.
fn differing<K: Ord, V: PartialEq>(from: &BTreeMap<K, V>, to: &BTreeMap<K, V>) -> usize {
    let changed = to.iter().filter(|(k, v)| from.get(*k) != Some(*v)).count();
    changed + from.keys().filter(|k| !to.contains_key(*k)).count()
}

/// The model must be what the SQLite inspector reads back from the DDL of
/// the same design, so the differ sees what `revision --autogenerate`
/// would give it.
fn check_models(design: &Design, model: &Schema) -> Result<(), String> {
    let inspected = build_sqlite(&design.sqlite_statements())?;
    // SQLite's inspection reads constraints in name order.
    let mut model = model.clone();
    for table in model.tables.values_mut() {
        table.sort_constraints();
    }
    first_difference(&model, &inspected).map_or(Ok(()), |d| {
        Err(format!("the model is not what SQLite reads back: {d}"))
    })
}

/// A new in-memory SQLite database with `statements` run on it, read back.
fn build_sqlite(statements: &[String]) -> Result<Schema, String> {
    let url = DatabaseUrl::parse("sqlite::memory:").map_err(|e| e.to_string())?;
    let mut driver = db::connect(&url).map_err(|e| e.to_string())?;
    run_all(driver.as_mut(), statements)?;
    db::inspect(driver.as_mut(), &[]).map_err(|e| e.to_string())
}

fn run_all(driver: &mut dyn db::Driver, statements: &[String]) -> Result<(), String> {
    for statement in statements {
        driver
            .run(statement)
            .map_err(|e| format!("{e}, running: {statement}"))?;
    }
    Ok(())
}

/// The first table or view that differs, in words.
fn first_difference(expected: &Schema, actual: &Schema) -> Option<String> {
    let names = |s: &Schema| -> BTreeSet<String> {
        s.tables
            .keys()
            .chain(s.views.keys())
            .map(ToString::to_string)
            .collect()
    };
    let (want, have) = (names(expected), names(actual));
    if want != have {
        return Some(format!(
            "objects only expected: {:?}; only found: {:?}",
            want.difference(&have).take(5).collect::<Vec<_>>(),
            have.difference(&want).take(5).collect::<Vec<_>>(),
        ));
    }
    for (name, table) in &expected.tables {
        let Some(found) = actual.tables.get(name).filter(|found| *found != table) else {
            continue;
        };
        // The part that differs, not two whole tables.
        let part = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
            let (a, b) = (format!("{a:?}"), format!("{b:?}"));
            (a != b).then(|| format!("table {name}, {what}: expected {a}, found {b}"))
        };
        return part("columns", &table.columns, &found.columns)
            .or_else(|| part("primary key", &table.primary_key, &found.primary_key))
            .or_else(|| part("uniques", &table.uniques, &found.uniques))
            .or_else(|| part("checks", &table.checks, &found.checks))
            .or_else(|| part("foreign keys", &table.foreign_keys, &found.foreign_keys))
            .or_else(|| part("indexes", &table.indexes, &found.indexes))
            .or_else(|| Some(format!("table {name}: expected {table:?}, found {found:?}")));
    }
    for (name, view) in &expected.views {
        if actual.views.get(name) != Some(view) {
            return Some(format!(
                "view {name}: expected {view:?}, found {:?}",
                actual.views.get(name)
            ));
        }
    }
    (expected != actual).then(|| "schemas differ outside tables and views".to_owned())
}

/// The plan must hold exactly the edits, and the views around them: those
/// reading an edited table on SQLite (whose table rebuild cannot keep
/// them), those reading a table whose columns change elsewhere.
fn check_changes(
    base: &Design,
    edits: &[Edit],
    changes: &[Change],
    dialect: Dialect,
) -> Result<(), String> {
    let mut expected: Vec<Found> = edits.iter().flat_map(expected_of).collect();
    let around_every_change = db::diff_options(dialect).views_around_every_table_change;
    let affected: BTreeSet<&str> = edits
        .iter()
        .filter(|e| !matches!(e, Edit::AddTable { .. }))
        .filter(|e| around_every_change || e.reshapes())
        .map(Edit::table)
        .collect();
    for view in &base.views {
        if view.reads().iter().any(|r| affected.contains(r.as_str())) {
            expected.push(("drop view", view.name.clone(), String::new()));
            expected.push(("add view", view.name.clone(), String::new()));
        }
    }
    let mut found: Vec<Found> = changes.iter().flat_map(found_in).collect();
    expected.sort();
    found.sort();
    if expected == found {
        return Ok(());
    }
    let missing: Vec<&Found> = expected.iter().filter(|e| !found.contains(e)).collect();
    let unexpected: Vec<&Found> = found.iter().filter(|f| !expected.contains(f)).collect();
    Err(format!(
        "{}: the diff found {} changes, {} expected; missing {:?}; unexpected {:?}",
        dialect.name(),
        found.len(),
        expected.len(),
        &missing[..missing.len().min(10)],
        &unexpected[..unexpected.len().min(10)],
    ))
}

fn expected_of(edit: &Edit) -> Vec<Found> {
    let one = |what, table: &String, object: &String| vec![(what, table.clone(), object.clone())];
    match edit {
        Edit::AddColumn { table, column } => one("add column", table, column),
        Edit::DropColumn { table, column } => one("drop column", table, column),
        Edit::WidenColumn { table, column } => one("change type", table, column),
        Edit::DropNotNull { table, column } => one("drop not null", table, column),
        Edit::AddIndex { table, index } => one("add index", table, index),
        Edit::DropIndex { table, index } => one("drop index", table, index),
        Edit::AddReference { table, column } => vec![
            ("add column", table.clone(), column.clone()),
            ("add foreign key", table.clone(), column.clone()),
        ],
        Edit::DropForeignKey { table, column } => one("drop foreign key", table, column),
        Edit::AddTable { table } => one("add table", table, &String::new()),
        Edit::DropTable { table } => one("drop table", table, &String::new()),
    }
}

fn found_in(change: &Change) -> Vec<Found> {
    let one = |what, name: &dyn ToString| vec![(what, name.to_string(), String::new())];
    match change {
        Change::CreateTable { table } => one("add table", &table.name),
        Change::DropTable { table } => one("drop table", &table.name),
        Change::CreateView { view } => one("add view", &view.name),
        Change::DropView { view } => one("drop view", &view.name),
        Change::AlterTable { to, changes, .. } => changes
            .iter()
            .map(|c| {
                let (what, object) = table_change(c);
                (what, to.name.to_string(), object)
            })
            .collect(),
        other => vec![("unexpected", format!("{other:?}"), String::new())],
    }
}

fn table_change(change: &TableChange) -> (&'static str, String) {
    match change {
        TableChange::AddColumn { column } => ("add column", column.name.clone()),
        TableChange::DropColumn { column } => ("drop column", column.name.clone()),
        TableChange::AlterColumn { from, to } => {
            let only =
                |what, same: bool| (if same { what } else { "change column" }, to.name.clone());
            let mut widened = from.clone();
            widened.ty.clone_from(&to.ty);
            if from.ty != to.ty {
                return only("change type", widened == *to);
            }
            let mut nullable = from.clone();
            nullable.nullable = to.nullable;
            only("drop not null", to.nullable && nullable == *to)
        }
        TableChange::CreateIndex { index } => ("add index", index.name.clone()),
        TableChange::DropIndex { index } => ("drop index", index.name.clone()),
        TableChange::AddForeignKey { key } => ("add foreign key", key.columns.join(",")),
        TableChange::DropForeignKey { key } => ("drop foreign key", key.columns.join(",")),
        other => ("unexpected", format!("{other:?}")),
    }
}

/// Every change is carried out by some step, and every step says
/// something.
fn check_rendered(
    dialect: Dialect,
    changes: &[Change],
    (upgrade, downgrade): &(Vec<Rendered>, Vec<Rendered>),
) -> Result<(), String> {
    for (section, steps) in [("upgrade", upgrade), ("downgrade", downgrade)] {
        let covered: BTreeSet<usize> = steps.iter().flat_map(|s| s.changes.clone()).collect();
        if covered != (0..changes.len()).collect() {
            return Err(format!(
                "{}: the {section} carries out {} of {} changes",
                dialect.name(),
                covered.len(),
                changes.len()
            ));
        }
        if let Some(step) = steps.iter().find(|s| s.statements.is_empty()) {
            return Err(format!(
                "{}: the {section} writes nothing for changes {:?}",
                dialect.name(),
                step.changes
            ));
        }
    }
    Ok(())
}

/// The SQLite upgrade, run on a database built from `base`, gives `to`;
/// its downgrade then gives `from` again. Foreign keys are off, as when
/// retort runs a migration.
fn check_sqlite_round_trip(base: &Design, from: &Schema, to: &Schema) -> Result<(), String> {
    let changes = diff(from, to, Dialect::Sqlite);
    let (upgrade, downgrade) = render(Dialect::Sqlite, &changes)?;
    let url = DatabaseUrl::parse("sqlite::memory:").map_err(|e| e.to_string())?;
    let mut driver = db::connect(&url).map_err(|e| e.to_string())?;
    let driver = driver.as_mut();
    run_all(driver, &["PRAGMA foreign_keys = OFF".to_owned()])?;
    run_all(driver, &base.sqlite_statements())?;
    for (section, steps, expected) in [("upgrade", &upgrade, to), ("downgrade", &downgrade, from)] {
        let statements: Vec<String> = steps.iter().flat_map(|s| s.statements.clone()).collect();
        run_all(driver, &statements).map_err(|e| format!("sqlite {section}: {e}"))?;
        let inspected = db::inspect(driver, &[]).map_err(|e| e.to_string())?;
        // Compared as the differ compares, so without the order of the
        // columns: a column added back comes last.
        let left: Vec<String> = diff(&inspected, expected, Dialect::Sqlite)
            .iter()
            .flat_map(Change::describe)
            .collect();
        if !left.is_empty() {
            return Err(format!(
                "after the sqlite {section}, {} differences remain: {:?}",
                left.len(),
                &left[..left.len().min(5)]
            ));
        }
    }
    Ok(())
}
