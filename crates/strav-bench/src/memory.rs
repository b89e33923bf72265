//! `memory`: what a pooled connection's backend holds after serving many
//! tenants, with and without `[pool] max_tenants_per_connection`.
//!
//! Every tenant schema holds the reference tenant domain (`schemas/`:
//! orders, products, order_items, an enum, indexes, foreign keys to
//! `public`). Workers look up an order (raw SQL) and a product (a model) in a
//! random tenant, for a while, on a small pool; then the memory of every
//! pooled backend is read from `pg_backend_memory_contexts` (all of it, and
//! the catalog caches alone). Three pools in one run:
//! - `unbounded_small`: the first `--small` tenants only, no bound;
//! - `unbounded`: every tenant, no bound;
//! - `bounded`: every tenant, `max_tenants_per_connection = --limit`.
//!
//! Targets: with the bound, memory per backend stays at most the ceiling
//! whatever the tenant count; throughput within 10 % of `unbounded`.

use std::sync::Arc;
use std::time::Instant;

use rand::Rng;
use serde_json::json;
use sqlx::AssertSqlSafe;
use strav_orm::{with_schema, Database};

use crate::scratch::{BoxError, ScratchDb};
use crate::workload::{median, throughput};

#[derive(clap::Args)]
pub struct Args {
    /// Tenant schemas to create.
    #[arg(long, default_value_t = 10_000)]
    tenants: usize,
    /// The tenant count of the small unbounded run.
    #[arg(long, default_value_t = 1_000)]
    small: usize,
    /// `max_tenants_per_connection` of the bounded run.
    #[arg(long, default_value_t = 1_000)]
    limit: usize,
    /// Concurrent workers.
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// Pool size.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Seconds of lookups per pool and round.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Rounds of throughput per pool (the median is reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

#[derive(Debug, Clone, strav_orm::Model)]
#[strav(table = "products", domain = "tenant")]
struct TenantProduct {
    #[strav(primary_key)]
    id: i64,
    sku: String,
    name: String,
}

pub async fn run(args: Args) -> Result<String, BoxError> {
    let scratch = ScratchDb::create("memory").await?;
    let result = measure(&args, &scratch).await;
    scratch.drop_now().await?;
    result
}

async fn measure(args: &Args, scratch: &ScratchDb) -> Result<String, BoxError> {
    let setup = scratch.database(2).await?;
    let started = Instant::now();
    let tenants = create_reference_tenants(&setup, args.tenants).await?;
    setup.close();
    let setup_s = started.elapsed().as_secs_f64();
    eprintln!("{} tenants ready in {setup_s:.0} s", tenants.len());

    let small: Arc<Vec<String>> = Arc::new(tenants[..args.small.min(tenants.len())].to_vec());
    let all: Arc<Vec<String>> = Arc::new(tenants);
    let mut out = json!({
        "bench": "memory",
        "tenants": all.len(),
        "small": small.len(),
        "limit": args.limit,
        "connections": args.connections,
        "workers": args.workers,
        "seconds": args.seconds,
        "rounds": args.rounds,
    });
    for (name, spread, limit) in [
        ("unbounded_small", &small, 0),
        ("unbounded", &all, 0),
        ("bounded", &all, args.limit),
    ] {
        let mut config = scratch.config(args.connections);
        config.pool.max_tenants_per_connection = limit;
        config.pool.backend_memory_limit_mib = 0; // measure the tenant bound alone
        let db = Database::connect_with(config).await?;
        let mut rounds = Vec::new();
        for round in 0..args.rounds {
            let ops = lookups(&db, spread.clone(), args.workers, args.seconds).await;
            eprintln!("{name} round {}: {ops:.0} lookups/s", round + 1);
            rounds.push(ops);
        }
        let (mean, max, cache) = backend_memory(&db, args.connections).await?;
        eprintln!("{name}: backend memory mean {mean:.1} MiB, max {max:.1} MiB, catalog caches {cache:.1} MiB");
        out[format!("{name}_lookups_per_s")] = json!(median(rounds).round());
        out[format!("{name}_backend_mib_mean")] = json!(round1(mean));
        out[format!("{name}_backend_mib_max")] = json!(round1(max));
        out[format!("{name}_cache_mib_mean")] = json!(round1(cache));
        db.close();
    }
    let ratio = out["unbounded_lookups_per_s"].as_f64().unwrap_or(0.0)
        / out["bounded_lookups_per_s"].as_f64().unwrap_or(1.0);
    out["throughput_ratio"] = json!((ratio * 1000.0).round() / 1000.0);
    out["setup_s"] = json!(setup_s.round());
    Ok(out.to_string())
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `n` schemas `t_00000`, ... of the reference tenant domain, each with one
/// product and one order, made 100 to a round trip.
async fn create_reference_tenants(db: &Database, n: usize) -> Result<Vec<String>, BoxError> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let catalog = strav_codegen::Project::load(
        &root.join("database/schemas"),
        Some(&root.join("config/generators.toml")),
    )?
    .catalog()?;
    let public = strav_codegen::diff::create_domain_sql(&catalog, "public").ok_or("no public")?;
    let tenant = strav_codegen::diff::create_domain_sql(&catalog, "tenant").ok_or("no tenant")?;
    db.sql(AssertSqlSafe(format!(
        "{public};\nINSERT INTO users (email, name) VALUES ('a@example.com', 'a');"
    )))
    .execute_script()
    .await?;
    let names: Vec<String> = (0..n).map(|i| format!("t_{i:05}")).collect();
    for (k, chunk) in names.chunks(100).enumerate() {
        let mut script = String::new();
        for t in chunk {
            script.push_str(&format!(
                "CREATE SCHEMA {t}; SET search_path TO {t}, public;\n{tenant};\n\
                 INSERT INTO products (sku, name, price) VALUES ('sku-1', 'one', 1);\n\
                 INSERT INTO orders (product_id, user_id) VALUES (1, 1);\n"
            ));
        }
        db.sql(AssertSqlSafe(script)).execute_script().await?;
        if k % 10 == 9 {
            eprintln!("  {} tenants", (k + 1) * 100);
        }
    }
    Ok(names)
}

/// Lookups per second: an order by raw SQL and a product by its model, in a
/// random tenant each time.
async fn lookups(db: &Database, tenants: Arc<Vec<String>>, workers: usize, seconds: f64) -> f64 {
    let db = db.clone();
    throughput(workers, seconds, move |_, rng| {
        let db = db.clone();
        let tenant = tenants[rng.random_range(0..tenants.len())].clone();
        async move {
            with_schema(&tenant, async {
                let id: i64 = db
                    .sql("SELECT id FROM orders WHERE id = $1")
                    .bind(1_i64)
                    .fetch_scalar()
                    .await?;
                let product = TenantProduct::find(&db, id).await?;
                assert!(product.is_some_and(|p| p.sku == "sku-1" && !p.name.is_empty()));
                Ok::<_, strav_orm::Error>(())
            })
            .await
            .expect("lookup");
            2
        }
    })
    .await
}

/// Mean and largest memory of the pool's backends, and the mean of their
/// catalog caches, in MiB: every connection is held at once so each is
/// measured once.
async fn backend_memory(db: &Database, n: usize) -> Result<(f64, f64, f64), BoxError> {
    let mut held = Vec::new();
    let (mut total, mut max, mut cache) = (0.0f64, 0.0f64, 0.0f64);
    for _ in 0..n {
        let mut conn = db.acquire().await?;
        let (all, caches): (i64, i64) = sqlx::query_as(
            "SELECT sum(total_bytes)::bigint,
                    coalesce(sum(total_bytes) FILTER (WHERE name IN ('CacheMemoryContext', 'Relcache by OID', 'Type information cache', 'TableSpace cache', 'catalog tuple')), 0)::bigint
             FROM pg_backend_memory_contexts",
        )
        .fetch_one(&mut *conn)
        .await?;
        let mib = all as f64 / (1024.0 * 1024.0);
        total += mib;
        max = max.max(mib);
        cache += caches as f64 / (1024.0 * 1024.0);
        held.push(conn);
    }
    Ok((total / n as f64, max, cache / n as f64))
}
