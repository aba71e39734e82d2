//! PostgreSQL's admin ports: databases created and dropped through the
//! server's maintenance database, and what the current schema holds.

use super::driver::Postgres;
use crate::config::{DEFAULT_VERSION_TABLE, DatabaseUrl};
use crate::db::server::ServerAdmin;
use crate::db::shared::{Catalog, Found, check_database_name, drop_statements, run_atomically};
use crate::db::{DbError, Driver};

impl Catalog for Postgres {
    /// What users made in the current schema, each named schema-qualified
    /// for `DROP` (a routine with its argument types). Left out, as they go
    /// with the object they belong to: partitions, a column's sequence
    /// (`serial`, identity), a table's row type, array and multirange
    /// types, and what an extension installed.
    const QUERY: &'static str = "\
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'table' END, \
       c.relname::text, format('%I.%I', n.nspname, c.relname) \
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT c.relispartition \
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND (d.deptype = 'e' OR (c.relkind = 'S' AND d.deptype IN ('a', 'i')))) \
UNION ALL \
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END, \
       format('%s(%s)', p.proname, oidvectortypes(p.proargtypes)), \
       format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) \
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
 WHERE n.nspname = current_schema() \
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') \
UNION ALL \
SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, t.typname::text, format('%I.%I', n.nspname, t.typname) \
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
 WHERE n.nspname = current_schema() AND t.typtype IN ('c', 'd', 'e', 'r') \
   AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = t.typrelid AND r.relkind = 'c')) \
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e') \
UNION ALL \
SELECT 'extension', e.extname::text, format('%I', e.extname) \
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
 WHERE n.nspname = current_schema()";

    fn version_table(&self) -> &str {
        &self.version_table
    }

    fn drop_found(&mut self, found: &[Found]) -> Result<(), DbError> {
        // `CASCADE` takes what depends on an object in another schema
        // too; `IF EXISTS` passes over what an earlier `CASCADE` took.
        run_atomically(self, &drop_statements(found, " CASCADE"))
    }
}

/// Connects to the maintenance database of `url`'s server.
pub(crate) fn connect_admin(url: &DatabaseUrl) -> Result<ServerAdmin, DbError> {
    let open = |name| Postgres::open(&url.with_database(name), DEFAULT_VERSION_TABLE);
    // As `createdb` does, for a server whose `postgres` was dropped.
    let mut conn = match open("postgres") {
        Err(first) if first.message.contains("does not exist") => {
            open("template1").map_err(|_| first)?
        }
        result => result?,
    };
    let version = conn.query_text("SHOW server_version_num")?;
    let version = version
        .first()
        .and_then(|row| row.first())
        .cloned()
        .flatten();
    // Sessions connected to the database would make `DROP DATABASE` fail;
    // `WITH (FORCE)` (PostgreSQL 13 on) ends them first.
    let force = version
        .and_then(|v| v.parse::<u32>().ok())
        .is_some_and(|v| v >= 130_000);
    Ok(ServerAdmin {
        conn: Box::new(conn),
        url: url.clone(),
        check,
        exists: "SELECT 1 FROM pg_database WHERE datname = $1",
        drop_suffix: if force { " WITH (FORCE)" } else { "" },
    })
}

/// Refuses a name the server would cut short (`NAMEDATALEN`).
fn check(name: &str) -> Result<(), DbError> {
    check_database_name(name, |name| {
        (name.len() > 63).then_some("PostgreSQL names are at most 63 bytes long")
    })
}
