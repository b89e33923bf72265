//! Is this name a tenant? The registry, asked once and remembered.
//!
//! A name a resolver produced enters a tenant scope only if it is a valid
//! [`SchemaName`] and a schema registered in `public.strav_schemas` for a
//! per-tenant domain, whose schema exists. The answer is cached in-process
//! (bounded; a positive answer lives longer than a negative one), so a
//! request for a known tenant costs no round trip for validation.
//!
//! Registry changes are announced with `NOTIFY` (see
//! [`strav_orm::SCHEMA_EVENTS_CHANNEL`]); [`TenantDirectory::listen`] keeps a
//! connection listening and forgets a deleted tenant the moment its
//! deletion commits, in every process, instead of at cache expiry. A
//! created tenant also drops a remembered "not a tenant", so it is served
//! from its first request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use moka::future::Cache;
use strav_orm::sqlx::postgres::{PgConnectOptions, PgListener};
use strav_orm::{without_schema, Database, SchemaEvent, SchemaName, SCHEMA_EVENTS_CHANNEL};
use tokio::task::AbortHandle;

use crate::error::TenantError;

/// What the registry said about a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Tenant,
    NotATenant,
}

/// Positive answers live `positive`, negative ones `negative`.
struct Lifetimes {
    positive: Duration,
    negative: Duration,
}

impl moka::Expiry<SchemaName, Known> for Lifetimes {
    fn expire_after_create(&self, _: &SchemaName, known: &Known, _: Instant) -> Option<Duration> {
        Some(match known {
            Known::Tenant => self.positive,
            Known::NotATenant => self.negative,
        })
    }
}

/// Checks names against the tenant registry, with a cache. Cheap to clone;
/// clones share the cache. Build one per process and give it to every
/// layer (HTTP and jobs).
#[derive(Clone)]
pub struct TenantDirectory {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    cache: Cache<SchemaName, Known>,
    /// Bumped by every invalidation: a lookup that raced one is used but
    /// not remembered.
    generation: AtomicU64,
    /// Round trips made to validate names (for tests and benchmarks).
    lookups: AtomicU64,
    listener: Mutex<Option<AbortHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.listener.lock().ok().and_then(|mut l| l.take()) {
            task.abort();
        }
    }
}

/// Settings of a [`TenantDirectory`].
#[derive(Debug, Clone)]
pub struct DirectoryBuilder {
    db: Database,
    capacity: u64,
    positive: Duration,
    negative: Duration,
}

impl DirectoryBuilder {
    /// Most names remembered (default 10,000).
    pub fn capacity(mut self, names: u64) -> Self {
        self.capacity = names;
        self
    }

    /// How long "is a tenant" is remembered (default 5 minutes). With
    /// [`TenantDirectory::listen`] running, a deletion is seen at once anyway.
    pub fn positive_ttl(mut self, ttl: Duration) -> Self {
        self.positive = ttl;
        self
    }

    /// How long "is not a tenant" is remembered (default 5 seconds): it
    /// spares the database a lookup per request for a name someone probes.
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative = ttl;
        self
    }

    /// The directory.
    pub fn build(self) -> TenantDirectory {
        let cache = Cache::builder()
            .max_capacity(self.capacity)
            .expire_after(Lifetimes {
                positive: self.positive,
                negative: self.negative,
            })
            .build();
        TenantDirectory {
            inner: Arc::new(Inner {
                db: self.db,
                cache,
                generation: AtomicU64::new(0),
                lookups: AtomicU64::new(0),
                listener: Mutex::new(None),
            }),
        }
    }
}

/// Why a lookup's answer may not be remembered.
#[derive(Debug)]
enum LookupError {
    Db(strav_orm::Error),
    /// The registry changed while the lookup ran: use, don't cache.
    Raced(Known),
}

/// A failed registry lookup, shared by every request that waited for it.
#[derive(Debug, thiserror::Error)]
#[error("{}", match &**.0 { LookupError::Db(e) => e.to_string(), LookupError::Raced(_) => String::new() })]
struct LookupFailed(Arc<LookupError>);

impl TenantDirectory {
    /// A directory over `db` with the default settings.
    pub fn new(db: &Database) -> Self {
        TenantDirectory::builder(db).build()
    }

    /// A directory over `db`, to configure.
    pub fn builder(db: &Database) -> DirectoryBuilder {
        DirectoryBuilder {
            db: db.clone(),
            capacity: 10_000,
            positive: Duration::from_secs(300),
            negative: Duration::from_secs(5),
        }
    }

    /// The database it checks against.
    pub fn database(&self) -> &Database {
        &self.inner.db
    }

    /// `candidate` as a tenant schema, or why it is not one. Runs no
    /// statement for an invalid name, and none for a name checked recently.
    pub async fn check(&self, candidate: &str) -> Result<SchemaName, TenantError> {
        let name = SchemaName::new(candidate).map_err(|e| match e {
            strav_orm::Error::InvalidSchemaName { reason, .. } => {
                TenantError::invalid(candidate, reason)
            }
            other => TenantError::invalid(candidate, other),
        })?;
        let known = match self.inner.cache.get(&name).await {
            Some(known) => known,
            None => self.look_up(&name).await?,
        };
        match known {
            Known::Tenant => Ok(name),
            Known::NotATenant => Err(TenantError::Unknown(name.to_string())),
        }
    }

    async fn look_up(&self, name: &SchemaName) -> Result<Known, TenantError> {
        let inner = &self.inner;
        let init = async {
            let generation = inner.generation.load(Ordering::SeqCst);
            let known = self.ask_registry(name).await.map_err(LookupError::Db)?;
            if inner.generation.load(Ordering::SeqCst) != generation {
                return Err(LookupError::Raced(known));
            }
            Ok(known)
        };
        // Concurrent misses for one name share a single lookup.
        match inner.cache.try_get_with(name.clone(), init).await {
            Ok(known) => Ok(known),
            Err(e) => match &*e {
                LookupError::Raced(known) => Ok(*known),
                LookupError::Db(_) => Err(TenantError::Unavailable(Arc::new(LookupFailed(e)))),
            },
        }
    }

    async fn ask_registry(&self, name: &SchemaName) -> strav_orm::Result<Known> {
        self.inner.lookups.fetch_add(1, Ordering::Relaxed);
        let db = &self.inner.db;
        // Outside any tenant, whatever scope the caller is in: the registry
        // lives in `public`.
        let domain: Result<Option<String>, _> = without_schema(
            db.sql(
                "SELECT s.domain FROM public.strav_schemas s \
                 JOIN pg_catalog.pg_namespace n ON n.nspname = s.name WHERE s.name = $1",
            )
            .bind(name.as_str())
            .fetch_optional_scalar(),
        )
        .await;
        let domain = match domain {
            Ok(domain) => domain,
            // No registry table yet: no tenant exists.
            Err(e) if e.sqlstate().as_deref() == Some("42P01") => None,
            Err(e) => return Err(e),
        };
        let per_tenant = &db.config().multi_tenant.tenant_domains;
        Ok(match domain {
            Some(d) if per_tenant.contains(&d) => Known::Tenant,
            _ => Known::NotATenant,
        })
    }

    /// Forgets what is known about `name` (its next request asks the registry).
    pub async fn forget(&self, name: &str) {
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(name) = SchemaName::new(name) {
            self.inner.cache.invalidate(&name).await;
        }
    }

    /// Forgets everything.
    pub fn forget_all(&self) {
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
        self.inner.cache.invalidate_all();
    }

    /// How many registry lookups this directory has made: a request for a
    /// cached tenant adds none.
    pub fn lookups(&self) -> u64 {
        self.inner.lookups.load(Ordering::Relaxed)
    }

    /// Starts listening for registry changes on the database's own
    /// connection settings: a deleted tenant is forgotten when its deletion
    /// commits. Returns once the `LISTEN` is in place. Needs a direct
    /// session (or a session-mode pooler); behind a transaction pooler use
    /// [`Self::listen_with`] with a direct address.
    pub async fn listen(&self) -> Result<(), TenantError> {
        let options = self
            .inner
            .db
            .config()
            .connect_options()
            .map_err(|e| TenantError::Unavailable(Arc::new(e)))?;
        self.listen_with(options).await
    }

    /// [`Self::listen`] over a connection made with `options`.
    pub async fn listen_with(&self, options: PgConnectOptions) -> Result<(), TenantError> {
        let pool = strav_orm::sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(options);
        let unavailable = |e: strav_orm::sqlx::Error| {
            TenantError::Unavailable(Arc::new(strav_orm::Error::from(e)))
        };
        let mut listener = PgListener::connect_with(&pool).await.map_err(unavailable)?;
        listener
            .listen(SCHEMA_EVENTS_CHANNEL)
            .await
            .map_err(unavailable)?;
        let weak = Arc::downgrade(&self.inner);
        let task = tokio::spawn(follow(listener, weak));
        if let Ok(mut slot) = self.inner.listener.lock() {
            if let Some(old) = slot.replace(task.abort_handle()) {
                old.abort();
            }
        }
        Ok(())
    }
}

/// Applies registry notifications until the directory is dropped.
async fn follow(mut listener: PgListener, directory: Weak<Inner>) {
    loop {
        let next = listener.try_recv().await;
        let Some(inner) = directory.upgrade() else {
            return;
        };
        let directory = TenantDirectory { inner };
        match next {
            Ok(Some(note)) => match SchemaEvent::parse(note.payload()) {
                Some(event) => {
                    tracing::debug!(target: "strav::tenant", schema = event.schema(), ?event, "registry changed");
                    directory.forget(event.schema()).await;
                }
                None => directory.forget_all(),
            },
            // The connection dropped and will be re-made: anything may have
            // happened meanwhile.
            Ok(None) => directory.forget_all(),
            Err(e) => {
                tracing::warn!(target: "strav::tenant", error = %e, "tenant registry listener failed; retrying");
                directory.forget_all();
                drop(directory);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
