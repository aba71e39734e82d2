//! The README's first command, `retort -C examples/quickstart upgrade`, on
//! a fresh SQLite file instead of the project's own `quickstart.db` (so that
//! tests run in parallel and leave the source tree alone).

use std::path::Path;
use std::process::Command;

use insta::assert_snapshot;

use crate::db::{Kind, TestDb};
use crate::util::{applied, normalise_durations, retort_bin, user_tables, version_rows};

/// `retort -C examples/quickstart --url URL ARGS`, its output as a transcript.
fn retort(db: &TestDb, args: &[&str]) -> String {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart");
    let output = Command::new(retort_bin())
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .arg("-C")
        .arg(example)
        .arg("--url")
        .arg(db.url())
        .args(args)
        .output()
        .unwrap();
    normalise_durations(&format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap()
    ))
}

#[test]
fn readme_upgrade_applies_the_example_and_prints_each_migration() {
    let db = TestDb::create(Kind::Sqlite).unwrap();
    // Both branches, each revision after its parents, then the merge and
    // the head above it.
    assert_snapshot!(retort(&db, &["upgrade"]), @"
    exit: 0
    --- stdout
    7 step(s) done; the database is at 758a03d802cf
    --- stderr
    running 7 migration(s)
      upgrade   754ce64befef create users ...
      upgrade   754ce64befef create users (X ms)
      upgrade   c495453246ae add sessions ...
      upgrade   c495453246ae add sessions (X ms)
      upgrade   ad297cbefc29 add password hash ...
      upgrade   ad297cbefc29 add password hash (X ms)
      upgrade   163c9bd7faec create posts ...
      upgrade   163c9bd7faec create posts (X ms)
      upgrade   8d639793754d index posts by author ...
      upgrade   8d639793754d index posts by author (X ms)
      upgrade   29a1d6a8bf14 merge auth into main ...
      upgrade   29a1d6a8bf14 merge auth into main (X ms)
      upgrade   758a03d802cf create comments ...
      upgrade   758a03d802cf create comments (X ms)
    ");
    assert_eq!(user_tables(&db), ["comments", "posts", "sessions", "users"]);
    assert_eq!(version_rows(&db), ["758a03d802cf"]);
    assert_eq!(applied(&db).len(), 7);

    assert_snapshot!(retort(&db, &["upgrade"]), @r"
    exit: 0
    --- stdout
    nothing to do; the database is at 758a03d802cf
    --- stderr
    ");
}
