//! `import alembic` of real public Alembic histories: Langflow 1.11.6
//! (102 revisions, 12 merges; MIT) and Bag of Words (223 revisions, 21
//! merges, up to three parents; AGPL-3.0), on SQLite and PostgreSQL.
//!
//! For each, the imported project must do what Alembic does: from an empty
//! database to the heads (the same schema model, the same `pg_dump
//! --schema-only`, the same `alembic_version`), back down to a revision
//! half way, and from a database Alembic took half way on to the heads.
//!
//! The histories are third-party files, so they are not in this
//! repository: the test reads them from `RETORT_TEST_ALEMBIC_PROJECTS`,
//! else `shared/alembic-projects` beside the repository (one directory
//! per project with its revision files, licence, SOURCE.md, an alembic.ini
//! and an env.py that import no application, and requirements.txt), and
//! runs the Alembic named by `RETORT_TEST_ALEMBIC_PROJECTS_ALEMBIC` (a
//! virtualenv with each project's requirements), else `venv/bin/alembic`
//! in that directory. Without them it says it was skipped.
//!
//! Revisions that read rows are marked for review by the import (Langflow
//! has 3 or 4, Bag of Words 18); the test reviews them as a person whose
//! databases are empty would, removing the marks, and prints which.

use std::path::{Path, PathBuf};

use crate::db::{Kind, TestDb, dialect_tests, skip};
use crate::import_alembic::Setup;

dialect_tests! {
    real_histories_import_and_run_like_alembic,
}

/// Each project, with a revision half way along its history.
const PROJECTS: [(&str, &str); 2] = [("langflow", "182e5471b900"), ("bagofwords", "b4c5d6e7f8a9")];

/// The projects' directory and the Alembic to run them with.
fn data() -> Result<(PathBuf, PathBuf), String> {
    let dir = std::env::var_os("RETORT_TEST_ALEMBIC_PROJECTS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/alembic-projects"),
        PathBuf::from,
    );
    if !PROJECTS
        .iter()
        .all(|(name, _)| dir.join(name).join("alembic.ini").exists())
    {
        return Err(format!(
            "the real Alembic histories are not in {} (set RETORT_TEST_ALEMBIC_PROJECTS)",
            dir.display()
        ));
    }
    let alembic = std::env::var_os("RETORT_TEST_ALEMBIC_PROJECTS_ALEMBIC")
        .map_or_else(|| dir.join("venv/bin/alembic"), PathBuf::from);
    if !alembic.exists() {
        return Err(format!(
            "no Alembic with the projects' requirements at {} (set RETORT_TEST_ALEMBIC_PROJECTS_ALEMBIC)",
            alembic.display()
        ));
    }
    Ok((dir, alembic))
}

#[allow(clippy::print_stderr)]
fn real_histories_import_and_run_like_alembic(db: &TestDb) {
    if db.kind() == Kind::Mariadb {
        skip(
            db,
            "the real histories are run on SQLite and PostgreSQL, the databases both projects support",
        );
        return;
    }
    let (dir, alembic) = match data() {
        Ok(found) => found,
        Err(why) => {
            skip(db, &why);
            return;
        }
    };
    for (name, middle) in PROJECTS {
        let setup = Setup::of(
            tempfile::tempdir().unwrap(),
            dir.join(name),
            alembic.clone(),
        );
        let report = setup.import_reviewed(db);
        let doc = report.doc();
        assert!(
            doc["revisions"].as_u64().unwrap() >= 100,
            "{name}: {}",
            report.transcript()
        );
        assert!(
            doc["merges"].as_u64().unwrap() >= 2,
            "{name}: {}",
            report.transcript()
        );
        assert_eq!(
            doc["warnings"],
            serde_json::json!([]),
            "{name}: {}",
            report.transcript()
        );
        let reviewed: Vec<&str> = doc["needs_review"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["revision"].as_str().unwrap())
            .collect();
        eprintln!("{name} on {}: reviewed {reviewed:?}", db.kind().name());

        let (ours, theirs) = (db.sibling(), db.sibling());
        setup.alembic(&theirs, &["upgrade", "heads"]);
        setup.retort(&ours, &["upgrade", "heads"]).ok();
        assert_eq!(
            setup.state(&ours),
            setup.state(&theirs),
            "{name}: upgrade heads"
        );

        // Five back: where the head is a merge, `-5` names no one walk, and
        // both refuse (Alembic: "Ambiguous walk"; retort names the choices).
        let back = setup.retort(&ours, &["downgrade", "-5"]);
        if setup.alembic_succeeds(&theirs, &["downgrade", "-5"]) {
            back.ok();
            assert_eq!(
                setup.state(&ours),
                setup.state(&theirs),
                "{name}: downgrade -5"
            );
        } else {
            let refused = back.code(2);
            assert!(
                refused.message().contains("ambiguous"),
                "{}",
                refused.transcript()
            );
        }
        setup.alembic(&theirs, &["downgrade", middle]);
        setup.retort(&ours, &["downgrade", middle]).ok();
        assert_eq!(
            setup.state(&ours),
            setup.state(&theirs),
            "{name}: downgrade {middle}"
        );

        let half_way = db.sibling();
        setup.alembic(&half_way, &["upgrade", middle]);
        setup.retort(&half_way, &["upgrade", "heads"]).ok();
        let at_head = db.sibling();
        setup.alembic(&at_head, &["upgrade", "heads"]);
        assert_eq!(
            setup.state(&half_way),
            setup.state(&at_head),
            "{name}: Alembic to {middle}, then retort to the heads"
        );
    }
}
