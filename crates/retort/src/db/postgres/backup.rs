//! PostgreSQL backups through `pg_dump` (custom format, one consistent
//! snapshot) and `pg_restore`, from the `postgresql-client` package. The
//! connection goes to them through libpq's environment variables, the
//! password among them, never on a command line another user could read.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::config::DatabaseUrl;
use crate::db::DbError;
use crate::db::backup::{Backup, find_program, run_tool};

const PACKAGE: &str = "postgresql-client";

pub(crate) struct PgBackup {
    url: DatabaseUrl,
    pg_dump: PathBuf,
    pg_restore: PathBuf,
}

impl PgBackup {
    pub(crate) fn new(url: &DatabaseUrl) -> Result<PgBackup, DbError> {
        Ok(PgBackup {
            url: url.clone(),
            pg_dump: find_program(&["pg_dump"], PACKAGE)?,
            pg_restore: find_program(&["pg_restore"], PACKAGE)?,
        })
    }

    /// `program` with the database's connection in libpq's variables.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        for name in ["PGSERVICE", "PGSERVICEFILE", "PGPASSFILE"] {
            command.env_remove(name);
        }
        let url = &self.url;
        command
            .env("PGHOST", url.host().unwrap_or("localhost"))
            .env("PGPORT", url.port().unwrap_or(5432).to_string())
            .env("PGUSER", url.user().unwrap_or("postgres"))
            .env("PGDATABASE", url.database().unwrap_or("postgres"));
        match url.password() {
            Some(password) => command.env("PGPASSWORD", password),
            None => command.env_remove("PGPASSWORD"),
        };
        for (param, var) in [
            ("sslmode", "PGSSLMODE"),
            ("sslrootcert", "PGSSLROOTCERT"),
            ("sslcert", "PGSSLCERT"),
            ("sslkey", "PGSSLKEY"),
            ("connect_timeout", "PGCONNECT_TIMEOUT"),
            ("options", "PGOPTIONS"),
        ] {
            if let Some(value) = url.param(param) {
                command.env(var, value);
            }
        }
        command
    }
}

impl Backup for PgBackup {
    fn extension(&self) -> &'static str {
        "dump"
    }

    fn dump(&self, out: File, _path: &Path) -> Result<(), DbError> {
        let mut command = self.command(&self.pg_dump);
        command.args(["--format=custom", "--no-owner"]);
        run_tool(command, None, Some(out), "pg_dump").map(drop)
    }

    fn inspect(
        &self,
        file: &Path,
        version_table: &str,
        schema: Option<&str>,
    ) -> Result<Vec<String>, DbError> {
        // The archive's table of contents: a file that is not one fails here.
        let mut list = self.command(&self.pg_restore);
        list.arg("--list").arg(file);
        let toc =
            String::from_utf8_lossy(&run_tool(list, None, None, "pg_restore --list")?).into_owned();
        let holds_table = toc.lines().any(|line| {
            line.contains("TABLE DATA") && line.split_whitespace().any(|w| w == version_table)
        });
        if !holds_table {
            return Ok(Vec::new());
        }
        let mut data = self.command(&self.pg_restore);
        data.args(["--data-only", "--file=-"])
            .arg(format!("--table={version_table}"));
        if let Some(schema) = schema {
            data.arg(format!("--schema={schema}"));
        }
        data.arg(file);
        let sql = String::from_utf8_lossy(&run_tool(data, None, None, "pg_restore")?).into_owned();
        Ok(copy_rows(&sql))
    }

    fn restore(&self, file: &Path) -> Result<(), DbError> {
        let mut command = self.command(&self.pg_restore);
        command
            .args([
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
            ])
            .arg(format!(
                "--dbname={}",
                self.url.database().unwrap_or("postgres")
            ))
            .arg(file);
        run_tool(command, None, None, "pg_restore").map(drop)
    }

    fn needs_empty_database(&self) -> bool {
        true
    }
}

/// The first column of the rows of the `COPY … FROM stdin` blocks of a
/// plain-text dump.
fn copy_rows(sql: &str) -> Vec<String> {
    let mut rows = Vec::new();
    let mut in_copy = false;
    for line in sql.lines() {
        if in_copy {
            if line == "\\." {
                in_copy = false;
            } else if let Some(first) = line.split('\t').next() {
                rows.push(first.to_owned());
            }
        } else if line.starts_with("COPY ") && line.ends_with("FROM stdin;") {
            in_copy = true;
        }
    }
    rows.sort();
    rows
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_rows_are_read_from_a_plain_dump() {
        let sql =
            "SET x = 1;\nCOPY public.retort_version (version_num) FROM stdin;\nb2\na1\n\\.\n\n";
        assert_eq!(super::copy_rows(sql), ["a1", "b2"]);
        assert!(super::copy_rows("SELECT 1;\n").is_empty());
    }
}
