//! How a migration's statements are grouped into the units that commit.
//!
//! A migration normally runs in one transaction with its version change.
//! Statements PostgreSQL refuses inside a transaction block (`CREATE INDEX
//! CONCURRENTLY`…) break it up: the statements between them still run in
//! transactions, and each such statement runs alone. `-- retort:transaction
//! off` makes every statement its own unit. Every unit that completes is
//! recorded in the journal, so a run that stops half way can be resumed.

use std::ops::Range;

use crate::sql::Statement;

/// Consecutive statements that commit together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Indices into the migration's statements.
    pub(crate) statements: Range<usize>,
    /// Whether the statements run inside a transaction.
    pub(crate) transactional: bool,
}

/// The segments of the statements from `from` on. `transactional` is the
/// script's setting (`false` for `-- retort:transaction off`).
pub(crate) fn segments(
    statements: &[Statement<'_>],
    transactional: bool,
    from: usize,
) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for (index, statement) in statements.iter().enumerate().skip(from) {
        let alone = !transactional || statement.no_transaction;
        match out.last_mut() {
            Some(last) if !alone && last.transactional => last.statements.end = index + 1,
            _ => out.push(Segment {
                statements: index..index + 1,
                transactional: !alone,
            }),
        }
    }
    out
}

/// Whether the migration needs more than one commit (and so the journal).
pub(crate) fn is_segmented(statements: &[Statement<'_>], transactional: bool) -> bool {
    !transactional || statements.iter().any(|s| s.no_transaction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dialect;
    use crate::sql::split;

    fn shape(sql: &str, transactional: bool, from: usize) -> Vec<(Range<usize>, bool)> {
        let statements = split(sql, Dialect::Postgres).unwrap();
        segments(&statements, transactional, from)
            .into_iter()
            .map(|s| (s.statements, s.transactional))
            .collect()
    }

    const MIXED: &str = "CREATE TABLE t (a int);
INSERT INTO t VALUES (1);
CREATE INDEX CONCURRENTLY ix ON t (a);
ALTER TABLE t ADD b int;
CREATE UNIQUE INDEX CONCURRENTLY ux ON t (b);
REINDEX INDEX CONCURRENTLY ix;";

    #[test]
    fn concurrent_statements_run_alone_between_transactions() {
        assert_eq!(
            shape(MIXED, true, 0),
            [
                (0..2, true),
                (2..3, false),
                (3..4, true),
                (4..5, false),
                (5..6, false)
            ]
        );
        assert!(is_segmented(
            &split(MIXED, Dialect::Postgres).unwrap(),
            true
        ));
    }

    #[test]
    fn resuming_starts_a_new_segment_at_the_statement() {
        assert_eq!(
            shape(MIXED, true, 1),
            [
                (1..2, true),
                (2..3, false),
                (3..4, true),
                (4..5, false),
                (5..6, false)
            ]
        );
        assert_eq!(shape(MIXED, true, 6), []);
    }

    #[test]
    fn transaction_off_makes_every_statement_a_segment() {
        let sql = "CREATE TABLE t (a int); INSERT INTO t VALUES (1)";
        assert_eq!(shape(sql, false, 0), [(0..1, false), (1..2, false)]);
        assert!(is_segmented(&split(sql, Dialect::Postgres).unwrap(), false));
    }

    #[test]
    fn plain_migrations_are_one_segment() {
        let sql = "CREATE TABLE t (a int); INSERT INTO t VALUES (1)";
        assert_eq!(shape(sql, true, 0), [(0..2, true)]);
        assert!(!is_segmented(&split(sql, Dialect::Postgres).unwrap(), true));
        // Other dialects never mark statements, whatever they say.
        let sqlite = split("CREATE INDEX CONCURRENTLY ix ON t (a)", Dialect::Sqlite).unwrap();
        assert!(!is_segmented(&sqlite, true));
    }
}
