//! `http`: requests per second for `GET /orders/{id}` through Strav's tenant
//! layer (tenant from the subdomain, validation cached, a model lookup)
//! against the same axum handler written by hand with plain sqlx and
//! schema-qualified SQL, over 1,000 tenants. Client and both servers run in
//! this process, over loopback; PostgreSQL on the same machine.
//!
//! It also counts what a cached request costs Strav: `strav::sql` events
//! (statements, and `search_path` switches) and registry lookups per request
//! while a fixed number of requests runs after the measurement.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rand::Rng;
use serde_json::json;
use sqlx::postgres::PgPool;
use sqlx::AssertSqlSafe;
use strav_orm::{Database, SchemaManager};
use strav_tower::{Subdomain, TenantDirectory, TenantLayer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tracing::subscriber::Interest;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

use crate::fixture::{create_order_tenants, raw_pool};
use crate::scratch::{BoxError, ScratchDb};
use crate::workload::{measure_workloads, LookupArgs, Step};

/// The tenants, workers and pool shared with the lookup benchmarks.
pub type Args = LookupArgs;

const BASE: &str = "bench.test";
/// Requests run while counting statements.
const COUNTED: u64 = 2000;

/// The model the Strav handler reads, as codegen would emit it.
#[derive(Debug, Clone, strav_orm::Model)]
#[strav(table = "orders", domain = "tenant")]
struct TenantOrder {
    #[strav(primary_key)]
    id: i64,
    total: i64,
    status: String,
}

#[derive(serde::Serialize)]
struct OrderJson {
    id: i64,
    total: i64,
    status: String,
}

pub async fn run(args: Args) -> Result<String, BoxError> {
    let counter = Counter::install();
    let scratch = ScratchDb::create("http").await?;
    let result = measure(&args, &scratch, counter).await;
    scratch.drop_now().await?;
    result
}

async fn measure(
    args: &Args,
    scratch: &ScratchDb,
    counter: &'static Counter,
) -> Result<String, BoxError> {
    let tenants: Vec<String> = (0..args.tenants).map(|i| format!("t_{i:05}")).collect();
    create_order_tenants(scratch, &tenants, args.rows).await?;

    let mut config = scratch.config(args.connections as usize);
    config.pool.tenant_statement_cache = args.tenants;
    let db = Database::connect_with(config).await?;
    register(&db, &tenants).await?;
    let directory = TenantDirectory::new(&db);
    let strav_app = Router::new()
        .route("/orders/{id}", get(strav_handler))
        .layer(TenantLayer::new(directory.clone()).subdomain(Subdomain::new(BASE)))
        .with_state(db.clone());

    let pool = raw_pool(scratch, args.connections, args.tenants).await?;
    let statements: HashMap<String, Arc<str>> = tenants
        .iter()
        .map(|t| {
            let sql = format!("SELECT id, total, status FROM {t}.orders WHERE id = $1");
            (format!("{t}.{BASE}"), Arc::from(sql))
        })
        .collect();
    let raw_app = Router::new()
        .route("/orders/{id}", get(raw_handler))
        .with_state(RawState {
            pool: pool.clone(),
            statements: Arc::new(statements),
        });

    let strav_addr = serve(strav_app).await?;
    let raw_addr = serve(raw_app).await?;
    let tenants = Arc::new(tenants);
    let strav_clients = Clients::connect(strav_addr, args.workers).await?;
    let raw_clients = Clients::connect(raw_addr, args.workers).await?;
    let step = |clients: Arc<Clients>| -> Step {
        let (tenants, rows) = (tenants.clone(), args.rows);
        Arc::new(move |worker, rng| {
            let host = format!("{}.{BASE}", tenants[rng.random_range(0..tenants.len())]);
            let id = rng.random_range(1..=rows);
            let clients = clients.clone();
            Box::pin(async move {
                clients.get(worker, &host, id).await;
                1
            })
        })
    };
    let workloads: Vec<(&str, Step)> = vec![
        ("raw_axum_sqlx", step(raw_clients.clone())),
        ("strav_layer_model", step(strav_clients.clone())),
    ];
    let m = measure_workloads(&workloads, args.workers, args.seconds, args.rounds).await;
    let (raw, strav) = (m["raw_axum_sqlx"], m["strav_layer_model"]);

    // What a request costs once every tenant's validation is cached.
    let lookups_before = directory.lookups();
    counter.start();
    let per_worker = COUNTED / args.workers as u64;
    let counting = (0..args.workers).map(|w| {
        let (clients, tenants) = (strav_clients.clone(), tenants.clone());
        async move {
            let mut rng = rand::rng();
            for _ in 0..per_worker {
                let host = format!("{}.{BASE}", tenants[rng.random_range(0..tenants.len())]);
                clients.get(w, &host, rng.random_range(1..=args.rows)).await;
            }
        }
    });
    futures_util::future::join_all(counting).await;
    let (statements, switches) = counter.stop();
    let requests = per_worker * args.workers as u64;
    let lookups = directory.lookups() - lookups_before;

    db.close();
    pool.close().await;
    let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
    Ok(json!({
        "bench": "http",
        "tenants": args.tenants,
        "workers": args.workers,
        "connections": args.connections,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "raw_axum_sqlx_rps": raw.round(),
        "strav_layer_model_rps": strav.round(),
        "http_ratio": r3(raw / strav),
        "counted_requests": requests,
        "statements_per_request": r3(statements as f64 / requests as f64),
        "path_switches_per_request": r3(switches as f64 / requests as f64),
        "validation_lookups_while_counting": lookups,
    })
    .to_string())
}

/// Registers the fixture's schemas as tenants, as `schema:create` would.
async fn register(db: &Database, tenants: &[String]) -> Result<(), BoxError> {
    SchemaManager::new(db).ensure_registry().await?;
    db.sql(
        "INSERT INTO public.strav_schemas (name, domain) \
         SELECT unnest($1::text[]), 'tenant'",
    )
    .bind(tenants.to_vec())
    .execute()
    .await?;
    Ok(())
}

/// The handler as a Strav user writes it: the layer has put the request in
/// its tenant, the model reads that tenant's table.
async fn strav_handler(
    State(db): State<Database>,
    Path(id): Path<i64>,
) -> Result<Json<OrderJson>, StatusCode> {
    match TenantOrder::find(&db, id).await {
        Ok(Some(o)) => Ok(Json(OrderJson {
            id: o.id,
            total: o.total,
            status: o.status,
        })),
        Ok(None) => Err(StatusCode::NOT_FOUND),
        Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

#[derive(Clone)]
struct RawState {
    pool: PgPool,
    /// Host → the tenant's schema-qualified statement; an unknown host is
    /// refused without a query, like Strav's cached validation.
    statements: Arc<HashMap<String, Arc<str>>>,
}

/// The same handler by hand: tenant from the host, schema-qualified SQL.
async fn raw_handler(
    State(state): State<RawState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<OrderJson>, StatusCode> {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h))
        .ok_or(StatusCode::NOT_FOUND)?;
    let sql = state.statements.get(host).ok_or(StatusCode::NOT_FOUND)?;
    let row: Option<(i64, i64, String)> = sqlx::query_as(AssertSqlSafe(sql.clone()))
        .bind(id)
        .fetch_optional(&state.pool)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let (id, total, status) = row.ok_or(StatusCode::NOT_FOUND)?;
    Ok(Json(OrderJson { id, total, status }))
}

async fn serve(app: Router) -> Result<SocketAddr, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

/// One keep-alive HTTP/1.1 connection per worker.
struct Clients(Vec<Mutex<hyper::client::conn::http1::SendRequest<Empty<Bytes>>>>);

impl Clients {
    async fn connect(addr: SocketAddr, n: usize) -> Result<Arc<Clients>, BoxError> {
        let mut senders = Vec::with_capacity(n);
        for _ in 0..n {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            senders.push(Mutex::new(sender));
        }
        Ok(Arc::new(Clients(senders)))
    }

    async fn get(&self, worker: usize, host: &str, id: i64) {
        let request = hyper::Request::get(format!("/orders/{id}"))
            .header("host", host)
            .body(Empty::new())
            .expect("a valid request");
        let mut sender = self.0[worker].lock().await;
        sender.ready().await.expect("connection ready");
        let response = sender.send_request(request).await.expect("a response");
        assert_eq!(response.status(), 200, "GET /orders/{id} on {host}");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        assert!(body.starts_with(b"{\"id\":"), "{body:?}");
    }
}

/// Counts `strav::sql` events, only while switched on, so the measured
/// rounds pay nothing for it.
struct Counter {
    on: AtomicBool,
    statements: AtomicU64,
    switches: AtomicU64,
}

impl Counter {
    fn install() -> &'static Counter {
        static COUNTER: Counter = Counter {
            on: AtomicBool::new(false),
            statements: AtomicU64::new(0),
            switches: AtomicU64::new(0),
        };
        let _ = tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(CountLayer(&COUNTER)),
        );
        &COUNTER
    }

    fn start(&self) {
        self.statements.store(0, Ordering::SeqCst);
        self.switches.store(0, Ordering::SeqCst);
        self.on.store(true, Ordering::SeqCst);
    }

    fn stop(&self) -> (u64, u64) {
        self.on.store(false, Ordering::SeqCst);
        (
            self.statements.load(Ordering::SeqCst),
            self.switches.load(Ordering::SeqCst),
        )
    }
}

struct CountLayer(&'static Counter);

impl<S: tracing::Subscriber> Layer<S> for CountLayer {
    fn register_callsite(&self, meta: &'static tracing::Metadata<'static>) -> Interest {
        if meta.is_event() && meta.target() == "strav::sql" {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, _: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        self.0.on.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        // Statements are DEBUG events, `search_path` switches TRACE ones.
        if *event.metadata().level() == tracing::Level::TRACE {
            self.0.switches.fetch_add(1, Ordering::Relaxed);
        } else {
            self.0.statements.fetch_add(1, Ordering::Relaxed);
        }
    }
}
