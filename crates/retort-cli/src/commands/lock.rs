//! `lock status` and `lock release`: the run lock, for an operator.

use retort::migrator::Migrator;

use super::{Context, DbUse};
use crate::json;
use crate::output::Failure;

pub(crate) fn status(context: &Context) -> Result<(), Failure> {
    context.no_dot("lock status")?;
    let (project, driver) = context.load_project_and_database(DbUse::Read)?;
    let database = driver.describe();
    let mut migrator = Migrator::new(&project, driver);
    let status = migrator.lock_status().map_err(retort::Error::from)?;
    let version_table = &project.config().migrations.version_table;
    context.printer.emit(
        || {
            let what = match status.lock {
                "lease" => "the lease row in `retort_lock`",
                "advisory" => "the server's advisory lock",
                _ => "a lock on the database file",
            };
            let mut text = format!(
                "database: {}\nlock:     {} ({what}), for `{version_table}`\n",
                database, status.lock
            );
            match &status.holder {
                Some(holder) => text.push_str(&format!("held:     {holder}\n")),
                None => text.push_str("held:     no\n"),
            }
            if let Some(lease) = status
                .lease
                .as_ref()
                .filter(|_| !status.held || status.lock != "lease")
            {
                let state = if lease.expired() {
                    "expired (the next run takes it over): "
                } else if lease.alive() {
                    "held: "
                } else {
                    "free, last held by "
                };
                text.push_str(&format!("lease:    {state}{}\n", lease.describe()));
            }
            text
        },
        || json::LockStatus {
            lock: status.lock,
            version_table,
            held: status.held,
            holder: status.holder.as_deref(),
            lease: status.lease.as_ref().map(json::Lease::of),
            galera: status.galera,
        },
    )?;
    super::close(migrator.into_driver());
    Ok(())
}

pub(crate) fn release(context: &Context, yes: bool) -> Result<(), Failure> {
    context.no_dot("lock release")?;
    if !yes {
        return Err(Failure::confirmation(
            "`retort lock release` frees the lease even if the run holding it is still migrating",
            "check first with `retort lock status` that its holder is gone, then run `retort lock release --yes`",
        ));
    }
    let (project, driver) = context.load_project_and_database(DbUse::Read)?;
    let database = driver.describe();
    let mut migrator = Migrator::new(&project, driver);
    let released = migrator.release_lease().map_err(retort::Error::from)?;
    context.printer.emit(
        || match &released {
            Some(lease) => format!("released the lease held by {}\n", lease.describe()),
            None => format!(
                "nothing to release: no lease is held on {} (the other run locks end with the run holding them: the server or the system releases them)\n",
                database
            ),
        },
        || json::LockRelease {
            released: released.is_some(),
            lease: released.as_ref().map(json::Lease::of),
        },
    )?;
    super::close(migrator.into_driver());
    Ok(())
}
