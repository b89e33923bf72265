//! Admin routes run outside every tenant, whatever host or header asks.

use saas::routes::orders::OrderView;

use crate::support::{get, host_of, post, send, Running};

#[tokio::test]
async fn admin_routes_cannot_be_steered_into_a_tenant() {
    let run = Running::start(true, 4).await;
    run.onboard(&["acme".into(), "globex".into()]).await;
    let steer = [
        get("/admin/tenants", &host_of("acme")),
        {
            let mut r = get("/admin/tenants", "127.0.0.1");
            r.headers_mut()
                .insert("x-tenant-id", "acme".parse().unwrap());
            r
        },
        {
            let mut r = get("/admin/tenants", &host_of("globex"));
            r.headers_mut()
                .insert("x-tenant-id", "acme".parse().unwrap());
            r
        },
    ];
    for request in steer {
        let (status, body) = send(run.addr, request).await;
        assert_eq!(status, 200, "{body}");
        let listing: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(listing["ran_in_tenant"], serde_json::Value::Null, "{body}");
        let names: Vec<&str> = listing["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["schema"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["acme", "globex"],
            "the listing is not filtered by a tenant"
        );
    }

    // Onboarding from a tenant's host creates a tenant, not something inside acme.
    let (status, body) = send(
        run.addr,
        post("/admin/tenants", &host_of("acme"), r#"{"name":"initech"}"#),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(run.addr, get("/orders", &host_of("initech"))).await;
    assert_eq!(status, 200, "{body}");
    let orders: Vec<OrderView> = serde_json::from_str(&body).unwrap();
    assert!(orders.is_empty());

    // Without a tenant, tenant routes are refused by the guard.
    let (status, body) = send(run.addr, get("/orders", "127.0.0.1")).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("tenant_required"), "{body}");
}
