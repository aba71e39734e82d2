//! MySQL and MariaDB: everything retort knows of the dialect.

mod admin;
pub(crate) mod backup;
mod detect;
mod driver;
mod inspect;
mod lease;
mod render;

pub(crate) use admin::connect_admin;
pub(crate) use driver::Mysql;
pub(crate) use inspect::inspect;
pub(crate) use lease::LEASE;
pub(crate) use render::render;
