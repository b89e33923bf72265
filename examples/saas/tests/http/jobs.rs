//! Jobs run in the tenant that queued them, even with many tenants queueing
//! at once; a job of a deleted tenant fails cleanly; a job queued outside
//! any tenant runs outside any tenant.

use std::time::{Duration, Instant};

use saas::jobs::{ConfirmOrder, QUEUE};
use saas::routes::orders::OrderView;
use strav_orm::sqlx::{self, AssertSqlSafe};
use strav_orm::with_schema;
use strav_tower::jobs;

use crate::support::{host_of, post, Client, Running};

/// Waits until `query` (one boolean) is true on the test database, at most
/// `limit`.
async fn eventually(run: &Running, what: &str, query: String, limit: Duration) {
    let mut raw = run.db.raw().await;
    let start = Instant::now();
    loop {
        let done: bool = sqlx::query_scalar(AssertSqlSafe(query.clone()))
            .fetch_one(&mut raw)
            .await
            .unwrap();
        if done {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_in_the_tenant_that_queued_them() {
    let run = Running::start(false, 8).await;
    let tenants: Vec<String> = (0..12).map(|i| format!("job_{i:02}")).collect();
    run.onboard(&tenants).await;

    // Every tenant places orders at the same time.
    let placing = tenants.iter().map(|tenant| {
        let addr = run.addr;
        async move {
            let mut client = Client::connect(addr).await;
            for i in 0..5 {
                let body =
                    serde_json::json!({ "customer": format!("{tenant}/{i}"), "total_cents": i })
                        .to_string();
                let (status, text) = client.send(post("/orders", &host_of(tenant), &body)).await;
                assert_eq!(status, 201, "{text}");
                let order: OrderView = serde_json::from_str(&text).unwrap();
                assert_eq!(order.tenant, *tenant);
            }
        }
    });
    futures_util::future::join_all(placing).await;

    let all_confirmed = tenants
        .iter()
        .map(|t| format!("(SELECT count(*) FROM \"{t}\".order_events) = 5"))
        .collect::<Vec<_>>()
        .join(" AND ");
    eventually(
        &run,
        "every job",
        format!("SELECT {all_confirmed}"),
        Duration::from_secs(30),
    )
    .await;
    let mut raw = run.db.raw().await;
    for tenant in &tenants {
        let events: Vec<(String, String, String)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT o.customer, e.ran_in, o.status::text FROM \"{tenant}\".order_events e \
             JOIN \"{tenant}\".orders o ON o.id = e.order_id"
        )))
        .fetch_all(&mut raw)
        .await
        .unwrap();
        assert_eq!(events.len(), 5);
        for (customer, ran_in, status) in events {
            assert!(customer.starts_with(&format!("{tenant}/")));
            assert_eq!(ran_in, *tenant, "a job of {tenant} ran in {ran_in}");
            assert_eq!(status, "confirmed");
        }
    }
}

/// Queues a job the way a request would, `delay` from now, in `tenant`
/// (or none), on a plain connection.
async fn queue_job(run: &Running, tenant: Option<&str>, order_id: i64, delay: Duration) -> String {
    let args = serde_json::to_vec(&ConfirmOrder { order_id }).unwrap();
    let build = || {
        jobs::task(args.clone())
            .run_after(delay)
            .max_attempts(1)
            .build()
    };
    let task = match tenant {
        Some(t) => with_schema(t, async { Ok::<_, strav_orm::Error>(build()) })
            .await
            .unwrap(),
        None => build(),
    };
    let mut raw = run.db.raw().await;
    let before: Vec<String> = sqlx::query_scalar("SELECT id FROM apalis.jobs")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    apalis_postgres::queries::push_tasks(&mut raw, QUEUE, vec![task])
        .await
        .unwrap();
    let after: Vec<String> = sqlx::query_scalar("SELECT id FROM apalis.jobs")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    after
        .into_iter()
        .find(|id| !before.contains(id))
        .expect("the new job")
}

/// How the job ended. A job falls due at most a second after it was queued
/// (or its delay), and the worker looks every second: a job that takes much
/// longer waits on something it should not (apalis's 30 s heartbeat, once).
async fn job_outcome(run: &Running, id: &str) -> (String, String) {
    let query =
        format!("SELECT status IN ('Done', 'Failed', 'Killed') FROM apalis.jobs WHERE id = '{id}'");
    eventually(run, "the job's end", query, Duration::from_secs(10)).await;
    let mut raw = run.db.raw().await;
    sqlx::query_as("SELECT status, coalesce(last_result::text, '') FROM apalis.jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&mut raw)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_of_a_deleted_tenant_or_of_no_tenant_fail_cleanly() {
    let run = Running::start(false, 4).await;
    run.onboard(&["doomed".into()]).await;
    run.place_order("doomed").await;

    // Queued in `doomed`, due after the tenant is gone.
    let doomed = queue_job(&run, Some("doomed"), 1, Duration::from_secs(1)).await;
    run.delete_tenant("doomed").await;
    let (status, result) = job_outcome(&run, &doomed).await;
    assert_eq!(status, "Killed", "{result}");
    assert!(
        result.contains("job of tenant \\\"doomed\\\" not run") || result.contains("not run"),
        "{result}"
    );

    // Queued outside any tenant: it runs without one, and the per-tenant
    // model in it refuses to run.
    let orphan = queue_job(&run, None, 1, Duration::ZERO).await;
    let (status, result) = job_outcome(&run, &orphan).await;
    assert_eq!(status, "Failed", "{result}");
    assert!(result.contains("no schema context"), "{result}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_tenant_is_deleted_while_it_runs_ends_killed() {
    let run = Running::start(false, 4).await;
    run.onboard(&["vanishing".into()]).await;
    run.place_order("vanishing").await;

    // Hold the job at its first read of `orders`, drop the tenant under it,
    // then let it go: it fails on a table that no longer exists.
    let mut blocker = run.db.raw().await;
    sqlx::raw_sql("BEGIN; LOCK TABLE vanishing.orders IN ACCESS EXCLUSIVE MODE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let id = queue_job(&run, Some("vanishing"), 1, Duration::ZERO).await;
    eventually(
        &run,
        "the job waiting on the lock",
        "SELECT EXISTS (SELECT FROM pg_locks WHERE NOT granted \
         AND relation = 'vanishing.orders'::regclass)"
            .into(),
        Duration::from_secs(10),
    )
    .await;
    sqlx::raw_sql(
        "DROP SCHEMA vanishing CASCADE; \
         DELETE FROM public.strav_schemas WHERE name = 'vanishing'; COMMIT",
    )
    .execute(&mut blocker)
    .await
    .unwrap();

    let (status, result) = job_outcome(&run, &id).await;
    assert_eq!(status, "Killed", "{result}");
    assert!(result.contains("not run"), "{result}");
}
