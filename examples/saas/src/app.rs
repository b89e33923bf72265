//! Putting the service together: database, migrations, tenant directory,
//! job queue and worker, router.

use std::time::Duration;

use apalis_core::backend::ext::poll_strategy::Strategy;
use apalis_core::backend::ext::BackendExt;
use apalis_core::worker::builder::WorkerBuilder;
use apalis_postgres::Pubsub;
use axum::http::request::Parts;
use axum::routing::{delete, get};
use axum::Router;
use strav_orm::sqlx::postgres::PgPoolOptions;
use strav_orm::{Database, Migrations, Migrator, SchemaManager};
use strav_tower::jobs::TenantJobLayer;
use strav_tower::{
    BoxError, BypassLayer, Header, RequireTenantLayer, Subdomain, TenantDirectory, TenantLayer,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::jobs::{confirm_order, ConfirmOrder, QUEUE};
use crate::models::CustomDomain;
use crate::routes::{admin, orders};
use crate::Settings;

/// How often the worker looks for jobs that fell due without a NOTIFY.
const JOB_POLL: Duration = Duration::from_secs(1);

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    pub schemas: SchemaManager,
    pub directory: TenantDirectory,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Strav(#[from] strav_orm::Error),
    #[error("tenant directory: {0}")]
    Tenant(#[from] strav_tower::TenantError),
    #[error("job queue: {0}")]
    Queue(#[from] apalis_postgres::Error),
    #[error("job queue: {0}")]
    QueueDb(#[from] strav_orm::sqlx::Error),
    #[error("public migrations failed: {0}")]
    Migrate(String),
}

/// A running service: its state and its job worker.
pub struct App {
    pub state: AppState,
    settings: Settings,
    worker: JoinHandle<()>,
}

impl App {
    /// Connects, applies the `public` migrations, starts listening for
    /// tenant deletions and starts the job worker.
    pub async fn start(settings: &Settings) -> Result<App, StartError> {
        let db = Database::connect_with(settings.database.clone()).await?;
        let migrations: Migrations = strav_orm::embed_migrations!("database/migrations")?;
        let report = Migrator::new(&db, migrations.clone())
            .migrate_domain("public", 1)
            .await?;
        if !report.is_success() {
            return Err(StartError::Migrate(format!("{:?}", report.schemas)));
        }
        let schemas = SchemaManager::new(&db).with_migrations(migrations);
        let directory = TenantDirectory::new(&db);
        directory.listen().await?;

        // The queue has a small sqlx pool of its own; jobs are queued
        // through Strav's transactions (`strav_tower::jobs::enqueue`).
        let queue_pool = PgPoolOptions::new()
            .max_connections(3)
            .connect_with(settings.database.connect_options()?)
            .await?;
        apalis_postgres::PostgresStorage::setup(&queue_pool).await?;
        // NOTIFY wakes the worker for a job due now; a job queued to run
        // later sends no second notice when it falls due, so the worker
        // also looks every `JOB_POLL` (without it, apalis looks again only
        // at its 30 s heartbeat).
        let storage = apalis_postgres::PostgresStorage::<ConfirmOrder>::new(&queue_pool)
            .with_config(apalis_postgres::Config::default().queue(QUEUE))
            .poll_with_strategy(
                Strategy::new()
                    .stream(Pubsub::new(queue_pool.clone(), QUEUE.to_owned()))
                    .interval(JOB_POLL),
            );
        let worker = WorkerBuilder::new("saas-confirm-order")
            .backend(storage)
            .data(db.clone())
            .layer(TenantJobLayer::new(directory.clone()))
            .build(confirm_order);
        let worker = tokio::spawn(async move {
            if let Err(e) = worker.run().await {
                tracing::error!(error = %e, "job worker stopped");
            }
        });

        Ok(App {
            state: AppState {
                db,
                schemas,
                directory,
            },
            settings: settings.clone(),
            worker,
        })
    }

    /// The router, wired as the README describes.
    pub fn router(&self) -> Router {
        router(self.state.clone(), &self.settings)
    }

    /// Serves HTTP on `listener` until `shutdown` resolves.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Stops the worker and closes the pool.
    pub async fn stop(self) {
        self.worker.abort();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.worker).await;
        self.state.db.close();
    }
}

/// Tenant routes behind the tenant layer, admin routes behind the bypass.
pub fn router(state: AppState, settings: &Settings) -> Router {
    let mut tenants = TenantLayer::new(state.directory.clone())
        .subdomain(Subdomain::new(&settings.base_domain))
        .custom(custom_domain(state.db.clone()));
    if settings.tenant_header {
        tenants = tenants.header(Header::new());
    }
    let tenant_routes = Router::new()
        .route("/orders", get(orders::list).post(orders::create))
        .route("/orders/export", get(orders::export))
        .route("/orders/{id}", get(orders::show))
        .route("/orders/{id}/events", get(orders::events))
        .route_layer(RequireTenantLayer::new())
        .layer(tenants);
    let admin_routes = Router::new()
        .route("/admin/tenants", get(admin::list).post(admin::create))
        .route("/admin/tenants/{name}", delete(admin::delete))
        .layer(BypassLayer::new());
    Router::new()
        .merge(tenant_routes)
        .merge(admin_routes)
        .route("/health", get(|| async { "ok" }))
        .with_state(state)
}

/// A tenant's own domain, from `public.custom_domains` (a fixed-schema
/// model: it reads `public` whatever the context).
fn custom_domain(
    db: Database,
) -> impl Fn(&Parts) -> futures_util::future::BoxFuture<'static, Result<Option<String>, BoxError>>
       + Send
       + Sync
       + 'static {
    move |parts: &Parts| {
        let host = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| h.split(':').next().unwrap_or(h).to_owned());
        let db = db.clone();
        Box::pin(async move {
            let Some(host) = host else { return Ok(None) };
            let found = CustomDomain::find(&db, host).await?;
            Ok(found.map(|d| d.tenant))
        })
    }
}
