//! Migrations embedded in the binary (`embed_migrations!`) against the
//! same files read from their directory: the same project (graph,
//! checksums, settings) and the same results; one process migrating two
//! databases, each getting its own state tables; a file edited on disk
//! after the build, caught by `verify`; the run's events through
//! `tracing`; and an embedded project that names other directories than
//! its retort.toml, refused.

#![cfg(feature = "sqlite")]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use retort::Migrations;
use retort::config::DatabaseUrl;
use retort::db::{self, Access};
use retort::embedded::Embedded;
use retort::migrator::{FindingKind, Migrator};

static EMBEDDED: Migrations = retort::embed_migrations!("tests/fixtures/embedded/migrations");

const HEAD: &str = "d4e5f6a1b2c3";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/embedded")
}

fn url_in(dir: &Path, name: &str) -> String {
    format!("sqlite:///{}", dir.join(name).display())
}

/// The database's schema and every row of its state tables (but the
/// times the applied table records), for comparing two databases.
fn contents(url: &str) -> Vec<Vec<Option<String>>> {
    let mut driver = db::connect(&DatabaseUrl::parse(url).unwrap()).unwrap();
    let mut rows = driver
        .query_text("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    rows.extend(
        driver
            .query_text("SELECT version_num FROM app_version ORDER BY version_num")
            .unwrap(),
    );
    rows.extend(
        driver
            .query_text(
                "SELECT revision, checksum, operation FROM retort_applied ORDER BY revision",
            )
            .unwrap(),
    );
    // Absent at base, and without `display_name` below `profile`.
    if let Ok(users) = driver.query_text("SELECT id, email, display_name FROM users ORDER BY id") {
        rows.extend(users);
    }
    rows
}

#[test]
fn embedded_and_directory_give_the_same_project() {
    let embedded = EMBEDDED.project().unwrap();
    let directory = Migrations::from_dir(fixture().join("migrations"));
    let directory = directory.project().unwrap();
    let shape = |project: &retort::project::Project| {
        project
            .scripts()
            .iter()
            .map(|s| {
                (
                    s.revision.clone(),
                    s.revises.clone(),
                    s.branch_labels.clone(),
                    s.message.clone(),
                    s.checksum().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(embedded), shape(directory));
    assert_eq!(shape(embedded).len(), 4);
    assert_eq!(embedded.graph().head_ids(), [HEAD]);
    assert_eq!(embedded.graph().head_ids(), directory.graph().head_ids());
    // The settings of the retort.toml beside the directory travel along.
    assert_eq!(embedded.config().migrations.version_table, "app_version");
    assert_eq!(directory.config().migrations.version_table, "app_version");
    // Embedded files are named as the crate has them.
    assert_eq!(
        embedded.scripts()[0].path,
        Path::new("tests/fixtures/embedded/migrations/0001_a1b2c3d4e5f6_create_users.sql")
    );
}

#[test]
fn embedded_and_directory_give_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (url_in(dir.path(), "one.db"), url_in(dir.path(), "two.db"));
    let embedded = EMBEDDED.upgrade(&one).unwrap();
    let directory = Migrations::from_dir(fixture().join("migrations"))
        .upgrade(&two)
        .unwrap();
    let steps = |o: &retort::migrator::Outcome| {
        o.steps
            .iter()
            .map(|s| (s.revision.clone(), s.direction))
            .collect::<Vec<_>>()
    };
    assert_eq!(steps(&embedded), steps(&directory));
    assert_eq!(embedded.heads, [HEAD]);
    assert_eq!(contents(&one), contents(&two));

    // Down to base and up again, each with its own source.
    for url in [&one, &two] {
        EMBEDDED.migrator(url).unwrap().downgrade("base").unwrap();
    }
    assert_eq!(contents(&one), contents(&two));
    Migrations::from_dir(fixture().join("migrations"))
        .migrator(&one)
        .unwrap()
        .upgrade("profile@head")
        .unwrap();
    EMBEDDED
        .migrator(&two)
        .unwrap()
        .upgrade("profile@head")
        .unwrap();
    assert_eq!(contents(&one), contents(&two));
}

/// One process, two databases: the second gets its own state tables (a
/// migrator that remembered the first database's would skip creating
/// them), and changing one leaves the other where it is.
#[test]
fn one_process_migrates_two_databases() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (url_in(dir.path(), "one.db"), url_in(dir.path(), "two.db"));
    EMBEDDED.upgrade(&one).unwrap();
    let outcome = EMBEDDED.upgrade(&two).unwrap();
    assert_eq!(outcome.steps.len(), 4);
    for url in [&one, &two] {
        assert_eq!(
            EMBEDDED.migrator(url).unwrap().current().unwrap().heads,
            [HEAD]
        );
    }
    let mut second = EMBEDDED.migrator(&two).unwrap();
    second.downgrade("a1b2c3d4e5f6").unwrap();
    assert_eq!(second.current().unwrap().heads, ["a1b2c3d4e5f6"]);
    assert_eq!(
        EMBEDDED.migrator(&one).unwrap().current().unwrap().heads,
        [HEAD]
    );
    // Nothing left to do on the first.
    assert!(EMBEDDED.upgrade(&one).unwrap().steps.is_empty());
}

/// The binary holds one text of a file, the disk (and the CLI) another:
/// whichever applied the database, the other's `verify` names the
/// revision as changed.
#[test]
fn a_file_edited_after_the_build_is_caught_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("project");
    std::fs::create_dir_all(copy.join("migrations")).unwrap();
    std::fs::copy(fixture().join("retort.toml"), copy.join("retort.toml")).unwrap();
    for entry in std::fs::read_dir(fixture().join("migrations")).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap() == "0002_b2c3d4e5f6a1_add_posts.sql" {
            text = text.replace("body TEXT NOT NULL", "body TEXT NOT NULL, title TEXT");
        }
        std::fs::write(
            copy.join("migrations").join(path.file_name().unwrap()),
            text,
        )
        .unwrap();
    }
    let on_disk = Migrations::from_dir(copy.join("migrations"));

    let changed = |migrations: &Migrations, url: &str| {
        let findings = migrations.migrator(url).unwrap().verify().unwrap();
        findings
            .iter()
            .filter(|f| f.kind == FindingKind::Changed)
            .map(|f| f.revision.clone())
            .collect::<Vec<_>>()
    };
    let by_binary = url_in(dir.path(), "by-binary.db");
    EMBEDDED.upgrade(&by_binary).unwrap();
    assert_eq!(changed(&EMBEDDED, &by_binary), Vec::<String>::new());
    assert_eq!(changed(&on_disk, &by_binary), ["b2c3d4e5f6a1"]);

    let by_disk = url_in(dir.path(), "by-disk.db");
    on_disk.upgrade(&by_disk).unwrap();
    assert_eq!(changed(&EMBEDDED, &by_disk), ["b2c3d4e5f6a1"]);
}

/// A subscriber that keeps each event's message.
struct Messages(Arc<Mutex<Vec<String>>>);

struct MessageOf<'a>(&'a mut String);

impl tracing::field::Visit for MessageOf<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            *self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for Messages {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut message = String::new();
        event.record(&mut MessageOf(&mut message));
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {message}", event.metadata().level()));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The one-line upgrade reports each migration's start and end to the
/// application's `tracing` subscriber.
#[test]
fn events_reach_tracing() {
    let dir = tempfile::tempdir().unwrap();
    let url = url_in(dir.path(), "app.db");
    let seen = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::with_default(Messages(Arc::clone(&seen)), || {
        EMBEDDED.upgrade(&url).unwrap();
    });
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.iter()
            .filter(|m| m.contains("migration "))
            .cloned()
            .collect::<Vec<_>>(),
        [
            "INFO migration started: create users",
            "INFO migration finished: create users",
            "INFO migration started: add display names",
            "INFO migration finished: add display names",
            "INFO migration started: add posts",
            "INFO migration finished: add posts",
            "INFO migration started: merge posts and names",
            "INFO migration finished: merge posts and names",
        ],
        "{seen:#?}"
    );
    assert!(seen.contains(&"INFO planned".to_owned()), "{seen:#?}");
}

/// A retort.toml whose revisions lie in more directories than were
/// embedded would run without some of them: refused, naming both.
#[test]
fn an_embedded_project_names_the_directories_of_its_retort_toml() {
    static PARTIAL: Embedded = Embedded {
        config: Some("[migrations]\ndirs = [\"migrations\", \"more\"]\n"),
        dirs: &["migrations"],
        files: &[],
    };
    let error = Migrations::embedded(&PARTIAL).project().unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("`migrations.dirs`")
            && message.contains("the project's revisions are in `migrations`, `more`, but `migrations` were embedded"),
        "{message}"
    );
    let _ = Migrator::open(
        EMBEDDED.project().unwrap(),
        Some("sqlite::memory:"),
        Access::Write,
    )
    .unwrap();
}
