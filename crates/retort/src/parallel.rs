//! Splitting per-file work across the machine's cores.

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
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::chunked;

    #[test]
    fn results_keep_the_items_order() {
        let items: Vec<usize> = (0..1000).collect();
        for len in [10, 1000] {
            let parts = chunked(&items[..len], <[usize]>::to_vec);
            assert_eq!(parts.concat(), items[..len]);
        }
    }
}
