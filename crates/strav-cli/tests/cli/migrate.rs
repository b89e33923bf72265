//! `strav migrate`, `rollback`, `migrate:all-schemas`, `migrate:status` and
//! `schema:create --migrate`: the real binary against a real PostgreSQL, one
//! database and one project directory per test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use strav_orm::{with_schema, Database, SchemaManager};
use strav_tests::TestDb;

/// A project directory with `database/migrations/tenant/`, removed on drop.
struct Project(PathBuf);

impl Project {
    fn new(files: &[(&str, &str)]) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "strav-migrate-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let p = Project(dir);
        for (name, text) in files {
            p.write(name, text);
        }
        p
    }

    fn write(&self, name: &str, text: &str) {
        let path = self.0.join("database/migrations/tenant").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn strav(&self, db: &TestDb, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_strav"));
        c.args(args)
            .current_dir(&self.0)
            .env("DATABASE_URL", db.url())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, db: &TestDb, args: &[&str]) -> Output {
        self.strav(db, args).output().expect("run strav")
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
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
    let p = Project::new(&[ORDERS, ORDERS_DOWN, TOTAL, TOTAL_DOWN]);

    let dry = p.run(&t, &["migrate", "--scope=tenant", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(
        out.contains("m_000: would apply")
            && out.contains("tenant/20260102000000_add_total.up.sql (in a transaction)"),
        "{out}"
    );
    assert!(
        out.contains("ALTER TABLE orders ADD COLUMN total"),
        "prints the SQL: {out}"
    );
    assert_eq!(
        applied(&db, "m_000").await,
        Vec::<i64>::new(),
        "a dry run changes nothing"
    );

    let run = p.run(&t, &["migrate", "--scope=tenant"]);
    assert!(run.status.success(), "{}", text(&run));
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        out.contains("m_001: applied 20260101000000, 20260102000000"),
        "{out}"
    );
    assert_eq!(
        applied(&db, "m_000").await,
        [20260101000000, 20260102000000]
    );

    let again = p.run(&t, &["migrate", "--scope=tenant"]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("m_000: nothing to do"),
        "{}",
        text(&again)
    );

    let status = p.run(&t, &["migrate:status", "--scope=tenant", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v[0]["pending"], serde_json::json!([]));
    assert_eq!(
        v[0]["applied"],
        serde_json::json!([20260101000000i64, 20260102000000i64])
    );

    // Drift is reported and stops migrate for the schema.
    p.write(TOTAL.0, "ALTER TABLE orders ADD COLUMN total bigint;");
    let status = p.run(&t, &["migrate:status", "--scope=tenant"]);
    assert!(
        String::from_utf8_lossy(&status.stdout)
            .contains("DRIFT in tenant/20260102000000_add_total.up.sql"),
        "{}",
        text(&status)
    );
    p.write(TOTAL.0, TOTAL.1);

    let back = p.run(&t, &["rollback", "--scope=tenant"]);
    assert!(back.status.success(), "{}", text(&back));
    assert_eq!(
        applied(&db, "m_000").await,
        Vec::<i64>::new(),
        "one batch held both"
    );

    let bad = p.run(&t, &["rollback", "--scope=tenant", "--batch=0"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    let unknown = p.run(&t, &["migrate", "--scope=billing"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("the domains found are: tenant"),
        "{}",
        text(&unknown)
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
    let p = Project::new(&[ORDERS, TOTAL]);
    let run = p.run(&t, &["migrate:all-schemas", "--jobs", "3"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        out.contains("a_003: FAILED") && out.contains("already exists"),
        "{out}"
    );
    assert!(
        out.contains("migrated 5, already current 0, failed 1"),
        "{out}"
    );
    assert_eq!(applied(&db, "a_003").await, Vec::<i64>::new(), "untouched");
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("a_000: applied"),
        "plain progress lines off a terminal: {}",
        text(&run)
    );

    with_schema("a_003", async {
        db.sql("DROP TABLE orders").execute().await
    })
    .await
    .unwrap();
    let rerun = p.run(&t, &["migrate:all-schemas"]);
    assert!(rerun.status.success(), "{}", text(&rerun));
    assert!(
        String::from_utf8_lossy(&rerun.stdout).contains("migrated 1, already current 5, failed 0"),
        "{}",
        text(&rerun)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_at_once_apply_everything_exactly_once() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    let all = names("c", 12);
    tenants(&db, &all).await;
    let p = Project::new(&[
        ORDERS,
        (
            "20260103000000_slow.up.sql",
            "CREATE TABLE slow (x int); SELECT pg_sleep(0.01);",
        ),
    ]);
    let a = p
        .strav(&t, &["migrate:all-schemas", "--jobs", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let b = p
        .strav(&t, &["migrate:all-schemas", "--jobs", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", text(&a));
    assert!(b.status.success(), "{}", text(&b));
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
    let p = Project::new(&[
        ORDERS,
        (
            "20260103000000_slow.up.sql",
            "CREATE TABLE slow (x int); INSERT INTO slow VALUES (1); SELECT pg_sleep(0.05);",
        ),
        TOTAL,
    ]);
    let mut child = p
        .strav(&t, &["migrate:all-schemas", "--jobs", "2"])
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

    let rerun = p.run(&t, &["migrate:all-schemas"]);
    assert!(rerun.status.success(), "{}", text(&rerun));
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
    let p = Project::new(&[ORDERS, TOTAL]);
    let run = p.run(&t, &["schema:create", "acme", "--migrate"]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(
        String::from_utf8_lossy(&run.stdout)
            .contains("created schema acme (domain tenant) and applied 2 migration(s)"),
        "{}",
        text(&run)
    );
    assert_eq!(applied(&db, "acme").await, [20260101000000, 20260102000000]);
    let missing = Project::new(&[]);
    std::fs::create_dir_all(missing.path()).unwrap();
    let run = missing.run(&t, &["schema:create", "other", "--migrate"]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("no migrations directory"),
        "{}",
        text(&run)
    );
}
