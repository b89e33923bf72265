//! `Database`: the shared pool and the entry point to queries.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use sqlx::SqlSafeStr;

use crate::config::{Config, MultiTenantConfig};
use crate::connection::Connection;
use crate::core::Core;
use crate::error::{Error, Result};
use crate::exec::{self, Target};
use crate::pool::Pool;
use crate::route::Route;
use crate::search_path::SearchPath;
use crate::sql::Sql;
use crate::transaction::Tx;

/// A handle to one PostgreSQL database: a pool of connections shared by all
/// tenants. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Database {
    core: Arc<Core>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.core.pool.status();
        f.debug_struct("Database")
            .field("connections", &status.size)
            .field("idle", &status.available)
            .field("max", &status.max_size)
            .finish()
    }
}

impl Database {
    /// Connects with `DATABASE_URL`, else `config/database.toml` in the working
    /// directory, else the defaults (localhost:5432, database `strav`).
    pub async fn connect_from_config() -> Result<Self> {
        Self::connect_with(Config::load()?).await
    }

    /// Connects to `url` (`postgres://user:pass@host:port/db`) with default
    /// pool and multi-tenant settings.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(Config {
            connection: crate::config::ConnectionConfig::Url(url.to_owned()),
            ..Config::default()
        })
        .await
    }

    /// Connects with an explicit configuration. Opens one connection right
    /// away so that a wrong address or password fails here, not at the first query.
    ///
    /// With session routing (the default) it also checks that no connection
    /// pooler in transaction mode sits in between, which would let one
    /// tenant's path reach another's queries: [`Error::PoolerDetected`]
    /// names the setting to change.
    pub async fn connect_with(config: Config) -> Result<Self> {
        let mt = &config.multi_tenant;
        if mt.routing == crate::config::RoutingMode::Session && !mt.session_pooler {
            crate::pooler::refuse_transaction_pooler(&config.connect_options()?).await?;
        }
        let pool = Pool::new(&config)?;
        let db = Database {
            core: Arc::new(Core {
                pool,
                config,
                registry_ready: tokio::sync::OnceCell::new(),
                registry_seen: tokio::sync::OnceCell::new(),
            }),
        };
        drop(db.core.pool.lease(None).await?);
        Ok(db)
    }

    /// A raw SQL statement, routed by the current schema context when it
    /// runs. Bind values with [`Sql::bind`]; they are always sent as parameters.
    ///
    /// Like sqlx, this takes a `&'static str`; wrap SQL built at run time in
    /// [`sqlx::AssertSqlSafe`] after checking it cannot carry user input.
    pub fn sql(&self, sql: impl SqlSafeStr) -> Sql<'_> {
        Sql::new(self.target(), sql.into_sql_str())
    }

    /// Runs `f` in a transaction: commits when it returns `Ok`, rolls back on
    /// `Err` or panic (the panic then continues). Statements on `tx` run in
    /// the schema that was current when the transaction began.
    ///
    /// ```no_run
    /// # async fn demo(db: strav_orm::Database) -> strav_orm::Result<()> {
    /// let moved = db
    ///     .transaction(async |tx| {
    ///         tx.sql("UPDATE stock SET n = n - 1 WHERE id = $1").bind(1_i64).execute().await?;
    ///         tx.sql("UPDATE stock SET n = n + 1 WHERE id = $1").bind(2_i64).execute().await
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// The closure borrows the transaction (`&Tx` can be passed to any
    /// number of calls) and whatever it uses from the surrounding scope; no
    /// cloning per nested savepoint is needed (`tx.transaction(async |sp| ..)`).
    pub async fn transaction<F, T, E>(&self, f: F) -> std::result::Result<T, E>
    where
        F: AsyncFnOnce(&Tx) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        let tx = self.begin().await?;
        let outcome = AssertUnwindSafe(f(&tx)).catch_unwind().await;
        tx.finish(outcome).await
    }

    /// Begins a transaction routed to the current context's schema. Prefer
    /// [`Database::transaction`]; with `begin`, end it with [`Tx::commit`]
    /// or [`Tx::rollback`] (dropping it rolls back).
    pub async fn begin(&self) -> Result<Tx> {
        exec::begin(&self.core, None).await.map(Tx::new)
    }

    /// A connection routed to the current context's schema, for direct sqlx
    /// use (`sqlx::query!(...).fetch_all(&mut *conn)`). Strav cannot see what
    /// runs on it, so it forgets the connection's path and checks it when
    /// it is given back.
    pub async fn acquire(&self) -> Result<Connection> {
        self.acquire_routed(None).await
    }

    /// The configuration this database was opened with.
    pub fn config(&self) -> &Config {
        &self.core.config
    }

    /// Connections open and idle right now.
    pub fn pool_status(&self) -> PoolStatus {
        let s = self.core.pool.status();
        PoolStatus {
            open: s.size,
            idle: s.available,
            max: s.max_size,
        }
    }

    /// Closes the pool: idle connections close now, busy ones when returned.
    pub fn close(&self) {
        self.core.pool.close();
    }

    pub(crate) fn target(&self) -> Target<'_> {
        Target::Pool(&self.core)
    }

    pub(crate) fn multi_tenant(&self) -> &MultiTenantConfig {
        &self.core.config.multi_tenant
    }

    pub(crate) fn registry_ready(&self) -> &tokio::sync::OnceCell<()> {
        &self.core.registry_ready
    }

    pub(crate) fn registry_seen(&self) -> &tokio::sync::OnceCell<()> {
        &self.core.registry_seen
    }

    /// A statement on `path`, whatever the context.
    pub(crate) fn sql_on(&self, path: SearchPath, sql: impl SqlSafeStr) -> Sql<'_> {
        self.sql(sql).on_path(path)
    }

    /// A transaction on `path`, whatever the context.
    pub(crate) async fn begin_on(&self, path: SearchPath) -> Result<Tx> {
        exec::begin(&self.core, Some(path)).await.map(Tx::new)
    }

    /// A raw connection on `path` (or the context's), for work that must run
    /// statement by statement on one session.
    pub(crate) async fn acquire_routed(&self, path: Option<SearchPath>) -> Result<Connection> {
        let mt = self.multi_tenant();
        if mt.routing == crate::config::RoutingMode::Transaction {
            return Err(Error::SessionRequired {
                operation: "a connection for direct sqlx use (Database::acquire)".into(),
                instead: "use db.begin() and tx.connection(), which stay on one server connection until the transaction ends",
            });
        }
        let route = Route::resolve(mt, path)?;
        let mut lease = self.core.pool.lease(route.scope).await?;
        let conn = lease.conn();
        conn.busy = true;
        let set = conn.set_path(&route.path, &mt.shared_schemas).await;
        conn.busy = false;
        if let Err(e) = set {
            conn.observe(&e);
            return Err(Error::db(e, route.path.schema()));
        }
        Ok(Connection::new(lease, route.path))
    }
}

/// A snapshot of the pool's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open (idle or in use).
    pub open: usize,
    /// Connections idle in the pool.
    pub idle: usize,
    /// The most the pool will open.
    pub max: usize,
}
