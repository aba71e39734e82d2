//! Every [`Event`] of a run as a `tracing` event too, so that an
//! application's own logging (`tracing-subscriber`, or a `log` bridge)
//! shows what a migration at start-up did, without a callback. Events go
//! out under this module's path (`retort::migrator::trace`): a filter such
//! as `retort=info` selects them.

use super::Event;

/// Emits `event` through `tracing`: the start and end of each migration
/// and the plan at `info`, waits for the run lock and the replicas at
/// `info`, warnings and retries at `warn`.
pub(super) fn trace(event: &Event) {
    match event {
        Event::LockWait { holder } => {
            tracing::info!(holder = %holder, "waiting for the run lock");
        }
        Event::LockAcquired { waited } => {
            tracing::info!(waited_ms = millis(*waited), "run lock acquired");
        }
        Event::Warning { message } => tracing::warn!("{message}"),
        Event::Plan { steps } => {
            tracing::info!(migrations = steps.len(), "planned");
        }
        Event::LockRetry {
            revision,
            attempt,
            of,
            wait,
        } => tracing::warn!(
            revision = %revision,
            attempt,
            of,
            wait_ms = millis(*wait),
            "a statement timed out waiting for a table lock; the migration was rolled back and runs again"
        ),
        Event::StepStarted {
            index,
            total,
            revision,
            message,
            direction,
        } => tracing::info!(
            revision = %revision,
            direction = direction.name(),
            step = index + 1,
            of = total,
            "migration started: {message}"
        ),
        Event::StepFinished { done } => tracing::info!(
            revision = %done.revision,
            direction = done.direction.name(),
            duration_ms = done.duration_ms,
            "migration finished: {}",
            done.message
        ),
        Event::ReplicaWait { bound, replicas } => tracing::info!(
            bound_ms = millis(*bound),
            replicas = replicas.len(),
            "waiting for replicas to catch up"
        ),
        Event::ReplicasCaughtUp { waited, bound } => tracing::info!(
            waited_ms = millis(*waited),
            bound_ms = millis(*bound),
            "replicas caught up"
        ),
    }
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
