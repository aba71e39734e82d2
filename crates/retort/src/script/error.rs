use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// A revision file (or the revision template) that breaks the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, when the problem is on one.
    pub line: Option<usize>,
    /// What is wrong.
    pub kind: ScriptErrorKind,
}

/// What is wrong with a revision file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ScriptErrorKind {
    /// `-- retort:<name>` with an unknown name.
    #[error("unknown directive `-- retort:{name}`{suggestion}", name = .0, suggestion = did_you_mean(.0))]
    UnknownDirective(String),
    /// `-- retort: name`: a blank between `retort:` and the name.
    #[error("`-- retort: {0}` has a space after `retort:`; a directive is written `-- retort:{0}`")]
    SpacedDirective(String),
    /// A header directive given twice.
    #[error("`-- retort:{name}` appears twice (first on line {first})")]
    DuplicateDirective {
        /// The directive.
        name: String,
        /// Where it first appeared.
        first: usize,
    },
    /// No `-- retort:revision` line.
    #[error("missing `-- retort:revision` line")]
    MissingRevision,
    /// No `-- retort:upgrade` line.
    #[error("missing `-- retort:upgrade` section")]
    MissingUpgrade,
    /// A code revision (`-- retort:code`) with SQL sections.
    #[error(
        "a revision whose migration is Rust code (`-- retort:code`, line {code}) has no SQL sections: move the SQL into a revision of its own"
    )]
    CodeWithSql {
        /// The `-- retort:code` line.
        code: usize,
    },
    /// A section given twice.
    #[error("`-- retort:{name}` section appears twice (first on line {first})")]
    DuplicateSection {
        /// `upgrade` or `downgrade`.
        name: String,
        /// Where it first appeared.
        first: usize,
    },
    /// `-- retort:downgrade` before `-- retort:upgrade`.
    #[error("`-- retort:downgrade` comes before `-- retort:upgrade`")]
    DowngradeFirst,
    /// An upgrade section after a downgrade section.
    #[error(
        "an upgrade section after the downgrade section of line {downgrade}: upgrade sections come first"
    )]
    UpgradeAfterDowngrade {
        /// The downgrade section's line.
        downgrade: usize,
    },
    /// A header directive inside a section.
    #[error("`-- retort:{0}` belongs in the header, before `-- retort:upgrade`")]
    HeaderInBody(String),
    /// SQL in the header.
    #[error("SQL before `-- retort:upgrade`: the header holds only comments")]
    SqlInHeader,
    /// A directive without its value.
    #[error("`-- retort:{0}` needs a value")]
    MissingValue(String),
    /// A revision id with characters outside `[A-Za-z0-9_]`, or too long.
    #[error("invalid revision id `{id}`: {reason}")]
    InvalidRevisionId {
        /// The id as written.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A branch label with bad characters.
    #[error(
        "invalid branch label `{0}`: use letters, digits, `_` and `-`, not only digits, not `head`, `heads`, `base` or `current`"
    )]
    InvalidBranchLabel(String),
    /// A directive value outside its allowed set.
    #[error("`-- retort:{directive} {value}`: expected {expected}")]
    InvalidValue {
        /// The directive.
        directive: String,
        /// What was written.
        value: String,
        /// What is allowed.
        expected: String,
    },
    /// A revision that revises itself.
    #[error("revision `{0}` revises itself")]
    RevisesItself(String),
    /// The file is not UTF-8.
    #[error("the file is not valid UTF-8")]
    NotUtf8,
    /// A NUL byte, which database drivers take as the end of a statement:
    /// SQLite would run the text before it and silently skip the rest.
    #[error("the file holds a NUL byte (`\\0`), which no database runs as written")]
    NulByte,
    /// The file could not be read again when its SQL was needed.
    #[error("cannot read the file again: {0}")]
    Unreadable(String),
    /// The file changed between loading the project and running its SQL.
    #[error(
        "the file changed while retort was running: it no longer matches the checksum taken when the project was loaded"
    )]
    ChangedSinceLoaded,
    /// A template placeholder retort does not know.
    #[error("unknown placeholder `{{{{{0}}}}}`")]
    UnknownPlaceholder(String),
    /// A template `{{` without `}}`.
    #[error("`{{{{` without a closing `}}}}`")]
    UnclosedPlaceholder,
    /// The template does not produce a valid revision file.
    #[error("the revision template produced an invalid file: {0}")]
    BadTemplate(String),
}

/// Every directive a revision file may hold: the header's, then the two
/// section markers (last, see `parse::HEADER_DIRECTIVES`).
pub(crate) const DIRECTIVES: [&str; 11] = [
    "revision",
    "revises",
    "message",
    "created",
    "branch-labels",
    "depends-on",
    "transaction",
    "review",
    "code",
    "upgrade",
    "downgrade",
];

fn did_you_mean(name: &str) -> String {
    crate::suggest::closest(name, DIRECTIVES)
        .map(|d| format!(" (did you mean `-- retort:{d}`?)"))
        .unwrap_or_default()
}

impl ScriptError {
    pub(crate) fn new(
        path: impl Into<PathBuf>,
        line: Option<usize>,
        kind: ScriptErrorKind,
    ) -> Self {
        ScriptError {
            path: path.into(),
            line,
            kind,
        }
    }
}

impl crate::Diagnostic for ScriptError {
    /// A stable snake_case name for scripts.
    fn kind(&self) -> &'static str {
        match self.kind {
            ScriptErrorKind::UnknownPlaceholder(_)
            | ScriptErrorKind::UnclosedPlaceholder
            | ScriptErrorKind::BadTemplate(_) => "bad_template",
            _ => "bad_revision_file",
        }
    }

    /// What to type next.
    fn hint(&self) -> Option<String> {
        Some(match &self.kind {
            ScriptErrorKind::SpacedDirective(name) => format!("remove the space: `-- retort:{name}`"),
            ScriptErrorKind::UnknownDirective(_) => format!(
                "known directives: {}",
                DIRECTIVES.map(|d| format!("`{d}`")).join(", ")
            ),
            ScriptErrorKind::MissingRevision => "add a line `-- retort:revision <id>` at the top of the file".into(),
            ScriptErrorKind::MissingUpgrade => "add a line `-- retort:upgrade` before the upgrade SQL".into(),
            ScriptErrorKind::CodeWithSql { .. } => "a code revision runs its registered function only: put the SQL in a revision of its own (`retort revision -m MESSAGE`), or remove `-- retort:code`".into(),
            ScriptErrorKind::SqlInHeader => "move the SQL below `-- retort:upgrade`, or comment it out with `--`".into(),
            ScriptErrorKind::HeaderInBody(_) => "move the line above `-- retort:upgrade`".into(),
            ScriptErrorKind::UnknownPlaceholder(_) => "placeholders: `{{header}}`, `{{revision}}`, `{{revises}}`, `{{message}}`, `{{created}}`, `{{branch_labels}}`, `{{depends_on}}`, `{{upgrade}}`, `{{downgrade}}`".into(),
            ScriptErrorKind::BadTemplate(_) => "the template must keep `{{header}}` and a `-- retort:upgrade` line".into(),
            ScriptErrorKind::NotUtf8 => "save the file as UTF-8 (the line named is where the first invalid byte is)".into(),
            ScriptErrorKind::NulByte => "remove the byte (`grep -nP '\\x00' FILE` finds it); a NUL in data is written with the database's own escape, such as `char(0)`".into(),
            ScriptErrorKind::ChangedSinceLoaded => "run the command again once the file is no longer being edited".into(),
            ScriptErrorKind::DuplicateDirective { name, .. } => format!("keep one `-- retort:{name}` line"),
            ScriptErrorKind::DuplicateSection { name, .. } => format!("keep one `-- retort:{name}` section: put all of its SQL under it"),
            ScriptErrorKind::DowngradeFirst => "put the `-- retort:upgrade` section first, then `-- retort:downgrade`".into(),
            ScriptErrorKind::UpgradeAfterDowngrade { .. } => "move the upgrade sections (one per dialect, or one for all) above the first downgrade section".into(),
            ScriptErrorKind::MissingValue(name) if name == "review" => "write why a person must read the revision's SQL: `-- retort:review <reason>`".into(),
            ScriptErrorKind::MissingValue(name) => format!("write the value after the directive: `-- retort:{name} <value>`"),
            ScriptErrorKind::InvalidRevisionId { .. } => format!(
                "revision ids are letters, digits and `_`, at most {} characters (`retort revision` draws 12 hex digits)",
                super::MAX_REVISION_ID_LEN
            ),
            ScriptErrorKind::InvalidBranchLabel(_) => "choose a label like `auth` or `billing-v2`".into(),
            ScriptErrorKind::InvalidValue { directive, .. } if directive == "created" => "write the time in UTC as `retort revision` does (`2026-11-21T14:30:00Z`), or remove the line".into(),
            ScriptErrorKind::InvalidValue { directive, expected, .. } => format!("write `-- retort:{directive}` with {expected}"),
            ScriptErrorKind::RevisesItself(_) => "a revision revises its parents: fix the `-- retort:revises` line (`retort history` lists the revisions)".into(),
            ScriptErrorKind::Unreadable(_) => "check that the file still exists and can be read by this user".into(),
            ScriptErrorKind::UnclosedPlaceholder => "close the placeholder with `}}`".into(),
        })
    }

    fn class(&self) -> crate::ErrorClass {
        match self.kind {
            ScriptErrorKind::Unreadable(_) => crate::ErrorClass::Runtime,
            _ => crate::ErrorClass::Input,
        }
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.kind),
            None => write!(f, "{}: {}", self.path.display(), self.kind),
        }
    }
}

impl std::error::Error for ScriptError {}
