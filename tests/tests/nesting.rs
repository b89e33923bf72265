//! The futures Strav returns stay small, so scopes nest deeply on tokio's
//! default 2 MiB worker stack even in a debug build. Its own test binary:
//! a stack overflow aborts the whole process.

// Sixteen nested async blocks are deep types for the compiler.
#![recursion_limit = "512"]

use std::mem::size_of_val;

use strav_orm::{with_schema, without_schema, Database, Error};
use strav_tests::fixtures::marker_tenants;
use strav_tests::TestDb;

async fn marker(db: &Database) -> Result<String, Error> {
    db.sql("SELECT tenant FROM marker").fetch_scalar().await
}

/// Sixteen scopes, each running a statement before entering the next.
macro_rules! nest {
    ($db:expr, $t:expr;) => {
        marker($db)
    };
    ($db:expr, $t:expr; $head:tt $($rest:tt)*) => {
        with_schema($t, async {
            let here = marker($db).await?;
            let inner = nest!($db, $t; $($rest)*).await?;
            assert_eq!(here, inner);
            Ok::<_, Error>(inner)
        })
    };
}

#[test]
fn sixteen_nested_scopes_fit_a_default_worker_stack() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (t, db, tenant) = runtime.block_on(async {
        let t = TestDb::new().await;
        let db = t.database(2).await;
        let tenant = marker_tenants(&db, 1).await.remove(0);
        (t, db, tenant)
    });
    let task = {
        let db = db.clone();
        let tenant = tenant.clone();
        async move { nest!(&db, &tenant; 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16).await }
    };
    // Spawned, so it runs on a worker thread with tokio's default stack.
    let seen = runtime
        .block_on(async { tokio::spawn(task).await })
        .unwrap()
        .unwrap();
    assert_eq!(seen, tenant);
    drop(db);
    drop(t);
}

#[test]
fn sizes_of_the_futures_strav_returns() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let t = TestDb::new().await;
        let db = t.database(1).await;
        let statement = db.sql("SELECT 1").fetch_scalar::<i32>();
        // A future holding 4 KiB across an await: a wrapper that kept a
        // second copy of it would show.
        let inner = async {
            let buf = [1u8; 4096];
            tokio::task::yield_now().await;
            Ok::<_, Error>(buf.iter().map(|&b| u64::from(b)).sum::<u64>())
        };
        let inner_size = size_of_val(&inner);
        let scoped = with_schema("t_x", inner);
        let bypass = without_schema(async {});
        let tx = db.transaction(async move |tx| tx.sql("SELECT 1").execute().await);
        println!(
            "future sizes ({} build): statement {} B, with_schema {} B over its future, \
             without_schema {} B, transaction {} B",
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            size_of_val(&statement),
            size_of_val(&scoped) - inner_size,
            size_of_val(&bypass),
            size_of_val(&tx),
        );
        // A scope adds a few words, never a copy of what it wraps.
        assert!(size_of_val(&scoped) - inner_size <= 256);
        assert!(size_of_val(&statement) <= 4096);
        drop((statement, scoped, bypass, tx));
    });
}
