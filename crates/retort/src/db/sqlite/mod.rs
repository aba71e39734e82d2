//! SQLite: everything retort knows of the dialect.

mod ddl;
mod driver;
mod inspect;
mod render;

pub(crate) use driver::Sqlite;
pub(crate) use inspect::inspect;
pub(crate) use render::render;
