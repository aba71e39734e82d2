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
pub mod config;
pub mod db;
mod dialect;
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
mod text;
mod time;

pub use dialect::Dialect;
pub use error::{Diagnostic, Error, ErrorClass};
pub use open::{ConnectError, offline_server, open};
