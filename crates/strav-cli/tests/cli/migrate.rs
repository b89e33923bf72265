//! `strav migrate`, `rollback`, `migrate:all-schemas`, `migrate:status` and
//! `schema:create --migrate`: the real binary against a real PostgreSQL, one
//! database and one project directory per test.

use std::process::Stdio;
use std::time::Duration;

use strav_orm::{with_schema, Database, SchemaManager};
use strav_tests::TestDb;

use crate::support::{Project, Run};

/// A project whose `database/migrations/tenant/` holds `files`, runs
/// connecting to `t`.
fn project(t: &TestDb, files: &[(&str, &str)]) -> Project {
    Project::empty()
        .with_database_url(t.url())
        .with_migrations("tenant", files)
}

const ORDERS: (&str, &str) = (
    "20260101000000_create_orders.up.sql",
    "CREATE TABLE orders (id bigserial PRIMARY KEY, note text);",
);
const ORDERS_DOWN: (&str, &str) = (
    "20260101000000_create_orders.down.sql",
    "DROP TABLE orders;",
);
const TOTAL: (&str, &str) = (
    "20260102000000_add_total.up.sql",
    "ALTER TABLE orders ADD COLUMN total int NOT NULL DEFAULT 0;",
);
const TOTAL_DOWN: (&str, &str) = (
    "20260102000000_add_total.down.sql",
    "ALTER TABLE orders DROP COLUMN total;",
);

async fn tenants(db: &Database, names: &[String]) {
    let sm = SchemaManager::new(db);
    for n in names {
        sm.create_schema(n, "tenant").await.unwrap();
    }
}

async fn applied(db: &Database, schema: &str) -> Vec<i64> {
    with_schema(schema, async {
        db.sql("SELECT version FROM strav_migrations ORDER BY version")
            .fetch_all::<(i64,)>()
            .await
    })
    .await
    .map(|v| v.into_iter().map(|(x,)| x).collect())
    .unwrap_or_default()
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}_{i:03}")).collect()
}

#[tokio::test]
async fn migrate_dry_run_status_and_rollback() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    tenants(&db, &names("m", 2)).await;
    let p = project(&t, &[ORDERS, ORDERS_DOWN, TOTAL, TOTAL_DOWN]);

    let dry = p.strav(&["migrate", "--scope=tenant", "--dry-run"]).ok();
    assert!(
        dry.stdout.contains("m_000: would apply")
            && dry
                .stdout
                .contains("tenant/20260102000000_add_total.up.sql (in a transaction)"),
        "{dry:#?}"
    );
    assert!(
        dry.stdout.contains("ALTER TABLE orders ADD COLUMN total"),
        "prints the SQL: {dry:#?}"
    );
    assert_eq!(
        applied(&db, "m_000").await,
        Vec::<i64>::new(),
        "a dry run changes nothing"
    );

    let run = p.strav(&["migrate", "--scope=tenant"]).ok();
    assert!(
        run.stdout
            .contains("m_001: applied 20260101000000, 20260102000000"),
        "{run:#?}"
    );
    assert_eq!(
        applied(&db, "m_000").await,
        [20260101000000, 20260102000000]
    );

    let again = p.strav(&["migrate", "--scope=tenant"]);
    assert!(again.stdout.contains("m_000: nothing to do"), "{again:#?}");

    let v = p
        .strav(&["migrate:status", "--scope=tenant", "--json"])
        .json();
    assert_eq!(v[0]["pending"], serde_json::json!([]));
    assert_eq!(
        v[0]["applied"],
        serde_json::json!([20260101000000i64, 20260102000000i64])
    );

    // Drift is reported and stops migrate for the schema.
    p.write_migration(
        "tenant",
        TOTAL.0,
        "ALTER TABLE orders ADD COLUMN total bigint;",
    );
    let status = p.strav(&["migrate:status", "--scope=tenant"]);
    assert!(
        status
            .stdout
            .contains("DRIFT in tenant/20260102000000_add_total.up.sql"),
        "{status:#?}"
    );
    p.write_migration("tenant", TOTAL.0, TOTAL.1);

    p.strav(&["rollback", "--scope=tenant"]).ok();
    assert_eq!(
        applied(&db, "m_000").await,
        Vec::<i64>::new(),
        "one batch held both"
    );

    p.strav(&["rollback", "--scope=tenant", "--batch=0"])
        .exits(2);
    let unknown = p.strav(&["migrate", "--scope=billing"]).exits(2);
    assert!(
        unknown.stderr.contains("the domains found are: tenant"),
        "{unknown:#?}"
    );
}

#[tokio::test]
async fn all_schemas_reports_one_failure_and_a_rerun_migrates_only_it() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    let all = names("a", 6);
    tenants(&db, &all).await;
    with_schema("a_003", async {
        db.sql("CREATE TABLE orders (x int)").execute().await
    })
    .await
    .unwrap();
    let p = project(&t, &[ORDERS, TOTAL]);
    let run = p.strav(&["migrate:all-schemas", "--jobs", "3"]).exits(1);
    assert!(
        run.stdout.contains("a_003: FAILED") && run.stdout.contains("already exists"),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains("migrated 5, already current 0, failed 1"),
        "{run:#?}"
    );
    assert_eq!(applied(&db, "a_003").await, Vec::<i64>::new(), "untouched");
    assert!(
        run.stderr.contains("a_000: applied"),
        "plain progress lines off a terminal: {run:#?}"
    );

    with_schema("a_003", async {
        db.sql("DROP TABLE orders").execute().await
    })
    .await
    .unwrap();
    let rerun = p.strav(&["migrate:all-schemas"]).ok();
    assert!(
        rerun
            .stdout
            .contains("migrated 1, already current 5, failed 0"),
        "{rerun:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_at_once_apply_everything_exactly_once() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    let all = names("c", 12);
    tenants(&db, &all).await;
    let p = project(
        &t,
        &[
            ORDERS,
            (
                "20260103000000_slow.up.sql",
                "CREATE TABLE slow (x int); SELECT pg_sleep(0.01);",
            ),
        ],
    );
    let start = || {
        p.command(&["migrate:all-schemas", "--jobs", "3"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    Run::from(a.wait_with_output().unwrap()).ok();
    Run::from(b.wait_with_output().unwrap()).ok();
    for s in &all {
        assert_eq!(
            applied(&db, s).await,
            [20260101000000, 20260103000000],
            "{s}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_halfway_converges_on_the_next() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    let all = names("k", 30);
    tenants(&db, &all).await;
    let p = project(
        &t,
        &[
            ORDERS,
            (
                "20260103000000_slow.up.sql",
                "CREATE TABLE slow (x int); INSERT INTO slow VALUES (1); SELECT pg_sleep(0.05);",
            ),
            TOTAL,
        ],
    );
    let mut child = p
        .command(&["migrate:all-schemas", "--jobs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some, but not all, schemas are done.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let done = futures_util::future::join_all(all.iter().map(|s| applied(&db, s))).await;
        let finished = done.iter().filter(|v| v.len() == 3).count();
        if finished >= 3 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut partial = 0;
    for s in &all {
        let v = applied(&db, s).await;
        if v.len() < 3 {
            partial += 1;
        }
        // Whatever was recorded is whole: each recorded migration's objects exist once.
        if v.contains(&20260103000000) {
            let n: i64 = with_schema(s, async {
                db.sql("SELECT count(*) FROM slow").fetch_scalar().await
            })
            .await
            .unwrap();
            assert_eq!(n, 1, "{s}");
        }
    }
    assert!(
        partial > 0,
        "the run finished before it was killed; the test lost its point"
    );

    p.strav(&["migrate:all-schemas"]).ok();
    for s in &all {
        assert_eq!(
            applied(&db, s).await,
            [20260101000000, 20260102000000, 20260103000000],
            "{s}"
        );
        let n: i64 = with_schema(s, async {
            db.sql("SELECT count(*) FROM slow").fetch_scalar().await
        })
        .await
        .unwrap();
        assert_eq!(n, 1, "{s}: the slow migration ran once");
    }
}

#[tokio::test]
async fn schema_create_migrate_onboards_a_tenant() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let p = project(&t, &[ORDERS, TOTAL]);
    let run = p.strav(&["schema:create", "acme", "--migrate"]).ok();
    assert!(
        run.stdout
            .contains("created schema acme (domain tenant) and applied 2 migration(s)"),
        "{run:#?}"
    );
    assert_eq!(applied(&db, "acme").await, [20260101000000, 20260102000000]);
    let missing = project(&t, &[]);
    let run = missing
        .strav(&["schema:create", "other", "--migrate"])
        .exits(2);
    assert!(run.stderr.contains("no migrations directory"), "{run:#?}");
}
