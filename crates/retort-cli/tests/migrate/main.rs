//! Integration tests of the migrator through the `retort` binary: upgrade,
//! downgrade, stamp, current, status, verify, rehash and offline SQL against
//! real databases. Every test is written once against [`db::TestDb`] and
//! runs for each dialect (`name::sqlite`, `name::postgres`, `name::mariadb`); see
//! `db` for how a dialect is added. Expected version rows are written out
//! by hand from Alembic's rules (see `walk`).

mod admin; // the library's admin ports: databases created and dropped, objects listed and dropped
mod alembic; // a database Alembic migrated, taken over through `version_table`
mod alembic_commands; // heads, history -i and ranges on current, show, current --check-heads, edit against the real Alembic
mod alembic_order; // upgrade heads, downgrade base and history step for step against the real Alembic, on large public histories
mod alembic_rows; // every single-target command from every small state, against the real Alembic
mod autogenerate; // revision --autogenerate, check and schema dump; scratch databases dropped, also on Ctrl-C
mod backup; // backup, restore and upgrade --backup on every dialect: a destructive migration undone, files 0600, a SQLite backup beside a writer, a missing pg_dump
mod bodies; // function and trigger bodies with semicolons; offline script settings
mod catalogue; // 60+ kinds of bad input: exit code, message and hint (snapshots), nothing changed
mod checksums; // edited files stop runs, verify, line endings, rehash, missing files
mod chores; // environments (--env, RETORT_ENV), info, create, drop, reset; a protected environment refuses reset and drop
mod code; // a code revision (`-- retort:code`) listed by history and show, refused by upgrade and --sql
mod concurrency; // 2 and 8 processes upgrading one database at once
mod connect; // refused, unknown host, rejected credentials, missing database: one line, no password
mod db; // TestDb: a fresh database per test, inspected through retort's Driver
mod dialects; // sections for some databases only: each runs its own, checksums cover what it runs
mod errors; // unknown revisions, existing tables, permissions, dry runs, irreversible, targets
mod failure; // a statement failing mid-plan, with and without --atomic
mod fanout; // --targets and --schemas: 200 SQLite files and 50 PostgreSQL schemas to head, failures, canaries, re-runs, resume on MariaDB, status
mod foreign; // a database another migration tool manages: refused until adopted, reported by status
mod galera; // a 3-node Galera cluster on loopback: 12 upgraders over the nodes apply each revision once; a node killed mid-run, explained by status, taken over by the next run
mod import_alembic; // import alembic of a project covering every revision kind: same schema, rows and version rows as Alembic's runs
mod inspect; // current/status JSON on branched states; text snapshots
mod kill; // SIGKILL at arbitrary moments of a 100-migration run, and inside one long migration
mod lease; // the lease-row lock: status, waiting, takeover after expiry, release by hand, 16 runners where advisory locks lock nothing
mod locks; // a migration blocked by a long transaction: lock timeout, retries, clean failure
mod mysql_tls; // ssl-mode and ssl-ca against a private MariaDB server with TLS
mod offline; // --sql scripts run by the database's shell match online runs
mod pgbouncer; // through PgBouncer: 16 upgraders in transaction pooling, CONCURRENTLY, lock_url, statement pooling
mod quickstart; // the README's first command on a copy of examples/quickstart
mod real_alembic_projects; // import alembic of Langflow and Bag of Words (100+ revisions, merges): same schema as Alembic's runs
mod real_histories; // retort test on real public histories of 50+ revisions (read from RETORT_TEST_REAL_HISTORIES or shared/)
mod real_schemas; // Zabbix, phpBB and MediaWiki: baseline, then upgrade into an empty database, reproduces each exactly
mod replicas; // a PostgreSQL primary with a hot standby made on loopback: the standby refused, --max-replica-lag waiting while replay is paused
mod resume; // migrations committing in parts: the journal, resume, repair, CONCURRENTLY
mod review; // `-- retort:review`: upgrade and downgrade refuse a plan holding a marked revision, stamp passes it
mod server; // what retort detects about the server (status, current), the overrides, --max-replica-lag where nothing can be measured
mod stamp; // stamp, stamp of several revisions, base, --purge, --dry-run
mod test_command; // retort test: the stairway, downgrade correctness, one head, the declared schema, on fixtures that each break one
mod tls; // sslmode and sslrootcert on PostgreSQL: pg_stat_ssl for both connections, certificate failures
mod util; // fixtures (the branched graph, linear chains), the runner, state assertions
mod walk; // upgrade/downgrade by every target form through branches and merges
