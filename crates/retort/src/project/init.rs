use std::fs;
use std::path::{Path, PathBuf};

use super::RequestError;
use crate::config;
use crate::script::template;
use crate::{Dialect, Error};

/// What `init` created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    /// Files and directories written, in creation order.
    pub created: Vec<PathBuf>,
}

/// The `schema.sql` a new project starts with.
pub(crate) const SCHEMA: &str = "\
-- The declared schema: the tables, indexes and views the application expects,
-- written as plain DDL for the target database (`schema.files` in retort.toml).
";

/// Writes a new project into `dir`: `retort.toml`, `migrations/` with the
/// revision template, and an empty `schema.sql`. Refuses to overwrite any of them.
pub fn init(dir: &Path, dialect: Dialect) -> Result<InitReport, Error> {
    let config_path = dir.join(config::FILE_NAME);
    let migrations = dir.join("migrations");
    let template_path = migrations.join("script.sql.tmpl");
    let schema = dir.join("schema.sql");
    for existing in [&config_path, &schema] {
        if existing.exists() {
            return Err(RequestError::AlreadyInitialized {
                path: existing.clone(),
            }
            .into());
        }
    }
    let migrations_used = fs::read_dir(&migrations).is_ok_and(|mut d| d.next().is_some());
    if migrations_used {
        return Err(RequestError::AlreadyInitialized { path: migrations }.into());
    }
    fs::create_dir_all(&migrations).map_err(|e| Error::io("create directory", &migrations, e))?;
    let files = [
        (&config_path, config::default_file(dialect)),
        (&template_path, template::DEFAULT.to_owned()),
        (&schema, SCHEMA.to_owned()),
    ];
    let mut created = vec![];
    for (path, text) in files {
        fs::write(path, text).map_err(|e| Error::io("write", path, e))?;
        created.push(path.clone());
    }
    created.insert(1, migrations);
    Ok(InitReport { created })
}
