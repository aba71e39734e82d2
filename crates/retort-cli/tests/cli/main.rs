//! Integration tests of the `retort` command line: each test runs the binary
//! on a project in a temporary directory and snapshots the transcript (exit
//! code, stdout, stderr). See `util` for the fixtures and the normalisation.

mod autogenerate; // `revision --autogenerate`, `check`, `schema dump` on SQLite
mod bad_files; // revision files that do not load: file and line, exit 2, JSON kind
mod completions; // `completions SHELL` and `man`, from the CLI definition
mod config; // `--config`, `-C`, discovery from a nested directory, no project
mod graph; // history/heads/branches/show on three heads, a 3-way merge, labels
mod init; // `init`, refusing to overwrite, and a new project's first revisions
mod pipe; // a closed stdout (`retort history | head -1`) exits 0 quietly
mod quickstart; // history/heads/branches/show on a copy of examples/quickstart
mod usage; // argument errors as text and as JSON documents, help, version
mod util; // the `Project` fixture and the transcript runner
mod write; // `revision` and `merge`: what they refuse and what they write
