//! A portable tenant: one schema written to a file
//! ([`crate::SchemaManager::export_schema`]) and recreated from it under
//! any name, in the same or another database
//! ([`crate::SchemaManager::import_schema`]).
//!
//! **Structure** comes from the clone planner (`crate::clone`): the same
//! catalog query and plan that `clone_schema` runs, asked to name the target
//! schema by a placeholder (`strav_export_<32 hex digits>`, from a hash of
//! the clock, the process and a counter: new for every export) and to
//! describe the rows instead of copying them
//! (`Rows::Described` in `clone/plan.rs`). The import puts the new schema's
//! name where the placeholder stands, so its statements are the ones a
//! clone under that name would run. A placeholder, not the source's name,
//! because the source's name may also be a word in a comment, a column or
//! a string; a 128-bit name made at the moment of the export is in no text
//! the schema already held.
//!
//! **Data** travels as `COPY ... TO STDOUT` / `FROM STDIN` in PostgreSQL's
//! text format, not binary. Binary COPY writes the type OID of every array
//! element and composite field, and a tenant's own enums and composite
//! types have other OIDs in another database: their arrays would not load
//! there. Binary is also defined per type by each server version's
//! send/receive functions, while text is what every version reads back.
//! The settings that shape text output (`DateStyle`, `IntervalStyle`,
//! `extra_float_digits`, `bytea_output`) are fixed while exporting, written
//! to the header and set again while importing; timestamps carry their
//! offset, so the time zone does not matter.
//!
//! **One snapshot.** The export reads everything in one `REPEATABLE READ`
//! transaction, and makes sure no migration of the schema is half-way when
//! it starts, so that structure, rows and `strav_migrations` agree. Catalog
//! functions (`pg_get_viewdef`, ...) read the newest catalog, not the
//! snapshot, so it is not enough to start a snapshot; the export first
//! locks, then takes the snapshot, then checks:
//! 1. `LOCK TABLE` on every table of the schema (`ACCESS SHARE`: no DDL
//!    on them until the export ends) and on `strav_migrations` (`SHARE`:
//!    no migration can record itself), with `NOWAIT`. `LOCK` does not start
//!    the snapshot; the next statement does, after the locks are held.
//! 2. The first query takes the snapshot and tries the schema's migration
//!    lock, shared (`pg_try_advisory_xact_lock_shared`; the migrator holds
//!    it exclusively for each migration, from its start to its commit).
//!    A migration that was running when the snapshot was taken either had
//!    recorded itself (its row lock on `strav_migrations` would have made
//!    step 1 fail) or had not, and then still holds its lock at step 2
//!    (it cannot record itself, or commit, before this export ends).
//!    The same query lists the schema's tables again: a table made between
//!    the listing for step 1 and the snapshot was not locked.
//! 3. On any of these (a lock not free, a table dropped or made meanwhile),
//!    the attempt is rolled back, waits for the running migration and starts
//!    again, up to 20 times.
//!
//! Not covered: `CREATE OR REPLACE FUNCTION` outside a migration while an
//! export runs (it takes no lock; the export may write the new body).
//! Sequences are not transactional: their positions are read after the rows,
//! so they are at least as far as any row of the snapshot needs.
//!
//! **Checking before writing.** The import reads the whole file and checks
//! signature, version, lengths and SHA-256 before the first statement
//! (see `format.rs`), then refuses a name that is taken and migrations that
//! differ from the target's (see [`MigrationReference`]), then runs
//! everything in one transaction: the schema, the `strav_migrations` rows,
//! the rows, the constraints and the registry row commit together or not
//! at all. The file is hashed again as it is read the second time; if it
//! changed in between, the transaction is rolled back.
//!
//! **Trust.** The file holds SQL (the structure) that the import runs. The
//! checksum detects damage, not tampering: import files you trust, as you
//! would run a `pg_dump` file.

use std::path::PathBuf;

use serde::Serialize;

pub(crate) mod export;
pub(crate) mod format;
pub(crate) mod import;

pub use format::{ExportHeader, Section, SectionKind, FORMAT_VERSION};

/// What is wrong with an export file; the import stops before touching the
/// database (or, for [`FileProblem::ChangedDuringImport`], rolls back).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileProblem {
    /// It does not start with the export signature.
    #[error("not a Strav export file (it does not start with the STRAVTNT signature)")]
    NotAnExport,
    /// Another format version than this Strav reads.
    #[error("export format version {found}, but this version of Strav reads version {supported} (a newer Strav wrote it, or the file is damaged)")]
    UnsupportedVersion { found: u32, supported: u32 },
    /// Shorter than its header says.
    #[error("{}", truncated(*expected, *actual))]
    Truncated {
        /// The size its header announces, when the header could be read.
        expected: Option<u64>,
        /// Its size.
        actual: u64,
    },
    /// Some byte differs from what was written.
    #[error("damaged: its content does not match its SHA-256 checksum")]
    ChecksumMismatch,
    /// The checksum holds, but the content is not what Strav writes.
    #[error("malformed: {0}")]
    Malformed(String),
    /// It changed between the check and the import's reading it.
    #[error("changed while it was being imported")]
    ChangedDuringImport,
}

fn truncated(expected: Option<u64>, actual: u64) -> String {
    match expected {
        Some(e) => format!("truncated: it has {actual} bytes, its header announces {e}"),
        None => format!("truncated or damaged: it ends ({actual} bytes) before its header does"),
    }
}

/// What an import's migrations were compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MigrationReference {
    /// The domain's migration files of the `SchemaManager`
    /// ([`crate::SchemaManager::with_migrations`]): what the application
    /// deployed against the target expects, and what `strav migrate`
    /// brings every tenant to. Used whenever the manager has them.
    Files,
    /// Without files: the migrations the target database's registered
    /// schemas of the domain have applied, all of them together (the newest
    /// state any of them reached; a tenant whose last migration failed does
    /// not pull the reference back). Schemas that applied nothing say
    /// nothing and are not counted.
    Database {
        /// The schemas that had applied migrations.
        schemas: usize,
    },
    /// Nothing to compare with: no files, and no schema of the domain in the
    /// target database has applied a migration (the first tenant of its
    /// domain there). The import goes ahead.
    Unchecked,
}

impl std::fmt::Display for MigrationReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MigrationReference::Files => f.write_str("the migration files"),
            MigrationReference::Database { schemas } => write!(
                f,
                "what {schemas} registered schema{} of the domain in the target database applied",
                if *schemas == 1 { "" } else { "s" }
            ),
            MigrationReference::Unchecked => f.write_str("nothing"),
        }
    }
}

/// Why an import was refused: the file's migrations are not the target's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MigrationMismatch {
    /// The name the schema was to be imported as.
    pub schema: String,
    /// Its domain.
    pub domain: String,
    /// What the file was compared with.
    pub against: MigrationReference,
    /// The newest version in the file.
    pub file_version: Option<i64>,
    /// The newest version of the reference.
    pub target_version: Option<i64>,
    /// Versions the target has and the file lacks: the file is behind.
    pub behind: Vec<i64>,
    /// Versions the file has and the target lacks: the file is ahead.
    pub ahead: Vec<i64>,
    /// Versions both have, with other checksums (another file was applied).
    pub changed: Vec<i64>,
}

impl std::fmt::Display for MigrationMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = |v: Option<i64>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
        let list = |l: &[i64]| l.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        write!(
            f,
            "refusing to import as {:?}: the file's migrations of domain {} (version {}) differ from {} (version {})",
            self.schema,
            self.domain,
            v(self.file_version),
            self.against,
            v(self.target_version)
        )?;
        let mut parts = Vec::new();
        if !self.behind.is_empty() {
            parts.push(format!(
                "the file is behind, it lacks {}",
                list(&self.behind)
            ));
        }
        if !self.ahead.is_empty() {
            parts.push(format!(
                "the file is ahead, the target lacks {}",
                list(&self.ahead)
            ));
        }
        if !self.changed.is_empty() {
            parts.push(format!("other checksums for {}", list(&self.changed)));
        }
        write!(
            f,
            ": {}; migrate the side that is behind (the source before exporting again, or the target), then import; nothing was imported",
            parts.join("; ")
        )
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportReport {
    /// The schema exported.
    pub schema: String,
    /// Its domain (written to the file).
    pub domain: String,
    /// The file written.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// The newest `strav_migrations` version in it.
    pub migration_version: Option<i64>,
    /// `strav_migrations` rows in it.
    pub migrations: usize,
    /// Tables (`strav_migrations` included), views, functions and types.
    pub tables: usize,
    pub views: usize,
    pub functions: usize,
    pub types: usize,
    /// Rows of the tables other than `strav_migrations`.
    pub rows: u64,
}

/// What an import made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ImportReport {
    /// The new schema.
    pub schema: String,
    /// The domain it was registered in (the file's).
    pub domain: String,
    /// The schema the file was exported from.
    pub source_schema: String,
    /// The newest `strav_migrations` version imported.
    pub migration_version: Option<i64>,
    /// `strav_migrations` rows imported.
    pub migrations: usize,
    /// Tables (`strav_migrations` included), views, functions and types.
    pub tables: usize,
    pub views: usize,
    pub functions: usize,
    pub types: usize,
    /// Rows of the tables other than `strav_migrations`.
    pub rows: u64,
    /// What the file's migrations were compared with.
    pub checked_against: MigrationReference,
}

/// Reads and checks a whole export file (signature, version, lengths,
/// checksum) without a database, and returns its header.
///
/// ```no_run
/// # async fn demo() -> strav_orm::Result<()> {
/// let header = strav_orm::portable::read_header("acme.strav").await?;
/// println!("{} at version {:?}", header.source_schema, header.migration_version);
/// # Ok(()) }
/// ```
pub async fn read_header(path: impl AsRef<std::path::Path>) -> crate::Result<ExportHeader> {
    format::verify(path.as_ref()).await.map(|v| v.header)
}

/// `"name"`, whatever the name: for table and sequence names read from the
/// catalog or the file (schema names have [`crate::SchemaName::quoted`]).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The settings COPY's text output depends on, fixed for export and import.
pub(crate) const COPY_SETTINGS: [(&str, &str); 4] = [
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "3"),
    ("bytea_output", "hex"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_messages_say_which_versions_differ() {
        let m = MigrationMismatch {
            schema: "acme2".into(),
            domain: "tenant".into(),
            against: MigrationReference::Database { schemas: 2 },
            file_version: Some(2),
            target_version: Some(3),
            behind: vec![3],
            ahead: vec![],
            changed: vec![1],
        };
        assert_eq!(
            m.to_string(),
            "refusing to import as \"acme2\": the file's migrations of domain tenant (version 2) \
             differ from what 2 registered schemas of the domain in the target database applied \
             (version 3): the file is behind, it lacks 3; other checksums for 1; migrate the side \
             that is behind (the source before exporting again, or the target), then import; \
             nothing was imported"
        );
    }

    #[test]
    fn identifiers_are_always_quoted() {
        assert_eq!(quote_ident("orders"), "\"orders\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }
}
