//! Whether a request has anything to do on a database, from one read of
//! its state without the run lock: a fleet of databases at head is gone
//! through with a read each (see [`crate::fanout`]).

use super::{Engine, Request, db};
use crate::db::Driver;

/// What a database looks like to a request before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The version rows read, unknown ones included, sorted.
    pub heads: Vec<String>,
    /// Whether the request would do nothing: its plan is empty, the
    /// version table has nothing wrong with it and no migration was left
    /// half way (for `resume`: none was).
    pub nothing_to_do: bool,
}

impl Engine<'_> {
    /// Reads the version rows (and the journal) without taking the run
    /// lock, and says whether `request` has nothing to do. Anything that
    /// would make the request fail (an unknown revision, a target that
    /// does not fit, another tool's history) counts as something to do:
    /// [`Engine::run`] then reports it under the lock. A stamp always
    /// runs (it reads no more than this).
    pub(crate) fn settled(
        &self,
        driver: &mut dyn Driver,
        request: &Request,
    ) -> Result<Settled, super::MigrateError> {
        // A database with version rows is read in one query; others (no
        // state tables, or an empty version table, where more must be
        // looked at) one table at a time.
        let (state, pending) = match self.tables.read_versions_and_pending(driver) {
            Some((ids, pending)) if !ids.is_empty() => (self.state_of(driver, ids)?, pending),
            _ => {
                let state = self.read_state(driver)?;
                let journal = self
                    .tables
                    .read_journal(driver)
                    .map_err(db("reading the journal"))?;
                (state, !journal.is_empty())
            }
        };
        let mut heads = self.ids(&state.rows);
        heads.extend(state.unknown.iter().cloned());
        heads.sort();
        let nothing_to_do = match request {
            Request::Resume { .. } => !pending,
            Request::Upgrade { .. } | Request::Downgrade { .. } => {
                !pending
                    && state.refusal(self).is_none()
                    && self
                        .plan(request, &state.rows)
                        .is_ok_and(|steps| steps.is_empty())
            }
            Request::Stamp { .. } | Request::Repair { .. } => false,
        };
        // The run reads again under the lock, where another run may have
        // created the state tables meanwhile: what this read found of them
        // must not stand for what exists then.
        self.tables.forget_all();
        Ok(Settled {
            heads,
            nothing_to_do,
        })
    }
}
