//! Sections for some dialects only (`-- retort:upgrade postgres`): each
//! database runs its own, checksums cover what it runs, and a revision
//! with nothing for the running database is refused before anything runs.

use crate::db::{Kind, TestDb, dialect_tests};
use crate::util::{Project, Rev, applied, user_tables, version_rows};

dialect_tests! {
    each_database_runs_its_own_section,
}

/// The name of the running dialect as a revision file writes it.
fn dialect_name(db: &TestDb) -> &'static str {
    match db.kind() {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
        Kind::Mariadb => "mysql",
    }
}

const R01: &str = "\
-- retort:revision r01
-- retort:message per dialect

-- retort:upgrade postgres
CREATE TABLE pg_only (id INTEGER PRIMARY KEY);

-- retort:upgrade sqlite mysql
CREATE TABLE the_others (id INTEGER PRIMARY KEY);

-- retort:downgrade postgres
DROP TABLE pg_only;

-- retort:downgrade sqlite mysql
DROP TABLE the_others;
";

/// r01 creates `pg_only` on PostgreSQL and `the_others` elsewhere; an
/// edit to another database's section is no edit here, one to this
/// database's is; r02 has a section for one database only, and elsewhere
/// `upgrade` stops before running r01 or anything else.
fn each_database_runs_its_own_section(db: &TestDb) {
    let mut project = Project::new(db, vec![Rev::merge("r01", &[], "per dialect")]);
    project.write(&project.file_name("r01"), R01);
    let ours = if db.kind() == Kind::Postgres {
        "pg_only"
    } else {
        "the_others"
    };

    let sql = project.text(&["upgrade", "--sql"]).ok().stdout;
    assert!(sql.contains(&format!("CREATE TABLE {ours}")), "{sql}");
    assert_eq!(
        sql.matches("CREATE TABLE pg_only").count()
            + sql.matches("CREATE TABLE the_others").count(),
        1,
        "{sql}"
    );

    project.json(&["upgrade"]).ok();
    assert_eq!(user_tables(db), [ours]);

    // Another database's section edited: nothing changed for this one.
    let other = if db.kind() == Kind::Postgres {
        "the_others"
    } else {
        "pg_only"
    };
    project.write(
        &project.file_name("r01"),
        &R01.replace(
            &format!("CREATE TABLE {other} (id"),
            &format!("CREATE TABLE {other} (key"),
        ),
    );
    assert_eq!(project.json(&["verify"]).ok().doc()["ok"], true);
    // This database's section edited: a change.
    project.write(
        &project.file_name("r01"),
        &R01.replace(
            &format!("CREATE TABLE {ours} (id"),
            &format!("CREATE TABLE {ours} (key"),
        ),
    );
    assert_eq!(project.json(&["verify"]).code(3).doc()["ok"], false);
    project.write(&project.file_name("r01"), R01);

    // A revision for one database only.
    let only = if db.kind() == Kind::Sqlite {
        "postgres"
    } else {
        "sqlite"
    };
    project.add(Rev::merge("r02", &["r01"], "one database"));
    project.write(
        &project.file_name("r02"),
        &format!("-- retort:revision r02\n-- retort:revises r01\n-- retort:upgrade {only}\nCREATE TABLE elsewhere (id INTEGER);\n"),
    );
    project.add(Rev::table("r03", &["r02"], "t03"));
    project.json(&["downgrade", "base"]).ok();
    let run = project.json(&["upgrade"]).code(2);
    assert_eq!(run.kind(), "no_section_for_dialect", "{}", run.transcript());
    assert!(
        run.message()
            .contains(&format!("has no upgrade section for {}", dialect_name(db))),
        "{}",
        run.message()
    );
    assert!(
        run.hint()
            .contains(&format!("-- retort:upgrade {}", dialect_name(db))),
        "{}",
        run.hint()
    );
    assert_eq!(user_tables(db), Vec::<String>::new());
    assert_eq!(version_rows(db), Vec::<String>::new());
    assert_eq!(applied(db), Vec::<String>::new());
}
