//! PostgreSQL: everything retort knows of the dialect.

mod admin;
pub(crate) mod backup;
mod detect;
mod driver;
mod inspect;
mod lease;
mod names;
mod render;
mod replicas;
mod tls;

pub(crate) use admin::connect_admin;
pub(crate) use driver::Postgres;
pub(crate) use inspect::inspect;
pub(crate) use lease::LEASE;
pub(crate) use render::render;
