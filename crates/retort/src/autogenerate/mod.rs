//! `revision --autogenerate`, `check` and `schema dump`: the declared
//! schema and the migrations (or a live database) compared, by the
//! database itself.
//!
//! Both sides are built on scratch databases (`dev.rs`) and read back with
//! the dialect's inspector, so each side is what the server made of the
//! SQL, never the SQL as written: `int` and `integer`, or a default
//! written two ways, compare equal. The differ ([`crate::schema::diff`])
//! turns the two schemas into changes, the dialect's renderer writes the
//! upgrade, and the inverses of the changes, in reverse order, the
//! downgrade.

mod declared;
mod dev;
mod error;

use std::fmt::Write as _;

pub(crate) use dev::DevDatabase;
pub use dev::{drop_all as drop_dev_databases, interrupted};
pub use error::SchemaError;

use crate::config::DatabaseUrl;
use crate::db::{self, Driver, Rendered};
use crate::migrator::{Engine, Options, Request};
use crate::project::Project;
use crate::schema::{self, Change, Schema};
use crate::script::template::Bodies;
use crate::{Dialect, Error};

/// Where the schema the migrations give comes from.
pub enum Current<'a> {
    /// The migrations, replayed on a scratch database (the default).
    Migrations,
    /// A live database, as it is (`--from-db`).
    Database(&'a mut dyn Driver),
}

impl std::fmt::Debug for Current<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Current::Migrations => f.write_str("Migrations"),
            Current::Database(driver) => write!(f, "Database({})", driver.describe()),
        }
    }
}

/// The declared schema against the current one.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The dialect both were read in.
    pub dialect: Dialect,
    /// The schema the migrations (or the database) give.
    pub current: Schema,
    /// The declared schema.
    pub wanted: Schema,
    /// What turns the first into the second, in order.
    pub changes: Vec<Change>,
}

/// Compares the declared schema (`schema.files`) with `current`. `target`
/// is the project's database: its dialect is the one the schema is
/// written in, and its server holds the scratch databases unless
/// `schema.dev_url` names another.
pub fn compare(
    project: &Project,
    target: &DatabaseUrl,
    current: Current<'_>,
) -> Result<Comparison, Error> {
    let dialect = target.dialect();
    let config = project.config();
    let server = config.dev_url()?.unwrap_or_else(|| target.clone());
    let declared = declared::read(
        &config.schema.files,
        config.schema.command.as_deref(),
        &config.root,
        dialect,
    )?;
    let exclude = own_tables(project);

    // The two sides are built at once: most of the time goes into DDL,
    // which each scratch database runs on a core of its own.
    let (current, wanted) = both(
        || match current {
            Current::Database(driver) => read(driver, &exclude),
            Current::Migrations => {
                let mut dev = DevDatabase::create(dialect, &server)?;
                replay(project, dev.driver())?;
                read(dev.driver(), &exclude)
            }
        },
        || {
            let mut dev = DevDatabase::create(dialect, &server)?;
            build(dev.driver(), &declared.statements)?;
            read(dev.driver(), &exclude)
        },
    )?;
    let (current, wanted) = if db::rewrites_expressions(dialect) {
        both(
            || settled(dialect, &server, &current, &exclude),
            || settled(dialect, &server, &wanted, &exclude),
        )?
    } else {
        (current, wanted)
    };

    let changes = schema::diff(
        &current,
        &wanted,
        &declared.renames,
        db::diff_options(dialect),
    );
    Ok(Comparison {
        dialect,
        current,
        wanted,
        changes,
    })
}

/// What `baseline` writes: the schema of the database `driver` is
/// connected to, as the changes that build it in an empty database.
pub fn baseline(project: &Project, driver: &mut dyn Driver) -> Result<Comparison, Error> {
    let count = project.scripts().len();
    if count > 0 {
        return Err(SchemaError::NotFirst { count }.into());
    }
    let dialect = driver.dialect();
    let wanted = read(driver, &own_tables(project))?;
    let current = Schema::default();
    let changes = creation(dialect, &wanted);
    if changes.is_empty() {
        return Err(SchemaError::NothingToBaseline {
            url: driver.describe(),
        }
        .into());
    }
    Ok(Comparison {
        dialect,
        current,
        wanted,
        changes,
    })
}

impl Comparison {
    /// Whether the two agree.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// What changed, a line each ("added table users").
    pub fn lines(&self) -> Vec<String> {
        self.changes.iter().flat_map(Change::describe).collect()
    }

    /// What loses data or may fail on the data there, a line each.
    pub fn warnings(&self) -> Vec<String> {
        self.changes
            .iter()
            .filter_map(Change::destructive)
            .collect()
    }

    /// The upgrade and downgrade sections of a revision that makes the
    /// change, each step under a comment saying what it does.
    pub fn bodies(&self) -> Result<Bodies, Error> {
        let upgrade = db::render(self.dialect, &self.changes).map_err(render_failed)?;
        let inverse = schema::inverse(&self.changes);
        let downgrade = db::render(self.dialect, &inverse).map_err(render_failed)?;
        let count = self.changes.len();
        Ok(Bodies {
            upgrade: section(self.dialect, &upgrade, |at| {
                let change = &self.changes[at];
                let mut notes = change.describe();
                if let Some(warning) = change.destructive() {
                    notes.push(format!("DESTRUCTIVE: {warning}"));
                }
                notes
            }),
            downgrade: section(self.dialect, &downgrade, |at| {
                let mut notes = inverse[at].describe();
                // The upgrade step this one undoes.
                if let Some(lost) = self.changes[count - 1 - at].destructive() {
                    notes.push(format!("NOT RESTORED: the upgrade {lost}"));
                }
                notes
            }),
        })
    }
}

fn render_failed(error: crate::db::DbError) -> Error {
    SchemaError::Database {
        context: "writing the SQL".into(),
        error,
    }
    .into()
}

/// One section's text: each step's notes as comments, then its
/// statements.
fn section(dialect: Dialect, steps: &[Rendered], notes: impl Fn(usize) -> Vec<String>) -> String {
    let mut text = String::new();
    for step in steps {
        if !text.is_empty() {
            text.push('\n');
        }
        for &at in &step.changes {
            for note in notes(at) {
                let _ = writeln!(text, "-- {note}");
            }
        }
        for statement in &step.statements {
            text.push_str(&dialect.for_client(statement));
        }
    }
    text
}

/// The live schema of the database `driver` is connected to, as the
/// statements that build it in an empty database of the dialect: sorted
/// and stable, so two dumps compare line by line.
pub fn dump(project: &Project, driver: &mut dyn Driver) -> Result<(Schema, String), Error> {
    let dialect = driver.dialect();
    let schema = read(driver, &own_tables(project))?;
    let text = creation_statements(dialect, &schema)?
        .iter()
        .map(|statement| dialect.for_client(statement))
        .collect();
    Ok((schema, text))
}

/// Runs `first` here and `second` on another thread; the first error
/// wins.
fn both<A: Send, B: Send>(
    first: impl FnOnce() -> Result<A, Error>,
    second: impl FnOnce() -> Result<B, Error> + Send,
) -> Result<(A, B), Error> {
    std::thread::scope(|scope| {
        let other = scope.spawn(second);
        let first = first();
        let second = other
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok((first?, second?))
    })
}

/// `schema` as the server reads it back once it is built from retort's
/// own statements: what a revision written from it will make.
fn settled(
    dialect: Dialect,
    server: &DatabaseUrl,
    schema: &Schema,
    exclude: &[&str],
) -> Result<Schema, Error> {
    let statements = creation_statements(dialect, schema)?;
    let mut dev = DevDatabase::create(dialect, server)?;
    for statement in &statements {
        dev.driver()
            .run(statement)
            .map_err(|error| SchemaError::Database {
                context: format!(
                    "rebuilding the schema from `{}`",
                    crate::sql::excerpt(statement, 60)
                ),
                error,
            })?;
    }
    read(dev.driver(), exclude)
}

/// The changes that build `schema` in an empty database.
fn creation(dialect: Dialect, schema: &Schema) -> Vec<Change> {
    schema::diff(
        &Schema::default(),
        schema,
        &Default::default(),
        db::diff_options(dialect),
    )
}

/// The statements that build `schema` in an empty database, in order.
fn creation_statements(dialect: Dialect, schema: &Schema) -> Result<Vec<String>, Error> {
    let steps = db::render(dialect, &creation(dialect, schema)).map_err(render_failed)?;
    Ok(steps.into_iter().flat_map(|s| s.statements).collect())
}

/// retort's own tables, never part of a schema.
pub(crate) fn own_tables(project: &Project) -> [&str; 5] {
    db::state_tables(&project.config().migrations.version_table)
}

/// The schema of the database `driver` is connected to, without `exclude`.
pub(crate) fn read(driver: &mut dyn Driver, exclude: &[&str]) -> Result<Schema, Error> {
    db::inspect(driver, exclude).map_err(|error| {
        SchemaError::Database {
            context: format!("reading the schema of {}", driver.describe()),
            error,
        }
        .into()
    })
}

/// Every migration up to the heads.
fn replay(project: &Project, driver: &mut dyn Driver) -> Result<(), Error> {
    Engine::new(project, driver)
        .run(
            driver,
            &Request::upgrade("heads"),
            &Options::default(),
            &mut |_| {},
        )
        .map(|_| ())
        .map_err(|source| {
            SchemaError::Replay {
                source: Box::new(source.into()),
            }
            .into()
        })
}

/// The declared schema's statements, in one transaction where the
/// dialect has transactional DDL.
fn build(driver: &mut dyn Driver, statements: &[declared::DeclaredStatement]) -> Result<(), Error> {
    let refused = |statement: &declared::DeclaredStatement, error| -> Error {
        SchemaError::DeclaredStatement {
            path: statement.file.clone(),
            line: statement.line,
            statement: crate::sql::excerpt(&statement.text, 60),
            error,
        }
        .into()
    };
    for statement in statements {
        driver
            .run(&statement.text)
            .map_err(|e| refused(statement, e))?;
    }
    Ok(())
}
