//! A small HTTP service that migrates its own database when it starts,
//! then serves a JSON endpoint reading a migrated table.
//!
//! ```text
//! cargo run -p retort-example-app                        # SQLite, ./app.db
//! DATABASE_URL=postgres://app@db/app cargo run -p retort-example-app
//! curl http://127.0.0.1:3000/notes
//! ```
//!
//! The revision files are built into the binary, so the container needs
//! none of them. Ten copies starting at once take turns on retort's run
//! lock: the first migrates, the others find nothing left to do, and all
//! of them serve.
//!
//! Settings: `DATABASE_URL` (default `sqlite://app.db`), `BIND` (default
//! `127.0.0.1:3000`; port 0 picks a free one). The address it listens on
//! is printed on standard output once the database is migrated; the
//! migration's progress goes to standard error.

use std::process::ExitCode;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use retort::Diagnostic;
use retort::config::DatabaseUrl;
use serde_json::{Value, json};

static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");

const DEFAULT_URL: &str = "sqlite://app.db";
const DEFAULT_BIND: &str = "127.0.0.1:3000";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    // retort's events (each migration's start and end, waits for the run
    // lock) are `tracing` events: the service's own log shows them.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let bind = std::env::var("BIND").unwrap_or_else(|_| DEFAULT_BIND.to_owned());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(serve(url, bind)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string()),
    }
}

#[allow(clippy::print_stderr, reason = "the service's last word")]
fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

async fn serve(url: String, bind: String) -> Result<(), BoxError> {
    // Before accepting a request: migrate, on the blocking pool (the
    // library is synchronous, and may wait for another copy's run lock).
    let migrate_url = url.clone();
    tokio::task::spawn_blocking(move || MIGRATIONS.upgrade(&migrate_url))
        .await?
        .map_err(|e| match e.hint() {
            Some(hint) => format!("{e}\nhint: {hint}"),
            None => e.to_string(),
        })?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    announce(listener.local_addr()?);
    let app = Router::new()
        .route("/notes", get(notes))
        .with_state(Arc::new(DatabaseUrl::parse(&url)?));
    axum::serve(listener, app).await?;
    Ok(())
}

#[allow(clippy::print_stdout, reason = "the address, for whoever started it")]
fn announce(address: std::net::SocketAddr) {
    use std::io::Write;
    println!("listening on {address}");
    let _ = std::io::stdout().flush();
}

/// `GET /notes`: every note, from the table the migrations made.
async fn notes(State(url): State<Arc<DatabaseUrl>>) -> Result<Json<Value>, (StatusCode, String)> {
    let read = tokio::task::spawn_blocking(move || read_notes(&url)).await;
    match read {
        Ok(Ok(notes)) => Ok(Json(json!({ "notes": notes }))),
        Ok(Err(e)) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

fn read_notes(url: &DatabaseUrl) -> Result<Vec<Value>, BoxError> {
    let mut db = retort::db::connect(url)?;
    let rows = db.query_text("SELECT id, title, body FROM notes ORDER BY id")?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let text = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            json!({
                "id": text(0).parse::<i64>().unwrap_or_default(),
                "title": text(1),
                "body": text(2),
            })
        })
        .collect())
}
