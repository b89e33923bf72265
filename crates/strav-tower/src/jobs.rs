//! Jobs that carry their tenant, on apalis with its PostgreSQL backend.
//!
//! Enqueueing records the tenant current at that moment in the task's
//! metadata (key [`TENANT_KEY`]); [`TenantJobLayer`] on the worker reads it
//! back, checks it like a request's and runs the job inside `with_schema`.
//! A job queued outside any tenant runs outside any tenant (per-tenant
//! models refuse to run in it). A job whose tenant was deleted meanwhile
//! is not run: it ends as `Killed` (never retried) with
//! [`JobError::Tenant`]; so does a job that fails because its tenant was
//! deleted while it ran (checked against the registry after the failure).
//!
//! ```no_run
//! # use strav_tower::jobs;
//! # #[derive(serde::Serialize)] struct ConfirmOrder { order_id: i64 }
//! # async fn demo(db: strav_orm::Database) -> Result<(), jobs::JobError> {
//! // In a request (inside the tenant scope), in the same transaction as the
//! // order: the job exists if and only if the order does.
//! db.transaction(async |tx| {
//!     // ... insert the order with `tx` ...
//!     jobs::enqueue(tx, "orders", &ConfirmOrder { order_id: 7 }).await
//! })
//! .await?;
//! # Ok(()) }
//! ```

use std::task::{Context, Poll};

use apalis_core::error::{AbortError, BoxDynError};
use apalis_core::task::builder::TaskBuilder;
use apalis_core::task::metadata::{Metadata, MetadataError, MetadataStore};
use apalis_core::task::status::{AtomicStatus, Status};
use apalis_core::task::Task;
use futures_util::future::BoxFuture;
use serde::Serialize;
use strav_orm::{current_schema, with_schema, without_schema, Tx};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

use crate::directory::TenantDirectory;
use crate::error::TenantError;

/// The metadata key a job's tenant travels under.
pub const TENANT_KEY: &str = "strav.tenant";

/// Why a job could not be queued or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The job's tenant is not (or no longer) a tenant; the job was not run.
    #[error("job of tenant {tenant:?} not run: {source}")]
    Tenant {
        /// The tenant the job was queued in.
        tenant: String,
        /// Why it cannot run there.
        #[source]
        source: TenantError,
    },
    /// The job's arguments could not be encoded.
    #[error("the job's arguments could not be encoded as JSON: {0}")]
    Encode(#[from] serde_json::Error),
    /// The queue refused the job.
    #[error("the job could not be queued: {0}")]
    Queue(#[from] apalis_postgres::Error),
    /// Strav failed (the transaction's connection).
    #[error(transparent)]
    Strav(#[from] strav_orm::Error),
}

/// The tenant a job was queued in (`None`: queued outside any tenant), as
/// apalis metadata: a handler can take `Meta<JobTenant>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTenant(pub Option<String>);

impl Metadata for JobTenant {
    type Error = MetadataError;

    fn extract(store: &MetadataStore) -> Result<Self, MetadataError> {
        Ok(JobTenant(store.get(TENANT_KEY).map(str::to_owned)))
    }

    fn inject(&self, store: &mut MetadataStore) -> Result<(), MetadataError> {
        match &self.0 {
            Some(tenant) => store.insert(TENANT_KEY, tenant.clone()),
            None => Ok(()),
        }
    }
}

fn builder_in<Args>(tenant: Option<&str>, args: Args) -> TaskBuilder<Args> {
    let mut metadata = MetadataStore::new();
    if let Some(tenant) = tenant {
        // A fresh store has no key yet, so this cannot collide.
        let _ = metadata.insert(TENANT_KEY, tenant);
    }
    TaskBuilder::new(args).with_metadata(metadata)
}

/// A task builder for `args` that carries the tenant current now (none
/// outside a scope): `storage.push_task(jobs::task(args).build())` with
/// any apalis sink, adding run time, priority, ... on the way.
pub fn task<Args>(args: Args) -> TaskBuilder<Args> {
    builder_in(current_schema().as_ref().map(|s| s.as_str()), args)
}

/// Queues `args` on `queue` inside the Strav transaction `tx`, in `tx`'s
/// tenant: the job is visible to workers only once `tx` commits, and never
/// if it rolls back. Encoded as JSON, as `PostgresStorage` expects.
pub async fn enqueue<Args: Serialize>(tx: &Tx, queue: &str, args: &Args) -> Result<(), JobError> {
    let bytes = serde_json::to_vec(args)?;
    let task = builder_in(tx.schema(), bytes).build();
    let mut conn = tx.connection().await;
    apalis_postgres::queries::push_tasks(&mut *conn, queue, vec![task]).await?;
    Ok(())
}

/// Ends a job that cannot run in `tenant`: `Killed` (never retried) when the
/// tenant is gone, `Failed` (retried as configured) when the check failed.
fn refuse(status: &AtomicStatus, tenant: String, source: TenantError) -> BoxDynError {
    tracing::warn!(target: "strav::tenant", %source, "job refused");
    let gone = source.is_unknown_tenant();
    let error = JobError::Tenant { tenant, source };
    if gone {
        status.store(Status::Killed);
        Box::new(AbortError::new(error))
    } else {
        status.store(Status::Failed);
        Box::new(error)
    }
}

/// Runs each job in the tenant it was queued in: apalis's
/// `WorkerBuilder::layer(TenantJobLayer::new(directory))`.
#[derive(Clone)]
pub struct TenantJobLayer {
    directory: TenantDirectory,
}

impl TenantJobLayer {
    /// Checks tenants with `directory` (share the HTTP layer's).
    pub fn new(directory: TenantDirectory) -> Self {
        TenantJobLayer { directory }
    }
}

impl<S> Layer<S> for TenantJobLayer {
    type Service = TenantJobService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        TenantJobService {
            inner,
            directory: self.directory.clone(),
        }
    }
}

/// The service of [`TenantJobLayer`].
#[derive(Clone)]
pub struct TenantJobService<S> {
    inner: S,
    directory: TenantDirectory,
}

impl<S, Args> Service<Task<Args>> for TenantJobService<S>
where
    S: Service<Task<Args>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxDynError>,
    S::Response: Send + 'static,
    Args: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxDynError;
    type Future = BoxFuture<'static, Result<S::Response, BoxDynError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxDynError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, task: Task<Args>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let directory = self.directory.clone();
        let tenant = task.metadata().get(TENANT_KEY).map(str::to_owned);
        let span = tracing::info_span!(
            "job",
            tenant = tenant.as_deref().unwrap_or_default(),
            task_id = task.task_id().map(|id| id.to_string()).unwrap_or_default()
        );
        let run = async move {
            let Some(tenant) = tenant else {
                return without_schema(inner.call(task)).await.map_err(Into::into);
            };
            // The status apalis records; shared with the task, so it can be
            // set after the task moved into the inner service.
            let status = task.ctx().raw_status().clone();
            let schema = match directory.check(&tenant).await {
                Ok(schema) => schema,
                // The worker's own bookkeeping (below this layer) never saw
                // the task, so the outcome is recorded here.
                Err(source) => return Err(refuse(&status, tenant, source)),
            };
            let scoped = with_schema(schema, async move {
                Ok::<_, strav_orm::Error>(inner.call(task).await)
            });
            let failure: BoxDynError = match scoped.await {
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(e)) => e.into(),
                Err(e) => Box::new(e),
            };
            // A tenant deleted while its job ran makes the job fail on a
            // missing table; that is the tenant's deletion, not a fault to
            // retry. Ask the registry itself (not the cache) before saying so.
            directory.forget(&tenant).await;
            match directory.check(&tenant).await {
                Err(source) if source.is_unknown_tenant() => {
                    tracing::warn!(target: "strav::tenant", error = %failure, "job's tenant deleted while it ran");
                    Err(refuse(&status, tenant, source))
                }
                _ => Err(failure),
            }
        };
        Box::pin(run.instrument(span))
    }
}
