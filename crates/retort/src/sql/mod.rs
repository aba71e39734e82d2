//! stub splitter
#![allow(missing_docs)]
use crate::Dialect;
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    pub text: &'a str,
    pub start: usize,
    pub line: usize,
    pub column: usize,
    pub no_transaction: bool,
}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct SplitError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}
pub fn split(sql: &str, _d: Dialect) -> Result<Vec<Statement<'_>>, SplitError> {
    let mut out = Vec::new();
    let mut start = 0;
    for part in sql.split(';') {
        let t = part.trim();
        if !t.is_empty()
            && !t
                .lines()
                .all(|l| l.trim().is_empty() || l.trim().starts_with("--"))
        {
            let off = start + part.find(t).unwrap_or(0);
            let line = 1 + sql[..off].matches('\n').count();
            out.push(Statement {
                text: t,
                start: off,
                line,
                column: 1,
                no_transaction: false,
            });
        }
        start += part.len() + 1;
    }
    Ok(out)
}
pub fn excerpt(s: &str, max: usize) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect()
}
