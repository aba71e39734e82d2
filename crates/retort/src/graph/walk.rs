//! The order Alembic walks revisions in, newest first: `history` prints it,
//! `downgrade` runs it, `upgrade` runs it backwards. Where several orders
//! are valid (branches, criss-cross and many-way merges) this is the one
//! Alembic picks, so that a team moving between the two tools sees the
//! same steps.
//!
//! The walk keeps a list of pending heads, one slot each, and a cursor. It
//! lists the revision in the cursor's slot unless another pending head
//! still lies above it (then the cursor moves to the first such slot and
//! nothing is listed). A listed revision's first parent still to list takes
//! its slot, and its other parents and dependencies go to new slots at the
//! end; a slot with nothing left is removed and the cursor steps back one.
//! So a merge's first parent is walked first (and, in an upgrade, its
//! branch runs last, just before the merge), and ties are broken by the
//! order the revisions were given in (file order), never by their ids.

use super::{Graph, Revision};

/// What a revision leads down to, in the walk's order: its parents as
/// declared, then its dependencies as declared, leaving out those an
/// ancestor of it declares too (they are reached through that ancestor,
/// as in Alembic).
pub(super) fn down_links(revisions: &[Revision]) -> Vec<Vec<usize>> {
    revisions
        .iter()
        .enumerate()
        .map(|(index, revision)| {
            let mut down = revision.parents.clone();
            if revision.dependencies.is_empty() {
                return down;
            }
            // Only a dependency others declare too can be declared below.
            let shared = revision
                .dependencies
                .iter()
                .any(|&d| revisions[d].dependents.len() > 1);
            let below = if shared {
                versioned_ancestors(revisions, index)
            } else {
                Vec::new()
            };
            for &dependency in &revision.dependencies {
                let declared_below = shared
                    && revisions[dependency]
                        .dependents
                        .iter()
                        .any(|&other| other != index && below[other]);
                if !declared_below && !down.contains(&dependency) {
                    down.push(dependency);
                }
            }
            down
        })
        .collect()
}

/// The revisions below `index` through parents only (not itself).
fn versioned_ancestors(revisions: &[Revision], index: usize) -> Vec<bool> {
    let mut seen = vec![false; revisions.len()];
    let mut stack: Vec<usize> = revisions[index].parents.clone();
    while let Some(i) = stack.pop() {
        if !seen[i] {
            seen[i] = true;
            stack.extend(&revisions[i].parents);
        }
    }
    seen
}

impl Graph {
    /// The members of `todo`, newest first, walked down from `heads` (see
    /// the module's documentation). Every member must lie below one of the
    /// heads.
    pub fn newest_first_of(&self, todo: &[bool], heads: &[usize]) -> Vec<usize> {
        let mut todo = todo.to_vec();
        let mut slots: Vec<usize> = heads.iter().copied().filter(|&h| todo[h]).collect();
        // Members the heads do not lead to (a dependency that only a
        // revision outside `todo` leads to, say) start slots of their own:
        // Alembic stops there with an assertion.
        loop {
            let unreached = self.unreached(&todo, &slots);
            if !unreached.contains(&true) {
                break;
            }
            slots.extend(self.tops(&unreached));
        }
        slots.sort_unstable();
        slots.dedup();
        // Each slot's ancestors, needed only while there are several
        // slots, and kept up to date along a straight line.
        let mut above: Vec<Option<Vec<bool>>> = vec![None; slots.len()];
        let mut left = todo.iter().filter(|&&t| t).count();
        let mut out = Vec::with_capacity(left);
        let mut cursor = 0;
        while let Some(&current) = slots.get(cursor) {
            if slots.len() > 1 {
                for (slot, set) in slots.iter().zip(&mut above) {
                    if set.is_none() {
                        *set = Some(self.ancestors(&[*slot], true));
                    }
                }
                let needed_above = (0..slots.len())
                    .find(|&k| k != cursor && above[k].as_ref().is_some_and(|set| set[current]));
                if let Some(k) = needed_above {
                    cursor = k;
                    continue;
                }
            }
            if todo[current] {
                out.push(current);
                todo[current] = false;
                left -= 1;
            }
            let down = &self.down[current];
            let mut next = down
                .iter()
                .copied()
                .filter(|&p| todo[p] && !slots.contains(&p));
            match next.next() {
                None => {
                    slots.remove(cursor);
                    above.remove(cursor);
                    cursor = cursor.saturating_sub(1);
                }
                Some(first) => {
                    let rest: Vec<usize> = next.collect();
                    slots[cursor] = first;
                    // Along a straight line the ancestors lose only the
                    // revision just listed.
                    above[cursor] = match above[cursor].take() {
                        Some(mut set) if down.as_slice() == [first] => {
                            set[current] = false;
                            Some(set)
                        }
                        _ => None,
                    };
                    for parent in rest {
                        slots.push(parent);
                        above.push(None);
                    }
                }
            }
        }
        debug_assert_eq!(left, 0, "every member is walked");
        out
    }

    /// The members of `todo` that the walk's links, within `todo`, do not
    /// reach from `heads`.
    fn unreached(&self, todo: &[bool], heads: &[usize]) -> Vec<bool> {
        let mut left = todo.to_vec();
        let mut stack = heads.to_vec();
        while let Some(i) = stack.pop() {
            if left[i] {
                left[i] = false;
                stack.extend(self.down[i].iter().copied().filter(|&p| left[p]));
            }
        }
        left
    }

    /// The members of `set` no other member revises or depends on, in
    /// input order.
    fn tops(&self, set: &[bool]) -> Vec<usize> {
        (0..self.revisions.len())
            .filter(|&i| {
                let r = &self.revisions[i];
                set[i] && !r.children.iter().chain(&r.dependents).any(|&c| set[c])
            })
            .collect()
    }

    /// The heads Alembic starts from for `heads`: revisions that nothing
    /// revises or depends on.
    pub fn real_heads(&self) -> Vec<usize> {
        (0..self.revisions.len())
            .filter(|&i| {
                let r = &self.revisions[i];
                r.children.is_empty() && r.dependents.is_empty()
            })
            .collect()
    }
}
