//! The schema model and the differ, the same for every dialect.
//!
//! A dialect's inspector (`db/<dialect>/inspect`) reads a database into a
//! [`Schema`]; [`diff`] turns two of them into ordered [`Change`]s, each of
//! which knows its [inverse](Change::inverse); a dialect's renderer
//! writes them as SQL. Nothing here talks to a database.

mod change;
mod diff;
mod model;
#[cfg(test)]
mod tests;

pub use change::{Change, TableChange};
pub use diff::{DiffOptions, Renames, diff, only_adds_labels};
pub use model::{
    Action, Check, Column, Deferrable, EnumType, Extension, ForeignKey, Generated, Identity, Index,
    IndexKey, IndexPart, Name, PrimaryKey, Schema, Sequence, Table, Trigger, Unique, View,
};

/// The changes that undo `changes`: their inverses, last first.
pub fn inverse(changes: &[Change]) -> Vec<Change> {
    changes.iter().rev().map(Change::inverse).collect()
}
