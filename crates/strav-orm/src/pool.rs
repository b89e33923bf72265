//! The connection pool: deadpool over sqlx `PgConnection`s, plus the
//! connections that `with_schema` scopes keep between their statements.
//!
//! Strav keeps its own pool (rather than `sqlx::PgPool`) because each pooled
//! connection carries what Strav knows about its session (see `conn.rs`), and
//! sqlx's pool has no place for that. A side effect is that no ping is spent
//! on acquire or release.
//!
//! **Parked connections.** A switch of `search_path` costs a round trip, as
//! much as a query. A request runs several statements in one tenant, so when
//! a statement of a scope ends, its connection is *parked* for that scope
//! (not returned to the pool) and the scope's next statement takes it back
//! with the path already right. Parking is a saving, never a claim:
//! - a connection is not parked when anyone is waiting for one, and a
//!   statement that would have to wait takes a parked connection of another
//!   scope instead (that scope pays a path switch later): an idle scope never
//!   starves the pool, and statements of one scope that run at once never
//!   wait for each other's parked connection;
//! - a scope parks at most one connection; the others go back to the pool;
//! - when the outermost scope ends, however it ends, its connection goes back.
//!
//! **Given back dirty.** A connection whose user left something behind is
//! never parked or pooled as it is: a statement in flight (its future was
//! dropped) closes it, so no reply of it can reach another scope and the
//! server aborts the statement and its transaction; a transaction left open
//! is rolled back at once by a background task (closed if no runtime is
//! there to run it); after direct sqlx use it is checked first (`conn.rs`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use deadpool::managed::{
    self, Metrics, PoolError, RecycleError, RecycleResult, TimeoutType, Timeouts,
};
use deadpool::Runtime;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Executor as _};

use crate::config::Config;
use crate::conn::{Disposition, PgConn};
use crate::error::{Error, Result};

type Object = managed::Object<Manager>;

pub(crate) struct Manager {
    options: PgConnectOptions,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
    check_interval_ms: u64,
}

impl managed::Manager for Manager {
    type Type = PgConn;
    type Error = sqlx::Error;

    async fn create(&self) -> std::result::Result<PgConn, sqlx::Error> {
        let mut raw: PgConnection = self.options.connect().await?;
        // Without this, a backend whose client gave up (a cancelled future
        // closes its connection) runs the statement to its end, holding its
        // locks; with it, the server notices the closed socket within the
        // interval and aborts. Available from PostgreSQL 14.
        if self.check_interval_ms > 0 && raw.server_version_num().unwrap_or(0) >= 140_000 {
            let set = format!(
                "SET client_connection_check_interval = {}",
                self.check_interval_ms
            );
            raw.execute(AssertSqlSafe(set)).await?;
        }
        Ok(PgConn::new(raw))
    }

    async fn recycle(&self, conn: &mut PgConn, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        // Anything not clean was closed or settled when it was given back;
        // this only catches a settle task that never ran (runtime shut down).
        if conn.disposition() != Disposition::Reuse {
            return Err(RecycleError::message("connection was not given back clean"));
        }
        if self.max_lifetime.is_some_and(|max| metrics.age() > max) {
            return Err(RecycleError::message("connection reached max_lifetime"));
        }
        if self
            .idle_timeout
            .is_some_and(|max| metrics.last_used() > max)
        {
            return Err(RecycleError::message("connection idle past idle_timeout"));
        }
        Ok(())
    }
}

static NEXT_SCOPE: AtomicU64 = AtomicU64::new(1);

/// The owner of parked connections: one per outermost `with_schema` or
/// `without_schema` scope, shared by the scopes nested in it and the tasks
/// spawned with its context.
pub(crate) struct Scope {
    id: u64,
    closed: AtomicBool,
    /// Pools this scope has parked a connection in.
    pools: Mutex<Vec<Weak<Pool>>>,
}

impl Scope {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Scope {
            id: NEXT_SCOPE.fetch_add(1, Ordering::Relaxed),
            closed: AtomicBool::new(false),
            pools: Mutex::new(Vec::new()),
        })
    }

    /// Gives back every connection parked for this scope; nothing is parked
    /// for it afterwards.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let pools = std::mem::take(&mut *lock(&self.pools));
        for pool in pools.iter().filter_map(Weak::upgrade) {
            drop(pool.unpark(self.id));
        }
    }

    fn note_pool(&self, pool: &Arc<Pool>) {
        let mut pools = lock(&self.pools);
        if !pools
            .iter()
            .any(|p| std::ptr::eq(p.as_ptr(), Arc::as_ptr(pool)))
        {
            pools.push(Arc::downgrade(pool));
        }
    }
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("id", &self.id)
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish()
    }
}

#[derive(Default)]
struct Parked {
    /// Idle connections kept for a scope, oldest first.
    conns: Vec<(u64, Object)>,
    /// Checkouts waiting on the pool right now.
    waiting: usize,
}

/// The pool of one `Database`.
pub(crate) struct Pool {
    inner: managed::Pool<Manager>,
    parked: Mutex<Parked>,
    try_now: Timeouts,
    wait: Timeouts,
}

impl Pool {
    pub(crate) fn new(config: &Config) -> Result<Arc<Self>> {
        let pool = &config.pool;
        let manager = Manager {
            options: config.connect_options()?,
            idle_timeout: pool.idle_timeout(),
            max_lifetime: pool.max_lifetime(),
            check_interval_ms: pool.client_connection_check_interval_ms,
        };
        let inner = managed::Pool::builder(manager)
            .max_size(pool.max_connections)
            .wait_timeout(Some(pool.acquire_timeout()))
            .create_timeout(Some(pool.connect_timeout()))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| Error::Config {
                path: crate::config::DEFAULT_CONFIG_PATH.into(),
                message: format!("cannot build the connection pool: {e}"),
            })?;
        let timeouts = |wait| Timeouts {
            wait: Some(wait),
            create: Some(pool.connect_timeout()),
            recycle: None,
        };
        Ok(Arc::new(Pool {
            inner,
            parked: Mutex::default(),
            try_now: timeouts(Duration::ZERO),
            wait: timeouts(pool.acquire_timeout()),
        }))
    }

    /// A connection for a statement of `scope` (or of no scope): the
    /// scope's parked one if it has one, else one from the pool.
    pub(crate) async fn lease(self: &Arc<Self>, scope: Option<Arc<Scope>>) -> Result<Lease> {
        let parked = scope.as_ref().and_then(|s| self.unpark(s.id));
        let obj = match parked {
            Some(obj) => obj,
            // Boxed: opening a connection is a large future (TLS, auth), and
            // inline it would make every statement's future several KB.
            None => Box::pin(self.checkout()).await?,
        };
        Ok(Lease {
            obj: Some(obj),
            pool: self.clone(),
            scope,
        })
    }

    async fn checkout(&self) -> Result<Object> {
        match self.inner.timeout_get(&self.try_now).await {
            Ok(obj) => return Ok(obj),
            Err(PoolError::Timeout(TimeoutType::Wait)) => {}
            Err(e) => return Err(self.pool_error(e)),
        }
        // The pool is exhausted. Rather than wait, take a connection some
        // scope keeps idle; if there is none, announce the wait first, so
        // that no connection is parked while we wait (see `park`).
        {
            let mut parked = lock(&self.parked);
            if !parked.conns.is_empty() {
                return Ok(parked.conns.remove(0).1);
            }
            parked.waiting += 1;
        }
        let _waiting = Waiting(self);
        self.inner
            .timeout_get(&self.wait)
            .await
            .map_err(|e| self.pool_error(e))
    }

    fn pool_error(&self, e: PoolError<sqlx::Error>) -> Error {
        match e {
            PoolError::Timeout(TimeoutType::Create) => {
                Error::PoolTimeout(self.wait.create.unwrap_or_default())
            }
            PoolError::Timeout(_) => Error::PoolTimeout(self.wait.wait.unwrap_or_default()),
            PoolError::Backend(e) => Error::db(e, None),
            PoolError::Closed | PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
                Error::PoolClosed
            }
        }
    }

    fn unpark(&self, scope: u64) -> Option<Object> {
        let mut parked = lock(&self.parked);
        let at = parked.conns.iter().position(|(s, _)| *s == scope)?;
        Some(parked.conns.remove(at).1)
    }

    /// Takes back a connection its user is done with.
    fn give_back(self: &Arc<Self>, obj: Object, scope: Option<&Arc<Scope>>) {
        match obj.disposition() {
            Disposition::Close => drop(Object::take(obj)),
            Disposition::Settle => settle_in_background(obj),
            Disposition::Reuse => match scope {
                Some(scope) => self.park(obj, scope),
                None => drop(obj),
            },
        }
    }

    fn park(self: &Arc<Self>, obj: Object, scope: &Arc<Scope>) {
        {
            let mut parked = lock(&self.parked);
            let keeps_one = parked.conns.iter().any(|(s, _)| *s == scope.id);
            if parked.waiting > 0 || keeps_one || scope.closed.load(Ordering::SeqCst) {
                drop(parked);
                drop(obj); // back to the pool, which hands it to a waiter
                return;
            }
            parked.conns.push((scope.id, obj));
        }
        scope.note_pool(self);
        // The scope may have closed between the check and `note_pool`; if
        // so its `close` may have missed this pool.
        if scope.closed.load(Ordering::SeqCst) {
            drop(self.unpark(scope.id));
        }
    }

    pub(crate) fn status(&self) -> deadpool::Status {
        self.inner.status()
    }

    pub(crate) fn close(&self) {
        let parked = std::mem::take(&mut lock(&self.parked).conns);
        drop(parked);
        self.inner.close();
    }
}

/// Rolls back or checks a connection without making its last user wait,
/// then returns it to the pool; closes it when that fails.
fn settle_in_background(mut obj: Object) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                if let Err(e) = obj.settle().await {
                    tracing::debug!(target: "strav::pool", error = %e, "closing a connection that could not be settled");
                    drop(Object::take(obj));
                }
            });
        }
        Err(_) => drop(Object::take(obj)),
    }
}

struct Waiting<'p>(&'p Pool);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        lock(&self.0.parked).waiting -= 1;
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; a poisoned one is still sound.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A connection checked out for one statement, transaction or raw use.
/// Dropping it gives the connection back (see [`Pool::give_back`]).
pub(crate) struct Lease {
    obj: Option<Object>,
    pool: Arc<Pool>,
    scope: Option<Arc<Scope>>,
}

impl Lease {
    pub(crate) fn conn(&mut self) -> &mut PgConn {
        self.obj
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }

    pub(crate) fn conn_ref(&self) -> &PgConn {
        self.obj
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(obj) = self.obj.take() {
            self.pool.give_back(obj, self.scope.as_ref());
        }
    }
}
