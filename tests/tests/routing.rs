//! The executor's guarantee: a statement runs in its context's schema and
//! nowhere else, under concurrency, cancellation, errors and pool reuse.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strav_orm::{with_schema, without_schema, Database, Error};
use strav_tests::cancel::cancel_after;
use strav_tests::fixtures::marker_tenants;
use strav_tests::TestDb;

async fn marker(db: &Database) -> Result<String, Error> {
    db.sql("SELECT tenant FROM marker").fetch_scalar().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tasks_never_cross_tenants() {
    let t = TestDb::new().await;
    let db = t.database(4).await;
    let tenants = marker_tenants(&db, 50).await;

    let mut tasks = Vec::new();
    for task in 0..64usize {
        let db = db.clone();
        let tenants = tenants.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(task as u64);
            for i in 0..40usize {
                let tenant = tenants[rng.random_range(0..tenants.len())].clone();
                let expect = tenant.clone();
                with_schema(&tenant, async {
                    assert_eq!(marker(&db).await?, expect);
                    db.sql("INSERT INTO writes (tag) VALUES ($1)")
                        .bind(&expect)
                        .execute()
                        .await?;
                    if (task + i) % 3 == 0 {
                        let e2 = expect.clone();
                        db.transaction(async move |tx| {
                            let seen: String =
                                tx.sql("SELECT tenant FROM marker").fetch_scalar().await?;
                            assert_eq!(seen, e2);
                            tx.sql("INSERT INTO writes (tag) VALUES ($1)")
                                .bind(&e2)
                                .execute()
                                .await?;
                            Ok::<_, Error>(())
                        })
                        .await?;
                    }
                    assert_eq!(marker(&db).await?, expect);
                    Ok::<_, Error>(())
                })
                .await
                .unwrap();
                // No context: the default path, where no tenant table is visible.
                assert_eq!(marker(&db).await.unwrap(), "public");
                let writes: Option<String> = db
                    .sql("SELECT to_regclass('writes')::text")
                    .fetch_scalar()
                    .await
                    .unwrap();
                assert_eq!(writes, None, "a tenant table was visible with no context");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    // Every row a tenant holds was written under that tenant's context.
    let mut total = 0i64;
    for tenant in &tenants {
        let (rows, foreign): (i64, i64) = with_schema(tenant, async {
            db.sql("SELECT count(*), count(*) FILTER (WHERE tag <> $1) FROM writes")
                .bind(tenant)
                .fetch_one()
                .await
        })
        .await
        .unwrap();
        assert_eq!(foreign, 0, "{tenant} holds rows written for another tenant");
        total += rows;
    }
    assert!(
        total >= 64 * 40,
        "expected at least one write per iteration, got {total}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_statements_leave_no_wrong_schema_behind() {
    let t = TestDb::new().await;
    // Two connections: every cancelled statement's connection is soon reused.
    let db = t.database(2).await;
    let tenants = marker_tenants(&db, 8).await;
    let mut rng = rand::rng();
    let mut cancelled = 0;
    for i in 0..3000 {
        let a = tenants[rng.random_range(0..tenants.len())].clone();
        let b = tenants[rng.random_range(0..tenants.len())].clone();
        let waits = rng.random_range(0..6);
        let slow = i % 4 == 0;
        let outcome = cancel_after(
            waits,
            with_schema(&a, async {
                if slow {
                    db.sql("SELECT tenant FROM marker, pg_sleep(0.002)")
                        .fetch_scalar::<String>()
                        .await
                } else if i % 4 == 1 {
                    // Cancel inside a transaction that wrote something.
                    let tag = a.clone();
                    db.transaction(async move |tx| {
                        tx.sql("INSERT INTO writes (tag) VALUES ($1)")
                            .bind(tag)
                            .execute()
                            .await?;
                        tx.sql("SELECT tenant FROM marker, pg_sleep(0.002)")
                            .fetch_scalar::<String>()
                            .await
                    })
                    .await
                } else {
                    marker(&db).await
                }
            }),
        )
        .await;
        match outcome {
            Some(r) => assert_eq!(r.unwrap(), a),
            None => cancelled += 1,
        }
        let seen = with_schema(&b, marker(&db)).await.unwrap();
        assert_eq!(seen, b, "after a cancelled statement in {a}");
        assert_eq!(marker(&db).await.unwrap(), "public");
        if i >= 300 && cancelled >= 60 {
            break;
        }
    }
    assert!(
        cancelled >= 20,
        "only {cancelled} statements were cancelled; the test lost its point"
    );
    // Whatever committed before its timeout, nothing landed in another tenant.
    for tenant in &tenants {
        let foreign: i64 = with_schema(tenant, async {
            db.sql("SELECT count(*) FROM writes WHERE tag <> $1")
                .bind(tenant)
                .fetch_scalar()
                .await
        })
        .await
        .unwrap();
        assert_eq!(foreign, 0, "{tenant} holds another tenant's write");
    }
}

#[tokio::test]
async fn a_dropped_transaction_is_rolled_back_before_reuse() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 2).await;
    let (a, b) = (&tenants[0], &tenants[1]);

    let tx = with_schema(a, db.begin()).await.unwrap();
    tx.sql("INSERT INTO writes (tag) VALUES ('dropped')")
        .execute()
        .await
        .unwrap();
    drop(tx);

    // The pool's only connection serves b next: rolled back and rerouted.
    assert_eq!(with_schema(b, marker(&db)).await.unwrap(), *b);
    let n: i64 = with_schema(a, async {
        db.sql("SELECT count(*) FROM writes").fetch_scalar().await
    })
    .await
    .unwrap();
    assert_eq!(n, 0, "the dropped transaction's insert was committed");
}

#[tokio::test]
async fn failed_and_rolled_back_transactions_leave_the_connection_routable() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 3).await;
    let (a, b, c) = (&tenants[0], &tenants[1], &tenants[2]);

    // A transaction that fails: nothing it wrote survives.
    let r: Result<(), Error> = with_schema(a, async {
        db.transaction(async move |tx| {
            tx.sql("INSERT INTO writes (tag) VALUES ('x')")
                .execute()
                .await?;
            tx.sql("SELECT * FROM no_such_table").execute().await?;
            Ok(())
        })
        .await
    })
    .await;
    let err = r.unwrap_err();
    assert_eq!(err.sqlstate().as_deref(), Some("42P01"), "{err}");
    assert!(
        err.to_string().contains(a.as_str()),
        "error names the schema: {err}"
    );
    assert_eq!(with_schema(b, marker(&db)).await.unwrap(), *b);

    // A savepoint rolled back after the user changed search_path inside it:
    // the transaction is still in its own schema.
    let seen = with_schema(a, async {
        db.transaction({
            let b = b.clone();
            async move |tx| {
                let inner: Result<(), Error> = tx
                    .transaction(async move |sp| {
                        let set = format!("SET LOCAL search_path TO {b}");
                        sp.sql(sqlx::AssertSqlSafe(set)).execute().await?;
                        let there: String =
                            sp.sql("SELECT tenant FROM marker").fetch_scalar().await?;
                        assert_eq!(there, b);
                        Err(Error::RowNotFound)
                    })
                    .await;
                assert!(inner.is_err());
                tx.sql("SELECT tenant FROM marker")
                    .fetch_scalar::<String>()
                    .await
            }
        })
        .await
    })
    .await
    .unwrap();
    assert_eq!(seen, *a);

    // A session-level SET committed inside a transaction changes the
    // connection's path for good; Strav sees it and re-routes.
    with_schema(a, async {
        db.transaction({
            let c = c.clone();
            async move |tx| {
                let set = format!("SET search_path TO {c}");
                tx.sql(sqlx::AssertSqlSafe(set)).execute().await
            }
        })
        .await
    })
    .await
    .unwrap();
    assert_eq!(with_schema(b, marker(&db)).await.unwrap(), *b);

    // The same through sqlx directly on the transaction's connection.
    with_schema(a, async {
        db.transaction({
            let c = c.clone();
            async move |tx| {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET search_path TO {c}")))
                    .execute(&mut *tx.connection().await)
                    .await?;
                Ok::<_, Error>(())
            }
        })
        .await
    })
    .await
    .unwrap();
    assert_eq!(with_schema(a, marker(&db)).await.unwrap(), *a);
    assert_eq!(marker(&db).await.unwrap(), "public");

    // Raw SET outside a transaction.
    with_schema(a, async {
        db.sql(sqlx::AssertSqlSafe(format!("SET search_path TO {c}")))
            .execute()
            .await
    })
    .await
    .unwrap();
    assert_eq!(with_schema(a, marker(&db)).await.unwrap(), *a);

    // A statement that errors outside a transaction.
    let err = with_schema(a, async { db.sql("SELEC 1").execute().await })
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate().as_deref(), Some("42601"));
    assert_eq!(with_schema(c, marker(&db)).await.unwrap(), *c);
    assert_eq!(marker(&db).await.unwrap(), "public");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_inside_with_schema_leaks_nothing() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 2).await;
    let (a, b) = (tenants[0].clone(), tenants[1].clone());

    let (db2, a2) = (db.clone(), a.clone());
    let joined = tokio::spawn(async move {
        with_schema(&a2, async {
            assert_eq!(marker(&db2).await?, a2);
            db2.transaction(async move |tx| {
                tx.sql("INSERT INTO writes (tag) VALUES ('panic')")
                    .execute()
                    .await?;
                panic!("boom inside a transaction");
                #[allow(unreachable_code)]
                Ok::<_, Error>(())
            })
            .await
        })
        .await
    })
    .await;
    assert!(joined.unwrap_err().is_panic());

    assert_eq!(marker(&db).await.unwrap(), "public");
    assert_eq!(with_schema(&b, marker(&db)).await.unwrap(), b);
    let n: i64 = with_schema(&a, async {
        db.sql("SELECT count(*) FROM writes").fetch_scalar().await
    })
    .await
    .unwrap();
    assert_eq!(n, 0, "the panicking transaction was committed");
}

#[tokio::test]
async fn a_released_connection_carries_no_tenant() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 1).await;
    let a = &tenants[0];
    let pid_a: i32 = with_schema(a, async {
        assert_eq!(marker(&db).await?, *a);
        db.sql("SELECT pg_backend_pid()").fetch_scalar().await
    })
    .await
    .unwrap();
    let rows: Vec<(String,)> = db
        .sql("SELECT tenant FROM marker")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(rows, vec![("public".to_owned(),)]);
    let pid: i32 = db
        .sql("SELECT pg_backend_pid()")
        .fetch_scalar()
        .await
        .unwrap();
    assert_eq!(pid, pid_a, "the pool of one reused its connection");
    // The same after without_schema, inside a tenant scope.
    let rows: Vec<(String,)> = with_schema(a, async {
        without_schema(async { db.sql("SELECT tenant FROM marker").fetch_all().await }).await
    })
    .await
    .unwrap();
    assert_eq!(rows, vec![("public".to_owned(),)]);
}

#[tokio::test]
async fn select_star_survives_tenants_at_different_versions() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    db.sql(
        "CREATE SCHEMA old_v; CREATE SCHEMA new_v;
         CREATE TABLE old_v.items (id int, name text); INSERT INTO old_v.items VALUES (1, 'o');
         CREATE TABLE new_v.items (id int, name text, extra int); INSERT INTO new_v.items VALUES (2, 'n', 7);",
    )
    .execute_script()
    .await
    .unwrap();
    for order in [["old_v", "new_v"], ["new_v", "old_v"]] {
        for _ in 0..2 {
            for schema in order {
                let rows = with_schema(schema, async {
                    db.sql("SELECT * FROM items").fetch_rows().await
                })
                .await
                .unwrap();
                assert_eq!(rows.len(), 1);
                let cols = sqlx::Row::columns(&rows[0]).len();
                assert_eq!(cols, if schema == "new_v" { 3 } else { 2 }, "{schema}");
            }
        }
    }
}

#[tokio::test]
async fn transaction_mode_routes_without_session_state() {
    let t = TestDb::new().await;
    let mut config = t.config(2);
    config.multi_tenant.routing = strav_orm::RoutingMode::Transaction;
    let db = Database::connect_with(config).await.unwrap();
    let tenants = marker_tenants(&db, 4).await;
    for _ in 0..3 {
        for tenant in &tenants {
            assert_eq!(with_schema(tenant, marker(&db)).await.unwrap(), *tenant);
            // The session path is never changed: only SET LOCAL is used.
            let session: String = with_schema(tenant, async {
                db.sql("SELECT current_setting('search_path')")
                    .fetch_scalar()
                    .await
            })
            .await
            .unwrap();
            assert!(session.contains(tenant.as_str()));
            assert_eq!(marker(&db).await.unwrap(), "public");
        }
    }
    // Writes commit, errors roll back.
    let a = &tenants[0];
    with_schema(a, async {
        db.sql("INSERT INTO writes (tag) VALUES ('ok')")
            .execute()
            .await
    })
    .await
    .unwrap();
    assert!(
        with_schema(a, async { db.sql("SELECT * FROM nope").execute().await })
            .await
            .is_err()
    );
    let n: i64 = with_schema(a, async {
        db.sql("SELECT count(*) FROM writes").fetch_scalar().await
    })
    .await
    .unwrap();
    assert_eq!(n, 1);
    let mut raw = t.raw().await;
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {a}.writes"
    )))
    .fetch_one(&mut raw)
    .await
    .unwrap();
    assert_eq!(n, 1, "visible to another session, so committed");
}

#[tokio::test]
async fn a_switch_cancelled_mid_flight_is_never_trusted() {
    // One connection, two tenants: the connection is on `b` whenever a switch
    // to `a` is cancelled, so a connection that still believed it was on `b`
    // would serve the next `b` query from `a`.
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 2).await;
    let (a, b) = (&tenants[0], &tenants[1]);
    let mut rng = rand::rng();
    let mut cancelled = 0;
    for _ in 0..5000 {
        assert_eq!(with_schema(b, marker(&db)).await.unwrap(), *b);
        let waits = rng.random_range(0..3);
        if cancel_after(waits, with_schema(a, marker(&db)))
            .await
            .is_none()
        {
            cancelled += 1;
        }
        assert_eq!(with_schema(b, marker(&db)).await.unwrap(), *b);
        if cancelled >= 100 {
            break;
        }
    }
    // A fast server can answer before the first poll returns Pending, so
    // this iterates until enough switches really were cut off (up to 5,000
    // rounds; a loaded machine cuts fewer).
    assert!(cancelled >= 20, "only {cancelled} switches were cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_take_async_closures_that_borrow() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 1).await;
    let tag = String::from("borrowed, not cloned");
    let n: i64 = with_schema(&tenants[0], async {
        db.transaction(async |tx| {
            tx.sql("INSERT INTO writes (tag) VALUES ($1)")
                .bind(&tag)
                .execute()
                .await?;
            // A savepoint borrows the same state; nothing is cloned per level.
            tx.transaction(async |sp| {
                sp.sql("INSERT INTO writes (tag) VALUES ($1)")
                    .bind(&tag)
                    .execute()
                    .await
            })
            .await?;
            tx.sql("SELECT count(*) FROM writes WHERE tag = $1")
                .bind(&tag)
                .fetch_scalar()
                .await
        })
        .await
    })
    .await
    .unwrap();
    assert_eq!(n, 2);
    // The future is Send: it runs on a spawned task.
    let (db2, tenant) = (db.clone(), tenants[0].clone());
    let spawned = tokio::spawn(async move {
        with_schema(&tenant, async {
            db2.transaction(async |tx| tx.sql("SELECT 1").execute().await)
                .await
        })
        .await
    });
    assert_eq!(spawned.await.unwrap().unwrap(), 1);
}
