//! Everything hostile at once, directly against PostgreSQL: the randomized
//! workload of `strav_tests::stress` on pools of 1 and 4, in both routing
//! modes. (`pgbouncer.rs` runs it through a real PgBouncer.)

use strav_orm::RoutingMode;
use strav_tests::{stress, TestDb};

async fn run(pool: usize, routing: RoutingMode) {
    let t = TestDb::new().await;
    let mut config = t.config(pool);
    config.multi_tenant.routing = routing;
    stress::run(&t, config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_routing_pool_of_one() {
    run(1, RoutingMode::Session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_routing_pool_of_four() {
    run(4, RoutingMode::Session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_routing_pool_of_one() {
    run(1, RoutingMode::Transaction).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_routing_pool_of_four() {
    run(4, RoutingMode::Transaction).await;
}
