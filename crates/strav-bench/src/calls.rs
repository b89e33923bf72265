//! `calls`: one workload, lookups one after another on one connection, for
//! counting the client's instructions per lookup under callgrind.
//!
//! Wall-clock ratios on these machines drift by 5-15 % between runs, more
//! than the overheads worth knowing about. Instruction counts are
//! deterministic for the same binary and input, so `scripts/bench-calls.sh`
//! runs each mode twice under `valgrind --tool=callgrind` with different
//! lookup counts; the difference divided by the difference in lookups is the
//! client's instructions per lookup, with connecting and the fixture
//! cancelled out.
//!
//! Modes (one tenant `t_00000`, `orders` of 100 rows, a pool of one):
//! - `conn_hot`: bare sqlx `PgConnection`, schema-qualified lookup: the floor;
//! - `strav_hot`: `with_schema` around each raw-SQL lookup;
//! - `strav_request`: one `with_schema` per 5 raw-SQL lookups;
//! - `model_hot`: `with_schema` around each `TenantOrder::find`.

use serde_json::json;
use sqlx::{ConnectOptions, Connection};
use strav_orm::with_schema;

use crate::fixture::TenantOrder;
use crate::scratch::{BoxError, ScratchDb};

#[derive(clap::Args)]
pub struct Args {
    /// Which workload to run (conn_hot, strav_hot, strav_request, model_hot).
    #[arg(long)]
    mode: String,
    /// Lookups to run.
    #[arg(long, default_value_t = 2000)]
    lookups: usize,
    /// Tasks running the Strav modes at once (they share the lookups), on
    /// a pool of `--connections`: the contended path, waits included.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Pool size for the Strav modes.
    #[arg(long, default_value_t = 1)]
    connections: usize,
}

const TENANT: &str = "t_00000";

pub async fn run(args: Args) -> Result<String, BoxError> {
    let scratch = ScratchDb::create("calls").await?;
    let result = measure(&args, &scratch).await;
    scratch.drop_now().await?;
    result
}

fn id(i: usize) -> i64 {
    (i % 100) as i64 + 1
}

async fn measure(args: &Args, scratch: &ScratchDb) -> Result<String, BoxError> {
    crate::fixture::create_order_tenants(scratch, &[TENANT.to_owned()], 100).await?;
    let n = args.lookups;
    let mut checksum = 0i64;
    match args.mode.as_str() {
        "conn_hot" => {
            let mut conn = scratch.options().connect().await?;
            for i in 0..n {
                let (_, total): (i64, i64) =
                    sqlx::query_as("SELECT id, total FROM t_00000.orders WHERE id = $1")
                        .bind(id(i))
                        .fetch_one(&mut conn)
                        .await?;
                checksum += total;
            }
            conn.close().await?;
        }
        "strav_hot" | "strav_request" | "model_hot" => {
            let db = scratch.database(args.connections).await?;
            let per_scope = if args.mode == "strav_request" { 5 } else { 1 };
            let model = args.mode == "model_hot";
            let workers = args.workers.max(1);
            let mut tasks = Vec::new();
            for w in 0..workers {
                let db = db.clone();
                let ids: Vec<usize> = (w..n).step_by(workers).collect();
                tasks.push(tokio::spawn(async move {
                    let mut total = 0i64;
                    for chunk in ids.chunks(per_scope) {
                        total += with_schema(TENANT, async {
                            let mut sum = 0;
                            for &i in chunk {
                                sum += if model {
                                    TenantOrder::find(&db, id(i)).await?.map_or(0, |o| o.total)
                                } else {
                                    db.sql("SELECT id, total FROM orders WHERE id = $1")
                                        .bind(id(i))
                                        .fetch_one::<(i64, i64)>()
                                        .await?
                                        .1
                                };
                            }
                            Ok::<_, strav_orm::Error>(sum)
                        })
                        .await?;
                    }
                    Ok::<_, strav_orm::Error>(total)
                }));
            }
            for t in tasks {
                checksum += t.await??;
            }
            db.close();
        }
        other => return Err(format!("unknown mode {other:?}").into()),
    }
    let expected: i64 = (0..n).map(|i| id(i) * 100).sum();
    if checksum != expected {
        return Err(format!("lookups returned {checksum}, expected {expected}").into());
    }
    Ok(json!({"bench": "calls", "mode": args.mode, "lookups": n}).to_string())
}
