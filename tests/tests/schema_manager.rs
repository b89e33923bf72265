//! SchemaManager against a real database.

use strav_orm::{with_schema, Error, SchemaManager, SchemaName};
use strav_tests::TestDb;

#[tokio::test]
async fn create_list_exists_delete() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    let sm = SchemaManager::new(&db);

    assert!(sm.list_schemas(None).await.unwrap().is_empty());
    let info = sm.create_schema("company_1", "tenant").await.unwrap();
    assert_eq!(
        (info.name.as_str(), info.domain.as_str()),
        ("company_1", "tenant")
    );
    sm.create_schema("company_2", "tenant").await.unwrap();
    sm.create_schema("plant_x", "factory").await.unwrap();

    let names = |v: Vec<strav_orm::SchemaInfo>| v.into_iter().map(|s| s.name).collect::<Vec<_>>();
    assert_eq!(
        names(sm.list_schemas(None).await.unwrap()),
        ["company_1", "company_2", "plant_x"]
    );
    assert_eq!(
        names(sm.list_schemas(Some("tenant")).await.unwrap()),
        ["company_1", "company_2"]
    );
    assert!(sm.schema_exists("company_1").await.unwrap());
    assert!(sm.schema_exists("public").await.unwrap());
    assert!(!sm.schema_exists("nope").await.unwrap());
    assert!(sm.tenant_exists("company_1").await.unwrap());
    assert!(!sm.tenant_exists("nope").await.unwrap());

    let err = sm.create_schema("company_1", "tenant").await.unwrap_err();
    assert!(matches!(err, Error::SchemaAlreadyExists(_)), "{err}");
    assert!(err.is_user_error());

    sm.delete_schema("company_1").await.unwrap();
    assert!(!sm.schema_exists("company_1").await.unwrap());
    assert_eq!(
        names(sm.list_schemas(None).await.unwrap()),
        ["company_2", "plant_x"]
    );
}

#[tokio::test]
async fn refuses_what_it_must_not_touch() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let sm = SchemaManager::new(&db);
    for protected in ["public", "information_schema", "pg_catalog", "pg_toast"] {
        let err = sm.delete_schema(protected).await.unwrap_err();
        assert!(
            matches!(err, Error::ProtectedSchema { .. }),
            "{protected}: {err}"
        );
    }
    assert!(sm.schema_exists("public").await.unwrap());

    // A schema Strav did not create is not Strav's to drop.
    db.sql("CREATE SCHEMA handmade").execute().await.unwrap();
    let err = sm.delete_schema("handmade").await.unwrap_err();
    assert!(matches!(err, Error::SchemaNotRegistered(_)), "{err}");
    assert!(sm.schema_exists("handmade").await.unwrap());

    for bad in ["Bad-Name", "", "x;y"] {
        let err = sm.create_schema(bad, "tenant").await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidSchemaName { .. }),
            "{bad}: {err}"
        );
    }
    let err = sm.create_schema("ok_name", "Bad Domain").await.unwrap_err();
    assert!(matches!(err, Error::InvalidDomain { .. }), "{err}");
    assert!(
        !sm.schema_exists("ok_name").await.unwrap(),
        "nothing half-created"
    );
}

#[tokio::test]
async fn stats_of_one_schema_are_exact() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    let sm = SchemaManager::new(&db);
    sm.create_schema("acme", "tenant").await.unwrap();
    with_schema("acme", async {
        db.sql(
            "CREATE TABLE orders (id bigserial PRIMARY KEY, note text);
             CREATE TABLE \"Weird Name\" (x int);
             INSERT INTO orders (note) SELECT 'n' FROM generate_series(1, 25);
             INSERT INTO \"Weird Name\" VALUES (1), (2);",
        )
        .execute_script()
        .await
    })
    .await
    .unwrap();
    let stats = sm.get_schema_stats("acme").await.unwrap();
    assert_eq!(stats.schema, "acme");
    assert_eq!(stats.domain.as_deref(), Some("tenant"));
    assert_eq!(stats.tables, 2);
    assert_eq!(stats.total_rows, 27);
    assert!(stats.rows_exact);
    assert!(stats.size_in_bytes > 8192, "{stats:?}");

    let err = sm.get_schema_stats("missing").await.unwrap_err();
    assert!(matches!(err, Error::SchemaNotFound(_)), "{err}");
}

#[tokio::test]
async fn stats_of_every_schema_in_one_query() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    let sm = SchemaManager::new(&db);
    for (i, name) in ["s_a", "s_b", "s_c"].iter().enumerate() {
        sm.create_schema(name, "tenant").await.unwrap();
        let schema = SchemaName::new(name).unwrap();
        sm.execute_schema(&schema, "CREATE TABLE items (id int)")
            .execute()
            .await
            .unwrap();
        sm.execute_schema(&schema, "INSERT INTO items SELECT generate_series(1, $1)")
            .bind((i as i32 + 1) * 10)
            .execute()
            .await
            .unwrap();
    }
    // Live-tuple statistics reach shared memory asynchronously; wait for them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let all = loop {
        db.sql("SELECT pg_stat_force_next_flush()")
            .execute()
            .await
            .unwrap();
        let all = sm.get_all_schema_stats().await.unwrap();
        if all.iter().map(|s| s.total_rows).sum::<i64>() == 60
            || std::time::Instant::now() > deadline
        {
            break all;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let summary: Vec<(String, i64, i64)> = all
        .iter()
        .map(|s| (s.schema.clone(), s.tables, s.total_rows))
        .collect();
    assert_eq!(
        summary,
        [
            ("s_a".into(), 1, 10),
            ("s_b".into(), 1, 20),
            ("s_c".into(), 1, 30)
        ]
    );
    assert!(all.iter().all(|s| s.size_in_bytes > 0 && !s.rows_exact));
}

#[tokio::test]
async fn execute_schema_ignores_the_callers_context() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let sm = SchemaManager::new(&db);
    sm.create_schema("one", "tenant").await.unwrap();
    sm.create_schema("two", "tenant").await.unwrap();
    let one = SchemaName::new("one").unwrap();
    sm.execute_schema(&one, "CREATE TABLE t (v text)")
        .execute()
        .await
        .unwrap();
    let rows = with_schema("two", async {
        sm.execute_schema(&one, "INSERT INTO t VALUES ($1)")
            .bind("x")
            .execute()
            .await?;
        sm.execute_schema(&one, "SELECT v FROM t")
            .fetch_all::<(String,)>()
            .await
    })
    .await
    .unwrap();
    assert_eq!(rows, [("x".to_owned(),)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_is_created_once_under_races() {
    let t = TestDb::new().await;
    let mut handles = Vec::new();
    for i in 0..6 {
        let db = t.database(1).await;
        handles.push(tokio::spawn(async move {
            SchemaManager::new(&db)
                .create_schema(&format!("race_{i}"), "tenant")
                .await
        }));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
    let db = t.database(1).await;
    assert_eq!(
        SchemaManager::new(&db)
            .list_schemas(None)
            .await
            .unwrap()
            .len(),
        6
    );
}

#[tokio::test]
async fn reads_do_not_create_the_registry() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let sm = SchemaManager::new(&db);
    assert!(sm.list_schemas(None).await.unwrap().is_empty());
    assert!(sm.get_all_schema_stats().await.unwrap().is_empty());
    assert!(!sm.tenant_exists("x").await.unwrap());
    let stats = sm.get_schema_stats("public").await.unwrap();
    assert_eq!(stats.domain, None);
    let exists: bool = db
        .sql("SELECT to_regclass('public.strav_schemas') IS NOT NULL")
        .fetch_scalar()
        .await
        .unwrap();
    assert!(!exists, "a read created the registry table");
}
