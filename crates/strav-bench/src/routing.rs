//! `routing`: what routing a lookup to its tenant costs, against plain sqlx.
//!
//! 1,000 tenant schemas with an `orders` table (100 rows each); 16 workers
//! share a pool of 8 connections and look orders up by primary key.
//!
//! Baselines (plain sqlx, `PgPool`, `test_before_acquire(false)`):
//! - `raw_hot`: schema-qualified SQL, always the same tenant;
//! - `raw_spread`: schema-qualified SQL for a random tenant, with a statement
//!   cache big enough for every tenant's statement: one round trip per lookup;
//! - `naive_spread`: acquire, `SET search_path`, unqualified lookup.
//!
//! `PgPool` pings every connection it takes back (a round trip, off the
//! caller's path but on the connection's), so the floor is measured too:
//! - `conn_hot` / `conn_spread`: the same lookups on 8 bare sqlx
//!   connections with no pool, each shared by two workers.
//!
//! Strav (`db.sql("... FROM orders ...")` inside `with_schema`):
//! - `strav_hot`: every lookup in one tenant;
//! - `strav_request`: a random tenant per request of 5 lookups, one scope each;
//! - `strav_spread`: a random tenant per lookup.

use std::sync::Arc;

use rand::Rng;
use serde_json::json;
use sqlx::AssertSqlSafe;
use strav_orm::with_schema;

use crate::scratch::{BoxError, ScratchDb};
use crate::workload::{measure_workloads, LookupArgs, Step};

/// The tenants, workers and pool shared with the other lookup benchmark.
pub type Args = LookupArgs;

const LOOKUP: &str = "SELECT id, total FROM orders WHERE id = $1";

pub async fn run(args: Args) -> Result<String, BoxError> {
    let scratch = ScratchDb::create("routing").await?;
    let result = measure(&args, &scratch).await;
    scratch.drop_now().await?;
    result
}

async fn measure(args: &Args, scratch: &ScratchDb) -> Result<String, BoxError> {
    let tenants: Arc<Vec<String>> =
        Arc::new((0..args.tenants).map(|i| format!("t_{i:05}")).collect());
    crate::fixture::create_order_tenants(scratch, &tenants, args.rows).await?;
    let raw = crate::fixture::raw_pool(scratch, args.connections, args.tenants).await?;
    let db = scratch.database(args.connections as usize).await?;

    let qualified: Arc<Vec<Arc<str>>> = Arc::new(
        tenants
            .iter()
            .map(|t| Arc::from(format!("SELECT id, total FROM {t}.orders WHERE id = $1")))
            .collect(),
    );
    let set_path: Arc<Vec<Arc<str>>> = Arc::new(
        tenants
            .iter()
            .map(|t| Arc::from(format!("SET search_path TO {t}")))
            .collect(),
    );
    let rows = args.rows;
    let n = args.tenants;

    let raw_lookup = {
        let raw = raw.clone();
        let qualified = qualified.clone();
        move |tenant: usize, id: i64| {
            let raw = raw.clone();
            let sql = qualified[tenant].clone();
            async move {
                let row: (i64, i64) = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_one(&raw)
                    .await
                    .expect("raw lookup");
                assert_eq!(row.0, id);
                1
            }
        }
    };
    let strav_lookups = {
        let db = db.clone();
        let tenants = tenants.clone();
        move |tenant: usize, ids: Vec<i64>| {
            let db = db.clone();
            let tenants = tenants.clone();
            async move {
                with_schema(tenants[tenant].as_str(), async {
                    for &id in &ids {
                        let row: (i64, i64) = db.sql(LOOKUP).bind(id).fetch_one().await?;
                        assert_eq!(row.0, id);
                    }
                    Ok::<_, strav_orm::Error>(())
                })
                .await
                .expect("strav lookup");
                ids.len() as u64
            }
        }
    };
    // The floor: sqlx connections with no pool at all (each shared by the
    // workers mapped to it), so nothing but the lookup's round trip is paid.
    let mut conns = Vec::new();
    for _ in 0..args.connections {
        let opts = scratch
            .options()
            .statement_cache_capacity(args.tenants + 16);
        conns.push(tokio::sync::Mutex::new(
            sqlx::ConnectOptions::connect(&opts).await?,
        ));
    }
    let conns = Arc::new(conns);
    let conn_lookup = {
        let conns = conns.clone();
        let qualified = qualified.clone();
        move |worker: usize, tenant: usize, id: i64| {
            let conns = conns.clone();
            let sql = qualified[tenant].clone();
            async move {
                let mut conn = conns[worker % conns.len()].lock().await;
                let row: (i64, i64) = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .expect("conn lookup");
                assert_eq!(row.0, id);
                1
            }
        }
    };
    let naive_lookup = {
        let raw = raw.clone();
        let set_path = set_path.clone();
        move |tenant: usize, id: i64| {
            let raw = raw.clone();
            let set = set_path[tenant].clone();
            async move {
                let mut conn = raw.acquire().await.expect("acquire");
                sqlx::raw_sql(AssertSqlSafe(set))
                    .execute(&mut *conn)
                    .await
                    .expect("set");
                let row: (i64, i64) = sqlx::query_as(LOOKUP)
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .expect("naive lookup");
                assert_eq!(row.0, id);
                1
            }
        }
    };

    let workloads: Vec<(&str, Step)> = vec![
        ("raw_hot", {
            let f = raw_lookup.clone();
            Arc::new(move |_, rng| Box::pin(f(0, rng.random_range(1..=rows))))
        }),
        ("raw_spread", {
            let f = raw_lookup.clone();
            Arc::new(move |_, rng| Box::pin(f(rng.random_range(0..n), rng.random_range(1..=rows))))
        }),
        ("conn_hot", {
            let f = conn_lookup.clone();
            Arc::new(move |w, rng| Box::pin(f(w, 0, rng.random_range(1..=rows))))
        }),
        ("conn_spread", {
            let f = conn_lookup.clone();
            Arc::new(move |w, rng| {
                Box::pin(f(w, rng.random_range(0..n), rng.random_range(1..=rows)))
            })
        }),
        ("naive_spread", {
            let f = naive_lookup.clone();
            Arc::new(move |_, rng| Box::pin(f(rng.random_range(0..n), rng.random_range(1..=rows))))
        }),
        ("strav_hot", {
            let f = strav_lookups.clone();
            Arc::new(move |_, rng| Box::pin(f(0, vec![rng.random_range(1..=rows)])))
        }),
        ("strav_request", {
            let f = strav_lookups.clone();
            Arc::new(move |_, rng| {
                let ids = (0..5).map(|_| rng.random_range(1..=rows)).collect();
                Box::pin(f(rng.random_range(0..n), ids))
            })
        }),
        ("strav_spread", {
            let f = strav_lookups.clone();
            Arc::new(move |_, rng| {
                Box::pin(f(rng.random_range(0..n), vec![rng.random_range(1..=rows)]))
            })
        }),
    ];

    let m = measure_workloads(&workloads, args.workers, args.seconds, args.rounds).await;
    let get = |k: &str| m[k];
    let (raw_hot, raw_spread, naive) = (get("raw_hot"), get("raw_spread"), get("naive_spread"));
    let (hot, request, spread) = (get("strav_hot"), get("strav_request"), get("strav_spread"));
    let (conn_hot, conn_spread) = (get("conn_hot"), get("conn_spread"));
    db.close();
    raw.close().await;
    let round2 = |x: f64| (x * 1000.0).round() / 1000.0;
    Ok(json!({
        "bench": "routing",
        "tenants": args.tenants,
        "rows_per_tenant": args.rows,
        "workers": args.workers,
        "connections": args.connections,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "raw_hot": raw_hot.round(),
        "raw_spread": raw_spread.round(),
        "naive_spread": naive.round(),
        "strav_hot": hot.round(),
        "strav_request": request.round(),
        "strav_spread": spread.round(),
        "hot_ratio": round2(raw_hot / hot),
        "request_ratio": round2(raw_spread / request),
        "spread_ratio": round2(raw_spread / spread),
        "naive_ratio": round2(raw_spread / naive),
        "conn_hot": conn_hot.round(),
        "conn_spread": conn_spread.round(),
        "hot_ratio_vs_conn": round2(conn_hot / hot),
        "request_ratio_vs_conn": round2(conn_spread / request),
        "spread_ratio_vs_conn": round2(conn_spread / spread),
    })
    .to_string())
}
