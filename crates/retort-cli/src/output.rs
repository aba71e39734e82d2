//! Where output goes: data on stdout (text, JSON or DOT), errors on stderr
//! as text or on stdout as a JSON document when `--format json` is asked for.

use std::io::{self, Write};
use std::process::ExitCode;

use retort::Diagnostic as _;
use serde::Serialize;

use crate::args::Format;
use crate::json;

/// Exit codes (documented in docs/cli.md).
pub(crate) const EXIT_FAILURE: u8 = 1;
pub(crate) const EXIT_USAGE: u8 = 2;
pub(crate) const EXIT_CHECK: u8 = 3;

/// Writes command output in the chosen format.
#[derive(Debug)]
pub(crate) struct Printer {
    pub(crate) format: Format,
}

impl Printer {
    /// Prints text (text format) or the JSON document (json format).
    pub(crate) fn emit<T: Serialize>(
        &self,
        text: impl FnOnce() -> String,
        data: impl FnOnce() -> T,
    ) -> io::Result<()> {
        match self.format {
            Format::Json => write_json(&data()),
            Format::Text | Format::Dot => write_stdout(&text()),
        }
    }
}

/// One JSON document on stdout.
pub(crate) fn write_json(doc: &impl Serialize) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(doc).map_err(io::Error::other)?;
    text.push('\n');
    write_stdout(&text)
}

pub(crate) fn write_stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// A failure to report: message, hint, stable kind and exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    /// Set when the command already printed its JSON document: only the
    /// exit code is left to give.
    pub(crate) quiet: bool,
    /// The reader of stdout went away (`retort history | head`).
    pub(crate) broken_pipe: bool,
    pub(crate) kind: String,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    pub(crate) code: u8,
    /// The environment in use (`--env`, `RETORT_ENV`), named with the
    /// error.
    pub(crate) environment: Option<String>,
}

impl From<retort::Error> for Failure {
    fn from(error: retort::Error) -> Self {
        let code = match error.class() {
            retort::ErrorClass::Input => EXIT_USAGE,
            retort::ErrorClass::Runtime => EXIT_FAILURE,
        };
        Failure {
            quiet: false,
            broken_pipe: false,
            kind: error.kind().to_owned(),
            message: error.to_string(),
            hint: error.hint(),
            code,
            environment: None,
        }
    }
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        Failure {
            quiet: false,
            broken_pipe: error.kind() == io::ErrorKind::BrokenPipe,
            kind: "io".into(),
            message: format!("cannot write output: {error}"),
            hint: None,
            code: EXIT_FAILURE,
            environment: None,
        }
    }
}

impl Failure {
    fn new(kind: &str, message: impl Into<String>, hint: Option<String>, code: u8) -> Self {
        Failure {
            quiet: false,
            broken_pipe: false,
            kind: kind.to_owned(),
            message: message.into(),
            hint,
            code,
            environment: None,
        }
    }

    /// A destructive command run without `--yes` (exit code 2).
    pub(crate) fn confirmation(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Failure::new(
            "confirmation_required",
            message,
            Some(hint.into()),
            EXIT_USAGE,
        )
    }

    /// Bad arguments (exit code 2).
    pub(crate) fn usage(message: impl Into<String>, hint: Option<String>) -> Self {
        Failure::new("usage", message, hint, EXIT_USAGE)
    }

    /// A failure while running (exit code 1).
    pub(crate) fn runtime(kind: &str, message: impl Into<String>, hint: Option<String>) -> Self {
        Failure::new(kind, message, hint, EXIT_FAILURE)
    }

    /// A check found a problem (exit code 3).
    pub(crate) fn check(kind: &str, message: impl Into<String>, hint: Option<String>) -> Self {
        Failure::new(kind, message, hint, EXIT_CHECK)
    }

    pub(crate) fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// The failure, naming `environment` when one is in use.
    pub(crate) fn in_environment(mut self, environment: Option<String>) -> Self {
        self.environment = environment;
        self
    }

    /// Prints the failure and gives the exit code.
    pub(crate) fn report(&self, format: Format) -> ExitCode {
        if self.quiet {
            return ExitCode::from(self.code);
        }
        match format {
            Format::Json => {
                let _ = write_json(&json::Error {
                    error: json::ErrorBody {
                        kind: &self.kind,
                        message: &self.message,
                        hint: self.hint.as_deref(),
                        environment: self.environment.as_deref(),
                    },
                });
            }
            Format::Text | Format::Dot => {
                let mut text = format!("error: {}\n", self.message);
                if let Some(hint) = &self.hint {
                    text.push_str(&format!("hint: {hint}\n"));
                }
                if let Some(environment) = &self.environment {
                    text.push_str(&format!("environment: {environment}\n"));
                }
                let _ = io::stderr().lock().write_all(text.as_bytes());
            }
        }
        ExitCode::from(self.code)
    }
}
