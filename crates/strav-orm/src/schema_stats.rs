//! `get_all_schema_stats` over any number of schemas: the catalog in one
//! pass, sizes in chunks on every pool connection at once.
//!
//! A size comes from `pg_total_relation_size`, which opens the relation:
//! it takes a lock held to the end of the transaction and loads the
//! relation's catalog entries into the backend for good. In one query over
//! 100,000 tenants that is 200,000 locks in one transaction and one backend
//! left holding every tenant's catalog entries. In chunks, each
//! transaction holds a chunk's locks, the connections count the schemas
//! they read toward `max_tenants_per_connection` (so they are replaced
//! afterwards), and both cores work.

use std::collections::HashMap;

use futures_util::{stream, StreamExt, TryStreamExt};
use sqlx::postgres::types::Oid;

use crate::database::Database;
use crate::error::Result;
use crate::registry;
use crate::schema_manager::SchemaStats;
use crate::search_path::SearchPath;

/// Relations sized per query.
const CHUNK: usize = 1_000;

/// One registered schema's relation, from the catalog.
#[derive(sqlx::FromRow)]
struct Relation {
    schema: String,
    domain: String,
    oid: Option<Oid>,
    /// Counted as a table (ordinary or partitioned, not a partition).
    is_table: bool,
    /// Has live-tuple statistics (ordinary tables).
    has_rows: bool,
    /// Counted in the size (tables and materialized views).
    has_size: bool,
}

pub(crate) async fn all(db: &Database) -> Result<Vec<SchemaStats>> {
    if !registry::exists(db).await? {
        return Ok(Vec::new());
    }
    let relations: Vec<Relation> = db
        .sql(
            "SELECT r.name AS schema, r.domain, c.oid,
                coalesce(c.relkind IN ('r','p') AND NOT c.relispartition, false) AS is_table,
                coalesce(c.relkind = 'r', false) AS has_rows,
                coalesce(c.relkind IN ('r','m'), false) AS has_size
             FROM public.strav_schemas r
             LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = r.name
             LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r','p','m')
             ORDER BY r.name",
        )
        .on_path(SearchPath::Default)
        .fetch_all()
        .await?;

    let sized: Vec<(&str, Oid)> = relations
        .iter()
        .filter(|r| r.has_size || r.has_rows)
        .filter_map(|r| Some((r.schema.as_str(), r.oid?)))
        .collect();
    let jobs = db.config().pool.max_connections.max(1);
    // The futures are made up front, so the whole stays `Send`.
    let reads: Vec<_> = sized
        .chunks(CHUNK)
        .map(|chunk| {
            // Relations come by schema: count each schema once.
            let schemas = 1 + chunk.windows(2).filter(|w| w[0].0 != w[1].0).count();
            sizes(db, chunk.iter().map(|(_, oid)| *oid).collect(), schemas)
        })
        .collect();
    let measured: Vec<Vec<(Oid, i64, i64)>> = stream::iter(reads)
        .buffer_unordered(jobs)
        .try_collect()
        .await?;
    let by_oid: HashMap<_, (i64, i64)> = measured
        .into_iter()
        .flatten()
        .map(|(oid, rows, bytes)| (oid, (rows, bytes)))
        .collect();

    let mut out: Vec<SchemaStats> = Vec::new();
    for r in relations {
        if out.last().is_none_or(|s| s.schema != r.schema) {
            out.push(SchemaStats {
                schema: r.schema.clone(),
                domain: Some(r.domain.clone()),
                tables: 0,
                total_rows: 0,
                size_in_bytes: 0,
                rows_exact: false,
            });
        }
        let s = out.last_mut().expect("pushed above");
        let (rows, bytes) = r
            .oid
            .and_then(|o| by_oid.get(&o).copied())
            .unwrap_or((0, 0));
        s.tables += i64::from(r.is_table);
        if r.has_rows {
            s.total_rows += rows;
        }
        if r.has_size {
            s.size_in_bytes += bytes;
        }
    }
    Ok(out)
}

/// Live tuples and total size of each relation of a chunk; a relation
/// dropped since the catalog read counts as empty.
async fn sizes(db: &Database, oids: Vec<Oid>, schemas: usize) -> Result<Vec<(Oid, i64, i64)>> {
    db.sql(
        "SELECT o, pg_catalog.pg_stat_get_live_tuples(o),
                coalesce(pg_catalog.pg_total_relation_size(o), 0)
         FROM unnest($1::oid[]) AS o",
    )
    .bind(oids)
    .on_path(SearchPath::Default)
    .touching(schemas)
    .fetch_all()
    .await
}
