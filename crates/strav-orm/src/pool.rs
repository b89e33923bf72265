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
//! - while statements wait for the pool, a connection parked for
//!   [`IDLE_BEFORE_TAKEN`] or more goes back to the pool (see [`reap`]): a
//!   busy scope, whose next statement follows within microseconds, keeps its
//!   connection even on a saturated pool, while a scope awaiting something
//!   else (an HTTP call, a sleep) does not hold one others need;
//! - statements of one scope that run at once take the scope's parked
//!   connection if it is there, and otherwise wait on the pool like anyone;
//! - a scope parks at most one connection; the others go back to the pool;
//! - when the outermost scope ends, however it ends, its connection goes back.
//!
//! **Given back dirty.** A connection whose user left something behind is
//! never parked or pooled as it is: a statement in flight (its future was
//! dropped) closes it, so no reply of it can reach another scope and the
//! server aborts the statement and its transaction; a transaction left open
//! is rolled back at once by a background task (closed if no runtime is
//! there to run it); after direct sqlx use it is checked first (`conn.rs`).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

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
        // Boxed: connecting (TLS, authentication) is a future of several KB,
        // and inline it would be part of every checkout's future.
        let mut raw: PgConnection = Box::pin(self.options.connect()).await?;
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
    /// The pool this scope first parked a connection in, and any others
    /// (an application with several `Database`s): so `close` knows where to
    /// look without a registry lock in the common case.
    first_pool: std::sync::OnceLock<Weak<Pool>>,
    other_pools: Mutex<Vec<Weak<Pool>>>,
}

impl Scope {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Scope {
            id: NEXT_SCOPE.fetch_add(1, Ordering::Relaxed),
            closed: AtomicBool::new(false),
            first_pool: std::sync::OnceLock::new(),
            other_pools: Mutex::new(Vec::new()),
        })
    }

    /// Gives back every connection parked for this scope; nothing is parked
    /// for it afterwards.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let Some(first) = self.first_pool.get() else {
            return; // never parked anything
        };
        if let Some(pool) = first.upgrade() {
            drop(pool.unpark(self.id));
        }
        let others = std::mem::take(&mut *lock(&self.other_pools));
        for pool in others.iter().filter_map(Weak::upgrade) {
            drop(pool.unpark(self.id));
        }
    }

    fn note_pool(&self, pool: &Arc<Pool>) {
        let first = self.first_pool.get_or_init(|| Arc::downgrade(pool));
        if std::ptr::eq(first.as_ptr(), Arc::as_ptr(pool)) {
            return;
        }
        let mut others = lock(&self.other_pools);
        if !others
            .iter()
            .any(|p| std::ptr::eq(p.as_ptr(), Arc::as_ptr(pool)))
        {
            others.push(Arc::downgrade(pool));
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

/// How long a parked connection stays its scope's alone while others wait.
/// Between the statements of a busy scope pass microseconds; a scope parked
/// for longer is doing something else (awaiting an HTTP call, sleeping), and
/// its connection serves better elsewhere.
pub(crate) const IDLE_BEFORE_TAKEN: Duration = Duration::from_millis(1);

struct ParkedConn {
    scope: u64,
    since: Instant,
    obj: Object,
}

/// Idle connections kept for a scope, oldest first.
#[derive(Default)]
struct Parked(Vec<ParkedConn>);

impl Parked {
    fn take_own(&mut self, scope: u64) -> Option<Object> {
        let at = self.0.iter().position(|p| p.scope == scope)?;
        Some(self.0.remove(at).obj)
    }
}

/// The pool of one `Database`.
pub(crate) struct Pool {
    inner: managed::Pool<Manager>,
    parked: Mutex<Parked>,
    /// Checkouts waiting for the pool right now.
    waiting: AtomicUsize,
    /// Wakes the task that gives idle parked connections back to the pool
    /// while someone waits (see [`reap`]); `reaping` while it is on it.
    reaper: Arc<Notify>,
    reaping: AtomicBool,
    try_now: Timeouts,
    acquire_timeout: Duration,
    connect_timeout: Duration,
    /// `[pool] backend_memory_limit_mib` in bytes; 0 when off or when the
    /// server will not tell (see [`check_memory`]).
    memory_limit: std::sync::atomic::AtomicU64,
    /// How often one connection's backend memory is checked, at most.
    memory_check_every: Duration,
}

impl Pool {
    /// Builds the pool and starts its reaper (so it needs a tokio runtime).
    pub(crate) fn new(config: &Config) -> Result<Arc<Self>> {
        let pool = &config.pool;
        let manager = Manager {
            options: config.connect_options()?,
            idle_timeout: pool.idle_timeout(),
            max_lifetime: pool.max_lifetime(),
            // Behind a transaction pooler a session `SET` would land on
            // whichever server connection, another client's; set it on the
            // server or role there instead (see the README).
            check_interval_ms: match config.multi_tenant.routing {
                crate::config::RoutingMode::Session => pool.client_connection_check_interval_ms,
                crate::config::RoutingMode::Transaction => 0,
            },
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
        let pool = Arc::new(Pool {
            inner,
            parked: Mutex::default(),
            waiting: AtomicUsize::new(0),
            reaper: Arc::new(Notify::new()),
            reaping: AtomicBool::new(false),
            try_now: Timeouts {
                wait: Some(Duration::ZERO),
                create: Some(pool.connect_timeout()),
                recycle: None,
            },
            acquire_timeout: pool.acquire_timeout(),
            connect_timeout: pool.connect_timeout(),
            // Behind a transaction pooler the backend is whichever server
            // connection the pooler picked: bound it with the pooler's own
            // `server_lifetime` there instead.
            memory_limit: std::sync::atomic::AtomicU64::new(match config.multi_tenant.routing {
                crate::config::RoutingMode::Session => {
                    pool.backend_memory_limit_mib.saturating_mul(1024 * 1024)
                }
                crate::config::RoutingMode::Transaction => 0,
            }),
            memory_check_every: Duration::from_secs_f64(pool.backend_memory_check_secs),
        });
        tokio::spawn(reap(Arc::downgrade(&pool), pool.reaper.clone()));
        Ok(pool)
    }

    /// A connection for a statement of `scope` (or of no scope): the
    /// scope's parked one if it has one, else one from the pool.
    pub(crate) async fn lease(self: &Arc<Self>, scope: Option<Arc<Scope>>) -> Result<Lease> {
        let parked = scope
            .as_ref()
            .and_then(|s| lock(&self.parked).take_own(s.id));
        let obj = match parked {
            Some(obj) => obj,
            None => self.checkout(scope.as_deref()).await?,
        };
        Ok(Lease {
            obj: Some(obj),
            pool: self.clone(),
            scope,
        })
    }

    async fn checkout(&self, scope: Option<&Scope>) -> Result<Object> {
        match self.inner.timeout_get(&self.try_now).await {
            Ok(obj) => return Ok(obj),
            Err(PoolError::Timeout(TimeoutType::Wait)) => {}
            Err(e) => return Err(self.pool_error(e)),
        }
        // The pool is exhausted. Announce the wait before looking at the
        // parked connections: a connection parked after this sees it and
        // wakes the reaper, one parked before is seen here.
        let _waiting = Waiting::new(self);
        {
            let mut parked = lock(&self.parked);
            if let Some(obj) = scope.and_then(|s| parked.take_own(s.id)) {
                return Ok(obj);
            }
            if !parked.0.is_empty() {
                drop(parked);
                self.wake_reaper();
            }
        }
        self.inner
            .timeout_get(&Timeouts {
                wait: Some(self.acquire_timeout),
                create: Some(self.connect_timeout),
                recycle: None,
            })
            .await
            .map_err(|e| self.pool_error(e))
    }

    fn pool_error(&self, e: PoolError<sqlx::Error>) -> Error {
        match e {
            PoolError::Timeout(TimeoutType::Create) => Error::PoolTimeout(self.connect_timeout),
            PoolError::Timeout(_) => Error::PoolTimeout(self.acquire_timeout),
            PoolError::Backend(e) => Error::db(e, None),
            PoolError::Closed | PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
                Error::PoolClosed
            }
        }
    }

    fn unpark(&self, scope: u64) -> Option<Object> {
        lock(&self.parked).take_own(scope)
    }

    fn wake_reaper(&self) {
        if !self.reaping.swap(true, Ordering::SeqCst) {
            self.reaper.notify_one();
        }
    }

    /// Takes back a connection its user is done with.
    fn give_back(self: &Arc<Self>, obj: Object, scope: Option<&Arc<Scope>>) {
        match obj.disposition() {
            Disposition::Close => drop(Object::take(obj)),
            Disposition::Settle => settle_in_background(obj),
            Disposition::Reuse if self.memory_check_due(&obj) => {
                check_memory_in_background(self.clone(), obj)
            }
            Disposition::Reuse => match scope {
                Some(scope) => self.park(obj, scope),
                None => drop(obj),
            },
        }
    }

    fn park(self: &Arc<Self>, obj: Object, scope: &Arc<Scope>) {
        {
            let mut parked = lock(&self.parked);
            let keeps_one = parked.0.iter().any(|p| p.scope == scope.id);
            if keeps_one || scope.closed.load(Ordering::SeqCst) {
                drop(parked);
                drop(obj); // back to the pool, which hands it to a waiter
                return;
            }
            parked.0.push(ParkedConn {
                scope: scope.id,
                since: Instant::now(),
                obj,
            });
        }
        scope.note_pool(self);
        // The scope may have closed between the check and `note_pool`; if
        // so its `close` may have missed this pool.
        if scope.closed.load(Ordering::SeqCst) {
            drop(self.unpark(scope.id));
        } else if self.waiting.load(Ordering::SeqCst) > 0 {
            self.wake_reaper();
        }
    }

    fn memory_check_due(&self, conn: &PgConn) -> bool {
        self.memory_limit.load(Ordering::Relaxed) > 0
            && conn.checked_at.elapsed() >= self.memory_check_every
    }

    pub(crate) fn status(&self) -> deadpool::Status {
        self.inner.status()
    }

    pub(crate) fn close(&self) {
        let parked = std::mem::take(&mut lock(&self.parked).0);
        drop(parked);
        self.inner.close();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // The reaper holds only a weak reference: wake it to see it is gone.
        self.reaper.notify_one();
    }
}

/// The reaper: while checkouts wait, gives every connection parked for
/// [`IDLE_BEFORE_TAKEN`] back to the pool, which hands it to the longest
/// waiter (its scope pays a path switch later). Waiters themselves only
/// wait on the pool, as they would without parking. Ends with the pool.
async fn reap(pool: Weak<Pool>, woken: Arc<Notify>) {
    loop {
        woken.notified().await;
        loop {
            let Some(p) = pool.upgrade() else { return };
            let next = {
                let mut parked = lock(&p.parked);
                let now = Instant::now();
                match parked.0.first() {
                    _ if p.waiting.load(Ordering::SeqCst) == 0 => None,
                    Some(first) if now.duration_since(first.since) >= IDLE_BEFORE_TAKEN => {
                        let idle = parked.0.remove(0).obj;
                        drop(parked);
                        drop(idle); // to the pool and its first waiter
                        continue;
                    }
                    Some(first) => Some(first.since + IDLE_BEFORE_TAKEN),
                    None => None,
                }
            };
            match next {
                Some(when) => {
                    drop(p);
                    tokio::time::sleep_until(tokio::time::Instant::from_std(when)).await;
                }
                None => {
                    p.reaping.store(false, Ordering::SeqCst);
                    // Parked or began waiting since the look above?
                    let again = p.waiting.load(Ordering::SeqCst) > 0
                        && !lock(&p.parked).0.is_empty()
                        && !p.reaping.swap(true, Ordering::SeqCst);
                    if !again {
                        break;
                    }
                }
            }
        }
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

/// Counts a checkout as waiting.
/// Asks the backend how much memory it holds, off any statement's path:
/// the connection goes back to the pool after one round trip, or is closed
/// when past the limit. A server that will not say (before PostgreSQL 14, or
/// a role that may not read `pg_backend_memory_contexts`) turns the check
/// off for the pool, once.
fn check_memory_in_background(pool: Arc<Pool>, mut obj: Object) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return drop(obj);
    };
    runtime.spawn(async move {
        obj.checked_at = Instant::now();
        let limit = pool.memory_limit.load(Ordering::Relaxed);
        // Busy while the query is out: if this task is dropped half-way, the
        // connection is closed rather than reused with a reply pending.
        obj.busy = true;
        let bytes = backend_bytes(&mut obj).await;
        obj.busy = false;
        match bytes {
            Ok(bytes) if bytes > limit => {
                tracing::debug!(target: "strav::pool", bytes, limit, "retiring a connection whose backend grew past the memory limit");
                drop(Object::take(obj));
            }
            Ok(_) => drop(obj),
            Err(sqlx::Error::Database(e)) => {
                tracing::warn!(target: "strav::pool", error = %e, "cannot read backend memory; [pool] backend_memory_limit_mib is not enforced (it needs PostgreSQL 14+ and the pg_read_all_stats role)");
                pool.memory_limit.store(0, Ordering::Relaxed);
                drop(obj);
            }
            Err(_) => drop(Object::take(obj)),
        }
    });
}

async fn backend_bytes(conn: &mut PgConn) -> std::result::Result<u64, sqlx::Error> {
    use sqlx::Row as _;
    let row =
        sqlx::raw_sql("SELECT sum(total_bytes)::bigint FROM pg_catalog.pg_backend_memory_contexts")
            .fetch_one(&mut conn.raw)
            .await?;
    Ok(u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0))
}

struct Waiting<'p>(&'p Pool);

impl<'p> Waiting<'p> {
    fn new(pool: &'p Pool) -> Self {
        pool.waiting.fetch_add(1, Ordering::SeqCst);
        Waiting(pool)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
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
