//! PostgreSQL: everything retort knows of the dialect.

mod driver;
mod inspect;
mod names;
mod render;
mod tls;

pub(crate) use driver::Postgres;
pub(crate) use inspect::inspect;
pub(crate) use render::render;
