//! `retort history | head -1`: a closed pipe ends the command quietly.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use crate::util::{CONFIG, Project};

/// A linear history long enough that its output cannot fit in a pipe's
/// buffer, so retort is still writing when the reader goes away.
fn long_history() -> Project {
    let project = Project::empty();
    project.write("retort.toml", CONFIG);
    let mut parent = String::new();
    for i in 0..1000 {
        let id = format!("r{i:04}");
        let revises = if parent.is_empty() {
            String::new()
        } else {
            format!("-- retort:revises {parent}\n")
        };
        project.write(
            &format!("migrations/{id}.sql"),
            &format!(
                "-- retort:revision {id}\n{revises}-- retort:message revision number {i} with a message long enough to fill the pipe\n-- retort:upgrade\n"
            ),
        );
        parent = id;
    }
    project
}

#[test]
fn closed_pipe_is_not_an_error() {
    let project = long_history();
    for args in [
        &["history"][..],
        &["history", "--verbose"],
        &["history", "--format", "json"],
    ] {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("retort"))
            .env("NO_COLOR", "1")
            .env_remove("DATABASE_URL")
            .arg("-C")
            .arg(project.root())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(
            first.contains("r0999") || first == "[\n",
            "{args:?}: {first:?}"
        );
        // `head -1` exits: the read end of the pipe closes.
        drop(stdout);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(stderr, "", "{args:?}: nothing on stderr");
        assert_eq!(status.code(), Some(0), "{args:?}: exit code");
    }
}

#[test]
fn full_output_of_the_long_history() {
    // The same project read to the end: the output really exceeds a pipe's
    // 64 KiB buffer, so the test above exercises a broken pipe.
    let output = crate::util::command()
        .arg("-C")
        .arg(long_history().root())
        .arg("history")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout.split(|&b| b == b'\n').count(), 1001);
    assert!(
        output.stdout.len() > 64 * 1024,
        "{} bytes",
        output.stdout.len()
    );
}
