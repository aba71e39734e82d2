use std::fs;
use std::io::Read;
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
        // Comparing whole paths walks their components; the names alone
        // give the same order within a directory, twenty times faster.
        in_dir.sort_unstable_by(|a: &PathBuf, b: &PathBuf| a.file_name().cmp(&b.file_name()));
        files.extend(in_dir);
    }
    Ok(files)
}

fn read_one(path: &Path, buffer: &mut Vec<u8>) -> Result<Script, Error> {
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
    let text = std::str::from_utf8(&buffer[..len])
        .map_err(|_| script::ScriptError::new(path, None, script::ScriptErrorKind::NotUtf8))?;
    Ok(script::parse(text, path)?)
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<Script>, Error> {
    let mut buffer = Vec::new();
    paths.iter().map(|p| read_one(p, &mut buffer)).collect()
}

/// Reads and parses every revision file; the first bad file (in file order)
/// is the error.
pub(super) fn read_scripts(dirs: &[PathBuf]) -> Result<Vec<Script>, Error> {
    let files = list_files(dirs)?;
    let workers = thread::available_parallelism().map_or(1, |n| n.get());
    if files.len() < PARALLEL_THRESHOLD || workers < 2 {
        return read_all(&files);
    }
    let chunk = files.len().div_ceil(workers);
    let results: Vec<Result<Vec<Script>, Error>> = thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || read_all(part)))
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
    // Origins only appear in errors: build without them, and again with
    // them when there is an error to report.
    Graph::build(nodes(scripts, false))
        .or_else(|_| Graph::build(nodes(scripts, true)))
        .map_err(Error::from)
}

fn nodes(scripts: &[Script], with_origin: bool) -> Vec<Node> {
    scripts
        .iter()
        .map(|s| Node {
            id: s.revision.clone(),
            parents: s.revises.clone(),
            depends_on: s.depends_on.clone(),
            branch_labels: s.branch_labels.clone(),
            origin: if with_origin {
                format!("`{}`", s.path.display())
            } else {
                String::new()
            },
        })
        .collect()
}
