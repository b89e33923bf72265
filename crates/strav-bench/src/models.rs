//! `models`: primary-key lookups through a generated-style model
//! (`TenantOrder::find`) against plain sqlx, over 1,000 tenants.
//!
//! Same tenants, workers and pool as `routing`. Baselines (plain sqlx
//! `PgPool`, `test_before_acquire(false)`, schema-qualified SQL):
//! `raw_hot` (one tenant) and `raw_spread` (random tenant, statement cache
//! holding every tenant's statement). Strav: `orm_hot` (one tenant),
//! `orm_spread` (random tenant, `tenant_statement_cache` = the number of
//! tenants, the same server memory budget as the baseline) and
//! `orm_spread_room_256` (random tenant, a room of only 256 qualified
//! statements per connection, so most lookups fall back to switching the
//! path: what happens when tenants outnumber the room). Server memory per
//! backend is reported for each pool.

use std::sync::Arc;

use rand::Rng;
use serde_json::json;
use sqlx::AssertSqlSafe;
use strav_orm::{with_schema, Database};

use crate::fixture::TenantOrder;
use crate::fixture::{backend_memory, create_order_tenants, raw_pool};
use crate::scratch::{BoxError, ScratchDb};
use crate::workload::{measure_workloads, LookupArgs, Step};

/// The tenants, workers and pool shared with the other lookup benchmark.
pub type Args = LookupArgs;

pub async fn run(args: Args) -> Result<String, BoxError> {
    let scratch = ScratchDb::create("models").await?;
    let result = measure(&args, &scratch).await;
    scratch.drop_now().await?;
    result
}

async fn strav(scratch: &ScratchDb, connections: u32, room: usize) -> Result<Database, BoxError> {
    let mut config = scratch.config(connections as usize);
    config.pool.tenant_statement_cache = room;
    Ok(Database::connect_with(config).await?)
}

async fn strav_memory(db: &Database, n: u32) -> Result<i64, BoxError> {
    let mut held = Vec::new();
    let mut total = 0i64;
    for _ in 0..n {
        let mut conn = db.acquire().await?;
        let bytes: i64 =
            sqlx::query_scalar("SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts")
                .fetch_one(&mut *conn)
                .await?;
        total += bytes;
        held.push(conn);
    }
    Ok(total / i64::from(n))
}

async fn measure(args: &Args, scratch: &ScratchDb) -> Result<String, BoxError> {
    let tenants: Arc<Vec<String>> =
        Arc::new((0..args.tenants).map(|i| format!("t_{i:05}")).collect());
    create_order_tenants(scratch, &tenants, args.rows).await?;
    let raw = raw_pool(scratch, args.connections, args.tenants).await?;
    let full = strav(scratch, args.connections, args.tenants).await?;
    let room_256 = strav(scratch, args.connections, 256).await?;
    let qualified: Arc<Vec<Arc<str>>> = Arc::new(
        tenants
            .iter()
            .map(|t| {
                Arc::from(format!(
                    "SELECT id, total, status FROM {t}.orders WHERE id = $1"
                ))
            })
            .collect(),
    );
    let (rows, n) = (args.rows, args.tenants);

    let raw_step = |spread: bool| -> Step {
        let (raw, qualified) = (raw.clone(), qualified.clone());
        Arc::new(move |_, rng| {
            let tenant = if spread { rng.random_range(0..n) } else { 0 };
            let id = rng.random_range(1..=rows);
            let (raw, sql) = (raw.clone(), qualified[tenant].clone());
            Box::pin(async move {
                let row: (i64, i64, String) = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_one(&raw)
                    .await
                    .expect("raw lookup");
                assert_eq!(row.0, id);
                1
            })
        })
    };
    let orm_step = |db: &Database, spread: bool| -> Step {
        let (db, tenants) = (db.clone(), tenants.clone());
        Arc::new(move |_, rng| {
            let tenant = if spread { rng.random_range(0..n) } else { 0 };
            let id = rng.random_range(1..=rows);
            let (db, tenants) = (db.clone(), tenants.clone());
            Box::pin(async move {
                let order = with_schema(tenants[tenant].as_str(), TenantOrder::find(&db, id))
                    .await
                    .expect("orm lookup")
                    .expect("row exists");
                assert_eq!((order.id, order.total), (id, id * 100));
                assert_eq!(order.status, "pending");
                1
            })
        })
    };
    let workloads: Vec<(&str, Step)> = vec![
        ("raw_hot", raw_step(false)),
        ("raw_spread", raw_step(true)),
        ("orm_hot", orm_step(&full, false)),
        ("orm_spread", orm_step(&full, true)),
        ("orm_spread_room_256", orm_step(&room_256, true)),
    ];

    let m = measure_workloads(&workloads, args.workers, args.seconds, args.rounds).await;
    let get = |k: &str| m[k];
    let (raw_hot, raw_spread) = (get("raw_hot"), get("raw_spread"));
    let (orm_hot, orm_spread, orm_default) = (
        get("orm_hot"),
        get("orm_spread"),
        get("orm_spread_room_256"),
    );

    let mem_raw = backend_memory(&raw, args.connections).await?;
    let mem_full = strav_memory(&full, args.connections).await?;
    let mem_256 = strav_memory(&room_256, args.connections).await?;
    raw.close().await;
    full.close();
    room_256.close();
    let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
    let mib = |b: i64| (b as f64 / 1048576.0 * 10.0).round() / 10.0;
    Ok(json!({
        "bench": "models",
        "tenants": args.tenants,
        "workers": args.workers,
        "connections": args.connections,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "raw_hot": raw_hot.round(),
        "raw_spread": raw_spread.round(),
        "orm_hot": orm_hot.round(),
        "orm_spread": orm_spread.round(),
        "orm_spread_room_256": orm_default.round(),
        "orm_hot_ratio": r3(raw_hot / orm_hot),
        "orm_spread_ratio": r3(raw_spread / orm_spread),
        "orm_spread_room_256_ratio": r3(raw_spread / orm_default),
        "backend_mib_raw": mib(mem_raw),
        "backend_mib_orm": mib(mem_full),
        "backend_mib_orm_room_256": mib(mem_256),
    })
    .to_string())
}
