//! The version table after every single-target `upgrade`, `downgrade` and
//! `stamp` of two branched graphs, from every state of one or two rows,
//! as the real Alembic leaves it and as retort does. They agree except
//! where docs/running.md ("Where retort and Alembic differ") says, and
//! there retort's table never claims fewer applied revisions.
//!
//! Alembic runs in one Python process through its `command` API (one
//! `alembic` process per case would take minutes); it is found as in
//! [`alembic`], and without it the test is skipped, except in CI.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

use serde_json::Value;

use crate::alembic::{AlembicProject, alembic, use_alembic_version};
use crate::db::{Kind, TestDb, skip_without_tool};
use crate::util::{Project, Rev, graph, version_rows_in};

/// Per case: sets the version table, runs the command through Alembic's API
/// and prints a line with the rows after it (`null` when Alembic refused),
/// as it goes, so that retort runs each case while Alembic does the next.
const DRIVER: &str = r#"
import contextlib, io, json, logging, sqlite3, sys
from alembic import command
from alembic.config import Config

ini, db, cases = sys.argv[1], sys.argv[2], json.load(sys.stdin)
config = Config(ini)
logging.disable(logging.CRITICAL)
def report(rows):
    print(json.dumps(rows), flush=True)

for rows, op, target in cases:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")
    conn.execute("DELETE FROM alembic_version")
    conn.executemany("INSERT INTO alembic_version VALUES (?)", [(r,) for r in rows])
    conn.commit()
    conn.close()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            getattr(command, op)(config, target)
    except Exception:
        report(None)
        continue
    conn = sqlite3.connect(db)
    report(sorted(r for (r,) in conn.execute("SELECT version_num FROM alembic_version")))
    conn.close()
"#;

/// The commands of a comparison, each with the targets tried besides every
/// revision id.
type Commands<'a> = [(&'a str, &'a [&'a str])];

/// Retort's refusals where Alembic picks or does nothing.
const REFUSALS: &[&str] = &[
    "upgrade_backwards",
    "ambiguous_current",
    "relative_overwalk",
    "branch_not_applied",
];

/// [`graph`]: a branch with a label (`auth`) merged back, a second base
/// (`extra`) whose second revision depends on `auth`.
#[test]
fn version_rows_agree_with_alembic() {
    compare(
        graph(),
        &["auth"],
        &[
            ("upgrade", &["heads", "auth@head", "+1", "extra@+1"]),
            (
                "downgrade",
                &[
                    "base",
                    "auth@base",
                    "extra@base",
                    "-1",
                    "-2",
                    "auth@-1",
                    "auth@-2",
                    "extra@-1",
                    "c20004@-1",
                    "c20004@-2",
                    "auth@b00002",
                ],
            ),
            (
                "stamp",
                &["heads", "base", "auth@head", "auth@base", "extra@base"],
            ),
        ],
    );
}

/// Three branches from one revision, merged in two steps; a second base
/// whose revisions depend on two of the branches.
///
/// ```text
/// r00001 - r00002 - a00003 - a00004 - m00007 - m00008 - s00009
///                 \ b00005 ---------/        /           a00003 is `feat`
///                 \ c00006 -----------------/            c00006 is `cee`
///
/// z00010 - z00011 - q00012    (`side`; z00011 depends on b00005, q00012 on `feat`)
/// ```
#[test]
fn version_rows_agree_with_alembic_through_a_three_way_branch() {
    let revs = vec![
        Rev::merge("r00001", &[], "root"),
        Rev::merge("r00002", &["r00001"], "fork"),
        Rev::merge("a00003", &["r00002"], "a").labels(&["feat"]),
        Rev::merge("a00004", &["a00003"], "a"),
        Rev::merge("b00005", &["r00002"], "b"),
        Rev::merge("c00006", &["r00002"], "c").labels(&["cee"]),
        Rev::merge("m00007", &["a00004", "b00005"], "merge a and b"),
        Rev::merge("m00008", &["m00007", "c00006"], "merge c"),
        Rev::merge("s00009", &["m00008"], "after"),
        Rev::merge("z00010", &[], "side").labels(&["side"]),
        Rev::merge("z00011", &["z00010"], "z").depends_on(&["b00005"]),
        Rev::merge("q00012", &["z00011"], "q").depends_on(&["feat"]),
    ];
    compare(
        revs,
        &["feat", "cee"],
        &[
            ("upgrade", &["heads", "feat@head", "+1", "side@+1"]),
            (
                "downgrade",
                &[
                    "base",
                    "feat@base",
                    "cee@base",
                    "side@base",
                    "-1",
                    "-2",
                    "feat@-1",
                    "feat@-2",
                    "cee@-1",
                    "side@-1",
                    "a00004@-1",
                    "b00005@-1",
                    "feat@r00002",
                    "cee@r00002",
                ],
            ),
            (
                "stamp",
                &["heads", "base", "feat@head", "feat@base", "side@base"],
            ),
        ],
    );
}

/// Runs every case of `commands` on `revs` (stripped of their SQL) through
/// Alembic and retort and compares the version tables; `forking` are the
/// labels of branches that fork off another line (where `label@base`
/// differs on purpose).
fn compare(revs: Vec<Rev>, forking: &[&str], commands: &Commands<'_>) {
    let db = TestDb::create(Kind::Sqlite).unwrap();
    let program = match alembic() {
        Ok(program) => program,
        Err(why) => return skip_without_tool(&db, &why),
    };
    // No SQL: the states are set by writing the version table directly.
    let revs: Vec<Rev> = revs
        .into_iter()
        .map(|r| Rev {
            table: None,
            upgrade: String::new(),
            downgrade: Some(String::new()),
            ..r
        })
        .collect();
    let project = Project::new(&db, revs.clone());
    use_alembic_version(&project);
    let alembic_db = db.sibling();
    let alembic = AlembicProject::new(program, project.root(), &alembic_db, &revs);
    let model = Model::new(&revs);

    let cases = model.cases(commands);
    project.json(&["stamp", "base"]).ok();
    let mut expected = AlembicRun::start(&alembic, &alembic_db, &cases);
    let (mut agreed, mut refused, mut differ) = (0, 0, 0);
    for (rows, op, target) in &cases {
        let alembic_rows = expected.next();
        let inserts: String = rows
            .iter()
            .map(|row| format!("INSERT INTO alembic_version (version_num) VALUES ('{row}');\n"))
            .collect();
        db.exec(&format!(
            "DELETE FROM alembic_version;\nDELETE FROM retort_applied;\n{inserts}"
        ));
        let case = format!("from {rows:?}: {op} {target}");
        let mut before = rows.clone();
        before.sort();
        let run = project.json(&[op, target]);
        let failed = run.doc().get("error").is_some();
        let retort_rows = version_rows_in(&db, "alembic_version");
        let Some(alembic_rows) = &alembic_rows else {
            // Alembic refused: retort refuses too, or changes nothing.
            assert!(
                failed || retort_rows == before,
                "{case}: Alembic refused, retort wrote {retort_rows:?}"
            );
            continue;
        };
        if failed {
            assert!(
                REFUSALS.contains(&run.kind()),
                "{case}: retort failed ({}: {}) where Alembic wrote {alembic_rows:?}",
                run.kind(),
                run.message()
            );
            if run.kind() == "upgrade_backwards" {
                assert_eq!(
                    alembic_rows, &before,
                    "{case}: Alembic moved where retort refused"
                );
            }
            refused += 1;
            continue;
        }
        if &retort_rows == alembic_rows {
            agreed += 1;
            continue;
        }
        // docs/running.md: `downgrade label@base` of a branch that forks
        // off; a stamp of several heads, or of a label's head.
        let documented = match op.as_str() {
            "downgrade" => forking.iter().any(|l| *target == format!("{l}@base")),
            "stamp" => target == "heads" || target.ends_with("@head"),
            _ => false,
        };
        assert!(
            documented,
            "{case}: Alembic wrote {alembic_rows:?}, retort {retort_rows:?}"
        );
        assert!(
            model
                .applied(alembic_rows)
                .is_subset(&model.applied(&retort_rows)),
            "{case}: retort's rows {retort_rows:?} claim less than Alembic's {alembic_rows:?}"
        );
        differ += 1;
    }
    // Most cases compare equal; the documented differences stay few.
    let counts = format!("{agreed} agree, {refused} refused by retort, {differ} differ");
    assert!(agreed > 1000, "{counts}");
    assert!(differ < agreed / 10, "{counts}");
}

/// The Python process running [`DRIVER`], read one case at a time.
struct AlembicRun {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl AlembicRun {
    fn start(
        alembic: &AlembicProject,
        db: &TestDb,
        cases: &[(Vec<String>, String, String)],
    ) -> AlembicRun {
        let script = alembic.ini().with_file_name("compare_rows.py");
        fs::write(&script, DRIVER).unwrap();
        let mut child = Command::new(alembic.python())
            .arg(&script)
            .arg(alembic.ini())
            .arg(db.file().unwrap())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The driver reads every case before it prints anything.
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(&serde_json::to_vec(cases).unwrap())
            .unwrap();
        drop(stdin);
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        AlembicRun { child, lines }
    }

    /// The rows Alembic left after the next case; `None` when it refused.
    fn next(&mut self) -> Option<Vec<String>> {
        let Some(Ok(line)) = self.lines.next() else {
            let mut stderr = String::new();
            if let Some(mut err) = self.child.stderr.take() {
                let _ = err.read_to_string(&mut stderr);
            }
            panic!("the Alembic driver stopped early: {stderr}");
        };
        let rows: Value = serde_json::from_str(&line).unwrap();
        rows.as_array().map(|rows| {
            rows.iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        })
    }
}

impl Drop for AlembicRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fixture's graph, for listing states and comparing applied sets.
struct Model {
    ids: Vec<String>,
    /// Parents and dependencies of each revision (labels resolved).
    below: Vec<Vec<usize>>,
}

impl Model {
    fn new(revs: &[Rev]) -> Model {
        let index = |name: &str| {
            revs.iter()
                .position(|r| r.id == name || r.labels.iter().any(|l| l == name))
                .unwrap()
        };
        Model {
            ids: revs.iter().map(|r| r.id.clone()).collect(),
            below: revs
                .iter()
                .map(|r| {
                    r.revises
                        .iter()
                        .chain(&r.depends_on)
                        .map(|n| index(n))
                        .collect()
                })
                .collect(),
        }
    }

    /// Every revision the rows imply: the rows and all below them.
    fn applied(&self, rows: &[String]) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<usize> = rows
            .iter()
            .map(|r| self.ids.iter().position(|i| i == r).unwrap())
            .collect();
        while let Some(i) = stack.pop() {
            if seen.insert(i) {
                stack.extend(&self.below[i]);
            }
        }
        seen
    }

    /// Empty, each revision alone, and each pair neither of which implies
    /// the other; times each command and target (every id and the command's own).
    fn cases(&self, commands: &Commands<'_>) -> Vec<(Vec<String>, String, String)> {
        let mut states: Vec<Vec<String>> = vec![Vec::new()];
        states.extend(self.ids.iter().map(|i| vec![i.clone()]));
        let below: Vec<BTreeSet<usize>> = states[1..].iter().map(|r| self.applied(r)).collect();
        for a in 0..self.ids.len() {
            for b in a + 1..self.ids.len() {
                if !below[a].contains(&b) && !below[b].contains(&a) {
                    states.push(vec![self.ids[a].clone(), self.ids[b].clone()]);
                }
            }
        }
        let mut cases = Vec::new();
        for rows in &states {
            for (op, symbolic) in commands {
                let targets = self
                    .ids
                    .iter()
                    .map(String::as_str)
                    .chain(symbolic.iter().copied());
                for target in targets {
                    cases.push((rows.clone(), (*op).to_owned(), target.to_owned()));
                }
            }
        }
        cases
    }
}
