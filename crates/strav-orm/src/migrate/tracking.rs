//! The tracking table: each schema's record of the migrations it applied.
//!
//! Everything that reads or writes `strav_migrations` (the runner, the
//! status reader, `clone`, `generate:migration`'s shadow schema) takes the
//! table's name, its DDL, the advisory lock key and the statements from
//! here, so the format lives in one place.

use std::time::Instant;

use sqlx::AssertSqlSafe;

use super::source::Migration;
use crate::error::Result;
use crate::schema_name::SchemaIdent;
use crate::transaction::Tx;

/// The table each schema keeps its applied migrations in.
pub const TRACKING_TABLE: &str = "strav_migrations";

/// Creates the table in the schema first on the path, if it is not there.
pub(crate) const DDL: &str = "CREATE TABLE IF NOT EXISTS strav_migrations (
    version     bigint PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    batch       bigint NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms bigint NOT NULL DEFAULT 0
)";

/// Whether version `$1` is recorded.
pub(crate) const IS_APPLIED: &str =
    "SELECT EXISTS (SELECT 1 FROM strav_migrations WHERE version = $1)";

/// Records an applied migration: version, name, checksum, batch, duration_ms.
pub(crate) const RECORD: &str = "INSERT INTO strav_migrations (version, name, checksum, batch, duration_ms) VALUES ($1, $2, $3, $4, $5)";

/// Forgets version `$1` (after its down migration ran).
pub(crate) const FORGET: &str = "DELETE FROM strav_migrations WHERE version = $1";

/// The advisory lock key of a schema's migrations: runners take it
/// exclusively per migration; clones of the schema take it shared.
pub(crate) fn lock_key(schema: &SchemaIdent) -> String {
    format!("{LOCK_PREFIX}{schema}")
}

/// What [`lock_key`] puts before the schema name (clone builds the key
/// server-side from it).
pub(crate) const LOCK_PREFIX: &str = "strav_migrate:";

/// What a migration transaction does about the registry's summary of the
/// schema's tracking rows (`migrate::summary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Summary {
    /// Not a registered schema: no summary.
    None,
    /// Registered, its trigger in place: write the summary after the rows.
    Write,
    /// Registered, its trigger not known to be there: make it, then write.
    Track,
}

/// Takes the schema's lock for the rest of the transaction and makes sure
/// the table exists: one round trip. For a registered schema it also sets
/// `strav.writing`, which the summary trigger's `WHEN` skips on (Strav
/// writes the summary itself, see [`note`]), and with [`Summary::Track`]
/// makes the trigger.
pub(crate) async fn lock_and_ensure(tx: &Tx, schema: &SchemaIdent, summary: Summary) -> Result<()> {
    let mut sql = format!(
        "SELECT pg_advisory_xact_lock(hashtextextended('{}', 0)); {DDL};",
        lock_key(schema)
    );
    if summary != Summary::None {
        sql.push_str(" SET LOCAL strav.writing = on;");
    }
    if summary == Summary::Track {
        sql.push_str(&track_sql(schema));
    }
    tx.sql(AssertSqlSafe(sql)).execute_script().await.map(drop)
}

/// Makes the summary trigger on `schema`'s tracking table if it is not
/// there, and writes its summary (a validated name: no quote can occur).
pub(crate) fn track_sql(schema: &SchemaIdent) -> String {
    format!(" SELECT public.strav_track_versions('{schema}');")
}

/// Writes `schema`'s summary from its tracking rows, after Strav changed
/// them (with `strav.writing` set, the trigger left it to this).
pub(crate) fn note_sql(schema: &SchemaIdent) -> String {
    format!("SELECT public.strav_note_versions('{schema}')")
}

/// Summarizes the rows in the caller's transaction.
pub(crate) async fn note(tx: &Tx, schema: &SchemaIdent) -> Result<()> {
    tx.sql(AssertSqlSafe(note_sql(schema)))
        .execute_script()
        .await
        .map(drop)
}

pub(crate) async fn is_applied(tx: &Tx, version: i64) -> Result<bool> {
    tx.sql(IS_APPLIED).bind(version).fetch_scalar().await
}

pub(crate) async fn record(tx: &Tx, m: &Migration, batch: i64, started: Instant) -> Result<()> {
    tx.sql(RECORD)
        .bind(m.version)
        .bind(&m.name)
        .bind(&m.checksum)
        .bind(batch)
        .bind(elapsed_ms(started))
        .execute()
        .await
        .map(drop)
}

pub(crate) async fn forget(tx: &Tx, version: i64) -> Result<()> {
    tx.sql(FORGET).bind(version).execute().await.map(drop)
}

pub(crate) fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}
