//! `embed_migrations!`, re-exported by the `retort` crate: use it from
//! there (`retort::embed_migrations!`), which documents it.
//!
//! The macro lists the revision files at compile time and writes an
//! `include_str!` for each, so that the compiler reads them (and rebuilds
//! when one changes); parsing and checking them is the `retort` crate's,
//! when the project is first used, exactly as for files on disk. It is
//! written without `syn` or `quote`: its input is one or more string
//! literals, and its output is code text.

use std::ffi::OsString;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use proc_macro::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

/// What the revision directories are called when the macro names none.
const DEFAULT_DIR: &str = "migrations";

/// The file beside the directories whose settings are embedded too.
const CONFIG_FILE: &str = "retort.toml";

/// Embeds the revision files of one or more directories (relative to the
/// crate's `Cargo.toml`; `"migrations"` when none is named) into the
/// binary. See `retort::embed_migrations!`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(code) => code
            .parse()
            .unwrap_or_else(|e| compile_error(&format!("embed_migrations!: {e}"))),
        Err(message) => compile_error(&format!("embed_migrations!: {message}")),
    }
}

fn expand(input: TokenStream) -> Result<String, String> {
    let mut dirs = directory_names(input)?;
    if dirs.is_empty() {
        dirs.push(DEFAULT_DIR.to_owned());
    }
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .ok_or("CARGO_MANIFEST_DIR is not set: the macro runs under cargo")?;
    let mut files = String::new();
    for (index, dir) in dirs.iter().enumerate() {
        for name in sql_files(&manifest.join(dir))? {
            let shown = name
                .to_str()
                .ok_or_else(|| format!("`{dir}/{}`: the file name is not UTF-8", name.display()))?;
            let path = manifest.join(dir).join(shown);
            write!(
                files,
                "::retort::embedded::EmbeddedFile {{ dir: {index}, name: {shown:?}, text: ::core::include_str!({}) }},",
                literal(&path)?
            )
            .map_err(|e| e.to_string())?;
        }
    }
    // The settings of the project the directories belong to: the
    // `retort.toml` beside the first one, as `retort init` lays it out.
    let first = manifest.join(&dirs[0]);
    let config_path = first.parent().map(|p| p.join(CONFIG_FILE));
    let config = match config_path.filter(|p| p.is_file()) {
        Some(path) => format!(
            "::core::option::Option::Some(::core::include_str!({}))",
            literal(&path)?
        ),
        None => "::core::option::Option::None".to_owned(),
    };
    let dir_list: Vec<String> = dirs.iter().map(|d| format!("{d:?}")).collect();
    Ok(format!(
        "::retort::Migrations::embedded(&::retort::embedded::Embedded {{ \
             config: {config}, dirs: &[{}], files: &[{files}] }})",
        dir_list.join(", ")
    ))
}

/// The string literals of the input, separated by commas.
fn directory_names(input: TokenStream) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut expect_name = true;
    for token in input {
        match token {
            TokenTree::Literal(literal) if expect_name => {
                names.push(unquote(&literal.to_string())?);
                expect_name = false;
            }
            TokenTree::Punct(p) if p.as_char() == ',' && !expect_name => expect_name = true,
            other => {
                return Err(format!(
                    "expected directory names as string literals, like `embed_migrations!(\"migrations\")`, found `{other}`"
                ));
            }
        }
    }
    Ok(names)
}

/// The text of a plain or raw string literal, as written in the source.
fn unquote(literal: &str) -> Result<String, String> {
    let not_a_string =
        || format!("expected a string literal naming a directory, found `{literal}`");
    if let Some(raw) = literal.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let inner = raw
            .get(hashes..raw.len() - hashes)
            .and_then(|s| s.strip_prefix('"'))
            .and_then(|s| s.strip_suffix('"'))
            .ok_or_else(not_a_string)?;
        return Ok(inner.to_owned());
    }
    let inner = literal
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(not_a_string)?;
    if inner.contains('\\') {
        return Err(format!(
            "write `{literal}` without escapes (a raw string `r\"…\"` takes any path)"
        ));
    }
    Ok(inner.to_owned())
}

/// The `*.sql` files of `dir` that the directory loader reads: not hidden,
/// files (or links to files), sorted by name.
fn sql_files(dir: &Path) -> Result<Vec<OsString>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the directory `{}`: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
        let name = entry.file_name();
        let shown = name.to_string_lossy();
        if shown.starts_with('.') || !shown.ends_with(".sql") {
            continue;
        }
        if std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
            names.push(name);
        }
    }
    names.sort_unstable();
    Ok(names)
}

/// `path` as a string literal for `include_str!`.
fn literal(path: &Path) -> Result<String, String> {
    path.to_str()
        .map(|p| format!("{p:?}"))
        .ok_or_else(|| format!("`{}`: the path is not UTF-8", path.display()))
}

/// `::core::compile_error!("message")`, pointing at the macro call.
fn compile_error(message: &str) -> TokenStream {
    let span = Span::call_site();
    let mut path = TokenStream::new();
    for (i, part) in ["core", "compile_error"].into_iter().enumerate() {
        let mut colons = Punct::new(':', Spacing::Joint);
        colons.set_span(span);
        path.extend([
            TokenTree::Punct(colons),
            TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        ]);
        path.extend([TokenTree::Ident(Ident::new(part, span))]);
        if i == 1 {
            path.extend([TokenTree::Punct(Punct::new('!', Spacing::Alone))]);
        }
    }
    let message: TokenStream = TokenTree::Literal(proc_macro::Literal::string(message)).into();
    path.extend([TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        message,
    ))]);
    path
}

#[cfg(test)]
mod tests {
    use super::unquote;

    #[test]
    fn directory_names_are_plain_or_raw_strings_without_escapes() {
        assert_eq!(unquote("\"migrations\"").unwrap(), "migrations");
        assert_eq!(unquote("r\"db\\migrations\"").unwrap(), "db\\migrations");
        assert_eq!(unquote("r#\"a \"b\"\"#").unwrap(), "a \"b\"");
        assert!(
            unquote("\"a\\nb\"")
                .unwrap_err()
                .contains("without escapes")
        );
        assert!(
            unquote("42")
                .unwrap_err()
                .contains("expected a string literal")
        );
        assert!(unquote("b\"bytes\"").is_err());
    }
}
