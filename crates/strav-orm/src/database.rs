//! `Database`: the shared pool and the entry point to queries.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use deadpool::managed::{PoolError, TimeoutType};
use deadpool::Runtime;
use sqlx::SqlSafeStr;

use crate::config::{Config, MultiTenantConfig};
use crate::context::current_schema_context;
use crate::error::{Error, Result};
use crate::pool::{Manager, Object, Pool};
use crate::sql::Sql;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A handle to one PostgreSQL database: a pool of connections shared by all
/// tenants. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

struct Inner {
    id: u64,
    pool: Pool,
    config: Config,
    pub(crate) registry_ready: tokio::sync::OnceCell<()>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.inner.pool.status();
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
    pub async fn connect_with(config: Config) -> Result<Self> {
        let manager = Manager {
            options: config.connect_options()?,
            idle_timeout: config.pool.idle_timeout(),
            max_lifetime: config.pool.max_lifetime(),
        };
        let pool = Pool::builder(manager)
            .max_size(config.pool.max_connections)
            .wait_timeout(Some(config.pool.acquire_timeout()))
            .create_timeout(Some(config.pool.connect_timeout()))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| Error::Config {
                path: crate::config::DEFAULT_CONFIG_PATH.into(),
                message: format!("cannot build the connection pool: {e}"),
            })?;
        let db = Database {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                pool,
                config,
                registry_ready: tokio::sync::OnceCell::new(),
            }),
        };
        drop(db.checkout().await?);
        Ok(db)
    }

    /// A raw SQL statement, routed by the current schema context when it
    /// runs. Bind values with [`Sql::bind`]; they are always sent as parameters.
    ///
    /// Like sqlx, this takes a `&'static str`; wrap SQL built at run time in
    /// [`sqlx::AssertSqlSafe`] after checking it cannot carry user input.
    pub fn sql(&self, sql: impl SqlSafeStr) -> Sql<'_> {
        Sql::on_database(self, sql.into_sql_str())
    }

    /// A connection routed to the current context's schema, for direct sqlx
    /// use (`sqlx::query!(...).fetch_all(&mut *conn)`). Strav cannot see what
    /// runs on it, so it forgets the connection's path when it is returned.
    pub async fn acquire(&self) -> Result<crate::Connection> {
        let ctx = current_schema_context();
        let key = self.route(ctx.as_ref())?;
        let mut lease = self.lease(ctx.as_ref()).await?;
        self.ensure_session_path(lease.conn(), &key)
            .await
            .map_err(|e| Error::db(e, key.schema()))?;
        Ok(crate::Connection::new(lease, key))
    }

    /// A connection on `key`'s path, whatever the context.
    pub(crate) async fn acquire_on_path(
        &self,
        key: crate::routing::PathKey,
    ) -> Result<crate::Connection> {
        let ctx = current_schema_context();
        let mut lease = self.lease(ctx.as_ref()).await?;
        self.ensure_session_path(lease.conn(), &key)
            .await
            .map_err(|e| Error::db(e, key.schema()))?;
        Ok(crate::Connection::new(lease, key))
    }

    /// The configuration this database was opened with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Connections open and idle right now.
    pub fn pool_status(&self) -> PoolStatus {
        let s = self.inner.pool.status();
        PoolStatus {
            open: s.size,
            idle: s.available,
            max: s.max_size,
        }
    }

    /// Closes the pool: idle connections close now, busy ones when returned.
    pub fn close(&self) {
        self.inner.pool.close();
    }

    pub(crate) fn multi_tenant(&self) -> &MultiTenantConfig {
        &self.inner.config.multi_tenant
    }

    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    pub(crate) fn registry_ready(&self) -> &tokio::sync::OnceCell<()> {
        &self.inner.registry_ready
    }

    pub(crate) async fn checkout(&self) -> Result<Object> {
        self.inner.pool.get().await.map_err(|e| match e {
            PoolError::Timeout(TimeoutType::Create) => {
                Error::PoolTimeout(self.inner.config.pool.connect_timeout())
            }
            PoolError::Timeout(_) => Error::PoolTimeout(self.inner.config.pool.acquire_timeout()),
            PoolError::Backend(e) => Error::db(e, None),
            PoolError::Closed => Error::PoolClosed,
            PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => Error::PoolClosed,
        })
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
