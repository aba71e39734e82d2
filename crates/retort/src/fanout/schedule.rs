//! Running one job per target on a few threads: the canaries first, then
//! the rest, at most `concurrency` at once, starting no new job once a
//! failure says to stop. What the workers report reaches the caller on its
//! own thread, in the order it happens.

use std::ops::Range;
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;

use super::{OnError, Rollout, Stopped};
use crate::migrator::Event;

/// What a worker reports.
pub(super) enum Message<R> {
    /// Progress of the job on target `index`.
    Event(usize, Event),
    /// A job is done.
    Done(R),
}

/// The work on one target: its index, and where its progress goes.
pub(super) type Job<'a, R> = dyn Fn(usize, &mut dyn FnMut(Event)) -> R + Sync + 'a;

/// How a schedule ended.
#[derive(Debug)]
pub(super) struct Ended {
    /// How many targets never started.
    pub(super) not_started: usize,
    /// Why the schedule stopped early, if it did.
    pub(super) stopped: Option<Stopped>,
}

/// The targets a stage has left to start, and whether it stopped.
struct Queue {
    next: usize,
    end: usize,
    stopped: bool,
}

impl Queue {
    /// The next target to start, unless the stage is over.
    fn take(queue: &Mutex<Queue>) -> Option<usize> {
        let mut queue = queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if queue.stopped || queue.next >= queue.end {
            return None;
        }
        queue.next += 1;
        Some(queue.next - 1)
    }
}

/// Runs `job` on targets `0..count` as `rollout` says; `failed` tells a
/// result that stops the run, `observe` gets every message.
pub(super) fn schedule<R: Send>(
    count: usize,
    rollout: &Rollout,
    job: &Job<'_, R>,
    failed: &(dyn Fn(&R) -> bool + Sync),
    observe: &mut dyn FnMut(Message<R>),
) -> Ended {
    let canaries = rollout.canary.min(count);
    let mut stages: Vec<(Range<usize>, bool)> = Vec::new();
    if canaries > 0 {
        stages.push((0..canaries, true));
    }
    if canaries < count {
        stages.push((canaries..count, false));
    }
    for (range, canary) in stages {
        let stop_on_failure = canary || rollout.on_error == OnError::Stop;
        let (started, stopped) = stage(
            range.clone(),
            rollout.concurrency,
            stop_on_failure,
            job,
            failed,
            observe,
        );
        if stopped {
            return Ended {
                not_started: count - range.start - started,
                stopped: Some(if canary {
                    Stopped::Canary
                } else {
                    Stopped::Failure
                }),
            };
        }
    }
    Ended {
        not_started: 0,
        stopped: None,
    }
}

/// One stage: returns how many targets started and whether it stopped.
fn stage<R: Send>(
    range: Range<usize>,
    concurrency: usize,
    stop_on_failure: bool,
    job: &Job<'_, R>,
    failed: &(dyn Fn(&R) -> bool + Sync),
    observe: &mut dyn FnMut(Message<R>),
) -> (usize, bool) {
    let start = range.start;
    let workers = concurrency.clamp(1, range.len().max(1));
    let queue = Mutex::new(Queue {
        next: range.start,
        end: range.end,
        stopped: false,
    });
    let stop = |result: &R| {
        // Before the next target is taken, by this worker or another:
        // nothing starts after a failure that stops.
        if stop_on_failure && failed(result) {
            queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .stopped = true;
        }
    };
    if workers == 1 {
        // On this thread: no hand-over between threads for each target.
        while let Some(index) = Queue::take(&queue) {
            let result = job(index, &mut |event| observe(Message::Event(index, event)));
            stop(&result);
            observe(Message::Done(result));
        }
        return finish(queue, start);
    }
    thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<Message<R>>();
        for _ in 0..workers {
            let sender = sender.clone();
            let (queue, stop) = (&queue, &stop);
            scope.spawn(move || {
                while let Some(index) = Queue::take(queue) {
                    let result = job(index, &mut |event| {
                        let _ = sender.send(Message::Event(index, event));
                    });
                    stop(&result);
                    let _ = sender.send(Message::Done(result));
                }
            });
        }
        drop(sender);
        for message in receiver {
            observe(message);
        }
    });
    finish(queue, start)
}

/// How many targets of a stage starting at `start` started, and whether
/// it stopped.
fn finish(queue: Mutex<Queue>, start: usize) -> (usize, bool) {
    let queue = queue
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (queue.next - start, queue.stopped)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn run(count: usize, rollout: &Rollout, fails: &[usize]) -> (Vec<usize>, Ended) {
        let calls = AtomicUsize::new(0);
        let job = |index: usize, _: &mut dyn FnMut(Event)| {
            calls.fetch_add(1, Ordering::Relaxed);
            index
        };
        let failed = |index: &usize| fails.contains(index);
        let mut done = Vec::new();
        let ended = schedule(count, rollout, &job, &failed, &mut |message| {
            if let Message::Done(index) = message {
                done.push(index);
            }
        });
        assert_eq!(calls.load(Ordering::Relaxed), done.len());
        done.sort_unstable();
        (done, ended)
    }

    fn rollout(concurrency: usize, canary: usize, on_error: OnError) -> Rollout {
        Rollout {
            concurrency,
            canary,
            on_error,
        }
    }

    #[test]
    fn every_target_runs_once() {
        for concurrency in [1, 3, 8, 50] {
            let (done, ended) = run(20, &rollout(concurrency, 0, OnError::Stop), &[]);
            assert_eq!(done, (0..20).collect::<Vec<_>>());
            assert_eq!((ended.not_started, ended.stopped), (0, None));
        }
    }

    #[test]
    fn a_failure_stops_starting_targets_unless_going_on() {
        let (done, ended) = run(10, &rollout(1, 0, OnError::Stop), &[2]);
        assert_eq!(done, [0, 1, 2]);
        assert_eq!(ended.not_started, 7);
        assert_eq!(ended.stopped, Some(Stopped::Failure));
        let (done, ended) = run(10, &rollout(1, 0, OnError::Continue), &[2, 5]);
        assert_eq!(done.len(), 10);
        assert_eq!((ended.not_started, ended.stopped), (0, None));
    }

    #[test]
    fn a_failing_canary_stops_even_when_going_on() {
        let (done, ended) = run(10, &rollout(4, 3, OnError::Continue), &[1]);
        assert!(done.iter().all(|&i| i < 3), "{done:?}");
        assert_eq!(ended.stopped, Some(Stopped::Canary));
        assert_eq!(ended.not_started, 10 - done.len());
        let (done, ended) = run(10, &rollout(4, 3, OnError::Continue), &[7]);
        assert_eq!((done.len(), ended.stopped), (10, None));
    }
}
