//! What PostgreSQL's and MySQL's [`Admin`] ports share: a connection to
//! the server, and the same three statements in each dialect's words.

use super::{Admin, DbError, DbErrorKind, Driver, Value, quote_ident};
use crate::config::DatabaseUrl;

/// The [`Admin`] of a database server: a connection to no database users
/// work in, and what the dialect says for the chores.
pub(super) struct ServerAdmin {
    pub(super) conn: Box<dyn Driver>,
    /// The URL the admin was opened for, which [`Admin::url_of`] follows.
    pub(super) url: DatabaseUrl,
    /// Refuses a name the server would refuse or change (see
    /// `check_database_name`).
    pub(super) check: fn(&str) -> Result<(), DbError>,
    /// A query that returns a row when the database named by its one
    /// parameter exists.
    pub(super) exists: &'static str,
    /// What `DROP DATABASE IF EXISTS name` ends with (PostgreSQL's
    /// `WITH (FORCE)`).
    pub(super) drop_suffix: &'static str,
}

impl Admin for ServerAdmin {
    fn create_database(&mut self, name: &str) -> Result<(), DbError> {
        (self.check)(name)?;
        let sql = format!("CREATE DATABASE {}", quote_ident(self.conn.dialect(), name));
        match self.conn.run(&sql) {
            // Not every server's code for it reaches a `DbError`
            // (PostgreSQL's 42P04 does not).
            Err(e)
                if e.kind != DbErrorKind::AlreadyExists
                    && self.database_exists(name) == Ok(true) =>
            {
                Err(DbError {
                    kind: DbErrorKind::AlreadyExists,
                    ..e
                })
            }
            result => result,
        }
    }

    fn drop_database(&mut self, name: &str) -> Result<(), DbError> {
        (self.check)(name)?;
        self.conn.run(&format!(
            "DROP DATABASE IF EXISTS {}{}",
            quote_ident(self.conn.dialect(), name),
            self.drop_suffix
        ))
    }

    fn database_exists(&mut self, name: &str) -> Result<bool, DbError> {
        (self.check)(name)?;
        let rows = self
            .conn
            .query(self.exists, &[Value::Text(name.to_owned())])?;
        Ok(!rows.is_empty())
    }

    fn url_of(&self, name: &str) -> DatabaseUrl {
        self.url.with_database(name)
    }
}
