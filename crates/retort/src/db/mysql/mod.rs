//! MySQL and MariaDB: everything retort knows of the dialect.

mod driver;

pub(crate) use driver::Mysql;
