//! A SaaS back end in miniature: onboard tenants, serve each from its own
//! schema, run a background job in the tenant it was queued for.
//!
//! Run from this directory (it reads `config/database.toml`):
//! `cargo run -p example-tenant-routing`, or `scripts/demo.sh` from the repo root.

use strav_orm::{spawn, with_schema, Database, Error, SchemaManager, SchemaName};

const TENANTS: [&str; 3] = ["acme", "globex", "initech"];

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let db = Database::connect_from_config().await?;
    let schemas = SchemaManager::new(&db);

    // Onboarding: one schema per tenant, registered in public.strav_schemas.
    for tenant in TENANTS {
        if !schemas.tenant_exists(tenant).await? {
            schemas.create_schema(tenant, "tenant").await?;
            println!("onboarded {tenant}");
        }
        let schema = SchemaName::new(tenant)?;
        schemas
            .execute_schema(
                &schema,
                "CREATE TABLE IF NOT EXISTS orders (
                     id bigserial PRIMARY KEY,
                     customer text NOT NULL,
                     total numeric(12,2) NOT NULL,
                     status text NOT NULL DEFAULT 'pending')",
            )
            .execute()
            .await?;
    }

    // A request: everything inside with_schema runs in that tenant's schema.
    for (i, tenant) in TENANTS.iter().enumerate() {
        with_schema(*tenant, async {
            db.transaction(async move |tx| {
                tx.sql("INSERT INTO orders (customer, total) VALUES ($1, $2::numeric)")
                    .bind(format!("customer of {tenant}"))
                    .bind(format!("{}.50", 10 * (i + 1)))
                    .execute()
                    .await
            })
            .await?;
            let (orders, customers): (i64, Vec<String>) = (
                db.sql("SELECT count(*) FROM orders").fetch_scalar().await?,
                db.sql("SELECT DISTINCT customer FROM orders ORDER BY 1")
                    .fetch_all::<(String,)>()
                    .await?
                    .into_iter()
                    .map(|(c,)| c)
                    .collect(),
            );
            println!("{tenant:>8}: {orders} orders, customers {customers:?}");
            Ok::<_, Error>(())
        })
        .await?;
    }

    // A background job queued by a request: strav_orm::spawn carries the
    // tenant into the new task (plain tokio::spawn would not).
    let job = with_schema("globex", async {
        let db = db.clone();
        Ok::<_, Error>(spawn(async move {
            db.sql("UPDATE orders SET status = 'paid' WHERE status = 'pending'")
                .execute()
                .await
        }))
    })
    .await?;
    let paid = job.await.expect("the job panicked")?;
    println!("background job marked {paid} globex orders paid");

    // Outside any tenant, tenant tables are not visible at all.
    let visible: Option<String> = db
        .sql("SELECT to_regclass('orders')::text")
        .fetch_scalar()
        .await?;
    println!(
        "orders table visible without a tenant: {}",
        visible.is_some()
    );

    for s in schemas.get_all_schema_stats().await? {
        println!(
            "{:>8}: {} table(s), {} bytes",
            s.schema, s.tables, s.size_in_bytes
        );
    }
    Ok(())
}
