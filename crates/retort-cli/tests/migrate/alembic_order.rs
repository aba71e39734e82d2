//! The order of `upgrade heads`, `downgrade base` and `history`, step for
//! step, against the real Alembic, where several orders would be valid:
//! two large public histories (Apache Superset's 205 revisions with 27
//! merges, Fides's 398 with 11), OpenStack Neutron's 132 (two branch
//! labels, dependencies between the branches), and a criss-cross and a
//! four-way merge made for the purpose.
//!
//! The graphs are in `histories/` (revision, parents, labels, dependencies
//! as the projects declare them, with where they come from). Alembic runs
//! them online on SQLite, each migration writing its id to a log; retort
//! runs the same graph as SQL files. Alembic loads its files sorted by
//! name, retort too, so both are named by revision id.

use std::fs;
use std::path::Path;

use crate::alembic::{AlembicProject, alembic, python_with, use_alembic_version};
use crate::db::{Kind, TestDb, skip_without_tool};
use crate::util::{Project, Rev};

/// `name.txt` of `histories/`: one revision per line,
/// `<id> revises=<ids> labels=<labels> depends=<ids or labels>`.
fn history(text: &str) -> Vec<Rev> {
    let list = |field: &str| -> Vec<String> {
        field
            .split_once('=')
            .map(|(_, v)| v)
            .unwrap_or_default()
            .split(',')
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut revs: Vec<Rev> = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let parents = list(fields[1]);
            let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
            let labels = list(fields[2]);
            let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
            let depends = list(fields[3]);
            let depends: Vec<&str> = depends.iter().map(String::as_str).collect();
            Rev::merge(fields[0], &parents, "")
                .labels(&labels)
                .depends_on(&depends)
        })
        .collect();
    // Alembic's load order: files sorted by name (`<id>.py`).
    revs.sort_by(|a, b| a.id.cmp(&b.id));
    revs
}

/// The Alembic script of `rev`, logging each run (its direction and id)
/// to `RETORT_TEST_ORDER_LOG`.
fn logging_script(rev: &Rev) -> String {
    let script = python_with(rev, "    _log(\"up\")\n", "    _log(\"down\")\n");
    format!(
        "import os\n\n\ndef _log(direction):\n    with open(os.environ[\"RETORT_TEST_ORDER_LOG\"], \"a\") as log:\n        log.write(direction + \" \" + revision + \"\\n\")\n\n\n{script}"
    )
}

/// The ids of a log's lines of one direction, in order.
fn logged(log: &Path, direction: &str) -> Vec<String> {
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.strip_prefix(direction)?.strip_prefix(' '))
        .map(str::to_owned)
        .collect()
}

/// The revision of each line of `alembic history`: `a, b -> c (head), …`.
fn history_ids(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| {
            let after = line.split_once("-> ")?.1;
            let end = after.find([' ', ',']).unwrap_or(after.len());
            Some(after[..end].to_owned())
        })
        .collect()
}

/// Runs both tools on the graph of `text` and compares their orders.
fn compare(name: &str, text: &str, at_least: (usize, usize)) {
    let db = TestDb::create(Kind::Sqlite).unwrap();
    let program = match alembic() {
        Ok(program) => program,
        Err(why) => return skip_without_tool(&db, &why),
    };
    let revs = history(text);
    let merges = revs.iter().filter(|r| r.revises.len() > 1).count();
    assert!(
        revs.len() >= at_least.0 && merges >= at_least.1,
        "{name}: {} revisions, {merges} merges",
        revs.len()
    );
    let project = Project::new(&db, revs.clone());
    use_alembic_version(&project);
    let alembic_db = db.sibling();
    let alembic = AlembicProject::new(program, project.root(), &alembic_db, &[]);
    let versions = alembic.ini().with_file_name("alembic").join("versions");
    for rev in &revs {
        fs::write(versions.join(format!("{}.py", rev.id)), logging_script(rev)).unwrap();
    }
    let log = project.path("order.log");
    let env = [("RETORT_TEST_ORDER_LOG", log.as_path())];

    let expected_history = history_ids(&alembic.run_with(&["history"], &env));
    let run = project.json(&["history"]).ok();
    let history: Vec<String> = run
        .doc()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        history.len(),
        revs.len(),
        "{name}: history lists every revision"
    );
    assert_eq!(history, expected_history, "{name}: history");

    alembic.run_with(&["upgrade", "heads"], &env);
    let expected = logged(&log, "up");
    assert_eq!(
        expected.len(),
        revs.len(),
        "{name}: Alembic upgraded every revision"
    );
    let upgrade = project.json(&["upgrade", "heads"]).ok();
    assert_eq!(upgrade.steps(), expected, "{name}: upgrade heads");

    alembic.run_with(&["downgrade", "base"], &env);
    let downgrade = project.json(&["downgrade", "base"]).ok();
    assert_eq!(
        downgrade.steps(),
        logged(&log, "down"),
        "{name}: downgrade base"
    );
}

#[test]
fn superset_history_runs_in_alembic_order() {
    compare(
        "superset",
        include_str!("histories/superset.txt"),
        (100, 10),
    );
}

#[test]
fn fides_history_runs_in_alembic_order() {
    compare("fides", include_str!("histories/fides.txt"), (100, 10));
}

#[test]
fn neutron_branches_with_dependencies_run_in_alembic_order() {
    compare("neutron", include_str!("histories/neutron.txt"), (100, 0));
}

#[test]
fn criss_cross_merges_run_in_alembic_order() {
    compare(
        "criss_cross",
        include_str!("histories/criss_cross.txt"),
        (10, 3),
    );
}

#[test]
fn a_four_way_merge_runs_in_alembic_order() {
    compare("four_way", include_str!("histories/four_way.txt"), (14, 1));
}
