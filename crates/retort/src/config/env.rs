//! The environment a configuration is read in: the process environment plus
//! the `.env` file beside `retort.toml`, and `${VAR}` interpolation.
//!
//! The process environment is only ever read, never changed.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::ConfigError;

/// A snapshot of environment variables: the process environment, then `.env`.
///
/// A variable set in the process environment wins over the same one in
/// `.env`, as with dotenv. `Debug` shows variable names, never values.
#[derive(Clone, Default)]
pub struct Env {
    process: BTreeMap<String, String>,
    dotenv: BTreeMap<String, String>,
    dotenv_path: Option<PathBuf>,
}

impl Env {
    /// The current process environment (variables that are not UTF-8 are skipped).
    pub fn from_process() -> Env {
        let process = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Env {
            process,
            ..Env::default()
        }
    }

    /// Variables that play the part of the process environment, for tests and embedding.
    pub fn from_pairs<I, K, V>(pairs: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env {
            process: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..Env::default()
        }
    }

    /// Add the variables of the `.env` file at `path`; a missing file adds nothing.
    pub fn with_dotenv_file(self, path: &Path) -> Result<Env, ConfigError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = crate::text::utf8(&bytes).map_err(|line| ConfigError::DotEnv {
                    path: path.to_path_buf(),
                    line,
                    message: "the file is not valid UTF-8".to_owned(),
                })?;
                self.with_dotenv_str(path, text)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(self),
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Add the variables of `.env` text; `path` is only used in errors and [`Env::dotenv_path`].
    pub fn with_dotenv_str(mut self, path: &Path, text: &str) -> Result<Env, ConfigError> {
        let pairs = parse_dotenv(text).map_err(|(line, message)| ConfigError::DotEnv {
            path: path.to_path_buf(),
            line,
            message,
        })?;
        self.dotenv.extend(pairs);
        self.dotenv_path = Some(path.to_path_buf());
        Ok(self)
    }

    /// The value of `name`: from the process environment, else from `.env`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_process(name).or_else(|| self.get_dotenv(name))
    }

    /// The value of `name` in the process environment only.
    pub fn get_process(&self, name: &str) -> Option<&str> {
        self.process.get(name).map(String::as_str)
    }

    /// The value of `name` in the `.env` file only.
    pub fn get_dotenv(&self, name: &str) -> Option<&str> {
        self.dotenv.get(name).map(String::as_str)
    }

    /// The `.env` file that was read, if one was.
    pub fn dotenv_path(&self) -> Option<&Path> {
        self.dotenv_path.as_deref()
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("process", &self.process.len())
            .field("dotenv", &self.dotenv.keys().collect::<Vec<_>>())
            .field("dotenv_path", &self.dotenv_path)
            .finish()
    }
}

/// Whether `name` is a variable name: `[A-Za-z_][A-Za-z0-9_]*`.
fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Parse `.env` text into pairs in file order; an error is `(line, message)`.
fn parse_dotenv(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines[i].trim_start();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
            _ => line,
        };
        let Some(eq) = line.find('=') else {
            return Err((number, "expected `KEY=VALUE`".to_owned()));
        };
        let key = line[..eq].trim_end();
        if !valid_name(key) {
            return Err((
                number,
                format!(
                    "invalid variable name `{key}`: use letters, digits and `_`, not starting with a digit"
                ),
            ));
        }
        let raw = &line[eq + 1..];
        let trimmed = raw.trim_start_matches([' ', '\t']);
        let value = match trimmed.chars().next() {
            Some(quote @ ('\'' | '"')) => {
                let mut segment = &trimmed[1..];
                let mut value = String::new();
                loop {
                    match scan_quoted(segment, quote, &mut value) {
                        Some(after) => {
                            let after = after.trim_start();
                            if !after.is_empty() && !after.starts_with('#') {
                                return Err((
                                    i,
                                    "unexpected text after the closing quote".to_owned(),
                                ));
                            }
                            break;
                        }
                        None => {
                            // The value goes on over the next line.
                            let Some(next) = lines.get(i) else {
                                return Err((number, format!("unterminated `{quote}` quote")));
                            };
                            value.push('\n');
                            segment = next;
                            i += 1;
                        }
                    }
                }
                value
            }
            _ => {
                let end = raw
                    .char_indices()
                    .find(|&(j, c)| c == '#' && raw[..j].ends_with([' ', '\t']))
                    .map_or(raw.len(), |(j, _)| j);
                raw[..end].trim().to_owned()
            }
        };
        pairs.push((key.to_owned(), value));
    }
    Ok(pairs)
}

/// Append the quoted text of `segment` to `value` up to the closing `quote`;
/// return what follows it, or `None` when the line ends first.
fn scan_quoted<'a>(segment: &'a str, quote: char, value: &mut String) -> Option<&'a str> {
    let mut chars = segment.char_indices();
    while let Some((j, c)) = chars.next() {
        if c == quote {
            return Some(&segment[j + 1..]);
        }
        if c == '\\' && quote == '"' {
            match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, 't')) => value.push('\t'),
                Some((_, e @ ('"' | '\\'))) => value.push(e),
                Some((_, other)) => {
                    value.push('\\');
                    value.push(other);
                }
                None => value.push('\\'),
            }
        } else {
            value.push(c);
        }
    }
    None
}

/// Why a `${VAR}` interpolation failed. Messages never contain values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InterpolateError {
    /// `${VAR}` without a default, and `VAR` is not set.
    #[error("environment variable `{name}` is not set")]
    Unset {
        /// The variable.
        name: String,
    },
    /// `${` without its `}`.
    #[error("unterminated `${{` at character {column}")]
    Unterminated {
        /// 1-based character position of the `$`.
        column: usize,
    },
    /// `${...}` whose name is not `[A-Za-z_][A-Za-z0-9_]*`.
    #[error("invalid variable name `{name}` in `${{...}}`")]
    InvalidName {
        /// The name as written.
        name: String,
    },
    /// An operator other than `:-`, such as `${VAR-x}` or `${VAR:?x}`.
    #[error(
        "unsupported `${{{name}{operator}...}}`: only `${{VAR}}` and `${{VAR:-default}}` are supported"
    )]
    Unsupported {
        /// The variable.
        name: String,
        /// The operator as written.
        operator: String,
    },
}

impl InterpolateError {
    /// A suggestion for fixing the text, if there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            InterpolateError::Unset { name } => {
                Some(format!("set `{name}` or write `${{{name}:-default}}`"))
            }
            InterpolateError::Unterminated { .. } => {
                Some("close it with `}`, or write `$$` for a literal `$`".to_owned())
            }
            InterpolateError::InvalidName { .. } | InterpolateError::Unsupported { .. } => {
                Some("write `$$` for a literal `$`".to_owned())
            }
        }
    }
}

/// Replace `${VAR}` and `${VAR:-default}` in `text` from `env`; `$$` is a literal `$`.
///
/// `${VAR:-default}` uses the default when `VAR` is unset or empty, like a
/// shell, and the default may itself contain `${...}`. A `$` followed by
/// anything else than `{` or `$` is kept as is.
pub fn interpolate(text: &str, env: &Env) -> Result<String, InterpolateError> {
    let mut parser = Interpolator { text, pos: 0, env };
    parser.run(None, true)
}

struct Interpolator<'a> {
    text: &'a str,
    pos: usize,
    env: &'a Env,
}

impl Interpolator<'_> {
    /// Expand up to the end, or up to the `}` closing the `${` at `open`.
    /// With `evaluate` false only the syntax is checked (an unused default).
    fn run(&mut self, open: Option<usize>, evaluate: bool) -> Result<String, InterpolateError> {
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            let next = if open.is_some() {
                rest.find(['$', '}'])
            } else {
                rest.find('$')
            };
            let Some(i) = next else {
                if let Some(open) = open {
                    return Err(self.unterminated(open));
                }
                out.push_str(rest);
                self.pos = self.text.len();
                return Ok(out);
            };
            out.push_str(&rest[..i]);
            self.pos += i;
            let rest = &self.text[self.pos..];
            if rest.starts_with('}') {
                self.pos += 1;
                return Ok(out);
            }
            if rest.starts_with("$$") {
                out.push('$');
                self.pos += 2;
            } else if rest.starts_with("${") {
                let start = self.pos;
                self.pos += 2;
                let value = self.expression(start, evaluate)?;
                out.push_str(&value);
            } else {
                out.push('$');
                self.pos += 1;
            }
        }
    }

    /// After `${` (at `open`): `NAME}` or `NAME:-default}`.
    fn expression(&mut self, open: usize, evaluate: bool) -> Result<String, InterpolateError> {
        let rest = &self.text[self.pos..];
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        let after = &rest[name_len..];
        if after.is_empty() {
            return Err(self.unterminated(open));
        }
        if valid_name(name) {
            if after.starts_with('}') {
                self.pos += name_len + 1;
                let value = if evaluate {
                    self.env.get(name)
                } else {
                    Some("")
                };
                return value
                    .map(str::to_owned)
                    .ok_or_else(|| InterpolateError::Unset {
                        name: name.to_owned(),
                    });
            }
            if after.starts_with(":-") {
                self.pos += name_len + 2;
                let value = if evaluate { self.env.get(name) } else { None };
                let use_default = value.is_none_or(str::is_empty);
                let default = self.run(Some(open), evaluate && use_default)?;
                return Ok(match value {
                    Some(value) if !value.is_empty() => value.to_owned(),
                    _ => default,
                });
            }
            if after.starts_with(['-', '?', '+', '=', ':']) {
                let operator: String = after.chars().take_while(|&c| c != '}').take(2).collect();
                return Err(InterpolateError::Unsupported {
                    name: name.to_owned(),
                    operator,
                });
            }
        }
        if !rest.contains('}') {
            return Err(self.unterminated(open));
        }
        let end = rest.find([':', '}']).unwrap_or(rest.len());
        Err(InterpolateError::InvalidName {
            name: rest[..end].to_owned(),
        })
    }

    fn unterminated(&self, open: usize) -> InterpolateError {
        InterpolateError::Unterminated {
            column: self.text[..open].chars().count() + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::from_pairs([("HOST", "db.local"), ("EMPTY", ""), ("PORT", "5432")])
    }

    fn ok(text: &str) -> String {
        match interpolate(text, &env()) {
            Ok(s) => s,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn err(text: &str) -> InterpolateError {
        match interpolate(text, &env()) {
            Ok(s) => panic!("{text} gave {s}"),
            Err(e) => e,
        }
    }

    #[test]
    fn interpolation() {
        let table = [
            ("plain", "plain"),
            ("", ""),
            (
                "postgres://${HOST}:${PORT}/app",
                "postgres://db.local:5432/app",
            ),
            ("${HOST:-other}", "db.local"),
            ("${UNSET:-fallback}", "fallback"),
            ("${EMPTY:-fallback}", "fallback"),
            ("${EMPTY}", ""),
            ("${UNSET:-}", ""),
            ("${UNSET:-a:b/c}", "a:b/c"),
            ("${UNSET:-${HOST}}", "db.local"),
            ("${UNSET:-x${UNSET2:-y}z}", "xyz"),
            ("${HOST:-${UNSET}}", "db.local"),
            ("$$", "$"),
            ("a$$b$${HOST}", "a$b${HOST}"),
            ("$HOST", "$HOST"),
            ("pa$s", "pa$s"),
            ("end$", "end$"),
            ("${UNSET:-$$}", "$"),
            ("ünï${HOST}cødé", "ünïdb.localcødé"),
        ];
        for (text, expected) in table {
            assert_eq!(ok(text), expected, "{text}");
        }
    }

    #[test]
    fn interpolation_errors() {
        let table = [
            ("${UNSET}", "environment variable `UNSET` is not set"),
            ("x${HOST", "unterminated `${` at character 2"),
            ("${", "unterminated `${` at character 1"),
            ("${UNSET:-abc", "unterminated `${` at character 1"),
            ("${UNSET:-${HOST}", "unterminated `${` at character 1"),
            ("${}", "invalid variable name `` in `${...}`"),
            ("${1X}", "invalid variable name `1X` in `${...}`"),
            ("${A B}", "invalid variable name `A B` in `${...}`"),
            ("${A/b", "unterminated `${` at character 1"),
            (
                "${A-b}",
                "unsupported `${A-b...}`: only `${VAR}` and `${VAR:-default}` are supported",
            ),
            (
                "${A:?b}",
                "unsupported `${A:?...}`: only `${VAR}` and `${VAR:-default}` are supported",
            ),
            (
                "${UNSET:-${UNSET2}}",
                "environment variable `UNSET2` is not set",
            ),
        ];
        for (text, message) in table {
            assert_eq!(err(text).to_string(), message, "{text}");
        }
        assert_eq!(
            err("${DB_HOST}").hint().as_deref(),
            Some("set `DB_HOST` or write `${DB_HOST:-default}`")
        );
    }

    fn dotenv(text: &str) -> Env {
        match Env::default().with_dotenv_str(Path::new("/p/.env"), text) {
            Ok(env) => env,
            Err(e) => panic!("{e}"),
        }
    }

    fn dotenv_err(text: &str) -> String {
        match Env::default().with_dotenv_str(Path::new("/p/.env"), text) {
            Ok(env) => panic!("parsed: {env:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn dotenv_syntax() {
        let env = dotenv(concat!(
            "\u{feff}# a comment\n",
            "\n",
            "PLAIN=value\n",
            "SPACED =  spaced value  \r\n",
            "export EXPORTED=yes\n",
            "  export\tTABBED=1\n",
            "COMMENTED=abc # trailing comment\n",
            "HASH=a#b\n",
            "EMPTY=\n",
            "EMPTY_COMMENT= # nothing\n",
            "SINGLE='lit $X \\n # not a comment' # comment\n",
            "DOUBLE=\"a\\nb \\\"q\\\" \\\\ \\x # kept\"\n",
            "MULTI=\"line one\n",
            "line two\"\n",
            "URL=postgres://u:p@h/db?x=1\n",
            "DOLLAR=pa$word ${HOME}\n",
            "EQ=a=b\n",
            "exporter=not export\n",
            "DUP=first\n",
            "DUP=second",
        ));
        let expect = [
            ("PLAIN", "value"),
            ("SPACED", "spaced value"),
            ("EXPORTED", "yes"),
            ("TABBED", "1"),
            ("COMMENTED", "abc"),
            ("HASH", "a#b"),
            ("EMPTY", ""),
            ("EMPTY_COMMENT", ""),
            ("SINGLE", "lit $X \\n # not a comment"),
            ("DOUBLE", "a\nb \"q\" \\ \\x # kept"),
            ("MULTI", "line one\nline two"),
            ("URL", "postgres://u:p@h/db?x=1"),
            // Taken as written: a password with `$` stays whole (see
            // docs/dependencies.md).
            ("DOLLAR", "pa$word ${HOME}"),
            ("EQ", "a=b"),
            ("exporter", "not export"),
            ("DUP", "second"),
        ];
        for (name, value) in expect {
            assert_eq!(env.get(name), Some(value), "{name}");
        }
        assert_eq!(env.dotenv_path(), Some(Path::new("/p/.env")));
    }

    #[test]
    fn dotenv_errors() {
        let table = [
            (
                "A=1\n\nnot a pair\n",
                "cannot parse `/p/.env:3`: expected `KEY=VALUE`",
            ),
            (
                "1A=x",
                "cannot parse `/p/.env:1`: invalid variable name `1A`: use letters, digits and `_`, not starting with a digit",
            ),
            (
                "A=1\nB='open\nC=2\n",
                "cannot parse `/p/.env:2`: unterminated `'` quote",
            ),
            // The line number, never the line: it may hold a password.
            (
                "PASSWORD=\"hunter2\n",
                "cannot parse `/p/.env:1`: unterminated `\"` quote",
            ),
            (
                "A=\"x\" y\n",
                "cannot parse `/p/.env:1`: unexpected text after the closing quote",
            ),
            (
                "A=\"x\ny\" z\n",
                "cannot parse `/p/.env:2`: unexpected text after the closing quote",
            ),
            (
                "=x",
                "cannot parse `/p/.env:1`: invalid variable name ``: use letters, digits and `_`, not starting with a digit",
            ),
        ];
        for (text, message) in table {
            assert_eq!(dotenv_err(text), message, "{text}");
        }
    }

    #[test]
    fn process_env_wins_over_dotenv() {
        let env = match Env::from_pairs([("A", "process"), ("EMPTY", "")])
            .with_dotenv_str(Path::new(".env"), "A=dotenv\nB=dotenv\nEMPTY=dotenv\n")
        {
            Ok(env) => env,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(env.get("A"), Some("process"));
        assert_eq!(env.get("B"), Some("dotenv"));
        // Set-but-empty in the process still wins, as with dotenv.
        assert_eq!(env.get("EMPTY"), Some(""));
        assert_eq!(env.get_dotenv("A"), Some("dotenv"));
        assert_eq!(env.get_process("B"), None);
        assert_eq!(env.get("C"), None);
        let debug = format!("{env:?}");
        assert!(!debug.contains("\"process\""), "{debug}");
        assert!(!debug.contains("\"dotenv\""), "{debug}");
    }

    #[test]
    fn dotenv_file_missing_is_empty() {
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => panic!("{e}"),
        };
        let env = Env::default().with_dotenv_file(&dir.path().join(".env"));
        assert!(matches!(env, Ok(ref e) if e.dotenv_path().is_none()));
    }
}
