//! `--max-replica-lag`: before each migration, wait until every replica
//! the server reports is within the bound.
//!
//! A server reports positions (PostgreSQL: bytes of WAL), not times, and
//! its own time measure can be out of date: PostgreSQL's `replay_lag`
//! keeps its last value while the primary is idle, so a standby whose
//! replay is paused can show a lag of a millisecond for ever. So retort
//! notes when it first saw the server's position pass each point; a
//! replica that has not applied a point is at least as far behind as it
//! is since then. Its lag is the larger of that and the server's own
//! figure; a replica that applied everything has none. What was written
//! before retort first looked is of unknown age: a replica that has not
//! applied it is waited for until it has, however small the bound.

use std::time::{Duration, Instant};

use super::{Event, MigrateError, db};
use crate::db::{Driver, Replica, Replication};

/// How long the waiting message stays unrepeated while nothing changes.
const REPEAT: Duration = Duration::from_secs(10);

/// A replica further behind than the bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaLag {
    /// How the server names it (`walreceiver at 10.0.0.7`).
    pub name: String,
    /// How far behind it is, as far as retort can tell; `None` when it
    /// has not applied what was written before retort first looked.
    pub lag: Option<Duration>,
    /// How much it has yet to apply, in `unit`s.
    pub behind: u64,
    /// What `behind` counts (`bytes of WAL`, `write-sets`).
    pub unit: &'static str,
}

/// The wait of one run: the positions it saw, and when.
#[derive(Debug)]
pub(super) struct ReplicaGate {
    bound: Duration,
    /// The server's position when retort first looked: what lies before
    /// it was written at a time retort does not know.
    origin: Option<u64>,
    /// When the server's position was first seen at each value, oldest
    /// first; the positions only grow.
    seen: Vec<(Instant, u64)>,
}

impl ReplicaGate {
    pub(super) fn new(bound: Duration) -> ReplicaGate {
        ReplicaGate {
            bound,
            origin: None,
            seen: Vec::new(),
        }
    }

    /// Returns once every replica is within the bound, telling `events`
    /// what it waits for meanwhile.
    pub(super) fn wait(
        &mut self,
        driver: &mut dyn Driver,
        events: &mut dyn FnMut(Event),
    ) -> Result<(), MigrateError> {
        let started = Instant::now();
        let mut said: Option<(Instant, Vec<String>)> = None;
        loop {
            let now = Instant::now();
            let (position, unit, replicas) = match driver
                .replication()
                .map_err(db("reading how far the replicas are"))?
            {
                Replication::Measured {
                    position,
                    unit,
                    replicas,
                } => (position, unit, replicas),
                Replication::Unknown(reason) => {
                    return Err(MigrateError::ReplicaLagUnknown {
                        server: driver.describe(),
                        reason: reason.to_owned(),
                    });
                }
            };
            self.saw(now, position);
            let behind: Vec<ReplicaLag> = replicas
                .iter()
                .map(|replica| ReplicaLag {
                    name: replica.name.clone(),
                    lag: self.lag(now, position, replica),
                    behind: position.saturating_sub(replica.applied),
                    unit,
                })
                .filter(|replica| replica.lag.is_none_or(|lag| lag > self.bound))
                .collect();
            self.forget(&replicas);
            if behind.is_empty() {
                if said.is_some() {
                    events(Event::ReplicasCaughtUp {
                        waited: started.elapsed(),
                        bound: self.bound,
                    });
                }
                return Ok(());
            }
            // Said again when other replicas are behind, or after a while.
            let names: Vec<String> = behind.iter().map(|r| r.name.clone()).collect();
            let again = said
                .as_ref()
                .is_none_or(|(at, before)| *before != names || at.elapsed() >= REPEAT);
            if again {
                events(Event::ReplicaWait {
                    bound: self.bound,
                    replicas: behind,
                });
                said = Some((now, names));
            }
            std::thread::sleep(self.poll());
        }
    }

    /// Notes the server's position; a position lower than the last one
    /// (another server answering, after a failover) starts over.
    fn saw(&mut self, now: Instant, position: u64) {
        match self.seen.last() {
            Some(&(_, last)) if last == position => {}
            Some(&(_, last)) if last < position => self.seen.push((now, position)),
            _ => {
                self.origin = Some(position);
                self.seen = vec![(now, position)];
            }
        }
    }

    /// How far behind `replica` is: none when it applied everything, else
    /// at least as long as retort has seen the server past what it
    /// applied, and at least what the server says; unknown when it has
    /// not applied what was there when retort first looked.
    fn lag(&self, now: Instant, position: u64, replica: &Replica) -> Option<Duration> {
        if replica.applied >= position {
            return Some(Duration::ZERO);
        }
        if self.origin.is_none_or(|origin| replica.applied < origin) {
            return None;
        }
        let seen = self
            .seen
            .iter()
            .find(|(_, p)| *p > replica.applied)
            .map_or(Duration::ZERO, |(at, _)| now.saturating_duration_since(*at));
        Some(seen.max(replica.lag.unwrap_or_default()))
    }

    /// Forgets the positions every replica has applied beyond (the last
    /// of them is kept: it says when the next one began).
    fn forget(&mut self, replicas: &[Replica]) {
        let Some(slowest) = replicas.iter().map(|r| r.applied).min() else {
            self.seen.drain(..self.seen.len().saturating_sub(1));
            return;
        };
        let first_needed = self
            .seen
            .iter()
            .position(|(_, p)| *p > slowest)
            .unwrap_or(self.seen.len().saturating_sub(1));
        self.seen.drain(..first_needed);
    }

    /// How often to ask while waiting: often enough to go on soon after
    /// the replicas catch up, without asking more than 20 times a second.
    fn poll(&self) -> Duration {
        (self.bound / 4).clamp(Duration::from_millis(50), Duration::from_millis(500))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(applied: u64, lag: Option<u64>) -> Replica {
        Replica {
            name: "standby".into(),
            applied,
            lag: lag.map(Duration::from_millis),
        }
    }

    #[test]
    fn a_replica_is_behind_for_as_long_as_retort_saw_the_server_past_it() {
        let mut gate = ReplicaGate::new(Duration::from_secs(1));
        let t0 = Instant::now();
        gate.saw(t0, 100);
        let t1 = t0 + Duration::from_millis(300);
        gate.saw(t1, 200);
        let t2 = t0 + Duration::from_millis(1500);
        gate.saw(t2, 300);
        // Caught up: none, whatever the server's stale figure says.
        assert_eq!(
            gate.lag(t2, 300, &replica(300, Some(900))),
            Some(Duration::ZERO)
        );
        // Behind the position first seen at t1.
        assert_eq!(
            gate.lag(t2, 300, &replica(100, Some(1))),
            Some(Duration::from_millis(1200))
        );
        assert_eq!(gate.lag(t2, 300, &replica(250, None)), Some(Duration::ZERO));
        // Or what the server says, when that is more.
        assert_eq!(
            gate.lag(t2, 300, &replica(150, Some(4000))),
            Some(Duration::from_secs(4))
        );
        // Behind what was there when retort first looked: unknown.
        assert_eq!(gate.lag(t2, 300, &replica(50, Some(1))), None);
    }

    #[test]
    fn positions_every_replica_applied_are_forgotten() {
        let mut gate = ReplicaGate::new(Duration::from_secs(1));
        let t0 = Instant::now();
        for (i, p) in [10, 20, 30, 40].into_iter().enumerate() {
            gate.saw(t0 + Duration::from_secs(i as u64), p);
        }
        gate.forget(&[replica(25, None), replica(40, None)]);
        assert_eq!(
            gate.seen.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
            [30, 40]
        );
        gate.forget(&[]);
        assert_eq!(gate.seen.iter().map(|(_, p)| *p).collect::<Vec<_>>(), [40]);
        assert_eq!(gate.origin, Some(10));
        // A lower position starts over.
        gate.saw(t0, 5);
        assert_eq!(gate.seen.iter().map(|(_, p)| *p).collect::<Vec<_>>(), [5]);
        assert_eq!(gate.origin, Some(5));
    }

    #[test]
    fn polls_within_bounds() {
        assert_eq!(
            ReplicaGate::new(Duration::ZERO).poll(),
            Duration::from_millis(50)
        );
        assert_eq!(
            ReplicaGate::new(Duration::from_secs(1)).poll(),
            Duration::from_millis(250)
        );
        assert_eq!(
            ReplicaGate::new(Duration::from_secs(60)).poll(),
            Duration::from_millis(500)
        );
    }
}
