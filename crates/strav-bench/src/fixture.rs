//! What the routing and models benchmarks share: the tenants and the
//! plain-sqlx baseline pool.

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::AssertSqlSafe;

use crate::scratch::{BoxError, ScratchDb};

/// The tenants' `orders` table as a model, as codegen would emit it.
#[derive(Debug, Clone, strav_orm::Model)]
#[strav(table = "orders", domain = "tenant")]
pub struct TenantOrder {
    #[strav(primary_key)]
    pub id: i64,
    pub total: i64,
    pub status: String,
}

/// One schema per name with `orders(id, total, status)` holding `rows` rows.
pub async fn create_order_tenants(
    scratch: &ScratchDb,
    tenants: &[String],
    rows: i64,
) -> Result<(), BoxError> {
    eprintln!("setting up {} tenants x {rows} rows ...", tenants.len());
    let setup = PgPool::connect_with(scratch.options()).await?;
    for chunk in tenants.chunks(50) {
        let mut script = String::new();
        for t in chunk {
            script.push_str(&format!(
                "CREATE SCHEMA {t};
                 CREATE TABLE {t}.orders (id bigint PRIMARY KEY, total bigint NOT NULL, status text NOT NULL);
                 INSERT INTO {t}.orders SELECT g, g * 100, 'pending' FROM generate_series(1, {rows}) g;"
            ));
        }
        sqlx::raw_sql(AssertSqlSafe(script)).execute(&setup).await?;
    }
    sqlx::raw_sql("VACUUM ANALYZE").execute(&setup).await?;
    setup.close().await;
    Ok(())
}

/// Plain sqlx's pool, as a user would tune it: no ping before acquire, and a
/// statement cache holding one statement per tenant.
pub async fn raw_pool(
    scratch: &ScratchDb,
    connections: u32,
    tenants: usize,
) -> Result<PgPool, BoxError> {
    Ok(PgPoolOptions::new()
        .max_connections(connections)
        .min_connections(connections)
        .test_before_acquire(false)
        .connect_with(scratch.options().statement_cache_capacity(tenants + 16))
        .await?)
}

/// Server memory of the pool's backends: the mean, over every connection,
/// of the bytes in its memory contexts (prepared statements and plans
/// included). Holds all `n` connections at once, so each is measured once.
pub async fn backend_memory(pool: &PgPool, n: u32) -> Result<i64, BoxError> {
    let mut held = Vec::new();
    let mut total = 0i64;
    for _ in 0..n {
        let mut conn = pool.acquire().await?;
        let bytes: i64 =
            sqlx::query_scalar("SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts")
                .fetch_one(&mut *conn)
                .await?;
        total += bytes;
        held.push(conn);
    }
    Ok(total / i64::from(n))
}
