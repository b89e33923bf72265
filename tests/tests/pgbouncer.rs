//! Through a real PgBouncer in transaction mode (Debian's 1.18, started by
//! `scripts/ensure-pgbouncer.sh`), with one server connection shared by
//! every client and with four: session routing refuses to start, and
//! transaction routing runs the hostile stress, models and migrate-all with
//! no wrong-tenant row and no failed operation.

use std::future::pending;
use std::time::{Duration, Instant};

use sqlx::AssertSqlSafe;
use strav_orm::migrate::Outcome;
use strav_orm::{
    with_schema, Database, Enum, Error, Migrations, Model, RoutingMode, SchemaManager,
};
use strav_tests::pgbouncer::{require, POOL_OF_FOUR, POOL_OF_ONE, SESSION_MODE};
use strav_tests::{stress, TestDb};

#[tokio::test]
async fn session_routing_refuses_to_start_behind_a_transaction_pooler() {
    let t = TestDb::new().await;
    for port in [POOL_OF_ONE, POOL_OF_FOUR] {
        require(port);
        let mut config = t.pgbouncer_config(port, 2);
        config.multi_tenant.routing = RoutingMode::Session;
        let err = Database::connect_with(config.clone()).await.unwrap_err();
        assert!(matches!(err, Error::PoolerDetected { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains("routing = \"transaction\""), "{message}");
        assert!(message.contains("session_pooler = true"), "{message}");
        assert!(err.is_user_error());
        // Declaring a session-mode pooler skips the check (here it is a lie,
        // which is why the check exists).
        config.multi_tenant.session_pooler = true;
        Database::connect_with(config).await.unwrap();
    }
    // Directly, the same check passes.
    let direct = t.database(2).await;
    direct.sql("SELECT 1").execute().await.unwrap();
}

/// A pooler in session mode keeps a client on one server connection, so
/// session routing is safe through it: the check lets it pass undeclared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_routing_through_a_session_mode_pooler() {
    require(SESSION_MODE);
    let t = TestDb::new().await;
    let mut config = t.pgbouncer_config(SESSION_MODE, 4);
    config.multi_tenant.routing = RoutingMode::Session;
    stress::run(&t, config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_stress_through_a_pool_of_one() {
    require(POOL_OF_ONE);
    let t = TestDb::new().await;
    let out = stress::run(&t, t.pgbouncer_config(POOL_OF_ONE, 4)).await;
    assert!(out.acknowledged > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_stress_through_a_pool_of_four() {
    require(POOL_OF_FOUR);
    let t = TestDb::new().await;
    let out = stress::run(&t, t.pgbouncer_config(POOL_OF_FOUR, 8)).await;
    assert!(out.acknowledged > 0);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[strav(type_name = "order_status")]
enum Status {
    Pending,
    Paid,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[strav(table = "orders", domain = "tenant")]
struct TenantOrder {
    #[strav(primary_key, generated)]
    id: i64,
    customer: String,
    #[strav(default, sql_type = "order_status")]
    status: Status,
}

const MIGRATIONS: &[(&str, &str, &str)] = &[
    (
        "tenant",
        "20260101000000_create_orders.up.sql",
        "CREATE TYPE order_status AS ENUM ('pending', 'paid');
         CREATE TABLE orders (id bigserial PRIMARY KEY, customer text NOT NULL,
             status order_status NOT NULL DEFAULT 'pending');",
    ),
    (
        "tenant",
        "20260101000000_create_orders.down.sql",
        "DROP TABLE orders; DROP TYPE order_status;",
    ),
    (
        "tenant",
        "20260102000000_add_note.up.sql",
        "ALTER TABLE orders ADD COLUMN note text;",
    ),
    (
        "tenant",
        "20260102000000_add_note.down.sql",
        "ALTER TABLE orders DROP COLUMN note;",
    ),
];

/// Onboarding, migrate-all and models, all through the pooler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_all_and_models_through_pgbouncer() {
    for port in [POOL_OF_ONE, POOL_OF_FOUR] {
        require(port);
        let t = TestDb::new().await;
        let db = Database::connect_with(t.pgbouncer_config(port, 6))
            .await
            .unwrap();
        let sm =
            SchemaManager::new(&db).with_migrations(Migrations::from_embedded(MIGRATIONS).unwrap());
        let tenants: Vec<String> = (0..12).map(|i| format!("t_{i:02}")).collect();
        for tenant in &tenants[..6] {
            sm.create_migrated_schema(tenant, "tenant").await.unwrap();
        }
        for tenant in &tenants[6..] {
            sm.create_schema(tenant, "tenant").await.unwrap();
        }
        let report = sm.migrate_all_schemas().await.unwrap();
        assert_eq!(report.schemas.len(), 12);
        for r in &report.schemas {
            assert!(
                !matches!(r.outcome, Outcome::Failed { .. }),
                "{}: {:?}",
                r.schema,
                r.outcome
            );
        }
        let again = sm.migrate_all_schemas().await.unwrap();
        assert!(again
            .schemas
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Current)));

        // Models, concurrently over every tenant, through the pooler.
        let writers = tenants.iter().map(|tenant| {
            let db = db.clone();
            let tenant = tenant.clone();
            tokio::spawn(async move {
                with_schema(&tenant, async {
                    for i in 0..10 {
                        let o = TenantOrder::create(
                            &db,
                            NewTenantOrder {
                                customer: format!("{tenant}-{i}"),
                                ..Default::default()
                            },
                        )
                        .await?;
                        let found = TenantOrder::find(&db, o.id).await?.expect("just created");
                        assert_eq!(found.customer, format!("{tenant}-{i}"));
                        if i % 2 == 0 {
                            TenantOrder::query()
                                .filter(TenantOrder::ID.eq(o.id))
                                .update(&db, [TenantOrder::STATUS.set(Status::Paid)])
                                .await?;
                        }
                    }
                    db.transaction({
                        let tenant = tenant.clone();
                        async move |tx| {
                            let n = TenantOrder::query().count(tx).await?;
                            tx.sql("INSERT INTO orders (customer) VALUES ($1)")
                                .bind(format!("{tenant}-tx"))
                                .execute()
                                .await?;
                            Ok::<_, Error>(n)
                        }
                    })
                    .await
                })
                .await
            })
        });
        for w in writers {
            assert_eq!(w.await.unwrap().unwrap(), 10);
        }
        for tenant in &tenants {
            let rows = with_schema(tenant, TenantOrder::all(&db)).await.unwrap();
            assert_eq!(rows.len(), 11, "{tenant}");
            assert!(rows
                .iter()
                .all(|r| r.customer.starts_with(&format!("{tenant}-"))));
            let paid = rows.iter().filter(|r| r.status == Status::Paid).count();
            assert_eq!(paid, 5, "{tenant}");
        }
        let status = sm.get_all_schema_stats().await.unwrap();
        assert_eq!(status.len(), 12);
    }
}

/// A transaction dropped mid-way gives the pooler's only server connection
/// back at once, not at PgBouncer's timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_transaction_does_not_hold_the_pooler() {
    require(POOL_OF_ONE);
    let t = TestDb::new().await;
    let db = Database::connect_with(t.pgbouncer_config(POOL_OF_ONE, 2))
        .await
        .unwrap();
    db.sql("CREATE SCHEMA t_a; CREATE TABLE t_a.marker (tenant text); INSERT INTO t_a.marker VALUES ('t_a')")
        .execute_script()
        .await
        .unwrap();
    for _ in 0..3 {
        let stuck = with_schema("t_a", async {
            db.transaction(async move |tx| {
                tx.sql("UPDATE marker SET tenant = tenant")
                    .execute()
                    .await?;
                pending::<()>().await;
                Ok::<_, Error>(())
            })
            .await
        });
        assert!(tokio::time::timeout(Duration::from_millis(100), stuck)
            .await
            .is_err());
        let started = Instant::now();
        let seen: String = with_schema("t_a", async {
            db.sql("UPDATE marker SET tenant = tenant RETURNING tenant")
                .fetch_scalar()
                .await
        })
        .await
        .unwrap();
        assert_eq!(seen, "t_a");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the next statement waited {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn session_only_operations_say_so_in_transaction_routing() {
    require(POOL_OF_FOUR);
    let t = TestDb::new().await;
    let db = Database::connect_with(t.pgbouncer_config(POOL_OF_FOUR, 2))
        .await
        .unwrap();
    let err = db.acquire().await.unwrap_err();
    assert!(matches!(err, Error::SessionRequired { .. }), "{err}");
    assert!(err.to_string().contains("db.begin()"), "{err}");
    // Inside a transaction, direct sqlx use is fine: it stays on one server.
    let tx = db.begin().await.unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .persistent(false)
        .fetch_one(&mut *tx.connection().await)
        .await
        .unwrap();
    assert_eq!(one, 1);
    tx.commit().await.unwrap();
    let sm = SchemaManager::new(&db).with_migrations(
        Migrations::from_embedded(&[(
            "tenant",
            "20260101000000_index.up.sql",
            "-- strav:no-transaction\nCREATE INDEX CONCURRENTLY orders_idx ON orders (id);",
        )])
        .unwrap(),
    );
    sm.create_schema("t_b", "tenant").await.unwrap();
    db.sql(AssertSqlSafe("CREATE TABLE t_b.orders (id int)"))
        .execute()
        .await
        .unwrap();
    let report = sm.migrate_schema("t_b").await.unwrap();
    match report.outcome {
        Outcome::Failed { error, .. } => {
            assert!(error.contains("direct connection"), "{error}")
        }
        other => panic!("a no-transaction migration ran through the pooler: {other:?}"),
    }
}
