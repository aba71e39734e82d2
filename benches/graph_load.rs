//! Loading a large project: 10,000 revision files (a main line with a side
//! branch merged back every 50 revisions) read, parsed and built into the
//! revision graph, against reading the same files without parsing.
//!
//! `cargo bench -p retort-benches --bench graph_load`
//!
//! Environment: `RETORT_BENCH_QUICK=1` for a smoke run (1,000 files, 3
//! iterations); `RETORT_BENCH_REVISIONS=N` to choose the file count. Each
//! case's result is freed after its clock stops. Exits non-zero when the generated project does not load or loads wrong, never
//! because a figure is slow.

// This binary's output is its result: it prints the table to stdout, which
// the workspace lints warn about for library code.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use std::{fs, thread};

use retort::config::Config;
use retort::project::Project;
use retort_benches::{
    Built, Case, Generated, Shape, generate, load_average_line, measure, millis, print_cases,
    quick, revision_count,
};

/// The figure the target is set for.
const TARGET_REVISIONS: usize = 10_000;
/// `load + heads` must stay under this for [`TARGET_REVISIONS`] files.
const TARGET: Duration = Duration::from_millis(100);
/// Untimed rounds of every case before measuring; they also fill the page
/// cache, so every timed round reads files from memory.
const WARM_UP: usize = 2;
const ITERATIONS: usize = 15;
const QUICK_REVISIONS: usize = 1_000;
const QUICK_ITERATIONS: usize = 3;

struct Settings {
    revisions: usize,
    iterations: usize,
    quick: bool,
}

fn settings() -> Result<Settings, String> {
    let quick = quick();
    let revisions = revision_count(TARGET_REVISIONS, QUICK_REVISIONS)?;
    let iterations = if quick { QUICK_ITERATIONS } else { ITERATIONS };
    Ok(Settings {
        revisions,
        iterations,
        quick,
    })
}

fn main() -> ExitCode {
    retort_benches::exit("graph_load", run())
}

fn run() -> Result<(), String> {
    let settings = settings()?;
    let dir =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let generated = generate(dir.path(), settings.revisions, Shape::Branched)
        .map_err(|e| format!("cannot write the project: {e}"))?;
    check(&generated)?;

    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    let migrations = generated.migrations.clone();
    let config = generated.config.clone();
    let mut cases = vec![
        Case::baseline("baseline: read_dir + fs::read", || {
            Ok(Box::new(read_all(&migrations)))
        }),
        Case::new("load + heads", || load_heads(&config)),
        Case::new("load + heads + full history", || load_history(&config)),
    ];
    if threads > 1 {
        // Project::load reads and parses on every core from 512 files on, so
        // the same read on as many threads is the floor it could reach.
        cases.insert(
            1,
            Case::new("(context) read on all cores", || {
                Ok(Box::new(read_all_parallel(&migrations, threads)))
            }),
        );
    }
    measure(&mut cases, WARM_UP, settings.iterations)?;

    report(&settings, &generated, threads, &mut cases);
    Ok(())
}

/// Loads the generated project once and compares it with the plan, so the
/// timed cases are known to do the whole job.
fn check(generated: &Generated) -> Result<(), String> {
    let config = Config::load(&generated.config).map_err(|e| format!("config: {e}"))?;
    let project = Project::load(config).map_err(|e| format!("generated project: {e}"))?;
    let graph = project.graph();
    if graph.len() != generated.revisions.len() {
        return Err(format!(
            "loaded {} revisions, wrote {}",
            graph.len(),
            generated.revisions.len()
        ));
    }
    if graph.head_ids() != generated.heads() {
        return Err(format!(
            "heads {:?}, expected {:?}",
            graph.head_ids(),
            generated.heads()
        ));
    }
    let history = project
        .history(None, None)
        .map_err(|e| format!("history: {e}"))?;
    if history.len() != generated.revisions.len() {
        return Err(format!("history lists {} revisions", history.len()));
    }
    Ok(())
}

/// The floor: list the directory and read every file, no parsing.
fn read_all(dir: &Path) -> Vec<Vec<u8>> {
    let files = list(dir);
    let contents: Vec<Vec<u8>> = files.iter().map(|p| read(p)).collect();
    black_box(contents)
}

/// [`read_all`] with the reads split over `threads` threads.
fn read_all_parallel(dir: &Path, threads: usize) -> Vec<Vec<Vec<u8>>> {
    let files = list(dir);
    let chunk = files.len().div_ceil(threads).max(1);
    let contents: Vec<Vec<Vec<u8>>> = thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|p| read(p)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    black_box(contents)
}

fn list(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_default()
}

/// What `retort heads` does: load the configuration and the project.
fn load_heads(config: &Path) -> Result<Built, String> {
    let config = Config::load(config).map_err(|e| e.to_string())?;
    let project = Project::load(config).map_err(|e| e.to_string())?;
    black_box(project.graph().heads());
    Ok(Box::new(project))
}

/// What `retort history` does: load, order every revision newest first and
/// render each as `parents -> rev, message`.
fn load_history(config: &Path) -> Result<Built, String> {
    let config = Config::load(config).map_err(|e| e.to_string())?;
    let project = Project::load(config).map_err(|e| e.to_string())?;
    let graph = project.graph();
    black_box(graph.heads());
    let history = project.history(None, None).map_err(|e| e.to_string())?;
    let lines: Vec<String> = history
        .iter()
        .map(|&i| {
            let parents = graph.node(i).parents();
            let parents = if parents.is_empty() {
                "<base>".to_owned()
            } else {
                graph.ids(parents).join(", ")
            };
            let rev = graph.node(i).id();
            let message = &project.script(i).message;
            format!("{parents} -> {rev}, {message}")
        })
        .collect();
    Ok(Box::new((project, black_box(lines))))
}

/// Prints the table; `false` when the target was checked and missed.
fn report(
    settings: &Settings,
    generated: &Generated,
    threads: usize,
    cases: &mut [Case<'_>],
) -> bool {
    let merges = generated
        .revisions
        .iter()
        .filter(|r| r.parents.len() > 1)
        .count();
    println!(
        "graph_load: {} revision files ({} merges, {} KiB), {} cores{}",
        generated.revisions.len(),
        merges,
        generated.bytes / 1024,
        threads,
        if settings.quick { ", quick run" } else { "" },
    );
    println!(
        "{WARM_UP} untimed warm-up rounds of every case, then {} timed rounds; every \
         case reads the same files, so all read them from a warm page cache",
        settings.iterations,
    );
    // Other work on the machine shows up in every figure; say how much there was.
    if let Some(line) = load_average_line() {
        println!("{line}");
    }
    println!();
    let rows = print_cases(cases);
    println!();
    let load = rows
        .iter()
        .find(|r| r.0 == "load + heads")
        .map(|r| r.1.median);
    match load {
        Some(load) if generated.revisions.len() == TARGET_REVISIONS => {
            let verdict = if load < TARGET { "PASS" } else { "FAIL" };
            println!(
                "target: load+heads < {} ms (median, {TARGET_REVISIONS} files): {verdict} ({:.2} ms)",
                TARGET.as_millis(),
                millis(load),
            );
            load < TARGET
        }
        _ => {
            println!(
                "target: load+heads < {} ms applies to {TARGET_REVISIONS} files; not checked",
                TARGET.as_millis()
            );
            true
        }
    }
}
