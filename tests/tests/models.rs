//! Hand-written models through #[derive(Model)] against a real database.

use strav_orm::{with_schema, without_schema, Database, Enum, Error, Model, SchemaManager};
use strav_tests::TestDb;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[strav(type_name = "order_status")]
enum Status {
    Pending,
    Paid,
    #[strav(rename = "on-hold")]
    OnHold,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[strav(table = "orders", domain = "tenant")]
struct TenantOrder {
    #[strav(primary_key, generated)]
    id: i64,
    customer: String,
    #[strav(default, sql_type = "order_status")]
    status: Status,
    #[strav(default)]
    total: i64,
    note: Option<String>,
    #[strav(column = "type", default)]
    r#type: String,
    #[strav(default, sql_type = "order_status[]")]
    history: Vec<Status>,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[strav(table = "users", schema = "public")]
struct User {
    #[strav(primary_key, generated)]
    id: i64,
    name: String,
    #[strav(default)]
    role: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[strav(table = "order_lines", domain = "tenant")]
struct Line {
    #[strav(primary_key)]
    order_id: i64,
    #[strav(primary_key)]
    line_no: i16,
    qty: i32,
}

const TENANT_DDL: &str = "
    CREATE TYPE order_status AS ENUM ('pending', 'paid', 'on-hold');
    CREATE TABLE orders (
        id bigserial PRIMARY KEY,
        customer text NOT NULL,
        status order_status NOT NULL DEFAULT 'pending',
        total bigint NOT NULL DEFAULT 0,
        note text,
        \"type\" text NOT NULL DEFAULT 'web',
        history order_status[] NOT NULL DEFAULT '{}'
    );
    CREATE TABLE order_lines (order_id bigint, line_no smallint, qty int NOT NULL, PRIMARY KEY (order_id, line_no));";

async fn setup(t: &TestDb, pool: usize, tenants: &[&str]) -> Database {
    let db = t.database(pool).await;
    db.sql(
        "CREATE TABLE public.users (id bigserial PRIMARY KEY, name text NOT NULL, role text NOT NULL DEFAULT 'member')",
    )
    .execute()
    .await
    .unwrap();
    let sm = SchemaManager::new(&db);
    for tenant in tenants {
        sm.create_schema(tenant, "tenant").await.unwrap();
        with_schema(*tenant, async { db.sql(TENANT_DDL).execute_script().await })
            .await
            .unwrap();
    }
    db
}

fn new_order(customer: &str) -> NewTenantOrder {
    NewTenantOrder {
        customer: customer.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn rows_of_a_tenant_model_stay_in_their_schema() {
    let t = TestDb::new().await;
    let db = setup(&t, 2, &["test_schema_1", "test_schema_2"]).await;
    for tenant in ["test_schema_1", "test_schema_2"] {
        with_schema(tenant, async {
            TenantOrder::create(&db, new_order(&format!("alice@{tenant}"))).await
        })
        .await
        .unwrap();
    }
    for tenant in ["test_schema_1", "test_schema_2"] {
        let all = with_schema(tenant, TenantOrder::all(&db)).await.unwrap();
        assert_eq!(all.len(), 1, "{tenant}");
        assert_eq!(all[0].customer, format!("alice@{tenant}"));
        // Defaults came back from the database.
        assert_eq!(
            (all[0].status, all[0].total, all[0].r#type.as_str()),
            (Status::Pending, 0, "web")
        );
    }
}

#[tokio::test]
async fn per_tenant_models_fail_closed_without_a_tenant() {
    let t = TestDb::new().await;
    let db = setup(&t, 1, &["t_one"]).await;
    let err = TenantOrder::all(&db).await.unwrap_err();
    assert!(matches!(err, Error::NoSchemaContext { .. }), "{err}");
    assert!(err.to_string().contains("orders"), "{err}");
    let err = with_schema("t_one", async {
        without_schema(TenantOrder::all(&db)).await
    })
    .await
    .unwrap_err();
    assert!(matches!(err, Error::NoSchemaContext { .. }), "{err}");
    // A transaction begun without a tenant refuses them too.
    let err = db
        .transaction(async move |tx| TenantOrder::all(tx).await)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoSchemaContext { .. }), "{err}");
}

#[tokio::test]
async fn fixed_schema_models_ignore_the_tenant_context() {
    let t = TestDb::new().await;
    let db = setup(&t, 1, &["t_one"]).await;
    let alice = User::create(
        &db,
        NewUser {
            name: "alice".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(alice.role, "member");
    let seen = with_schema("t_one", async {
        User::find_by(&db, User::NAME, "alice").await
    })
    .await
    .unwrap();
    assert_eq!(seen, Some(alice.clone()));
    let found = with_schema("t_one", User::find(&db, alice.id))
        .await
        .unwrap();
    assert_eq!(found.unwrap().name, "alice");
}

#[tokio::test]
async fn find_create_save_delete_and_composite_keys() {
    let t = TestDb::new().await;
    let db = setup(&t, 2, &["t_one"]).await;
    with_schema("t_one", async {
        let mut o = TenantOrder::create(
            &db,
            NewTenantOrder {
                customer: "bob".into(),
                status: Some(Status::OnHold),
                total: Some(250),
                note: Some("fragile".into()),
                history: Some(vec![Status::Pending, Status::OnHold]),
                r#type: None,
            },
        )
        .await?;
        assert_eq!(o.status, Status::OnHold);
        assert_eq!(o.history, vec![Status::Pending, Status::OnHold]);
        assert_eq!(TenantOrder::find(&db, o.id).await?, Some(o.clone()));
        assert_eq!(TenantOrder::find(&db, o.id + 100).await?, None);
        assert_eq!(
            TenantOrder::find_by(&db, TenantOrder::STATUS, "on-hold").await?,
            Some(o.clone())
        );
        o.status = Status::Paid;
        o.note = None;
        o.save(&db).await?;
        let stored = TenantOrder::find(&db, o.id).await?.unwrap();
        assert_eq!((stored.status, stored.note), (Status::Paid, None));

        Line::create(
            &db,
            NewLine {
                order_id: o.id,
                line_no: 1,
                qty: 3,
            },
        )
        .await?;
        Line::create(
            &db,
            NewLine {
                order_id: o.id,
                line_no: 2,
                qty: 5,
            },
        )
        .await?;
        let line = Line::find(&db, (o.id, 2)).await?.unwrap();
        assert_eq!(line.qty, 5);
        line.delete(&db).await?;
        assert_eq!(Line::find(&db, (o.id, 2)).await?, None);
        assert!(matches!(line.delete(&db).await, Err(Error::RowNotFound)));

        o.delete(&db).await?;
        assert_eq!(TenantOrder::all(&db).await?.len(), 0);
        Ok::<_, Error>(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_query_builder() {
    let t = TestDb::new().await;
    let db = setup(&t, 2, &["t_one"]).await;
    with_schema("t_one", async {
        for (i, name) in ["ann", "ben", "cid", "dee", "eve"].iter().enumerate() {
            TenantOrder::create(
                &db,
                NewTenantOrder {
                    customer: name.to_string(),
                    total: Some(i as i64 * 10),
                    status: Some(if i % 2 == 0 {
                        Status::Pending
                    } else {
                        Status::Paid
                    }),
                    note: (i == 4).then(|| "vip".to_owned()),
                    ..Default::default()
                },
            )
            .await?;
        }
        let pending = TenantOrder::query()
            .filter(TenantOrder::STATUS.eq("pending"))
            .order_by(TenantOrder::TOTAL.desc())
            .all(&db)
            .await?;
        let names: Vec<&str> = pending.iter().map(|o| o.customer.as_str()).collect();
        assert_eq!(names, ["eve", "cid", "ann"]);

        let page = TenantOrder::query()
            .order_by(TenantOrder::CUSTOMER.asc())
            .limit(2)
            .offset(1)
            .all(&db)
            .await?;
        let names: Vec<&str> = page.iter().map(|o| o.customer.as_str()).collect();
        assert_eq!(names, ["ben", "cid"]);

        let q = |f| TenantOrder::query().filter(f);
        assert_eq!(q(TenantOrder::TOTAL.gt(10)).count(&db).await?, 3);
        assert_eq!(q(TenantOrder::TOTAL.ge(10)).count(&db).await?, 4);
        assert_eq!(q(TenantOrder::TOTAL.lt(10)).count(&db).await?, 1);
        assert_eq!(q(TenantOrder::TOTAL.le(10)).count(&db).await?, 2);
        assert_eq!(q(TenantOrder::TOTAL.ne(10)).count(&db).await?, 4);
        assert_eq!(q(TenantOrder::CUSTOMER.like("%e%")).count(&db).await?, 3);
        assert_eq!(q(TenantOrder::NOTE.is_null()).count(&db).await?, 4);
        assert_eq!(q(TenantOrder::NOTE.is_not_null()).count(&db).await?, 1);
        assert_eq!(q(TenantOrder::NOTE.eq("vip")).count(&db).await?, 1);
        assert_eq!(
            q(TenantOrder::CUSTOMER.is_in(["ann", "eve", "zed"]))
                .count(&db)
                .await?,
            2
        );
        assert_eq!(
            q(TenantOrder::STATUS.is_in([Status::Paid]))
                .count(&db)
                .await?,
            2
        );
        assert_eq!(
            q(TenantOrder::CUSTOMER.is_in(Vec::<&str>::new()))
                .count(&db)
                .await?,
            0
        );
        let either = TenantOrder::TOTAL.eq(0).or(TenantOrder::TOTAL.eq(40));
        assert_eq!(q(either).count(&db).await?, 2);
        let both = TenantOrder::STATUS
            .eq(Status::Paid)
            .and(TenantOrder::TOTAL.gt(10));
        assert_eq!(q(both).count(&db).await?, 1);
        assert_eq!(q(TenantOrder::TOTAL.gt(10).not()).count(&db).await?, 2);
        let first = TenantOrder::query()
            .order_by(TenantOrder::TOTAL.asc())
            .first(&db)
            .await?
            .unwrap();
        assert_eq!(first.customer, "ann");

        let changed = TenantOrder::query()
            .filter(TenantOrder::STATUS.eq(Status::Pending))
            .update(
                &db,
                [
                    TenantOrder::STATUS.set(Status::OnHold),
                    TenantOrder::NOTE.set("moved"),
                ],
            )
            .await?;
        assert_eq!(changed, 3);
        assert_eq!(q(TenantOrder::STATUS.eq("on-hold")).count(&db).await?, 3);
        let gone = q(TenantOrder::TOTAL.lt(20)).delete(&db).await?;
        assert_eq!(gone, 2);
        assert_eq!(TenantOrder::query().count(&db).await?, 3);

        // Values are parameters, never SQL.
        let evil = "x'; DROP TABLE orders; --";
        assert_eq!(q(TenantOrder::CUSTOMER.eq(evil)).count(&db).await?, 0);
        assert_eq!(TenantOrder::query().count(&db).await?, 3);
        Ok::<_, Error>(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn models_inside_transactions() {
    let t = TestDb::new().await;
    let db = setup(&t, 2, &["t_one", "t_two"]).await;
    let created = with_schema("t_one", async {
        db.transaction(async move |tx| {
            let a = TenantOrder::create(tx, new_order("in-tx")).await?;
            let b = TenantOrder::create(tx, new_order("in-tx-2")).await?;
            let n = TenantOrder::query().count(tx).await?;
            assert_eq!(n, 2);
            // A fixed-schema model in the same transaction.
            User::create(
                tx,
                NewUser {
                    name: "tx-user".into(),
                    ..Default::default()
                },
            )
            .await?;
            Ok::<_, Error>((a, b))
        })
        .await
    })
    .await
    .unwrap();
    assert_eq!(created.1.customer, "in-tx-2");
    let err: Result<(), Error> = with_schema("t_two", async {
        db.transaction(async move |tx| {
            TenantOrder::create(tx, new_order("rolled back")).await?;
            Err(Error::RowNotFound)
        })
        .await
    })
    .await;
    assert!(err.is_err());
    assert_eq!(
        with_schema("t_one", TenantOrder::query().count(&db))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        with_schema("t_two", TenantOrder::query().count(&db))
            .await
            .unwrap(),
        0
    );
    assert!(User::find_by(&db, User::NAME, "tx-user")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_enums_and_statements_never_cross_tenants_on_a_shared_pool() {
    // Every tenant has its own `order_status` type (its own OID). On a pool
    // of two connections, with the qualified-statement room both large and
    // zero, every tenant reads and writes its own rows and types.
    for room in [0usize, 1000] {
        let t = TestDb::new().await;
        let mut config = t.config(2);
        config.pool.tenant_statement_cache = room;
        let db = Database::connect_with(config).await.unwrap();
        let tenants: Vec<String> = (0..12).map(|i| format!("tn_{i:02}")).collect();
        let sm = SchemaManager::new(&db);
        for tenant in &tenants {
            sm.create_schema(tenant, "tenant").await.unwrap();
            with_schema(tenant, async { db.sql(TENANT_DDL).execute_script().await })
                .await
                .unwrap();
        }
        let mut tasks = Vec::new();
        for w in 0..8usize {
            let db = db.clone();
            let tenants = tenants.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..60usize {
                    let tenant = &tenants[(w * 7 + i * 5) % tenants.len()];
                    with_schema(tenant, async {
                        let o = TenantOrder::create(
                            &db,
                            NewTenantOrder {
                                customer: tenant.clone(),
                                status: Some(Status::Paid),
                                history: Some(vec![Status::OnHold]),
                                ..Default::default()
                            },
                        )
                        .await?;
                        let back = TenantOrder::find(&db, o.id).await?.unwrap();
                        assert_eq!(back.customer, *tenant);
                        let n = TenantOrder::query()
                            .filter(TenantOrder::STATUS.eq(Status::Paid))
                            .filter(TenantOrder::CUSTOMER.ne(tenant.as_str()))
                            .count(&db)
                            .await?;
                        assert_eq!(n, 0, "{tenant} sees another tenant's rows");
                        Ok::<_, Error>(())
                    })
                    .await
                    .unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        for tenant in &tenants {
            let all = with_schema(tenant, TenantOrder::all(&db)).await.unwrap();
            assert!(all.iter().all(|o| o.customer == *tenant), "room {room}");
            assert_eq!(all.len(), 8 * 60 / tenants.len(), "room {room}");
        }
    }
}

#[tokio::test]
async fn tenant_statements_are_qualified_within_their_room_and_routed_past_it() {
    for (room, expect_qualified) in [(1000usize, 3i64), (0, 0)] {
        let t = TestDb::new().await;
        let mut config = t.config(1);
        config.pool.tenant_statement_cache = room;
        let db = Database::connect_with(config).await.unwrap();
        let sm = SchemaManager::new(&db);
        for tenant in ["qa", "qb", "qc"] {
            sm.create_schema(tenant, "tenant").await.unwrap();
            with_schema(tenant, async { db.sql(TENANT_DDL).execute_script().await })
                .await
                .unwrap();
        }
        // Off every tenant's path, so each find below must choose a form.
        db.sql("SELECT 1").execute().await.unwrap();
        for tenant in ["qa", "qb", "qc"] {
            let found = with_schema(tenant, TenantOrder::find(&db, 1))
                .await
                .unwrap();
            assert_eq!(found, None);
        }
        // The pool's only connection: which forms did it prepare?
        let qualified: i64 = db
            .sql("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM \"q_\".\"orders\"%' AND statement NOT LIKE '%pg_prepared%'")
            .fetch_scalar()
            .await
            .unwrap();
        assert_eq!(qualified, expect_qualified, "room {room}");
        let unqualified: i64 = db
            .sql("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM \"orders\"%' AND statement NOT LIKE '%pg_prepared%'")
            .fetch_scalar()
            .await
            .unwrap();
        assert_eq!(unqualified, if room == 0 { 1 } else { 0 }, "room {room}");
    }
}
