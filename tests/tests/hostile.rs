//! The ways `with_schema` used to break when used as a hostile user would,
//! each against a real PostgreSQL: a cancelled statement's error, path
//! changes Strav could not see, protected names, concurrent statements of
//! one scope, `DISCARD ALL`, abandoned transactions, killed backends, idle
//! pinned connections and re-planned enum results.

use std::future::pending;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use sqlx::{AssertSqlSafe, Executor as _};
use strav_orm::{with_schema, Database, Enum, Error, Model, RoutingMode, SchemaName};
use strav_tests::fixtures::marker_tenants;
use strav_tests::TestDb;

async fn marker(db: &Database) -> Result<String, Error> {
    db.sql("SELECT tenant FROM marker").fetch_scalar().await
}

#[derive(Debug, Clone, PartialEq, Model)]
#[strav(table = "marker", domain = "tenant", no_primary_key)]
struct Marker {
    tenant: String,
}

async fn pool(t: &TestDb, size: usize, routing: RoutingMode, acquire_secs: f64) -> Database {
    let mut config = t.config(size);
    config.multi_tenant.routing = routing;
    config.pool.acquire_timeout_secs = acquire_secs;
    Database::connect_with(config).await.unwrap()
}

/// 1. A statement dropped mid-flight must not hand its reply (or its error,
/// with another tenant's data in it) to the next scope on the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_statements_error_never_reaches_the_next_scope() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 2).await;
    let (a, b) = (&tenants[0], &tenants[1]);
    db.sql(AssertSqlSafe(format!(
        "CREATE TABLE {a}.items (sku text PRIMARY KEY)"
    )))
    .execute()
    .await
    .unwrap();
    // Another session holds the same key, uncommitted: Strav's insert waits
    // on it and fails with a unique violation once it commits.
    let mut other = t.raw().await;
    other
        .execute(AssertSqlSafe(format!(
            "BEGIN; INSERT INTO {a}.items VALUES ('secret-of-{a}')"
        )))
        .await
        .unwrap();
    let insert = with_schema(a, async {
        db.sql("INSERT INTO items VALUES ($1)")
            .bind(format!("secret-of-{a}"))
            .execute()
            .await
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(50), insert)
            .await
            .is_err(),
        "the insert should still be waiting on the other session's row"
    );
    other.execute("COMMIT").await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;

    let seen = with_schema(b, marker(&db)).await;
    match seen {
        Ok(tenant) => assert_eq!(tenant, *b),
        Err(e) => panic!("tenant {b} got an error of tenant {a}'s statement: {e}"),
    }
}

/// 2. Raw SQL that changes the session's path in ways a substring test
/// cannot see: the next scope for `a` on that connection must still read `a`.
#[tokio::test]
async fn path_changes_in_any_spelling_are_seen() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 2).await;
    let (a, b) = (&tenants[0], &tenants[1]);
    let spellings = [
        format!("SET SCHEMA '{b}'"),
        format!("set schema '{b}'"),
        format!("/* hidden */ SeT sChEmA '{b}'"),
        format!("SELECT pg_catalog.set_config('search' || '_path', '{b}', false)"),
        format!("SELECT \"set_config\"('search' || '_path', '{b}', false)"),
        format!("DO $x$ BEGIN EXECUTE 'SET SCHEMA ''{b}'''; END $x$"),
        format!("SELECT 1; SET SCHEMA '{b}'"),
        "RESET ALL".to_owned(),
    ];
    for sql in &spellings {
        with_schema(a, async {
            assert_eq!(marker(&db).await?, *a);
            db.sql(AssertSqlSafe(sql.clone())).execute_script().await
        })
        .await
        .unwrap();
        let (raw, model) = with_schema(a, async {
            Ok::<_, Error>((marker(&db).await?, Marker::all(&db).await?))
        })
        .await
        .unwrap();
        assert_eq!(raw, *a, "raw SQL after {sql:?}");
        assert_eq!(model[0].tenant, *a, "a model after {sql:?}");
    }
    // The schema name bound as a parameter.
    with_schema(a, async {
        db.sql("SELECT set_config($1, $2, false)")
            .bind("search_path")
            .bind(b.as_str())
            .execute()
            .await
    })
    .await
    .unwrap();
    assert_eq!(with_schema(a, marker(&db)).await.unwrap(), *a);
    assert_eq!(
        with_schema(a, Marker::all(&db)).await.unwrap()[0].tenant,
        *a
    );
}

/// 3. A protected schema cannot be made into a tenant name by any public path.
#[tokio::test]
async fn protected_schemas_cannot_enter_a_tenant_scope() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    db.sql("CREATE TABLE public.marker (tenant text); INSERT INTO public.marker VALUES ('public')")
        .execute_script()
        .await
        .unwrap();
    for name in [
        "public",
        "pg_catalog",
        "information_schema",
        "pg_temp",
        "pg_toast",
    ] {
        assert!(
            name.parse::<SchemaName>().is_err(),
            "{name} parsed as a tenant schema name"
        );
        assert!(SchemaName::new(name).is_err(), "{name}");
        let ran = with_schema(name, async { Marker::all(&db).await }).await;
        assert!(
            matches!(ran, Err(Error::InvalidSchemaName { .. })),
            "{name}: {ran:?}"
        );
    }
}

/// 4. Statements of one scope that run at once share the pool, never wait
/// for each other's parked connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_statements_of_one_scope_never_deadlock() {
    let t = TestDb::new().await;
    for size in [1, 2] {
        for routing in [RoutingMode::Session, RoutingMode::Transaction] {
            let db = pool(&t, size, routing, 5.0).await;
            let tenants = marker_tenants(&db, 1).await;
            let a = tenants[0].clone();
            for n in [2usize, 8, 64] {
                let seen = with_schema(&a, async {
                    let all = join_all((0..n).map(|_| marker(&db))).await;
                    // And tasks spawned with the context, awaited in the scope.
                    let tasks: Vec<_> = (0..n)
                        .map(|_| {
                            let db = db.clone();
                            strav_orm::spawn(async move { marker(&db).await })
                        })
                        .collect();
                    let mut out = all.into_iter().collect::<Result<Vec<_>, _>>()?;
                    for task in tasks {
                        out.push(task.await.unwrap()?);
                    }
                    Ok::<_, Error>(out)
                })
                .await
                .unwrap_or_else(|e| panic!("pool {size}, {routing:?}, {n} at once: {e}"));
                assert_eq!(seen.len(), 2 * n);
                assert!(seen.iter().all(|s| *s == a));
            }
            db.sql("DROP TABLE public.marker").execute().await.unwrap();
            for t in &tenants {
                db.sql(AssertSqlSafe(format!("DROP SCHEMA {t} CASCADE")))
                    .execute()
                    .await
                    .unwrap();
            }
        }
    }
}

/// 5. `DISCARD ALL` and `DEALLOCATE ALL` drop the server's prepared
/// statements; the statements Strav and sqlx prepared are forgotten with them.
#[tokio::test]
async fn discard_and_deallocate_leave_the_connection_usable() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 2).await;
    for wipe in [
        "DISCARD ALL",
        "DEALLOCATE ALL",
        "discard all",
        "/* x */ Deallocate All",
    ] {
        for tenant in &tenants {
            // Prepare raw and model statements on the connection.
            assert_eq!(with_schema(tenant, marker(&db)).await.unwrap(), *tenant);
            with_schema(tenant, Marker::all(&db)).await.unwrap();
        }
        with_schema(&tenants[0], async {
            db.sql(AssertSqlSafe(wipe.to_owned())).execute().await
        })
        .await
        .unwrap();
        for tenant in &tenants {
            let raw = with_schema(tenant, marker(&db)).await;
            assert_eq!(
                raw.as_deref().ok(),
                Some(tenant.as_str()),
                "after {wipe}: {raw:?}"
            );
            let model = with_schema(tenant, Marker::all(&db)).await;
            assert!(model.is_ok(), "a model after {wipe}: {model:?}");
        }
    }
}

/// 6. A dropped transaction frees its locks at once, and a dropped
/// long statement stops on the server within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_work_frees_locks_and_connections_within_a_second() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 2).await;
    let (a, b) = (&tenants[0], &tenants[1]);
    let locked = with_schema(a, async {
        db.transaction(async move |tx| {
            tx.sql("UPDATE marker SET tenant = tenant")
                .execute()
                .await?;
            pending::<()>().await;
            Ok::<_, Error>(())
        })
        .await
    });
    assert!(tokio::time::timeout(Duration::from_millis(100), locked)
        .await
        .is_err());
    let mut other = t.raw().await;
    other.execute("SET lock_timeout = '1s'").await.unwrap();
    let started = Instant::now();
    other
        .execute(AssertSqlSafe(format!(
            "UPDATE {a}.marker SET tenant = tenant"
        )))
        .await
        .expect("the abandoned transaction still holds its row lock");
    assert!(started.elapsed() < Duration::from_secs(1));

    // A long statement given up by its client.
    let slow = with_schema(a, async { db.sql("SELECT pg_sleep(5)").execute().await });
    assert!(tokio::time::timeout(Duration::from_millis(100), slow)
        .await
        .is_err());
    let started = Instant::now();
    assert_eq!(with_schema(b, marker(&db)).await.unwrap(), *b);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the next tenant waited {:?} for the abandoned statement",
        started.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND query = 'SELECT pg_sleep(5)' AND state = 'active'",
        )
        .fetch_one(&mut other)
        .await
        .unwrap();
        if running == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server still runs the abandoned statement after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// 7. A backend the server terminated costs the statement that was on it,
/// not the ones after.
#[tokio::test]
async fn a_terminated_backend_is_not_reused() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 1).await;
    let a = &tenants[0];
    let mut other = t.raw().await;
    for _ in 0..3 {
        let pid: i32 = with_schema(a, async {
            db.sql("SELECT pg_backend_pid()").fetch_scalar().await
        })
        .await
        .unwrap();
        other
            .execute(AssertSqlSafe(format!(
                "SELECT pg_terminate_backend({pid}, 5000)"
            )))
            .await
            .unwrap();
        // The statement that meets the dead connection may fail...
        let _ = with_schema(a, marker(&db)).await;
        // ...the next one must not.
        assert_eq!(with_schema(a, marker(&db)).await.unwrap(), *a);
    }
}

/// 8. A scope idle between its statements does not keep its connection
/// from others who wait for one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_pinned_connections_serve_waiters() {
    let t = TestDb::new().await;
    let mut times = Vec::new();
    for pin in [false, true] {
        let mut config = t.config(2);
        config.multi_tenant.pin_connections = pin;
        config.pool.acquire_timeout_secs = 10.0;
        let db = Database::connect_with(config).await.unwrap();
        let tenants = if pin {
            (0..50)
                .map(|i| format!("t_{:03}", i % 5))
                .collect::<Vec<_>>()
        } else {
            marker_tenants(&db, 5)
                .await
                .into_iter()
                .cycle()
                .take(50)
                .collect()
        };
        let started = Instant::now();
        let scopes = tenants.iter().map(|tenant| {
            let db = db.clone();
            async move {
                with_schema(tenant, async {
                    assert_eq!(marker(&db).await?, *tenant);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    assert_eq!(marker(&db).await?, *tenant);
                    Ok::<_, Error>(())
                })
                .await
            }
        });
        for r in join_all(scopes).await {
            r.unwrap();
        }
        times.push(started.elapsed());
    }
    let (unpinned, pinned) = (times[0], times[1]);
    assert!(
        pinned.as_secs_f64() <= unpinned.as_secs_f64() * 1.5 + 0.1,
        "pinned {pinned:?} against unpinned {unpinned:?}"
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[strav(type_name = "item_state")]
enum ItemState {
    New,
    Done,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[strav(table = "items", domain = "tenant")]
struct Item {
    #[strav(primary_key, generated)]
    id: i64,
    #[strav(sql_type = "item_state")]
    state: ItemState,
    #[strav(default, sql_type = "item_state[]")]
    history: Vec<ItemState>,
}

/// Counts statements Strav had to prepare again.
#[derive(Clone, Default)]
struct Reprepares(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Reprepares {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(bool);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" && format!("{value:?}").contains("re-preparing") {
                    self.0 = true;
                }
            }
        }
        let mut m = Message(false);
        event.record(&mut m);
        if m.0 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// 9. Model statements whose results hold per-tenant enum types are never
/// refused by the server when a connection moves between tenants.
#[tokio::test(flavor = "current_thread")]
async fn enum_results_never_need_a_re_prepare() {
    use tracing_subscriber::layer::SubscriberExt;
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 3).await;
    for tenant in &tenants {
        db.sql(AssertSqlSafe(format!(
            "CREATE TYPE {tenant}.item_state AS ENUM ('new', 'done');
             CREATE TABLE {tenant}.items (id bigserial PRIMARY KEY, state {tenant}.item_state NOT NULL,
                 history {tenant}.item_state[] NOT NULL DEFAULT '{{}}')"
        )))
        .execute_script()
        .await
        .unwrap();
    }
    let counter = Reprepares::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with(counter.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    for round in 0..5 {
        for tenant in &tenants {
            with_schema(tenant, async {
                // Raw SQL first puts the connection on the tenant's path, so
                // the model statements run in their unqualified form.
                marker(&db).await?;
                let item = Item::create(
                    &db,
                    NewItem {
                        state: ItemState::New,
                        history: Some(vec![ItemState::New, ItemState::Done]),
                    },
                )
                .await?;
                assert_eq!(item.history, vec![ItemState::New, ItemState::Done]);
                let found = Item::find(&db, item.id).await?.unwrap();
                assert_eq!(found.state, ItemState::New);
                let all = Item::all(&db).await?;
                assert_eq!(all.len(), round + 1);
                Ok::<_, Error>(())
            })
            .await
            .unwrap();
        }
    }
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        0,
        "statements were refused by the server and prepared again"
    );
}
