//! The registry's summary of each schema's applied migrations: a run with
//! nothing to do reads it instead of every tracking table, and it never
//! says a schema is current when its tracking table says otherwise.

use std::time::Duration;

use sqlx::{Connection, Executor};
use strav_orm::migrate::{Outcome, SchemaStatus};
use strav_orm::{Database, Migrations, Migrator, RollbackTo, SchemaIdent, SchemaManager};
use strav_tests::TestDb;

const A: &str = "CREATE TABLE orders (id bigserial PRIMARY KEY, note text)";
const A_DOWN: &str = "DROP TABLE orders";
const B: &str = "ALTER TABLE orders ADD COLUMN total int";
const B_DOWN: &str = "ALTER TABLE orders DROP COLUMN total";
const V_A: i64 = 20260101000000;
const V_B: i64 = 20260102000000;

fn files() -> Migrations {
    Migrations::from_embedded(&[
        ("tenant", "20260101000000_orders.up.sql", A),
        ("tenant", "20260101000000_orders.down.sql", A_DOWN),
        ("tenant", "20260102000000_total.up.sql", B),
        ("tenant", "20260102000000_total.down.sql", B_DOWN),
    ])
    .unwrap()
}

async fn onboard(db: &Database, names: &[&str]) -> Migrator {
    let sm = SchemaManager::new(db);
    for n in names {
        sm.create_schema(n, "tenant").await.unwrap();
    }
    let m = Migrator::new(db, files());
    let report = m.migrate_domain("tenant", 2).await.unwrap();
    assert_eq!(report.migrated().count(), names.len());
    m
}

fn status_of<'a>(all: &'a [SchemaStatus], schema: &str) -> &'a SchemaStatus {
    all.iter().find(|s| s.schema == schema).unwrap()
}

/// Holds an exclusive lock on `schema`'s tracking table until dropped: any
/// read of that table waits for it.
async fn lock_tracking_table(t: &TestDb, schema: &str) -> sqlx::PgConnection {
    let mut conn = t.raw().await;
    conn.execute("BEGIN").await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!(
        "LOCK TABLE {schema}.strav_migrations IN ACCESS EXCLUSIVE MODE"
    )))
    .await
    .unwrap();
    conn
}

#[tokio::test]
async fn a_run_with_nothing_to_do_reads_no_tracking_table() {
    let t = TestDb::new().await;
    let db = t.database(4).await;
    let m = onboard(&db, &["sum_a", "sum_b", "sum_c"]).await;
    // A clone arrives with its summary too.
    SchemaManager::new(&db)
        .clone_schema("sum_a", "sum_a_copy")
        .await
        .unwrap();

    let _held_a = lock_tracking_table(&t, "sum_b").await;
    let _held_b = lock_tracking_table(&t, "sum_a_copy").await;
    let report = tokio::time::timeout(Duration::from_secs(10), m.migrate_domain("tenant", 2))
        .await
        .expect("a no-op run waited on a tracking table: it read it")
        .unwrap();
    assert_eq!(report.current().count(), 4, "{report:?}");
    assert_eq!(report.batch, None);
    let status = tokio::time::timeout(Duration::from_secs(10), m.status("tenant"))
        .await
        .expect("status waited on a tracking table: it read it")
        .unwrap();
    for st in &status {
        assert_eq!(st.applied, [V_A, V_B], "{st:?}");
        assert!(st.pending.is_empty() && st.drift.is_empty(), "{st:?}");
    }
}

#[tokio::test]
async fn hand_made_changes_to_tracking_rows_are_never_hidden() {
    let t = TestDb::new().await;
    let db = t.database(4).await;
    let names = [
        "hand_del",
        "hand_sum",
        "hand_trunc",
        "hand_extra",
        "hand_remade",
        "hand_off",
        "hand_replica",
        "hand_ok",
    ];
    let m = onboard(&db, &names).await;
    let mut raw = t.raw().await;
    raw.execute(
        "DELETE FROM hand_del.strav_migrations WHERE version = 20260102000000;
         UPDATE hand_sum.strav_migrations SET checksum = 'edited';
         TRUNCATE hand_trunc.strav_migrations;
         INSERT INTO hand_extra.strav_migrations (version, name, checksum, batch)
             VALUES (20250101000000, 'gone', 'x', 1);
         -- Made again with one row and no trigger: only the oid can tell.
         ALTER TABLE hand_remade.strav_migrations RENAME TO old_tracking;
         CREATE TABLE hand_remade.strav_migrations (LIKE hand_remade.old_tracking INCLUDING ALL);
         INSERT INTO hand_remade.strav_migrations
             SELECT * FROM hand_remade.old_tracking WHERE version = 20260101000000;
         -- With the trigger off, the summary goes stale: it must not be used.
         ALTER TABLE hand_off.strav_migrations DISABLE TRIGGER strav_versions;
         DELETE FROM hand_off.strav_migrations WHERE version = 20260102000000;
         -- What pg_restore --disable-triggers and logical replication use.
         SET session_replication_role = replica;
         DELETE FROM hand_replica.strav_migrations WHERE version = 20260102000000;
         RESET session_replication_role;",
    )
    .await
    .unwrap();

    let status = m.status("tenant").await.unwrap();
    assert_eq!(status_of(&status, "hand_del").pending, [V_B]);
    assert_eq!(status_of(&status, "hand_sum").drift.len(), 2);
    assert_eq!(status_of(&status, "hand_trunc").pending, [V_A, V_B]);
    assert_eq!(status_of(&status, "hand_extra").unknown, [20250101000000]);
    assert!(status_of(&status, "hand_extra").pending.is_empty());
    assert_eq!(status_of(&status, "hand_remade").pending, [V_B]);
    assert_eq!(status_of(&status, "hand_off").pending, [V_B]);
    assert_eq!(status_of(&status, "hand_replica").pending, [V_B]);
    let ok = status_of(&status, "hand_ok");
    assert_eq!(ok.applied, [V_A, V_B]);
    assert!(ok.pending.is_empty() && ok.drift.is_empty() && ok.unknown.is_empty());

    // The runner acts on the truth: it applies what a hand-made DELETE
    // removed (the column is dropped first, so the migration can run again).
    raw.execute("ALTER TABLE hand_del.orders DROP COLUMN total")
        .await
        .unwrap();
    let report = m.migrate_domain("tenant", 2).await.unwrap();
    let del = report
        .schemas
        .iter()
        .find(|s| s.schema == "hand_del")
        .unwrap();
    assert_eq!(
        del.outcome,
        Outcome::Migrated {
            versions: vec![V_B]
        }
    );
    // A checksum edited to something short is reported, not a panic.
    let sum = report
        .schemas
        .iter()
        .find(|s| s.schema == "hand_sum")
        .unwrap();
    match &sum.outcome {
        Outcome::Failed { error, .. } => {
            assert!(
                error.contains("drift") && error.contains("applied edited"),
                "{error}"
            )
        }
        other => panic!("{other:?}"),
    }
    raw.close().await.unwrap();
}

#[tokio::test]
async fn a_rollback_and_a_deletion_update_the_summary() {
    let t = TestDb::new().await;
    let db = t.database(4).await;
    let m = onboard(&db, &["back_a", "back_b"]).await;
    let back_a = SchemaIdent::new("back_a").unwrap();
    let r = m
        .rollback_schema(&back_a, "tenant", RollbackTo::LastBatch)
        .await
        .unwrap();
    assert!(matches!(r.outcome, Outcome::Migrated { .. }), "{r:?}");
    let status = m.status("tenant").await.unwrap();
    assert_eq!(status_of(&status, "back_a").pending, [V_A, V_B]);
    assert!(status_of(&status, "back_b").pending.is_empty());

    SchemaManager::new(&db)
        .delete_schema("back_b")
        .await
        .unwrap();
    let mut raw = t.raw().await;
    let left: Vec<String> =
        sqlx::query_scalar("SELECT name FROM public.strav_schema_versions ORDER BY name")
            .fetch_all(&mut raw)
            .await
            .unwrap();
    assert_eq!(left, ["back_a"]);
}

#[tokio::test]
async fn a_registry_from_before_the_summary_is_read_exactly_then_upgraded() {
    let t = TestDb::new().await;
    {
        let db = t.database(2).await;
        onboard(&db, &["old_a", "old_b"]).await;
    }
    // What an older Strav left: no summary table, functions or triggers.
    let mut raw = t.raw().await;
    raw.execute(
        "DROP TABLE public.strav_schema_versions;
         DROP FUNCTION public.strav_versions_changed() CASCADE;
         DROP FUNCTION public.strav_track_versions(text);
         DROP FUNCTION public.strav_note_versions(text);
         DELETE FROM old_a.strav_migrations WHERE version = 20260102000000;
         ALTER TABLE old_a.orders DROP COLUMN total;",
    )
    .await
    .unwrap();

    let db = t.database(2).await;
    let m = Migrator::new(&db, files());
    let status = m.status("tenant").await.unwrap();
    assert_eq!(status_of(&status, "old_a").pending, [V_B]);
    assert!(status_of(&status, "old_b").pending.is_empty());
    // Migrating brings the registry up to date and summarizes old_a.
    let report = m.migrate_domain("tenant", 2).await.unwrap();
    assert_eq!(report.migrated().count(), 1, "{report:?}");
    let _held = lock_tracking_table(&t, "old_a").await;
    let report = tokio::time::timeout(Duration::from_secs(10), m.migrate_domain("tenant", 2))
        .await
        .expect("old_a has a summary after its migration")
        .unwrap();
    assert_eq!(report.current().count(), 2);
}
