//! What the schema tests of every dialect do alike: run a plan in a
//! transaction, read a database, diff and render for the dialect.

use retort::Dialect;
use retort::db::{self, Driver};
use retort::schema::{Change, Name, Schema, diff};

/// retort's own tables, never part of a schema.
pub(crate) const OWN_TABLES: &[&str] = &["retort_version", "retort_applied", "retort_journal"];

/// Runs `statements` in one transaction; the one that failed, and why.
pub(crate) fn run_all(driver: &mut dyn Driver, statements: &[String]) -> Result<(), String> {
    driver.begin().map_err(|e| e.to_string())?;
    for statement in statements {
        if let Err(e) = driver.run(statement) {
            let _ = driver.rollback();
            return Err(format!("{statement}: {e}"));
        }
    }
    driver.commit().map_err(|e| e.to_string())
}

pub(crate) fn inspect(driver: &mut dyn Driver) -> Schema {
    db::inspect(driver, OWN_TABLES).unwrap()
}

/// The changes from `from` to `to`, ordered for `dialect`.
pub(crate) fn changes(dialect: Dialect, from: &Schema, to: &Schema) -> Vec<Change> {
    diff(from, to, &Default::default(), db::diff_options(dialect))
}

pub(crate) fn statements_of(dialect: Dialect, changes: &[Change]) -> Vec<String> {
    db::render(dialect, changes)
        .unwrap()
        .into_iter()
        .flat_map(|r| r.statements)
        .collect()
}

/// The statements that build `schema` in an empty database.
pub(crate) fn create_statements(dialect: Dialect, schema: &Schema) -> Vec<String> {
    statements_of(dialect, &changes(dialect, &Schema::default(), schema))
}

/// Fails, saying what differs and the SQL that would fix it, unless the
/// differ finds nothing between the two.
#[track_caller]
pub(crate) fn assert_same(dialect: Dialect, left: &Schema, right: &Schema, context: &str) {
    let changes = changes(dialect, left, right);
    let described: Vec<String> = changes.iter().flat_map(Change::describe).collect();
    assert!(
        changes.is_empty(),
        "{context}: {described:#?}\n{:#?}",
        statements_of(dialect, &changes)
    );
}

/// retort's own tables are never part of the schema.
pub(crate) fn assert_own_tables_left_out(driver: &mut dyn Driver) {
    run_all(
        driver,
        &["CREATE TABLE retort_version (version_num varchar(32))".into()],
    )
    .unwrap();
    assert!(
        !inspect(driver)
            .tables
            .contains_key(&Name::new("retort_version"))
    );
}
