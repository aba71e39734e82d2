//! MySQL and MariaDB: everything retort knows of the dialect.

mod admin;
mod driver;

pub(crate) use admin::connect_admin;
pub(crate) use driver::Mysql;
