//! Database URLs: the accepted forms, their parts, and redaction.
//!
//! The SQLite forms follow SQLAlchemy, so a URL pasted from an Alembic
//! configuration names the same file: `sqlite:///app.db` is relative,
//! `sqlite:////abs/app.db` absolute. Nothing here ever renders a password:
//! `Display`, `Debug` and every [`UrlError`] show the redacted form.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Dialect;

/// The schemes retort accepts, for messages.
const SUPPORTED: &str = "`sqlite`, `postgres`, `postgresql`, `mysql` and `mariadb`";

/// What replaces a password in a redacted URL.
const MASK: &str = "***";

/// How a SQLite file is opened: a URL's `?mode=`, as in sqlx and SQLite's
/// own URIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteMode {
    /// `ro`: read only; the file must exist.
    ReadOnly,
    /// `rw`: read and write; the file must exist.
    ReadWrite,
    /// `rwc`: read and write, created if missing (the default).
    ReadWriteCreate,
}

impl SqliteMode {
    fn parse(value: &str) -> Option<SqliteMode> {
        match value {
            "ro" => Some(SqliteMode::ReadOnly),
            "rw" => Some(SqliteMode::ReadWrite),
            "rwc" => Some(SqliteMode::ReadWriteCreate),
            _ => None,
        }
    }
}

/// MySQL's `--ssl-mode` values, the only ones a MySQL URL may give as
/// `ssl-mode` (also spelled `ssl_mode` or `sslmode`; any case, `-` or `_`).
pub(crate) const MYSQL_SSL_MODES: [&str; 5] = [
    "disabled",
    "preferred",
    "required",
    "verify_ca",
    "verify_identity",
];

/// A MySQL `ssl-mode` value as [`MYSQL_SSL_MODES`] spells it.
pub(crate) fn mysql_ssl_mode(value: &str) -> String {
    value.to_ascii_lowercase().replace('-', "_")
}

/// The parameters a PostgreSQL URL may give (libpq's names).
const POSTGRES_PARAMS: &[&str] = &[
    "user",
    "password",
    "sslmode",
    "sslrootcert",
    "connect_timeout",
    "application_name",
    "options",
    "retort_lock",
    "retort_lock_ttl",
    "server",
];

/// The parameters a MySQL URL may give (the `mysql` client's names, with
/// their other spellings).
const MYSQL_PARAMS: &[&str] = &[
    "ssl-mode",
    "ssl_mode",
    "sslmode",
    "ssl-ca",
    "ssl_ca",
    "sslca",
    "connect_timeout",
    "retort_lock",
    "retort_lock_ttl",
    "server",
];

/// libpq's `sslmode` values, the only ones a PostgreSQL URL may give.
pub(crate) const POSTGRES_SSLMODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// A parsed database URL.
///
/// `Debug` and `Display` show [`DatabaseUrl::redacted`]; only
/// [`DatabaseUrl::expose_secret`] returns the text with its password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    text: String,
    redacted: String,
    scheme: String,
    driver: Option<String>,
    dialect: Dialect,
    sqlite: Option<SqliteLocation>,
    host: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
    params: Vec<(String, String)>,
    /// The raw query (with its `?`) and its redacted form, to rebuild SQLite URLs.
    query: Option<(String, String)>,
}

/// Where a SQLite database lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SqliteLocation {
    /// A database file; relative until [`DatabaseUrl::resolve_relative_to`].
    File(PathBuf),
    /// A private in-memory database.
    Memory,
}

/// A database URL that cannot be used. Messages never contain a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL is empty or only whitespace.
    #[error("the database URL is empty")]
    Empty,
    /// No `scheme:` prefix; the text is hidden because it may hold a password.
    #[error("the database URL has no scheme (the URL is hidden because it may contain a password)")]
    MissingScheme,
    /// A scheme retort does not speak.
    #[error("unsupported database URL scheme `{scheme}`; supported: {SUPPORTED}")]
    UnknownScheme {
        /// The scheme as written, driver part included.
        scheme: String,
    },
    /// The port is out of range.
    #[error("invalid port `{port}` in `{url}`: expected a number from 1 to 65535")]
    InvalidPort {
        /// The redacted URL.
        url: String,
        /// The port as written (digits only).
        port: String,
    },
    /// A query parameter with a value the database does not accept; the
    /// message lists those it does.
    #[error("invalid database URL `{url}`: {message}")]
    InvalidParam {
        /// The redacted URL.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// Malformed but the password could be located; `url` is redacted.
    #[error("invalid database URL `{url}`: {message}")]
    Invalid {
        /// The redacted URL.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// Malformed before the password could be located: only the scheme is shown.
    #[error(
        "invalid database URL `{scheme}:…` (the rest is hidden because it may contain a password): {message}"
    )]
    Hidden {
        /// The scheme as written.
        scheme: String,
        /// What is wrong.
        message: String,
    },
}

impl crate::Diagnostic for UrlError {
    /// A stable snake_case identifier for this kind of error.
    fn kind(&self) -> &'static str {
        match self {
            UrlError::Empty => "url_empty",
            UrlError::MissingScheme => "url_missing_scheme",
            UrlError::UnknownScheme { .. } => "url_unknown_scheme",
            UrlError::InvalidPort { .. } => "url_invalid_port",
            UrlError::InvalidParam { .. } => "url_invalid_param",
            UrlError::Invalid { .. } | UrlError::Hidden { .. } => "url_invalid",
        }
    }

    /// A suggestion for fixing the URL, if there is one.
    fn hint(&self) -> Option<String> {
        match self {
            UrlError::Empty | UrlError::MissingScheme => Some(
                "write a URL such as `sqlite://app.db`, `postgres://user@localhost:5432/app` or `mysql://user@localhost:3306/app`"
                    .to_owned(),
            ),
            UrlError::UnknownScheme { .. } => Some(
                "a driver part is allowed and ignored, as in `postgresql+psycopg2://` or `sqlite+aiosqlite://`"
                    .to_owned(),
            ),
            UrlError::InvalidPort { .. } => Some(
                "the port is a number from 1 to 65535 after the host (`host:5432`); percent-encode a `:` in the user name or password as %3A"
                    .to_owned(),
            ),
            UrlError::InvalidParam { .. } => Some(
                "docs/configuration.md lists each database's URL parameters; remove the parameter, or fix its name or value"
                    .to_owned(),
            ),
            UrlError::Invalid { .. } | UrlError::Hidden { .. } => Some(
                "percent-encode special characters in the user name and password: `@` as %40, `:` as %3A, `/` as %2F, `?` as %3F, `#` as %23, `%` as %25"
                    .to_owned(),
            ),
        }
    }
}

impl DatabaseUrl {
    /// Parse a URL; surrounding whitespace is ignored, relative SQLite paths stay relative.
    pub fn parse(text: &str) -> Result<DatabaseUrl, UrlError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(UrlError::Empty);
        }
        let Some(colon) = text.find(':') else {
            return Err(UrlError::MissingScheme);
        };
        let scheme = &text[..colon];
        if !valid_scheme(scheme) {
            return Err(UrlError::MissingScheme);
        }
        let (base, driver) = match scheme.split_once('+') {
            Some((base, driver)) => (base, Some(driver)),
            None => (scheme, None),
        };
        let dialect = match base.to_ascii_lowercase().as_str() {
            "sqlite" => Dialect::Sqlite,
            "postgres" | "postgresql" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::Mysql,
            _ => {
                return Err(UrlError::UnknownScheme {
                    scheme: scheme.to_owned(),
                });
            }
        };
        if driver.is_some_and(|d| d.is_empty() || d.contains('+')) {
            return Err(UrlError::Hidden {
                scheme: scheme.to_owned(),
                message: "expected `scheme+driver`, as in `postgresql+asyncpg`".to_owned(),
            });
        }
        let mut url = DatabaseUrl {
            text: text.to_owned(),
            redacted: String::new(),
            scheme: scheme.to_owned(),
            driver: driver.map(str::to_owned),
            dialect,
            sqlite: None,
            host: None,
            port: None,
            user: None,
            password: None,
            database: None,
            params: Vec::new(),
            query: None,
        };
        let rest = &text[colon + 1..];
        if dialect == Dialect::Sqlite {
            url.parse_sqlite(rest)?;
        } else {
            url.parse_server(rest)?;
        }
        Ok(url)
    }

    fn parse_sqlite(&mut self, rest: &str) -> Result<(), UrlError> {
        let (body, query) = match rest.find('?') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let redacted_query = query.map(redact_query);
        self.redacted = format!(
            "{}:{body}{}",
            self.scheme,
            redacted_query
                .as_deref()
                .map(|q| format!("?{q}"))
                .unwrap_or_default()
        );
        let location = if body == ":memory:" {
            SqliteLocation::Memory
        } else if let Some(after) = body.strip_prefix("//") {
            // SQLAlchemy: `sqlite://` is memory, `sqlite:///x` relative,
            // `sqlite:////x` absolute; `sqlite://x` is relative too.
            let path = after.strip_prefix('/').unwrap_or(after);
            if path.is_empty() || path == ":memory:" {
                SqliteLocation::Memory
            } else {
                SqliteLocation::File(PathBuf::from(path))
            }
        } else if body.is_empty() {
            return Err(self.invalid(
                "expected `sqlite://PATH`, `sqlite:///PATH`, `sqlite:////ABSOLUTE/PATH` or `sqlite::memory:`",
            ));
        } else {
            // sqlx style: `sqlite:app.db`.
            SqliteLocation::File(PathBuf::from(body))
        };
        self.sqlite = Some(location);
        if let (Some(query), Some(redacted)) = (query, redacted_query) {
            self.params = self.decode_query(query)?;
            self.query = Some((format!("?{query}"), format!("?{redacted}")));
        }
        self.check_sqlite_params()
    }

    /// SQLite URLs take one `mode` only: any other parameter would be
    /// ignored, so it is refused, and so is a `mode` for a database in
    /// memory.
    fn check_sqlite_params(&self) -> Result<(), UrlError> {
        let modes = self.params.iter().filter(|(key, _)| key == "mode").count();
        let wrong = self.params.iter().find_map(|(key, value)| {
            if key != "mode" {
                Some(format!("`{key}` is not supported"))
            } else if SqliteMode::parse(value).is_none() {
                Some(format!("unknown `mode={value}`"))
            } else if modes > 1 {
                Some("`mode` is given more than once".to_owned())
            } else if self.sqlite == Some(SqliteLocation::Memory) {
                Some("an in-memory database has no `mode`".to_owned())
            } else {
                None
            }
        });
        match wrong {
            Some(wrong) => Err(UrlError::InvalidParam {
                url: self.sqlite_url_without_values(),
                message: format!(
                    "{wrong}; SQLite URLs take only `mode=ro` (read only), `mode=rw` (an existing file) or `mode=rwc` (created if missing, the default)"
                ),
            }),
            None => Ok(()),
        }
    }

    /// The URL with every parameter's value but `mode`'s masked: one of
    /// them may be a key (SQLCipher's `key`, `hexkey`).
    fn sqlite_url_without_values(&self) -> String {
        let base = self
            .redacted
            .split_once('?')
            .map_or(self.redacted.as_str(), |(b, _)| b);
        let query: Vec<String> = self
            .params
            .iter()
            .map(|(key, value)| {
                let shown = if key == "mode" { value.as_str() } else { "***" };
                format!("{key}={shown}")
            })
            .collect();
        format!("{base}?{}", query.join("&"))
    }

    /// How a SQLite file is opened (`?mode=`).
    pub fn sqlite_mode(&self) -> SqliteMode {
        self.param("mode")
            .and_then(SqliteMode::parse)
            .unwrap_or(SqliteMode::ReadWriteCreate)
    }

    fn parse_server(&mut self, rest: &str) -> Result<(), UrlError> {
        let Some(after) = rest.strip_prefix("//") else {
            return Err(self.hidden(&format!("expected `//` after `{}:`", self.scheme)));
        };
        let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let authority = &after[..authority_end];
        let tail = &after[authority_end..];
        if tail.contains('@') {
            // Either a password with an unencoded `/`, `?` or `#`, or an `@`
            // in the path or query: the password cannot be told apart.
            return Err(self.hidden("found `@` after the host"));
        }
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (user_raw, password_raw) = match userinfo {
            Some(info) => match info.split_once(':') {
                Some((user, password)) => (Some(user), Some(password)),
                None => (Some(info), None),
            },
            None => (None, None),
        };
        let (path, query) = match tail.find('?') {
            Some(i) => (&tail[..i], Some(&tail[i + 1..])),
            None => (tail, None),
        };
        let redacted_query = query.map(redact_query);
        let mut redacted = format!("{}://", self.scheme);
        if let Some(user) = user_raw {
            redacted.push_str(user);
            if password_raw.is_some() {
                redacted.push(':');
                redacted.push_str(MASK);
            }
            redacted.push('@');
        }
        redacted.push_str(hostport);
        redacted.push_str(path);
        if let Some(q) = &redacted_query {
            redacted.push('?');
            redacted.push_str(q);
        }
        self.redacted = redacted;

        // From here on errors may show the redacted URL.
        if let Some(user) = user_raw.filter(|u| !u.is_empty()) {
            self.user = Some(self.decode(user, "user name")?);
        }
        if let Some(password) = password_raw {
            self.password = Some(self.decode(password, "password")?);
        }
        let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
            let Some(close) = bracketed.find(']') else {
                return Err(self.invalid("unterminated `[` in the IPv6 host"));
            };
            let after = &bracketed[close + 1..];
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port),
                None if after.is_empty() => None,
                None => return Err(self.invalid("expected `:PORT` or nothing after `]`")),
            };
            (Some(bracketed[..close].to_owned()), port)
        } else {
            if hostport.contains(',') {
                return Err(self.invalid("multiple hosts are not supported"));
            }
            let (host, port) = match hostport.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (hostport, None),
            };
            let host = if host.is_empty() {
                None
            } else {
                Some(self.decode(host, "host")?)
            };
            (host, port)
        };
        self.host = host.filter(|h| !h.is_empty());
        if let Some(port) = port {
            self.port = Some(self.parse_port(port)?);
        }
        match path.strip_prefix('/') {
            Some(db) if !db.is_empty() => self.database = Some(self.decode(db, "database name")?),
            Some(_) => {}
            None if path.is_empty() => {}
            None => return Err(self.invalid("unexpected `#` after the host")),
        }
        if let (Some(query), Some(redacted)) = (query, redacted_query) {
            self.params = self.decode_query(query)?;
            self.query = Some((format!("?{query}"), format!("?{redacted}")));
        }
        match self.dialect {
            Dialect::Postgres => {
                self.check_known_params(POSTGRES_PARAMS, "PostgreSQL")?;
                self.check_sslmode()?;
                self.check_server()?;
                // libpq takes them in the query too; the URL's own win.
                if self.user.is_none() {
                    self.user = self.param("user").map(str::to_owned);
                }
                if self.password.is_none() {
                    self.password = self.param("password").map(str::to_owned);
                }
            }
            Dialect::Mysql => {
                self.check_known_params(MYSQL_PARAMS, "MySQL/MariaDB")?;
                self.check_mysql_ssl_mode()?;
                self.check_server()?;
            }
            Dialect::Sqlite => {}
        }
        Ok(())
    }

    /// A parameter retort does not act on would be ignored (a driver
    /// Alembic uses would refuse it), so it is refused, with the closest
    /// known one when it looks like a typo; `connect_timeout` must be a
    /// number of seconds.
    fn check_known_params(&self, known: &[&str], server: &str) -> Result<(), UrlError> {
        for (key, value) in &self.params {
            if !known.contains(&key.as_str()) {
                let guess = crate::suggest::closest(key, known.iter().copied())
                    .map(|k| format!(" (did you mean `{k}`?)"))
                    .unwrap_or_default();
                return Err(UrlError::InvalidParam {
                    url: self.redacted.clone(),
                    message: format!(
                        "`{key}` is not a parameter retort understands in {server} URLs{guess}; it takes {}",
                        known
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            if let Some(message) = super::lock::check_param(key, value) {
                return Err(UrlError::InvalidParam {
                    url: self.redacted.clone(),
                    message,
                });
            }
            if key == "connect_timeout"
                && (value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(UrlError::InvalidParam {
                    url: self.redacted.clone(),
                    message: format!(
                        "`connect_timeout={value}`: expected whole seconds (0 waits as long as it takes)"
                    ),
                });
            }
        }
        Ok(())
    }

    /// An unknown MySQL `ssl-mode`, like an unknown `sslmode`, is a typo.
    fn check_mysql_ssl_mode(&self) -> Result<(), UrlError> {
        let unknown = self.params.iter().find(|(key, value)| {
            matches!(key.as_str(), "ssl-mode" | "ssl_mode" | "sslmode")
                && !MYSQL_SSL_MODES.contains(&mysql_ssl_mode(value).as_str())
        });
        match unknown {
            Some((key, value)) => Err(UrlError::InvalidParam {
                url: self.redacted.clone(),
                message: format!(
                    "unknown `{key}={value}`; expected one of {}",
                    MYSQL_SSL_MODES.map(|mode| format!("`{mode}`")).join(", ")
                ),
            }),
            None => Ok(()),
        }
    }

    /// `server` names a kind of server of the URL's dialect
    /// ([`crate::db::ServerKind`]), which then overrides detection.
    fn check_server(&self) -> Result<(), UrlError> {
        let Some(value) = self.param("server") else {
            return Ok(());
        };
        let message = match crate::db::ServerKind::from_name(value) {
            Some(kind) if kind.fits(self.dialect) => return Ok(()),
            Some(kind) => crate::db::facts::mismatch(kind, self.dialect),
            None => format!(
                "unknown `server={value}`; expected one of {}",
                crate::db::ServerKind::names_for(self.dialect)
                    .into_iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Err(UrlError::InvalidParam {
            url: self.redacted.clone(),
            message,
        })
    }

    /// An unknown `sslmode` is a typo in the URL, not a connection failure.
    fn check_sslmode(&self) -> Result<(), UrlError> {
        let unknown = self
            .params
            .iter()
            .find(|(key, value)| key == "sslmode" && !POSTGRES_SSLMODES.contains(&value.as_str()));
        match unknown {
            Some((_, value)) => Err(UrlError::InvalidParam {
                url: self.redacted.clone(),
                message: format!(
                    "unknown `sslmode={value}`; expected one of {}",
                    POSTGRES_SSLMODES.map(|mode| format!("`{mode}`")).join(", ")
                ),
            }),
            None => Ok(()),
        }
    }

    fn parse_port(&self, port: &str) -> Result<u16, UrlError> {
        if port.is_empty() {
            return Err(self.invalid("empty port after `:`"));
        }
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            // Could be a password whose `@host` is missing: do not show it.
            return Err(self.hidden("the port is not a number"));
        }
        match port.parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(UrlError::InvalidPort {
                url: self.redacted.clone(),
                port: port.to_owned(),
            }),
        }
    }

    fn decode(&self, raw: &str, what: &str) -> Result<String, UrlError> {
        percent_decode(raw)
            .ok_or_else(|| self.invalid(&format!("invalid percent-encoding in the {what}")))
    }

    fn decode_query(&self, query: &str) -> Result<Vec<(String, String)>, UrlError> {
        let mut params = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = self.decode(key, "query parameters")?;
            let value = self.decode(value, "query parameters")?;
            params.push((key, value));
        }
        Ok(params)
    }

    fn invalid(&self, message: &str) -> UrlError {
        UrlError::Invalid {
            url: self.redacted.clone(),
            message: message.to_owned(),
        }
    }

    fn hidden(&self, message: &str) -> UrlError {
        UrlError::Hidden {
            scheme: self.scheme.clone(),
            message: message.to_owned(),
        }
    }

    /// Make a relative SQLite file path absolute against `base`; other URLs are unchanged.
    ///
    /// The text returned by [`DatabaseUrl::expose_secret`] is rewritten to
    /// `sqlite:///ABSOLUTE/PATH` (keeping the scheme and query as written).
    pub fn resolve_relative_to(mut self, base: &Path) -> DatabaseUrl {
        let Some(SqliteLocation::File(path)) = &self.sqlite else {
            return self;
        };
        if path.is_absolute() {
            return self;
        }
        let absolute = super::normalize(&base.join(path));
        let (query, redacted_query) = self.query.clone().unwrap_or_default();
        let prefix = format!("{}:///{}", self.scheme, absolute.display());
        self.text = format!("{prefix}{query}");
        self.redacted = format!("{prefix}{redacted_query}");
        self.sqlite = Some(SqliteLocation::File(absolute));
        self
    }

    /// The URL of database `name` beside this one: on the same server with
    /// the same user, password and parameters (an empty `name`: no database
    /// at all); for SQLite, the file `name` in this file's directory (an
    /// in-memory URL stays as it is).
    pub fn with_database(&self, name: &str) -> DatabaseUrl {
        let mut url = self.clone();
        let (query, redacted_query) = self.query.clone().unwrap_or_default();
        match &self.sqlite {
            Some(SqliteLocation::Memory) => {}
            Some(SqliteLocation::File(path)) => {
                let path = path.with_file_name(name);
                // SQLite paths are not percent-decoded: written as they are.
                let prefix = format!("{}:///{}", self.scheme, path.display());
                url.text = format!("{prefix}{query}");
                url.redacted = format!("{prefix}{redacted_query}");
                url.sqlite = Some(SqliteLocation::File(path));
            }
            None => {
                let path = format!("/{}", percent_encode(name));
                url.text = format!("{}{path}{query}", authority_part(&self.text));
                url.redacted = format!("{}{path}{redacted_query}", authority_part(&self.redacted));
                url.database = Some(name.to_owned()).filter(|n| !n.is_empty());
            }
        }
        url
    }

    /// The dialect the scheme names.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The scheme as written, driver part included (`postgresql+asyncpg`).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The ignored SQLAlchemy driver part of the scheme (`asyncpg`), if any.
    pub fn driver(&self) -> Option<&str> {
        self.driver.as_deref()
    }

    /// The URL with the password (and any password-like query parameter) replaced by `***`.
    pub fn redacted(&self) -> String {
        self.redacted.clone()
    }

    /// The URL text including its password, for handing to a driver only.
    pub fn expose_secret(&self) -> &str {
        &self.text
    }

    /// The database file or memory, for SQLite URLs.
    pub fn sqlite_location(&self) -> Option<&SqliteLocation> {
        self.sqlite.as_ref()
    }

    /// The host, without IPv6 brackets; `None` when empty (a local socket).
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The port, when the URL gives one.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The percent-decoded user name.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The percent-decoded password.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The percent-decoded database name (the path after the host).
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// The query parameters in order, percent-decoded (`+` is kept as is).
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The value of the first query parameter named `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.redacted).finish()
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatabaseUrl::parse(s)
    }
}

/// A URL scheme: a letter, then letters, digits, `+`, `-` or `.`.
fn valid_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// Whether a query parameter holds a secret.
fn secret_param(key: &str) -> bool {
    let key = percent_decode(key)
        .unwrap_or_else(|| key.to_owned())
        .to_ascii_lowercase();
    key.contains("password")
        || key.contains("secret")
        || key.contains("token")
        || matches!(key.as_str(), "pass" | "pwd" | "key")
}

/// The raw query (without `?`) with secret parameter values masked.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if secret_param(key) => format!("{key}={MASK}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A server URL up to the end of its host and port: `scheme://user@host:port`.
fn authority_part(text: &str) -> &str {
    let start = text.find("://").map_or(0, |i| i + 3);
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    &text[..end]
}

/// Percent-encode all but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-decode; `None` on a malformed escape or invalid UTF-8.
fn percent_decode(raw: &str) -> Option<String> {
    if !raw.contains('%') {
        return Some(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex(*bytes.get(i + 1)?)?;
            let lo = hex(*bytes.get(i + 2)?)?;
            out.push(hi * 16 + lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Redact the password of a URL kept as text: the redacted URL when it
/// parses, else only its scheme.
pub(crate) fn redact_text(text: &str) -> String {
    match DatabaseUrl::parse(text) {
        Ok(url) => url.redacted,
        Err(UrlError::Invalid { url, .. } | UrlError::InvalidPort { url, .. }) => url,
        Err(_) => {
            let text = text.trim();
            match text.find(':') {
                Some(i) if valid_scheme(&text[..i]) => format!("{}:… (hidden)", &text[..i]),
                _ => "… (hidden)".to_owned(),
            }
        }
    }
}

/// Mask anything that looks like the password of a URL inside free text
/// (`scheme://user:PASSWORD@host`), for messages quoting user input.
pub(crate) fn redact_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let start = i + 3;
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`'))
            .unwrap_or(after.len());
        let candidate = &after[..end];
        match (candidate.find(':'), candidate.rfind('@')) {
            (Some(colon), Some(at)) if colon < at => {
                out.push_str(&candidate[..=colon]);
                out.push_str(MASK);
                out.push_str(&candidate[at..]);
            }
            _ => out.push_str(candidate),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Diagnostic as _;

    fn parse(text: &str) -> DatabaseUrl {
        match DatabaseUrl::parse(text) {
            Ok(url) => url,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn err(text: &str) -> UrlError {
        match DatabaseUrl::parse(text) {
            Ok(url) => panic!("{text} parsed as {url:?}"),
            Err(e) => e,
        }
    }

    fn file(path: &str) -> Option<SqliteLocation> {
        Some(SqliteLocation::File(PathBuf::from(path)))
    }

    #[test]
    fn sqlite_forms() {
        let table: &[(&str, Option<SqliteLocation>)] = &[
            ("sqlite::memory:", Some(SqliteLocation::Memory)),
            ("sqlite://:memory:", Some(SqliteLocation::Memory)),
            ("sqlite:///:memory:", Some(SqliteLocation::Memory)),
            ("sqlite://", Some(SqliteLocation::Memory)),
            ("sqlite:///", Some(SqliteLocation::Memory)),
            ("sqlite://app.db", file("app.db")),
            ("sqlite://dir/app.db", file("dir/app.db")),
            ("sqlite:///app.db", file("app.db")),
            ("sqlite:///dir/app.db", file("dir/app.db")),
            // Dot segments stay, as in SQLAlchemy (a WHATWG parser would
            // drop them and name another file: docs/dependencies.md).
            ("sqlite:///../data/app.db", file("../data/app.db")),
            ("sqlite:///./app.db", file("./app.db")),
            ("sqlite:////abs/app.db", file("/abs/app.db")),
            ("sqlite:app.db", file("app.db")),
            ("sqlite+aiosqlite:///app.db", file("app.db")),
            ("SQLite://app.db", file("app.db")),
            ("  sqlite://app.db\n", file("app.db")),
        ];
        for (text, location) in table {
            let url = parse(text);
            assert_eq!(url.sqlite_location(), location.as_ref(), "{text}");
            assert_eq!(url.dialect(), Dialect::Sqlite, "{text}");
            assert_eq!(url.host(), None, "{text}");
        }
        assert_eq!(
            parse("sqlite+aiosqlite:///app.db").driver(),
            Some("aiosqlite")
        );
    }

    #[test]
    fn with_database_keeps_the_server_and_its_settings() {
        let url = parse("postgres://u:p%40ss@db.example:6543/app?sslmode=require&password=x");
        let other = url.with_database("my db/é");
        assert_eq!(
            other.expose_secret(),
            "postgres://u:p%40ss@db.example:6543/my%20db%2F%C3%A9?sslmode=require&password=x"
        );
        assert_eq!(
            other.redacted(),
            "postgres://u:***@db.example:6543/my%20db%2F%C3%A9?sslmode=require&password=***"
        );
        assert_eq!(other.database(), Some("my db/é"));
        assert_eq!(other.password(), Some("p@ss"));
        assert_eq!(DatabaseUrl::parse(other.expose_secret()).unwrap(), other);
        let bare = parse("mysql://root@127.0.0.1").with_database("scratch");
        assert_eq!(bare.expose_secret(), "mysql://root@127.0.0.1/scratch");
        assert_eq!(bare.with_database("").database(), None);
    }

    #[test]
    fn with_database_of_sqlite_is_a_file_beside() {
        let table = [
            (
                "sqlite:////abs/app.db?mode=rw",
                "sqlite:////abs/t.db?mode=rw",
                "/abs/t.db",
            ),
            ("sqlite:///dir/app.db", "sqlite:///dir/t.db", "dir/t.db"),
            ("sqlite:app.db", "sqlite:///t.db", "t.db"),
        ];
        for (text, expected, path) in table {
            let other = parse(text).with_database("t.db");
            assert_eq!(other.expose_secret(), expected, "{text}");
            assert_eq!(other.sqlite_location(), file(path).as_ref(), "{text}");
            assert_eq!(DatabaseUrl::parse(expected).unwrap(), other, "{text}");
        }
        let memory = parse("sqlite::memory:");
        assert_eq!(memory.with_database("t.db"), memory);
    }

    #[test]
    fn sqlite_query_is_kept() {
        let url = parse("sqlite:///app.db?mode=ro");
        assert_eq!(url.sqlite_location(), file("app.db").as_ref());
        assert_eq!(url.params(), [("mode".to_owned(), "ro".to_owned())]);
        assert_eq!(url.param("mode"), Some("ro"));
        assert_eq!(url.to_string(), "sqlite:///app.db?mode=ro");
    }

    #[test]
    fn sqlite_modes() {
        for (query, mode) in [
            ("", SqliteMode::ReadWriteCreate),
            ("?mode=ro", SqliteMode::ReadOnly),
            ("?mode=rw", SqliteMode::ReadWrite),
            ("?mode=rwc", SqliteMode::ReadWriteCreate),
        ] {
            assert_eq!(parse(&format!("sqlite:///a.db{query}")).sqlite_mode(), mode);
        }
        // Anything else would be ignored, so it is refused.
        for query in [
            "mode=memory",
            "cache=shared",
            "mode=ro&journal=wal",
            "mode=ro&mode=rwc",
        ] {
            let e = err(&format!("sqlite:///a.db?{query}"));
            assert!(matches!(e, UrlError::InvalidParam { .. }), "{query}: {e}");
            assert!(e.to_string().contains("`mode=ro`"), "{e}");
        }
        assert!(matches!(
            err("sqlite::memory:?mode=ro"),
            UrlError::InvalidParam { .. }
        ));
        // No value but `mode`'s is shown: one may be a key.
        let e = err("sqlite:///a.db?mode=ro&hexkey=DEADBEEF&foo=bar").to_string();
        assert!(
            e.starts_with("invalid database URL `sqlite:///a.db?mode=ro&hexkey=***&foo=***`"),
            "{e}"
        );
    }

    #[test]
    fn sqlite_resolve() {
        let base = Path::new("/proj");
        let url = parse("sqlite:///data/app.db?mode=ro").resolve_relative_to(base);
        assert_eq!(url.sqlite_location(), file("/proj/data/app.db").as_ref());
        assert_eq!(url.expose_secret(), "sqlite:////proj/data/app.db?mode=ro");
        // The rewritten text means the same file.
        assert_eq!(
            parse(url.expose_secret()).sqlite_location(),
            file("/proj/data/app.db").as_ref()
        );
        let url = parse("sqlite://./app.db").resolve_relative_to(base);
        assert_eq!(url.sqlite_location(), file("/proj/app.db").as_ref());
        let url = parse("sqlite:////abs/app.db").resolve_relative_to(base);
        assert_eq!(url.expose_secret(), "sqlite:////abs/app.db");
        let url = parse("sqlite::memory:").resolve_relative_to(base);
        assert_eq!(url.sqlite_location(), Some(&SqliteLocation::Memory));
        let url = parse("postgres://h/db").resolve_relative_to(base);
        assert_eq!(url.expose_secret(), "postgres://h/db");
    }

    #[test]
    fn sqlite_errors() {
        assert!(matches!(err("sqlite:"), UrlError::Invalid { .. }));
        assert_eq!(
            err("sqlite:?mode=ro").to_string(),
            "invalid database URL `sqlite:?mode=ro`: expected `sqlite://PATH`, `sqlite:///PATH`, `sqlite:////ABSOLUTE/PATH` or `sqlite::memory:`"
        );
    }

    #[test]
    fn server_forms() {
        type Row<'a> = (
            &'a str,
            Dialect,
            Option<&'a str>,
            Option<u16>,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
        );
        let table: &[Row<'_>] = &[
            (
                "postgres://alice:s3cret@db.example.com:5433/app",
                Dialect::Postgres,
                Some("db.example.com"),
                Some(5433),
                Some("alice"),
                Some("s3cret"),
                Some("app"),
            ),
            (
                "postgresql://localhost/app",
                Dialect::Postgres,
                Some("localhost"),
                None,
                None,
                None,
                Some("app"),
            ),
            (
                "postgres://h",
                Dialect::Postgres,
                Some("h"),
                None,
                None,
                None,
                None,
            ),
            (
                "postgres://h/",
                Dialect::Postgres,
                Some("h"),
                None,
                None,
                None,
                None,
            ),
            (
                "postgres:///app",
                Dialect::Postgres,
                None,
                None,
                None,
                None,
                Some("app"),
            ),
            (
                "postgresql+asyncpg://u@h/app",
                Dialect::Postgres,
                Some("h"),
                None,
                Some("u"),
                None,
                Some("app"),
            ),
            (
                "postgresql+psycopg2://u:p@h:5432/app",
                Dialect::Postgres,
                Some("h"),
                Some(5432),
                Some("u"),
                Some("p"),
                Some("app"),
            ),
            (
                "mysql://root@localhost:3306/app",
                Dialect::Mysql,
                Some("localhost"),
                Some(3306),
                Some("root"),
                None,
                Some("app"),
            ),
            (
                "mysql+pymysql://root:pw@127.0.0.1/app",
                Dialect::Mysql,
                Some("127.0.0.1"),
                None,
                Some("root"),
                Some("pw"),
                Some("app"),
            ),
            (
                "mariadb://h/app",
                Dialect::Mysql,
                Some("h"),
                None,
                None,
                None,
                Some("app"),
            ),
            (
                "postgres://u:pw@[::1]:5432/app",
                Dialect::Postgres,
                Some("::1"),
                Some(5432),
                Some("u"),
                Some("pw"),
                Some("app"),
            ),
            (
                "postgres://[2001:db8::1]/app",
                Dialect::Postgres,
                Some("2001:db8::1"),
                None,
                None,
                None,
                Some("app"),
            ),
            (
                "postgres://us%40er:p%40ss%3Aw%2Fo%25rd@h/my%20db",
                Dialect::Postgres,
                Some("h"),
                None,
                Some("us@er"),
                Some("p@ss:w/o%rd"),
                Some("my db"),
            ),
            // An unencoded `@` or `:` in the password still works.
            (
                "postgres://u:p@ss:w@h/app",
                Dialect::Postgres,
                Some("h"),
                None,
                Some("u"),
                Some("p@ss:w"),
                Some("app"),
            ),
            (
                "postgres://:pw@h/app",
                Dialect::Postgres,
                Some("h"),
                None,
                None,
                Some("pw"),
                Some("app"),
            ),
            (
                "postgres://%2Fvar%2Frun%2Fpostgresql/app",
                Dialect::Postgres,
                Some("/var/run/postgresql"),
                None,
                None,
                None,
                Some("app"),
            ),
        ];
        for (text, dialect, host, port, user, password, database) in table {
            let url = parse(text);
            assert_eq!(url.dialect(), *dialect, "{text}");
            assert_eq!(url.host(), *host, "{text}");
            assert_eq!(url.port(), *port, "{text}");
            assert_eq!(url.user(), *user, "{text}");
            assert_eq!(url.password(), *password, "{text}");
            assert_eq!(url.database(), *database, "{text}");
            assert_eq!(url.sqlite_location(), None, "{text}");
            assert_eq!(url.expose_secret(), *text);
        }
    }

    #[test]
    fn server_params() {
        let url = parse(
            "postgres://h/app?sslmode=require&application_name=my%20app&&options=-c%20a%3Db&password=p%40w",
        );
        assert_eq!(
            url.params(),
            [
                ("sslmode".to_owned(), "require".to_owned()),
                ("application_name".to_owned(), "my app".to_owned()),
                ("options".to_owned(), "-c a=b".to_owned()),
                ("password".to_owned(), "p@w".to_owned()),
            ]
        );
        assert_eq!(url.database(), Some("app"));
        assert_eq!(url.password(), Some("p@w"));
        // Anything else would be ignored, so it is refused, naming the
        // parameters there are; a typo gets the closest.
        for (text, says) in [
            (
                "postgres://h/app?sslmod=require",
                "`sslmod` is not a parameter retort understands in PostgreSQL URLs (did you mean `sslmode`?)",
            ),
            (
                "postgres://h/app?target_session_attrs=read-write",
                "`target_session_attrs` is not a parameter",
            ),
            (
                "mysql://h/app?ssl_mdoe=required",
                "`ssl_mdoe` is not a parameter retort understands in MySQL/MariaDB URLs (did you mean `ssl_mode`?)",
            ),
            (
                "mysql://h/app?connect_timeout=soon",
                "`connect_timeout=soon`: expected whole seconds",
            ),
            (
                "postgres://h/app?connect_timeout=",
                "`connect_timeout=`: expected whole seconds",
            ),
        ] {
            let e = err(text);
            assert_eq!(e.kind(), "url_invalid_param", "{text}");
            assert!(e.to_string().contains(says), "{text}: {e}");
        }
        assert_eq!(
            parse("mysql://h/app?connect_timeout=0").param("connect_timeout"),
            Some("0")
        );
    }

    #[test]
    fn redaction() {
        let table = [
            ("postgres://u:hunter2@h/app", "postgres://u:***@h/app"),
            ("postgres://u@h/app", "postgres://u@h/app"),
            ("postgres://:hunter2@h/app", "postgres://:***@h/app"),
            (
                "mysql://u:p%40hunter2@h:3306/app",
                "mysql://u:***@h:3306/app",
            ),
            (
                "postgres://u@h/app?sslmode=require&password=hunter2",
                "postgres://u@h/app?sslmode=require&password=***",
            ),
            (
                "postgres://u:hunter2@[::1]:1/app",
                "postgres://u:***@[::1]:1/app",
            ),
            ("postgres://u:p@ss@h/app", "postgres://u:***@h/app"),
        ];
        for (text, redacted) in table {
            let url = parse(text);
            assert_eq!(url.redacted(), redacted, "{text}");
            assert_eq!(url.to_string(), redacted, "{text}");
            assert_eq!(format!("{url:?}"), format!("DatabaseUrl({redacted:?})"));
            assert_eq!(url.expose_secret(), text);
        }
    }

    #[test]
    fn errors() {
        let table = [
            ("", "the database URL is empty"),
            (
                "app.db",
                "the database URL has no scheme (the URL is hidden because it may contain a password)",
            ),
            (
                "oracle://u@h/db",
                "unsupported database URL scheme `oracle`; supported: `sqlite`, `postgres`, `postgresql`, `mysql` and `mariadb`",
            ),
            (
                "postgres://u:pw@h:99999/db",
                "invalid port `99999` in `postgres://u:***@h:99999/db`: expected a number from 1 to 65535",
            ),
            (
                "postgres://u:pw@h:0/db",
                "invalid port `0` in `postgres://u:***@h:0/db`: expected a number from 1 to 65535",
            ),
            (
                "postgres://u:pw@h:54x/db",
                "invalid database URL `postgres:…` (the rest is hidden because it may contain a password): the port is not a number",
            ),
            (
                "postgres://u:pw@h:/db",
                "invalid database URL `postgres://u:***@h:/db`: empty port after `:`",
            ),
            (
                "postgres://u:pw@[::1/db",
                "invalid database URL `postgres://u:***@[::1/db`: unterminated `[` in the IPv6 host",
            ),
            (
                "postgres://u:pw@[::1]x/db",
                "invalid database URL `postgres://u:***@[::1]x/db`: expected `:PORT` or nothing after `]`",
            ),
            (
                "postgres://h1,h2/db",
                "invalid database URL `postgres://h1,h2/db`: multiple hosts are not supported",
            ),
            (
                "postgres://u:p%zz@h/db",
                "invalid database URL `postgres://u:***@h/db`: invalid percent-encoding in the password",
            ),
            (
                "postgres:u@h",
                "invalid database URL `postgres:…` (the rest is hidden because it may contain a password): expected `//` after `postgres:`",
            ),
            (
                "postgres+://h/db",
                "invalid database URL `postgres+:…` (the rest is hidden because it may contain a password): expected `scheme+driver`, as in `postgresql+asyncpg`",
            ),
            (
                "postgresql://u:pw@h/db?sslmode=require&sslmode=verify",
                "invalid database URL `postgresql://u:***@h/db?sslmode=require&sslmode=verify`: unknown `sslmode=verify`; expected one of `disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`",
            ),
        ];
        for (text, message) in table {
            assert_eq!(err(text).to_string(), message, "{text}");
        }
        // A SQLite parameter is refused with its value masked.
        assert!(err("sqlite:///app.db?key=hunter2").to_string().starts_with(
            "invalid database URL `sqlite:///app.db?key=***`: `key` is not supported"
        ));
        assert_eq!(err("oracle://x").kind(), "url_unknown_scheme");
        assert!(err("oracle://x").hint().is_some());
        assert_eq!(err("postgres://h:70000").kind(), "url_invalid_port");
        assert_eq!(err("postgres://h?sslmode=on").kind(), "url_invalid_param");
        assert!(err("postgres://h?sslmode=on").hint().is_some());
        for mode in POSTGRES_SSLMODES {
            assert_eq!(
                parse(&format!("postgres://h?sslmode={mode}")).param("sslmode"),
                Some(mode)
            );
        }
        // SQLite takes no `sslmode`; MySQL has its own.
        assert_eq!(
            err("sqlite:///app.db?sslmode=on").kind(),
            "url_invalid_param"
        );
        parse("mysql://h/db?ssl-mode=VERIFY-IDENTITY");
        assert_eq!(err("mysql://h/db?sslmode=on").kind(), "url_invalid_param");
    }

    #[test]
    fn server_names_a_kind_of_the_urls_dialect() {
        assert_eq!(
            parse("mysql://h/db?server=galera").param("server"),
            Some("galera")
        );
        assert_eq!(
            parse("postgres://h/db?server=cockroachdb").param("server"),
            Some("cockroachdb")
        );
        parse("postgres://h/db?server=plain");
        for (text, message) in [
            (
                "postgres://u:pw@h/db?server=galera",
                "invalid database URL `postgres://u:***@h/db?server=galera`: `galera` is a MySQL/MariaDB server, and this is a PostgreSQL database: it takes `plain`, `cockroachdb`, `yugabytedb`, `citus`",
            ),
            (
                "mysql://h/db?server=tidb",
                "invalid database URL `mysql://h/db?server=tidb`: unknown `server=tidb`; expected one of `plain`, `galera`, `vitess`",
            ),
        ] {
            let e = err(text);
            assert_eq!(e.to_string(), message, "{text}");
            assert_eq!(e.kind(), "url_invalid_param");
        }
        // SQLite has no server to name.
        assert_eq!(
            err("sqlite:///app.db?server=plain").kind(),
            "url_invalid_param"
        );
    }

    #[test]
    fn no_password_leaks() {
        let secret = "hunter2";
        let urls = [
            "postgres://u:hunter2@h/app",
            "postgresql+asyncpg://u:hunter2@h:5432/app?sslmode=require",
            "mysql://u:hunter2@[::1]:3306/app",
            "postgres://u:hunter2@h:99999/app",
            "postgres://u:hunter2@h:x/app",
            "postgres://u:hunter2@h:/app",
            "postgres://u:hunter2@[::1/app",
            "postgres://u:hunter2@h1,h2/app",
            "postgres://u:hunter2@h/%zz",
            "postgres://u:hunter2@h/app?password=hunter2",
            "postgres://h/app?password=hunter2",
            "postgres://h/app?password=hunter2&x=%zz",
            "postgres://u:hunt/er2@h/app",
            "postgres://u:hunt?er2@h/app",
            "postgres://u:hunt#er2@h/app",
            "postgres://u:hunter2/app",
            "postgres://u:hunter2",
            "postgres:u:hunter2@h/app",
            "oracle://u:hunter2@h/app",
            "u:hunter2@h/app",
            "hunter2",
            "sqlite:///app.db?key=hunter2",
        ];
        for text in urls {
            match DatabaseUrl::parse(text) {
                Ok(url) => {
                    for shown in [url.to_string(), format!("{url:?}"), url.redacted()] {
                        assert!(!shown.contains(secret), "{text} shown as {shown}");
                    }
                }
                Err(e) => {
                    for shown in [
                        e.to_string(),
                        format!("{e:?}"),
                        e.hint().unwrap_or_default(),
                    ] {
                        assert!(!shown.contains(secret), "{text} shown as {shown}");
                    }
                }
            }
            let shown = redact_text(text);
            assert!(!shown.contains(secret), "{text} shown as {shown}");
        }
    }

    #[test]
    fn redact_free_text() {
        assert_eq!(
            redact_in_text("invalid type: string \"postgres://u:pw@h/db\", expected a table"),
            "invalid type: string \"postgres://u:***@h/db\", expected a table"
        );
        assert_eq!(
            redact_in_text("see https://example.com/x"),
            "see https://example.com/x"
        );
        assert_eq!(redact_in_text("no url"), "no url");
    }
}
