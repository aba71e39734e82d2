//! Turning captured Alembic revisions into retort revision files.

use std::collections::BTreeSet;
use std::path::Path;

use super::captured::{Direction, Revision};
use super::error::ImportError;
use crate::Dialect;
use crate::script::{self, Header};
use crate::sql;

/// One revision file, ready to write.
#[derive(Debug)]
pub(crate) struct File {
    pub(crate) revision: String,
    pub(crate) name: String,
    pub(crate) text: String,
    /// Why a person must read it before it runs; empty when it may run.
    pub(crate) review: Vec<String>,
    /// Alembic's downgrade raised or is missing: no downgrade section.
    pub(crate) irreversible: bool,
}

/// The files for `revisions`, named after their Alembic files.
pub(crate) fn files(revisions: &[Revision], dialect: Dialect) -> Result<Vec<File>, ImportError> {
    let stems: Vec<String> = revisions.iter().map(|r| stem(&r.path)).collect();
    let mut seen = BTreeSet::new();
    let clashing: BTreeSet<&String> = stems.iter().filter(|s| !seen.insert(*s)).collect();
    revisions
        .iter()
        .zip(&stems)
        .map(|(revision, stem)| {
            let name = if clashing.contains(stem) {
                format!("{}_{stem}.sql", revision.revision)
            } else {
                format!("{stem}.sql")
            };
            file(revision, name, dialect)
        })
        .collect()
}

/// The Alembic file's name without `.py`.
fn stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

fn file(revision: &Revision, name: String, dialect: Dialect) -> Result<File, ImportError> {
    let bad = |reason: String| ImportError::BadRevision {
        revision: revision.revision.clone(),
        reason,
    };
    if let Some(problem) = script::revision_id_problem(&revision.revision) {
        return Err(bad(problem));
    }
    if let Some(label) = revision
        .branch_labels
        .iter()
        .find(|l| !script::is_valid_branch_label(l))
    {
        return Err(bad(format!(
            "branch label `{label}` is not one retort accepts"
        )));
    }
    let mut review = vec![];
    let mut notes = vec![format!("Imported from Alembic: {}", revision.path)];
    for (direction, name) in [
        (&revision.upgrade, "upgrade"),
        (&revision.downgrade, "downgrade"),
    ] {
        for failed in &direction.failed {
            notes.push(format!(
                "Left out of the {name}: `{}`, which failed when Alembic ran it ({}) \
                 and which the revision went past.",
                sql::excerpt(&failed.sql, 80),
                failed.error
            ));
        }
    }
    let upgrade = body(&revision.upgrade, "upgrade", dialect, &mut review);
    let irreversible = !revision.has_downgrade || revision.downgrade.error.is_some();
    let downgrade = if irreversible {
        notes.push(match &revision.downgrade.error {
            Some(error) => format!(
                "Alembic's downgrade() raised {error}: retort will not downgrade through this revision."
            ),
            None => "The Alembic revision has no downgrade(): retort will not downgrade through it."
                .to_owned(),
        });
        None
    } else {
        Some(body(&revision.downgrade, "downgrade", dialect, &mut review))
    };
    let mut header = script::render_header(&Header {
        revision: revision.revision.clone(),
        revises: revision.revises.clone(),
        message: revision.message.clone(),
        created: revision
            .created
            .as_deref()
            .and_then(created)
            .unwrap_or_default(),
        branch_labels: revision.branch_labels.clone(),
        depends_on: revision.depends_on.clone(),
    })
    .lines()
    .filter(|line| line.trim_end() != "-- retort:created")
    .collect::<Vec<_>>()
    .join("\n");
    let transaction_off =
        upgrade.transaction_off || downgrade.as_ref().is_some_and(|d| d.transaction_off);
    if transaction_off {
        header.push_str("\n-- retort:transaction off");
        notes.push(
            "Alembic ran part of it outside a transaction (autocommit_block or COMMIT): \
             so does retort."
                .to_owned(),
        );
    }
    if !review.is_empty() {
        header.push_str(&format!(
            "\n-- retort:review {}",
            one_line(&review.join("; "))
        ));
    }
    let mut text = header;
    text.push('\n');
    for note in &notes {
        text.push_str(&format!("-- {}\n", one_line(note)));
    }
    text.push_str("\n-- retort:upgrade\n");
    text.push_str(&upgrade.sql);
    if let Some(downgrade) = &downgrade {
        text.push_str("\n-- retort:downgrade\n");
        text.push_str(&downgrade.sql);
    }
    let text = script::template::tidy(&text);
    // The file must read back as written; a statement that broke the
    // format would be an error on every later command.
    if let Err(error) = script::parse(&text, Path::new(&name)) {
        return Err(bad(format!(
            "its SQL does not fit in a revision file: {error}"
        )));
    }
    Ok(File {
        revision: revision.revision.clone(),
        name,
        text,
        review,
        irreversible,
    })
}

/// One direction's SQL, and whether it must run outside a transaction.
struct Body {
    sql: String,
    transaction_off: bool,
}

fn body(direction: &Direction, name: &str, dialect: Dialect, review: &mut Vec<String>) -> Body {
    if !direction.ran {
        review.push(format!("Alembic did not run its {name}() while importing"));
    }
    if let Some(error) = &direction.error {
        review.push(format!(
            "its {name}() raised {error}; the SQL is what ran before that"
        ));
    }
    if let Some(read) = direction.reads.first() {
        review.push(format!(
            "its {name}() reads rows (`{}`), so its SQL may depend on the data; \
             it was captured on an empty database",
            sql::excerpt(read, 60)
        ));
    }
    let mut sql = String::new();
    let mut transaction_off = direction.commits;
    for statement in &direction.statements {
        let text = terminated(&statement.sql);
        if statement.autocommit {
            // PostgreSQL statements retort already runs alone need nothing
            // more; others make the whole revision non-transactional.
            let alone =
                sql::split(&text, dialect).is_ok_and(|s| s.len() == 1 && s[0].no_transaction);
            transaction_off |= !alone;
        }
        sql.push_str(&text);
        sql.push_str("\n\n");
    }
    let split = sql::split(&sql, dialect).map(|s| s.len());
    if split.as_ref().ok() != Some(&direction.statements.len()) {
        review.push(format!(
            "its {name} SQL does not split back into the {} statements Alembic sent",
            direction.statements.len()
        ));
    }
    Body {
        sql,
        transaction_off,
    }
}

/// The statement ending in `;`, on a line of its own after a trailing
/// line comment.
fn terminated(sql: &str) -> String {
    let sql = sql.trim();
    if sql.ends_with(';') {
        return sql.to_owned();
    }
    let last_line = sql.lines().last().unwrap_or("");
    if last_line.contains("--") {
        format!("{sql}\n;")
    } else {
        format!("{sql};")
    }
}

/// Alembic's `Create Date` (`2021-05-12 10:23:45.123456`, local time
/// unless the project set a timezone) as RFC 3339; a date without an offset
/// is taken as UTC.
fn created(date: &str) -> Option<String> {
    let date = date.trim().replacen(' ', "T", 1);
    let has_offset = date.ends_with('Z')
        || date
            .get(19..)
            .is_some_and(|rest| rest.contains('+') || rest.contains('-'));
    let date = if has_offset { date } else { format!("{date}Z") };
    crate::time::is_rfc3339(&date).then_some(date)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::captured::Statement;

    fn direction(statements: &[&str]) -> Direction {
        Direction {
            ran: true,
            statements: statements
                .iter()
                .map(|s| Statement {
                    sql: (*s).to_owned(),
                    autocommit: false,
                })
                .collect(),
            reads: vec![],
            error: None,
            commits: false,
            failed: vec![],
        }
    }

    fn revision(upgrade: Direction, downgrade: Direction) -> Revision {
        Revision {
            revision: "ab12".into(),
            revises: vec!["cd34".into(), "ef56".into()],
            branch_labels: vec!["core".into()],
            depends_on: vec![],
            message: "add  users\nand more".into(),
            created: Some("2021-05-12 10:23:45.123456".into()),
            path: "/p/versions/ab12_add_users.py".into(),
            upgrade,
            downgrade,
            has_downgrade: true,
        }
    }

    #[test]
    fn a_revision_keeps_its_metadata_and_statements() {
        let r = revision(
            direction(&[
                "CREATE TABLE users (id INTEGER)",
                "INSERT INTO users VALUES (1) -- one",
            ]),
            direction(&["DROP TABLE users"]),
        );
        let written = files(&[r], Dialect::Sqlite).expect("renders");
        let text = &written[0].text;
        assert_eq!(written[0].name, "ab12_add_users.sql");
        let parsed = script::parse(text, Path::new("x.sql")).expect("parses");
        assert_eq!(parsed.revision, "ab12");
        assert_eq!(parsed.revises, ["cd34", "ef56"]);
        assert_eq!(parsed.message, "add users and more");
        assert_eq!(parsed.branch_labels, ["core"]);
        assert!(text.contains("-- retort:created 2021-05-12T10:23:45.123456Z"));
        assert!(text.contains("INSERT INTO users VALUES (1) -- one\n;"));
        assert!(!text.contains("retort:review"));
        assert!(text.contains("-- retort:downgrade\nDROP TABLE users;"));
    }

    #[test]
    fn reads_and_errors_mark_the_file_for_review() {
        let mut upgrade = direction(&["UPDATE users SET n = 1"]);
        upgrade.reads.push("SELECT id FROM users".into());
        let mut downgrade = direction(&[]);
        downgrade.error = Some("NotImplementedError".into());
        let written = files(&[revision(upgrade, downgrade)], Dialect::Postgres).expect("renders");
        let text = &written[0].text;
        assert!(
            text.contains("-- retort:review its upgrade() reads rows (`SELECT id FROM users`)")
        );
        assert!(written[0].irreversible);
        assert!(!text.contains("-- retort:downgrade"));
    }

    #[test]
    fn autocommit_statements_postgres_runs_alone_keep_the_transaction() {
        let mut upgrade = direction(&["CREATE INDEX CONCURRENTLY ix ON t (a)"]);
        upgrade.statements[0].autocommit = true;
        let written =
            files(&[revision(upgrade, direction(&[]))], Dialect::Postgres).expect("renders");
        assert!(!written[0].text.contains("transaction off"));

        let mut upgrade = direction(&["ALTER TYPE mood ADD VALUE 'meh'"]);
        upgrade.statements[0].autocommit = true;
        let written =
            files(&[revision(upgrade, direction(&[]))], Dialect::Postgres).expect("renders");
        assert!(written[0].text.contains("-- retort:transaction off"));
    }

    #[test]
    fn alembic_dates_become_rfc_3339() {
        assert_eq!(
            created("2021-05-12 10:23:45.123456").as_deref(),
            Some("2021-05-12T10:23:45.123456Z")
        );
        assert_eq!(
            created("2021-05-12 10:23:45+02:00").as_deref(),
            Some("2021-05-12T10:23:45+02:00")
        );
        assert_eq!(created("yesterday"), None);
    }

    #[test]
    fn clashing_file_names_get_the_revision_id() {
        let mut a = revision(direction(&[]), direction(&[]));
        let mut b = revision(direction(&[]), direction(&[]));
        a.path = "/p/versions/a/init.py".into();
        b.path = "/p/versions/b/init.py".into();
        b.revision = "zz99".into();
        let written = files(&[a, b], Dialect::Sqlite).expect("renders");
        assert_eq!(written[0].name, "ab12_init.sql");
        assert_eq!(written[1].name, "zz99_init.sql");
    }
}
