use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::RequestError;
use crate::Error;
use crate::graph::{Graph, NodeRef};
use crate::script::{self, Script};

/// Every `*.sql` file of each directory, in directory order, then by file name.
pub(super) fn list_files(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for dir in dirs {
        let entries = fs::read_dir(dir).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Request(RequestError::MissingDirectory { path: dir.clone() })
            } else if e.kind() == std::io::ErrorKind::NotADirectory {
                Error::Request(RequestError::NotADirectory { path: dir.clone() })
            } else {
                Error::io("read directory", dir, e)
            }
        })?;
        let mut in_dir = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read directory", dir, e))?;
            let name = entry.file_name();
            let shown = name.to_string_lossy();
            if shown.starts_with('.') || !shown.ends_with(".sql") {
                continue;
            }
            let file_type = entry
                .file_type()
                .map_err(|e| Error::io("read", entry.path(), e))?;
            // A link is followed: a link to a directory is skipped, and a
            // dangling one is kept so that reading it names it.
            let is_file = file_type.is_file()
                || (file_type.is_symlink()
                    && fs::metadata(entry.path()).map_or(true, |m| m.is_file()));
            if is_file {
                in_dir.push((name, entry.path()));
            }
        }
        // Within a directory the names alone give the order; comparing
        // paths would parse their components on every comparison.
        in_dir.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        files.extend(in_dir.into_iter().map(|(_, path)| path));
    }
    Ok(files)
}

/// One file parsed, keeping its text, or only its checksum (see
/// [`Script::source`]).
fn read_one(path: &Path, buffer: &mut Vec<u8>, checksummed: bool) -> Result<Script, Error> {
    // Plain reads into one reused, already zeroed buffer: `fs::read` and
    // `read_to_end` first ask for the file's size, a system call too many
    // when loading thousands of small files.
    let mut file = fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut len = 0;
    loop {
        if len == buffer.len() {
            buffer.resize((buffer.len() * 2).max(16 * 1024), 0);
        }
        match file.read(&mut buffer[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("read", path, e)),
        }
    }
    let text = script::decode(&buffer[..len], path)?;
    if checksummed {
        Ok(script::parse_checksummed(text, path)?)
    } else {
        Ok(script::parse(text, path)?)
    }
}

thread_local! {
    /// Each loading thread's read buffer, kept across the small chunks it
    /// takes: a new one per chunk would be zeroed again each time.
    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn read_all(paths: &[PathBuf], checksummed: bool) -> Result<Vec<Script>, Error> {
    BUFFER.with_borrow_mut(|buffer| {
        paths
            .iter()
            .map(|p| read_one(p, buffer, checksummed))
            .collect()
    })
}

/// Reads and parses every revision file, keeping each one's text or only
/// its checksum, while `side` runs on this thread; the first bad file (in
/// file order) is the error.
pub(super) fn read_scripts_beside<S>(
    dirs: &[PathBuf],
    checksums: bool,
    side: impl FnOnce() -> S,
) -> (Result<Vec<Script>, Error>, S) {
    let list = || list_files(dirs);
    let (parts, side) =
        crate::parallel::chunked_beside(list, |paths| read_all(paths, checksums), side);
    (parts.and_then(concat), side)
}

/// Reads and parses every revision file; the first bad file (in file order)
/// is the error.
pub(super) fn read_scripts(dirs: &[PathBuf]) -> Result<Vec<Script>, Error> {
    let files = list_files(dirs)?;
    concat(crate::parallel::chunked(&files, |paths| {
        read_all(paths, false)
    }))
}

/// The scripts of consecutive chunks, in order; the first error wins.
fn concat(parts: Vec<Result<Vec<Script>, Error>>) -> Result<Vec<Script>, Error> {
    let mut scripts =
        Vec::with_capacity(parts.iter().map(|p| p.as_ref().map_or(0, Vec::len)).sum());
    for part in parts {
        scripts.extend(part?);
    }
    Ok(scripts)
}

/// The graph of the scripts; node `i` is script `i`.
pub(super) fn build_graph(scripts: &[Script]) -> Result<Graph, Error> {
    Graph::build_from(
        scripts.len(),
        |i| NodeRef {
            id: &scripts[i].revision,
            parents: &scripts[i].revises,
            depends_on: &scripts[i].depends_on,
            branch_labels: &scripts[i].branch_labels,
        },
        |i| format!("`{}`", scripts[i].path.display()),
    )
    .map_err(Error::from)
}
