//! The migration runner against a real database.

use strav_orm::migrate::Outcome;
use strav_orm::{
    with_schema, Database, Error, Migrations, Migrator, RollbackTo, SchemaManager, SchemaName,
};
use strav_tests::TestDb;

const A_UP: &str = "CREATE TABLE orders (id bigserial PRIMARY KEY, note text);
-- a comment; with a semicolon
INSERT INTO orders (note) VALUES ('it''s; fine');";
const A_DOWN: &str = "DROP TABLE orders;";
const B_UP: &str = "ALTER TABLE orders ADD COLUMN total int NOT NULL DEFAULT 0;
CREATE FUNCTION order_count() RETURNS bigint LANGUAGE plpgsql AS $body$
BEGIN
    RETURN (SELECT count(*) FROM orders); -- ; inside a body
END;
$body$;";
const B_DOWN: &str = "DROP FUNCTION order_count(); ALTER TABLE orders DROP COLUMN total;";

fn set(extra: &[(&'static str, &'static str, &'static str)]) -> Migrations {
    let mut files = vec![
        ("tenant", "20260101000000_create_orders.up.sql", A_UP),
        ("tenant", "20260101000000_create_orders.down.sql", A_DOWN),
    ];
    files.extend_from_slice(extra);
    Migrations::from_embedded(&files).unwrap()
}

fn both() -> Migrations {
    set(&[
        ("tenant", "20260102000000_add_total.up.sql", B_UP),
        ("tenant", "20260102000000_add_total.down.sql", B_DOWN),
    ])
}

async fn tenants(db: &Database, names: &[&str]) {
    let sm = SchemaManager::new(db);
    for n in names {
        sm.create_schema(n, "tenant").await.unwrap();
    }
}

async fn versions(db: &Database, schema: &str) -> Vec<(i64, i64)> {
    with_schema(schema, async {
        db.sql("SELECT version, batch FROM strav_migrations ORDER BY version")
            .fetch_all::<(i64, i64)>()
            .await
    })
    .await
    .unwrap_or_default()
}

fn versions_of(o: &Outcome) -> Vec<i64> {
    match o {
        Outcome::Migrated { versions } => versions.clone(),
        Outcome::Current => vec![],
        Outcome::Failed { versions, .. } => versions.clone(),
    }
}

#[tokio::test]
async fn migrates_every_tenant_once_and_then_is_current() {
    let t = TestDb::new().await;
    let db = t.database(4).await;
    tenants(&db, &["t_a", "t_b", "t_c"]).await;
    let m = Migrator::new(&db, both());
    let report = m.migrate_domain("tenant", 4).await.unwrap();
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.migrated().count(), 3);
    let batch = report.batch.unwrap();
    for s in ["t_a", "t_b", "t_c"] {
        assert_eq!(
            versions(&db, s).await,
            [(20260101000000, batch), (20260102000000, batch)]
        );
        let (n, total): (i64, i64) = with_schema(s, async {
            db.sql("SELECT order_count(), sum(total)::bigint FROM orders")
                .fetch_one()
                .await
        })
        .await
        .unwrap();
        assert_eq!(
            (n, total),
            (1, 0),
            "the multi-statement files ran whole in {s}"
        );
    }
    let again = m.migrate_domain("tenant", 4).await.unwrap();
    assert_eq!(again.current().count(), 3);
    assert_eq!(again.batch, None, "a run with nothing to do takes no batch");
    let status = m.status("tenant").await.unwrap();
    assert!(status
        .iter()
        .all(|s| s.pending.is_empty() && s.drift.is_empty()));
}

#[tokio::test]
async fn a_failing_migration_leaves_its_schema_untouched_and_the_others_migrate() {
    let t = TestDb::new().await;
    let db = t.database(4).await;
    tenants(&db, &["t_ok1", "t_bad", "t_ok2"]).await;
    // The object the second migration creates already exists in t_bad.
    with_schema("t_bad", async {
        db.sql("CREATE TABLE audit (x int)").execute().await
    })
    .await
    .unwrap();
    let files = set(&[(
        "tenant",
        "20260103000000_add_audit.up.sql",
        "CREATE TABLE audit_log (id int); CREATE TABLE audit (id int);",
    )]);
    let m = Migrator::new(&db, files.clone());
    let report = m.migrate_domain("tenant", 2).await.unwrap();
    assert!(!report.is_success());
    let bad = report.schemas.iter().find(|s| s.schema == "t_bad").unwrap();
    match &bad.outcome {
        Outcome::Failed { versions, error } => {
            assert_eq!(versions, &[20260101000000], "the first migration went in");
            assert!(
                error.contains("t_bad") && error.contains("tenant/20260103000000_add_audit.up.sql"),
                "{error}"
            );
            assert!(
                error.contains("already exists"),
                "PostgreSQL's message: {error}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(report.migrated().count(), 2);
    // Exactly the previous version: nothing of the failed file remains.
    assert_eq!(versions(&db, "t_bad").await.len(), 1);
    let half: Option<String> = with_schema("t_bad", async {
        db.sql("SELECT to_regclass('audit_log')::text")
            .fetch_scalar()
            .await
    })
    .await
    .unwrap();
    assert_eq!(half, None);

    // Fixed: only t_bad has anything to do.
    with_schema("t_bad", async {
        db.sql("DROP TABLE audit").execute().await
    })
    .await
    .unwrap();
    let report = m.migrate_domain("tenant", 2).await.unwrap();
    assert!(report.is_success());
    let migrated: Vec<&str> = report.migrated().map(|s| s.schema.as_str()).collect();
    assert_eq!(migrated, ["t_bad"]);
}

#[tokio::test]
async fn rollback_reverts_each_schemas_newest_batch_or_every_batch_from_n() {
    let t = TestDb::new().await;
    let db = t.database(4).await;
    tenants(&db, &["early"]).await;
    let first = Migrator::new(&db, set(&[]))
        .migrate_domain("tenant", 2)
        .await
        .unwrap();
    let b1 = first.batch.unwrap();
    // A tenant created later, and a second migration for everyone.
    tenants(&db, &["late"]).await;
    let m = Migrator::new(&db, both());
    let second = m.migrate_domain("tenant", 2).await.unwrap();
    let b2 = second.batch.unwrap();
    assert!(b2 > b1);
    assert_eq!(
        versions(&db, "early").await,
        [(20260101000000, b1), (20260102000000, b2)]
    );
    assert_eq!(
        versions(&db, "late").await,
        [(20260101000000, b2), (20260102000000, b2)]
    );

    // Newest batch per schema: early loses B only; late loses both.
    let r = m
        .rollback_domain("tenant", RollbackTo::LastBatch, 2)
        .await
        .unwrap();
    assert!(r.is_success(), "{r:?}");
    let by: std::collections::BTreeMap<_, _> = r
        .schemas
        .iter()
        .map(|s| (s.schema.as_str(), versions_of(&s.outcome)))
        .collect();
    assert_eq!(by["early"], [20260102000000]);
    assert_eq!(by["late"], [20260102000000, 20260101000000], "newest first");
    assert_eq!(versions(&db, "early").await, [(20260101000000, b1)]);
    assert_eq!(versions(&db, "late").await, []);

    // Everything again, then --batch=b1 reverts all of it everywhere.
    let third = m.migrate_domain("tenant", 2).await.unwrap();
    assert!(third.is_success());
    let r = m
        .rollback_domain("tenant", RollbackTo::FromBatch(b1), 2)
        .await
        .unwrap();
    assert!(r.is_success(), "{r:?}");
    for s in ["early", "late"] {
        assert_eq!(versions(&db, s).await, [], "{s}");
        let gone: Option<String> = with_schema(s, async {
            db.sql("SELECT to_regclass('orders')::text")
                .fetch_scalar()
                .await
        })
        .await
        .unwrap();
        assert_eq!(gone, None);
    }
}

#[tokio::test]
async fn after_a_partial_run_and_a_rerun_one_rollback_removes_the_migration_everywhere() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    tenants(&db, &["p_1", "p_2"]).await;
    Migrator::new(&db, set(&[]))
        .migrate_domain("tenant", 2)
        .await
        .unwrap();
    with_schema("p_2", async {
        db.sql("ALTER TABLE orders ADD COLUMN total int")
            .execute()
            .await
    })
    .await
    .unwrap();
    let m = Migrator::new(&db, both());
    let partial = m.migrate_domain("tenant", 2).await.unwrap();
    assert_eq!(partial.failed().count(), 1);
    with_schema("p_2", async {
        db.sql("ALTER TABLE orders DROP COLUMN total")
            .execute()
            .await
    })
    .await
    .unwrap();
    let rerun = m.migrate_domain("tenant", 2).await.unwrap();
    assert!(rerun.is_success());
    assert_ne!(partial.batch, rerun.batch);
    m.rollback_domain("tenant", RollbackTo::LastBatch, 2)
        .await
        .unwrap();
    for s in ["p_1", "p_2"] {
        assert_eq!(
            versions(&db, s).await.len(),
            1,
            "{s} is back to the first migration"
        );
    }
}

#[tokio::test]
async fn drift_stops_the_schema_with_a_way_out() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    tenants(&db, &["d_1"]).await;
    Migrator::new(&db, set(&[]))
        .migrate_domain("tenant", 1)
        .await
        .unwrap();
    let edited = Migrations::from_embedded(&[
        (
            "tenant",
            "20260101000000_create_orders.up.sql",
            "CREATE TABLE orders (id int);",
        ),
        ("tenant", "20260102000000_add_total.up.sql", B_UP),
    ])
    .unwrap();
    let m = Migrator::new(&db, edited);
    let status = m.status("tenant").await.unwrap();
    assert_eq!(status[0].drift.len(), 1);
    assert_eq!(status[0].drift[0].version, 20260101000000);
    let report = m.migrate_domain("tenant", 1).await.unwrap();
    match &report.schemas[0].outcome {
        Outcome::Failed { versions, error } => {
            assert!(versions.is_empty());
            assert!(
                error.contains("drift") && error.contains("20260101000000_create_orders.up.sql"),
                "{error}"
            );
            assert!(error.contains("Restore"), "says how to resolve it: {error}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        versions(&db, "d_1").await.len(),
        1,
        "B was not applied over drift"
    );
}

#[tokio::test]
async fn no_transaction_files_run_statement_by_statement() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    tenants(&db, &["n_1"]).await;
    let files = set(&[(
        "tenant",
        "20260104000000_index_notes.up.sql",
        "-- strav:no-transaction\nCREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);\nCREATE INDEX CONCURRENTLY orders_id_note_idx ON orders (id, note);",
    )]);
    let report = Migrator::new(&db, files)
        .migrate_domain("tenant", 1)
        .await
        .unwrap();
    assert!(report.is_success(), "{report:?}");
    let n: i64 = db
        .sql("SELECT count(*) FROM pg_indexes WHERE schemaname = 'n_1' AND indexname LIKE 'orders_%_idx'")
        .fetch_scalar()
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(versions(&db, "n_1").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_at_once_apply_each_migration_exactly_once() {
    let t = TestDb::new().await;
    let db = t.database(6).await;
    let names: Vec<String> = (0..10).map(|i| format!("c_{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    tenants(&db, &refs).await;
    let slow = set(&[(
        "tenant",
        "20260105000000_slow.up.sql",
        "CREATE TABLE slow (x int); SELECT pg_sleep(0.02);",
    )]);
    let (m1, m2) = (Migrator::new(&db, slow.clone()), Migrator::new(&db, slow));
    let (r1, r2) = tokio::join!(
        m1.migrate_domain("tenant", 3),
        m2.migrate_domain("tenant", 3)
    );
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert!(r1.is_success() && r2.is_success(), "{r1:?} {r2:?}");
    for s in &names {
        let applied_by_1 = r1
            .schemas
            .iter()
            .find(|r| &r.schema == s)
            .map(|r| versions_of(&r.outcome))
            .unwrap();
        let applied_by_2 = r2
            .schemas
            .iter()
            .find(|r| &r.schema == s)
            .map(|r| versions_of(&r.outcome))
            .unwrap();
        let mut all = [applied_by_1, applied_by_2].concat();
        all.sort_unstable();
        assert_eq!(
            all,
            [20260101000000, 20260105000000],
            "{s}: each applied once"
        );
        assert_eq!(versions(&db, s).await.len(), 2);
    }
}

#[tokio::test]
async fn fixed_domains_and_public_migrate_their_own_schema() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    let files = Migrations::from_embedded(&[
        (
            "public",
            "20260101000000_users.up.sql",
            "CREATE TABLE users (id bigserial PRIMARY KEY);",
        ),
        (
            "factory",
            "20260101000000_machines.up.sql",
            "CREATE TABLE machines (id int PRIMARY KEY);",
        ),
    ])
    .unwrap();
    let m = Migrator::new(&db, files);
    assert!(m.migrate_domain("public", 1).await.unwrap().is_success());
    assert!(m.migrate_domain("factory", 1).await.unwrap().is_success());
    let (u, f): (Option<String>, Option<String>) = db
        .sql("SELECT to_regclass('public.users')::text, to_regclass('factory.machines')::text")
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(
        (u.as_deref(), f.as_deref()),
        (Some("users"), Some("factory.machines"))
    );
    let factory = SchemaName::new("factory").unwrap();
    let n: i64 = SchemaManager::new(&db)
        .execute_schema(&factory, "SELECT count(*) FROM strav_migrations")
        .fetch_scalar()
        .await
        .unwrap();
    assert_eq!(n, 1);
    let err = m.migrate_domain("Bad Domain", 1).await.unwrap_err();
    assert!(matches!(err, Error::InvalidDomain { .. }), "{err}");
}

#[tokio::test]
async fn schema_manager_onboards_and_migrates_with_embedded_files() {
    let t = TestDb::new().await;
    let db = t.database(3).await;
    let embedded = strav_orm::embed_migrations!("fixtures/migrations").unwrap();
    assert_eq!(embedded.domain("tenant").len(), 2);
    let from_disk =
        Migrations::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/migrations")).unwrap();
    assert_eq!(embedded, from_disk);

    let sm = SchemaManager::new(&db).with_migrations(embedded);
    let report = sm
        .create_migrated_schema("onboarded", "tenant")
        .await
        .unwrap();
    assert_eq!(
        versions_of(&report.outcome),
        [20260101000000, 20260102000000]
    );
    let total: i64 = with_schema("onboarded", async {
        db.sql("INSERT INTO orders (note) VALUES ('x') RETURNING total::bigint")
            .fetch_scalar()
            .await
    })
    .await
    .unwrap();
    assert_eq!(total, 0);

    sm.create_schema("plain", "tenant").await.unwrap();
    let all = sm.migrate_all_schemas().await.unwrap();
    let migrated: Vec<&str> = all.migrated().map(|s| s.schema.as_str()).collect();
    assert_eq!(migrated, ["plain"]);
    assert_eq!(all.current().count(), 1);

    let back = sm
        .rollback_schema("plain", RollbackTo::LastBatch)
        .await
        .unwrap();
    assert_eq!(versions_of(&back.outcome), [20260102000000, 20260101000000]);
    assert!(versions(&db, "plain").await.is_empty());

    let err = SchemaManager::new(&db)
        .migrate_schema("plain")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("with_migrations"), "{err}");
}

/// Past a thousand schemas the status read takes another query (every
/// tracking table's schema, filtered in the client) and reads them in
/// chunks on several connections at once: still exact, schema by schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_over_more_than_a_thousand_schemas_is_exact_for_each() {
    let t = TestDb::new().await;
    let mut config = t.config(4);
    // Low enough that the chunked reads retire connections on the way.
    config.pool.max_tenants_per_connection = 300;
    let db = Database::connect_with(config).await.unwrap();
    let names: Vec<String> = (0..1_030).map(|i| format!("many_{i:04}")).collect();
    let mut script = String::new();
    for n in &names {
        script.push_str(&format!("CREATE SCHEMA {n};"));
    }
    let mut raw = t.raw().await;
    strav_orm::sqlx::raw_sql(strav_orm::sqlx::AssertSqlSafe(script))
        .execute(&mut raw)
        .await
        .unwrap();
    SchemaManager::new(&db).ensure_registry().await.unwrap();
    strav_orm::sqlx::raw_sql(
        "INSERT INTO public.strav_schemas (name, domain)
         SELECT nspname, 'tenant' FROM pg_namespace WHERE nspname LIKE 'many\\_%'",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    let m = Migrator::new(&db, set(&[]));
    let report = m.migrate_domain("tenant", 4).await.unwrap();
    assert!(report.is_success());
    assert_eq!(report.migrated().count(), names.len());

    // One schema loses its record, one has its file's checksum changed
    // under it, one loses its tracking table; the rest stay current.
    strav_orm::sqlx::raw_sql(
        "DELETE FROM many_0007.strav_migrations;
         UPDATE many_0500.strav_migrations SET checksum = 'edited';
         DROP TABLE many_1029.strav_migrations",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    let status = m.status("tenant").await.unwrap();
    assert_eq!(status.len(), names.len());
    for st in &status {
        match st.schema.as_str() {
            "many_0007" | "many_1029" => {
                assert_eq!(st.pending, [20260101000000], "{st:?}");
                assert!(st.applied.is_empty(), "{st:?}");
            }
            "many_0500" => assert_eq!(st.drift.len(), 1, "{st:?}"),
            _ => {
                assert_eq!(st.applied, [20260101000000], "{st:?}");
                assert!(st.pending.is_empty() && st.drift.is_empty(), "{st:?}");
            }
        }
    }
}
