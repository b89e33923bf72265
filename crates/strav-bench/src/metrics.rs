//! `metrics`: `SchemaManager::get_all_schema_stats` (one catalog query) over
//! many registered schemas, against asking for each schema in turn.

use std::time::Instant;

use serde_json::json;
use sqlx::AssertSqlSafe;
use strav_orm::SchemaManager;

use crate::scratch::{BoxError, ScratchDb};
use crate::workload::median;

#[derive(clap::Args)]
pub struct Args {
    /// Registered schemas to create (two tables each).
    #[arg(long, default_value_t = 10_000)]
    schemas: usize,
    /// Schemas asked one at a time for the baseline (extrapolated to all).
    #[arg(long, default_value_t = 500)]
    sample: usize,
}

pub async fn run(args: Args) -> Result<String, BoxError> {
    let scratch = ScratchDb::create("metrics").await?;
    let result = measure(&args, &scratch).await;
    scratch.drop_now().await?;
    result
}

async fn measure(args: &Args, scratch: &ScratchDb) -> Result<String, BoxError> {
    let db = scratch.database(2).await?;
    let sm = SchemaManager::new(&db);
    sm.ensure_registry().await?;

    eprintln!("creating {} schemas ...", args.schemas);
    let started = Instant::now();
    let names: Vec<String> = (0..args.schemas).map(|i| format!("m_{i:05}")).collect();
    for chunk in names.chunks(100) {
        let mut script = String::new();
        for s in chunk {
            script.push_str(&format!(
                "CREATE SCHEMA {s};
                 CREATE TABLE {s}.orders (id bigint PRIMARY KEY, total bigint);
                 CREATE TABLE {s}.products (id bigint PRIMARY KEY, name text);
                 INSERT INTO {s}.orders SELECT g, g FROM generate_series(1, 10) g;
                 INSERT INTO public.strav_schemas (name, domain) VALUES ('{s}', 'tenant');"
            ));
        }
        db.sql(AssertSqlSafe(script)).execute_script().await?;
    }
    eprintln!("created in {:.1}s", started.elapsed().as_secs_f64());

    let mut all_ms = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let stats = sm.get_all_schema_stats().await?;
        all_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(stats.len(), args.schemas);
    }
    let all_ms = median(all_ms);
    eprintln!("get_all_schema_stats: {all_ms:.1} ms");

    let sample = args.sample.min(args.schemas);
    let t = Instant::now();
    for s in names.iter().take(sample) {
        sm.get_schema_stats(s).await?;
    }
    let loop_per_schema_ms = t.elapsed().as_secs_f64() * 1000.0 / sample as f64;
    let loop_all_ms = loop_per_schema_ms * args.schemas as f64;
    eprintln!("get_schema_stats one by one: {loop_per_schema_ms:.2} ms/schema");
    db.close();
    Ok(json!({
        "bench": "metrics",
        "schemas": args.schemas,
        "all_stats_ms": (all_ms * 10.0).round() / 10.0,
        "one_by_one_ms_per_schema": (loop_per_schema_ms * 100.0).round() / 100.0,
        "one_by_one_all_ms_extrapolated": loop_all_ms.round(),
        "speedup": ((loop_all_ms / all_ms) * 10.0).round() / 10.0,
    })
    .to_string())
}
