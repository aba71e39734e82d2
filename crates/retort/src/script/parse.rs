use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use super::error::DIRECTIVES;
use super::{
    Body, Code, Direction, Review, Script, ScriptError, ScriptErrorKind as Kind, Section, checksum,
    is_valid_branch_label, is_valid_revision_id, revision_id_problem,
};
use crate::Dialect;

/// The directives of the header: all but the two section markers, which
/// come last.
const HEADER_DIRECTIVES: &[&str] = DIRECTIVES.split_at(DIRECTIVES.len() - 2).0;

/// A `-- retort:name value` line.
struct Directive<'a> {
    name: &'a str,
    value: &'a str,
}

/// Recognises `--retort:x`, `-- retort:x value`, with any blanks after `--`.
fn directive(line: &str) -> Option<Directive<'_>> {
    let rest = line.trim_start().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("retort:")?;
    if rest.starts_with([' ', '\t']) && !rest.trim().is_empty() {
        // `-- retort: downgrade`: reported as such, not as a directive
        // with an empty name.
        return Some(Directive {
            name: "",
            value: rest.trim(),
        });
    }
    let (name, value) = match rest.find(char::is_whitespace) {
        Some(at) => (&rest[..at], rest[at..].trim()),
        None => (rest.trim_end(), ""),
    };
    Some(Directive { name, value })
}

fn is_comment_or_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with("--")
}

/// The lines of a text with their 1-based numbers and where they start.
struct Lines<'a> {
    text: &'a str,
    at: usize,
    /// Lines before `at`.
    before: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines {
            text,
            at: 0,
            before: 0,
        }
    }

    /// The next line with its ending: (number, start offset, line).
    fn next(&mut self) -> Option<(usize, usize, &'a str)> {
        let rest = &self.text[self.at..];
        if rest.is_empty() {
            return None;
        }
        let len = memchr::memchr(b'\n', rest.as_bytes()).map_or(rest.len(), |i| i + 1);
        let start = self.at;
        self.at += len;
        self.before += 1;
        Some((self.before, start, &rest[..len]))
    }

    /// Moves to the next line containing `retort:`, the only lines that can
    /// be directives. Section bodies are most of every file, and looking at
    /// each of their lines was most of the time spent parsing.
    fn skip_to_possible_directive(&mut self) {
        let rest = &self.text.as_bytes()[self.at..];
        let skipped = match memchr::memmem::find(rest, b"retort:") {
            Some(hit) => memchr::memrchr(b'\n', &rest[..hit]).map_or(0, |i| i + 1),
            None => rest.len(),
        };
        self.before += memchr::memchr_iter(b'\n', &rest[..skipped]).count();
        self.at += skipped;
    }
}

/// Parses a revision file's text; `path` is used in errors and kept.
pub fn parse(text: &str, path: &Path) -> Result<Script, ScriptError> {
    let (script, spans) = parse_parts(text, path)?;
    let _ = script.body.set(spans.body(text));
    let _ = script.text.set(text.to_owned());
    Ok(script)
}

/// Parses a revision file's text and keeps its checksum instead of its
/// text and SQL, which [`Script::body`] reads again when they are needed.
pub(crate) fn parse_checksummed(text: &str, path: &Path) -> Result<Script, ScriptError> {
    let (script, _) = parse_parts(text, path)?;
    let _ = script.checksum.set(checksum::checksum(text));
    Ok(script)
}

/// The SQL of both directions of a file's text.
pub(super) fn body(text: &str, path: &Path) -> Result<Body, ScriptError> {
    Ok(parse_parts(text, path)?.1.body(text))
}

/// One section as the parser found it.
struct Span {
    direction: Direction,
    dialects: Vec<Dialect>,
    /// The line of its directive.
    directive_line: usize,
    /// Where its directive line starts, and where its SQL starts and ends.
    directive_start: usize,
    sql: Range<usize>,
}

/// Where each section is, and where the header ends.
struct Spans {
    sections: Vec<Span>,
    header_end: usize,
}

impl Spans {
    fn body(&self, text: &str) -> Body {
        Body {
            sections: self
                .sections
                .iter()
                .map(|span| Section {
                    direction: span.direction,
                    dialects: span.dialects.clone(),
                    sql: text[span.sql.clone()].to_owned(),
                    line: span.directive_line + 1,
                })
                .collect(),
        }
    }

    /// Where sections name dialects: per dialect, the checksum of the
    /// header and the sections it runs (each with its directive line).
    fn dialect_checksums(&self, text: &str) -> Option<Box<[String; 3]>> {
        if self.sections.iter().all(|s| s.dialects.is_empty()) {
            return None;
        }
        let of = |dialect: Dialect| {
            let mut runs = text[..self.header_end].to_owned();
            for direction in [Direction::Up, Direction::Down] {
                let chosen = super::pick(&self.sections, direction, dialect, |s| {
                    (s.direction, &s.dialects)
                });
                if let Some(span) = chosen {
                    runs.push_str(&text[span.directive_start..span.sql.end]);
                }
            }
            checksum::checksum(&runs)
        };
        Some(Box::new(Dialect::ALL.map(of)))
    }
}

/// The script without its text, body or checksum, and where its sections
/// are.
fn parse_parts(source: &str, path: &Path) -> Result<(Script, Spans), ScriptError> {
    let err = |line: usize, kind: Kind| ScriptError::new(path, Some(line), kind);
    // A driver takes a NUL as the end of the statement: SQLite would run
    // `DELETE FROM t\0 WHERE …` as `DELETE FROM t`.
    if let Some(at) = memchr::memchr(0, source.as_bytes()) {
        return Err(err(
            crate::text::line_at(source.as_bytes(), at),
            Kind::NulByte,
        ));
    }
    let text = source.strip_prefix('\u{feff}').unwrap_or(source);
    // Sections are spans of the whole file, a BOM included.
    let bom = source.len() - text.len();

    let mut seen: Vec<(&str, usize)> = Vec::new();
    let mut revision: Option<String> = None;
    let mut revises = Vec::new();
    let mut message = String::new();
    let mut created = None;
    let mut branch_labels = Vec::new();
    let mut depends_on = Vec::new();
    let mut transactional = true;
    let mut review = None;
    let mut code = None;
    let mut sections: Vec<Span> = Vec::new();

    let mut lines = Lines::new(text);
    loop {
        let in_body = !sections.is_empty();
        if in_body {
            lines.skip_to_possible_directive();
        }
        let Some((number, line_start, raw)) = lines.next() else {
            break;
        };
        let offset = line_start + raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let Some(d) = directive(line) else {
            if !in_body && !is_comment_or_blank(line) {
                return Err(err(number, Kind::SqlInHeader));
            }
            continue;
        };
        match d.name {
            "upgrade" | "downgrade" => {
                let direction = if d.name == "upgrade" {
                    Direction::Up
                } else {
                    Direction::Down
                };
                let mut dialects = Vec::new();
                for name in d.value.split([' ', '\t', ',']).filter(|v| !v.is_empty()) {
                    let dialect = name.parse::<Dialect>().map_err(|_| {
                        err(
                            number,
                            Kind::InvalidValue {
                                directive: d.name.into(),
                                value: d.value.into(),
                                expected: "dialect names: `sqlite`, `postgres`, `mysql`".into(),
                            },
                        )
                    })?;
                    if !dialects.contains(&dialect) {
                        dialects.push(dialect);
                    }
                }
                let first_of_kind = sections.iter().find(|s| s.direction == direction);
                if direction == Direction::Down
                    && first_of_kind.is_none()
                    && !sections.iter().any(|s| s.direction == Direction::Up)
                {
                    return Err(err(number, Kind::DowngradeFirst));
                }
                if direction == Direction::Up
                    && let Some(down) = sections.iter().find(|s| s.direction == Direction::Down)
                {
                    return Err(err(
                        number,
                        Kind::UpgradeAfterDowngrade {
                            downgrade: down.directive_line,
                        },
                    ));
                }
                // One section per direction and dialect: two without a
                // dialect, or two naming one, are the same section twice.
                let clash = sections.iter().find(|s| {
                    s.direction == direction
                        && (s.dialects.is_empty() && dialects.is_empty()
                            || s.dialects.iter().any(|x| dialects.contains(x)))
                });
                if let Some(clash) = clash {
                    let shared: Vec<&str> = dialects
                        .iter()
                        .filter(|x| clash.dialects.contains(x))
                        .map(|x| x.name())
                        .collect();
                    let name = if shared.is_empty() {
                        d.name.to_owned()
                    } else {
                        format!("{} {}", d.name, shared.join(" "))
                    };
                    return Err(err(
                        number,
                        Kind::DuplicateSection {
                            name,
                            first: clash.directive_line,
                        },
                    ));
                }
                if let Some(last) = sections.last_mut() {
                    last.sql.end = line_start;
                }
                sections.push(Span {
                    direction,
                    dialects,
                    directive_line: number,
                    directive_start: line_start,
                    sql: offset..text.len(),
                });
            }
            name if HEADER_DIRECTIVES.contains(&name) => {
                if in_body {
                    return Err(err(number, Kind::HeaderInBody(name.to_owned())));
                }
                if let Some(&(_, first)) = seen.iter().find(|(n, _)| *n == name) {
                    return Err(err(
                        number,
                        Kind::DuplicateDirective {
                            name: name.to_owned(),
                            first,
                        },
                    ));
                }
                seen.push((name, number));
                let values = || d.value.split([' ', '\t', ',']).filter(|v| !v.is_empty());
                match name {
                    "revision" => {
                        if d.value.is_empty() {
                            return Err(err(number, Kind::MissingValue(name.into())));
                        }
                        if let Some(reason) = revision_id_problem(d.value) {
                            return Err(err(
                                number,
                                Kind::InvalidRevisionId {
                                    id: d.value.into(),
                                    reason,
                                },
                            ));
                        }
                        revision = Some(d.value.to_owned());
                    }
                    "revises" | "depends-on" => {
                        let mut ids = Vec::new();
                        for id in values() {
                            let valid = if name == "revises" {
                                is_valid_revision_id(id)
                            } else {
                                is_valid_revision_id(id) || is_valid_branch_label(id)
                            };
                            if !valid {
                                return Err(err(
                                    number,
                                    Kind::InvalidRevisionId {
                                        id: id.into(),
                                        reason: revision_id_problem(id).unwrap_or_default(),
                                    },
                                ));
                            }
                            ids.push(id.to_owned());
                        }
                        if name == "revises" {
                            revises = ids;
                        } else {
                            depends_on = ids;
                        }
                    }
                    "message" => message = d.value.to_owned(),
                    "created" => {
                        if !d.value.is_empty() && !crate::time::is_rfc3339(d.value) {
                            return Err(err(
                                number,
                                Kind::InvalidValue {
                                    directive: name.into(),
                                    value: d.value.into(),
                                    expected: "an RFC 3339 time such as `2026-11-21T14:30:00Z`"
                                        .into(),
                                },
                            ));
                        }
                        created = Some(d.value.to_owned()).filter(|c| !c.is_empty());
                    }
                    "branch-labels" => {
                        for label in values() {
                            if !is_valid_branch_label(label) {
                                return Err(err(number, Kind::InvalidBranchLabel(label.into())));
                            }
                            branch_labels.push(label.to_owned());
                        }
                    }
                    "review" => {
                        if d.value.is_empty() {
                            return Err(err(number, Kind::MissingValue(name.into())));
                        }
                        review = Some(Review {
                            reason: d.value.to_owned(),
                            line: number,
                        });
                    }
                    "code" => {
                        let parts: Vec<&str> = values().collect();
                        let [name, version] = parts.as_slice() else {
                            return Err(err(
                                number,
                                Kind::InvalidValue {
                                    directive: name.into(),
                                    value: d.value.into(),
                                    expected: "the registered function's name and its version, as in `-- retort:code backfill_names 1`".into(),
                                },
                            ));
                        };
                        if !name.chars().all(|c| {
                            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
                        }) {
                            return Err(err(
                                number,
                                Kind::InvalidValue {
                                    directive: "code".into(),
                                    value: d.value.into(),
                                    expected: "a name of letters, digits, `_`, `-`, `.` and `:`"
                                        .into(),
                                },
                            ));
                        }
                        code = Some(Code {
                            name: (*name).to_owned(),
                            version: (*version).to_owned(),
                            line: number,
                        });
                    }
                    _ => {
                        transactional = match d.value {
                            "on" => true,
                            "off" => false,
                            other => {
                                return Err(err(
                                    number,
                                    Kind::InvalidValue {
                                        directive: name.into(),
                                        value: other.into(),
                                        expected: "`on` or `off`".into(),
                                    },
                                ));
                            }
                        };
                    }
                }
            }
            "" if d.value.is_empty() => {
                return Err(err(number, Kind::UnknownDirective(String::new())));
            }
            "" => {
                let name = d.value.split_whitespace().next().unwrap_or_default();
                return Err(err(number, Kind::SpacedDirective(name.to_owned())));
            }
            other => return Err(err(number, Kind::UnknownDirective(other.to_owned()))),
        }
    }

    let Some(revision) = revision else {
        return Err(ScriptError::new(path, Some(1), Kind::MissingRevision));
    };
    match (&code, sections.first()) {
        (Some(code), Some(section)) => {
            return Err(ScriptError::new(
                path,
                Some(section.directive_line),
                Kind::CodeWithSql { code: code.line },
            ));
        }
        (None, _) if !sections.iter().any(|s| s.direction == Direction::Up) => {
            return Err(ScriptError::new(path, None, Kind::MissingUpgrade));
        }
        _ => {}
    }
    if revises.contains(&revision) {
        let line = seen.iter().find(|(n, _)| *n == "revises").map(|(_, l)| *l);
        return Err(ScriptError::new(path, line, Kind::RevisesItself(revision)));
    }
    // Spans of the whole file, a BOM included.
    for span in &mut sections {
        span.directive_start += bom;
        span.sql = span.sql.start + bom..span.sql.end + bom;
    }
    let spans = Spans {
        header_end: sections.first().map_or(source.len(), |s| s.directive_start),
        sections,
    };
    let script = Script {
        revision,
        revises,
        message,
        created,
        branch_labels,
        depends_on,
        transactional,
        review,
        reversible: spans
            .sections
            .iter()
            .any(|s| s.direction == Direction::Down),
        code,
        sections: spans
            .sections
            .iter()
            .map(|s| (s.direction, s.dialects.clone()))
            .collect(),
        dialect_checksums: spans.dialect_checksums(source),
        path: path.to_owned(),
        text: OnceLock::new(),
        body: OnceLock::new(),
        checksum: OnceLock::new(),
    };
    Ok((script, spans))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dialect;

    const GOOD: &str = "\
-- retort:revision 3a4feffbb7a1
-- retort:revises 0c90191dbca7
-- retort:message add users table
-- retort:created 2026-11-21T14:30:00Z
-- retort:branch-labels auth
-- retort:depends-on 5d2c7e9f1a00
-- retort:transaction off

-- retort:upgrade
CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL UNIQUE);

-- retort:downgrade
DROP TABLE users;
";

    fn parse_str(text: &str) -> Result<Script, String> {
        parse(text, Path::new("m/x.sql")).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_every_field() {
        let s = parse_str(GOOD).unwrap();
        assert_eq!(s.revision, "3a4feffbb7a1");
        assert_eq!(s.revises, ["0c90191dbca7"]);
        assert_eq!(s.message, "add users table");
        assert_eq!(s.created.as_deref(), Some("2026-11-21T14:30:00Z"));
        assert_eq!(s.branch_labels, ["auth"]);
        assert_eq!(s.depends_on, ["5d2c7e9f1a00"]);
        assert!(!s.transactional);
        let body = s.body().unwrap();
        assert_eq!(body.upgrade().unwrap().line, 10);
        assert_eq!(
            body.upgrade().unwrap().sql,
            "CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL UNIQUE);\n\n"
        );
        let down = body.downgrade().unwrap();
        assert_eq!(down.line, 13);
        assert_eq!(down.sql, "DROP TABLE users;\n");
    }

    #[test]
    fn merge_base_crlf_bom_and_free_comments() {
        let text = "\u{feff}-- a note\r\n--retort:revision m1\r\n-- retort:revises a1, b2\r\n-- retort:upgrade\r\nSELECT 1;\r\n";
        let s = parse_str(text).unwrap();
        assert_eq!(s.revises, ["a1", "b2"]);
        assert_eq!(s.body().unwrap().upgrade().unwrap().sql, "SELECT 1;\r\n");
        assert!(s.body().unwrap().downgrade().is_none());
        assert!(!s.reversible);
        assert!(s.transactional);
        let base = parse_str("-- retort:revision b\n-- retort:upgrade\n").unwrap();
        assert!(base.revises.is_empty());
        assert_eq!(base.body().unwrap().upgrade().unwrap().sql, "");
    }

    #[test]
    fn errors_name_file_and_line() {
        let cases = [
            (
                "-- retort:revision a\n-- retort:revisez b\n-- retort:upgrade\n",
                "m/x.sql:2: unknown directive `-- retort:revisez` (did you mean `-- retort:revises`?)",
            ),
            (
                "-- retort:revision a\n-- retort:sections b\n-- retort:upgrade\n",
                "m/x.sql:2: unknown directive `-- retort:sections`",
            ),
            (
                "-- retort:revision a\n-- retort:upgrade\nSELECT 1;\n-- retort: downgrade\n",
                "m/x.sql:4: `-- retort: downgrade` has a space after `retort:`; a directive is written `-- retort:downgrade`",
            ),
            (
                "-- retort:revision a\n-- retort:\n-- retort:upgrade\n",
                "m/x.sql:2: unknown directive `-- retort:`",
            ),
            (
                "-- retort:revision a\n-- retort:upgrade\nDELETE FROM users\0 WHERE id = 5;\n",
                "m/x.sql:3: the file holds a NUL byte (`\\0`), which no database runs as written",
            ),
            (
                "-- retort:revision a\n-- retort:upgrade\nCREATE TABLE a(id int);\n\0CREATE TABLE b(id int);\n",
                "m/x.sql:4: the file holds a NUL byte (`\\0`), which no database runs as written",
            ),
            (
                "-- retort:revision a123456789a123456789a123456789a12\n-- retort:upgrade\n",
                "m/x.sql:1: invalid revision id `a123456789a123456789a123456789a12`: it is 33 characters long, and the version table's `version_num` column holds 32",
            ),
            (
                "-- retort:revision a\n-- retort:created not-a-date\n-- retort:upgrade\n",
                "m/x.sql:2: `-- retort:created not-a-date`: expected an RFC 3339 time such as `2026-11-21T14:30:00Z`",
            ),
            (
                "-- retort:revision a\n-- retort:created 2026-13-45T99:00:00Z\n-- retort:upgrade\n",
                "m/x.sql:2: `-- retort:created 2026-13-45T99:00:00Z`: expected an RFC 3339 time such as `2026-11-21T14:30:00Z`",
            ),
            (
                "-- retort:revision a\n-- retort:message x\n-- retort:message y\n-- retort:upgrade\n",
                "m/x.sql:3: `-- retort:message` appears twice (first on line 2)",
            ),
            (
                "-- retort:message x\n-- retort:upgrade\n",
                "m/x.sql:1: missing `-- retort:revision` line",
            ),
            (
                "-- retort:revision a\nSELECT 1;\n",
                "m/x.sql:2: SQL before `-- retort:upgrade`: the header holds only comments",
            ),
            (
                "-- retort:revision a\n",
                "m/x.sql: missing `-- retort:upgrade` section",
            ),
            (
                "-- retort:revision a\n-- retort:upgrade\n-- retort:upgrade\n",
                "m/x.sql:3: `-- retort:upgrade` section appears twice (first on line 2)",
            ),
            (
                "-- retort:revision a\n-- retort:upgrade\n-- retort:downgrade\n-- retort:downgrade\n",
                "m/x.sql:4: `-- retort:downgrade` section appears twice (first on line 3)",
            ),
            (
                "-- retort:revision a\n-- retort:downgrade\n-- retort:upgrade\n",
                "m/x.sql:2: `-- retort:downgrade` comes before `-- retort:upgrade`",
            ),
            (
                "-- retort:revision a\n-- retort:upgrade\n-- retort:revises b\n",
                "m/x.sql:3: `-- retort:revises` belongs in the header, before `-- retort:upgrade`",
            ),
            (
                "-- retort:revision\n-- retort:upgrade\n",
                "m/x.sql:1: `-- retort:revision` needs a value",
            ),
            (
                "-- retort:revision a-b\n-- retort:upgrade\n",
                "m/x.sql:1: invalid revision id `a-b`: use letters, digits and `_`",
            ),
            (
                "-- retort:revision a\n-- retort:revises x:y\n-- retort:upgrade\n",
                "m/x.sql:2: invalid revision id `x:y`: use letters, digits and `_`",
            ),
            (
                "-- retort:revision a\n-- retort:branch-labels head\n-- retort:upgrade\n",
                "m/x.sql:2: invalid branch label `head`: use letters, digits, `_` and `-`, not only digits, not `head`, `heads`, `base` or `current`",
            ),
            (
                "-- retort:revision a\n-- retort:transaction maybe\n-- retort:upgrade\n",
                "m/x.sql:2: `-- retort:transaction maybe`: expected `on` or `off`",
            ),
            (
                "-- retort:revision a\n-- retort:revises a\n-- retort:upgrade\n",
                "m/x.sql:2: revision `a` revises itself",
            ),
            (
                "-- retort:revision a\n-- retort:review\n-- retort:upgrade\n",
                "m/x.sql:2: `-- retort:review` needs a value",
            ),
            (
                "-- retort:revision a\n-- retort:review   \n-- retort:upgrade\n",
                "m/x.sql:2: `-- retort:review` needs a value",
            ),
            (
                "-- retort:revision a\n-- retort:review data-dependent\n-- retort:review did not render\n-- retort:upgrade\n",
                "m/x.sql:3: `-- retort:review` appears twice (first on line 2)",
            ),
            (
                "-- retort:revision a\n-- retort:upgrade\n-- retort:review check it\nSELECT 1;\n",
                "m/x.sql:3: `-- retort:review` belongs in the header, before `-- retort:upgrade`",
            ),
            (
                "-- retort:revision a\n-- retort:reveiw check it\n-- retort:upgrade\n",
                "m/x.sql:2: unknown directive `-- retort:reveiw` (did you mean `-- retort:review`?)",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_str(text).unwrap_err(), expected, "for {text:?}");
        }
    }

    #[test]
    fn a_review_mark_keeps_its_reason_and_line() {
        let s = parse_str(
            "\u{feff}-- retort:revision a\r\n-- retort:message m\r\n-- retort:review  its SQL depended on data: check `users`  \r\n-- retort:upgrade\r\n",
        )
        .unwrap();
        assert_eq!(
            s.review,
            Some(Review {
                reason: "its SQL depended on data: check `users`".into(),
                line: 3,
            })
        );
        assert_eq!(parse_str(GOOD).unwrap().review, None);
    }

    #[test]
    fn header_directives_are_all_but_the_section_markers() {
        for name in ["revision", "transaction", "review"] {
            assert!(HEADER_DIRECTIVES.contains(&name), "{name}");
        }
        for name in ["upgrade", "downgrade"] {
            assert!(!HEADER_DIRECTIVES.contains(&name), "{name}");
        }
        assert_eq!(HEADER_DIRECTIVES.len() + 2, DIRECTIVES.len());
    }

    const PER_DIALECT: &str = "\
-- retort:revision a1
-- retort:message per dialect

-- retort:upgrade postgres
CREATE TABLE t (id serial PRIMARY KEY);

-- retort:upgrade sqlite, mysql
CREATE TABLE t (id integer PRIMARY KEY);

-- retort:downgrade
DROP TABLE t;
";

    #[test]
    fn sections_may_name_their_dialects() {
        let s = parse_str(PER_DIALECT).unwrap();
        let body = s.body().unwrap();
        let up = |d| body.section(Direction::Up, d).unwrap();
        assert_eq!(
            up(Dialect::Postgres).sql.trim(),
            "CREATE TABLE t (id serial PRIMARY KEY);"
        );
        assert_eq!(up(Dialect::Postgres).line, 5);
        assert_eq!(
            up(Dialect::Mysql).sql.trim(),
            "CREATE TABLE t (id integer PRIMARY KEY);"
        );
        assert_eq!(up(Dialect::Sqlite).line, 8);
        assert_eq!(
            body.section(Direction::Down, Dialect::Mysql).unwrap().line,
            11
        );
        assert!(body.upgrade().is_none());
        for dialect in Dialect::ALL {
            assert!(s.covers(Direction::Up, dialect) && s.covers(Direction::Down, dialect));
        }
        // Each dialect's checksum covers the header and what it runs: an
        // edit to PostgreSQL's section changes PostgreSQL's alone.
        let edited = parse_str(&PER_DIALECT.replace("serial", "bigserial")).unwrap();
        assert_ne!(
            edited.checksum_for(Dialect::Postgres),
            s.checksum_for(Dialect::Postgres)
        );
        assert_eq!(
            edited.checksum_for(Dialect::Sqlite),
            s.checksum_for(Dialect::Sqlite)
        );
        assert_eq!(
            edited.checksum_for(Dialect::Mysql),
            s.checksum_for(Dialect::Mysql)
        );
        assert_ne!(
            s.checksum_for(Dialect::Sqlite),
            s.checksum_for(Dialect::Postgres)
        );
        // The shared downgrade and the header count for every dialect.
        let edited =
            parse_str(&PER_DIALECT.replace("DROP TABLE t;", "DROP TABLE IF EXISTS t;")).unwrap();
        for dialect in Dialect::ALL {
            assert_ne!(edited.checksum_for(dialect), s.checksum_for(dialect));
        }
    }

    #[test]
    fn a_section_without_dialects_serves_the_others() {
        let text = "-- retort:revision a1\n-- retort:upgrade\nSELECT 1;\n-- retort:upgrade postgres\nSELECT 2;\n";
        let s = parse_str(text).unwrap();
        let body = s.body().unwrap();
        assert_eq!(
            body.section(Direction::Up, Dialect::Postgres).unwrap().sql,
            "SELECT 2;\n"
        );
        assert_eq!(
            body.section(Direction::Up, Dialect::Sqlite).unwrap().sql,
            "SELECT 1;\n"
        );
        assert!(!s.covers(Direction::Down, Dialect::Sqlite));
        // Only PostgreSQL: the others are not covered.
        let only =
            parse_str("-- retort:revision a1\n-- retort:upgrade postgres\nSELECT 2;\n").unwrap();
        assert!(only.covers(Direction::Up, Dialect::Postgres));
        assert!(!only.covers(Direction::Up, Dialect::Mysql));
        // A file without dialects keeps the whole-file checksum.
        let plain = parse_str(GOOD).unwrap();
        for dialect in Dialect::ALL {
            assert_eq!(plain.checksum_for(dialect), plain.checksum());
        }
    }

    #[test]
    fn dialect_section_errors() {
        for (text, expected) in [
            (
                "-- retort:revision a\n-- retort:upgrade oracle\n",
                "m/x.sql:2: `-- retort:upgrade oracle`: expected dialect names: `sqlite`, `postgres`, `mysql`",
            ),
            (
                "-- retort:revision a\n-- retort:upgrade postgres\n-- retort:upgrade sqlite postgres\n",
                "m/x.sql:3: `-- retort:upgrade postgres` section appears twice (first on line 2)",
            ),
            (
                "-- retort:revision a\n-- retort:upgrade\n-- retort:downgrade mysql\n-- retort:upgrade postgres\n",
                "m/x.sql:4: an upgrade section after the downgrade section of line 3: upgrade sections come first",
            ),
        ] {
            assert_eq!(parse_str(text).unwrap_err(), expected, "for {text:?}");
        }
    }

    #[test]
    fn a_revision_id_may_fill_the_version_column() {
        let id = "a123456789a123456789a123456789a1";
        assert_eq!(id.len(), super::super::MAX_REVISION_ID_LEN);
        let s = parse_str(&format!("-- retort:revision {id}\n-- retort:upgrade\n")).unwrap();
        assert_eq!(s.revision, id);
    }

    #[test]
    fn directives_inside_sql_strings_are_not_special_but_comments_are_fine() {
        let s = parse_str(
            "-- retort:revision a\n-- retort:upgrade\n-- plain comment\nSELECT '-- retort:x';\n",
        )
        .unwrap();
        assert!(s.body().unwrap().upgrade().unwrap().sql.contains("SELECT"));
    }

    #[test]
    fn a_checksummed_script_reads_its_file_again_and_refuses_a_changed_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sql");
        let text = "\u{feff}-- retort:revision a\n-- retort:upgrade\nSELECT 1;\n-- retort:downgrade\nSELECT 2;\n";
        std::fs::write(&path, text).unwrap();
        let s = parse_checksummed(text, &path).unwrap();
        assert!(s.reversible);
        assert_eq!(s.checksum(), checksum::checksum(text));
        assert_eq!(
            s.body().unwrap(),
            parse(text, &path).unwrap().body().unwrap()
        );
        assert_eq!(s.source().unwrap(), text);

        let s = parse_checksummed(text, &path).unwrap();
        std::fs::write(&path, text.replace("SELECT 1", "SELECT 3")).unwrap();
        let error = s.body().unwrap_err();
        assert_eq!(error.kind, Kind::ChangedSinceLoaded);
        assert_eq!(error.path, path);
        // Other line endings and trailing blanks are no change; the SQL is
        // taken from the text as read now.
        std::fs::write(&path, text.replace('\n', "  \r\n")).unwrap();
        let body = s.body().unwrap();
        assert_eq!(body.upgrade().unwrap().sql, "SELECT 1;  \r\n");
        assert_eq!(body.downgrade().unwrap().sql, "SELECT 2;  \r\n");

        let s = parse_checksummed(text, &path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(s.source().unwrap_err().kind, Kind::Unreadable(_)));
    }
}
