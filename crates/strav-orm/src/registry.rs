//! The registry of the schemas Strav created: `public.strav_schemas`.
//!
//! Listing, migrating and deleting act on registered schemas only, so a
//! schema someone made by hand is never dropped by mistake. Every reader and
//! writer of the table (`SchemaManager`, the migration runner, `clone`) goes
//! through here. The table is created on first write; reads work without it
//! (and for a role that may not create tables).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::SqlSafeStr;

use crate::database::Database;
use crate::error::{Error, Result};
use crate::schema_events::{SchemaEvent, SCHEMA_EVENTS_CHANNEL};
use crate::schema_name::{SchemaIdent, SchemaName};
use crate::search_path::SearchPath;
use crate::sql::Sql;
use crate::transaction::Tx;

/// A registered schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SchemaInfo {
    /// The schema's name.
    pub name: String,
    /// The domain whose definitions it holds (`tenant`, ...).
    pub domain: String,
    /// When Strav created it.
    pub created_at: DateTime<Utc>,
}

/// The registry table, the sequence global migration batches come from, and
/// the summary of each registered schema's applied migrations
/// (`strav_schema_versions`, see `migrate::summary`): the tracking table's
/// oid and file and a digest of its rows. Strav writes it
/// (`strav_note_versions`) in the transaction that changes the rows, with
/// `strav.writing` set; a statement trigger on the tracking table
/// (`strav_track_versions` makes it) writes it in any other statement that
/// changes them, so a hand-made `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE` or
/// `COPY` updates it too. Safe to race: it runs under an advisory lock in
/// one transaction.
pub(crate) const DDL: &str = "\
SELECT pg_advisory_xact_lock(hashtext('strav_schemas'));
CREATE TABLE IF NOT EXISTS public.strav_schemas (
    name       text PRIMARY KEY CHECK (name ~ '^[a-z_][a-z0-9_]{0,62}$'),
    domain     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS strav_schemas_domain_name_idx ON public.strav_schemas (domain, name);
DROP INDEX IF EXISTS public.strav_schemas_domain_idx;
CREATE SEQUENCE IF NOT EXISTS public.strav_migration_batch_seq;
CREATE TABLE IF NOT EXISTS public.strav_schema_versions (
    name     text PRIMARY KEY,
    tracking oid NOT NULL,
    filenode oid NOT NULL,
    digest   text
);
CREATE OR REPLACE FUNCTION public.strav_note_versions(schema_name text) RETURNS void
LANGUAGE plpgsql AS $strav$
DECLARE
    t regclass := pg_catalog.to_regclass(pg_catalog.format('%I.strav_migrations', schema_name));
    d text;
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('strav_migrate:' || schema_name, 0));
    IF t IS NULL THEN
        DELETE FROM public.strav_schema_versions WHERE name = schema_name;
        RETURN;
    END IF;
    EXECUTE pg_catalog.format(
        'SELECT pg_catalog.md5(pg_catalog.string_agg(version::text || '':'' || checksum, '','' ORDER BY version)) FROM %I.strav_migrations',
        schema_name) INTO d;
    INSERT INTO public.strav_schema_versions (name, tracking, filenode, digest)
    SELECT schema_name, t, c.relfilenode, d FROM pg_catalog.pg_class c WHERE c.oid = t
    ON CONFLICT (name) DO UPDATE
    SET tracking = EXCLUDED.tracking, filenode = EXCLUDED.filenode, digest = EXCLUDED.digest;
END $strav$;
CREATE OR REPLACE FUNCTION public.strav_versions_changed() RETURNS trigger
LANGUAGE plpgsql AS $strav$
BEGIN
    EXECUTE 'SELECT public.strav_note_versions($1)' USING TG_TABLE_SCHEMA;
    RETURN NULL;
END $strav$;
CREATE OR REPLACE FUNCTION public.strav_track_versions(schema_name text) RETURNS void
LANGUAGE plpgsql AS $strav$
DECLARE
    t regclass := pg_catalog.to_regclass(pg_catalog.format('%I.strav_migrations', schema_name));
    enabled \"char\";
BEGIN
    IF t IS NOT NULL THEN
        SELECT tgenabled INTO enabled FROM pg_catalog.pg_trigger
        WHERE tgrelid = t AND tgname = 'strav_versions';
        IF enabled IS NULL THEN
            EXECUTE pg_catalog.format(
                'CREATE TRIGGER strav_versions AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                'ON %I.strav_migrations FOR EACH STATEMENT '
                'WHEN (pg_catalog.current_setting(''strav.writing'', true) IS DISTINCT FROM ''on'') '
                'EXECUTE FUNCTION public.strav_versions_changed()',
                schema_name);
        END IF;
        IF enabled IS DISTINCT FROM 'A' THEN
            -- ALWAYS: it fires under session_replication_role = replica
            -- too (pg_restore --disable-triggers, logical replication).
            EXECUTE pg_catalog.format(
                'ALTER TABLE %I.strav_migrations ENABLE ALWAYS TRIGGER strav_versions',
                schema_name);
        END IF;
    END IF;
    PERFORM public.strav_note_versions(schema_name);
END $strav$;";

/// Registry statements name their tables; they run on the default path
/// whatever the caller's context, so they never cost a tenant switch.
fn sql(db: &Database, sql: impl SqlSafeStr) -> Sql<'_> {
    db.sql_on(SearchPath::Default, sql)
}

/// Creates the registry if this database has none yet (once per `Database`).
pub(crate) async fn ensure(db: &Database) -> Result<()> {
    db.registry_ready()
        .get_or_try_init(|| async { sql(db, DDL).execute_script().await.map(drop) })
        .await
        .map(drop)
}

/// Creates the registry inside the caller's transaction, if this `Database`
/// has not seen it yet. Not remembered: the caller may still roll back.
pub(crate) async fn ensure_in(db: &Database, tx: &Tx) -> Result<()> {
    if db.registry_ready().initialized() {
        return Ok(());
    }
    tx.sql(DDL).execute_script().await.map(drop)
}

/// Whether the registry exists, without creating it.
pub(crate) async fn exists(db: &Database) -> Result<bool> {
    Ok(state(db).await? != State::Missing)
}

/// How much of the registry a database has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Missing,
    /// Made by a Strav from before the migration summary: readable, and
    /// brought up to date by the next [`ensure`].
    WithoutSummary,
    Current,
}

pub(crate) async fn state(db: &Database) -> Result<State> {
    if db.registry_ready().initialized() || db.registry_seen().initialized() {
        return Ok(State::Current);
    }
    let (registry, summary): (bool, bool) = sql(
        db,
        "SELECT to_regclass('public.strav_schemas') IS NOT NULL, \
                to_regclass('public.strav_schema_versions') IS NOT NULL",
    )
    .fetch_one()
    .await?;
    Ok(match (registry, summary) {
        (false, _) => State::Missing,
        (true, false) => State::WithoutSummary,
        (true, true) => {
            // Remember it, so later reads skip the check. Writers still run
            // the DDL once (`ensure`), which updates the functions.
            let _ = db.registry_seen().set(());
            State::Current
        }
    })
}

/// Registers `name` for `domain` in the caller's transaction.
pub(crate) async fn insert(tx: &Tx, name: &SchemaName, domain: &str) -> Result<SchemaInfo> {
    // Sent at commit, so only if the insert below commits too.
    notify(tx, SchemaEvent::Created(name.to_string())).await?;
    tx.sql(
        "INSERT INTO public.strav_schemas (name, domain) VALUES ($1, $2) \
         RETURNING name, domain, created_at",
    )
    .bind(name.as_str())
    .bind(domain)
    .fetch_one()
    .await
    .map_err(|e| match e.sqlstate().as_deref() {
        Some("23505") => Error::SchemaAlreadyExists(name.to_string()),
        _ => e,
    })
}

/// The same registration as SQL text, for a script that must run in one
/// round trip. Both values are validated names (no quote can occur).
pub(crate) fn insert_sql(name: &SchemaName, domain: &str) -> String {
    debug_assert!(crate::schema_name::check_domain(domain).is_ok());
    let event = SchemaEvent::Created(name.to_string()).payload();
    // A copied schema arrives with its tracking rows, written before its
    // triggers: make sure of the summary trigger, and summarize the rows.
    format!(
        "INSERT INTO public.strav_schemas (name, domain) VALUES ('{name}', '{domain}'); \
         SELECT pg_notify('{SCHEMA_EVENTS_CHANNEL}', '{event}'); \
         SELECT public.strav_track_versions('{name}');"
    )
}

/// The domain given to a schema Strav did not register when it is cloned or
/// exported: a tenant like any other, of the first per-tenant domain.
pub(crate) fn default_tenant_domain(db: &Database) -> String {
    db.config()
        .multi_tenant
        .tenant_domains
        .first()
        .cloned()
        .unwrap_or_else(|| "tenant".to_owned())
}

/// The registered domain of `name`, if it is registered.
pub(crate) async fn domain_of(db: &Database, name: &SchemaIdent) -> Result<Option<String>> {
    if !exists(db).await? {
        return Ok(None);
    }
    sql(
        db,
        "SELECT domain FROM public.strav_schemas WHERE name = $1",
    )
    .bind(name.as_str())
    .fetch_optional_scalar()
    .await
}

/// Registered schemas, by name; only those of `domain` when given.
pub(crate) async fn list(db: &Database, domain: Option<&str>) -> Result<Vec<SchemaInfo>> {
    if !exists(db).await? {
        return Ok(Vec::new());
    }
    sql(
        db,
        "SELECT name, domain, created_at FROM public.strav_schemas \
         WHERE $1::text IS NULL OR domain = $1 ORDER BY name",
    )
    .bind(domain)
    .fetch_all()
    .await
}

/// At most `limit` registered schemas whose names sort after `after`, by
/// name; only those of `domain` when given. One index range scan, whatever
/// the number of schemas: list them all a page at a time.
pub(crate) async fn list_page(
    db: &Database,
    domain: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<SchemaInfo>> {
    if !exists(db).await? {
        return Ok(Vec::new());
    }
    // One text per case, each a range of one index, (domain, name) or the
    // key. A single text with `$2 IS NULL OR name > $2` can use neither
    // range: its generic plan reads the key from the start and filters, its
    // custom plan reads the whole domain and sorts, so a page cost what
    // came before it (26 ms in the middle of 100,000) and a full listing
    // was quadratic.
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let query = match (domain, after) {
        (Some(d), Some(a)) => sql(
            db,
            "SELECT name, domain, created_at FROM public.strav_schemas \
             WHERE domain = $1 AND name > $2 ORDER BY domain, name LIMIT $3",
        )
        .bind(d)
        .bind(a),
        (Some(d), None) => sql(
            db,
            "SELECT name, domain, created_at FROM public.strav_schemas \
             WHERE domain = $1 ORDER BY domain, name LIMIT $2",
        )
        .bind(d),
        (None, Some(a)) => sql(
            db,
            "SELECT name, domain, created_at FROM public.strav_schemas \
             WHERE name > $1 ORDER BY name LIMIT $2",
        )
        .bind(a),
        (None, None) => sql(
            db,
            "SELECT name, domain, created_at FROM public.strav_schemas ORDER BY name LIMIT $1",
        ),
    };
    query.bind(limit).fetch_all().await
}

/// Whether `name` is registered and its schema exists.
pub(crate) async fn is_live(db: &Database, name: &SchemaName) -> Result<bool> {
    if !exists(db).await? {
        return Ok(false);
    }
    sql(
        db,
        "SELECT EXISTS (SELECT 1 FROM public.strav_schemas s \
         JOIN pg_catalog.pg_namespace n ON n.nspname = s.name WHERE s.name = $1)",
    )
    .bind(name.as_str())
    .fetch_scalar()
    .await
}

/// Locks `name`'s registry row in the caller's transaction (two deletes of
/// one schema do not race); false when it is not registered.
pub(crate) async fn lock(tx: &Tx, name: &SchemaName) -> Result<bool> {
    let row: Option<String> = tx
        .sql("SELECT name FROM public.strav_schemas WHERE name = $1 FOR UPDATE")
        .bind(name.as_str())
        .fetch_optional_scalar()
        .await?;
    Ok(row.is_some())
}

/// Unregisters `name` in the caller's transaction.
pub(crate) async fn remove(tx: &Tx, name: &SchemaName) -> Result<()> {
    tx.sql(
        "WITH summary AS (DELETE FROM public.strav_schema_versions WHERE name = $1) \
         DELETE FROM public.strav_schemas WHERE name = $1",
    )
    .bind(name.as_str())
    .execute()
    .await?;
    notify(tx, SchemaEvent::Deleted(name.to_string())).await
}

/// Announces a registry change to other processes; delivered when the
/// caller's transaction commits (see `schema_events`).
async fn notify(tx: &Tx, event: SchemaEvent) -> Result<()> {
    tx.sql("SELECT pg_notify($1, $2)")
        .bind(SCHEMA_EVENTS_CHANNEL)
        .bind(event.payload())
        .execute()
        .await
        .map(drop)
}

/// The next global migration batch id.
pub(crate) async fn next_batch(db: &Database) -> Result<i64> {
    ensure(db).await?;
    sql(db, "SELECT nextval('public.strav_migration_batch_seq')")
        .fetch_scalar()
        .await
}
