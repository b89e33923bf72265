//! 200 clients over 50 tenants, each writing and reading its own orders
//! through the app, some hanging up mid-request: no row is seen or written
//! in a wrong tenant, and every acknowledged write is in its own tenant.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use saas::routes::orders::OrderView;
use strav_orm::sqlx::AssertSqlSafe;

use crate::support::{get, host_of, post, Client, Running};

const TENANTS: usize = 50;
const CLIENTS: usize = 200;
const ROUNDS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_clients_over_fifty_tenants_stay_in_their_tenant() {
    let run = Running::start(false, 16).await;
    let tenants: Vec<String> = (0..TENANTS).map(|i| format!("iso_{i:02}")).collect();
    run.onboard(&tenants).await;
    let tenants = Arc::new(tenants);

    let clients = (0..CLIENTS).map(|c| {
        let tenants = tenants.clone();
        let addr = run.addr;
        tokio::spawn(async move {
            let tenant = &tenants[c % TENANTS];
            let host = host_of(tenant);
            let mut rng = rand::rngs::StdRng::seed_from_u64(c as u64);
            let mut client = Client::connect(addr).await;
            let mut acknowledged = Vec::new();
            for round in 0..ROUNDS {
                let customer = format!("{tenant}/c{c}/r{round}");
                let body =
                    serde_json::json!({ "customer": customer, "total_cents": 100 }).to_string();
                if rng.random_bool(0.15) {
                    // Hang up mid-request: send it on a connection of its own
                    // and drop that connection after a moment, answered or not.
                    let mut doomed = Client::connect(addr).await;
                    let wait = Duration::from_micros(rng.random_range(0..3000));
                    let _ = tokio::time::timeout(wait, doomed.send(post("/orders", &host, &body)))
                        .await;
                    continue;
                }
                let (status, text) = client.send(post("/orders", &host, &body)).await;
                assert_eq!(status, 201, "{tenant}: {text}");
                let order: OrderView = serde_json::from_str(&text).unwrap();
                assert_eq!(order.tenant, *tenant);
                acknowledged.push((order.id, customer));

                let (status, text) = client.send(get("/orders", &host)).await;
                assert_eq!(status, 200, "{text}");
                let seen: Vec<OrderView> = serde_json::from_str(&text).unwrap();
                for order in &seen {
                    assert_eq!(order.tenant, *tenant, "served by another tenant");
                    assert!(
                        order.customer.starts_with(&format!("{tenant}/")),
                        "{tenant} saw {}'s row",
                        order.customer
                    );
                }
                let (id, _) = acknowledged[rng.random_range(0..acknowledged.len())].clone();
                let (status, text) = client.send(get(&format!("/orders/{id}"), &host)).await;
                assert_eq!(status, 200, "{text}");
                let order: OrderView = serde_json::from_str(&text).unwrap();
                assert!(order.customer.starts_with(&format!("{tenant}/")));
            }
            (tenant.clone(), acknowledged)
        })
    });
    let results = futures_util::future::join_all(clients).await;

    // What PostgreSQL holds, read outside the app.
    let mut raw = run.db.raw().await;
    let mut stored: HashMap<String, HashSet<(i64, String)>> = HashMap::new();
    for tenant in tenants.iter() {
        let rows: Vec<(i64, String)> = strav_orm::sqlx::query_as(AssertSqlSafe(format!(
            "SELECT id, customer FROM \"{tenant}\".orders"
        )))
        .fetch_all(&mut raw)
        .await
        .unwrap();
        for (_, customer) in &rows {
            assert!(
                customer.starts_with(&format!("{tenant}/")),
                "row {customer} written into {tenant}"
            );
        }
        stored.insert(tenant.clone(), rows.into_iter().collect());
    }
    let mut acknowledged = 0;
    for result in results {
        let (tenant, writes) = result.expect("client task");
        for write in writes {
            assert!(
                stored[&tenant].contains(&write),
                "acknowledged {write:?} missing from {tenant}"
            );
            acknowledged += 1;
        }
    }
    assert!(
        acknowledged >= CLIENTS * ROUNDS / 2,
        "only {acknowledged} writes acknowledged"
    );
}
