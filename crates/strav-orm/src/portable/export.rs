//! `export_schema`: one schema, its rows and its `strav_migrations` rows,
//! from one snapshot, into one file (see the module docs of `portable`).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;
use tokio::io::{AsyncWriteExt, BufWriter};

use super::format::{
    self, ExportHeader, MigrationRow, Section, SectionKind, SequencePosition, Structure,
    FORMAT_VERSION, PLACEHOLDER_PREFIX,
};
use super::{quote_ident, ExportReport, COPY_SETTINGS};
use crate::clone::{self, Plan, Rows};
use crate::database::Database;
use crate::error::{Error, Result};
use crate::migrate::tracking::{self, TRACKING_TABLE};
use crate::registry;
use crate::schema_name::{check_domain, SchemaIdent, SchemaName};
use crate::search_path::SearchPath;
use crate::transaction::Tx;

/// Attempts at a consistent snapshot before giving up (see the module docs).
const ATTEMPTS: u32 = 20;

/// The schema's tables, by name, and whether it has `strav_migrations`:
/// read before the export's transaction, to know what to lock.
const TABLES_SQL: &str = "\
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1) AS present,
       coalesce((SELECT array_agg(c.relname::text ORDER BY c.relname)
                 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relkind = 'r'), '{}') AS tables";

/// The snapshot's first query: tries the migration lock, lists the tables
/// again, and points `search_path` at the source alone for the catalog
/// query (as `clone`'s check does).
const SNAPSHOT_SQL: &str = "\
SELECT pg_catalog.pg_try_advisory_xact_lock_shared(pg_catalog.hashtextextended($2, 0)) AS free,
       coalesce((SELECT array_agg(c.relname::text ORDER BY c.relname)
                 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relkind = 'r'), '{}') AS tables,
       pg_catalog.current_setting('server_version') AS server_version,
       pg_catalog.current_database()::text AS database,
       pg_catalog.set_config('search_path', format('%I, pg_catalog, pg_temp', $1::text), true) IS NOT NULL AS ready";

#[derive(sqlx::FromRow)]
struct Tables {
    present: bool,
    tables: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct SnapshotCheck {
    free: bool,
    tables: Vec<String>,
    server_version: String,
    database: String,
}

/// What one snapshot gave.
struct Snapshot {
    plan: Plan,
    migrations: Vec<MigrationRow>,
    data: Vec<Section>,
    sequences: Vec<SequencePosition>,
    server_version: String,
    database: String,
}

pub(crate) async fn export(db: &Database, name: &str, path: &Path) -> Result<ExportReport> {
    let source = SchemaName::new(name)?;
    let domain = registry::domain_of(db, &SchemaIdent::from(&source))
        .await?
        .unwrap_or_else(|| registry::default_tenant_domain(db));
    check_domain(&domain)?;
    let placeholder = placeholder(&source)?;
    let body = format::sibling(path, ".data-partial");
    let result = export_to(db, &source, &domain, &placeholder, path, &body).await;
    let _ = tokio::fs::remove_file(&body).await;
    result
}

async fn export_to(
    db: &Database,
    source: &SchemaName,
    domain: &str,
    placeholder: &SchemaName,
    path: &Path,
    body: &Path,
) -> Result<ExportReport> {
    let created_at = chrono::Utc::now();
    let snap = snapshot(db, source, placeholder, body).await?;
    let structure = Structure {
        create: snap.plan.create,
        after: snap.plan.after,
        sequences: snap.sequences,
        tables: snap.plan.tables,
        views: snap.plan.views,
        functions: snap.plan.functions,
        types: snap.plan.types,
    };
    let json = |v: serde_json::Result<Vec<u8>>| {
        v.map_err(|e| Error::Io {
            path: path.to_owned(),
            source: std::io::Error::other(e),
        })
    };
    let structure_json = json(serde_json::to_vec(&structure))?;
    let migrations_json = json(serde_json::to_vec(&snap.migrations))?;
    let migration_version = snap.migrations.iter().map(|m| m.version).max();
    let rows = snap.data.iter().filter_map(|s| s.rows).sum();
    let mut sections = vec![
        Section::json(SectionKind::Structure, &structure_json),
        Section::json(SectionKind::Migrations, &migrations_json),
    ];
    sections.extend(snap.data);
    let header = ExportHeader {
        format_version: FORMAT_VERSION,
        strav_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at,
        domain: domain.to_owned(),
        source_schema: source.to_string(),
        source_database: snap.database,
        server_version: snap.server_version,
        migration_version,
        migrations: snap.migrations.len(),
        placeholder: placeholder.to_string(),
        copy_format: "text".to_owned(),
        copy_settings: COPY_SETTINGS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        sections,
    };
    let bytes = format::write(path, &header, &[&structure_json, &migrations_json], body).await?;
    tracing::info!(schema = %source, path = %path.display(), bytes, rows, "schema exported");
    Ok(ExportReport {
        schema: source.to_string(),
        domain: domain.to_owned(),
        path: path.to_owned(),
        bytes,
        migration_version,
        migrations: header.migrations,
        tables: structure.tables,
        views: structure.views,
        functions: structure.functions,
        types: structure.types,
        rows,
    })
}

/// A name for the target schema that appears nowhere else:
/// `strav_export_` and 32 hex digits of SHA-256 over the clock, the process,
/// a counter and the source's name.
fn placeholder(source: &SchemaName) -> Result<SchemaName> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = format!(
        "{:?} {} {} {} {:p}",
        std::time::SystemTime::now(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        source,
        &COUNTER,
    );
    let hash = Sha256::digest(seed.as_bytes());
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    SchemaName::new(&format!("{PLACEHOLDER_PREFIX}{hex}"))
}

/// Takes a consistent snapshot of `source`, retrying while a migration or
/// DDL is under way (see the module docs).
async fn snapshot(
    db: &Database,
    source: &SchemaName,
    placeholder: &SchemaName,
    body: &Path,
) -> Result<Snapshot> {
    let lock_key = tracking::lock_key(&SchemaIdent::from(source));
    for attempt in 1..=ATTEMPTS {
        let before: Tables = db
            .sql_on(SearchPath::Default, TABLES_SQL)
            .bind(source.as_str())
            .fetch_one()
            .await?;
        if !before.present {
            return Err(Error::SchemaNotFound(source.to_string()));
        }
        if let Some(snap) =
            try_snapshot(db, source, placeholder, &before.tables, &lock_key, body).await?
        {
            return Ok(snap);
        }
        tracing::debug!(schema = %source, attempt, "schema busy; waiting for a consistent snapshot");
        // Wait for a running migration (the lock is let go at once), then a little more.
        db.sql_on(
            SearchPath::Default,
            "SELECT pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtextextended($1, 0))",
        )
        .bind(&lock_key)
        .execute()
        .await?;
        tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
    }
    Err(Error::Database {
        schema: Some(source.to_string()),
        source: sqlx::Error::InvalidArgument(format!(
            "no consistent snapshot of schema {:?} after {ATTEMPTS} attempts: its tables or migrations kept changing; try again when it is quieter",
            source.as_str()
        )),
    })
}

/// One attempt: `None` when the schema changed under it (try again).
async fn try_snapshot(
    db: &Database,
    source: &SchemaName,
    placeholder: &SchemaName,
    tables: &[String],
    lock_key: &str,
    body: &Path,
) -> Result<Option<Snapshot>> {
    let tx = db.begin_on(SearchPath::Default).await?;
    let mut setup = String::from(
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;\nSET LOCAL row_security TO off;\n",
    );
    for (name, value) in COPY_SETTINGS {
        setup.push_str(&format!("SET LOCAL {name} TO '{value}';\n"));
    }
    let qualified = |t: &str| format!("{}.{}", source.quoted(), quote_ident(t));
    if !tables.is_empty() {
        let list: Vec<String> = tables.iter().map(|t| qualified(t)).collect();
        setup.push_str(&format!(
            "LOCK TABLE {} IN ACCESS SHARE MODE NOWAIT;\n",
            list.join(", ")
        ));
    }
    let tracked = tables.iter().any(|t| t == TRACKING_TABLE);
    if tracked {
        setup.push_str(&format!(
            "LOCK TABLE {} IN SHARE MODE NOWAIT;\n",
            qualified(TRACKING_TABLE)
        ));
    }
    // Names from the catalog, quoted; settings are constants.
    if let Err(e) = tx.sql(AssertSqlSafe(setup)).execute_script().await {
        let _ = tx.rollback().await;
        // 55P03: a lock is taken; 42P01 / 3F000: a table or the schema went away.
        return match e.sqlstate().as_deref() {
            Some("55P03") | Some("42P01") | Some("3F000") => Ok(None),
            _ => Err(e),
        };
    }
    let check: SnapshotCheck = tx
        .sql(SNAPSHOT_SQL)
        .bind(source.as_str())
        .bind(lock_key)
        .fetch_one()
        .await?;
    if !check.free || check.tables != tables {
        let _ = tx.rollback().await;
        return Ok(None);
    }
    let result = read(&tx, source, placeholder, tracked, body).await;
    match result {
        Ok((plan, migrations, data, sequences)) => {
            tx.commit().await?;
            Ok(Some(Snapshot {
                plan,
                migrations,
                data,
                sequences,
                server_version: check.server_version,
                database: check.database,
            }))
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

type Read = (Plan, Vec<MigrationRow>, Vec<Section>, Vec<SequencePosition>);

/// Everything, from the snapshot: the plan, the migrations, the rows
/// (written to `body`) and the sequences' positions (after the rows).
async fn read(
    tx: &Tx,
    source: &SchemaName,
    placeholder: &SchemaName,
    tracked: bool,
    body: &Path,
) -> Result<Read> {
    let plan = clone::read_plan(tx, source, placeholder, true, Rows::Described).await?;
    let migrations: Vec<MigrationRow> = if tracked {
        tx.sql(AssertSqlSafe(format!(
            "SELECT version, name, checksum, batch, applied_at, duration_ms FROM {}.{TRACKING_TABLE} ORDER BY version",
            source.quoted()
        )))
        .fetch_all()
        .await?
    } else {
        Vec::new()
    };

    let io = |e: std::io::Error| Error::Io {
        path: body.to_owned(),
        source: e,
    };
    let file = tokio::fs::File::create(body).await.map_err(io)?;
    let mut out = BufWriter::with_capacity(256 * 1024, file);
    let mut data = Vec::new();
    for step in plan.row_steps.iter().filter(|s| !s.tracking) {
        let columns = step
            .columns
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        let copy = format!(
            "COPY {}.{}{columns} TO STDOUT",
            source.quoted(),
            quote_ident(&step.table)
        );
        let (mut rows, mut length) = (0u64, 0u64);
        let mut conn = tx.connection().await;
        let mut stream = conn
            .copy_out_raw(&copy)
            .await
            .map_err(|e| Error::db(e, Some(source.as_str())))?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Error::db(e, Some(source.as_str())))?;
            // Text format: one line per row; a newline in a value is `\n`.
            rows += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
            length += chunk.len() as u64;
            out.write_all(&chunk).await.map_err(io)?;
        }
        data.push(Section::data(
            step.table.clone(),
            step.columns.clone(),
            rows,
            length,
        ));
    }
    out.flush().await.map_err(io)?;

    let sequences = if plan.sequences.is_empty() {
        Vec::new()
    } else {
        let sql: Vec<String> = plan
            .sequences
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!(
                    "SELECT {i} AS i, last_value, is_called FROM {}.{}",
                    source.quoted(),
                    quote_ident(s)
                )
            })
            .collect();
        let values: Vec<(i32, i64, bool)> = tx
            .sql(AssertSqlSafe(sql.join(" UNION ALL ")))
            .fetch_all()
            .await?;
        let mut positions = Vec::with_capacity(values.len());
        for (i, last_value, is_called) in values {
            let name = usize::try_from(i)
                .ok()
                .and_then(|i| plan.sequences.get(i))
                .cloned()
                .unwrap_or_default();
            positions.push(SequencePosition {
                name,
                last_value,
                is_called,
            });
        }
        positions
    };
    Ok((plan, migrations, data, sequences))
}
