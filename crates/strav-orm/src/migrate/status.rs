//! What each schema has applied, read for many schemas in a few catalog
//! queries rather than one round per schema.

use std::collections::BTreeMap;

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

/// Schemas read per query: one `UNION ALL` branch each.
const CHUNK: usize = 400;

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
    let tracked: Vec<String> = db
        .sql(
            "SELECT n.nspname::text FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = $2 AND c.relkind = 'r' AND n.nspname = ANY($1)",
        )
        .bind(&names)
        .bind(TRACKING_TABLE)
        .on_path(SearchPath::Default)
        .fetch_all::<(String,)>()
        .await?
        .into_iter()
        .map(|(s,)| s)
        .collect();
    for chunk in tracked.chunks(CHUNK) {
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
        let rows: Vec<(String, i64, String, i64)> = db
            .sql(AssertSqlSafe(sql))
            .on_path(SearchPath::Default)
            .once()
            .fetch_all()
            .await?;
        for (schema, version, checksum, batch) in rows {
            out.entry(schema).or_default().push(AppliedRow {
                version,
                checksum,
                batch,
            });
        }
    }
    for rows in out.values_mut() {
        rows.sort_by_key(|r| r.version);
    }
    Ok(out)
}
