//! PostgreSQL: everything retort knows of the dialect.

mod driver;
mod tls;

pub(crate) use driver::Postgres;
