//! MySQL and MariaDB backups through `mariadb-dump` (or `mysqldump`): SQL
//! text taken in one consistent snapshot (`--single-transaction`, which
//! holds for InnoDB tables), with routines, triggers and events; restored
//! by the `mariadb` (or `mysql`) client. The password goes to them in an
//! options file only this user can read, removed afterwards, never on a
//! command line.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::config::DatabaseUrl;
use crate::db::backup::{Backup, find_program, run_tool};
use crate::db::{DbError, DbErrorKind};

const PACKAGE: &str = "mariadb-client";

pub(crate) struct MysqlBackup {
    url: DatabaseUrl,
    dump: PathBuf,
    client: PathBuf,
}

impl MysqlBackup {
    pub(crate) fn new(url: &DatabaseUrl) -> Result<MysqlBackup, DbError> {
        Ok(MysqlBackup {
            url: url.clone(),
            dump: find_program(&["mariadb-dump", "mysqldump"], PACKAGE)?,
            client: find_program(&["mariadb", "mysql"], PACKAGE)?,
        })
    }

    fn database(&self) -> &str {
        self.url.database().unwrap_or_default()
    }

    /// `program` with the connection's options; the options file must
    /// outlive the command.
    fn command(&self, program: &Path, options: &tempfile_path::OptionsFile) -> Command {
        let mut command = Command::new(program);
        // The options file must come first.
        command.arg(format!(
            "--defaults-extra-file={}",
            options.path().display()
        ));
        command
            .arg(format!("--host={}", self.url.host().unwrap_or("localhost")))
            .arg(format!("--port={}", self.url.port().unwrap_or(3306)))
            .arg(format!("--user={}", self.url.user().unwrap_or("root")))
            .arg("--protocol=TCP");
        command
    }

    fn options(&self) -> Result<tempfile_path::OptionsFile, DbError> {
        tempfile_path::OptionsFile::new(self.url.password().unwrap_or_default())
    }
}

impl Backup for MysqlBackup {
    fn extension(&self) -> &'static str {
        "sql"
    }

    fn dump(&self, out: File, _path: &Path) -> Result<(), DbError> {
        let options = self.options()?;
        let mut command = self.command(&self.dump, &options);
        command
            .args([
                "--single-transaction",
                "--routines",
                "--triggers",
                "--events",
                "--no-tablespaces",
                "--skip-comments",
                "--add-drop-table",
            ])
            .arg(self.database());
        run_tool(command, None, Some(out), "mariadb-dump").map(drop)
    }

    fn inspect(
        &self,
        file: &Path,
        version_table: &str,
        _schema: Option<&str>,
    ) -> Result<Vec<String>, DbError> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            DbError::new(
                DbErrorKind::Statement,
                format!("cannot read `{}`: {e}", file.display()),
            )
        })?;
        let is_dump = text.lines().take(20).any(|line| {
            line.starts_with("/*!40101 SET")
                || line.starts_with("-- MariaDB dump")
                || line.starts_with("-- MySQL dump")
        });
        if !is_dump {
            return Err(DbError::new(
                DbErrorKind::Statement,
                format!(
                    "`{}` is not a dump of `mariadb-dump` or `mysqldump`",
                    file.display()
                ),
            ));
        }
        Ok(inserted_values(&text, version_table))
    }

    fn restore(&self, file: &Path) -> Result<(), DbError> {
        let options = self.options()?;
        let mut command = self.command(&self.client, &options);
        command.arg(self.database());
        let input = File::open(file).map_err(|e| {
            DbError::new(
                DbErrorKind::Statement,
                format!("cannot read `{}`: {e}", file.display()),
            )
        })?;
        run_tool(command, Some(input), None, "mariadb").map(drop)
    }

    fn needs_empty_database(&self) -> bool {
        true
    }
}

/// The first value of each row the dump inserts into `table`: its
/// `INSERT INTO \`table\` VALUES` statements run to a line ending in `;`,
/// on one line or several (`mariadb-dump` puts each row on its own).
fn inserted_values(text: &str, table: &str) -> Vec<String> {
    let prefix = format!("INSERT INTO `{table}` VALUES");
    let mut values = Vec::new();
    let mut statement: Option<String> = None;
    for line in text.lines() {
        match &mut statement {
            Some(rows) => rows.push_str(line),
            None => match line.strip_prefix(&prefix) {
                Some(rest) => statement = Some(rest.to_owned()),
                None => continue,
            },
        }
        if line.trim_end().ends_with(';') {
            let rows = statement.take().unwrap_or_default();
            // Each row opens with `(` and a quoted id, which holds no quote.
            for row in rows.split("('").skip(1) {
                if let Some(end) = row.find('\'') {
                    values.push(row[..end].to_owned());
                }
            }
        }
    }
    values.sort();
    values
}

/// An options file holding the password, readable by this user only,
/// removed when dropped.
mod tempfile_path {
    use std::path::{Path, PathBuf};

    use crate::db::{DbError, DbErrorKind};

    pub(crate) struct OptionsFile {
        path: PathBuf,
    }

    impl OptionsFile {
        pub(crate) fn new(password: &str) -> Result<OptionsFile, DbError> {
            use std::io::Write as _;
            let path = std::env::temp_dir().join(format!(
                "retort-{}-{}.cnf",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos())
            ));
            let fail = |e: std::io::Error| {
                DbError::new(
                    DbErrorKind::Connect,
                    format!("cannot write the client's options file: {e}"),
                )
            };
            let mut file = crate::db::backup::create_private(&path).map_err(fail)?;
            let escaped = password.replace('\\', "\\\\").replace('"', "\\\"");
            write!(file, "[client]\npassword=\"{escaped}\"\n").map_err(fail)?;
            Ok(OptionsFile { path })
        }

        pub(crate) fn path(&self) -> &Path {
            &self.path
        }
    }

    impl Drop for OptionsFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_rows_are_read_from_a_dump() {
        let text = "-- MariaDB dump\nINSERT INTO `retort_version` VALUES\n('c3'),\n('d4');\n\
                    INSERT INTO `retort_version` VALUES ('b2'),('a1');\nINSERT INTO `other` VALUES ('z');\n";
        assert_eq!(
            super::inserted_values(text, "retort_version"),
            ["a1", "b2", "c3", "d4"]
        );
    }
}
