//! Splitting per-file work across the machine's cores.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// Below this many items (revision files, say), threads cost more than
/// they save.
const THRESHOLD: usize = 512;

/// Runs `work` on consecutive chunks of `items`, one chunk per core, and
/// returns the chunks' results in order. Below [`THRESHOLD`] items (or on
/// one core) it runs once on the whole slice.
pub(crate) fn chunked<T, R>(items: &[T], work: impl Fn(&[T]) -> R + Sync) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let workers = thread::available_parallelism().map_or(1, |n| n.get());
    if items.len() < THRESHOLD || workers < 2 {
        return vec![work(items)];
    }
    let chunk = items.len().div_ceil(workers);
    let work = &work;
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || work(part)))
            .collect();
        handles.into_iter().map(join).collect()
    })
}

/// Items per chunk when chunks are shared out as threads become free:
/// small, so that the threads finish close together.
const SHARED_CHUNK: usize = 8;

/// Runs `side` on the calling thread while the other cores list the items
/// and work through them in small chunks; the calling thread takes chunks
/// too once `side` returns. Returns the chunks' results in order (or the
/// listing's error), and `side`'s result.
///
/// For work beside a long task that cannot be split (opening a SQLite
/// database parses its whole schema): one chunk per core on top of it would
/// share the cores three ways, and the task that cannot be split would
/// finish last. It starts first, on the thread that is already running.
pub(crate) fn chunked_beside<T, R, S, E>(
    list: impl FnOnce() -> Result<Vec<T>, E> + Send,
    work: impl Fn(&[T]) -> R + Sync,
    side: impl FnOnce() -> S,
) -> (Result<Vec<R>, E>, S)
where
    T: Send + Sync,
    R: Send,
    E: Send,
{
    let workers = thread::available_parallelism().map_or(1, |n| n.get());
    let items: OnceLock<Vec<T>> = OnceLock::new();
    let next = AtomicUsize::new(0);
    let drain = || {
        let items = items.wait();
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let start = index * SHARED_CHUNK;
            if start >= items.len() {
                return done;
            }
            let end = (start + SHARED_CHUNK).min(items.len());
            done.push((index, work(&items[start..end])));
        }
    };
    let (listed, mut done, side_result) = thread::scope(|scope| {
        let lister = scope.spawn(|| {
            // The other threads wait for the list: it is set however
            // listing ends, a panic included.
            let _unblock = Unblock(&items);
            let (listed, list) = match list() {
                Ok(list) => (Ok(()), list),
                Err(e) => (Err(e), Vec::new()),
            };
            let _ = items.set(list);
            (listed, drain())
        });
        let helpers: Vec<_> = (2..workers).map(|_| scope.spawn(drain)).collect();
        let side_result = side();
        let mut done = drain();
        for helper in helpers {
            done.extend(join(helper));
        }
        let (listed, side_done) = join(lister);
        done.extend(side_done);
        (listed, done, side_result)
    });
    done.sort_unstable_by_key(|(index, _)| *index);
    let results = listed.map(|()| done.into_iter().map(|(_, r)| r).collect());
    (results, side_result)
}

struct Unblock<'a, T>(&'a OnceLock<Vec<T>>);

impl<T> Drop for Unblock<'_, T> {
    fn drop(&mut self) {
        let _ = self.0.set(Vec::new());
    }
}

fn join<R>(handle: thread::ScopedJoinHandle<'_, R>) -> R {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[cfg(test)]
mod tests {
    use super::{chunked, chunked_beside};

    #[test]
    fn shared_chunks_keep_the_items_order_and_return_the_side_result() {
        let items: Vec<usize> = (0..1000).collect();
        for len in [0, 10, 1000] {
            let list = || Ok::<_, ()>(items[..len].to_vec());
            let (parts, side) = chunked_beside(list, <[usize]>::to_vec, || "side");
            assert_eq!(parts.unwrap().concat(), items[..len]);
            assert_eq!(side, "side");
        }
        let (parts, side) = chunked_beside(|| Err::<Vec<usize>, _>("no list"), |_| 1, || 2);
        assert_eq!((parts, side), (Err("no list"), 2));
    }

    #[test]
    fn results_keep_the_items_order() {
        let items: Vec<usize> = (0..1000).collect();
        for len in [10, 1000] {
            let parts = chunked(&items[..len], <[usize]>::to_vec);
            assert_eq!(parts.concat(), items[..len]);
        }
    }
}
