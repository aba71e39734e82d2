//! Applying 1,000 migrations to a new PostgreSQL database with the real
//! `retort` binary, as a deploy or a container start runs it, against the
//! floor: the same SQL run by `psql` with one transaction per migration.
//! Also the no-op `retort upgrade` of a database already at head, and
//! the same migrations run both ways by sqlx-cli, side by side with retort
//! in rounds of their own: `upgrade` against `sqlx migrate run`,
//! `downgrade base` against `sqlx migrate revert --target-version 0`.
//!
//! ```text
//! cargo build --release -p retort-cli
//! cargo bench -p retort-benches --bench postgres_upgrade
//! ```
//!
//! The benchmark runs `target/release/retort` (built by the first command;
//! `CARGO_TARGET_DIR` is honoured) and `psql` from `PATH` (the binary behind
//! it when that is a wrapper script) against the server of
//! `RETORT_BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), as a role that may create
//! databases. Every database it uses is new, `retort_bench_<pid>_<n>`,
//! created and dropped through that URL; both sides reach it with
//! `sslmode=disable` unless the URL names an `sslmode`. Without `psql` or
//! without a server answering there it says that it skipped, and why, and
//! exits 0.
//!
//! Environment: `RETORT_BENCH_QUICK=1` for a smoke run (100 migrations, 2
//! timed rounds); `RETORT_BENCH_REVISIONS=N` to choose the migration count;
//! `RETORT_BENCH_SQLX=PATH` names the `sqlx` binary (default: `sqlx` on
//! `PATH`; without one the comparison says it skipped; `cargo install
//! sqlx-cli --no-default-features --features postgres,rustls` installs it).
//! Exits non-zero when a command fails or leaves a database wrong, never
//! because a figure is slow.
//!
//! The rounds, checks and report are shared with the other database
//! benchmarks (`retort_benches::upgrade`); this file says how to make, run
//! and query PostgreSQL databases.

// A benchmark's report is its output.
#![allow(clippy::print_stdout)]

use std::env;
use std::fs::{self, File};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use retort::Dialect;
use retort_benches::upgrade::{
    self, Checks, Hosted, Scratch, Server, Settings, Spec, find_on_path, redact, timed,
    with_database,
};

const SPEC: Spec = Spec {
    name: "postgres_upgrade",
    shell: "psql",
    floor_case: "one commit per migration",
    noop_target: upgrade::POSTGRES_NOOP_TARGET,
    targets_of: None,
};

const URL_VAR: &str = "RETORT_BENCH_POSTGRES_URL";

/// Rounds of the sqlx comparison (a quick run has as many as its fresh
/// rounds): more than the fresh rounds, as a difference of a few per cent
/// between two tools is what it is there to show.
const SQLX_ROUNDS: usize = 11;
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// How long `psql` may try to reach the server before the benchmark says
/// it skipped; libpq would otherwise wait as long as TCP does.
const PROBE_TIMEOUT_SECS: &str = "5";

fn main() -> ExitCode {
    retort_benches::exit(SPEC.name, run())
}

/// A PostgreSQL server reached with `psql`.
#[derive(Debug)]
struct Postgres {
    psql: PathBuf,
    /// The URL given, for creating and dropping databases.
    admin: String,
    /// Whether the role may run `CHECKPOINT` between timed runs.
    checkpoint: bool,
    /// Every migration's upgrade SQL in `BEGIN; ...; COMMIT;`, for the floor.
    script: PathBuf,
    /// Where the checks' SQL is written for `psql -f`.
    checks: PathBuf,
}

impl Postgres {
    /// `psql` without a startup file, quiet, stopping at the first error.
    fn psql(&self, url: &str) -> Command {
        let mut command = Command::new(&self.psql);
        command
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(url);
        command
    }
}

impl Server for Postgres {
    /// Runs `sql` on the database of the URL given.
    fn admin(&self, sql: &str) -> Result<(), String> {
        timed(self.psql(&self.admin).arg("-c").arg(sql)).map(|_| ())
    }

    /// The admin URL naming `key`, with `sslmode=disable` unless it names
    /// an `sslmode`: both sides then connect the same way, where by default
    /// each would decide alone whether to negotiate TLS (a handshake per
    /// connection, encryption of every statement).
    fn url(&self, key: &str) -> String {
        with_database(&self.admin, key, &["sslmode"], "sslmode=disable")
    }

    /// A checkpoint writes out what the run before left in shared buffers,
    /// so that neither side pays for the other's pages; it is the server's
    /// own work and untimed.
    fn settle(&mut self) -> Result<(), String> {
        if self.checkpoint {
            self.admin("CHECKPOINT")
                .map_err(|e| format!("CHECKPOINT before a timed run: {e}"))?;
        }
        Ok(())
    }

    /// `psql -X -q -v ON_ERROR_STOP=1 -d <url> -f script.sql`.
    fn floor(&self, key: &str) -> Result<Option<Command>, String> {
        let mut command = self.psql(&self.url(key));
        command.arg("-f").arg(&self.script);
        Ok(Some(command))
    }

    fn read_version(&self, key: &str) -> Option<Command> {
        let mut command = self.psql(&self.url(key));
        command
            .arg("-At")
            .arg("-c")
            .arg("SELECT version_num FROM retort_version");
        Some(command)
    }

    fn query(&self, key: &str, sql: &str) -> Result<String, String> {
        fs::write(&self.checks, sql)
            .map_err(|e| format!("cannot write `{}`: {e}", self.checks.display()))?;
        let (_, output) = timed(
            self.psql(&self.url(key))
                .arg("-At")
                .arg("-f")
                .arg(&self.checks),
        )
        .map_err(|e| format!("check: psql: {e}"))?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// `psql` from `PATH`; where that is a script, such as Debian's
/// `pg_wrapper` (Perl that picks a version's binary: 30-40 ms before the
/// client starts), the newest binary under `/usr/lib/postgresql`, so that the
/// floor is the client's own cost.
fn find_psql() -> Option<PathBuf> {
    let psql = find_on_path("psql")?;
    let mut start = [0u8; 2];
    let is_script = File::open(&psql)
        .and_then(|mut file| file.read_exact(&mut start))
        .is_ok_and(|()| &start == b"#!");
    if !is_script {
        return Some(psql);
    }
    let newest = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let binary = entry.path().join("bin").join("psql");
            binary.is_file().then_some((version, binary))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, binary)| binary);
    Some(newest.unwrap_or(psql))
}

/// The server's version and the settings that decide how a commit reaches
/// the disk, in one line, and whether the role may run `CHECKPOINT`; or
/// what `psql` said when it could not use the server.
fn probe(psql: &Path, url: &str) -> Result<(String, bool), String> {
    let ask = |sql: &str| {
        upgrade::answer(
            Command::new(psql)
                .args(["-X", "-q", "-At", "-d", url, "-c", sql])
                .env("PGCONNECT_TIMEOUT", PROBE_TIMEOUT_SECS),
        )
    };
    let settings = ask("SELECT 'PostgreSQL ' || current_setting('server_version') \
         || '; synchronous_commit=' || current_setting('synchronous_commit') \
         || ', fsync=' || current_setting('fsync') \
         || ', wal_sync_method=' || current_setting('wal_sync_method') \
         || ', full_page_writes=' || current_setting('full_page_writes') \
         || ', shared_buffers=' || current_setting('shared_buffers')")?;
    // CHECKPOINT needs a superuser or pg_checkpoint; without it the runs go
    // on, and the report says so.
    let checkpoint = ask("CHECKPOINT").is_ok();
    Ok((settings, checkpoint))
}

fn run() -> Result<(), String> {
    let settings = Settings::from_env()?;
    let Some(psql) = find_psql() else {
        return upgrade::skipped(
            &SPEC,
            "no `psql` on PATH (install the PostgreSQL client to measure)",
        );
    };
    let admin = env::var(URL_VAR).unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let (server_settings, checkpoint) = match probe(&psql, &admin) {
        Ok(found) => found,
        Err(e) => {
            return upgrade::skipped_server(&SPEC, "PostgreSQL", &admin, URL_VAR, &e);
        }
    };

    let Scratch { dir, bench, script } = Scratch::new(SPEC, settings, "BEGIN", Dialect::Postgres)?;
    let mut hosted = Hosted::new(
        &SPEC,
        Postgres {
            psql,
            admin,
            checkpoint,
            script,
            checks: dir.path().join("check.sql"),
        },
    );

    let n = bench.revisions();
    let checks = Checks {
        counts: vec![
            (
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() \
                 AND tablename ~ '^t[0-9]+$';"
                    .to_owned(),
                n,
            ),
            (
                "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() \
                 AND indexname LIKE 'ix\\_t%';"
                    .to_owned(),
                n,
            ),
            (
                "SELECT count(*) FROM pg_constraint c \
                 JOIN pg_namespace s ON s.oid = c.connamespace \
                 WHERE s.nspname = current_schema() AND c.contype = 'f';"
                    .to_owned(),
                n.saturating_sub(1),
            ),
        ],
        // PostgreSQL checks every reference as the rows go in.
        silent: String::new(),
        // User objects only: the floor has no retort tables.
        schema: "SELECT table_name, ordinal_position, column_name, data_type, is_nullable, \
                 column_default FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE 'retort%' \
                 ORDER BY table_name, ordinal_position;\n\
                 SELECT tablename, indexname, indexdef FROM pg_indexes \
                 WHERE schemaname = current_schema() AND tablename NOT LIKE 'retort%' \
                 ORDER BY indexname;\n\
                 SELECT c.conrelid::regclass::text AS t, c.conname, pg_get_constraintdef(c.oid) \
                 FROM pg_constraint c JOIN pg_namespace s ON s.oid = c.connamespace \
                 WHERE s.nspname = current_schema() \
                 AND c.conrelid::regclass::text NOT LIKE 'retort%' ORDER BY t, c.conname;\n"
            .to_owned(),
        versions: "SELECT string_agg(version_num, ',' ORDER BY version_num) FROM retort_version;"
            .to_owned(),
    };
    // Both ways give the same schema and data, and retort's bookkeeping
    // says head, before anything is timed.
    let figures = upgrade::check_and_measure(&bench, &mut hosted, &checks)?;
    let server = &hosted.server;

    let floor = format!(
        "floor: {} -X -q -v ON_ERROR_STOP=1 -d <new database> -f script ({} KiB: \
         BEGIN; <upgrade SQL>; COMMIT; per migration)",
        server.psql.display(),
        upgrade::kib(&server.script),
    );
    let databases = format!(
        "server: {server_settings} at {} (the server's settings, the same for both sides); \
         both sides connect to {}, a new database each run; {}",
        redact(&server.admin),
        hosted.url_pattern(),
        if server.checkpoint {
            "CHECKPOINT before every timed fresh run"
        } else {
            "no CHECKPOINT between runs (the role may not run it)"
        },
    );
    upgrade::report(&bench, &[floor, databases], &figures);
    compare_with_sqlx(&bench, &mut hosted, dir.path())
}

/// `sqlx migrate run` and `sqlx migrate revert --target-version 0` of
/// the same migrations against `retort upgrade` and `retort downgrade
/// base`, each round on two new databases, the order alternating; prints
/// the medians and, by the median of the rounds' ratios, whether retort is
/// ahead.
fn compare_with_sqlx(
    bench: &upgrade::Bench,
    hosted: &mut Hosted<Postgres>,
    dir: &Path,
) -> Result<(), String> {
    use retort_benches::Stats;
    use upgrade::Database as _;
    let sqlx = env::var_os("RETORT_BENCH_SQLX")
        .map(PathBuf::from)
        .or_else(|| find_on_path("sqlx"));
    let Some(sqlx) = sqlx else {
        println!(
            "sqlx-cli: SKIPPED: no `sqlx` on PATH (`cargo install sqlx-cli --no-default-features --features postgres,rustls`, or set RETORT_BENCH_SQLX)"
        );
        return Ok(());
    };
    // sqlx's layout: `<version>_<description>.up.sql` and `.down.sql`.
    let source = dir.join("sqlx");
    fs::create_dir_all(&source)
        .map_err(|e| format!("cannot create `{}`: {e}", source.display()))?;
    for (i, revision) in bench.generated.revisions.iter().enumerate() {
        let body = upgrade::body(revision);
        let stem = source.join(format!("{:014}_{}", i + 1, revision.id));
        let write = |suffix: &str, sql: &str| {
            let path = stem.with_extension(suffix);
            fs::write(&path, sql).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
        };
        write("up.sql", &body.upgrade)?;
        write("down.sql", body.downgrade.as_deref().unwrap_or_default())?;
    }
    let sqlx_command = |url: &str, args: &[&str]| {
        let mut command = Command::new(&sqlx);
        command
            .args(["migrate"])
            .args(args)
            .arg("--source")
            .arg(&source)
            .arg("--database-url")
            .arg(url);
        command
    };
    let n = bench.revisions();
    let rounds = if bench.settings.quick {
        bench.settings.fresh_rounds
    } else {
        SQLX_ROUNDS
    };
    // Each round times all four on two new databases, the sides
    // alternating which goes first; a round's pair ran seconds apart, so
    // the ratio of the pair cancels most of what the machine was doing.
    let mut upgrades = Vec::new();
    let mut downgrades = Vec::new();
    for round in 0..rounds {
        let ours = hosted.create(&format!("sqlx-retort-{round}"))?;
        let theirs = hosted.create(&format!("sqlx-{round}"))?;
        let (ours_url, theirs_url) = (hosted.url(&ours), hosted.url(&theirs));
        for up in [true, false] {
            let mut pair = [Duration::ZERO; 2];
            for side in [round % 2, 1 - round % 2] {
                hosted.settle()?;
                let mut command = match (side, up) {
                    (0, true) => bench.retort(&ours_url, &["upgrade"]),
                    (0, false) => bench.retort(&ours_url, &["downgrade", "base"]),
                    (_, true) => sqlx_command(&theirs_url, &["run"]),
                    (_, false) => sqlx_command(&theirs_url, &["revert", "--target-version", "0"]),
                };
                pair[side] = timed(&mut command)
                    .map_err(|e| format!("sqlx comparison: {e}"))?
                    .0;
            }
            if up {
                // Both made the same tables before either goes down.
                let count = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() \
                             AND tablename ~ '^t[0-9]+$';";
                for key in [&ours, &theirs] {
                    let got = hosted.server.query(key, count)?;
                    if got.trim() != n.to_string() {
                        return Err(format!(
                            "sqlx comparison: {key} has {} tables, not {n}",
                            got.trim()
                        ));
                    }
                }
                upgrades.push(pair);
            } else {
                downgrades.push(pair);
            }
        }
        hosted.remove(&ours);
        hosted.remove(&theirs);
    }
    println!(
        "sqlx-cli: {} ({rounds} rounds, the same {n} migrations as .up.sql/.down.sql files, a new database per round each)",
        sqlx.display(),
    );
    for (what, pairs) in [
        ("fresh upgrade (sqlx migrate run)", upgrades),
        (
            "downgrade base (sqlx migrate revert --target-version 0)",
            downgrades,
        ),
    ] {
        let mut ratios: Vec<f64> = pairs
            .iter()
            .map(|[ours, theirs]| ours.as_secs_f64() / theirs.as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        let ratio = match ratios.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => ratios[n / 2],
            n => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
        };
        let side = |i: usize| Stats::of(&mut pairs.iter().map(|p| p[i]).collect::<Vec<_>>());
        let (ours, theirs) = (side(0), side(1));
        println!(
            "  {what}: retort {:.1} ms, sqlx {:.1} ms (medians; minimums {:.1} and {:.1}); \
             median of the rounds' ratios {ratio:.2}x — {}",
            ours.median.as_secs_f64() * 1000.0,
            theirs.median.as_secs_f64() * 1000.0,
            ours.min.as_secs_f64() * 1000.0,
            theirs.min.as_secs_f64() * 1000.0,
            if ratio < 1.0 {
                "PASS: retort ahead"
            } else {
                "FAIL: sqlx ahead"
            }
        );
    }
    Ok(())
}
