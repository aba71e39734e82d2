//! `heads`, `history` (with `-i` and ranges that read the database),
//! `show`, `current --check-heads` and `edit` against the real Alembic:
//! the same lines for the same graph and database, where Alembic's output
//! has the same form; where retort differs on purpose, the test says so.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use crate::alembic::{AlembicProject, alembic, use_alembic_version};
use crate::db::{Kind, TestDb, dialect_tests, skip_without_tool};
use crate::util::{Project, Rev};

/// A branch (`auth`) merged back, a second base (`extra`) whose second
/// revision depends on `auth`'s, a base another head depends on (`z8`,
/// Alembic's "effective head"), and a straight line with a label in the
/// middle (`pay`, shown on the whole line):
///
/// ```text
/// a1 - b2 - c3 ------ m5 - w9        d4 is `auth`; w9 depends on z8
///         \ d4 ------/
/// x6 - y7                            x6 is `extra`; y7 depends on d4
/// z8
/// p1 - q2 - r3                       q2 is `pay`
/// ```
fn revs() -> Vec<Rev> {
    vec![
        Rev::merge("a1", &[], ""),
        Rev::merge("b2", &["a1"], ""),
        Rev::merge("c3", &["b2"], ""),
        Rev::merge("d4", &["b2"], "").labels(&["auth"]),
        Rev::merge("m5", &["c3", "d4"], ""),
        Rev::merge("p1", &[], ""),
        Rev::merge("q2", &["p1"], "").labels(&["pay"]),
        Rev::merge("r3", &["q2"], ""),
        Rev::merge("w9", &["m5"], "").depends_on(&["z8"]),
        Rev::merge("x6", &[], "").labels(&["extra"]),
        Rev::merge("y7", &["x6"], "").depends_on(&["d4"]),
        Rev::merge("z8", &[], ""),
    ]
}

/// Both tools on one project and one SQLite database (`alembic_version`).
struct Both {
    project: Project,
    alembic: AlembicProject,
}

impl Both {
    /// `alembic ARGS` and `retort ARGS`: their stdout, and whether each
    /// succeeded.
    fn run(&self, args: &[&str]) -> ((String, bool), (String, bool)) {
        let alembic = self.alembic.try_run(args);
        let retort = self.project.text(args);
        (alembic, (retort.stdout.clone(), retort.code == 0))
    }

    /// Asserts both print the same lines (trailing blanks aside).
    #[track_caller]
    fn same(&self, args: &[&str]) {
        let ((alembic, a_ok), (retort, r_ok)) = self.run(args);
        assert!(
            a_ok && r_ok,
            "`{}`: alembic ok {a_ok}, retort ok {r_ok}\n{retort}",
            args.join(" ")
        );
        assert_eq!(lines(&retort), lines(&alembic), "`{}`", args.join(" "));
    }

    /// Asserts both show the same revisions (`Rev:` lines of the verbose
    /// form, whose other lines differ in paths and file names), in any
    /// order: Alembic lists `current` in the order the database returns
    /// the rows.
    #[track_caller]
    fn same_revs(&self, args: &[&str]) {
        let ((alembic, a_ok), (retort, r_ok)) = self.run(args);
        assert_eq!((a_ok, r_ok), (true, true), "`{}`\n{retort}", args.join(" "));
        let revs = |s: &str| -> Vec<String> {
            let mut revs: Vec<String> = s
                .lines()
                .filter(|l| l.starts_with("Rev: "))
                .map(str::to_owned)
                .collect();
            revs.sort();
            revs
        };
        assert_eq!(revs(&retort), revs(&alembic), "`{}`", args.join(" "));
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim_end().to_owned()).collect()
}

#[test]
fn listings_and_flags_match_alembic() {
    let db = TestDb::create(Kind::Sqlite).unwrap();
    let program = match alembic() {
        Ok(program) => program,
        Err(why) => return skip_without_tool(&db, &why),
    };
    let project = Project::new(&db, revs());
    use_alembic_version(&project);
    let alembic = AlembicProject::new(program, project.root(), &db, &revs());
    let both = Both { project, alembic };

    // Heads, with z8 as Alembic's "effective head" (w9 depends on it) and
    // without it when dependencies are resolved; labels shown as Alembic
    // shows them (inherited along the branch).
    both.same(&["heads"]);
    both.same(&["heads", "--resolve-dependencies"]);
    both.same(&["history"]);
    // `history -r A:B` lists what B depends on without a lower end, and
    // only what descends from A with one.
    both.same(&["history", "-r", ":y7"]);
    both.same(&["history", "-r", "x6:y7"]);
    both.same(&["history", "-r", ":w9"]);
    // `label@-1` without a database counts from the branch's head.
    both.same_revs(&["show", "extra@-1"]);
    both.same_revs(&["show", "pay@-2"]);

    for state in ["c3", "m5", "heads"] {
        both.project.json(&["upgrade", state]).ok();
        both.same(&["history", "-i"]);
        both.same(&["history", "--indicate-current"]);
        both.same(&["history", "-r", "current:"]);
        both.same(&["history", "-r", ":current"]);
        both.same(&["history", "-r", "b2:current"]);
        both.same_revs(&["show", "current"]);
        let ((_, alembic_ok), (_, retort_ok)) = both.run(&["current", "--check-heads"]);
        let all_applied = state == "heads";
        assert_eq!(
            retort_ok, all_applied,
            "retort current --check-heads at {state}"
        );
        let code = both.project.text(&["current", "--check-heads"]).code;
        assert_eq!(
            code,
            if all_applied { 0 } else { 3 },
            "exit code at {state}"
        );
        if all_applied {
            // Alembic compares the version rows with every head, z8 (which
            // w9 depends on, and which has no row of its own) included, so
            // it fails even here; retort checks that every head is applied
            // (docs/cli.md).
            assert!(!alembic_ok, "Alembic's --check-heads after upgrade heads");
        } else {
            assert!(!alembic_ok, "alembic current --check-heads at {state}");
        }
    }

    // `edit` opens the revision's file in $EDITOR, `current` the
    // database's.
    let log = both.project.path("edited.log");
    let editor = both.project.path("editor.sh");
    fs::write(
        &editor,
        format!("#!/bin/sh\necho \"$1\" >> '{}'\n", log.display()),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&editor)
        .status()
        .unwrap();
    for args in [&["edit", "c3"][..], &["edit", "current"]] {
        let _ = fs::remove_file(&log);
        both.alembic
            .try_run_with(args, &[("EDITOR", editor.as_path())]);
        let by_alembic = stems(&log);
        let _ = fs::remove_file(&log);
        let mut command = both.project.command(args);
        let status = command.env("EDITOR", &editor).status().unwrap();
        assert!(status.success(), "retort {}", args.join(" "));
        // retort's files are named `NN_<id>.sql`, Alembic's `<id>.py`.
        let by_retort: Vec<String> = stems(&log)
            .into_iter()
            .map(|s| s.split_once('_').map_or(s.clone(), |(_, id)| id.to_owned()))
            .collect();
        assert_eq!(by_retort, by_alembic, "`{}`", args.join(" "));
        assert!(!by_retort.is_empty());
    }
}

/// The file stems an editor log names, one per line, sorted.
fn stems(log: &Path) -> Vec<String> {
    let mut stems: Vec<String> = fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            Path::new(l)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .collect();
    stems.sort();
    stems
}

/// `show head` of a project without revisions prints nothing and
/// succeeds, as `heads` does, in both tools.
#[test]
fn show_head_of_an_empty_project_prints_nothing() {
    let db = TestDb::create(Kind::Sqlite).unwrap();
    let program = match alembic() {
        Ok(program) => program,
        Err(why) => return skip_without_tool(&db, &why),
    };
    let project = Project::new(&db, Vec::new());
    let alembic = AlembicProject::new(program, project.root(), &db, &[]);
    let both = Both { project, alembic };
    for args in [
        &["show", "head"][..],
        &["show", "heads"],
        &["show", "base"],
        &["heads"],
    ] {
        let ((alembic, a_ok), (retort, r_ok)) = both.run(args);
        assert!(a_ok && r_ok, "`{}`", args.join(" "));
        assert_eq!(
            (retort.as_str(), alembic.as_str()),
            ("", ""),
            "`{}`",
            args.join(" ")
        );
    }
}

/// What reads the database when a range or flag names it (`current`
/// ranges, `-i`, `show current`, `--check-heads`), on every dialect: the
/// lines that `listings_and_flags_match_alembic` holds to Alembic's on
/// SQLite.
fn reading_the_database_on_every_dialect(db: &TestDb) {
    let project = Project::new(db, revs());
    project.json(&["upgrade", "c3"]).ok();
    insta::assert_snapshot!(reads_of_the_database(&project), @"
    $ retort history -i (exit 0)
    q2 -> r3 (pay) (head),
    p1 -> q2 (pay),
    <base> -> p1 (pay),
    m5 (z8) -> w9 (auth) (head),
    c3, d4 -> m5 (auth) (mergepoint),
    b2 -> c3 (current),
    x6 (d4) -> y7 (extra) (head),
    <base> -> x6 (extra),
    b2 -> d4 (auth),
    <base> -> z8 (effective head),
    a1 -> b2 (branchpoint),
    <base> -> a1,
    $ retort history -r current: (exit 0)
    m5 (z8) -> w9 (auth) (head),
    c3, d4 -> m5 (auth) (mergepoint),
    b2 -> c3,
    $ retort history -r :current (exit 0)
    b2 -> c3,
    a1 -> b2 (branchpoint),
    <base> -> a1,
    $ retort history -r b2:current (exit 0)
    b2 -> c3,
    a1 -> b2 (branchpoint),
    $ retort show current (exit 0)
    Rev: c3
    $ retort current --check-heads (exit 3)
    c3
    ");
    project.json(&["upgrade", "heads"]).ok();
    insta::assert_snapshot!(reads_of_the_database(&project), @"
    $ retort history -i (exit 0)
    q2 -> r3 (pay) (head) (current),
    p1 -> q2 (pay),
    <base> -> p1 (pay),
    m5 (z8) -> w9 (auth) (head) (current),
    c3, d4 -> m5 (auth) (mergepoint),
    b2 -> c3,
    x6 (d4) -> y7 (extra) (head) (current),
    <base> -> x6 (extra),
    b2 -> d4 (auth),
    <base> -> z8 (effective head),
    a1 -> b2 (branchpoint),
    <base> -> a1,
    $ retort history -r current: (exit 0)
    q2 -> r3 (pay) (head),
    m5 (z8) -> w9 (auth) (head),
    x6 (d4) -> y7 (extra) (head),
    $ retort history -r :current (exit 0)
    q2 -> r3 (pay) (head),
    p1 -> q2 (pay),
    <base> -> p1 (pay),
    m5 (z8) -> w9 (auth) (head),
    c3, d4 -> m5 (auth) (mergepoint),
    b2 -> c3,
    x6 (d4) -> y7 (extra) (head),
    <base> -> x6 (extra),
    b2 -> d4 (auth),
    <base> -> z8 (effective head),
    a1 -> b2 (branchpoint),
    <base> -> a1,
    $ retort history -r b2:current (exit 0)
    m5 (z8) -> w9 (auth) (head),
    c3, d4 -> m5 (auth) (mergepoint),
    b2 -> c3,
    b2 -> d4 (auth),
    a1 -> b2 (branchpoint),
    $ retort show current (exit 0)
    Rev: r3 (head)
    Rev: w9 (head)
    Rev: y7 (head)
    $ retort current --check-heads (exit 0)
    r3 (pay) (head)
    w9 (auth) (head)
    y7 (extra) (head)
    z8 (effective head)
    ");
}

/// The commands' lines and exit codes (`show`: its `Rev:` lines, the rest
/// differ in paths).
fn reads_of_the_database(project: &Project) -> String {
    let mut seen = String::new();
    for args in [
        &["history", "-i"][..],
        &["history", "-r", "current:"],
        &["history", "-r", ":current"],
        &["history", "-r", "b2:current"],
        &["show", "current"],
        &["current", "--check-heads"],
    ] {
        let run = project.text(args);
        writeln!(seen, "$ retort {} (exit {})", args.join(" "), run.code).unwrap();
        for line in run.stdout.lines() {
            if args[0] != "show" || line.starts_with("Rev: ") {
                writeln!(seen, "{}", line.trim_end()).unwrap();
            }
        }
    }
    seen
}

dialect_tests! {
    reading_the_database_on_every_dialect,
}
