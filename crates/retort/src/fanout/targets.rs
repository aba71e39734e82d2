//! What a fan-out runs on: database URLs listed one a line, or the schemas
//! of one PostgreSQL database whose names match a pattern.

use std::fmt;
use std::path::Path;

use super::FanoutError;
use crate::config::{Config, DatabaseUrl};
use crate::db::{self, Access, Driver, Value};
use crate::migrator::Migrator;
use crate::open::ConnectError;
use crate::project::Project;

/// One database, or one schema of a PostgreSQL database, with its own
/// version tables and its own run lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    url: DatabaseUrl,
    schema: Option<String>,
}

impl Target {
    /// The database `url` names.
    pub fn database(url: DatabaseUrl) -> Target {
        Target { url, schema: None }
    }

    /// Schema `schema` of the PostgreSQL database `url` names.
    pub fn schema_of(url: DatabaseUrl, schema: impl Into<String>) -> Target {
        Target {
            url,
            schema: Some(schema.into()),
        }
    }

    /// The database's URL.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The schema, for a schema of a database.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Opens the target: a database as `retort --url` opens it; a schema
    /// with the schema first on the connection's `search_path` and the run
    /// lock of the version table in it.
    pub fn open(&self, config: &Config, access: Access) -> Result<Box<dyn Driver>, crate::Error> {
        let version_table = &config.migrations.version_table;
        match &self.schema {
            Some(schema) => db::connect_to_schema(&self.url, version_table, schema),
            None => db::connect_scoped(
                &self.url,
                version_table,
                config.migrations.version_table_schema.as_deref(),
                access,
            ),
        }
        .map_err(|error| {
            ConnectError {
                url: self.to_string(),
                error,
            }
            .into()
        })
    }

    /// The migrator of `project` for this target: a schema keeps its
    /// version tables in itself, whatever `version_table_schema` says.
    pub fn migrator<'p>(&self, project: &'p Project, driver: Box<dyn Driver>) -> Migrator<'p> {
        let migrator = Migrator::new(project, driver);
        match &self.schema {
            Some(schema) => migrator.with_version_table_schema(Some(schema.clone())),
            None => migrator,
        }
    }
}

/// The URL redacted, and the schema: `postgres://app:***@db/app (schema tenant_1)`.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url.redacted())?;
        if let Some(schema) = &self.schema {
            write!(f, " (schema {schema})")?;
        }
        Ok(())
    }
}

/// The targets a list names: one database URL a line, as `--url` takes it
/// (relative SQLite paths against `base`, the working directory); blank
/// lines and lines starting with `#` are left out. `origin` names the list
/// in errors (a path, `standard input`).
pub fn parse_targets(text: &str, origin: &str, base: &Path) -> Result<Vec<Target>, FanoutError> {
    let mut targets: Vec<(usize, Target)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let url = DatabaseUrl::parse(line)
            .map_err(|error| FanoutError::BadUrl {
                origin: origin.to_owned(),
                line: i + 1,
                error,
            })?
            .resolve_relative_to(base);
        if let Some((first, _)) = targets
            .iter()
            .find(|(_, t)| t.url.expose_secret() == url.expose_secret())
        {
            return Err(FanoutError::Repeated {
                origin: origin.to_owned(),
                line: i + 1,
                first: *first,
                url: url.redacted(),
            });
        }
        targets.push((i + 1, Target::database(url)));
    }
    if targets.is_empty() {
        return Err(FanoutError::NoTargets {
            origin: origin.to_owned(),
        });
    }
    Ok(targets.into_iter().map(|(_, t)| t).collect())
}

/// [`parse_targets`] of a file.
pub fn read_targets(path: &Path, base: &Path) -> Result<Vec<Target>, FanoutError> {
    let text = std::fs::read_to_string(path).map_err(|source| FanoutError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    parse_targets(&text, &path.display().to_string(), base)
}

/// Every schema of the project's PostgreSQL database (`cli_url`, else the
/// configuration's) whose name matches `pattern`, sorted by name: `*`
/// (or `%`) matches any run of characters, `?` one character, and every
/// other character itself (`_` too, as schema names use it). The
/// server's own schemas (`pg_*`, `information_schema`) are never listed.
pub fn schema_targets(
    config: &Config,
    cli_url: Option<&str>,
    pattern: &str,
) -> Result<Vec<Target>, crate::Error> {
    let url = config.database_url(cli_url)?;
    if url.dialect() != crate::Dialect::Postgres {
        return Err(FanoutError::SchemasNeedPostgres {
            url: url.redacted(),
            dialect: url.dialect(),
        }
        .into());
    }
    let mut driver = crate::open(config, cli_url, Access::Read)?;
    let rows = driver
        .query(
            "SELECT nspname::text FROM pg_catalog.pg_namespace \
             WHERE nspname LIKE $1::text ESCAPE '\\' \
             AND nspname NOT LIKE 'pg\\_%' ESCAPE '\\' AND nspname <> 'information_schema'",
            &[Value::Text(like_pattern(pattern))],
        )
        .map_err(|error| FanoutError::ListingSchemas {
            url: url.redacted(),
            error,
        })?;
    let mut names: Vec<String> = rows
        .into_iter()
        .filter_map(|row| row.into_iter().next()?.as_text().map(str::to_owned))
        .collect();
    if names.is_empty() {
        return Err(FanoutError::NoSchemaMatches {
            url: url.redacted(),
            pattern: pattern.to_owned(),
        }
        .into());
    }
    // By bytes, not by the server's collation: the same order everywhere.
    names.sort_unstable();
    Ok(names
        .into_iter()
        .map(|name| Target::schema_of(url.clone(), name))
        .collect())
}

/// A `LIKE … ESCAPE '\'` pattern for a schema pattern (see
/// [`schema_targets`]).
fn like_pattern(pattern: &str) -> String {
    let mut like = String::with_capacity(pattern.len() + 4);
    for c in pattern.chars() {
        match c {
            '*' | '%' => like.push('%'),
            '?' => like.push('_'),
            '_' | '\\' => {
                like.push('\\');
                like.push(c);
            }
            c => like.push(c),
        }
    }
    like
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_like_globs_with_underscores_as_themselves() {
        assert_eq!(like_pattern("tenant_*"), "tenant\\_%");
        assert_eq!(like_pattern("t%_?"), "t%\\__");
        assert_eq!(like_pattern("a\\b"), "a\\\\b");
        assert_eq!(like_pattern("tenant_7"), "tenant\\_7");
    }

    #[test]
    fn a_list_skips_blanks_and_comments_and_names_bad_lines() {
        let base = Path::new("/srv");
        let targets = parse_targets(
            "# tenants\n\nsqlite:///a.db\n  postgres://u:secret@h/db  \n",
            "list",
            base,
        )
        .unwrap();
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[0].to_string(), "sqlite:////srv/a.db");
        assert_eq!(targets[1].to_string(), "postgres://u:***@h/db");
        let bad = parse_targets("sqlite:///a.db\nnope\n", "list", base).unwrap_err();
        assert!(bad.to_string().starts_with("list:2: "), "{bad}");
        let repeated =
            parse_targets("sqlite:///a.db\n\nsqlite:////srv/a.db\n", "list", base).unwrap_err();
        assert_eq!(
            repeated.to_string(),
            "list:3: sqlite:////srv/a.db is listed already, on line 1"
        );
        let empty = parse_targets("# none\n\n", "list", base).unwrap_err();
        assert_eq!(empty.to_string(), "list lists no database URL");
    }

    #[test]
    fn a_schema_shows_after_its_database() {
        let url = DatabaseUrl::parse("postgres://u:pw@h:5432/app").unwrap();
        assert_eq!(
            Target::schema_of(url, "tenant_1").to_string(),
            "postgres://u:***@h:5432/app (schema tenant_1)"
        );
    }
}
