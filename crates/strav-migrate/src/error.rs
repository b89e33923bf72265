//! What can go wrong while authoring a migration.

use std::path::PathBuf;

/// Everything `strav-migrate` can fail with. [`Error::is_user_error`] tells
/// what the caller can fix from what the environment did.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The domain is not one of the definitions' domains.
    #[error("unknown scope {scope:?}; the domains found in {schemas} are: {found}")]
    UnknownScope {
        scope: String,
        schemas: String,
        found: String,
    },

    /// The message leaves nothing to name the files after.
    #[error("the message {message:?} gives an empty file name: say what the migration does in letters or digits, such as \"add orders table\"")]
    EmptyMessage { message: String },

    /// A migration of a fixed-schema domain names its own schema, so
    /// replaying it into a shadow schema would change the real one.
    #[error("{file}: names its own schema ({schema}.<name>); migrations of {domain} run with {schema} on the search path and must use unqualified names, or generate:migration, which replays them into a shadow schema, would change {schema} itself: remove the `{schema}.` qualifiers")]
    SelfQualified {
        file: String,
        schema: String,
        domain: String,
    },

    /// The existing migrations failed on an empty shadow schema.
    #[error("the existing migrations of {domain} do not apply to an empty schema, so there is nothing to compare the definitions with: {message}")]
    Replay { domain: String, message: String },

    /// Creating, reading or dropping the shadow schema failed.
    #[error("{what}: {source}")]
    Shadow {
        what: &'static str,
        #[source]
        source: strav_orm::sqlx::Error,
    },

    /// A migration file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// From the runtime (connection, configuration, migrations on disk).
    #[error(transparent)]
    Orm(#[from] strav_orm::Error),
}

impl Error {
    /// True when the caller's input is at fault rather than the database
    /// or the file system.
    pub fn is_user_error(&self) -> bool {
        match self {
            Error::UnknownScope { .. }
            | Error::EmptyMessage { .. }
            | Error::SelfQualified { .. } => true,
            Error::Orm(e) => e.is_user_error(),
            Error::Replay { .. } | Error::Shadow { .. } | Error::Write { .. } => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
