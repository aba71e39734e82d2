//! Running the capture script in the user's Python: the interpreter that
//! can import their revision files and Alembic.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::captured::{Answer, Capture};
use super::error::ImportError;
use super::{Direction, ImportEvent};

/// The capture script, written to a temporary directory for each run.
const SCRIPT: &str = include_str!("capture.py");

/// Progress lines the script writes on stderr start with this.
const PROGRESS: &str = "retort-import: ";

/// How much of the script's other stderr output is kept for errors.
const STDERR_KEPT: usize = 8_000;

/// An interpreter that runs.
#[derive(Debug, Clone)]
pub(crate) struct Python {
    program: PathBuf,
}

impl Python {
    /// The interpreter given, else `python3`, else `python` from `PATH`.
    pub(crate) fn find(given: Option<&Path>) -> Result<Python, ImportError> {
        let candidates: Vec<PathBuf> = match given {
            Some(path) => vec![path.to_path_buf()],
            None => vec!["python3".into(), "python".into()],
        };
        let mut tried = vec![];
        for program in candidates {
            let ran = Command::new(&program)
                .args([
                    "-c",
                    "import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            match ran {
                Ok(status) if status.success() => return Ok(Python { program }),
                Ok(_) => tried.push(format!("`{}` is older than Python 3.8", program.display())),
                Err(e) => tried.push(format!("`{}`: {e}", program.display())),
            }
        }
        Err(ImportError::NoPython {
            tried: tried.join("; "),
        })
    }

    pub(crate) fn name(&self) -> String {
        self.program.display().to_string()
    }

    /// Runs the capture script on `source` in `workdir` (a directory of
    /// retort's own), with the scratch database described by `database`,
    /// reporting each revision as it starts.
    pub(crate) fn capture(
        &self,
        workdir: &Path,
        source: &Path,
        dialect: &str,
        database: &str,
        on_event: &mut dyn FnMut(ImportEvent),
    ) -> Result<Capture, ImportError> {
        let script = workdir.join("capture.py");
        std::fs::write(&script, SCRIPT).map_err(|e| ImportError::io("write", &script, e))?;
        let out = workdir.join("capture.json");
        // Alembic is run from the directory of its configuration, as users
        // run it, so that `prepend_sys_path = .` finds their application.
        let cwd = if source.is_dir() {
            source
        } else {
            source.parent().unwrap_or(Path::new("."))
        };
        let mut child = Command::new(&self.program)
            .arg(&script)
            .arg(source)
            .arg(dialect)
            .current_dir(if cwd.as_os_str().is_empty() {
                Path::new(".")
            } else {
                cwd
            })
            .env("RETORT_IMPORT_OUT", &out)
            .env("RETORT_IMPORT_DB", database)
            // Importing the revision files must not leave __pycache__
            // directories beside them.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| ImportError::NoPython {
                tried: format!("`{}`: {e}", self.name()),
            })?;
        let mut other = String::new();
        if let Some(stderr) = child.stderr.take() {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                match line.strip_prefix(PROGRESS).and_then(progress) {
                    Some(event) => on_event(event),
                    None => {
                        other.push_str(&line);
                        other.push('\n');
                        if other.len() > STDERR_KEPT {
                            other.drain(..other.len() - STDERR_KEPT / 2);
                        }
                    }
                }
            }
        }
        let status = child
            .wait()
            .map_err(|e| ImportError::io("wait for", &self.program, e))?;
        let crashed = |status: String| ImportError::Crashed {
            python: self.name(),
            status,
            stderr: other.clone(),
        };
        let text = match std::fs::read_to_string(&out) {
            Ok(text) if status.success() => text,
            _ => return Err(crashed(status.to_string())),
        };
        let answer: Answer =
            serde_json::from_str(&text).map_err(|e| crashed(format!("unreadable result: {e}")))?;
        if let Some(failure) = answer.error {
            let detail = failure.detail.unwrap_or_default();
            return Err(match failure.kind.as_str() {
                "no_alembic" => ImportError::NoAlembic {
                    python: self.name(),
                    message: failure.message,
                },
                "no_driver" => ImportError::NoDriver {
                    python: self.name(),
                    message: failure.message,
                    package: detail,
                },
                "not_alembic" => ImportError::NotAlembic {
                    message: failure.message,
                },
                "alembic_load" => ImportError::Load {
                    message: failure.message,
                    detail,
                },
                _ => ImportError::Run {
                    message: failure.message,
                    detail,
                },
            });
        }
        answer
            .ok
            .ok_or_else(|| crashed("an empty result".to_owned()))
    }
}

/// `up 3 120 abc123` → the third of 120 upgrades, revision abc123.
fn progress(line: &str) -> Option<ImportEvent> {
    let mut words = line.split_whitespace();
    let direction = match words.next()? {
        "up" => Direction::Upgrade,
        "down" => Direction::Downgrade,
        _ => return None,
    };
    let index = words.next()?.parse().ok()?;
    let total = words.next()?.parse().ok()?;
    let revision = words.next()?.to_owned();
    Some(ImportEvent::Revision {
        direction,
        index,
        total,
        revision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_become_events() {
        let event = progress("down 2 7 ab12").expect("a progress line");
        assert_eq!(
            event,
            ImportEvent::Revision {
                direction: Direction::Downgrade,
                index: 2,
                total: 7,
                revision: "ab12".into()
            }
        );
        assert_eq!(progress("sideways 1 2 x"), None);
        assert_eq!(progress("up x 2 x"), None);
    }
}
