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

/// Takes the schema's lock for the rest of the transaction and makes sure
/// the table exists: one round trip.
pub(crate) async fn lock_and_ensure(tx: &Tx, schema: &SchemaIdent) -> Result<()> {
    let sql = format!(
        "SELECT pg_advisory_xact_lock(hashtextextended('{}', 0)); {DDL}",
        lock_key(schema)
    );
    tx.sql(AssertSqlSafe(sql)).execute_script().await.map(drop)
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
