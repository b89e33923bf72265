//! The task-local schema context.
//!
//! `with_schema` stores the tenant's schema in a tokio task-local, so it
//! follows every `.await` inside the scope the way AsyncLocalStorage does in
//! Node. tokio does not carry task-locals into `tokio::spawn`; [`spawn`] and
//! [`InCurrentSchema::in_current_schema`] do.
//!
//! The futures returned here are named types that hold the wrapped future
//! once, so nesting scopes costs a few words each, not a copy of everything
//! inside (an `async fn` wrapper would roughly double the size per level in
//! a debug build).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::task::futures::TaskLocalFuture;

use crate::error::{Error, Result};
use crate::pool::Scope;
use crate::schema_name::{IntoSchemaName, SchemaName};

tokio::task_local! {
    // `None` is set explicitly for tasks spawned from outside any scope.
    static CONTEXT: Option<SchemaContext>;
}

/// What the current task is routed to.
#[derive(Clone, Debug)]
pub struct SchemaContext {
    schema: Option<SchemaName>,
    /// The owner of the connection the scope keeps between statements,
    /// shared by nested scopes and by tasks spawned with the context.
    scope: Arc<Scope>,
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

    /// Runs `f` with this context current. For work polled outside the
    /// scope's future that must still run in it, such as a response body
    /// polled after its handler returned: wrap each poll in `sync_scope`.
    pub fn sync_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        CONTEXT.sync_scope(Some(self.clone()), f)
    }
}

/// Runs `fut` with every query inside it routed to `schema`.
///
/// The name is validated for tenant use (see [`SchemaName::new`]) before
/// `fut` starts; an invalid or protected one (`public`, `pg_catalog`, ...)
/// is returned as an error and `fut` never runs. Nested calls take the inner
/// schema. The scope is entered from the context current when this is
/// called.
///
/// ```no_run
/// # async fn demo(db: strav_orm::Database) -> Result<(), strav_orm::Error> {
/// let n: i64 = strav_orm::with_schema("company_123", async {
///     db.sql("SELECT count(*) FROM orders").fetch_scalar().await
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub fn with_schema<S, F, T, E>(schema: S, fut: F) -> WithSchema<F>
where
    S: IntoSchemaName,
    F: Future<Output = std::result::Result<T, E>>,
    E: From<Error>,
{
    match schema.into_schema_name() {
        Ok(schema) => WithSchema {
            inner: Some(enter(Some(schema), fut)),
            error: None,
        },
        Err(e) => WithSchema {
            inner: None,
            error: Some(e),
        },
    }
}

/// Runs `fut` outside any tenant: queries use the default search path
/// (`public`), and per-tenant models refuse to run.
pub fn without_schema<F: Future>(fut: F) -> Scoped<F> {
    enter(None, fut)
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

/// The current tenant and scope, read once per statement.
pub(crate) fn snapshot() -> Option<(Option<SchemaName>, Arc<Scope>)> {
    CONTEXT
        .try_with(|c| c.as_ref().map(|c| (c.schema.clone(), c.scope.clone())))
        .ok()
        .flatten()
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
        inner: TaskLocalFuture<Option<SchemaContext>, F>,
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

pin_project_lite::pin_project! {
    /// The future of [`without_schema`] (and inside [`with_schema`]): `F`
    /// run in a scope.
    #[must_use = "a scope does nothing until awaited"]
    pub struct Scoped<F: Future> {
        #[pin]
        inner: TaskLocalFuture<Option<SchemaContext>, F>,
        owner: Option<Owner>,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let out = ready!(this.inner.poll(cx));
        // The outermost scope ended: its parked connection goes back now,
        // not whenever the caller drops this future.
        this.owner.take();
        Poll::Ready(out)
    }
}

pin_project_lite::pin_project! {
    /// The future of [`with_schema`].
    #[must_use = "a scope does nothing until awaited"]
    pub struct WithSchema<F: Future> {
        #[pin]
        inner: Option<Scoped<F>>,
        error: Option<Error>,
    }
}

impl<F, T, E> Future for WithSchema<F>
where
    F: Future<Output = std::result::Result<T, E>>,
    E: From<Error>,
{
    type Output = std::result::Result<T, E>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(e) = this.error.take() {
            return Poll::Ready(Err(E::from(e)));
        }
        match this.inner.as_pin_mut() {
            Some(inner) => inner.poll(cx),
            None => panic!("`with_schema` polled after it completed"),
        }
    }
}

/// Closes the outermost scope when dropped: however the scope ends
/// (completes, fails, panics, is dropped), its parked connection goes back.
struct Owner(Arc<Scope>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.close();
    }
}

fn enter<F: Future>(schema: Option<SchemaName>, fut: F) -> Scoped<F> {
    let (scope, owner) = match current_schema_context() {
        // Nested: share the outer scope's parked connection.
        Some(outer) => (outer.scope, None),
        None => {
            let scope = Scope::new();
            (scope.clone(), Some(Owner(scope)))
        }
    };
    Scoped {
        inner: CONTEXT.scope(Some(SchemaContext { schema, scope }), fut),
        owner,
    }
}
