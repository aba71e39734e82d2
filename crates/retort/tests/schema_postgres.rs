//! The schema model on a real PostgreSQL server: a schema read, written
//! out into another database and read back is the same schema (and
//! `pg_dump` says so too); for generated pairs (A, B), A's database
//! upgraded by the rendered diff reads as B, and downgraded by its
//! inverse reads as A again, with its rows kept; and the SQL each kind of
//! change renders to.
//!
//! Each test makes its own databases on the server at
//! `RETORT_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and drops them after;
//! without a server the tests say so and pass. `RETORT_PROPTEST_CASES`
//! raises the number of generated pairs.

#![cfg(feature = "postgres")]

mod common;

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::run_all;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use retort::Dialect;
use retort::config::DatabaseUrl;
use retort::db::{self, Driver};
use retort::schema::{
    Action, Change, Check, Column, Deferrable, EnumType, Extension, ForeignKey, Generated,
    Identity, Index, IndexKey, IndexPart, Name, PrimaryKey, Schema, Sequence, Table, TableChange,
    Trigger, Unique, View, inverse,
};

// ------------------------------------------------------------ databases

fn admin_url() -> String {
    std::env::var("RETORT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn connect(url: &str) -> Result<Box<dyn Driver>, String> {
    let parsed = DatabaseUrl::parse(url).map_err(|e| e.to_string())?;
    db::connect(&parsed).map_err(|e| format!("{}: {e}", parsed.redacted()))
}

/// Says what a test leaves out here, and why.
#[allow(clippy::print_stderr, reason = "the test's only way to say it")]
fn note(message: &str) {
    eprintln!("{message}");
}

/// The server, or `None` after saying why the test does not run.
fn server(test: &str) -> Option<Box<dyn Driver>> {
    match connect(&admin_url()) {
        Ok(driver) => Some(driver),
        Err(why) => {
            note(&format!("skipped {test}: no PostgreSQL server ({why})"));
            None
        }
    }
}

/// A fresh database, dropped when this goes.
struct Database {
    name: String,
    url: String,
}

impl Database {
    fn create(admin: &mut dyn Driver) -> Database {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "retort_s_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin
            .run(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating {name}: {e}"));
        let url = admin_url();
        let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
        Database {
            url: format!("{base}/{name}"),
            name,
        }
    }

    fn connect(&self) -> Box<dyn Driver> {
        connect(&self.url).unwrap()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut admin) = connect(&admin_url()) {
            let _ = admin.run(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn inspect(driver: &mut dyn Driver) -> Schema {
    common::inspect(driver)
}

fn changes(from: &Schema, to: &Schema) -> Vec<Change> {
    common::changes(Dialect::Postgres, from, to)
}

fn statements_of(changes: &[Change]) -> Vec<String> {
    common::statements_of(Dialect::Postgres, changes)
}

fn create_statements(schema: &Schema) -> Vec<String> {
    common::create_statements(Dialect::Postgres, schema)
}

#[track_caller]
fn assert_same(left: &Schema, right: &Schema, context: &str) {
    common::assert_same(Dialect::Postgres, left, right, context);
}

// ------------------------------------------------------------ a real schema

/// Functions are not in the model: both databases get the trigger's.
const FUNCTIONS: &str = "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql \
                         AS $$BEGIN NEW.created := now(); RETURN NEW; END$$";

const SHOP: &str = r#"
CREATE SCHEMA billing;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE billing.state AS ENUM ('open', 'paid', 'void');
CREATE SEQUENCE invoice_numbers AS bigint START WITH 1000 INCREMENT BY 10 CACHE 5;
CREATE SEQUENCE billing.tickets AS integer MINVALUE 5 MAXVALUE 99 START 7 CYCLE;
CREATE TABLE users (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name varchar(100) COLLATE "C" DEFAULT 'anonymous',
    feeling mood NOT NULL DEFAULT 'ok',
    tags text[] DEFAULT '{}',
    created timestamptz NOT NULL DEFAULT now(),
    karma integer NOT NULL DEFAULT -1 CHECK (karma BETWEEN -100 AND 100),
    CONSTRAINT name_not_blank CHECK (name <> '' AND email NOT IN ('a', 'b'))
);
COMMENT ON TABLE users IS 'People who log in';
COMMENT ON COLUMN users.email IS 'Where we write to them';
CREATE TABLE billing.accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner integer NOT NULL REFERENCES users (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    state billing.state NOT NULL DEFAULT 'open',
    number bigint NOT NULL DEFAULT nextval('invoice_numbers'),
    UNIQUE (owner, number)
);
CREATE TABLE billing.invoices (
    account bigint,
    line smallint GENERATED BY DEFAULT AS IDENTITY,
    amount numeric(12, 2) NOT NULL,
    tax numeric(12, 2) GENERATED ALWAYS AS (amount * 0.2) STORED,
    payload jsonb,
    note text,
    ticket smallserial,
    CONSTRAINT invoices_pk PRIMARY KEY (account, line),
    CONSTRAINT invoices_account FOREIGN KEY (account) REFERENCES billing.accounts (id)
        MATCH FULL ON UPDATE RESTRICT ON DELETE SET NULL DEFERRABLE
);
CREATE INDEX invoices_big ON billing.invoices (amount DESC NULLS LAST) INCLUDE (note) WHERE amount > 1000;
CREATE INDEX invoices_payload ON billing.invoices USING gin (payload jsonb_path_ops);
CREATE UNIQUE INDEX users_lower_email ON users (lower(email));
CREATE INDEX users_created ON users (created NULLS FIRST, name text_pattern_ops, (karma + 1) DESC);
CREATE INDEX users_karma ON users USING hash (karma);
CREATE TABLE "Audit Log" (
    at timestamp(3) DEFAULT CURRENT_TIMESTAMP,
    "user" integer REFERENCES users,
    "What" text COLLATE "POSIX"
);
CREATE UNLOGGED TABLE scratch (id bigserial, body text);
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION touch();
CREATE VIEW active_users AS SELECT id, email FROM users WHERE karma > 0 AND feeling IN ('ok', 'happy');
CREATE VIEW billing.rich AS SELECT a.id, u.email FROM billing.accounts a JOIN active_users u ON u.id = a.owner;
COMMENT ON VIEW billing.rich IS 'Accounts of active users';
"#;

/// What the shop adds when the server has `citext`: an extension in a
/// schema, and a column of its type.
const CITEXT: &str = "CREATE EXTENSION citext SCHEMA billing; \
                      CREATE TABLE handles (name billing.citext PRIMARY KEY)";

fn has_citext(driver: &mut dyn Driver) -> bool {
    let rows = driver
        .query_text("SELECT 1 FROM pg_available_extensions WHERE name = 'citext'")
        .unwrap();
    if rows.is_empty() {
        note("citext is not available: the shop goes without an extension");
    }
    !rows.is_empty()
}

/// `pg_dump --schema-only` of a database, its name the only thing made
/// neutral; `None` without `pg_dump`.
fn dump(database: &Database) -> Option<String> {
    let run = |restrict: bool| {
        let mut command = std::process::Command::new("pg_dump");
        command.args(["--schema-only", "--no-owner", &database.url]);
        if restrict {
            // The random key of `\restrict` would differ every run.
            command.arg("--restrict-key=retort");
        }
        command.output().ok().filter(|o| o.status.success())
    };
    let output = run(true).or_else(|| run(false))?;
    Some(String::from_utf8_lossy(&output.stdout).replace(&database.name, "DATABASE"))
}

#[test]
fn a_schema_written_out_reads_back_the_same() {
    let Some(mut admin) = server("a_schema_written_out_reads_back_the_same") else {
        return;
    };
    let original_db = Database::create(admin.as_mut());
    let copy_db = Database::create(admin.as_mut());
    let mut original = original_db.connect();
    let mut copy = copy_db.connect();
    let citext = has_citext(original.as_mut());
    let mut setup = vec![FUNCTIONS.to_owned(), SHOP.to_owned()];
    if citext {
        setup.push(CITEXT.to_owned());
    }
    run_all(original.as_mut(), &setup).unwrap();
    let read = inspect(original.as_mut());
    assert_eq!(read.tables.len(), if citext { 7 } else { 6 });
    assert_eq!(read.views.len(), 2);

    let statements = create_statements(&read);
    let mut with_function = vec![FUNCTIONS.to_owned()];
    with_function.extend(statements.iter().cloned());
    run_all(copy.as_mut(), &with_function).unwrap();
    let copied = inspect(copy.as_mut());
    assert_same(&read, &copied, "copy against original");
    assert_same(&copied, &read, "original against copy");
    assert_eq!(read, copied);
    // The same text from the copy: what `schema dump` prints is stable.
    assert_eq!(create_statements(&copied), statements);

    drop((original, copy));
    if let (Some(a), Some(b)) = (dump(&original_db), dump(&copy_db)) {
        assert_eq!(a, b, "pg_dump of the original and of the copy");
    } else {
        note("pg_dump is not on PATH: the dumps are not compared");
    }
}

/// PostgreSQL does not print every expression the way it would print it
/// again after reading it back (`varchar IN (...)` gains casts on the
/// way: sqldef#1295), so a schema can differ from its copy; the copy of
/// the copy is the copy.
#[test]
fn rewritten_expressions_settle_after_one_trip() {
    let Some(mut admin) = server("rewritten_expressions_settle_after_one_trip") else {
        return;
    };
    let databases = [(); 3].map(|()| Database::create(admin.as_mut()));
    let mut schemas = Vec::new();
    let mut statements =
        vec!["CREATE TABLE t (name varchar(10) CHECK (name IN ('a', 'b')))".to_owned()];
    for database in &databases {
        let mut driver = database.connect();
        run_all(driver.as_mut(), &statements).unwrap();
        let read = inspect(driver.as_mut());
        statements = create_statements(&read);
        schemas.push(read);
    }
    assert_same(&schemas[1], &schemas[2], "the copy of the copy");
    assert_eq!(schemas[1], schemas[2]);
}

#[test]
fn what_the_catalogs_hold_is_read() {
    let Some(mut admin) = server("what_the_catalogs_hold_is_read") else {
        return;
    };
    let database = Database::create(admin.as_mut());
    let mut driver = database.connect();
    run_all(driver.as_mut(), &[FUNCTIONS.to_owned(), SHOP.to_owned()]).unwrap();
    // Another search path must not change how anything reads.
    driver
        .run("SET search_path = public, billing, pg_catalog")
        .unwrap();
    let schema = inspect(driver.as_mut());
    let rows = driver.query_text("SHOW search_path").unwrap();
    assert_eq!(
        rows[0][0].as_deref(),
        Some("public, billing, pg_catalog"),
        "restored"
    );

    assert_eq!(schema.schemas.iter().collect::<Vec<_>>(), ["billing"]);
    assert_eq!(
        schema.enums[&Name::in_schema("billing", "state")].values,
        ["open", "paid", "void"]
    );
    assert_eq!(
        schema
            .sequences
            .keys()
            .map(Name::to_string)
            .collect::<Vec<_>>(),
        ["invoice_numbers", "billing.tickets"]
    );
    let tickets = &schema.sequences[&Name::in_schema("billing", "tickets")];
    assert_eq!((tickets.min, tickets.max, tickets.start), (5, 99, 7));
    assert!(tickets.cycle);

    let users = &schema.tables[&Name::new("users")];
    let column = |name: &str| users.column(name).unwrap();
    assert_eq!(column("id").identity, Some(Identity::Serial));
    assert_eq!(column("id").default, None);
    assert_eq!(column("name").ty, "character varying(100)");
    assert_eq!(column("name").collation.as_deref(), Some("\"C\""));
    assert_eq!(column("email").collation, None);
    assert_eq!(column("feeling").default.as_deref(), Some("'ok'::mood"));
    assert_eq!(column("tags").ty, "text[]");
    assert_eq!(
        column("email").comment.as_deref(),
        Some("Where we write to them")
    );
    assert_eq!(users.comment.as_deref(), Some("People who log in"));
    let key = users.primary_key.as_ref().unwrap();
    assert_eq!(
        (key.name.as_str(), key.generated_name),
        ("users_pkey", true)
    );
    assert!(users.uniques[0].generated_name);
    let named = users.checks.iter().find(|c| !c.generated_name).unwrap();
    assert_eq!(named.name, "name_not_blank");
    assert!(
        users
            .checks
            .iter()
            .any(|c| c.name == "users_karma_check" && c.generated_name)
    );
    let created = users
        .indexes
        .iter()
        .find(|i| i.name == "users_created")
        .unwrap();
    assert_eq!(created.parts[0].nulls_first, Some(true));
    assert_eq!(
        created.parts[1].opclass.as_deref(),
        Some("text_pattern_ops")
    );
    assert_eq!(
        created.parts[2].key,
        IndexKey::Expression("(karma + 1)".into())
    );
    assert!(created.parts[2].descending);
    assert_eq!(created.parts[2].nulls_first, None);
    let hash = users
        .indexes
        .iter()
        .find(|i| i.name == "users_karma")
        .unwrap();
    assert_eq!(hash.method.as_deref(), Some("hash"));
    assert_eq!(users.triggers[0].name, "users_touch");
    assert!(
        users.triggers[0]
            .definition
            .starts_with("CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW"),
        "{}",
        users.triggers[0].definition
    );

    let accounts = &schema.tables[&Name::in_schema("billing", "accounts")];
    assert_eq!(
        accounts.column("id").unwrap().identity,
        Some(Identity::Always)
    );
    assert_eq!(
        accounts.column("state").unwrap().default.as_deref(),
        Some("'open'::billing.state")
    );
    let owner = &accounts.foreign_keys[0];
    assert!(owner.generated_name);
    assert_eq!(owner.references, Name::new("users"));
    assert_eq!(owner.on_delete, Action::Cascade);
    assert_eq!(owner.deferrable, Deferrable::InitiallyDeferred);

    let invoices = &schema.tables[&Name::in_schema("billing", "invoices")];
    let account = &invoices.foreign_keys[0];
    assert!(!account.generated_name);
    assert!(account.match_full);
    assert_eq!(
        (account.on_update, account.on_delete),
        (Action::Restrict, Action::SetNull)
    );
    assert_eq!(account.deferrable, Deferrable::InitiallyImmediate);
    assert_eq!(
        invoices.column("tax").unwrap().generated,
        Some(Generated {
            expression: "(amount * 0.2)".into(),
            stored: true
        })
    );
    assert_eq!(
        invoices.column("line").unwrap().identity,
        Some(Identity::ByDefault)
    );
    assert_eq!(
        invoices.column("ticket").unwrap().identity,
        Some(Identity::Serial)
    );
    let big = invoices
        .indexes
        .iter()
        .find(|i| i.name == "invoices_big")
        .unwrap();
    assert_eq!(big.include, ["note"]);
    assert_eq!(big.predicate.as_deref(), Some("(amount > (1000)::numeric)"));
    assert_eq!(big.parts[0].nulls_first, Some(false));
    let gin = invoices
        .indexes
        .iter()
        .find(|i| i.name == "invoices_payload")
        .unwrap();
    assert_eq!(gin.method.as_deref(), Some("gin"));
    assert_eq!(gin.parts[0].opclass.as_deref(), Some("jsonb_path_ops"));

    let audit = &schema.tables[&Name::new("Audit Log")];
    assert_eq!(
        audit.column("at").unwrap().ty,
        "timestamp(3) without time zone"
    );
    assert_eq!(audit.foreign_keys[0].referenced_columns, ["id"]);
    let scratch = &schema.tables[&Name::new("scratch")];
    assert_eq!(scratch.options["unlogged"], "true");
    let events = &schema.tables[&Name::new("events")];
    assert_eq!(events.options["partition_by"], "RANGE (at)");

    let rich = &schema.views[&Name::in_schema("billing", "rich")];
    assert_eq!(
        rich.reads.iter().map(Name::to_string).collect::<Vec<_>>(),
        ["active_users", "billing.accounts"]
    );
    assert_eq!(rich.comment.as_deref(), Some("Accounts of active users"));
    assert!(!rich.definition.ends_with(';'));

    common::assert_own_tables_left_out(driver.as_mut());
}

// ------------------------------------------------------------ rendered SQL

fn rendered(changes: &[Change]) -> Vec<String> {
    statements_of(changes)
}

fn users() -> Table {
    let mut table = Table::new(Name::new("users"));
    let mut id = Column::new("id", "integer");
    id.nullable = false;
    id.identity = Some(Identity::Serial);
    let mut email = Column::new("email", "text");
    email.nullable = false;
    email.comment = Some("it's private".into());
    let mut feeling = Column::new("feeling", "mood");
    feeling.default = Some("'ok'::mood".into());
    feeling.collation = None;
    table.columns = vec![id, email, feeling];
    table.primary_key = Some(PrimaryKey {
        name: "users_pkey".into(),
        generated_name: true,
        columns: vec!["id".into()],
    });
    table.uniques.push(Unique {
        name: "one_email".into(),
        generated_name: false,
        columns: vec!["email".into()],
    });
    table.checks.push(Check {
        name: "users_id_check".into(),
        generated_name: true,
        expression: "(id > 0)".into(),
    });
    table.indexes.push(Index {
        name: "users_email".into(),
        unique: false,
        parts: vec![
            IndexPart {
                opclass: Some("text_pattern_ops".into()),
                descending: true,
                nulls_first: Some(false),
                ..IndexPart::column("email")
            },
            IndexPart {
                key: IndexKey::Expression("lower(email)".into()),
                ..IndexPart::column("")
            },
        ],
        predicate: Some("(id > 10)".into()),
        method: None,
        include: vec!["feeling".into()],
    });
    table.triggers.push(Trigger {
        name: "users_touch".into(),
        definition: "CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()".into(),
    });
    table.comment = Some("People".into());
    table
}

fn account_key() -> ForeignKey {
    ForeignKey {
        name: "accounts_owner_fkey".into(),
        generated_name: true,
        columns: vec!["owner".into()],
        references: Name::new("users"),
        referenced_columns: vec!["id".into()],
        on_delete: Action::Cascade,
        on_update: Action::SetNull,
        deferrable: Deferrable::InitiallyDeferred,
        match_full: true,
    }
}

#[test]
fn objects_render_as_create_and_drop() {
    let billing = "billing".to_owned();
    let extension = Extension {
        name: "uuid-ossp".into(),
        schema: Some("billing".into()),
    };
    let mood = EnumType {
        name: Name::new("mood"),
        values: vec!["sad".into(), "it's ok".into()],
    };
    let sequence = Sequence {
        name: Name::in_schema("billing", "Numbers"),
        ty: "bigint".into(),
        start: 10,
        increment: 5,
        min: 1,
        max: 1000,
        cache: 1,
        cycle: false,
    };
    let upgrade = [
        Change::CreateSchema {
            name: billing.clone(),
        },
        Change::CreateExtension {
            extension: extension.clone(),
        },
        Change::CreateEnum {
            enum_type: mood.clone(),
        },
        Change::CreateSequence {
            sequence: sequence.clone(),
        },
    ];
    assert_eq!(
        rendered(&upgrade),
        [
            "CREATE SCHEMA billing",
            "CREATE EXTENSION \"uuid-ossp\" SCHEMA billing",
            "CREATE TYPE mood AS ENUM ('sad', 'it''s ok')",
            "CREATE SEQUENCE billing.\"Numbers\" AS bigint INCREMENT BY 5 MINVALUE 1 MAXVALUE 1000 START WITH 10 CACHE 1 NO CYCLE",
        ]
    );
    assert_eq!(
        rendered(&inverse(&upgrade)),
        [
            "DROP SEQUENCE billing.\"Numbers\"",
            "DROP TYPE mood",
            "DROP EXTENSION \"uuid-ossp\"",
            "DROP SCHEMA billing",
        ]
    );
    let mut cycling = sequence.clone();
    cycling.cycle = true;
    assert_eq!(
        rendered(&[Change::AlterSequence {
            from: sequence,
            to: cycling
        }]),
        [
            "ALTER SEQUENCE billing.\"Numbers\" AS bigint INCREMENT BY 5 MINVALUE 1 MAXVALUE 1000 START WITH 10 CACHE 1 CYCLE"
        ]
    );
}

#[test]
fn a_table_renders_with_everything_on_it() {
    let create = [Change::CreateTable { table: users() }];
    assert_eq!(
        rendered(&create),
        [
            "CREATE TABLE users (\n    \
             id serial NOT NULL,\n    \
             email text NOT NULL,\n    \
             feeling mood DEFAULT 'ok'::mood,\n    \
             PRIMARY KEY (id),\n    \
             CONSTRAINT one_email UNIQUE (email),\n    \
             CHECK ((id > 0))\n)",
            "CREATE INDEX users_email ON users (email text_pattern_ops DESC NULLS LAST, lower(email)) INCLUDE (feeling) WHERE (id > 10)",
            "CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()",
            "COMMENT ON TABLE users IS 'People'",
            "COMMENT ON COLUMN users.email IS 'it''s private'",
        ]
    );
    assert_eq!(rendered(&inverse(&create)), ["DROP TABLE users"]);

    let mut accounts = Table::new(Name::in_schema("billing", "Accounts"));
    accounts.columns = vec![
        {
            let mut id = Column::new("id", "bigint");
            id.identity = Some(Identity::Always);
            id.nullable = false;
            id
        },
        Column::new("owner", "integer"),
        {
            let mut tax = Column::new("tax", "numeric(12,2)");
            tax.generated = Some(Generated {
                expression: "(id * 2)".into(),
                stored: true,
            });
            tax.collation = None;
            tax
        },
        {
            let mut note = Column::new("user", "text");
            note.collation = Some("\"C\"".into());
            note
        },
    ];
    accounts.foreign_keys.push(account_key());
    accounts.foreign_keys.push(ForeignKey {
        name: "by_owner".into(),
        generated_name: false,
        deferrable: Deferrable::No,
        match_full: false,
        on_update: Action::NoAction,
        on_delete: Action::Restrict,
        ..account_key()
    });
    accounts
        .options
        .insert("partition_by".into(), "HASH (id)".into());
    assert_eq!(
        rendered(&[Change::CreateTable { table: accounts }]),
        ["CREATE TABLE billing.\"Accounts\" (\n    \
          id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,\n    \
          owner integer,\n    \
          tax numeric(12,2) GENERATED ALWAYS AS ((id * 2)) STORED,\n    \
          \"user\" text COLLATE \"C\",\n    \
          FOREIGN KEY (owner) REFERENCES users (id) MATCH FULL ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED,\n    \
          CONSTRAINT by_owner FOREIGN KEY (owner) REFERENCES users (id) ON DELETE RESTRICT\n) \
          PARTITION BY HASH (id)"]
    );
    assert_eq!(
        rendered(&[Change::RenameTable {
            from: Name::new("users"),
            to: Name::in_schema("billing", "people"),
        }]),
        [
            "ALTER TABLE users SET SCHEMA billing",
            "ALTER TABLE billing.users RENAME TO people"
        ]
    );
}

fn alter(changes: Vec<TableChange>) -> Vec<Change> {
    vec![Change::AlterTable {
        from: users(),
        to: users(),
        changes,
    }]
}

#[test]
fn table_changes_render_as_alter_table() {
    let table = users();
    let index = table.indexes[0].clone();
    let upgrade = alter(vec![
        TableChange::DropPrimaryKey {
            key: table.primary_key.clone().unwrap(),
        },
        TableChange::DropUnique {
            unique: table.uniques[0].clone(),
        },
        TableChange::DropCheck {
            check: table.checks[0].clone(),
        },
        TableChange::DropIndex {
            index: index.clone(),
        },
        TableChange::DropTrigger {
            trigger: table.triggers[0].clone(),
        },
        TableChange::RenameColumn {
            from: "email".into(),
            to: "mail".into(),
        },
        TableChange::AddColumn {
            column: table.columns[1].clone(),
        },
        TableChange::DropColumn {
            column: table.columns[2].clone(),
        },
        TableChange::AddForeignKey { key: account_key() },
        TableChange::SetComment {
            from: Some("People".into()),
            to: None,
        },
    ]);
    assert_eq!(
        rendered(&upgrade),
        [
            "ALTER TABLE users DROP CONSTRAINT users_pkey",
            "ALTER TABLE users DROP CONSTRAINT one_email",
            "ALTER TABLE users DROP CONSTRAINT users_id_check",
            "DROP INDEX users_email",
            "DROP TRIGGER users_touch ON users",
            "ALTER TABLE users RENAME COLUMN email TO mail",
            "ALTER TABLE users ADD COLUMN email text NOT NULL",
            "COMMENT ON COLUMN users.email IS 'it''s private'",
            "ALTER TABLE users DROP COLUMN feeling",
            "ALTER TABLE users ADD FOREIGN KEY (owner) REFERENCES users (id) MATCH FULL ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED",
            "COMMENT ON TABLE users IS NULL",
        ]
    );
    assert_eq!(
        rendered(&inverse(&upgrade)),
        [
            "COMMENT ON TABLE users IS 'People'",
            "ALTER TABLE users DROP CONSTRAINT accounts_owner_fkey",
            "ALTER TABLE users ADD COLUMN feeling mood DEFAULT 'ok'::mood",
            "ALTER TABLE users DROP COLUMN email",
            "ALTER TABLE users RENAME COLUMN mail TO email",
            "CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()",
            "CREATE INDEX users_email ON users (email text_pattern_ops DESC NULLS LAST, lower(email)) INCLUDE (feeling) WHERE (id > 10)",
            "ALTER TABLE users ADD CHECK ((id > 0))",
            "ALTER TABLE users ADD CONSTRAINT one_email UNIQUE (email)",
            "ALTER TABLE users ADD PRIMARY KEY (id)",
        ]
    );
    let mut other = Table::new(Name::in_schema("billing", "t"));
    other.indexes.push(index.clone());
    assert_eq!(
        rendered(&[Change::AlterTable {
            from: other.clone(),
            to: other,
            changes: vec![TableChange::DropIndex { index }],
        }]),
        ["DROP INDEX billing.users_email"]
    );
}

fn alter_column(from: Column, to: Column) -> Vec<String> {
    rendered(&alter(vec![TableChange::AlterColumn { from, to }]))
}

#[test]
fn column_changes_render_in_an_order_the_server_takes() {
    let mut from = Column::new("c", "text");
    from.default = Some("'1'::text".into());
    let mut to = Column::new("c", "integer");
    to.default = Some("1".into());
    to.nullable = false;
    to.comment = Some("count".into());
    assert_eq!(
        alter_column(from.clone(), to.clone()),
        [
            "ALTER TABLE users ALTER COLUMN c DROP DEFAULT",
            "ALTER TABLE users ALTER COLUMN c TYPE integer USING c::integer",
            "ALTER TABLE users ALTER COLUMN c SET NOT NULL",
            "ALTER TABLE users ALTER COLUMN c SET DEFAULT 1",
            "COMMENT ON COLUMN users.c IS 'count'",
        ]
    );
    assert_eq!(
        alter_column(to, from),
        [
            "ALTER TABLE users ALTER COLUMN c DROP DEFAULT",
            "ALTER TABLE users ALTER COLUMN c TYPE text USING c::text",
            "ALTER TABLE users ALTER COLUMN c DROP NOT NULL",
            "ALTER TABLE users ALTER COLUMN c SET DEFAULT '1'::text",
            "COMMENT ON COLUMN users.c IS NULL",
        ]
    );

    // An enum converts through text; a collation comes with the type.
    let mut collated = Column::new("c", "text");
    collated.collation = Some("\"C\"".into());
    assert_eq!(
        alter_column(Column::new("c", "mood"), collated),
        ["ALTER TABLE users ALTER COLUMN c TYPE text COLLATE \"C\" USING c::text::text"]
    );

    let plain = {
        let mut c = Column::new("id", "integer");
        c.nullable = false;
        c
    };
    let with = |identity| {
        let mut c = plain.clone();
        c.identity = Some(identity);
        c
    };
    assert_eq!(
        alter_column(plain.clone(), with(Identity::Always)),
        [
            "ALTER TABLE users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY",
            "SELECT setval(pg_get_serial_sequence('users', 'id'), COALESCE(max(id), 0) + 1, false) FROM users",
        ]
    );
    assert_eq!(
        alter_column(with(Identity::Always), with(Identity::ByDefault)),
        ["ALTER TABLE users ALTER COLUMN id SET GENERATED BY DEFAULT"]
    );
    assert_eq!(
        alter_column(with(Identity::ByDefault), with(Identity::Serial)),
        [
            "ALTER TABLE users ALTER COLUMN id DROP IDENTITY",
            "CREATE SEQUENCE users_id_seq AS integer OWNED BY users.id",
            "ALTER TABLE users ALTER COLUMN id SET DEFAULT nextval('users_id_seq'::regclass)",
            "SELECT setval(pg_get_serial_sequence('users', 'id'), COALESCE(max(id), 0) + 1, false) FROM users",
        ]
    );
    assert_eq!(
        alter_column(with(Identity::Serial), plain.clone()),
        [
            "ALTER TABLE users ALTER COLUMN id DROP DEFAULT",
            "DO $retort$BEGIN EXECUTE 'DROP SEQUENCE ' || pg_get_serial_sequence('users', 'id'); END$retort$",
        ]
    );

    let mut generated = Column::new("g", "integer");
    generated.generated = Some(Generated {
        expression: "(id * 2)".into(),
        stored: true,
    });
    let mut stored = Column::new("g", "integer");
    stored.default = Some("0".into());
    assert_eq!(
        alter_column(generated.clone(), stored.clone()),
        [
            "ALTER TABLE users ALTER COLUMN g DROP EXPRESSION",
            "ALTER TABLE users ALTER COLUMN g SET DEFAULT 0",
        ]
    );
    assert_eq!(
        alter_column(stored, generated),
        [
            "ALTER TABLE users DROP COLUMN g",
            "ALTER TABLE users ADD COLUMN g integer GENERATED ALWAYS AS ((id * 2)) STORED",
        ]
    );
}

#[test]
fn enum_labels_are_added_in_place_or_the_type_rebuilt() {
    let labels = |values: &[&str]| EnumType {
        name: Name::in_schema("billing", "mood"),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    };
    let mut feeling = Column::new("feeling", "billing.mood");
    feeling.default = Some("'ok'::billing.mood".into());
    let columns = vec![
        (Name::new("users"), feeling),
        (Name::new("log"), Column::new("moods", "billing.mood[]")),
    ];
    let added = [Change::AlterEnum {
        from: labels(&["sad", "happy"]),
        to: labels(&["meh", "sad", "ok", "happy", "joy"]),
        columns: columns.clone(),
    }];
    assert_eq!(
        rendered(&added),
        [
            "ALTER TYPE billing.mood ADD VALUE 'meh' BEFORE 'sad'",
            "ALTER TYPE billing.mood ADD VALUE 'ok' AFTER 'sad'",
            "ALTER TYPE billing.mood ADD VALUE 'joy' AFTER 'happy'",
        ]
    );
    assert_eq!(
        rendered(&inverse(&added)),
        [
            "ALTER TYPE billing.mood RENAME TO mood__retort_old",
            "CREATE TYPE billing.mood AS ENUM ('sad', 'happy')",
            "ALTER TABLE users ALTER COLUMN feeling DROP DEFAULT",
            "ALTER TABLE users ALTER COLUMN feeling TYPE billing.mood USING feeling::text::billing.mood",
            "ALTER TABLE users ALTER COLUMN feeling SET DEFAULT 'ok'::billing.mood",
            "ALTER TABLE log ALTER COLUMN moods TYPE billing.mood[] USING moods::text[]::billing.mood[]",
            "DROP TYPE billing.mood__retort_old",
        ]
    );
}

#[test]
fn views_render_with_their_comment() {
    let view = View {
        name: Name::in_schema("billing", "rich"),
        definition: "SELECT 1 AS one".into(),
        reads: Default::default(),
        comment: Some("Rich".into()),
    };
    let create = [Change::CreateView { view }];
    assert_eq!(
        rendered(&create),
        [
            "CREATE VIEW billing.rich AS SELECT 1 AS one",
            "COMMENT ON VIEW billing.rich IS 'Rich'",
        ]
    );
    assert_eq!(rendered(&inverse(&create)), ["DROP VIEW billing.rich"]);
}

// ------------------------------------------------------------ generated

const TYPES: &[(&str, &str)] = &[
    ("integer", "1"),
    ("bigint", "1"),
    ("text", "'1'"),
    ("character varying(20)", "'1'"),
    ("numeric(8,2)", "1.5"),
    ("mood", "'a'"),
];

/// Label sets of `mood`: 'a' is in every one (defaults use it, and a
/// label added in a transaction cannot be used in it).
const LABELS: &[&[&str]] = &[&["a", "b"], &["a", "b", "c"], &["c", "a", "b"], &["a", "c"]];

type GenColumn = (usize, usize, bool, bool, bool);
type GenTable = (
    Vec<GenColumn>,
    usize,
    bool,
    Option<(usize, bool)>,
    Option<(usize, bool, bool)>,
    Option<bool>,
    bool,
    bool,
    Option<i64>,
    bool,
);

/// A schema over a small universe of names, with the kinds PostgreSQL
/// alters in place: columns of several types (an enum among them),
/// nullability, defaults, serial and identity keys, named and unnamed
/// keys and constraints, indexes of several shapes, foreign keys,
/// collations, generated columns, triggers, comments, a table in a second
/// schema, views reading tables (some every column) and views.
fn any_schema() -> impl Strategy<Value = Schema> {
    let column = (
        0..4usize,
        0..TYPES.len(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    );
    let table = (
        proptest::collection::vec(column, 1..4),
        0..4usize,
        any::<bool>(),
        proptest::option::of((0..5usize, any::<bool>())),
        proptest::option::of((0..4usize, any::<bool>(), any::<bool>())),
        proptest::option::of(any::<bool>()),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(2..4i64),
        any::<bool>(),
    );
    (
        proptest::collection::btree_map(0..4usize, table, 1..4),
        0..LABELS.len(),
        proptest::option::of(1..3i64),
        proptest::option::of((0..4usize, any::<bool>(), any::<bool>())),
    )
        .prop_map(|(tables, labels, sequence, view)| {
            let mut schema = Schema::default();
            let mood = Name::new("mood");
            schema.enums.insert(
                mood.clone(),
                EnumType {
                    name: mood,
                    values: LABELS[labels].iter().map(|l| (*l).to_owned()).collect(),
                },
            );
            if let Some(increment) = sequence {
                let name = Name::new("counter");
                schema.sequences.insert(
                    name.clone(),
                    Sequence {
                        name,
                        ty: "bigint".into(),
                        start: 1,
                        increment,
                        min: 1,
                        max: 1000,
                        cache: 1,
                        cycle: increment == 2,
                    },
                );
            }
            let names: Vec<Name> = tables.keys().map(|&at| table_name(at)).collect();
            for (at, table) in tables {
                let table = any_table(at, table, &names);
                if let Some(schema_name) = &table.name.schema {
                    schema.schemas.insert(schema_name.clone());
                }
                schema.tables.insert(table.name.clone(), table);
            }
            if let Some((read, second, every_column)) = view {
                let table = names[read % names.len()].clone();
                let v = View {
                    name: Name::new("v"),
                    definition: format!(
                        "SELECT {} FROM {}",
                        if every_column { "*" } else { "id" },
                        sql_name(&table)
                    ),
                    reads: [table].into(),
                    comment: second.then(|| "a view".to_owned()),
                };
                if second {
                    let w = View {
                        name: Name::in_schema("extra", "w"),
                        definition: "SELECT id FROM v".into(),
                        reads: [Name::new("v")].into(),
                        comment: None,
                    };
                    schema.schemas.insert("extra".into());
                    schema.views.insert(w.name.clone(), w);
                }
                schema.views.insert(v.name.clone(), v);
            }
            schema
        })
}

/// `t3` lives in the second schema.
fn table_name(at: usize) -> Name {
    if at == 3 {
        Name::in_schema("extra", "t3")
    } else {
        Name::new(format!("t{at}"))
    }
}

fn sql_name(name: &Name) -> String {
    name.to_string()
}

fn any_table(at: usize, generated: GenTable, names: &[Name]) -> Table {
    let (columns, identity, keyed, index, reference, check, unique, comment, computed, trigger) =
        generated;
    let mut table = Table::new(table_name(at));
    // `id` keys every table, so foreign keys have a parent key.
    let mut id = Column::new("id", "integer");
    id.nullable = false;
    id.identity = [
        None,
        Some(Identity::Serial),
        Some(Identity::Always),
        Some(Identity::ByDefault),
    ][identity];
    table.columns.push(id);
    for (name, ty, nullable, default, collated) in columns {
        let name = format!("c{name}");
        if table.column(&name).is_some() {
            continue;
        }
        let (ty, value) = TYPES[ty];
        let mut column = Column::new(name, ty);
        column.nullable = nullable;
        column.default = default.then(|| value.to_owned());
        if collated && (ty == "text" || ty.starts_with("character")) {
            column.collation = Some("\"C\"".into());
        }
        column.comment = (comment && column.name == "c0").then(|| "the first".to_owned());
        table.columns.push(column);
    }
    let first = table.columns[1].name.clone();
    table.primary_key = Some(PrimaryKey {
        name: if keyed {
            format!("t{at}_pk")
        } else {
            String::new()
        },
        generated_name: !keyed,
        columns: vec!["id".into()],
    });
    if let Some((variant, descending)) = index {
        table
            .indexes
            .push(any_index(at, variant, descending, &first));
    }
    if let Some((target, named, deferred)) = reference {
        table.columns.push(Column::new("ref", "integer"));
        table.foreign_keys.push(ForeignKey {
            name: if named {
                format!("t{at}_ref")
            } else {
                String::new()
            },
            generated_name: !named,
            columns: vec!["ref".into()],
            references: names[target % names.len()].clone(),
            referenced_columns: vec!["id".into()],
            on_delete: if deferred {
                Action::Cascade
            } else {
                Action::NoAction
            },
            on_update: Action::NoAction,
            deferrable: if deferred {
                Deferrable::InitiallyDeferred
            } else {
                Deferrable::No
            },
            match_full: named,
        });
    }
    if let Some(named) = check {
        table.checks.push(Check {
            name: if named {
                format!("t{at}_positive")
            } else {
                String::new()
            },
            generated_name: !named,
            expression: "id > 0".into(),
        });
    }
    if unique {
        table.uniques.push(Unique {
            name: String::new(),
            generated_name: true,
            columns: vec![first],
        });
    }
    if let Some(factor) = computed {
        let mut column = Column::new("g", "integer");
        column.generated = Some(Generated {
            expression: format!("id * {factor}"),
            stored: true,
        });
        table.columns.push(column);
    }
    if trigger {
        table.triggers.push(Trigger {
            name: format!("t{at}_touch"),
            definition: format!(
                "CREATE TRIGGER t{at}_touch BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION public.nothing()",
                sql_name(&table.name)
            ),
        });
    }
    table.comment = comment.then(|| format!("table {at}"));
    table
}

fn any_index(at: usize, variant: usize, descending: bool, first: &str) -> Index {
    let mut part = IndexPart {
        // A hash index has no order.
        descending: descending && variant != 4,
        ..IndexPart::column(first)
    };
    if variant == 3 {
        part.key = IndexKey::Expression("(id * 2)".into());
        part.nulls_first = Some(!descending);
    }
    Index {
        name: format!("t{at}_idx"),
        unique: variant == 1,
        parts: vec![part],
        predicate: (variant == 2).then(|| format!("{first} IS NOT NULL")),
        method: (variant == 4).then(|| "hash".to_owned()),
        include: if variant == 0 {
            vec!["id".into()]
        } else {
            Vec::new()
        },
    }
}

/// Empties a database for the next case, but for the triggers' function
/// (functions are not in the model).
fn reset(driver: &mut dyn Driver) {
    driver
        .run(
            "DROP SCHEMA IF EXISTS extra CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public; \
             CREATE FUNCTION public.nothing() RETURNS trigger LANGUAGE plpgsql \
             AS $$BEGIN RETURN NEW; END$$",
        )
        .unwrap();
}

/// A row in each table, each in its own transaction (a table whose
/// columns refuse the row stays empty); the tables that got one.
fn seed(driver: &mut dyn Driver, schema: &Schema) -> Vec<Name> {
    schema
        .tables
        .keys()
        .filter(|name| {
            let insert = format!(
                "INSERT INTO {} (id) OVERRIDING SYSTEM VALUE VALUES (1)",
                sql_name(name)
            );
            run_all(driver, &[insert]).is_ok()
        })
        .cloned()
        .collect()
}

fn row_count(driver: &mut dyn Driver, table: &Name) -> String {
    let rows = driver
        .query_text(&format!("SELECT count(*)::text FROM {}", sql_name(table)))
        .unwrap();
    rows[0][0].clone().unwrap_or_default()
}

/// What the rows may refuse: a NULL where NOT NULL is wanted, a value
/// the new type does not take.
fn refused_by_rows(error: &str) -> bool {
    ["contains null values", "invalid input"]
        .iter()
        .any(|m| error.contains(m))
}

fn cases() -> u32 {
    std::env::var("RETORT_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

struct Pair {
    a: Box<dyn Driver>,
    b: Box<dyn Driver>,
}

impl Pair {
    fn case(&mut self, a: &Schema, b: &Schema) -> Result<(), TestCaseError> {
        reset(self.a.as_mut());
        reset(self.b.as_mut());
        let build_a = create_statements(a);
        run_all(self.a.as_mut(), &build_a).map_err(|e| TestCaseError::fail(format!("A: {e}")))?;
        run_all(self.b.as_mut(), &create_statements(b))
            .map_err(|e| TestCaseError::fail(format!("B: {e}")))?;
        let read_a = inspect(self.a.as_mut());
        let read_b = inspect(self.b.as_mut());
        let seeded = seed(self.a.as_mut(), &read_a);

        let changes = changes(&read_a, &read_b);
        let upgrade = statements_of(&changes);
        if let Err(e) = run_all(self.a.as_mut(), &upgrade) {
            prop_assert!(
                !seeded.is_empty() && refused_by_rows(&e),
                "upgrade failed: {e}\n{upgrade:#?}"
            );
            assert_same(
                &inspect(self.a.as_mut()),
                &read_a,
                "after a refused upgrade",
            );
            return Ok(());
        }
        assert_same(&inspect(self.a.as_mut()), &read_b, "after upgrade");

        let downgrade = statements_of(&inverse(&changes));
        if let Err(e) = run_all(self.a.as_mut(), &downgrade) {
            prop_assert!(
                !seeded.is_empty() && refused_by_rows(&e),
                "downgrade failed: {e}\n{downgrade:#?}"
            );
            return Ok(());
        }
        assert_same(&inspect(self.a.as_mut()), &read_a, "after downgrade");
        // Tables that stayed through both directions kept their row.
        for table in seeded {
            if read_b.tables.contains_key(&table) {
                prop_assert_eq!(row_count(self.a.as_mut(), &table), "1", "rows of {}", table);
            }
        }
        Ok(())
    }
}

#[test]
fn upgrade_and_downgrade_between_any_two_schemas() {
    let Some(mut admin) = server("upgrade_and_downgrade_between_any_two_schemas") else {
        return;
    };
    let (db_a, db_b) = (
        Database::create(admin.as_mut()),
        Database::create(admin.as_mut()),
    );
    let pair = RefCell::new(Pair {
        a: db_a.connect(),
        b: db_b.connect(),
    });
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(any_schema(), any_schema()), |(a, b)| {
        pair.borrow_mut().case(&a, &b)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
