//! The one error type of the runtime.
//!
//! Variants are split by who can fix them: the caller (bad input, see
//! [`Error::is_user_error`]) or the environment (the database, the network).
//! The CLI turns that split into its exit codes.

use std::path::PathBuf;

/// Everything that can go wrong in `strav-orm`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A schema name that is not a valid (or allowed) PostgreSQL schema name.
    #[error("invalid schema name {name:?}: {reason}")]
    InvalidSchemaName { name: String, reason: &'static str },

    /// A domain name that cannot be used.
    #[error("invalid domain name {name:?}: domain names match ^[a-z_][a-z0-9_]{{0,62}}$")]
    InvalidDomain { name: String },

    /// `config/database.toml` (or the environment it reads) is missing or malformed.
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },

    /// A per-tenant operation ran outside any `with_schema` scope.
    #[error("no schema context: {operation} needs a tenant schema; wrap the call in `with_schema(\"<schema>\", ...)`")]
    NoSchemaContext { operation: String },

    /// A query that cannot be built as asked.
    #[error("invalid query: {0}")]
    InvalidQuery(&'static str),

    /// A query ran inside `with_schema` while `[multi_tenant] enabled = false`.
    #[error("multi-tenancy is disabled ([multi_tenant] enabled = false in config/database.toml), so queries inside with_schema are refused rather than run in the shared schema; enable it or drop the with_schema scope")]
    MultiTenantDisabled,

    /// The schema already exists.
    #[error("schema {0:?} already exists")]
    SchemaAlreadyExists(String),

    /// The schema does not exist in the database.
    #[error("schema {0:?} does not exist")]
    SchemaNotFound(String),

    /// The schema exists but is not in the registry `public.strav_schemas`.
    #[error("schema {0:?} is not registered in public.strav_schemas; Strav only deletes schemas it created (see `strav schema:list`)")]
    SchemaNotRegistered(String),

    /// A schema that Strav refuses to touch (public, information_schema, pg_*).
    #[error("schema {name:?} is protected: {reason}")]
    ProtectedSchema { name: String, reason: &'static str },

    /// A migration could not be read, applied or rolled back, or a schema's
    /// applied migrations no longer match the files (drift).
    #[error("{}{}{message}", schema.as_deref().map(|s| format!("schema {s:?}: ")).unwrap_or_default(), file.as_deref().map(|f| format!("{f}: ")).unwrap_or_default())]
    Migration {
        schema: Option<String>,
        file: Option<String>,
        message: String,
    },

    /// A bind parameter could not be encoded.
    #[error("bind parameter ${index} could not be encoded: {source}")]
    Bind {
        index: usize,
        #[source]
        source: sqlx::error::BoxDynError,
    },

    /// A query that had to return a row returned none.
    #[error("query returned no rows")]
    RowNotFound,

    /// A statement of this transaction was cancelled (its future dropped)
    /// before it finished; nothing more can run in the transaction, and it
    /// is rolled back when dropped.
    #[error("a statement of this transaction was cancelled before it finished, so the transaction can only be rolled back; drop it (or call rollback) and start a new one")]
    TransactionInterrupted,

    /// Session routing was asked for, but a connection pooler in
    /// transaction (or statement) mode sits in front of PostgreSQL: the
    /// session's `search_path` would not follow the client, and one tenant's
    /// queries would run in another's schema.
    #[error("a connection pooler in transaction mode sits between Strav and PostgreSQL ({evidence}), so session routing would run one tenant's queries in another tenant's schema; set `routing = \"transaction\"` under [multi_tenant] in config/database.toml (or connect to PostgreSQL directly), or, if the pooler runs in session mode, declare it with `session_pooler = true`")]
    PoolerDetected { evidence: String },

    /// The operation needs a server session of its own, which a pooler in
    /// transaction mode cannot give.
    #[error("{operation} needs a server session of its own, which `routing = \"transaction\"` (a pooler in transaction mode) cannot give; {instead}")]
    SessionRequired {
        operation: String,
        instead: &'static str,
    },

    /// No connection could be had from the pool in time.
    #[error("timed out after {0:?} waiting for a database connection (pool exhausted?)")]
    PoolTimeout(std::time::Duration),

    /// The pool was closed.
    #[error("the connection pool is closed")]
    PoolClosed,

    /// An export file that cannot be imported: not an export, another
    /// format version, truncated, damaged (checksum) or malformed. Nothing
    /// was imported.
    #[error("export file {}: {problem}; nothing was imported", path.display())]
    ExportFile {
        path: PathBuf,
        problem: crate::portable::FileProblem,
    },

    /// An import refused because the file's migrations are behind or ahead
    /// of the target's, or were other files (see the fields for which).
    #[error("{0}")]
    MigrationMismatch(Box<crate::portable::MigrationMismatch>),

    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An error from PostgreSQL or the driver.
    #[error("database error: {source}{}", schema.as_deref().map(|s| format!(" (in schema {s:?})")).unwrap_or_default())]
    Database {
        schema: Option<String>,
        #[source]
        source: sqlx::Error,
    },
}

impl Error {
    /// True when the caller's input is at fault (bad name, config, missing
    /// context) rather than the database or the network.
    pub fn is_user_error(&self) -> bool {
        !matches!(
            self,
            Error::Database { .. }
                | Error::Io { .. }
                | Error::PoolTimeout(_)
                | Error::PoolClosed
                | Error::Migration {
                    schema: Some(_),
                    ..
                }
        )
    }

    /// The PostgreSQL SQLSTATE code, when the error came from the server.
    pub fn sqlstate(&self) -> Option<String> {
        match self {
            Error::Database {
                source: sqlx::Error::Database(db),
                ..
            } => db.code().map(|c| c.into_owned()),
            _ => None,
        }
    }

    pub(crate) fn db(source: sqlx::Error, schema: Option<&str>) -> Self {
        match source {
            sqlx::Error::RowNotFound => Error::RowNotFound,
            source => Error::Database {
                schema: schema.map(str::to_owned),
                source,
            },
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(source: sqlx::Error) -> Self {
        Error::db(source, None)
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
