//! A body streamed after the handler returned still queries in the
//! request's tenant.

use saas::models::{NewTenantOrder, TenantOrder};
use saas::routes::orders::OrderView;
use strav_orm::with_schema;

use crate::support::{get, host_of, send, Running};

#[tokio::test]
async fn streamed_pages_are_read_in_the_requests_tenant() {
    let run = Running::start(false, 4).await;
    run.onboard(&["acme".into(), "globex".into()]).await;
    let db = &run.app.state.db;
    for (tenant, n) in [("acme", 60), ("globex", 7)] {
        with_schema(tenant, async {
            for i in 0..n {
                TenantOrder::create(
                    db,
                    NewTenantOrder {
                        customer: format!("{tenant}/{i}"),
                        total_cents: i,
                        ..Default::default()
                    },
                )
                .await?;
            }
            Ok::<_, strav_orm::Error>(())
        })
        .await
        .unwrap();
    }
    for (tenant, n) in [("acme", 60), ("globex", 7)] {
        let (status, body) = send(run.addr, get("/orders/export", &host_of(tenant))).await;
        assert_eq!(status, 200);
        let orders: Vec<OrderView> = body
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?} in {body}")))
            .collect();
        // 60 orders are three pages of 25, each queried while streaming.
        assert_eq!(orders.len(), n, "{body}");
        for order in orders {
            assert_eq!(order.tenant, tenant, "the stream ran outside the tenant");
            assert!(order.customer.starts_with(&format!("{tenant}/")));
        }
    }
}
