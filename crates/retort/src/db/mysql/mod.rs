//! MySQL and MariaDB: everything retort knows of the dialect.

mod driver;
mod inspect;
mod render;

pub(crate) use driver::Mysql;
pub(crate) use inspect::inspect;
pub(crate) use render::render;
