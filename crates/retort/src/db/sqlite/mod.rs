//! SQLite: everything retort knows of the dialect.

mod admin;
pub(crate) mod backup;
mod ddl;
mod driver;
mod inspect;
mod render;

pub(crate) use admin::SqliteAdmin;
pub(crate) use driver::Sqlite;
pub(crate) use inspect::inspect;
pub(crate) use render::render;
