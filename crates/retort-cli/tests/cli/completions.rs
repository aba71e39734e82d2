//! `completions SHELL` and `man`: generated from the CLI's definition, so
//! they know every command and option the binary has. The bash script is
//! checked by bash itself, and the man page by `man`, where installed.

use std::process::Command;

use assert_cmd::prelude::*;

fn retort(args: &[&str]) -> String {
    let output = Command::cargo_bin("retort")
        .expect("the retort binary is built")
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn completion_scripts_know_every_command() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = retort(&["completions", shell]);
        // fish spells a long option `-l env`.
        let env = if shell == "fish" { "-l env" } else { "--env" };
        for word in ["upgrade", "downgrade", "backup", "restore", env] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    let bash = retort(&["completions", "bash"]);
    let checked = Command::new("bash")
        .arg("-n")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(bash.as_bytes())?;
            child.wait()
        })
        .expect("bash runs");
    assert!(checked.success(), "bash -n refused the script");
}

#[test]
fn the_man_page_lists_the_commands() {
    let page = retort(&["man"]);
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
    assert!(page.contains(".TH retort 1"), "{page}");
    for command in ["upgrade", "restore", "completions"] {
        assert!(page.contains(command), "no {command} in the man page");
    }
}
