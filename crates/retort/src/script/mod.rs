//! Revision files: one plain-SQL file per revision, metadata in leading
//! `-- retort:` comments, both directions in one file.
//!
//! ```sql
//! -- retort:revision 3a4feffbb7a1
//! -- retort:revises 0c90191dbca7
//! -- retort:message add users table
//! -- retort:created 2026-11-21T14:30:00Z
//!
//! -- retort:upgrade
//! CREATE TABLE users (id integer PRIMARY KEY);
//!
//! -- retort:downgrade
//! DROP TABLE users;
//! ```
//!
//! [`parse`] reads one; [`render_header`] and [`template`] write one;
//! [`naming`] names new files and mints revision ids.

pub mod checksum;
mod error;
pub mod naming;
mod parse;
pub mod template;

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::Dialect;

pub use error::{ScriptError, ScriptErrorKind};
pub use parse::parse;
pub(crate) use parse::parse_checksummed;

/// Which way a step goes: which section of a revision file runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Run the upgrade section.
    Up,
    /// Run the downgrade section.
    Down,
}

impl Direction {
    /// `up` or `down`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }

    /// The revision file's section: `upgrade` or `downgrade`.
    pub fn section_name(self) -> &'static str {
        match self {
            Direction::Up => "upgrade",
            Direction::Down => "downgrade",
        }
    }

    /// The direction of a section name (`upgrade`, `downgrade`).
    pub fn from_section_name(name: &str) -> Option<Direction> {
        match name {
            "upgrade" => Some(Direction::Up),
            "downgrade" => Some(Direction::Down),
            _ => None,
        }
    }
}

/// Written as the section's name (`upgrade`, `downgrade`).
impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.section_name())
    }
}

/// The SQL of one section of a revision file, with where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// The dialects it is for (`-- retort:upgrade postgres`); empty: every
    /// dialect that has no section of its own.
    pub dialects: Vec<Dialect>,
    /// The text between this section's directive and the next (or the end).
    pub sql: String,
    /// The 1-based file line of the first line of `sql`.
    pub line: usize,
}

/// The SQL sections of a revision file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// Every section, upgrades before downgrades.
    pub sections: Vec<Section>,
}

impl Body {
    /// The section `dialect` runs for `direction`: the one that names the
    /// dialect, else the one that names none.
    pub fn section(&self, direction: Direction, dialect: Dialect) -> Option<&Section> {
        pick(&self.sections, direction, dialect, |s| {
            (s.direction, &s.dialects)
        })
    }

    /// The upgrade section that names no dialect (the only one of most
    /// files).
    pub fn upgrade(&self) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.direction == Direction::Up && s.dialects.is_empty())
    }

    /// The downgrade section that names no dialect.
    pub fn downgrade(&self) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.direction == Direction::Down && s.dialects.is_empty())
    }
}

/// Of `sections`, the one `dialect` runs for `direction`.
fn pick<T>(
    sections: &[T],
    direction: Direction,
    dialect: Dialect,
    of: impl Fn(&T) -> (Direction, &Vec<Dialect>),
) -> Option<&T> {
    let mut fallback = None;
    for section in sections {
        let (d, dialects) = of(section);
        if d != direction {
            continue;
        }
        if dialects.contains(&dialect) {
            return Some(section);
        }
        if dialects.is_empty() {
            fallback = Some(section);
        }
    }
    fallback
}

/// A revision marked `-- retort:review <reason>`: its SQL must be read by
/// a person (and the line deleted) before it runs. The Alembic importer
/// marks the revisions whose SQL depended on data or did not render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Why, as written.
    pub reason: String,
    /// The directive's 1-based line.
    pub line: usize,
}

/// `-- retort:code NAME VERSION`: the revision's migration is a Rust
/// function the application registers under `name` (see
/// [`crate::CodeMigration`]). The version is the author's to bump when
/// the function changes: it is part of the file, so of its checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// The registered function's name.
    pub name: String,
    /// Its version, as written.
    pub version: String,
    /// The directive's 1-based line.
    pub line: usize,
}

/// A parsed revision file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The revision id.
    pub revision: String,
    /// The revisions this one revises; empty for a base, several for a merge.
    pub revises: Vec<String>,
    /// The one-line description.
    pub message: String,
    /// When the file was created, as written (RFC 3339).
    pub created: Option<String>,
    /// Branch labels this revision declares.
    pub branch_labels: Vec<String>,
    /// Revisions or branch labels that must be applied first.
    pub depends_on: Vec<String>,
    /// `false` when the file says `-- retort:transaction off`.
    pub transactional: bool,
    /// `-- retort:review <reason>`: a person must read the revision's SQL
    /// before it runs (`upgrade` and `downgrade` refuse a plan holding it).
    pub review: Option<Review>,
    /// `-- retort:code`: the migration is a registered Rust function
    /// rather than SQL sections.
    pub code: Option<Code>,
    /// Whether the file has a downgrade section; without one the revision
    /// cannot be downgraded (see [`Script::covers`] for one dialect).
    pub reversible: bool,
    /// Each section's direction and dialects, in file order.
    sections: Vec<(Direction, Vec<Dialect>)>,
    /// Per dialect (in [`Dialect::ALL`] order), the checksum of what it
    /// runs, where sections name dialects; `None` when none does, and the
    /// whole file's checksum serves every dialect.
    dialect_checksums: Option<Box<[String; 3]>>,
    /// The file it was read from.
    pub path: PathBuf,
    /// [`Script::source`], unless only the checksum was kept.
    text: OnceLock<String>,
    /// [`Script::body`], unless only the checksum was kept.
    body: OnceLock<Body>,
    /// [`Script::checksum`], computed once.
    checksum: OnceLock<String>,
}

impl Script {
    /// The whole file as read.
    ///
    /// A project loaded to run against a database keeps each file's
    /// checksum, not its text: most files are already applied, and holding
    /// every text cost a no-op run more than reading the few it runs again.
    /// The text is then read on first use, and must still be the one
    /// checksummed.
    pub fn source(&self) -> Result<&str, ScriptError> {
        if let Some(text) = self.text.get() {
            return Ok(text);
        }
        let fail = |kind| ScriptError::new(&self.path, None, kind);
        let bytes = std::fs::read(&self.path)
            .map_err(|e| fail(ScriptErrorKind::Unreadable(e.to_string())))?;
        decode(&bytes, &self.path)?;
        // Checked just above.
        let text = String::from_utf8(bytes).unwrap_or_default();
        if let Some(loaded) = self.checksum.get()
            && checksum::checksum(&text) != *loaded
        {
            return Err(fail(ScriptErrorKind::ChangedSinceLoaded));
        }
        Ok(self.text.get_or_init(|| text))
    }

    /// The SQL of both directions; parsed again from [`Script::source`]
    /// when only the checksum was kept.
    pub fn body(&self) -> Result<&Body, ScriptError> {
        if let Some(body) = self.body.get() {
            return Ok(body);
        }
        let body = parse::body(self.source()?, &self.path)?;
        Ok(self.body.get_or_init(|| body))
    }

    /// The tagged checksum of the file with the current algorithm.
    pub fn checksum(&self) -> &str {
        // A script without its text has its checksum (see
        // `parse::parse_checksummed`).
        self.checksum
            .get_or_init(|| checksum::checksum(self.text.get().map_or("", String::as_str)))
    }

    /// The checksum of what `dialect` runs: the whole file, or, where
    /// sections name dialects, the header and the sections it runs (an
    /// edit to another dialect's section is no edit for this one).
    pub fn checksum_for(&self, dialect: Dialect) -> &str {
        match &self.dialect_checksums {
            Some(all) => &all[dialect_index(dialect)],
            None => self.checksum(),
        }
    }

    /// Whether the file has a `direction` section `dialect` runs.
    pub fn covers(&self, direction: Direction, dialect: Dialect) -> bool {
        pick(&self.sections, direction, dialect, |(d, dialects)| {
            (*d, dialects)
        })
        .is_some()
    }

    /// Whether any section names a dialect.
    pub fn has_dialect_sections(&self) -> bool {
        self.dialect_checksums.is_some()
    }

    /// Whether [`Script::checksum`] is already computed.
    pub fn has_checksum(&self) -> bool {
        self.checksum.get().is_some()
    }

    /// Whether what `dialect` runs of the file matches a stored checksum
    /// under the stored one's algorithm; `None` when the algorithm is
    /// unknown (a newer retort wrote it).
    pub fn matches(&self, stored: &str, dialect: Dialect) -> Result<Option<bool>, ScriptError> {
        Ok(match checksum::algorithm_of(stored) {
            Some(checksum::CURRENT) => Some(self.checksum_for(dialect) == stored),
            _ => checksum::matches(stored, self.source()?),
        })
    }
}

/// A revision file's bytes as text, or an error naming the line of the
/// first byte that is not UTF-8.
pub(crate) fn decode<'a>(bytes: &'a [u8], path: &std::path::Path) -> Result<&'a str, ScriptError> {
    crate::text::utf8(bytes)
        .map_err(|line| ScriptError::new(path, Some(line), ScriptErrorKind::NotUtf8))
}

/// The position of `dialect` in [`Dialect::ALL`].
pub(crate) fn dialect_index(dialect: Dialect) -> usize {
    Dialect::ALL
        .iter()
        .position(|d| *d == dialect)
        .unwrap_or_default()
}

/// The metadata written into a new revision file's header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// The revision id.
    pub revision: String,
    /// Parent ids.
    pub revises: Vec<String>,
    /// The message.
    pub message: String,
    /// Creation time, RFC 3339.
    pub created: String,
    /// Branch labels.
    pub branch_labels: Vec<String>,
    /// Dependencies.
    pub depends_on: Vec<String>,
}

/// The `-- retort:` header lines for `header`, without a trailing newline.
pub fn render_header(header: &Header) -> String {
    let mut lines = vec![format!("-- retort:revision {}", header.revision)];
    if !header.revises.is_empty() {
        lines.push(format!("-- retort:revises {}", header.revises.join(" ")));
    }
    lines.push(format!("-- retort:message {}", one_line(&header.message)));
    lines.push(format!("-- retort:created {}", header.created));
    if !header.branch_labels.is_empty() {
        lines.push(format!(
            "-- retort:branch-labels {}",
            header.branch_labels.join(" ")
        ));
    }
    if !header.depends_on.is_empty() {
        lines.push(format!(
            "-- retort:depends-on {}",
            header.depends_on.join(" ")
        ));
    }
    lines.join("\n")
}

/// A message on one line: line breaks become spaces.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The longest revision id: the version table's column is `VARCHAR(32)`,
/// as Alembic's is, so a longer id could be applied but never recorded.
pub const MAX_REVISION_ID_LEN: usize = 32;

/// Whether `id` is a valid revision id: `[A-Za-z0-9_]+`, at most
/// [`MAX_REVISION_ID_LEN`] characters.
pub fn is_valid_revision_id(id: &str) -> bool {
    revision_id_problem(id).is_none()
}

/// What is wrong with `id` as a revision id, or `None`.
pub fn revision_id_problem(id: &str) -> Option<String> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Some("use letters, digits and `_`".to_owned())
    } else if id.len() > MAX_REVISION_ID_LEN {
        Some(format!(
            "it is {} characters long, and the version table's `version_num` column holds {MAX_REVISION_ID_LEN}",
            id.len()
        ))
    } else {
        None
    }
}

/// Whether `label` is a valid branch label: `[A-Za-z0-9_-]+`, not only digits
/// and not a reserved target word.
pub fn is_valid_branch_label(label: &str) -> bool {
    !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !label.bytes().all(|b| b.is_ascii_digit())
        && !matches!(label, "head" | "heads" | "base" | "current")
}
