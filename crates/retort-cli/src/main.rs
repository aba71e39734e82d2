//! The `retort` binary: parses arguments, calls the library, prints.

mod args;
mod commands;
mod json;
mod output;
mod render;

use std::io;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use args::{Cli, Format};
use output::Failure;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    let format = cli.global.format;
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`retort history | head`) is not a failure.
        Err(failure) if failure.broken_pipe => ExitCode::SUCCESS,
        Err(failure) => failure.report(format),
    }
}

/// clap's own rendering for help and version; for real usage errors the same
/// text, or a JSON error document when `--format json` was asked for.
fn usage_error(error: &clap::Error) -> ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) || !json_requested()
    {
        let _ = error.print();
        return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(output::EXIT_USAGE));
    }
    // clap's message without its usage lines, on one line: "the following
    // required arguments were not provided: <REVS>...".
    let rendered = error.render().to_string();
    let message = rendered
        .split("\nUsage:")
        .next()
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .replace(": <", " <");
    let message = if message.is_empty() {
        "invalid arguments".to_owned()
    } else {
        message
    };
    Failure::usage(message, Some("run `retort --help` for usage".into())).report(Format::Json)
}

fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--format=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json")
}

impl From<io::ErrorKind> for Failure {
    fn from(kind: io::ErrorKind) -> Self {
        Failure::from(io::Error::from(kind))
    }
}
