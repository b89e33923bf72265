//! The task-local schema context.
//!
//! `with_schema` stores the tenant's schema in a tokio task-local, so it
//! follows every `.await` inside the scope the way AsyncLocalStorage does in
//! Node. tokio does not carry task-locals into `tokio::spawn`; [`spawn`] and
//! [`InCurrentSchema::in_current_schema`] do.

use std::future::Future;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::pin::PinSlot;
use crate::schema_name::{IntoSchemaName, SchemaName};

tokio::task_local! {
    // `None` is set explicitly for tasks spawned from outside any scope.
    static CONTEXT: Option<SchemaContext>;
}

/// What the current task is routed to.
#[derive(Clone, Debug)]
pub struct SchemaContext {
    schema: Option<SchemaName>,
    /// The connection the outermost scope is holding, shared by nested scopes
    /// and by tasks spawned with the context (see `pin.rs`).
    pub(crate) pin: Arc<PinSlot>,
}

impl SchemaContext {
    /// The tenant schema, or `None` inside `without_schema`.
    pub fn schema(&self) -> Option<&SchemaName> {
        self.schema.as_ref()
    }

    /// True inside `without_schema`: isolation is deliberately bypassed.
    pub fn is_bypass(&self) -> bool {
        self.schema.is_none()
    }
}

/// Runs `fut` with every query inside it routed to `schema`.
///
/// The name is validated (see [`SchemaName::tenant`]) before `fut` starts; an
/// invalid one is returned as an error and `fut` never runs. Nested calls take
/// the inner schema.
///
/// ```no_run
/// # async fn demo(db: strav_orm::Database) -> Result<(), strav_orm::Error> {
/// let n: i64 = strav_orm::with_schema("company_123", async {
///     db.sql("SELECT count(*) FROM orders").fetch_scalar().await
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn with_schema<S, F, T, E>(schema: S, fut: F) -> std::result::Result<T, E>
where
    S: IntoSchemaName,
    F: Future<Output = std::result::Result<T, E>>,
    E: From<Error>,
{
    let schema = schema.into_schema_name().map_err(E::from)?;
    scope(Some(schema), fut).await
}

/// Runs `fut` in the validated `schema`; for futures that do not return a
/// `Result`.
pub async fn with_schema_name<F: Future>(schema: SchemaName, fut: F) -> F::Output {
    scope(Some(schema), fut).await
}

/// Runs `fut` outside any tenant: queries use the default search path
/// (`public`), and per-tenant models refuse to run.
pub async fn without_schema<F: Future>(fut: F) -> F::Output {
    scope(None, fut).await
}

/// The schema of the current scope, if any (`None` outside `with_schema` and
/// inside `without_schema`).
pub fn current_schema() -> Option<SchemaName> {
    CONTEXT
        .try_with(|c| c.as_ref().and_then(|c| c.schema.clone()))
        .ok()
        .flatten()
}

/// The whole current context, if the task is inside `with_schema` or
/// `without_schema`.
pub fn current_schema_context() -> Option<SchemaContext> {
    CONTEXT.try_with(Clone::clone).ok().flatten()
}

/// True inside `with_schema` (and not inside a nested `without_schema`).
pub fn has_schema_context() -> bool {
    current_schema().is_some()
}

/// The schema of the current scope, or [`Error::NoSchemaContext`].
pub fn require_schema(operation: &'static str) -> Result<SchemaName> {
    current_schema().ok_or_else(|| Error::NoSchemaContext {
        operation: operation.to_owned(),
    })
}

/// `tokio::spawn` that carries the current schema context into the new task.
///
/// A task started with plain `tokio::spawn` inside `with_schema` has *no*
/// context: its queries run on the default path.
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(fut.in_current_schema())
}

/// Carries the current schema context into a future that will run elsewhere
/// (a spawned task, a `JoinSet`, a stream combinator).
pub trait InCurrentSchema: Future + Sized {
    /// Binds the context current *now* to the future.
    fn in_current_schema(self) -> WithContext<Self> {
        WithContext {
            inner: CONTEXT.scope(current_schema_context(), self),
        }
    }
}

impl<F: Future> InCurrentSchema for F {}

pin_project_lite::pin_project! {
    /// A future bound to a schema context; see [`InCurrentSchema`].
    pub struct WithContext<F: Future> {
        #[pin]
        inner: tokio::task::futures::TaskLocalFuture<Option<SchemaContext>, F>,
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

async fn scope<F: Future>(schema: Option<SchemaName>, fut: F) -> F::Output {
    match current_schema_context() {
        // Nested scope: share the outer scope's pinned connection.
        Some(outer) => {
            let ctx = SchemaContext {
                schema,
                pin: outer.pin,
            };
            CONTEXT.scope(Some(ctx), fut).await
        }
        // Outermost scope: it owns the pin slot and releases it when it ends,
        // whether `fut` completes, fails, panics or is dropped.
        None => {
            let pin = Arc::new(PinSlot::default());
            let _release = pin.release_on_drop();
            let ctx = SchemaContext { schema, pin };
            CONTEXT.scope(Some(ctx), fut).await
        }
    }
}
