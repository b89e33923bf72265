//! Bounded backend memory: a pooled connection retires once it served its
//! share of tenants, or once its backend grew past the memory limit.

use std::time::Duration;

use strav_orm::{with_schema, Database, Error};
use strav_tests::fixtures::marker_tenants;
use strav_tests::TestDb;

async fn pid_in(db: &Database, tenant: &str) -> i32 {
    with_schema(tenant, async {
        // Touch a tenant table, as a real statement would.
        db.sql("SELECT count(*) FROM marker")
            .fetch_scalar::<i64>()
            .await?;
        db.sql("SELECT pg_backend_pid()").fetch_scalar().await
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_connection_retires_after_serving_its_share_of_tenants() {
    let t = TestDb::new().await;
    let mut config = t.config(1);
    config.pool.max_tenants_per_connection = 3;
    let db = Database::connect_with(config).await.unwrap();
    let tenants = marker_tenants(&db, 8).await;

    let first = pid_in(&db, &tenants[0]).await;
    // The same tenants again and again: no new backend.
    for (i, t) in tenants[..3].iter().cycle().take(12).enumerate() {
        assert_eq!(
            pid_in(&db, t).await,
            first,
            "retired too early, at {i} ({t})"
        );
    }
    // A fourth tenant: the statement that brings it runs, then the
    // connection closes; what follows meets a new backend.
    let _ = pid_in(&db, &tenants[3]).await;
    let second = pid_in(&db, &tenants[0]).await;
    assert_ne!(
        second, first,
        "the connection was not retired after 4 tenants"
    );
    // The old backend is gone, not idling in the pool.
    let gone: bool = db
        .sql("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
        .bind(first)
        .fetch_scalar()
        .await
        .unwrap();
    assert!(gone);

    // Without a bound the backend stays.
    let mut config = t.config(1);
    config.pool.max_tenants_per_connection = 0;
    let db = Database::connect_with(config).await.unwrap();
    let pid = pid_in(&db, &tenants[0]).await;
    for t in &tenants {
        assert_eq!(pid_in(&db, t).await, pid);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_past_the_memory_limit_is_retired_off_the_statement_path() {
    let t = TestDb::new().await;
    let mut config = t.config(1);
    // Any backend holds more than 1 MiB: every check finds it past the limit.
    config.pool.backend_memory_limit_mib = 1;
    config.pool.backend_memory_check_secs = 0.0;
    config.pool.max_tenants_per_connection = 0;
    let db = Database::connect_with(config).await.unwrap();
    let tenants = marker_tenants(&db, 1).await;
    let first = pid_in(&db, &tenants[0]).await;
    // The check runs in the background after the statement gave its
    // connection back; the next statement meets a new backend.
    let mut pid = first;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        pid = pid_in(&db, &tenants[0]).await;
        if pid != first {
            break;
        }
    }
    assert_ne!(pid, first, "the backend past the limit was not retired");

    // With a generous limit nothing is retired.
    let mut config = t.config(1);
    config.pool.backend_memory_limit_mib = 4096;
    config.pool.backend_memory_check_secs = 0.0;
    let db = Database::connect_with(config).await.unwrap();
    let first = pid_in(&db, &tenants[0]).await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(pid_in(&db, &tenants[0]).await, first);
    }
    let _: Result<(), Error> = Ok(());
}
