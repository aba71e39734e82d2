//! A MySQL or MariaDB database read into the schema model.
//!
//! One `information_schema` query per kind of object, for the database the
//! connection uses (`DATABASE()`), then what differs between servers and
//! versions is folded into one spelling, so that the same schema reads the
//! same on MySQL 8 and MariaDB 10/11: integer display widths, MariaDB's
//! quoted literal defaults and `NULL` default, `current_timestamp()`,
//! MariaDB's JSON (a `longtext` with a `json_valid` check), `utf8` as
//! `utf8mb3`, collations and table options equal to what they inherit,
//! RESTRICT (the same as NO ACTION there), the names the server chose, and
//! the index MySQL creates for a foreign key that has none. MySQL's
//! catalog mangles check and generation expressions (quotes, 4-byte
//! characters), so on MySQL those come from `SHOW CREATE TABLE`.

use std::collections::{BTreeMap, BTreeSet};

use crate::Dialect;
use crate::db::{DbError, DbErrorKind, Driver};
use crate::schema::{
    Action, Check, Column, Deferrable, ForeignKey, Generated, Identity, Index, IndexKey, IndexPart,
    Name, PrimaryKey, Schema, Table, Trigger, Unique, View,
};
use crate::sql::{Piece, PieceKind, pieces, split_commas};

type Row = Vec<Option<String>>;

/// A cell's text; `None` for SQL NULL or a missing column.
fn cell(row: &Row, at: usize) -> Option<&str> {
    row.get(at).and_then(|c| c.as_deref())
}

/// A cell's text, empty for NULL.
fn text(row: &Row, at: usize) -> &str {
    cell(row, at).unwrap_or("")
}

/// What the whole database shares: the server, and what tables inherit.
struct Context {
    mariadb: bool,
    database: String,
    engine: String,
    charset: String,
    collation: String,
}

impl Context {
    fn read(driver: &mut dyn Driver) -> Result<Context, DbError> {
        let rows = driver.query_text(
            "SELECT VERSION(), s.SCHEMA_NAME, @@default_storage_engine, \
             s.DEFAULT_CHARACTER_SET_NAME, s.DEFAULT_COLLATION_NAME \
             FROM information_schema.SCHEMATA s WHERE s.SCHEMA_NAME = DATABASE()",
        )?;
        let Some(row) = rows.first() else {
            return Err(DbError::new(
                DbErrorKind::Statement,
                "no database selected: the URL must name the database to read",
            ));
        };
        Ok(Context {
            mariadb: text(row, 0).contains("MariaDB"),
            database: text(row, 1).to_owned(),
            engine: text(row, 2).to_owned(),
            charset: charset_name(text(row, 3)),
            collation: collation_name(text(row, 4)),
        })
    }
}

/// Reads the connection's database; tables named in `exclude` are left
/// out.
pub(crate) fn inspect(driver: &mut dyn Driver, exclude: &[&str]) -> Result<Schema, DbError> {
    let context = Context::read(driver)?;
    let (mut tables, collations, view_names) = read_tables(driver, &context, exclude)?;
    read_columns(driver, context.mariadb, &mut tables, &collations)?;
    read_checks(driver, &context, &mut tables)?;
    read_indexes(driver, &context, &mut tables)?;
    read_foreign_keys(driver, &context, &mut tables)?;
    read_triggers(driver, &mut tables)?;
    if !context.mariadb {
        read_show_create(driver, &mut tables)?;
    }
    for table in tables.values_mut() {
        fold_json(table);
        hide_foreign_key_indexes(table);
    }
    let mut schema = Schema::default();
    for table in tables.into_values() {
        schema.tables.insert(table.name.clone(), table);
    }
    read_views(driver, &context, &view_names, &mut schema)?;
    Ok(schema)
}

/// What `TABLES` says: the tables (empty), each one's default collation,
/// and the views' names.
type TableRows = (
    BTreeMap<String, Table>,
    BTreeMap<String, String>,
    BTreeSet<String>,
);

fn read_tables(
    driver: &mut dyn Driver,
    context: &Context,
    exclude: &[&str],
) -> Result<TableRows, DbError> {
    let rows = driver.query_text(
        "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, TABLE_COMMENT \
         FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
    )?;
    let mut tables = BTreeMap::new();
    let mut collations = BTreeMap::new();
    let mut views = BTreeSet::new();
    for row in &rows {
        let name = text(row, 0);
        match text(row, 1) {
            "VIEW" => {
                views.insert(name.to_owned());
            }
            "BASE TABLE" if !exclude.contains(&name) => {
                let mut table = Table::new(Name::new(name));
                table.comment = cell(row, 4).filter(|c| !c.is_empty()).map(str::to_owned);
                let engine = text(row, 2);
                if !engine.is_empty() && !engine.eq_ignore_ascii_case(&context.engine) {
                    table.options.insert("engine".into(), engine.to_owned());
                }
                let collation = collation_name(text(row, 3));
                if !collation.is_empty() && collation != context.collation {
                    let charset = charset_of(&collation);
                    if charset != context.charset {
                        table.options.insert("charset".into(), charset);
                    }
                    table.options.insert("collation".into(), collation.clone());
                }
                collations.insert(name.to_owned(), collation);
                tables.insert(name.to_owned(), table);
            }
            // Sequences (MariaDB), system-versioned and excluded tables.
            _ => {}
        }
    }
    Ok((tables, collations, views))
}

fn read_columns(
    driver: &mut dyn Driver,
    mariadb: bool,
    tables: &mut BTreeMap<String, Table>,
    collations: &BTreeMap<String, String>,
) -> Result<(), DbError> {
    let rows = driver.query_text(
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, \
         COLLATION_NAME, COLUMN_COMMENT, GENERATION_EXPRESSION \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
         ORDER BY TABLE_NAME, ORDINAL_POSITION",
    )?;
    for row in &rows {
        let Some(table) = tables.get_mut(text(row, 0)) else {
            continue;
        };
        let inherited = collations.get(text(row, 0)).map_or("", String::as_str);
        table.columns.push(column(row, inherited, mariadb));
    }
    Ok(())
}

/// One `COLUMNS` row; `inherited` is the table's collation.
fn column(row: &Row, inherited: &str, mariadb: bool) -> Column {
    let ty = column_type(text(row, 2));
    let extra = text(row, 5).to_ascii_lowercase();
    let mut column = Column::new(text(row, 1), ty.clone());
    column.nullable = text(row, 3) == "YES";
    let generated = extra.contains("generated") && !extra.contains("default_generated");
    if generated {
        column.generated = Some(Generated {
            expression: text(row, 8).to_owned(),
            stored: extra.contains("stored"),
        });
    } else {
        column.default = cell(row, 4)
            .and_then(|d| default_value(d, &ty, mariadb, extra.contains("default_generated")));
    }
    if extra.contains("auto_increment") {
        column.identity = Some(Identity::AutoIncrement);
    }
    column.on_update = extra
        .split_once("on update ")
        .map(|(_, value)| timestamp_function(value.trim()));
    column.collation = cell(row, 6).map(collation_name).filter(|c| c != inherited);
    column.comment = cell(row, 7).filter(|c| !c.is_empty()).map(str::to_owned);
    column
}

/// A type as `COLUMN_TYPE` writes it, in one spelling: MySQL 8.0.19 stopped
/// showing integer display widths, except `tinyint(1)` (a boolean) and
/// with `zerofill`, and servers upgraded in place still show them.
fn column_type(raw: &str) -> String {
    let ty = raw.trim();
    if ty.contains("zerofill") {
        return ty.to_owned();
    }
    for integer in ["tinyint", "smallint", "mediumint", "int", "bigint", "year"] {
        let Some(rest) = ty.strip_prefix(integer) else {
            continue;
        };
        let Some((width, after)) = rest.strip_prefix('(').and_then(|r| r.split_once(')')) else {
            continue;
        };
        if !width.bytes().all(|b| b.is_ascii_digit()) || (integer == "tinyint" && width == "1") {
            return ty.to_owned();
        }
        return format!("{integer}{after}");
    }
    ty.to_owned()
}

/// A default in one spelling, MariaDB's (10.2.7+): literals quoted,
/// numbers bare, expressions as the server writes them. MariaDB's `NULL`
/// (no default) is none; MySQL writes literals bare and marks expressions
/// (`expression`).
fn default_value(raw: &str, ty: &str, mariadb: bool, expression: bool) -> Option<String> {
    if raw.eq_ignore_ascii_case("null") {
        return None;
    }
    if raw.to_ascii_lowercase().starts_with("current_timestamp") {
        return Some(timestamp_function(raw));
    }
    if mariadb || expression || numeric_type(ty) {
        return Some(raw.to_owned());
    }
    Some(format!(
        "'{}'",
        raw.replace('\\', "\\\\").replace('\'', "''")
    ))
}

fn numeric_type(ty: &str) -> bool {
    [
        "tinyint",
        "smallint",
        "mediumint",
        "int",
        "bigint",
        "decimal",
        "float",
        "double",
        "bit",
    ]
    .iter()
    .any(|t| ty.starts_with(t))
}

/// `CURRENT_TIMESTAMP`, `current_timestamp()`, `CURRENT_TIMESTAMP(3)` as
/// MariaDB writes them.
fn timestamp_function(raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    match lower.strip_prefix("current_timestamp") {
        Some("") => "current_timestamp()".to_owned(),
        Some(_) => lower,
        None => raw.to_owned(),
    }
}

/// `utf8` is `utf8mb3` (its name since MySQL 8.0.30 and MariaDB 10.6).
fn charset_name(name: &str) -> String {
    if name == "utf8" {
        "utf8mb3".to_owned()
    } else {
        name.to_owned()
    }
}

fn collation_name(name: &str) -> String {
    match name.strip_prefix("utf8_") {
        Some(rest) => format!("utf8mb3_{rest}"),
        None => name.to_owned(),
    }
}

/// The character set of a collation: its name's first word.
fn charset_of(collation: &str) -> String {
    collation.split('_').next().unwrap_or(collation).to_owned()
}

fn read_checks(
    driver: &mut dyn Driver,
    context: &Context,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DbError> {
    // MariaDB names checks per table and says which table; MySQL names
    // them per database, and says so only in TABLE_CONSTRAINTS.
    let sql = if context.mariadb {
        "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME"
    } else {
        "SELECT tc.TABLE_NAME, tc.CONSTRAINT_NAME, cc.CHECK_CLAUSE \
         FROM information_schema.TABLE_CONSTRAINTS tc \
         JOIN information_schema.CHECK_CONSTRAINTS cc \
         ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
         WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK' \
         ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME"
    };
    for row in &driver.query_text(sql)? {
        let Some(table) = tables.get_mut(text(row, 0)) else {
            continue;
        };
        let name = text(row, 1).to_owned();
        table.checks.push(Check {
            generated_name: generated_check_name(&table.name.name, &name),
            name,
            expression: text(row, 2).to_owned(),
        });
    }
    Ok(())
}

/// MariaDB names an unnamed check `CONSTRAINT_<n>`, MySQL `<table>_chk_<n>`.
fn generated_check_name(table: &str, name: &str) -> bool {
    numbered(name, "CONSTRAINT_") || numbered(name, &format!("{table}_chk_"))
}

/// Whether `name` is `prefix` and a number.
fn numbered(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// MariaDB's JSON is `longtext` with a check `json_valid(col)` named after
/// the column: the type MySQL has, without that check.
fn fold_json(table: &mut Table) {
    let mut folded = Vec::new();
    for column in &mut table.columns {
        if column.ty != "longtext" {
            continue;
        }
        let validity = format!("json_valid(`{}`)", column.name.replace('`', "``"));
        if let Some(at) = table
            .checks
            .iter()
            .position(|c| c.name == column.name && c.expression == validity)
        {
            column.ty = "json".to_owned();
            column.collation = None;
            folded.push(at);
        }
    }
    folded.sort_unstable();
    for at in folded.into_iter().rev() {
        table.checks.remove(at);
    }
}

/// One index, as its `STATISTICS` rows build it.
struct IndexRows {
    name: String,
    unique: bool,
    method: Option<String>,
    parts: Vec<IndexPart>,
}

fn read_indexes(
    driver: &mut dyn Driver,
    context: &Context,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DbError> {
    // Functional key parts exist from MySQL 8.0.13; MariaDB has none.
    let expression = if context.mariadb {
        "NULL"
    } else {
        "EXPRESSION"
    };
    let rows = driver.query_text(&format!(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, COLLATION, \
         INDEX_TYPE, {expression} FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
    ))?;
    let mut indexes: BTreeMap<(String, String), IndexRows> = BTreeMap::new();
    for row in &rows {
        if !tables.contains_key(text(row, 0)) {
            continue;
        }
        let key = match (cell(row, 3), cell(row, 7)) {
            (Some(column), _) => IndexKey::Column(column.to_owned()),
            (None, Some(expression)) => IndexKey::Expression(expression.to_owned()),
            (None, None) => continue,
        };
        let method = text(row, 6).to_ascii_lowercase();
        let index = indexes
            .entry((text(row, 0).to_owned(), text(row, 1).to_owned()))
            .or_insert_with(|| IndexRows {
                name: text(row, 1).to_owned(),
                unique: text(row, 2) == "0",
                method: (!method.is_empty() && method != "btree").then_some(method),
                parts: Vec::new(),
            });
        index.parts.push(IndexPart {
            key,
            descending: text(row, 5) == "D",
            nulls_first: None,
            opclass: None,
            prefix: cell(row, 4).and_then(|p| p.parse().ok()),
        });
    }
    for ((table, _), index) in indexes {
        if let Some(table) = tables.get_mut(&table) {
            add_index(table, index);
        }
    }
    Ok(())
}

/// An index as the primary key, a unique constraint (a unique index on
/// plain columns: the two are one thing here) or an index.
fn add_index(table: &mut Table, index: IndexRows) {
    let columns: Option<Vec<String>> = index
        .parts
        .iter()
        .map(|p| match &p.key {
            IndexKey::Column(c) if p.prefix.is_none() && !p.descending => Some(c.clone()),
            _ => None,
        })
        .collect();
    match columns {
        Some(columns) if index.name == "PRIMARY" => {
            table.primary_key = Some(PrimaryKey {
                name: index.name,
                generated_name: true,
                columns,
            });
        }
        Some(columns) if index.unique && index.method.is_none() => {
            table.uniques.push(Unique {
                generated_name: generated_key_name(&index.name, &columns[0]),
                name: index.name,
                columns,
            });
        }
        _ => table.indexes.push(Index {
            name: index.name,
            unique: index.unique,
            parts: index.parts,
            predicate: None,
            method: index.method,
            include: Vec::new(),
        }),
    }
}

/// An unnamed key is named after its first column: `col`, `col_2`, ….
fn generated_key_name(name: &str, first_column: &str) -> bool {
    name == first_column || numbered(name, &format!("{first_column}_"))
}

fn read_foreign_keys(
    driver: &mut dyn Driver,
    context: &Context,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DbError> {
    let rows = driver.query_text(
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, \
         k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE \
         FROM information_schema.KEY_COLUMN_USAGE k \
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
         ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
         AND r.TABLE_NAME = k.TABLE_NAME \
         WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
    )?;
    for row in &rows {
        let Some(table) = tables.get_mut(text(row, 0)) else {
            continue;
        };
        let name = text(row, 1);
        let at = match table.foreign_keys.iter().position(|k| k.name == name) {
            Some(at) => at,
            None => {
                let schema = text(row, 3);
                let references = if schema.is_empty() || schema == context.database {
                    Name::new(text(row, 4))
                } else {
                    Name::in_schema(schema, text(row, 4))
                };
                table.foreign_keys.push(ForeignKey {
                    name: name.to_owned(),
                    generated_name: numbered(name, &format!("{}_ibfk_", table.name.name)),
                    columns: Vec::new(),
                    references,
                    referenced_columns: Vec::new(),
                    on_delete: action(text(row, 6)),
                    on_update: action(text(row, 7)),
                    deferrable: Deferrable::No,
                    match_full: false,
                });
                table.foreign_keys.len() - 1
            }
        };
        let key = &mut table.foreign_keys[at];
        key.columns.push(text(row, 2).to_owned());
        key.referenced_columns.push(text(row, 5).to_owned());
    }
    Ok(())
}

/// A rule of `REFERENTIAL_CONSTRAINTS`; RESTRICT and NO ACTION are the
/// same on these servers (InnoDB checks at once either way), and MariaDB
/// reports the default as RESTRICT.
fn action(rule: &str) -> Action {
    match rule {
        "CASCADE" => Action::Cascade,
        "SET NULL" => Action::SetNull,
        "SET DEFAULT" => Action::SetDefault,
        _ => Action::NoAction,
    }
}

/// The name MySQL gives the index it creates for a foreign key whose
/// columns no index leads with: the constraint's name when the user gave
/// one, else the first column's.
pub(super) fn implicit_index_name(key: &ForeignKey) -> &str {
    if key.generated_name {
        key.columns.first().map_or("", String::as_str)
    } else {
        &key.name
    }
}

/// MySQL creates an index for a foreign key that has none and drops it when
/// another index can serve: it comes and goes with the key, so it is not
/// the user's (atlas#3301). An index exactly like the one the server would
/// create, under that name, is left out.
fn hide_foreign_key_indexes(table: &mut Table) {
    let keys = &table.foreign_keys;
    table.indexes.retain(|index| {
        !keys.iter().any(|key| {
            !index.unique
                && index.method.is_none()
                && index.name == implicit_index_name(key)
                && index.parts.len() == key.columns.len()
                && index.parts.iter().zip(&key.columns).all(|(p, c)| {
                    p.key == IndexKey::Column(c.clone()) && p.prefix.is_none() && !p.descending
                })
        })
    });
}

fn read_triggers(
    driver: &mut dyn Driver,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DbError> {
    let rows = driver.query_text(
        "SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, \
         ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() \
         ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER, TRIGGER_NAME",
    )?;
    for row in &rows {
        let Some(table) = tables.get_mut(text(row, 0)) else {
            continue;
        };
        let name = text(row, 1).to_owned();
        let definition = format!(
            "CREATE TRIGGER {} {} {} ON {} FOR EACH ROW {}",
            super::render::ident(&name),
            text(row, 2),
            text(row, 3),
            super::render::ident(text(row, 0)),
            text(row, 4).trim()
        );
        table.triggers.push(Trigger { name, definition });
    }
    Ok(())
}

/// MySQL's `CHECK_CLAUSE` and `GENERATION_EXPRESSION` lose quotes and
/// 4-byte characters; `SHOW CREATE TABLE` keeps them. One statement per
/// table that has either.
fn read_show_create(
    driver: &mut dyn Driver,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DbError> {
    for table in tables.values_mut() {
        if table.checks.is_empty() && table.columns.iter().all(|c| c.generated.is_none()) {
            continue;
        }
        let rows = driver.query_text(&format!(
            "SHOW CREATE TABLE {}",
            super::render::ident(&table.name.name)
        ))?;
        if let Some(sql) = rows.first().and_then(|row| cell(row, 1)) {
            apply_show_create(table, sql);
        }
    }
    Ok(())
}

/// Takes each check's and generated column's expression from the text of
/// `SHOW CREATE TABLE`; what it cannot read stays as the catalog said.
fn apply_show_create(table: &mut Table, sql: &str) {
    let Ok(all) = pieces(sql, Dialect::Mysql) else {
        return;
    };
    let Some(open) = all.iter().position(|p| p.kind == PieceKind::Punct('(')) else {
        return;
    };
    let Some(close) = group_end(&all[open..]).map(|end| open + end) else {
        return;
    };
    for definition in split_commas(&all[open + 1..close]) {
        let Some(first) = definition.first() else {
            continue;
        };
        if first.is("constraint")
            && let Some(name) = definition.get(1)
            && definition.get(2).is_some_and(|p| p.is("check"))
            && let Some(body) = parenthesised(sql, &definition[3..])
        {
            let name = name.ident();
            if let Some(check) = table.checks.iter_mut().find(|c| c.name == name) {
                check.expression = body;
            }
        } else if first.kind == PieceKind::Quoted
            && let Some(at) = definition.iter().position(|p| p.is("as"))
            && let Some(body) = parenthesised(sql, &definition[at + 1..])
        {
            let name = first.ident();
            if let Some(generated) = table
                .columns
                .iter_mut()
                .find(|c| c.name == name)
                .and_then(|c| c.generated.as_mut())
            {
                generated.expression = body;
            }
        }
    }
}

/// Where the parenthesised group `pieces` begin with ends: the index of
/// its `)`.
fn group_end(pieces: &[Piece<'_>]) -> Option<usize> {
    if pieces.first()?.kind != PieceKind::Punct('(') {
        return None;
    }
    let mut depth = 0usize;
    for (at, piece) in pieces.iter().enumerate() {
        match piece.kind {
            PieceKind::Punct('(') => depth += 1,
            PieceKind::Punct(')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    None
}

/// The text inside the parentheses `pieces` begin with.
fn parenthesised(sql: &str, pieces: &[Piece<'_>]) -> Option<String> {
    let end = group_end(pieces)?;
    sql.get(pieces[0].start + 1..pieces[end].start)
        .map(|s| s.trim().to_owned())
}

fn read_views(
    driver: &mut dyn Driver,
    context: &Context,
    view_names: &BTreeSet<String>,
    schema: &mut Schema,
) -> Result<(), DbError> {
    let rows = driver.query_text(
        "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
    )?;
    for row in &rows {
        let name = Name::new(text(row, 0));
        let (definition, names) = view_definition(text(row, 1), &context.database);
        let reads = names
            .into_iter()
            .filter(|n| *n != name.name)
            .filter(|n| view_names.contains(n) || schema.tables.contains_key(&Name::new(n)))
            .map(Name::new)
            .collect();
        schema.views.insert(
            name.clone(),
            View {
                name,
                definition,
                reads,
                comment: None,
            },
        );
    }
    Ok(())
}

/// A view's query without the database's name, which the server writes
/// before every table (a copy in another database must read the same), and
/// the tables and views it so named.
fn view_definition(sql: &str, database: &str) -> (String, BTreeSet<String>) {
    let Ok(all) = pieces(sql, Dialect::Mysql) else {
        return (sql.trim().to_owned(), BTreeSet::new());
    };
    let mut out = String::new();
    let mut names = BTreeSet::new();
    let mut copied = 0;
    let mut at = 0;
    while at + 2 < all.len() {
        let qualifier = all[at].kind == PieceKind::Quoted
            && all[at].ident() == database
            && all[at + 1].kind == PieceKind::Punct('.')
            && matches!(all[at + 2].kind, PieceKind::Quoted | PieceKind::Word);
        if qualifier {
            out.push_str(&sql[copied..all[at].start]);
            copied = all[at + 2].start;
            names.insert(all[at + 2].ident());
            at += 3;
        } else {
            at += 1;
        }
    }
    out.push_str(&sql[copied..]);
    (out.trim().to_owned(), names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_widths_are_dropped_but_booleans_and_zerofill_kept() {
        assert_eq!(column_type("int(11)"), "int");
        assert_eq!(column_type("int(10) unsigned"), "int unsigned");
        assert_eq!(column_type("bigint(20)"), "bigint");
        assert_eq!(column_type("tinyint(1)"), "tinyint(1)");
        assert_eq!(column_type("tinyint(4)"), "tinyint");
        assert_eq!(
            column_type("int(5) unsigned zerofill"),
            "int(5) unsigned zerofill"
        );
        assert_eq!(column_type("year(4)"), "year");
        assert_eq!(column_type("decimal(10,2)"), "decimal(10,2)");
        assert_eq!(column_type("integer_like"), "integer_like");
    }

    #[test]
    fn defaults_read_the_same_on_mysql_and_mariadb() {
        let read = |raw, ty, mariadb, expression| default_value(raw, ty, mariadb, expression);
        for (mariadb, mysql, ty, expression, wanted) in [
            ("'anon'", "anon", "varchar(9)", false, Some("'anon'")),
            ("'it''s'", "it's", "text", false, Some("'it''s'")),
            ("NULL", "NULL", "varchar(9)", false, None),
            ("-1", "-1", "int", false, Some("-1")),
            ("1.50", "1.50", "decimal(5,2)", false, Some("1.50")),
            (
                "current_timestamp()",
                "CURRENT_TIMESTAMP",
                "timestamp",
                true,
                Some("current_timestamp()"),
            ),
            (
                "current_timestamp(3)",
                "CURRENT_TIMESTAMP(3)",
                "datetime(3)",
                true,
                Some("current_timestamp(3)"),
            ),
        ] {
            assert_eq!(
                read(mariadb, ty, true, false).as_deref(),
                wanted,
                "{mariadb}"
            );
            assert_eq!(
                read(mysql, ty, false, expression).as_deref(),
                wanted,
                "{mysql}"
            );
        }
    }

    #[test]
    fn generated_names() {
        assert!(generated_check_name("users", "CONSTRAINT_1"));
        assert!(generated_check_name("users", "users_chk_12"));
        assert!(!generated_check_name("users", "users_chk_"));
        assert!(!generated_check_name("users", "karma_bounded"));
        assert!(generated_key_name("email", "email"));
        assert!(generated_key_name("email_2", "email"));
        assert!(!generated_key_name("email_x", "email"));
    }

    #[test]
    fn views_lose_the_database_qualifier() {
        let (definition, reads) = view_definition(
            "select `o`.`id` AS `id` from (`shop`.`orders` `o` join `shop`.`users` `u` on(`u`.`id` = `o`.`user_id`))",
            "shop",
        );
        assert_eq!(
            definition,
            "select `o`.`id` AS `id` from (`orders` `o` join `users` `u` on(`u`.`id` = `o`.`user_id`))"
        );
        assert_eq!(reads.into_iter().collect::<Vec<_>>(), ["orders", "users"]);
    }

    #[test]
    fn show_create_gives_check_and_generation_text() {
        let mut table = Table::new(Name::new("t"));
        let mut c = Column::new("c", "varchar(9)");
        c.generated = Some(Generated {
            expression: "mangled".into(),
            stored: false,
        });
        table.columns.push(c);
        table.checks.push(Check {
            name: "t_chk_1".into(),
            generated_name: true,
            expression: "mangled".into(),
        });
        apply_show_create(
            &mut table,
            "CREATE TABLE `t` (\n  `c` varchar(9) GENERATED ALWAYS AS (concat(_utf8mb4'it''s',`a`)) VIRTUAL,\n  \
             CONSTRAINT `t_chk_1` CHECK ((`c` <> _utf8mb4'😀'))\n) ENGINE=InnoDB",
        );
        assert_eq!(
            table.columns[0].generated.as_ref().unwrap().expression,
            "concat(_utf8mb4'it''s',`a`)"
        );
        assert_eq!(table.checks[0].expression, "(`c` <> _utf8mb4'😀')");
    }
}
