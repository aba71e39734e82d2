//! Code migrations: revisions whose migration is a Rust function of the
//! application (a data change that needs logic), registered with the
//! project under the name their file gives (`-- retort:code NAME VERSION`).
//! The file puts them in the graph like any revision; its version is part
//! of its checksum, so bumping it when the function changes makes
//! `verify` report the revision as changed, as an edited SQL file would.

use crate::db::Driver;

/// What a code migration's function returns on failure: any error, shown
/// to the user with the revision it belongs to.
pub type CodeError = Box<dyn std::error::Error + Send + Sync>;

/// A code migration's function: it runs in the migration's transaction on
/// `db` (the same connection, so what it does commits, or rolls back, with
/// the revision's version row).
pub type CodeFn = fn(db: &mut dyn Driver) -> Result<(), CodeError>;

/// A registered code migration.
///
/// ```
/// use retort::CodeMigration;
/// use retort::db::{Driver, Value};
///
/// fn lowercase_emails(db: &mut dyn Driver) -> Result<(), retort::CodeError> {
///     for row in db.query("SELECT id, email FROM users", &[])? {
///         let (Some(id), Some(email)) = (row[0].as_int(), row[1].as_text()) else {
///             continue;
///         };
///         db.execute(
///             "UPDATE users SET email = ? WHERE id = ?",
///             &[Value::Text(email.to_lowercase()), Value::Int(id)],
///         )?;
///     }
///     Ok(())
/// }
///
/// static CODE: [CodeMigration; 1] = [CodeMigration::new("lowercase_emails", lowercase_emails)];
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CodeMigration {
    /// The name the revision file gives (`-- retort:code NAME VERSION`).
    pub name: &'static str,
    /// Its upgrade.
    pub upgrade: CodeFn,
    /// Its downgrade; without one the revision cannot be downgraded.
    pub downgrade: Option<CodeFn>,
}

impl CodeMigration {
    /// A code migration without a downgrade.
    pub const fn new(name: &'static str, upgrade: CodeFn) -> CodeMigration {
        CodeMigration {
            name,
            upgrade,
            downgrade: None,
        }
    }

    /// The same with a downgrade.
    #[must_use]
    pub const fn with_downgrade(self, downgrade: CodeFn) -> CodeMigration {
        CodeMigration {
            downgrade: Some(downgrade),
            ..self
        }
    }
}
