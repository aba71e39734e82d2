//! retort: database schema migrations with Alembic's revision model.
//!
//! A project is a `retort.toml` ([`config`]), directories of plain-SQL revision
//! files ([`script`]) and the revision graph they form ([`graph`]). Data flows
//! one way: configuration locates the scripts, the scripts build the graph, the
//! graph turns a target such as `head` or `auth@+1` into revisions.
//!
//! ```
//! use retort::graph::{Graph, Node};
//!
//! let graph = Graph::build(vec![
//!     Node::new("a1", &[]),
//!     Node::new("b2", &["a1"]),
//!     Node::new("c3", &["a1"]),
//! ])
//! .unwrap();
//! assert_eq!(graph.head_ids(), ["b2", "c3"]);
//! assert!(graph.node(graph.index_of("a1").unwrap()).is_branch_point());
//! ```
#![warn(missing_docs)]

pub mod autogenerate;
pub mod backup;
pub mod chores;
pub mod config;
pub mod db;
mod dialect;
pub mod embedded;
mod error;
pub mod fanout;
pub mod graph;
pub mod import;
pub mod migrator;
mod open;
mod parallel;
pub mod project;
pub mod schema;
pub mod script;
pub mod sql;
mod suggest;
pub mod testing;
mod text;
mod time;

pub use dialect::Dialect;
pub use embedded::Migrations;
pub use error::{Diagnostic, Error, ErrorClass};
pub use open::{ConnectError, offline_server, open};
pub use project::{CodeError, CodeMigration};
/// Embeds the revision files of a directory into the binary: a
/// [`Migrations`] that needs no file at run time.
///
/// ```ignore
/// static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");
///
/// fn main() -> Result<(), retort::Error> {
///     let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://app.db".into());
///     MIGRATIONS.upgrade(&url)?;
///     // ... start serving
///     Ok(())
/// }
/// ```
///
/// The directories (one or more string literals, relative to the crate's
/// `Cargo.toml`; `"migrations"` when none is named) hold the `*.sql`
/// revision files, read as `retort` reads them on disk: the same graph and
/// the same checksums. A `retort.toml` beside the first directory is
/// embedded too, for its settings (the version table, `database.server`…);
/// its `migrations.dirs` must be the directories named. The files are
/// checked when the project is first used
/// ([`Migrations::project`]): a test that calls it catches a bad file
/// before deploying.
///
/// The compiler rebuilds when an embedded file changes. For it to notice a
/// file added or removed, the crate's `build.rs` says so:
///
/// ```ignore
/// fn main() {
///     println!("cargo::rerun-if-changed=migrations");
/// }
/// ```
pub use retort_macros::embed_migrations;
