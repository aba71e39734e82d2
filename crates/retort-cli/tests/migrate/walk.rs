//! Upgrades and downgrades by every target form through the branches, the
//! merge, the second base and the dependency of [`graph`].
//!
//! After each command the expected version rows are written out by hand,
//! reasoning from Alembic's `alembic_version` rules: one row per applied
//! head; applying the first revision of a new branch adds a row; a merge
//! deletes all of its parents' rows but one and updates that one; an
//! unmerge restores them; a revision that depends on a current head absorbs
//! that row like a merge (Alembic's normalised down-revisions include
//! dependencies), and its downgrade gives the row back. The applied set is
//! tracked from the steps each command reports, and the schema and
//! `retort_applied` must match it exactly.

use std::collections::BTreeSet;

use crate::db::{TestDb, dialect_tests, skip_without_tool};
use crate::offline;
use crate::util::{
    Project, Rev, Run, assert_state, assert_topological, graph, linear, sorted, user_tables,
    version_rows,
};

/// One command and what it must do.
struct Expect {
    args: &'static [&'static str],
    /// The revisions run, in order.
    ran: &'static [&'static str],
    /// The version rows afterwards.
    rows: &'static [&'static str],
}

/// `retort ARGS` runs `ran` (in order) and leaves the version rows `rows`.
fn expect(
    args: &'static [&'static str],
    ran: &'static [&'static str],
    rows: &'static [&'static str],
) -> Expect {
    Expect { args, ran, rows }
}

/// A project on the test's database, and a twin database that follows it
/// through offline scripts: after each command, the script of the same
/// command (`--sql`, starting from the rows the database was at), run by
/// the database's own shell, must leave the twin as the online run left
/// the database: the same schema, version rows and applied rows.
struct Walker<'a> {
    db: &'a TestDb,
    project: Project,
    /// The revisions applied, from the steps the commands reported.
    applied: BTreeSet<String>,
    /// The twin and its project; `None` without the database's shell.
    twin: Option<(TestDb, Project)>,
}

impl<'a> Walker<'a> {
    fn new(db: &'a TestDb, revs: Vec<Rev>) -> Walker<'a> {
        let twin = match db.script_runner() {
            Ok(_) => {
                let twin = db.sibling();
                let project = Project::new(&twin, revs.clone());
                Some((twin, project))
            }
            Err(why) => {
                skip_without_tool(db, &format!("offline scripts are not compared: {why}"));
                None
            }
        };
        Walker {
            db,
            project: Project::new(db, revs),
            applied: BTreeSet::new(),
            twin,
        }
    }

    /// Runs `retort ARGS` (it must succeed), then its offline script on
    /// the twin, and compares the two databases.
    fn run(&mut self, args: &[&str]) -> Run {
        let before = version_rows(self.db);
        let run = self.project.json(args).ok();
        if let Some((twin, project)) = &self.twin {
            let target = args.get(1).copied().unwrap_or("head");
            // `:TARGET` from an empty database.
            let range = format!("{}:{target}", before.join(","));
            let mut offline = vec![args[0], range.as_str(), "--sql"];
            offline.extend(args.iter().skip(2));
            let sql = offline::script(project, &offline);
            assert!(offline::run_script(twin, &sql));
            assert_eq!(
                offline::state(twin),
                offline::state(self.db),
                "the offline script of `retort {}` (`retort {}`) differs from the online run:\n{sql}",
                args.join(" "),
                offline.join(" ")
            );
        }
        run
    }

    /// Runs each command, checking the steps, the reported heads and the
    /// state.
    fn walk(&mut self, expects: &[Expect]) {
        for e in expects {
            let run = self.run(e.args);
            let when = format!("after `retort {}`", e.args.join(" "));
            assert_eq!(run.steps(), e.ran, "steps of `{}`", e.args.join(" "));
            let direction = if e.args[0] == "upgrade" { "up" } else { "down" };
            assert!(run.directions().iter().all(|d| d == direction), "{when}");
            assert_eq!(run.heads(), sorted(e.rows), "heads reported {when}");
            assert_eq!(run.doc()["dry_run"], false);
            for id in e.ran {
                if direction == "up" {
                    assert!(self.applied.insert((*id).to_owned()), "{id} applied twice");
                } else {
                    assert!(self.applied.remove(*id), "{id} was not applied");
                }
            }
            let ids: Vec<&str> = self.applied.iter().map(String::as_str).collect();
            assert_state(self.db, self.project.revs(), e.rows, &ids, &when);
        }
    }
}

/// Runs each command on a new project of `revs` (see [`Walker`]).
fn walk_new<'a>(db: &'a TestDb, revs: Vec<Rev>, expects: &[Expect]) -> Walker<'a> {
    let mut walker = Walker::new(db, revs);
    walker.walk(expects);
    walker
}

/// The whole graph, as rows and as the applied set.
const ALL: [&str; 11] = [
    "a00001", "b00002", "c10003", "c20004", "d10005", "d20006", "m00007", "n00008", "o00009",
    "x00010", "y00011",
];

dialect_tests! {
    upgrade_head_with_two_heads_is_refused,
    head_and_steps_of_several_on_one_line,
    upgrade_by_every_target_form,
    upgrade_label_at_head,
    downgrade_by_every_target_form,
    upgrade_heads_and_downgrade_base_from_scratch,
    dependency_absorbs_a_current_head,
    downgrade_takes_dependents_along,

    label_relative_upgrade_from_a_sibling_branch,

    downgrade_to_a_dependency_keeps_its_dependents,
    branch_scoped_downgrade_leaves_the_sibling_branch,
}

/// `upgrade` means `head`: with two heads it is refused (exit 2,
/// `multiple_heads`, naming both) and nothing is applied.
fn upgrade_head_with_two_heads_is_refused(db: &TestDb) {
    let project = Project::new(db, graph());
    let run = project.json(&["upgrade"]).code(2);
    assert_eq!(run.kind(), "multiple_heads");
    assert!(
        run.message().contains("o00009") && run.message().contains("y00011"),
        "{}",
        run.message()
    );
    assert!(run.hint().contains("heads"), "{}", run.hint());
    assert_eq!(version_rows(db), Vec::<String>::new());
    assert_eq!(user_tables(db), Vec::<String>::new());
    // `head` written out is the same request.
    assert_eq!(
        project.json(&["upgrade", "head"]).code(2).kind(),
        "multiple_heads"
    );
}

/// With one head, `head` written out, `head-N` both ways, `rev+N` and
/// `-N` for N above 1, on one line of five revisions: always one row.
fn head_and_steps_of_several_on_one_line(db: &TestDb) {
    let walker = walk_new(
        db,
        linear(5),
        &[
            expect(&["upgrade", "head-3"], &["r01", "r02"], &["r02"]),
            expect(&["upgrade", "head"], &["r03", "r04", "r05"], &["r05"]),
            expect(&["upgrade", "head"], &[], &["r05"]),
            expect(&["downgrade", "head-3"], &["r05", "r04", "r03"], &["r02"]),
            expect(&["upgrade", "r02+3"], &["r03", "r04", "r05"], &["r05"]),
            expect(
                &["downgrade", "-4"],
                &["r05", "r04", "r03", "r02"],
                &["r01"],
            ),
            expect(&["upgrade", "+3"], &["r02", "r03", "r04"], &["r04"]),
            expect(&["downgrade", "r04-2"], &["r04", "r03"], &["r02"]),
        ],
    );
    assert_eq!(walker.applied.len(), 2);
}

/// Upgrades by id, `+1`, `label@+1` (before and on the branch), unique
/// prefix, `rev+1`, a merge, `+2` and `heads`.
fn upgrade_by_every_target_form(db: &TestDb) {
    let walker = walk_new(
        db,
        graph(),
        &[
            // A full id on an empty database: the first row is inserted.
            expect(&["upgrade", "a00001"], &["a00001"], &["a00001"]),
            // One step up from the current revision: the row is updated.
            expect(&["upgrade", "+1"], &["b00002"], &["b00002"]),
            // The branch has not started yet: its walk starts at b00002, an
            // ancestor of the labelled revision, and stays on the branch.
            expect(&["upgrade", "auth@+1"], &["d10005"], &["d10005"]),
            // A unique prefix (`c` alone is ambiguous): the other side of the
            // branch point adds a second row.
            expect(&["upgrade", "c1"], &["c10003"], &["c10003", "d10005"]),
            // `rev+1` moves that row along.
            expect(&["upgrade", "c10003+1"], &["c20004"], &["c20004", "d10005"]),
            // `label@+1` on the branch, while another branch is applied too.
            expect(&["upgrade", "auth@+1"], &["d20006"], &["c20004", "d20006"]),
            // The merge point: two rows become one.
            expect(&["upgrade", "m00007"], &["m00007"], &["m00007"]),
            // Two steps along a straight line.
            expect(&["upgrade", "+2"], &["n00008", "o00009"], &["o00009"]),
            // `heads` adds the second base and its dependent.
            expect(
                &["upgrade", "heads"],
                &["x00010", "y00011"],
                &["o00009", "y00011"],
            ),
            // Nothing left.
            expect(&["upgrade", "heads"], &[], &["o00009", "y00011"]),
        ],
    );
    assert_eq!(walker.applied.len(), ALL.len());
}

/// `label@head` reaches the head of the branch's line of history, taking
/// the other parent of the merge along.
fn upgrade_label_at_head(db: &TestDb) {
    walk_new(
        db,
        graph(),
        &[
            expect(
                &["upgrade", "c20004"],
                &["a00001", "b00002", "c10003", "c20004"],
                &["c20004"],
            ),
            expect(
                &["upgrade", "auth@head"],
                &["d10005", "d20006", "m00007", "n00008", "o00009"],
                &["o00009"],
            ),
            expect(
                &["upgrade", "extra@head"],
                &["x00010", "y00011"],
                &["o00009", "y00011"],
            ),
        ],
    );
}

/// Downgrades by `label@-1`, `label@base`, `-1`, `rev-1`, a revision
/// below a merge (an unmerge), `-2` and `base`.
fn downgrade_by_every_target_form(db: &TestDb) {
    let mut walker = Walker::new(db, graph());
    let run = walker.run(&["upgrade", "heads"]);
    assert_eq!(run.heads(), ["o00009", "y00011"]);
    walker.applied = ALL.iter().map(|s| (*s).to_owned()).collect();
    assert_state(
        db,
        walker.project.revs(),
        &["o00009", "y00011"],
        &ALL,
        "after upgrade heads",
    );

    // Two rows: `-1` does not say which one to step down from.
    let run = walker.project.json(&["downgrade", "-1"]).code(2);
    assert_eq!(run.kind(), "ambiguous_current", "{}", run.transcript());
    assert_state(
        db,
        walker.project.revs(),
        &["o00009", "y00011"],
        &ALL,
        "after a refused -1",
    );

    walker.walk(&[
        // y00011 revises x00010 and depends on d10005, which o00009
        // still needs: the row goes back to x00010 only.
        expect(
            &["downgrade", "extra@-1"],
            &["y00011"],
            &["o00009", "x00010"],
        ),
        // The second base's branch goes entirely: its row is deleted.
        expect(&["downgrade", "extra@base"], &["x00010"], &["o00009"]),
        expect(&["downgrade", "-1"], &["o00009"], &["n00008"]),
        expect(&["downgrade", "n00008-1"], &["n00008"], &["m00007"]),
        // Below the merge: the unmerge restores both parents' rows.
        expect(&["downgrade", "d20006"], &["m00007"], &["c20004", "d20006"]),
        expect(
            &["downgrade", "auth@-1"],
            &["d20006"],
            &["c20004", "d10005"],
        ),
        // The branch down to where it forks off: its row is deleted, the
        // fork point stays (c20004 still needs it).
        expect(&["downgrade", "auth@base"], &["d10005"], &["c20004"]),
        expect(&["downgrade", "-2"], &["c20004", "c10003"], &["b00002"]),
        expect(&["downgrade", "base"], &["b00002", "a00001"], &[]),
    ]);
    assert!(walker.applied.is_empty());
    // Nothing left to downgrade.
    let run = walker.run(&["downgrade", "base"]);
    assert_eq!(run.steps(), Vec::<String>::new());
}

/// `upgrade heads` on an empty database runs every revision once, each
/// after its parents and dependencies; `downgrade base` runs them all
/// back, each before its parents and dependencies.
fn upgrade_heads_and_downgrade_base_from_scratch(db: &TestDb) {
    let mut walker = Walker::new(db, graph());
    let run = walker.run(&["upgrade", "heads"]);
    let steps = run.steps();
    assert_eq!(
        sorted(&steps.iter().map(String::as_str).collect::<Vec<_>>()),
        ALL
    );
    assert_topological(walker.project.revs(), &steps, false);
    assert_state(
        db,
        walker.project.revs(),
        &["o00009", "y00011"],
        &ALL,
        "after upgrade heads",
    );

    let run = walker.run(&["downgrade", "base"]);
    let steps = run.steps();
    assert_eq!(steps.len(), ALL.len());
    assert_topological(walker.project.revs(), &steps, true);
    assert_eq!(run.heads(), Vec::<String>::new());
    assert_state(db, walker.project.revs(), &[], &[], "after downgrade base");
}

/// A revision depending on a current head absorbs its row (like a
/// merge); downgrading it gives the row back (like an unmerge).
fn dependency_absorbs_a_current_head(db: &TestDb) {
    walk_new(
        db,
        graph(),
        &[
            expect(
                &["upgrade", "c20004"],
                &["a00001", "b00002", "c10003", "c20004"],
                &["c20004"],
            ),
            expect(&["upgrade", "d10005"], &["d10005"], &["c20004", "d10005"]),
            // A new base adds a row.
            expect(
                &["upgrade", "extra@+1"],
                &["x00010"],
                &["c20004", "d10005", "x00010"],
            ),
            // y00011 revises x00010 and depends on d10005: both rows become y00011.
            expect(&["upgrade", "y00011"], &["y00011"], &["c20004", "y00011"]),
            // Back down to x00010: d10005 (applied, needed by nothing else
            // above it) gets its row back.
            expect(
                &["downgrade", "x00010"],
                &["y00011"],
                &["c20004", "d10005", "x00010"],
            ),
            expect(&["upgrade", "y00011"], &["y00011"], &["c20004", "y00011"]),
            // d20006 revises d10005, whose row was absorbed: a new row.
            expect(
                &["upgrade", "d20006"],
                &["d20006"],
                &["c20004", "d20006", "y00011"],
            ),
            expect(
                &["upgrade", "heads"],
                &["m00007", "n00008", "o00009"],
                &["o00009", "y00011"],
            ),
        ],
    );
}

/// Downgrading below a dependency takes its dependents along, each
/// before what it depends on.
fn downgrade_takes_dependents_along(db: &TestDb) {
    let mut walker = Walker::new(db, graph());
    walker.run(&["upgrade", "c20004"]);
    walker.run(&["upgrade", "y00011"]);
    assert_state(
        db,
        walker.project.revs(),
        &["c20004", "y00011"],
        &[
            "a00001", "b00002", "c10003", "c20004", "d10005", "x00010", "y00011",
        ],
        "before the downgrade",
    );
    let run = walker.run(&["downgrade", "b00002"]);
    let steps = run.steps();
    assert_eq!(
        sorted(&steps.iter().map(String::as_str).collect::<Vec<_>>()),
        ["c10003", "c20004", "d10005", "y00011"]
    );
    assert_topological(walker.project.revs(), &steps, true);
    assert_eq!(run.heads(), ["b00002", "x00010"]);
    assert_state(
        db,
        walker.project.revs(),
        &["b00002", "x00010"],
        &["a00001", "b00002", "x00010"],
        "after downgrade b00002",
    );
}

/// Alembic's `branch@+1` when the database is on a sibling branch: it
/// backtracks through the ancestors of the current revisions to the
/// tip of the branch's line (here b00002), so `auth@+1` from c10003 is
/// d10005 (alembic/script/revision.py, `_parse_upgrade_target`).
fn label_relative_upgrade_from_a_sibling_branch(db: &TestDb) {
    let mut walker = Walker::new(db, graph());
    walker.run(&["upgrade", "c10003"]);
    let run = walker.run(&["upgrade", "auth@+1"]);
    assert_eq!(run.steps(), ["d10005"]);
    assert_state(
        db,
        walker.project.revs(),
        &["c10003", "d10005"],
        &["a00001", "b00002", "c10003", "d10005"],
        "after auth@+1",
    );
}

/// `downgrade REV` removes what lies above REV: its descendants and
/// their dependents (docs/running.md). y00011 depends on d10005 itself,
/// which stays applied, so y00011 stays too, as in Alembic, whose roots
/// for the drop are the target's children through `down_revision` only
/// (`nextrev`, alembic/script/revision.py `_collect_downgrade_revisions`).
fn downgrade_to_a_dependency_keeps_its_dependents(db: &TestDb) {
    let mut walker = Walker::new(db, graph());
    walker.run(&["upgrade", "heads"]);
    walker.applied = ALL.iter().map(|s| (*s).to_owned()).collect();
    walker.walk(&[
        // The unmerge gives c20004 its row back; d10005's row stays
        // absorbed by y00011.
        expect(
            &["downgrade", "d10005"],
            &["o00009", "n00008", "m00007", "d20006"],
            &["c20004", "y00011"],
        ),
    ]);
}

/// A downgrade scoped to a branch moves that branch only: the sibling
/// branch resting on the same fork point keeps its row, as in Alembic
/// (where the rows in the branch's line of history are the ones walked).
fn branch_scoped_downgrade_leaves_the_sibling_branch(db: &TestDb) {
    walk_new(
        db,
        graph(),
        &[
            expect(
                &["upgrade", "c10003"],
                &["a00001", "b00002", "c10003"],
                &["c10003"],
            ),
            expect(&["upgrade", "d10005"], &["d10005"], &["c10003", "d10005"]),
            expect(&["downgrade", "auth@-1"], &["d10005"], &["c10003"]),
            expect(
                &["upgrade", "d20006"],
                &["d10005", "d20006"],
                &["c10003", "d20006"],
            ),
            expect(
                &["downgrade", "auth@b00002"],
                &["d20006", "d10005"],
                &["c10003"],
            ),
            // Named by a revision of the line, before that revision.
            expect(&["downgrade", "c20004@-1"], &["c10003"], &["b00002"]),
        ],
    );
}
