//! A project on disk: its configuration, its revision files and their graph.
//!
//! [`Project::load`] reads every `*.sql` file of `migrations.dirs`, parses
//! them and builds the [`Graph`]; script `i` is graph node `i`. The queries
//! the commands print (history, heads, branches, show) and the requests that
//! write files ([`Project::create_revision`], [`Project::merge`], [`init`])
//! live here so the CLI only parses arguments and prints.

mod code;
mod error;
mod init;
mod load;
mod revision;

pub use code::{CodeError, CodeFn, CodeMigration};
pub use error::RequestError;
pub(crate) use init::SCHEMA as SCHEMA_FILE_TEXT;
pub use init::{InitReport, init};
pub use revision::NewRevision;

use crate::Error;
use crate::config::Config;
use crate::graph::Graph;
use crate::script::Script;

/// A loaded project.
#[derive(Debug)]
pub struct Project {
    config: Config,
    scripts: Vec<Script>,
    graph: Graph,
    /// The code migrations registered (see [`Project::with_code`]).
    code: Vec<CodeMigration>,
}

impl Project {
    /// Reads and validates every revision file the configuration points to.
    pub fn load(config: Config) -> Result<Project, Error> {
        let scripts = load::read_scripts(&config.migrations.dirs)?;
        Project::assemble(config, scripts)
    }

    /// Loads the project on the other cores while `side` runs on this
    /// thread (opening the database, say), which reads files too once
    /// `side` returns.
    ///
    /// With `checksums`, for the commands that compare applied files with
    /// the database, each file is checksummed as it is read and only the
    /// checksum is kept: [`Script::source`] reads the text again when its
    /// SQL is needed.
    pub fn load_beside<S>(
        config: Config,
        checksums: bool,
        side: impl FnOnce() -> S,
    ) -> (Result<Project, Error>, S) {
        let (scripts, side) = load::read_scripts_beside(&config.migrations.dirs, checksums, side);
        let project = scripts.and_then(|scripts| Project::assemble(config, scripts));
        (project, side)
    }

    /// The project of `scripts` (embedded ones, say), in their order.
    pub(crate) fn from_scripts(config: Config, scripts: Vec<Script>) -> Result<Project, Error> {
        Project::assemble(config, scripts)
    }

    fn assemble(config: Config, scripts: Vec<Script>) -> Result<Project, Error> {
        let graph = load::build_graph(&scripts)?;
        Ok(Project {
            config,
            scripts,
            graph,
            code: Vec::new(),
        })
    }

    /// The project with `code` registered: the functions of its code
    /// revisions (`-- retort:code NAME VERSION`), by name. A name no
    /// revision file gives, or given twice, is an error (a typo would
    /// otherwise leave its revision without a function).
    pub fn with_code(mut self, code: &[CodeMigration]) -> Result<Project, Error> {
        for (i, migration) in code.iter().enumerate() {
            if code[..i].iter().any(|c| c.name == migration.name) {
                return Err(RequestError::CodeRegisteredTwice {
                    name: migration.name.to_owned(),
                }
                .into());
            }
            let named = self
                .scripts
                .iter()
                .any(|s| s.code.as_ref().is_some_and(|c| c.name == migration.name));
            if !named {
                return Err(RequestError::CodeWithoutRevision {
                    name: migration.name.to_owned(),
                }
                .into());
            }
        }
        self.code = code.to_vec();
        Ok(self)
    }

    /// The registered function of `script`'s code migration, if it is one
    /// and one is registered.
    pub fn code_for(&self, script: &Script) -> Option<&CodeMigration> {
        let name = &script.code.as_ref()?.name;
        self.code.iter().find(|c| c.name == name)
    }

    /// The configuration it was loaded with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The revision graph; node `i` is [`Project::script`]`(i)`.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// All scripts, in graph order.
    pub fn scripts(&self) -> &[Script] {
        &self.scripts
    }

    /// The script of graph node `index`.
    pub fn script(&self, index: usize) -> &Script {
        &self.scripts[index]
    }

    /// Revisions of `history`, newest first: all of them, or an `A:B` range.
    /// `current` is the database's heads when known (for `current` and `+N`).
    pub fn history(
        &self,
        range: Option<&str>,
        current: Option<&[String]>,
    ) -> Result<Vec<usize>, Error> {
        match range {
            None => Ok(self.graph.newest_first().to_vec()),
            Some(range) if range.contains(':') => Ok(self.graph.range(range, current)?),
            // A single target lists that revision, like `show`.
            Some(target) => Ok(self.graph.resolve(target, current)?.revisions),
        }
    }

    /// The revisions a target names (for `show`).
    pub fn resolve(&self, target: &str, current: Option<&[String]>) -> Result<Vec<usize>, Error> {
        Ok(self.graph.resolve(target, current)?.revisions)
    }
}
