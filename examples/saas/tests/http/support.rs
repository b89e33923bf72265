//! Starting the app on a database of its own, and talking HTTP to it.

use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use saas::{App, Settings};
use strav_tests::TestDb;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// The base domain tenants are subdomains of in these tests.
pub const BASE: &str = "saas.test";

/// An app serving on a loopback port, on a database of its own.
pub struct Running {
    pub app: App,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    // Dropped last: the database goes after the app that uses it.
    pub db: TestDb,
}

impl Running {
    /// Starts the app (tenant header on or off) with a pool of `connections`.
    pub async fn start(tenant_header: bool, connections: usize) -> Running {
        Running::start_with(tenant_header, connections, |router| router).await
    }

    /// Starts it with the router wrapped by `wrap` (the hostile test adds a
    /// span to every request, to tell its statements from the others').
    pub async fn start_with(
        tenant_header: bool,
        connections: usize,
        wrap: impl FnOnce(axum::Router) -> axum::Router,
    ) -> Running {
        capture::install();
        let db = TestDb::new().await;
        let settings = Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            base_domain: BASE.into(),
            tenant_header,
            database: db.config(connections),
        };
        let app = App::start(&settings).await.expect("the app starts");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = wrap(app.router());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .ok();
        });
        Running {
            app,
            addr,
            stop: Some(stop),
            db,
        }
    }

    /// Onboards `names` through the admin route, 8 at a time.
    pub async fn onboard(&self, names: &[String]) {
        for chunk in names.chunks(8) {
            let calls = chunk.iter().map(|name| async move {
                let body = serde_json::json!({ "name": name }).to_string();
                let (status, text) =
                    send(self.addr, post("/admin/tenants", "admin.saas.test", &body)).await;
                assert_eq!(status, StatusCode::CREATED, "onboarding {name}: {text}");
            });
            futures_util::future::join_all(calls).await;
        }
    }

    /// Deletes tenant `name` through the admin route.
    pub async fn delete_tenant(&self, name: &str) {
        let request = Request::delete(format!("/admin/tenants/{name}"))
            .header("host", "admin.saas.test")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let (status, text) = send(self.addr, request).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "deleting {name}: {text}");
    }

    /// Places an order in `tenant` through the API.
    pub async fn place_order(&self, tenant: &str) {
        let body = r#"{"customer":"x","total_cents":1}"#;
        let (status, text) = send(self.addr, post("/orders", &host_of(tenant), body)).await;
        assert_eq!(status, StatusCode::CREATED, "{text}");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.app.state.db.close();
    }
}

/// `GET path` with `Host: host`.
pub fn get(path: &str, host: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header("host", host)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// `POST path` with a JSON body and `Host: host`.
pub fn post(path: &str, host: &str, json: &str) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("host", host)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(json.to_owned())))
        .unwrap()
}

/// The tenant's host under [`BASE`].
pub fn host_of(tenant: &str) -> String {
    format!("{tenant}.{BASE}")
}

/// One HTTP/1.1 connection to the app.
pub struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect to the app");
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP handshake");
        tokio::spawn(conn);
        Client { sender }
    }

    /// Sends `request` and reads the whole response.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> (StatusCode, String) {
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(request).await.expect("response");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

/// Sends one request on a connection of its own.
pub async fn send(addr: SocketAddr, request: Request<Full<Bytes>>) -> (StatusCode, String) {
    Client::connect(addr).await.send(request).await
}

/// Statements Strav ran, as its `strav::sql` events report them, for the
/// requests inside a span named `probe`.
pub mod capture {
    use super::*;
    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::registry::LookupSpan;
    use tracing_subscriber::Layer;

    static PROBED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static INSTALLED: OnceLock<()> = OnceLock::new();

    /// The schemas of statements run inside `probe` spans so far.
    pub fn probed_schemas() -> Vec<String> {
        PROBED.lock().unwrap().clone()
    }

    pub fn install() {
        INSTALLED.get_or_init(|| {
            let subscriber = tracing_subscriber::registry().with(Probe);
            tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        });
    }

    struct Probe;

    struct SchemaField(Option<String>);

    impl Visit for SchemaField {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "schema" {
                self.0 = Some(format!("{value:?}"));
            }
        }
    }

    impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Probe {
        fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
            if event.metadata().target() != "strav::sql" {
                return;
            }
            let probed = ctx
                .event_scope(event)
                .is_some_and(|mut scope| scope.any(|span| span.name() == "probe"));
            if !probed {
                return;
            }
            let mut schema = SchemaField(None);
            event.record(&mut schema);
            PROBED
                .lock()
                .unwrap()
                .push(schema.0.unwrap_or_else(|| "?".into()));
        }
    }
}
