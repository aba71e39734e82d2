//! One function per command: call the library, hand the result to the printer.

mod chores;
mod fanout;
mod import;
mod lock;
mod migrate;
mod query;
mod schema;
mod test;
mod write;

use std::path::PathBuf;

use retort::config::{Config, Locate};
use retort::migrator::{Options, Request};
use retort::project::Project;

use crate::args::{Cli, Command, Format, Global, ImportFrom, LockAction, SchemaCommand};
use crate::output::{Failure, Printer};

/// What a command does with the database, for what to prepare while the
/// project loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbUse {
    /// Reads the state only (`current`, `status`).
    Read,
    /// Compares every applied file with its checksum (`verify`).
    Verify,
    /// Takes the run lock; records or compares checksums.
    Migrate,
    /// As `Migrate`, but writes nothing (`--dry-run`).
    DryRun,
}

impl DbUse {
    fn access(self) -> retort::db::Access {
        match self {
            DbUse::Read | DbUse::Verify | DbUse::DryRun => retort::db::Access::Read,
            DbUse::Migrate => retort::db::Access::Write,
        }
    }
}

/// Leaves memory to the operating system instead of freeing it, once the
/// command is done with it: the process exits right after, and freeing
/// 1,000 parsed revisions one allocation at a time costs a no-op
/// `retort upgrade` time it does not need to spend.
pub(crate) fn leave_to_exit<T>(value: T) {
    std::mem::forget(value);
}

/// Closes a connection the command is done with (its run lock released).
/// A SQLite connection is left to the exit like memory: closing it frees
/// the whole parsed schema one allocation at a time (about 1 ms for 2,000
/// tables and indexes), and outside a transaction it has nothing else to
/// do that matters (in WAL mode, the next connection checkpoints what this
/// one would have). A server connection is closed properly: a server logs
/// a client that disappears without saying goodbye.
pub(crate) fn close(driver: Box<dyn retort::db::Driver>) {
    if driver.dialect() == retort::Dialect::Sqlite {
        leave_to_exit(driver);
    }
}

/// A line on stderr, beside what a command prints.
pub(crate) fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// What every command needs.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) printer: Printer,
    /// Paths are printed relative to it.
    pub(crate) cwd: PathBuf,
    global: Global,
    /// The environment in use (`--env`, `RETORT_ENV`), once known: every
    /// error names it.
    environment: std::cell::RefCell<Option<String>>,
}

impl Context {
    pub(crate) fn config(&self) -> Result<Config, Failure> {
        let config = Config::locate(&Locate {
            config: self.global.config.clone(),
            dir: None,
            environment: self.global.environment.clone(),
        })
        .map_err(retort::Error::from)?;
        if let Some(name) = config.environment_name() {
            self.environment.replace(Some(name.to_owned()));
        }
        Ok(config)
    }

    /// The environment in use, once the configuration is loaded.
    pub(crate) fn environment(&self) -> Option<String> {
        self.environment.borrow().clone()
    }

    pub(crate) fn load_project(&self) -> Result<Project, Failure> {
        Ok(Project::load(self.config()?)?)
    }

    /// The project and its database, opened side by side: opening a large
    /// SQLite database parses its whole schema, and a server connection
    /// (two, to migrate) waits on the network, while the revision files are
    /// read and, unless the command only reads the state, checksummed.
    pub(crate) fn load_project_and_database(
        &self,
        purpose: DbUse,
    ) -> Result<(Project, Box<dyn retort::db::Driver>), Failure> {
        let config = self.config()?;
        let url = self.global.url.as_deref();
        let open = || {
            let mut driver = retort::open(&config, url, purpose.access())?;
            if matches!(purpose, DbUse::Migrate | DbUse::DryRun) {
                driver.prepare_lock();
            }
            Ok::<_, retort::Error>(driver)
        };
        let (project, driver) = Project::load_beside(config.clone(), purpose != DbUse::Read, open);
        Ok((project?, driver?))
    }

    pub(crate) fn url(&self) -> Option<&str> {
        self.global.url.as_deref()
    }

    pub(crate) fn format(&self) -> Format {
        self.printer.format
    }

    /// `--format dot` belongs to `history`; elsewhere it is a usage error.
    pub(crate) fn no_dot(&self, command: &str) -> Result<(), Failure> {
        if self.format() == Format::Dot {
            return Err(Failure::usage(
                format!("`retort {command}` has no `--format dot` output"),
                Some("use `--format text` or `--format json`; `retort history --format dot` draws the graph".into()),
            ));
        }
        Ok(())
    }
}

pub(crate) fn run(cli: Cli) -> Result<(), Failure> {
    if let Some(dir) = &cli.global.directory {
        std::env::set_current_dir(dir).map_err(|e| {
            Failure::usage(
                format!("cannot change to directory `{}`: {e}", dir.display()),
                None,
            )
        })?;
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::usage(format!("cannot read the working directory: {e}"), None))?;
    let context = Context {
        printer: Printer {
            format: cli.global.format,
        },
        cwd,
        global: cli.global,
        environment: std::cell::RefCell::new(None),
    };
    let result = dispatch(&context, cli.command);
    result.map_err(|failure| failure.in_environment(context.environment()))
}

fn dispatch(context: &Context, command: Command) -> Result<(), Failure> {
    match command {
        Command::Init { dir, dialect } => write::init(context, &dir, dialect),
        Command::Revision(args) if args.autogenerate => schema::autogenerate(context, args),
        Command::Revision(args) => write::revision(context, args),
        Command::Check => schema::check(context),
        Command::Test => test::test(context),
        Command::Completions { shell } => write::completions(shell),
        Command::Man => write::man(),
        Command::Info => chores::info(context),
        Command::Backup { output } => chores::backup(context, output.as_deref()),
        Command::Restore { file, yes } => chores::restore(context, &file, yes),
        Command::Create => chores::create(context),
        Command::Drop { yes } => chores::drop(context, yes),
        Command::Reset { yes } => chores::reset(context, yes),
        Command::Baseline { message, rev_id } => schema::baseline(context, message, rev_id),
        Command::Schema(SchemaCommand::Dump) => schema::dump(context),
        Command::Lock(args) => match args.action {
            LockAction::Status => lock::status(context),
            LockAction::Release => lock::release(context, args.yes),
        },
        Command::Import(args) => match args.from {
            ImportFrom::Alembic => import::alembic(context, args),
        },
        Command::Merge {
            revisions,
            message,
            rev_id,
            branch_labels,
        } => write::merge(context, &revisions, message, rev_id, branch_labels),
        Command::History {
            range,
            verbose,
            graph,
            indicate_current,
        } => query::history(context, range.as_deref(), verbose, graph, indicate_current),
        Command::Heads {
            verbose,
            resolve_dependencies,
        } => query::heads(context, verbose, resolve_dependencies),
        Command::Edit { rev } => query::edit(context, &rev),
        Command::Branches { verbose } => query::branches(context, verbose),
        Command::Show { rev } => query::show(context, &rev),
        Command::Upgrade(args) => migrate::upgrade(context, args, true),
        Command::Downgrade(args) => migrate::upgrade(context, args, false),
        Command::Stamp {
            revisions,
            purge,
            dry_run,
            sql,
            fleet,
        } => {
            let fleet = fanout::Fleet::from_args(context, &fleet)?;
            let mut words = vec!["stamp".to_owned()];
            words.extend(revisions.iter().cloned());
            if purge {
                words.push("--purge".to_owned());
            }
            let request = Request::Stamp {
                targets: revisions,
                purge,
            };
            if sql {
                migrate::no_fleet_offline(fleet.as_ref())?;
                return migrate::offline(context, &request, false, None);
            }
            let mut options = Options::default();
            options.dry_run = dry_run;
            match fleet {
                Some(fleet) => fanout::run(context, &fleet, &words, &request, &options),
                None => migrate::request(context, "stamp", &request, &options),
            }
        }
        Command::Resume {
            skip_running,
            dry_run,
            statement_lock_timeout,
            fleet,
        } => {
            let fleet = fanout::Fleet::from_args(context, &fleet)?;
            let mut words = vec!["resume".to_owned()];
            if skip_running {
                words.push("--skip-running".to_owned());
            }
            let request = Request::Resume { skip_running };
            let mut options = Options::default();
            options.dry_run = dry_run;
            options.statement_lock_timeout = migrate::seconds(statement_lock_timeout);
            match fleet {
                Some(fleet) => fanout::run(context, &fleet, &words, &request, &options),
                None => migrate::request(context, "resume", &request, &options),
            }
        }
        Command::Repair {
            revision,
            done,
            rolled_back: _,
            dry_run,
        } => {
            let mut options = Options::default();
            options.dry_run = dry_run;
            migrate::request(
                context,
                "repair",
                &Request::Repair { revision, done },
                &options,
            )
        }
        Command::Current {
            verbose,
            check_heads,
        } => migrate::current(context, verbose, check_heads),
        Command::Status { targets } => match fanout::Fleet::of_targets(context, &targets)? {
            Some(fleet) => fanout::status(context, &fleet),
            None => migrate::status(context),
        },
        Command::Verify => migrate::verify(context),
        Command::Rehash { accept } => migrate::rehash(context, &accept),
    }
}
