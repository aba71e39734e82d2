//! Scratch databases: where the declared schema and the migrations are
//! run so that the database itself says what they build.
//!
//! SQLite's is in memory. On a server it is a database of its own on
//! `schema.dev_url` (default: the project's server), named so that runs
//! at the same time never meet, and dropped when the run ends — also when
//! it fails, and when it is interrupted ([`drop_all`], called from the
//! CLI's Ctrl-C handler).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::error::SchemaError;
use crate::Dialect;
use crate::config::DatabaseUrl;
use crate::db::{self, Admin, Driver};

/// Scratch databases not dropped yet: (server URL, name).
static LIVE: Mutex<Vec<(DatabaseUrl, String)>> = Mutex::new(Vec::new());

/// Set once [`drop_all`] has run: the work in flight fails because its
/// databases are gone, not because of anything in the project.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// A scratch database, dropped with this value.
pub(crate) struct DevDatabase {
    driver: Option<Box<dyn Driver>>,
    /// The server and the database's name, to drop it.
    server: Option<(Box<dyn Admin>, String)>,
}

impl std::fmt::Debug for DevDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevDatabase")
            .field("name", &self.server.as_ref().map(|(_, name)| name))
            .finish_non_exhaustive()
    }
}

impl DevDatabase {
    /// A new, empty scratch database for `dialect`, on `server` (a URL of
    /// that dialect's server; unused for SQLite).
    pub(crate) fn create(
        dialect: Dialect,
        server: &DatabaseUrl,
    ) -> Result<DevDatabase, SchemaError> {
        if dialect == Dialect::Sqlite {
            let memory = DatabaseUrl::parse("sqlite::memory:").expect("a valid URL");
            let driver = db::connect(&memory).map_err(|error| SchemaError::DevDatabase {
                url: "sqlite::memory:".into(),
                error,
            })?;
            return Ok(DevDatabase {
                driver: Some(driver),
                server: None,
            });
        }
        let failed = |error| SchemaError::DevDatabase {
            url: server.redacted(),
            error,
        };
        let mut admin = db::admin(server).map_err(failed)?;
        let name = unique_name();
        admin.create_database(&name).map_err(failed)?;
        register(server, &name);
        let mut dev = DevDatabase {
            driver: None,
            server: Some((admin, name)),
        };
        let url = {
            let (admin, name) = dev.server.as_ref().expect("just set");
            admin.url_of(name)
        };
        // From here on, dropping `dev` drops the database.
        dev.driver = Some(db::connect(&url).map_err(failed)?);
        Ok(dev)
    }

    /// Its URL, for another client; `None` for SQLite's, which lives in
    /// this process's memory.
    pub(crate) fn url(&self) -> Option<DatabaseUrl> {
        self.server.as_ref().map(|(admin, name)| admin.url_of(name))
    }

    /// The connection to it.
    pub(crate) fn driver(&mut self) -> &mut dyn Driver {
        self.driver.as_deref_mut().expect("open until dropped")
    }
}

impl Drop for DevDatabase {
    fn drop(&mut self) {
        // The connection goes first: a server will not drop a database a
        // session is using.
        self.driver = None;
        if let Some((mut admin, name)) = self.server.take() {
            let _ = admin.drop_database(&name);
            unregister(&name);
        }
    }
}

/// A name no other run uses: the process, a counter and the time.
fn unique_name() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "retort_dev_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn register(server: &DatabaseUrl, name: &str) {
    if let Ok(mut live) = LIVE.lock() {
        live.push((server.clone(), name.to_owned()));
    }
}

fn unregister(name: &str) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|(_, n)| n != name);
    }
}

/// Drops every scratch database this process still has, over a fresh
/// connection: for an interrupted run, whose own connections may be in
/// the middle of a statement.
pub fn drop_all() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let live = match LIVE.lock() {
        Ok(mut live) => std::mem::take(&mut *live),
        Err(_) => return,
    };
    for (server, name) in live {
        if let Ok(mut admin) = db::admin(&server) {
            let _ = admin.drop_database(&name);
        }
    }
}

/// Whether [`drop_all`] has run.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
