//! The command line, as clap parses it. Values here are only syntax-checked;
//! the library validates meaning.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Database schema migrations with Alembic's revision model, in plain SQL.
#[derive(Debug, Parser)]
#[command(name = "retort", version, about, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Output format: human text, one JSON document, or Graphviz DOT (`history`)
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
    /// Use this retort.toml instead of searching the directory and its parents
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    /// Run as if started in DIR
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub(crate) directory: Option<PathBuf>,
    /// Database URL; overrides the environment's url, DATABASE_URL and database.url
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) url: Option<String>,
    /// Use the settings of `[environments.NAME]` in retort.toml (else RETORT_ENV)
    #[arg(long = "env", global = true, value_name = "NAME")]
    pub(crate) environment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    Dot,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum DialectArg {
    Sqlite,
    Postgres,
    Mysql,
}

impl DialectArg {
    pub(crate) fn dialect(self) -> retort::Dialect {
        match self {
            DialectArg::Sqlite => retort::Dialect::Sqlite,
            DialectArg::Postgres => retort::Dialect::Postgres,
            DialectArg::Mysql => retort::Dialect::Mysql,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create retort.toml, migrations/, the revision template and schema.sql
    Init {
        /// Where to create the project
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The database the project targets
        #[arg(long, value_enum, default_value_t = DialectArg::Sqlite)]
        dialect: DialectArg,
    },
    /// Write a new revision file
    Revision(RevisionArgs),
    /// Write a revision that merges several revisions (e.g. `heads`)
    Merge {
        /// Revisions to merge; `heads` for all heads
        #[arg(required = true, value_name = "REVS")]
        revisions: Vec<String>,
        /// The message
        #[arg(short, long, default_value = "")]
        message: String,
        /// Use this id instead of a random one
        #[arg(long, value_name = "ID")]
        rev_id: Option<String>,
        /// Branch label for the merge revision
        #[arg(long = "branch-label", value_name = "LABEL")]
        branch_labels: Vec<String>,
    },
    /// List revisions, newest first
    History {
        /// Only revisions in the range A:B (`base:head`, `abc:`, `:def`, `label@base:label@head`;
        /// `current` reads the database)
        #[arg(
            short = 'r',
            long = "rev-range",
            value_name = "A:B",
            allow_hyphen_values = true
        )]
        range: Option<String>,
        /// Show every detail of each revision
        #[arg(short, long)]
        verbose: bool,
        /// Draw the revision graph
        #[arg(long, conflicts_with = "verbose")]
        graph: bool,
        /// Mark the revisions the database is at with `(current)`
        #[arg(short = 'i', long)]
        indicate_current: bool,
    },
    /// List the head revisions
    Heads {
        /// Show every detail of each revision
        #[arg(short, long)]
        verbose: bool,
        /// Leave out heads that another revision depends on (Alembic's
        /// "effective heads"): the heads `upgrade heads` ends at
        #[arg(long)]
        resolve_dependencies: bool,
    },
    /// List branch points and the revisions they branch into
    Branches {
        /// Show every detail of each revision
        #[arg(short, long)]
        verbose: bool,
    },
    /// Apply revisions up to TARGET (default `head`)
    Upgrade(RunArgs),
    /// Revert revisions down to TARGET (`-1`, a revision, `base`, `label@base`)
    Downgrade(RunArgs),
    /// Set the version table to REVS without running any SQL
    Stamp {
        /// Revisions to mark as the current ones (`head`, ids, `base`)
        #[arg(required = true, value_name = "REVS", allow_negative_numbers = true)]
        revisions: Vec<String>,
        /// Empty the version table first (also when it names unknown revisions)
        #[arg(long)]
        purge: bool,
        /// Show what would change without changing it
        #[arg(long, conflicts_with = "sql")]
        dry_run: bool,
        /// Print the SQL that stamps instead of running it (offline mode;
        /// `FROM:TO` starts at FROM's revisions)
        #[arg(long)]
        sql: bool,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Finish a migration a run left half way (`retort status` shows it)
    Resume {
        /// Count the statement that was running outside a transaction when
        /// the run stopped as completed (after checking that it did)
        #[arg(long)]
        skip_running: bool,
        /// Show what would run without running it
        #[arg(long)]
        dry_run: bool,
        /// Seconds one statement may wait for a table lock (PostgreSQL); 0 leaves the server's setting
        #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
        statement_lock_timeout: f64,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Record how a half-applied migration was settled by hand
    Repair {
        /// The half-applied revision (id or unique prefix)
        revision: String,
        /// It was finished by hand: record it as applied (or reverted, for a downgrade)
        #[arg(
            long,
            required_unless_present = "rolled_back",
            conflicts_with = "rolled_back"
        )]
        done: bool,
        /// It was undone by hand: forget the half-applied state, record nothing
        #[arg(long)]
        rolled_back: bool,
        /// Show what would change without changing it
        #[arg(long)]
        dry_run: bool,
    },
    /// Show the database's current revisions
    Current {
        /// Show every detail of each revision
        #[arg(short, long)]
        verbose: bool,
        /// Exit with code 3 unless every head is applied
        #[arg(long)]
        check_heads: bool,
    },
    /// Open the file of a revision (`head`, an id, `current`…) in $EDITOR
    Edit {
        /// The revision
        #[arg(allow_hyphen_values = true)]
        rev: String,
    },
    /// Show the current revisions, the heads, and what `upgrade` would apply
    Status {
        #[command(flatten)]
        targets: TargetArgs,
    },
    /// Check that applied revision files are unchanged (exit code 3 if not)
    Verify,
    /// Update stored checksums to the current algorithm where files are provably unchanged;
    /// with --accept, record changed applied files as they are now
    Rehash {
        /// Applied revisions whose files changed on purpose: record them as they
        /// are now (the old checksums go to the `retort_audit` table)
        #[arg(long, value_name = "REV", num_args = 1..)]
        accept: Vec<String>,
    },
    /// Compare the declared schema (`schema.files`) with the migrations' (exit code 3 if they differ)
    Check,
    /// Try the migrations on a scratch database: one head; each revision upgraded, downgraded
    /// (to the schema it started from) and upgraded again; the declared schema at the heads
    /// (exit code 3 on any failure)
    Test,
    /// Write a first revision that creates the database's schema as it is, and stamp the
    /// database at it
    Baseline {
        /// The message
        #[arg(short, long, default_value = "baseline")]
        message: String,
        /// Use this id instead of a random one
        #[arg(long, value_name = "ID")]
        rev_id: Option<String>,
    },
    /// The run lock: who holds it (`status`), and freeing a lease a dead run left
    /// (`release --yes`)
    Lock(LockArgs),
    /// Print the completion script of a shell, e.g.
    /// `retort completions bash > ~/.local/share/bash-completion/completions/retort`
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `retort man > ~/.local/share/man/man1/retort.1`
    Man,
    /// Back the database up into a file of its own (mode 0600), named after the
    /// database, its revision and the time
    Backup {
        /// The file to create, or a directory to create it in (default: backups/ beside
        /// retort.toml)
        #[arg(long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// Replace the database's contents with a backup; says what it replaces, asks on a
    /// terminal, needs --yes otherwise
    Restore {
        /// The backup file
        file: PathBuf,
        /// Confirm the replacement without asking
        #[arg(long)]
        yes: bool,
    },
    /// Everything about the database in one view: environment, server, size, current
    /// revisions and heads, pending count, the last applied revisions, a half-applied
    /// migration, changed files
    Info,
    /// Create the configured database (SQLite: an empty file); one that exists is left as it is
    Create,
    /// Drop the configured database; needs --yes, refused in a protected environment
    Drop {
        /// Confirm that the database and everything in it goes
        #[arg(long)]
        yes: bool,
    },
    /// Drop every object of the database, then upgrade to head; needs --yes, refused in a
    /// protected environment
    Reset {
        /// Confirm that every object, data included, goes
        #[arg(long)]
        yes: bool,
    },
    /// The database's schema
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Write a retort project from an Alembic project (`retort import alembic`): one SQL
    /// revision file per Alembic revision, same ids, same version table. Runs each
    /// revision once with Alembic on a scratch database
    Import(ImportArgs),
    /// Show the revisions a target names
    Show {
        /// A revision id, unique prefix, label, `head`, `heads`, `rev-1`…
        #[arg(allow_hyphen_values = true)]
        rev: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct LockArgs {
    /// What to do
    #[arg(value_enum)]
    pub(crate) action: LockAction,
    /// With `release`: free it even if its holder still runs (required)
    #[arg(long)]
    pub(crate) yes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LockAction {
    /// Which run lock the database's runs take, and who holds it since when
    Status,
    /// Free the lease (`lock = "lease"`), whoever holds it: for a run that died
    /// and left it until it expires
    Release,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SchemaCommand {
    /// Print the database's schema as the statements that build it (sorted, stable), or as JSON
    Dump,
}

/// The tools `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ImportFrom {
    /// An Alembic project
    Alembic,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The tool whose project to import
    #[arg(value_enum)]
    pub(crate) from: ImportFrom,
    /// alembic.ini, pyproject.toml, or the directory holding it
    #[arg(default_value = ".", value_name = "PATH")]
    pub(crate) source: PathBuf,
    /// The database the SQL is for
    #[arg(long, value_enum)]
    pub(crate) dialect: DialectArg,
    /// Where to write retort.toml and migrations/
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) into: PathBuf,
    /// The Python interpreter that can import the revision files (default: python3 on PATH)
    #[arg(long, value_name = "PATH")]
    pub(crate) python: Option<PathBuf>,
    /// A server where a scratch database may be created and dropped (PostgreSQL, MySQL)
    #[arg(long, value_name = "URL")]
    pub(crate) dev_url: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Where to go; `A:B` ranges with `--sql`
    #[arg(allow_negative_numbers = true)]
    pub(crate) target: Option<String>,
    /// Print the SQL script instead of running it (offline mode)
    #[arg(long)]
    pub(crate) sql: bool,
    /// Print the plan only
    #[arg(long, conflicts_with = "sql")]
    pub(crate) dry_run: bool,
    /// Back the database up first, when there is something to do (see `retort backup`)
    #[arg(long, conflicts_with_all = ["sql", "dry_run"])]
    pub(crate) backup: bool,
    /// Run the whole plan in one transaction
    #[arg(long)]
    pub(crate) atomic: bool,
    /// Proceed even though applied revision files changed
    #[arg(long)]
    pub(crate) allow_changed: bool,
    /// Seconds to wait for another retort run to finish
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub(crate) lock_timeout: u64,
    /// Seconds one statement may wait for a table lock before its migration
    /// is rolled back and retried (PostgreSQL); 0 leaves the server's setting
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub(crate) statement_lock_timeout: f64,
    /// How many times to retry a migration whose statement timed out on a lock
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub(crate) lock_retries: u32,
    /// Before each migration, wait until every replica is at most this far behind
    /// (`5s`, `500ms`, `2m`; PostgreSQL standbys, a Galera node's receive queue)
    #[arg(long, value_name = "DURATION", value_parser = duration, conflicts_with = "sql")]
    pub(crate) max_replica_lag: Option<Duration>,
    #[command(flatten)]
    pub(crate) fleet: FleetArgs,
}

/// A duration on the command line: a number with `ms`, `s` or `m` (a
/// bare number is seconds).
fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        other => {
            return Err(format!(
                "unknown unit `{other}`: write e.g. `500ms`, `5s` or `2m`"
            ));
        }
    };
    number
        .parse::<f64>()
        .ok()
        .and_then(|n| Duration::try_from_secs_f64(n * scale).ok())
        .ok_or_else(|| format!("`{text}` is not a duration: write e.g. `500ms`, `5s` or `2m`"))
}

/// The databases a command runs on when there are many (a fleet).
#[derive(Debug, Args)]
pub(crate) struct TargetArgs {
    /// Run on every database FILE lists (`-`: standard input), one URL a line;
    /// blank lines and `#` lines are left out
    #[arg(long, value_name = "FILE", help_heading = "Fleet")]
    pub(crate) targets: Option<std::path::PathBuf>,
    /// Run on every schema of the PostgreSQL database whose name matches PATTERN
    /// (`*` any characters, `?` one), each with its own version tables
    #[arg(
        long,
        value_name = "PATTERN",
        conflicts_with = "targets",
        help_heading = "Fleet"
    )]
    pub(crate) schemas: Option<String>,
    /// How many targets run at once
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..),
        help_heading = "Fleet"
    )]
    pub(crate) concurrency: u32,
}

/// How a command goes through a fleet.
#[derive(Debug, Args)]
pub(crate) struct FleetArgs {
    #[command(flatten)]
    pub(crate) targets: TargetArgs,
    /// Run the first N targets first, and stop if one of them fails
    #[arg(long, value_name = "N", default_value_t = 0, help_heading = "Fleet")]
    pub(crate) canary: usize,
    /// After a failing target: `stop` lets the running targets finish and
    /// starts no more; `continue` runs every target
    #[arg(long, value_enum, default_value_t = OnErrorArg::Stop, help_heading = "Fleet")]
    pub(crate) on_error: OnErrorArg,
    /// Run every target, whatever fails (`--on-error continue`)
    #[arg(long, conflicts_with = "on_error", help_heading = "Fleet")]
    pub(crate) keep_going: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OnErrorArg {
    Stop,
    Continue,
}

#[derive(Debug, Args)]
pub(crate) struct RevisionArgs {
    /// The message
    #[arg(short, long, default_value = "")]
    pub(crate) message: String,
    /// Use this id instead of a random one
    #[arg(long, value_name = "ID")]
    pub(crate) rev_id: Option<String>,
    /// The revision to build on (default `head`; `base` starts a new base; `label@head`)
    #[arg(long, value_name = "REV")]
    pub(crate) head: Option<String>,
    /// Allow building on a revision that is not a head (starts a new branch)
    #[arg(long)]
    pub(crate) splice: bool,
    /// Branch label for the new revision
    #[arg(long = "branch-label", value_name = "LABEL")]
    pub(crate) branch_labels: Vec<String>,
    /// Revision or branch label the new revision depends on
    #[arg(long = "depends-on", value_name = "REV")]
    pub(crate) depends_on: Vec<String>,
    /// Which directory of `migrations.dirs` to write to
    #[arg(long, value_name = "DIR")]
    pub(crate) version_path: Option<PathBuf>,
    /// Fill the revision with what turns the migrations' schema into the declared one
    /// (`schema.files`); writes nothing when they agree
    #[arg(long)]
    pub(crate) autogenerate: bool,
    /// With --autogenerate: compare with the live database instead of the migrations
    #[arg(long, requires = "autogenerate")]
    pub(crate) from_db: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (text, expected) in [
            ("5s", Duration::from_secs(5)),
            ("5", Duration::from_secs(5)),
            ("500ms", Duration::from_millis(500)),
            ("1.5s", Duration::from_millis(1500)),
            ("2m", Duration::from_secs(120)),
            ("0", Duration::ZERO),
        ] {
            assert_eq!(duration(text), Ok(expected), "{text}");
        }
        for text in ["", "s", "5h", "-1s", "fast"] {
            assert!(duration(text).is_err(), "{text}");
        }
    }
}
