use std::fs;
use std::path::{Path, PathBuf};
use std::thread;

use super::RequestError;
use crate::Error;
use crate::graph::{Graph, Node};
use crate::script::{self, Script};

/// Below this many files, threads cost more than they save.
const PARALLEL_THRESHOLD: usize = 512;

/// Every `*.sql` file of each directory, in directory order, then by file name.
pub(super) fn list_files(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for dir in dirs {
        let entries = fs::read_dir(dir).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Request(RequestError::MissingDirectory { path: dir.clone() })
            } else {
                Error::io("read directory", dir, e)
            }
        })?;
        let mut in_dir = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read directory", dir, e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !name.ends_with(".sql") {
                continue;
            }
            let is_file = entry
                .file_type()
                .map_err(|e| Error::io("read", entry.path(), e))?
                .is_file();
            if is_file {
                in_dir.push(entry.path());
            }
        }
        in_dir.sort();
        files.extend(in_dir);
    }
    Ok(files)
}

fn read_one(path: &Path) -> Result<Script, Error> {
    let bytes = fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| script::ScriptError::new(path, None, script::ScriptErrorKind::NotUtf8))?;
    Ok(script::parse(&text, path)?)
}

/// Reads and parses every revision file; the first bad file (in file order)
/// is the error.
pub(super) fn read_scripts(dirs: &[PathBuf]) -> Result<Vec<Script>, Error> {
    let files = list_files(dirs)?;
    let workers = thread::available_parallelism().map_or(1, |n| n.get());
    if files.len() < PARALLEL_THRESHOLD || workers < 2 {
        return files.iter().map(|p| read_one(p)).collect();
    }
    let chunk = files.len().div_ceil(workers);
    let results: Vec<Result<Vec<Script>, Error>> = thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|p| read_one(p)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut scripts = Vec::with_capacity(files.len());
    for part in results {
        scripts.extend(part?);
    }
    Ok(scripts)
}

/// The graph of the scripts; node `i` is script `i`.
pub(super) fn build_graph(scripts: &[Script]) -> Result<Graph, Error> {
    let nodes = scripts
        .iter()
        .map(|s| Node {
            id: s.revision.clone(),
            parents: s.revises.clone(),
            depends_on: s.depends_on.clone(),
            branch_labels: s.branch_labels.clone(),
            origin: format!("`{}`", s.path.display()),
        })
        .collect();
    Ok(Graph::build(nodes)?)
}
