//! Hostile hosts and tenant names: each gets a clear 4xx, never a 5xx, and
//! runs no statement in any tenant schema.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::Request;
use tracing::Instrument;

use crate::support::{capture, get, host_of, send, Running, BASE};

fn with_headers(host: Option<&str>, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut request = get("/orders", host.unwrap_or("placeholder"));
    if host.is_none() {
        request.headers_mut().remove("host");
    }
    for (name, value) in headers {
        request.headers_mut().append(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            value.parse().expect("a header value"),
        );
    }
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_hosts_and_names_get_a_clear_4xx_and_reach_no_tenant() {
    // Every request to this app runs inside a `probe` span.
    let run = Running::start_with(true, 4, |router| {
        router.layer(axum::middleware::from_fn(
            |request: axum::extract::Request, next: axum::middleware::Next| {
                next.run(request).instrument(tracing::info_span!("probe"))
            },
        ))
    })
    .await;
    run.onboard(&["acme".into(), "gone".into()]).await;
    let (status, _) = send(
        run.addr,
        Request::delete("/admin/tenants/gone")
            .header("host", "admin.saas.test")
            .body(Full::new(Bytes::new()))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    let before = capture::probed_schemas().len();

    let long_label = "a".repeat(300);
    let hosts: Vec<String> = vec![
        "evil.com".into(),
        format!("acme.{BASE}.evil.com"),
        format!("ACME.{BASE}"),
        format!("a;drop.{BASE}"),
        format!("xn--80ak6aa92e.{BASE}"),
        format!("{long_label}.{BASE}"),
        format!(".{BASE}"),
        format!("a.acme.{BASE}"),
        format!("acme.{BASE}:99999"),
        format!("acme.{BASE}:http"),
        format!("user@acme.{BASE}"),
        format!("public.{BASE}"),
        format!("pg_catalog.{BASE}"),
        format!("information_schema.{BASE}"),
        format!("gone.{BASE}"),
        BASE.into(),
        format!("www.{BASE}"),
        "".into(),
    ];
    let mut requests: Vec<(String, Request<Full<Bytes>>)> = hosts
        .iter()
        .map(|h| (format!("Host: {h:?}"), with_headers(Some(h), &[])))
        .collect();
    let acme = host_of("acme");
    requests.push((
        "two Host headers".into(),
        with_headers(Some(&acme), &[("host", "globex.saas.test")]),
    ));
    for name in [
        "public",
        "pg_catalog",
        "information_schema",
        "t_a,public",
        "gone",
        "",
        "ACME",
        "acme;drop",
    ] {
        requests.push((
            format!("X-Tenant-ID: {name:?}"),
            with_headers(Some("127.0.0.1"), &[("x-tenant-id", name)]),
        ));
    }
    requests.push((
        "two X-Tenant-ID headers".into(),
        with_headers(
            Some("127.0.0.1"),
            &[("x-tenant-id", "acme"), ("x-tenant-id", "acme")],
        ),
    ));

    for (what, request) in requests {
        let (status, body) = send(run.addr, request).await;
        assert!(status.is_client_error(), "{what}: {status} {body}");
        if status != 400 {
            // Refusals are JSON that says why.
            let json: serde_json::Value =
                serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {body}"));
            assert!(json["error"].is_string(), "{what}: {body}");
        }
    }
    let hostile = capture::probed_schemas()[before..].to_vec();
    assert!(
        hostile.iter().all(|schema| schema == "public"),
        "hostile requests ran statements in {hostile:?}"
    );

    // A port on a real tenant's host is fine, and its statements do run in
    // that tenant: the capture sees them.
    let (status, body) = send(run.addr, get("/orders", &format!("acme.{BASE}:8080"))).await;
    assert_eq!(status, 200, "{body}");
    assert!(capture::probed_schemas().iter().any(|s| s == "acme"));
}
