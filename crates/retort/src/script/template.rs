//! The editable template new revision files are written from (the role of
//! Alembic's `script.py.mako`).
//!
//! Placeholders are `{{name}}`; `{{header}}` expands to the `-- retort:`
//! header lines, `{{upgrade}}` and `{{downgrade}}` to generated SQL (empty for
//! a hand-written revision). Anything else in the template is copied as is,
//! so a team can add its own comments, `SET` lines or a
//! `-- retort:transaction off` default.

use std::path::Path;

use super::{Header, ScriptError, ScriptErrorKind as Kind, render_header};

/// The template `retort init` writes and the one used when the configured
/// template file does not exist.
pub const DEFAULT: &str = "\
{{header}}

-- retort:upgrade
{{upgrade}}

-- retort:downgrade
{{downgrade}}
";

/// The SQL bodies to put in a new file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bodies {
    /// Upgrade SQL.
    pub upgrade: String,
    /// Downgrade SQL.
    pub downgrade: String,
}

/// Renders `template` (read from `path`, for errors) into a revision file.
pub fn render(
    template: &str,
    path: &Path,
    header: &Header,
    bodies: &Bodies,
) -> Result<String, ScriptError> {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let line = 1 + template[..template.len() - rest.len() + open]
            .matches('\n')
            .count();
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(ScriptError::new(
                path,
                Some(line),
                Kind::UnclosedPlaceholder,
            ));
        };
        let name = after[..close].trim();
        let value = match name {
            "header" => render_header(header),
            "revision" => header.revision.clone(),
            "revises" => header.revises.join(" "),
            "message" => header.message.clone(),
            "created" => header.created.clone(),
            "branch_labels" => header.branch_labels.join(" "),
            "depends_on" => header.depends_on.join(" "),
            "upgrade" => bodies.upgrade.trim_end().to_owned(),
            "downgrade" => bodies.downgrade.trim_end().to_owned(),
            other => {
                return Err(ScriptError::new(
                    path,
                    Some(line),
                    Kind::UnknownPlaceholder(other.to_owned()),
                ));
            }
        };
        out.push_str(&value);
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(tidy(&out))
}

/// Empty bodies leave blank runs; keep at most one blank line in a row and
/// end with exactly one newline.
pub(crate) fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::parse;

    fn header() -> Header {
        Header {
            revision: "ab12".into(),
            revises: vec!["cd34".into()],
            message: "add users".into(),
            created: "2026-11-21T14:30:00Z".into(),
            branch_labels: vec![],
            depends_on: vec![],
        }
    }

    #[test]
    fn default_template_round_trips() {
        let text = render(DEFAULT, Path::new("t"), &header(), &Bodies::default()).unwrap();
        assert_eq!(
            text,
            "-- retort:revision ab12\n-- retort:revises cd34\n-- retort:message add users\n-- retort:created 2026-11-21T14:30:00Z\n\n-- retort:upgrade\n\n-- retort:downgrade\n"
        );
        let script = parse(&text, Path::new("x.sql")).unwrap();
        assert_eq!(script.revision, "ab12");
        assert_eq!(script.revises, ["cd34"]);
        assert_eq!(script.message, "add users");
    }

    #[test]
    fn bodies_and_custom_lines() {
        let bodies = Bodies {
            upgrade: "CREATE TABLE t (id int);\n".into(),
            downgrade: "DROP TABLE t;".into(),
        };
        let template = "{{header}}\n-- retort:transaction off\n-- by {{ message }}\n\n-- retort:upgrade\n{{upgrade}}\n\n-- retort:downgrade\n{{downgrade}}\n";
        let text = render(template, Path::new("t"), &header(), &bodies).unwrap();
        let script = parse(&text, Path::new("x.sql")).unwrap();
        assert!(!script.transactional);
        let body = script.body().unwrap();
        assert_eq!(body.upgrade().unwrap().sql, "CREATE TABLE t (id int);\n\n");
        assert_eq!(body.downgrade().unwrap().sql, "DROP TABLE t;\n");
        assert!(text.contains("-- by add users\n"));
    }

    #[test]
    fn template_errors() {
        let err = render(
            "{{header}}\n{{nope}}\n",
            Path::new("t.tmpl"),
            &header(),
            &Bodies::default(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "t.tmpl:2: unknown placeholder `{{nope}}`");
        let err = render(
            "x\n{{header",
            Path::new("t.tmpl"),
            &header(),
            &Bodies::default(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "t.tmpl:2: `{{` without a closing `}}`");
    }
}
