//! One step at a time, for `retort test`: the order an upgrade from base
//! to the heads takes, and each revision applied or reverted alone on a
//! scratch database, without the run lock (nobody else uses it).

use super::plan::{self, Direction, Step};
use super::{Engine, MigrateError, Options, Request};
use crate::db::Driver;

impl Engine<'_> {
    /// Every revision, in the order `upgrade heads` applies them from an
    /// empty database.
    pub(crate) fn upgrade_order(&self) -> Result<Vec<usize>, MigrateError> {
        Ok(self
            .plan(&Request::upgrade("heads"), &[])?
            .into_iter()
            .map(|step| step.revision)
            .collect())
    }

    /// Applies `revision` up or down from the version rows `rows`, as a
    /// run would (its transaction, its parts, its version rows); the rows
    /// afterwards.
    pub(crate) fn step(
        &self,
        driver: &mut dyn Driver,
        revision: usize,
        direction: Direction,
        rows: &[usize],
    ) -> Result<Vec<usize>, MigrateError> {
        let step = Step {
            revision,
            direction,
        };
        let prepared = self.prepare(&[step], rows, false)?;
        self.apply(driver, &prepared, &Options::default(), &mut |_| {})?;
        Ok(plan::next_rows(self.project.graph(), rows, step))
    }
}
