//! A PostgreSQL database read into the schema model, from `pg_catalog`
//! (information_schema loses types, expressions and names).
//!
//! Types, defaults, expressions, view bodies and trigger definitions are
//! the server's rendering (`format_type`, `pg_get_expr`,
//! `pg_get_viewdef`, `pg_get_triggerdef`), so two databases built from
//! different text read the same. The server qualifies a name in that
//! rendering unless `search_path` finds it: the session's path is pinned
//! to the current schema while reading, so what is in the current schema
//! reads bare and everything else qualified, whatever path the URL set
//! (ariga/atlas#3610).
//!
//! All the catalog queries go in one round trip; each row starts with a
//! tag saying which query it answers.

use std::collections::BTreeMap;

use super::names::is_generated;
use crate::Dialect;
use crate::db::{DbError, DbErrorKind, Driver, quote_literal};
use crate::schema::{
    Action, Check, Column, Deferrable, EnumType, Extension, ForeignKey, Generated, Identity, Index,
    IndexKey, IndexPart, Name, PrimaryKey, Schema, Sequence, Table, Trigger, Unique, View,
};

/// The namespaces users create objects in.
const USER_SCHEMA: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
                           AND n.nspname !~ '^pg_(toast|temp_)'";

/// Tables the model holds: plain and partitioned ones, not partitions
/// (whose columns, keys and indexes are their parent's).
const TABLE: &str = "c.relkind IN ('r', 'p') AND NOT c.relispartition";

/// Not created by an extension (`pg_depend` deptype `e`).
fn not_member(class: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{class}'::regclass \
         AND e.objid = {oid} AND e.deptype = 'e')"
    )
}

fn queries() -> Vec<String> {
    vec![
        format!(
            "SELECT 'schema', n.nspname FROM pg_namespace n WHERE {USER_SCHEMA} AND {}",
            not_member("pg_namespace", "n.oid")
        ),
        "SELECT 'extension', x.extname, n.nspname FROM pg_extension x \
         JOIN pg_namespace n ON n.oid = x.extnamespace WHERE x.extname <> 'plpgsql'"
            .to_owned(),
        format!(
            "SELECT 'enum', n.nspname, t.typname, e.enumlabel FROM pg_type t \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
             LEFT JOIN pg_enum e ON e.enumtypid = t.oid \
             WHERE t.typtype = 'e' AND {USER_SCHEMA} AND {} \
             ORDER BY n.nspname, t.typname, e.enumsortorder",
            not_member("pg_type", "t.oid")
        ),
        // A serial's or identity's sequence belongs to its column.
        format!(
            "SELECT 'sequence', n.nspname, c.relname, format_type(s.seqtypid, NULL), \
             s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle \
             FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMA} AND {} AND NOT EXISTS (SELECT 1 FROM pg_depend d \
             WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
             AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))",
            not_member("pg_class", "c.oid")
        ),
        format!(
            "SELECT 'table', n.nspname, c.relname, c.relpersistence, \
             pg_get_partkeydef(c.oid), obj_description(c.oid, 'pg_class') \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {TABLE} AND {USER_SCHEMA} AND {}",
            not_member("pg_class", "c.oid")
        ),
        // The last column: the default takes the next value of a
        // sequence the column owns (a serial).
        format!(
            "SELECT 'column', n.nspname, c.relname, a.attname, \
             format_type(a.atttypid, a.atttypmod), a.attnotnull, \
             pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, \
             CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN \
             (SELECT CASE WHEN pg_collation_is_visible(co.oid) THEN quote_ident(co.collname) \
             ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END \
             FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace \
             WHERE co.oid = a.attcollation) END, \
             col_description(c.oid, a.attnum), \
             EXISTS (SELECT 1 FROM pg_depend u JOIN pg_depend o \
             ON o.classid = 'pg_class'::regclass AND o.objid = u.refobjid \
             AND o.refclassid = 'pg_class'::regclass AND o.refobjid = c.oid \
             AND o.refobjsubid = a.attnum AND o.deptype = 'a' \
             WHERE u.classid = 'pg_attrdef'::regclass AND u.objid = d.oid \
             AND u.refclassid = 'pg_class'::regclass) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attnum > 0 AND NOT a.attisdropped AND {TABLE} AND {USER_SCHEMA} \
             ORDER BY n.nspname, c.relname, a.attnum"
        ),
        // Constraints a parent's gave a partition, or a foreign key gave
        // each partition of the table it references, are not the user's.
        format!(
            "SELECT 'constraint', n.nspname, c.relname, k.conname, k.contype, \
             array(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(num, at) \
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.at), \
             pg_get_expr(k.conbin, k.conrelid), fn.nspname, f.relname, \
             array(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(num, at) \
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num ORDER BY u.at), \
             k.confupdtype, k.confdeltype, k.confmatchtype, k.condeferrable, k.condeferred \
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_class f ON f.oid = k.confrelid \
             LEFT JOIN pg_namespace fn ON fn.oid = f.relnamespace \
             WHERE k.contype IN ('p', 'u', 'c', 'f') AND k.conislocal AND k.conparentid = 0 \
             AND {TABLE} AND {USER_SCHEMA} ORDER BY n.nspname, c.relname, k.conname"
        ),
        // One row per key or INCLUDE column; an index a constraint owns
        // is the constraint's. `indkey`, `indoption` and `indclass`
        // count from 0.
        format!(
            "SELECT 'index', n.nspname, c.relname, ic.relname, i.indisunique, am.amname, \
             pg_get_expr(i.indpred, i.indrelid), p.n, i.indnkeyatts, a.attname, \
             pg_get_indexdef(i.indexrelid, p.n, true), i.indoption[p.n - 1], \
             CASE WHEN oc.opcdefault THEN NULL \
             WHEN pg_opclass_is_visible(oc.oid) THEN quote_ident(oc.opcname) \
             ELSE quote_ident(ocn.nspname) || '.' || quote_ident(oc.opcname) END \
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
             JOIN pg_class c ON c.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_am am ON am.oid = ic.relam \
             CROSS JOIN LATERAL generate_series(1, i.indnatts) p(n) \
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid \
             AND a.attnum = i.indkey[p.n - 1] AND i.indkey[p.n - 1] <> 0 \
             LEFT JOIN pg_opclass oc ON oc.oid = i.indclass[p.n - 1] \
             LEFT JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace \
             WHERE i.indisvalid AND {TABLE} AND {USER_SCHEMA} \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid \
             AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')) \
             ORDER BY n.nspname, c.relname, ic.relname, p.n"
        ),
        format!(
            "SELECT 'trigger', n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid, true) \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {TABLE} AND {USER_SCHEMA} \
             ORDER BY n.nspname, c.relname, t.tgname"
        ),
        format!(
            "SELECT 'view', n.nspname, c.relname, pg_get_viewdef(c.oid), \
             obj_description(c.oid, 'pg_class') \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'v' AND {USER_SCHEMA} AND {}",
            not_member("pg_class", "c.oid")
        ),
        // What a view reads: the relations its rewrite rule depends on.
        "SELECT DISTINCT 'read', n.nspname, v.relname, tn.nspname, t.relname \
         FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class \
         JOIN pg_namespace n ON n.oid = v.relnamespace \
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid \
         AND d.refclassid = 'pg_class'::regclass \
         JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace \
         WHERE v.relkind = 'v' AND t.oid <> v.oid AND t.relkind IN ('r', 'p', 'v', 'm')"
            .to_owned(),
    ]
}

/// Reads every user schema of the connected database; tables in the
/// current schema named in `exclude` are left out.
pub(crate) fn inspect(driver: &mut dyn Driver, exclude: &[&str]) -> Result<Schema, DbError> {
    let session = driver.query_text("SELECT current_schema(), current_setting('search_path')")?;
    let row = session.first().ok_or_else(|| odd("no session settings"))?;
    let current = row.first().cloned().flatten();
    let search_path = row.get(1).cloned().flatten().unwrap_or_default();

    // Pinned and restored in the same round trip: the simple protocol
    // runs the batch as one transaction, so a failure undoes the pin too.
    let mut batch = vec![
        "SELECT 'pin', set_config('search_path', \
         COALESCE(quote_ident(current_schema()), ''), false)"
            .to_owned(),
    ];
    batch.extend(queries());
    batch.push(format!(
        "SELECT 'pin', set_config('search_path', {}, false)",
        quote_literal(Dialect::Postgres, &search_path)
    ));
    let rows = driver.query_text(&batch.join(";\n"))?;

    let mut reader = Reader {
        current,
        exclude,
        schema: Schema::default(),
    };
    let mut by_tag: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for row in rows {
        let tag = row.first().cloned().flatten().unwrap_or_default();
        by_tag.entry(tag).or_default().push(Row(row));
    }
    let mut take = |tag: &str| by_tag.remove(tag).unwrap_or_default();
    reader.schemas(&take("schema"));
    reader.extensions(&take("extension"));
    reader.enums(&take("enum"));
    reader.sequences(&take("sequence"))?;
    reader.tables(&take("table"));
    reader.columns(&take("column"));
    reader.constraints(&take("constraint"))?;
    reader.indexes(&take("index"))?;
    reader.triggers(&take("trigger"));
    reader.views(&take("view"), &take("read"));
    Ok(reader.schema)
}

fn odd(what: &str) -> DbError {
    DbError::new(
        DbErrorKind::Statement,
        format!("reading the catalog: {what}"),
    )
}

/// One row of the answer; cell 0 is the tag.
struct Row(Vec<Option<String>>);

impl Row {
    fn text(&self, at: usize) -> &str {
        self.0.get(at).and_then(Option::as_deref).unwrap_or("")
    }

    fn opt(&self, at: usize) -> Option<String> {
        self.0.get(at).cloned().flatten().filter(|s| !s.is_empty())
    }

    fn flag(&self, at: usize) -> bool {
        self.text(at) == "t"
    }

    fn number(&self, at: usize) -> Result<i64, DbError> {
        self.text(at)
            .parse()
            .map_err(|_| odd(&format!("`{}` is not a number", self.text(at))))
    }
}

struct Reader<'a> {
    /// The current schema, whose objects' names are unqualified.
    current: Option<String>,
    exclude: &'a [&'a str],
    schema: Schema,
}

impl Reader<'_> {
    /// The name of `name` in `namespace`.
    fn name(&self, namespace: &str, name: &str) -> Name {
        if self.current.as_deref() == Some(namespace) {
            Name::new(name)
        } else {
            Name::in_schema(namespace, name)
        }
    }

    /// The schema field of an object in `namespace`.
    fn namespace(&self, namespace: &str) -> Option<String> {
        (self.current.as_deref() != Some(namespace)).then(|| namespace.to_owned())
    }

    fn schemas(&mut self, rows: &[Row]) {
        for row in rows {
            let name = row.text(1);
            // Every database has `public`: it is never created or dropped.
            if self.current.as_deref() != Some(name) && name != "public" {
                self.schema.schemas.insert(name.to_owned());
            }
        }
    }

    fn extensions(&mut self, rows: &[Row]) {
        for row in rows {
            let extension = Extension {
                name: row.text(1).to_owned(),
                schema: self.namespace(row.text(2)),
            };
            self.schema
                .extensions
                .insert(extension.name.clone(), extension);
        }
    }

    fn enums(&mut self, rows: &[Row]) {
        for row in rows {
            let name = self.name(row.text(1), row.text(2));
            let entry = self
                .schema
                .enums
                .entry(name.clone())
                .or_insert_with(|| EnumType {
                    name,
                    values: Vec::new(),
                });
            if let Some(label) = row.0.get(3).cloned().flatten() {
                entry.values.push(label);
            }
        }
    }

    fn sequences(&mut self, rows: &[Row]) -> Result<(), DbError> {
        for row in rows {
            let name = self.name(row.text(1), row.text(2));
            let sequence = Sequence {
                name: name.clone(),
                ty: row.text(3).to_owned(),
                start: row.number(4)?,
                increment: row.number(5)?,
                min: row.number(6)?,
                max: row.number(7)?,
                cache: row.number(8)?,
                cycle: row.flag(9),
            };
            self.schema.sequences.insert(name, sequence);
        }
        Ok(())
    }

    fn tables(&mut self, rows: &[Row]) {
        for row in rows {
            let name = self.name(row.text(1), row.text(2));
            if name.schema.is_none() && self.exclude.contains(&name.name.as_str()) {
                continue;
            }
            let mut table = Table::new(name.clone());
            if row.text(3) == "u" {
                table.options.insert("unlogged".into(), "true".into());
            }
            if let Some(key) = row.opt(4) {
                table.options.insert("partition_by".into(), key);
            }
            table.comment = row.opt(5);
            self.schema.tables.insert(name, table);
        }
    }

    fn table(&mut self, row: &Row) -> Option<&mut Table> {
        let name = self.name(row.text(1), row.text(2));
        self.schema.tables.get_mut(&name)
    }

    fn columns(&mut self, rows: &[Row]) {
        for row in rows {
            let Some(table) = self.table(row) else {
                continue;
            };
            let mut column = Column::new(row.text(3), row.text(4));
            column.nullable = !row.flag(5);
            let expression = row.opt(6);
            match row.text(8) {
                "" => column.default = expression,
                kind => {
                    column.generated = expression.map(|expression| Generated {
                        expression,
                        stored: kind == "s",
                    });
                }
            }
            column.identity = match row.text(7) {
                "a" => Some(Identity::Always),
                "d" => Some(Identity::ByDefault),
                _ => None,
            };
            let serial = row.flag(11)
                && column
                    .default
                    .as_deref()
                    .is_some_and(|d| d.starts_with("nextval('") && d.ends_with("'::regclass)"));
            if serial {
                // The sequence and its name are the column's business.
                column.identity = Some(Identity::Serial);
                column.default = None;
            }
            column.collation = row.opt(9);
            column.comment = row.opt(10);
            table.columns.push(column);
        }
    }

    fn constraints(&mut self, rows: &[Row]) -> Result<(), DbError> {
        for row in rows {
            let references = self.name(row.text(7), row.text(8));
            let Some(table) = self.table(row) else {
                continue;
            };
            let table_name = table.name.name.clone();
            let name = row.text(3).to_owned();
            let columns = parse_array(row.text(5))?;
            match row.text(4) {
                "p" => {
                    table.primary_key = Some(PrimaryKey {
                        generated_name: is_generated(&name, &table_name, None, "pkey"),
                        name,
                        columns,
                    });
                }
                "u" => table.uniques.push(Unique {
                    generated_name: is_generated(
                        &name,
                        &table_name,
                        Some(&columns.join("_")),
                        "key",
                    ),
                    name,
                    columns,
                }),
                "c" => table.checks.push(Check {
                    // Named after its column when it reads exactly one.
                    generated_name: is_generated(
                        &name,
                        &table_name,
                        (columns.len() == 1).then_some(columns[0].as_str()),
                        "check",
                    ),
                    name,
                    expression: row.text(6).to_owned(),
                }),
                "f" => table.foreign_keys.push(ForeignKey {
                    generated_name: is_generated(
                        &name,
                        &table_name,
                        Some(&columns.join("_")),
                        "fkey",
                    ),
                    name,
                    columns,
                    references,
                    referenced_columns: parse_array(row.text(9))?,
                    on_update: action(row.text(10)),
                    on_delete: action(row.text(11)),
                    match_full: row.text(12) == "f",
                    deferrable: match (row.flag(13), row.flag(14)) {
                        (false, _) => Deferrable::No,
                        (true, false) => Deferrable::InitiallyImmediate,
                        (true, true) => Deferrable::InitiallyDeferred,
                    },
                }),
                _ => {}
            }
        }
        Ok(())
    }

    fn indexes(&mut self, rows: &[Row]) -> Result<(), DbError> {
        for row in rows {
            let Some(table) = self.table(row) else {
                continue;
            };
            let name = row.text(3);
            if table.indexes.last().is_none_or(|i| i.name != name) {
                table.indexes.push(Index {
                    name: name.to_owned(),
                    unique: row.flag(4),
                    parts: Vec::new(),
                    predicate: row.opt(6),
                    method: row.opt(5).filter(|m| m != "btree"),
                    include: Vec::new(),
                });
            }
            let Some(index) = table.indexes.last_mut() else {
                continue;
            };
            let (position, key_columns) = (row.number(7)?, row.number(8)?);
            let column = row.opt(9);
            if position > key_columns {
                index.include.extend(column);
                continue;
            }
            let option = row.number(11).unwrap_or(0);
            // Bit 0: DESC; bit 1: NULLS FIRST, the default only for DESC.
            let descending = option & 1 != 0;
            let nulls_first = option & 2 != 0;
            index.parts.push(IndexPart {
                key: match column {
                    Some(column) => IndexKey::Column(column),
                    None => IndexKey::Expression(row.text(10).to_owned()),
                },
                descending,
                nulls_first: (nulls_first != descending).then_some(nulls_first),
                opclass: row.opt(12),
                prefix: None,
            });
        }
        Ok(())
    }

    fn triggers(&mut self, rows: &[Row]) {
        for row in rows {
            if let Some(table) = self.table(row) {
                table.triggers.push(Trigger {
                    name: row.text(3).to_owned(),
                    definition: row.text(4).to_owned(),
                });
            }
        }
    }

    fn views(&mut self, views: &[Row], reads: &[Row]) {
        for row in views {
            let name = self.name(row.text(1), row.text(2));
            let definition = row.text(3).trim().trim_end_matches(';').trim_end();
            self.schema.views.insert(
                name.clone(),
                View {
                    name,
                    definition: definition.to_owned(),
                    reads: Default::default(),
                    comment: row.opt(4),
                },
            );
        }
        for row in reads {
            let view = self.name(row.text(1), row.text(2));
            let read = self.name(row.text(3), row.text(4));
            let known =
                self.schema.tables.contains_key(&read) || self.schema.views.contains_key(&read);
            if let Some(view) = self.schema.views.get_mut(&view)
                && known
            {
                view.reads.insert(read);
            }
        }
    }
}

fn action(code: &str) -> Action {
    match code {
        "r" => Action::Restrict,
        "c" => Action::Cascade,
        "n" => Action::SetNull,
        "d" => Action::SetDefault,
        _ => Action::NoAction,
    }
}

/// The elements of an array as PostgreSQL writes one in text (`{a,"b c"}`).
fn parse_array(text: &str) -> Result<Vec<String>, DbError> {
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| odd(&format!("`{text}` is not an array")))?;
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    while chars.peek().is_some() {
        let mut item = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => item.extend(chars.next()),
                    '"' => break,
                    c => item.push(c),
                }
            }
        }
        for c in chars.by_ref() {
            if c == ',' {
                break;
            }
            item.push(c);
        }
        items.push(item);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::parse_array;

    #[test]
    fn arrays_in_text() {
        assert_eq!(parse_array("{}").unwrap(), Vec::<String>::new());
        assert_eq!(parse_array("{a,b_c}").unwrap(), ["a", "b_c"]);
        assert_eq!(
            parse_array(r#"{"a b","x\"y",",","\\"}"#).unwrap(),
            ["a b", "x\"y", ",", "\\"]
        );
        assert!(parse_array("a,b").is_err());
    }
}
