//! PostgreSQL: everything retort knows of the dialect.

mod admin;
mod driver;
mod tls;

pub(crate) use admin::connect_admin;
pub(crate) use driver::Postgres;
