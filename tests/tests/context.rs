//! The context API: scoping, nesting, bypass, validation, spawning.

use std::sync::atomic::{AtomicBool, Ordering};

use strav_orm::{
    current_schema, current_schema_context, has_schema_context, spawn, with_schema, without_schema,
    Error, InCurrentSchema, SchemaName,
};
use strav_tests::fixtures::marker_tenants;
use strav_tests::TestDb;

#[tokio::test]
async fn scopes_nest_and_follow_awaits() {
    assert!(!has_schema_context());
    assert!(current_schema_context().is_none());
    with_schema("outer_a", async {
        assert_eq!(current_schema().unwrap().as_str(), "outer_a");
        tokio::task::yield_now().await;
        assert!(has_schema_context());
        with_schema("inner_b", async {
            assert_eq!(current_schema().unwrap().as_str(), "inner_b");
            Ok::<_, Error>(())
        })
        .await?;
        assert_eq!(current_schema().unwrap().as_str(), "outer_a");
        without_schema(async {
            assert!(!has_schema_context());
            assert!(current_schema().is_none());
            assert!(current_schema_context().unwrap().is_bypass());
        })
        .await;
        assert_eq!(current_schema().unwrap().as_str(), "outer_a");
        Ok::<_, Error>(())
    })
    .await
    .unwrap();
    assert!(!has_schema_context());
}

#[tokio::test]
async fn invalid_names_are_rejected_before_the_future_runs() {
    for bad in [
        "",
        "Company",
        "a-b",
        "1st",
        "public",
        "pg_catalog",
        "information_schema",
        "x\"; DROP",
    ] {
        let ran = AtomicBool::new(false);
        let r = with_schema(bad, async {
            ran.store(true, Ordering::SeqCst);
            Ok::<_, Error>(())
        })
        .await;
        let err = r.unwrap_err();
        assert!(
            matches!(err, Error::InvalidSchemaName { .. }),
            "{bad:?}: {err}"
        );
        assert!(!ran.load(Ordering::SeqCst), "{bad:?}: the future ran");
    }
    // A validated name is accepted as is.
    let name = SchemaName::new("ok_1").unwrap();
    with_schema(&name, async { Ok::<_, Error>(()) })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_carries_the_context_and_tokio_spawn_does_not() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    let tenants = marker_tenants(&db, 1).await;
    let a = tenants[0].clone();
    let (db1, db2, db3) = (db.clone(), db.clone(), db.clone());
    let (carried, lost, joined) = with_schema(&a, async move {
        let carried = spawn(async move {
            db1.sql("SELECT tenant FROM marker")
                .fetch_scalar::<String>()
                .await
        })
        .await
        .unwrap()?;
        // The pitfall: a plain tokio::spawn starts with no context.
        let lost = tokio::spawn(async move {
            assert!(current_schema().is_none());
            db2.sql("SELECT tenant FROM marker")
                .fetch_scalar::<String>()
                .await
        })
        .await
        .unwrap()?;
        let mut set = tokio::task::JoinSet::new();
        set.spawn(
            async move {
                db3.sql("SELECT tenant FROM marker")
                    .fetch_scalar::<String>()
                    .await
            }
            .in_current_schema(),
        );
        let joined = set.join_next().await.unwrap().unwrap()?;
        Ok::<_, Error>((carried, lost, joined))
    })
    .await
    .unwrap();
    assert_eq!(carried, a);
    assert_eq!(joined, a);
    assert_eq!(lost, "public");
}

#[tokio::test]
async fn a_scope_reuses_one_connection_and_returns_it_at_the_end() {
    let t = TestDb::new().await;
    let db = t.database(3).await;
    let tenants = marker_tenants(&db, 2).await;
    let (a, b) = (&tenants[0], &tenants[1]);
    let pids: Vec<i32> = with_schema(a, async {
        let mut pids = Vec::new();
        for _ in 0..5 {
            pids.push(db.sql("SELECT pg_backend_pid()").fetch_scalar().await?);
        }
        // Nested scopes and transactions use the same connection too.
        pids.push(
            with_schema(b, async {
                db.sql("SELECT pg_backend_pid()").fetch_scalar().await
            })
            .await?,
        );
        pids.push(
            db.transaction({
                async move |tx| tx.sql("SELECT pg_backend_pid()").fetch_scalar().await
            })
            .await?,
        );
        // Concurrent statements of one scope do not wait for each other.
        let (x, y) = tokio::try_join!(
            db.sql("SELECT tenant FROM marker, pg_sleep(0.05)")
                .fetch_scalar::<String>(),
            db.sql("SELECT tenant FROM marker, pg_sleep(0.05)")
                .fetch_scalar::<String>(),
        )?;
        assert_eq!((x.as_str(), y.as_str()), (a.as_str(), a.as_str()));
        Ok::<_, Error>(pids)
    })
    .await
    .unwrap();
    assert!(pids.windows(2).all(|w| w[0] == w[1]), "{pids:?}");
    let status = db.pool_status();
    assert_eq!(
        status.idle, status.open,
        "the scope returned its connection: {status:?}"
    );
}

#[tokio::test]
async fn a_scope_on_a_pool_of_one_can_open_transactions() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 1).await;
    let a = &tenants[0];
    let n: i64 = with_schema(a, async {
        db.sql("INSERT INTO writes (tag) VALUES ($1)")
            .bind(a)
            .execute()
            .await?;
        db.transaction({
            let a = a.clone();
            async move |tx| {
                tx.sql("INSERT INTO writes (tag) VALUES ($1)")
                    .bind(a)
                    .execute()
                    .await
            }
        })
        .await?;
        db.sql("SELECT count(*) FROM writes").fetch_scalar().await
    })
    .await
    .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn transactions_keep_the_schema_they_began_in() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    let tenants = marker_tenants(&db, 2).await;
    let (a, b) = (tenants[0].clone(), tenants[1].clone());
    let (in_tx, outside) = with_schema(&a, async {
        db.transaction({
            let b = b.clone();
            let db = db.clone();
            async move |tx| {
                with_schema(&b, async {
                    let in_tx: String = tx.sql("SELECT tenant FROM marker").fetch_scalar().await?;
                    let outside: String =
                        db.sql("SELECT tenant FROM marker").fetch_scalar().await?;
                    Ok::<_, Error>((in_tx, outside))
                })
                .await
            }
        })
        .await
    })
    .await
    .unwrap();
    assert_eq!(in_tx, a, "a transaction stays in the schema it began in");
    assert_eq!(outside, b, "the pool follows the inner scope");
}

#[tokio::test]
async fn disabled_multi_tenancy_refuses_tenant_queries() {
    let t = TestDb::new().await;
    let mut config = t.config(1);
    config.multi_tenant.enabled = false;
    let db = strav_orm::Database::connect_with(config).await.unwrap();
    let err = with_schema("t_x", async { db.sql("SELECT 1").execute().await })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MultiTenantDisabled), "{err}");
    db.sql("SELECT 1").execute().await.unwrap();
}
