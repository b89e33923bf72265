//! What each schema has applied, read for many schemas in a few catalog
//! queries rather than one round per schema.

use std::collections::{BTreeMap, HashSet};

use futures_util::{stream, StreamExt, TryStreamExt};
use serde::Serialize;
use sqlx::AssertSqlSafe;

use super::source::Migration;
use super::tracking::TRACKING_TABLE;
use crate::database::Database;
use crate::error::Result;
use crate::schema_name::SchemaIdent;
use crate::search_path::SearchPath;

/// A row of `strav_migrations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedRow {
    pub version: i64,
    pub checksum: String,
    pub batch: i64,
}

/// An applied migration whose file no longer matches what was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub version: i64,
    pub file: String,
    pub applied_checksum: String,
    pub file_checksum: String,
}

/// Where one schema stands against its domain's migrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    pub schema: String,
    pub domain: String,
    /// Versions applied, oldest first.
    pub applied: Vec<i64>,
    /// Versions in the files, not yet applied, oldest first.
    pub pending: Vec<i64>,
    /// Applied migrations whose file changed since.
    pub drift: Vec<Drift>,
    /// Applied versions with no file any more.
    pub unknown: Vec<i64>,
}

impl SchemaStatus {
    /// A schema that applied exactly `files`.
    pub(crate) fn at(schema: &str, domain: &str, files: &[Migration]) -> Self {
        let mut applied: Vec<i64> = files.iter().map(|m| m.version).collect();
        applied.sort_unstable();
        SchemaStatus {
            schema: schema.to_owned(),
            domain: domain.to_owned(),
            applied,
            pending: Vec::new(),
            drift: Vec::new(),
            unknown: Vec::new(),
        }
    }

    pub(crate) fn compute(
        schema: &str,
        domain: &str,
        rows: &[AppliedRow],
        files: &[Migration],
    ) -> Self {
        let by_version: BTreeMap<i64, &Migration> = files.iter().map(|m| (m.version, m)).collect();
        let applied_set: BTreeMap<i64, &AppliedRow> = rows.iter().map(|r| (r.version, r)).collect();
        let mut drift = Vec::new();
        let mut unknown = Vec::new();
        for r in rows {
            match by_version.get(&r.version) {
                Some(m) if m.checksum != r.checksum => drift.push(Drift {
                    version: r.version,
                    file: m.file.clone(),
                    applied_checksum: r.checksum.clone(),
                    file_checksum: m.checksum.clone(),
                }),
                Some(_) => {}
                None => unknown.push(r.version),
            }
        }
        SchemaStatus {
            schema: schema.to_owned(),
            domain: domain.to_owned(),
            applied: applied_set.keys().copied().collect(),
            pending: files
                .iter()
                .filter(|m| !applied_set.contains_key(&m.version))
                .map(|m| m.version)
                .collect(),
            drift,
            unknown,
        }
    }
}

/// Schemas read per query: one `UNION ALL` branch each. Planning a union
/// grows faster than its branches (warm, 95 µs a branch at 50 and 250 µs at
/// 400); past a few dozen, round trips saved no longer pay for it.
const CHUNK: usize = 50;

/// Up to this many schemas, tracking tables are looked up one by one.
const FEW: usize = 1_000;

/// Applied rows of every schema in `schemas`: one query to find which have a
/// tracking table, then one per 400 schemas to read them.
pub(crate) async fn applied_rows(
    db: &Database,
    schemas: &[SchemaIdent],
) -> Result<BTreeMap<String, Vec<AppliedRow>>> {
    let mut out: BTreeMap<String, Vec<AppliedRow>> = schemas
        .iter()
        .map(|s| (s.to_string(), Vec::new()))
        .collect();
    if schemas.is_empty() {
        return Ok(out);
    }
    let names: Vec<&str> = schemas.iter().map(SchemaIdent::as_str).collect();
    // A few schemas (onboarding, one tenant's migration): one lookup by
    // name each, whatever the number of schemas in the database (as a join
    // on `relname`, the planner walks every schema's tracking table to find
    // the few asked for: 570 ms for one schema among 27,000). Many: every
    // tracking table's schema in one walk of the `relname` index, filtered
    // here; cheaper than a lookup each (1.1 s against 3.3 s over 57,000),
    // and never quadratic (`nspname = ANY($1)` compares linearly whenever
    // the plan is generic).
    let tracked: Vec<String> = if names.len() <= FEW {
        db.sql(
            "SELECT s.name FROM unnest($1::text[]) AS s(name)
             WHERE pg_catalog.to_regclass(pg_catalog.format('%I.%I', s.name, $2::text)) IS NOT NULL",
        )
        .bind(&names)
        .bind(TRACKING_TABLE)
        .on_path(SearchPath::Default)
        .fetch_all::<(String,)>()
        .await?
        .into_iter()
        .map(|(s,)| s)
        .collect()
    } else {
        let wanted: HashSet<&str> = names.iter().copied().collect();
        db.sql(
            "SELECT n.nspname::text FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = $1 AND c.relkind = 'r'",
        )
        .bind(TRACKING_TABLE)
        .on_path(SearchPath::Default)
        .fetch_all::<(String,)>()
        .await?
        .into_iter()
        .map(|(s,)| s)
        .filter(|s| wanted.contains(s.as_str()))
        .collect()
    };
    // Chunks run at once on up to the pool's connections: the cost is the
    // server loading each tracking table's catalog entries (about 0.3 ms a
    // schema), which a second core halves.
    let jobs = db.config().pool.max_connections.max(1);
    // The futures are made up front (not by a closure inside the stream),
    // so the whole stays `Send` for callers such as axum handlers.
    let reads: Vec<_> = tracked
        .chunks(CHUNK)
        .map(|chunk| read_chunk(db, chunk.to_vec()))
        .collect();
    let chunks: Vec<Vec<(String, i64, String, i64)>> = stream::iter(reads)
        .buffer_unordered(jobs)
        .try_collect()
        .await?;
    for (schema, version, checksum, batch) in chunks.into_iter().flatten() {
        out.entry(schema).or_default().push(AppliedRow {
            version,
            checksum,
            batch,
        });
    }
    for rows in out.values_mut() {
        rows.sort_by_key(|r| r.version);
    }
    Ok(out)
}

/// The tracking rows of one chunk of schemas, in one `UNION ALL` query.
async fn read_chunk(db: &Database, chunk: Vec<String>) -> Result<Vec<(String, i64, String, i64)>> {
    let mut sql = String::new();
    for (i, s) in chunk.iter().enumerate() {
        if i > 0 {
            sql.push_str(" UNION ALL ");
        }
        // Names come from pg_namespace and were validated as SchemaIdents.
        let name = SchemaIdent::new(s)?;
        sql.push_str(&format!(
            "SELECT '{s}'::text, version, checksum, batch FROM {}.{TRACKING_TABLE}",
            name.quoted()
        ));
    }
    db.sql(AssertSqlSafe(sql))
        .on_path(SearchPath::Default)
        .once()
        .touching(chunk.len())
        .fetch_all()
        .await
}
