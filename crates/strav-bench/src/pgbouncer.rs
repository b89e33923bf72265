//! `pgbouncer`: through one real PgBouncer in transaction mode, Strav
//! (`routing = "transaction"`, unnamed statements: what PgBouncer before
//! 1.21 needs) against plain sqlx with schema-qualified SQL and unnamed
//! statements (`persistent(false)`), over 1,000 tenants.
//!
//! Workloads, a random tenant each time:
//! - `sqlx_lookup` / `strav_model` / `strav_raw`: a primary-key lookup,
//!   through plain sqlx, a model (`TenantOrder::find`), raw SQL (`db.sql`);
//! - `sqlx_lookup_tx`: plain sqlx's lookup made safe the way Strav makes it,
//!   inside a transaction;
//! - `sqlx_count` / `strav_raw_bare`: a lookup without parameters, and
//!   `sqlx_count_simple`, plain sqlx's simple-protocol query (`raw_sql`),
//!   the right way to send it through such a pooler;
//! - `sqlx_tx5` / `strav_tx5`: a transaction of five lookups.
//!
//! Plain sqlx's unnamed statement is prepared in one round trip and run in
//! another; outside a transaction, PgBouncer may hand the second to another
//! server connection (or another client's statement in between), so the
//! baseline can fail (`unnamed prepared statement does not exist`) and may
//! even run another client's statement: its errors are counted, and only
//! its operations that succeeded count as operations. Strav keeps both round
//! trips in one transaction.
//!
//! Ratios are time per operation, Strav over sqlx (lower is better).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rand::Rng;
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::AssertSqlSafe;
use strav_orm::{with_schema, Database, RoutingMode};

use crate::fixture::create_order_tenants;
use crate::fixture::TenantOrder;
use crate::scratch::{BoxError, ScratchDb};
use crate::workload::{measure_workloads, Step};

#[derive(clap::Args)]
pub struct Args {
    /// Tenant schemas to create.
    #[arg(long, default_value_t = 1000)]
    tenants: usize,
    /// Rows in each tenant's orders table.
    #[arg(long, default_value_t = 100)]
    rows: i64,
    /// Concurrent workers.
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// Client connections, for Strav and for plain sqlx alike.
    #[arg(long, default_value_t = 8)]
    connections: u32,
    /// The PgBouncer's port on 127.0.0.1 (scripts/ensure-pgbouncer.sh
    /// starts one with 4 server connections on 6434).
    #[arg(long, default_value_t = 6434)]
    port: u16,
    /// Seconds per measured round.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Measured rounds per workload (the median is reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

pub async fn run(args: Args) -> Result<String, BoxError> {
    let scratch = ScratchDb::create("pgbouncer").await?;
    let result = measure(&args, &scratch).await;
    scratch.drop_now().await?;
    result
}

async fn measure(args: &Args, scratch: &ScratchDb) -> Result<String, BoxError> {
    let tenants: Arc<Vec<String>> =
        Arc::new((0..args.tenants).map(|i| format!("t_{i:05}")).collect());
    create_order_tenants(scratch, &tenants, args.rows).await?;
    let bounced = scratch
        .options()
        .host("127.0.0.1")
        .port(args.port)
        .statement_cache_capacity(0);
    let raw = PgPoolOptions::new()
        .max_connections(args.connections)
        .test_before_acquire(false)
        .connect_with(bounced.clone())
        .await?;
    let mut config = scratch.config(args.connections as usize);
    config.connection = strav_orm::ConnectionConfig::Url(format!(
        "postgres://{}@127.0.0.1:{}/{}",
        bounced.get_username(),
        args.port,
        scratch.name
    ));
    config.multi_tenant.routing = RoutingMode::Transaction;
    let db = Database::connect_with(config).await?;

    let n = tenants.len();
    let rows = args.rows;
    let errors = Arc::new(AtomicU64::new(0));
    let qualified: Arc<Vec<Arc<str>>> = Arc::new(
        tenants
            .iter()
            .map(|t| Arc::from(format!("SELECT id, total FROM {t}.orders WHERE id = $1")))
            .collect(),
    );
    let counts: Arc<Vec<Arc<str>>> = Arc::new(
        tenants
            .iter()
            .map(|t| Arc::from(format!("SELECT count(*) FROM {t}.orders")))
            .collect(),
    );

    let sqlx_lookup: Step = {
        let (raw, qualified, errors) = (raw.clone(), qualified.clone(), errors.clone());
        Arc::new(move |_, rng| {
            let (raw, errors) = (raw.clone(), errors.clone());
            let sql = qualified[rng.random_range(0..n)].clone();
            let id = rng.random_range(1..=rows);
            Box::pin(async move {
                let r: Result<(i64, i64), _> = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(id)
                    .persistent(false)
                    .fetch_one(&raw)
                    .await;
                match r {
                    Ok(row) => {
                        assert_eq!(row.0, id);
                        1
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        0
                    }
                }
            })
        })
    };
    let sqlx_lookup_tx: Step = {
        let (raw, qualified) = (raw.clone(), qualified.clone());
        Arc::new(move |_, rng| {
            let raw = raw.clone();
            let sql = qualified[rng.random_range(0..n)].clone();
            let id = rng.random_range(1..=rows);
            Box::pin(async move {
                let mut tx = raw.begin().await.expect("begin");
                let row: (i64, i64) = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(id)
                    .persistent(false)
                    .fetch_one(&mut *tx)
                    .await
                    .expect("lookup in a transaction");
                tx.commit().await.expect("commit");
                assert_eq!(row.0, id);
                1
            })
        })
    };
    let sqlx_count: Step = {
        let (raw, counts, errors) = (raw.clone(), counts.clone(), errors.clone());
        Arc::new(move |_, rng| {
            let (raw, errors) = (raw.clone(), errors.clone());
            let sql = counts[rng.random_range(0..n)].clone();
            Box::pin(async move {
                let r: Result<i64, _> = sqlx::query_scalar(AssertSqlSafe(sql))
                    .persistent(false)
                    .fetch_one(&raw)
                    .await;
                match r {
                    Ok(c) => {
                        assert_eq!(c, rows);
                        1
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        0
                    }
                }
            })
        })
    };
    let sqlx_count_simple: Step = {
        let (raw, counts) = (raw.clone(), counts.clone());
        Arc::new(move |_, rng| {
            let raw = raw.clone();
            let sql = counts[rng.random_range(0..n)].clone();
            Box::pin(async move {
                let row = sqlx::raw_sql(AssertSqlSafe(sql))
                    .fetch_one(&raw)
                    .await
                    .expect("simple count");
                let c: i64 = sqlx::Row::try_get(&row, 0).expect("a count");
                assert_eq!(c, rows);
                1
            })
        })
    };
    let sqlx_tx5: Step = {
        let (raw, qualified, errors) = (raw.clone(), qualified.clone(), errors.clone());
        Arc::new(move |_, rng| {
            let (raw, errors) = (raw.clone(), errors.clone());
            let sql = qualified[rng.random_range(0..n)].clone();
            let ids: Vec<i64> = (0..5).map(|_| rng.random_range(1..=rows)).collect();
            Box::pin(async move {
                let r: Result<(), sqlx::Error> = async {
                    let mut tx = raw.begin().await?;
                    for id in ids {
                        let row: (i64, i64) = sqlx::query_as(AssertSqlSafe(sql.clone()))
                            .bind(id)
                            .persistent(false)
                            .fetch_one(&mut *tx)
                            .await?;
                        assert_eq!(row.0, id);
                    }
                    tx.commit().await
                }
                .await;
                if r.is_err() {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return 0;
                }
                1
            })
        })
    };
    let strav_model: Step = {
        let (db, tenants) = (db.clone(), tenants.clone());
        Arc::new(move |_, rng| {
            let db = db.clone();
            let tenant = tenants[rng.random_range(0..n)].clone();
            let id = rng.random_range(1..=rows);
            Box::pin(async move {
                let o = with_schema(&tenant, TenantOrder::find(&db, id))
                    .await
                    .expect("model lookup")
                    .expect("a row");
                assert_eq!(o.id, id);
                1
            })
        })
    };
    let strav_raw: Step = {
        let (db, tenants) = (db.clone(), tenants.clone());
        Arc::new(move |_, rng| {
            let db = db.clone();
            let tenant = tenants[rng.random_range(0..n)].clone();
            let id = rng.random_range(1..=rows);
            Box::pin(async move {
                let row: (i64, i64) = with_schema(&tenant, async {
                    db.sql("SELECT id, total FROM orders WHERE id = $1")
                        .bind(id)
                        .fetch_one()
                        .await
                })
                .await
                .expect("raw lookup");
                assert_eq!(row.0, id);
                1
            })
        })
    };
    let strav_raw_bare: Step = {
        let (db, tenants) = (db.clone(), tenants.clone());
        Arc::new(move |_, rng| {
            let db = db.clone();
            let tenant = tenants[rng.random_range(0..n)].clone();
            Box::pin(async move {
                let c: i64 = with_schema(&tenant, async {
                    db.sql("SELECT count(*) FROM orders").fetch_scalar().await
                })
                .await
                .expect("count");
                assert_eq!(c, rows);
                1
            })
        })
    };
    let strav_tx5: Step = {
        let (db, tenants) = (db.clone(), tenants.clone());
        Arc::new(move |_, rng| {
            let db = db.clone();
            let tenant = tenants[rng.random_range(0..n)].clone();
            let ids: Vec<i64> = (0..5).map(|_| rng.random_range(1..=rows)).collect();
            Box::pin(async move {
                with_schema(&tenant, async {
                    db.transaction(async move |tx| {
                        for id in ids {
                            let row: (i64, i64) = tx
                                .sql("SELECT id, total FROM orders WHERE id = $1")
                                .bind(id)
                                .fetch_one()
                                .await?;
                            assert_eq!(row.0, id);
                        }
                        Ok::<_, strav_orm::Error>(())
                    })
                    .await
                })
                .await
                .expect("transaction");
                1
            })
        })
    };

    let workloads: Vec<(&str, Step)> = vec![
        ("sqlx_lookup", sqlx_lookup),
        ("sqlx_lookup_tx", sqlx_lookup_tx),
        ("strav_model", strav_model),
        ("strav_raw", strav_raw),
        ("sqlx_count", sqlx_count),
        ("sqlx_count_simple", sqlx_count_simple),
        ("strav_raw_bare", strav_raw_bare),
        ("sqlx_tx5", sqlx_tx5),
        ("strav_tx5", strav_tx5),
    ];
    let m = measure_workloads(&workloads, args.workers, args.seconds, args.rounds).await;
    raw.close().await;
    db.close();
    // Time per operation, Strav over sqlx; none when either did nothing.
    let ratio = |base: &str, ours: &str| {
        (m[base] > 0.0 && m[ours] > 0.0).then(|| (m[base] / m[ours] * 1000.0).round() / 1000.0)
    };
    let mut out = json!({
        "bench": "pgbouncer",
        "tenants": args.tenants,
        "workers": args.workers,
        "connections": args.connections,
        "port": args.port,
        "rounds": args.rounds,
        "seconds_per_round": args.seconds,
        "model_ratio": ratio("sqlx_lookup", "strav_model"),
        "model_ratio_vs_tx": ratio("sqlx_lookup_tx", "strav_model"),
        "raw_ratio": ratio("sqlx_lookup", "strav_raw"),
        "raw_ratio_vs_tx": ratio("sqlx_lookup_tx", "strav_raw"),
        "raw_bare_ratio": ratio("sqlx_count", "strav_raw_bare"),
        "raw_bare_ratio_vs_simple": ratio("sqlx_count_simple", "strav_raw_bare"),
        "tx5_ratio": ratio("sqlx_tx5", "strav_tx5"),
        "sqlx_errors": errors.load(Ordering::Relaxed),
    });
    for (name, v) in &m {
        out[name.as_str()] = json!(v.round());
    }
    Ok(out.to_string())
}
