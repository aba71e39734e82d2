//! Offline mode (`--sql`): the script a DBA could run instead of retort.
//!
//! The plan is the one an online run would make, starting from the base or
//! from the lower end of an `A:B` range, since no database is read. The
//! version and applied tables are written with literals, with the same
//! statements the online run binds.

use super::plan::{self, Direction};
use super::run::section;
use super::store::{AppliedRow, Mode};
use super::{MigrateError, Migrator, Request, segments};
use crate::Dialect;
use crate::time::UtcTime;

/// The SQL script for `request` (see [`Migrator::offline`]).
pub fn offline_sql(migrator: &Migrator<'_>, request: &Request) -> Result<String, MigrateError> {
    migrator.offline(request)
}

impl Migrator<'_> {
    /// Renders `request` as a SQL script. Targets may be `A:B` ranges: the
    /// script then starts at A's revisions; without a range an upgrade
    /// starts at the base, and a downgrade needs one.
    pub fn offline(&self, request: &Request) -> Result<String, MigrateError> {
        let graph = self.project.graph();
        let (start, target, direction) = match request {
            Request::Upgrade { target } => match target.split_once(':') {
                Some((a, b)) => (Some(a), b, Direction::Up),
                None => (None, target.as_str(), Direction::Up),
            },
            Request::Downgrade { target } => match target.split_once(':') {
                Some((a, b)) => (Some(a), b, Direction::Down),
                None => {
                    return Err(plan::PlanError::Graph(crate::graph::GraphError::InvalidTarget {
                        target: target.clone(),
                        reason: "an offline downgrade needs a range `FROM:TO`, e.g. `head:base`, since the database is not read".into(),
                    })
                    .into());
                }
            },
            Request::Stamp { .. } | Request::Resume { .. } | Request::Repair { .. } => {
                let command = match request {
                    Request::Stamp { .. } => "stamp",
                    Request::Resume { .. } => "resume",
                    _ => "repair",
                };
                return Err(
                    plan::PlanError::Graph(crate::graph::GraphError::InvalidTarget {
                        target: command.into(),
                        reason: format!(
                            "offline {command} is not supported; run it against the database"
                        ),
                    })
                    .into(),
                );
            }
        };
        let mut rows = match start {
            Some(start) if !start.is_empty() => {
                let resolved = graph.resolve(start, None).map_err(plan::PlanError::from)?;
                plan::rows_of(graph, &graph.ancestors(&resolved.revisions, true))
            }
            _ => Vec::new(),
        };
        let current = self.ids(&rows);
        let resolved = graph
            .resolve(target, Some(&current))
            .map_err(plan::PlanError::from)?;
        let steps = match direction {
            Direction::Up => plan::upgrade(graph, &rows, &resolved, target)?,
            Direction::Down => plan::downgrade(graph, &rows, &resolved, target)?,
        };
        self.check_reversible(&steps)?;

        let dialect = self.tables.dialect;
        let begin = match dialect {
            Dialect::Mysql => "START TRANSACTION;",
            Dialect::Sqlite | Dialect::Postgres => "BEGIN;",
        };
        let now = UtcTime::now().rfc3339();
        let mut out = format!(
            "-- retort offline script ({dialect}): {} {}\n-- generated {now}\n\n",
            direction.section_name(),
            match request {
                Request::Upgrade { target } | Request::Downgrade { target } => target.as_str(),
                _ => "",
            }
        );
        if let (Dialect::Postgres, Some(timeout)) = (dialect, self.offline_lock_timeout) {
            // As online: a statement stuck behind a long transaction fails
            // instead of queueing every query on its table behind it.
            out.push_str(&format!(
                "SET lock_timeout = '{}ms';\n",
                timeout.as_millis()
            ));
        }
        for ddl in self.tables.create() {
            out.push_str(&ddl);
            out.push_str(";\n");
        }
        for step in steps {
            let script = self.project.script(step.revision);
            let after = plan::next_rows(graph, &rows, step);
            let parents = if script.revises.is_empty() {
                "<base>".to_owned()
            } else {
                script.revises.join(", ")
            };
            // Alembic's step description: from where to where.
            let (from, to) = match step.direction {
                Direction::Up => (parents.as_str(), script.revision.as_str()),
                Direction::Down => (script.revision.as_str(), parents.as_str()),
            };
            out.push_str(&format!(
                "\n-- Running {} {from} -> {to}, {}\n",
                step.direction.section_name(),
                script.message
            ));
            let statements = self.statements(script, step.direction)?;
            let body = script_body(&section(script.body()?, step.direction).sql, dialect);
            let body = body.trim();
            let mut bookkeeping = String::new();
            let change = plan::row_change(&rows, &after);
            let id = |i: usize| graph.node(i).id().to_owned();
            for &d in &change.deletes {
                bookkeeping.push_str(&self.tables.delete_version(Mode::Literal, &id(d)).0);
                bookkeeping.push_str(";\n");
            }
            for &(from, to) in &change.updates {
                bookkeeping.push_str(
                    &self
                        .tables
                        .update_version(Mode::Literal, &id(from), &id(to))
                        .0,
                );
                bookkeeping.push_str(";\n");
            }
            for &i in &change.inserts {
                bookkeeping.push_str(&self.tables.insert_version(Mode::Literal, &id(i)).0);
                bookkeeping.push_str(";\n");
            }
            match step.direction {
                Direction::Up => {
                    let row =
                        AppliedRow::new(script, now.clone(), std::time::Duration::ZERO, "upgrade");
                    for (sql, _) in self.tables.record_applied(Mode::Literal, &row) {
                        bookkeeping.push_str(&sql);
                        bookkeeping.push_str(";\n");
                    }
                }
                Direction::Down => {
                    bookkeeping.push_str(
                        &self
                            .tables
                            .forget_applied(Mode::Literal, &script.revision)
                            .0,
                    );
                    bookkeeping.push_str(";\n");
                }
            }
            let terminated = |sql: &str| {
                if sql.is_empty() || sql.ends_with(';') {
                    format!("{sql}\n")
                } else {
                    format!("{sql};\n")
                }
            };
            if !segments::is_segmented(&statements, script.transactional) {
                out.push_str(begin);
                out.push('\n');
                if !body.is_empty() {
                    out.push_str(&terminated(body));
                }
            } else {
                // The same parts an online run commits: transactions
                // around the statements that allow one, the others alone.
                let parts = segments::segments(&statements, script.transactional, 0);
                let mut open = false;
                for (position, part) in parts.iter().enumerate() {
                    let text: String = statements[part.statements.clone()]
                        .iter()
                        .map(|s| for_client(s.text, dialect))
                        .collect();
                    if part.transactional {
                        out.push_str(begin);
                        out.push('\n');
                        out.push_str(&text);
                        // The last part commits with the version change.
                        if position + 1 == parts.len() {
                            open = true;
                        } else {
                            out.push_str("COMMIT;\n");
                        }
                    } else {
                        let first = &statements[part.statements.start];
                        out.push_str(&format!(
                            "-- line {}: runs outside a transaction{}\n",
                            first.line,
                            match (script.transactional, dialect) {
                                (false, _) => " (`-- retort:transaction off`)",
                                (true, Dialect::Mysql) => " (it commits implicitly)",
                                (true, _) => " (it cannot run inside one)",
                            }
                        ));
                        out.push_str(&text);
                    }
                }
                if !open {
                    out.push_str(begin);
                    out.push('\n');
                }
            }
            out.push_str(&bookkeeping);
            out.push_str("COMMIT;\n");
            rows = after;
        }
        Ok(out)
    }
}

/// One statement as its database's shell reads it. The `mysql` client
/// splits at every `;`, so a MySQL statement with one inside (a procedure,
/// function or trigger body) is wrapped in `DELIMITER` lines.
fn for_client(text: &str, dialect: Dialect) -> String {
    if dialect != Dialect::Mysql || !text.contains(';') {
        return format!("{text};\n");
    }
    let delimiter = ["//", "$$", ";;", "@@"]
        .into_iter()
        .find(|d| !text.contains(d))
        .unwrap_or("//");
    format!("DELIMITER {delimiter}\n{text} {delimiter}\nDELIMITER ;\n")
}

/// A section as script text: its statements, each ended by `;` (a comment
/// after an unterminated last statement must not swallow the terminator).
/// MySQL sections with `DELIMITER` blocks are kept as written: the `mysql`
/// client understands them.
fn script_body(sql: &str, dialect: Dialect) -> String {
    let has_delimiter = dialect == Dialect::Mysql
        && sql
            .lines()
            .any(|l| l.trim_start().to_ascii_uppercase().starts_with("DELIMITER"));
    match crate::sql::split(sql, dialect) {
        Ok(statements) if !has_delimiter => statements
            .iter()
            .map(|s| format!("{};\n", s.text))
            .collect(),
        _ => sql.to_owned(),
    }
}
