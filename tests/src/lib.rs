//! Test harness: every test gets a database of its own.
//!
//! The server is `DATABASE_URL` when set, else the local PostgreSQL
//! (`postgres://postgres@127.0.0.1:5432/postgres`). [`TestDb::new`] creates a
//! uniquely named database and drops it when the `TestDb` goes out of scope,
//! even when the test panics, so tests run in parallel and leave nothing behind.

pub mod cancel;
pub mod dump;
pub mod fixtures;
pub mod pgbouncer;
pub mod stress;

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor};
use strav_orm::{Config, ConnectionConfig, Database};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The server tests run against.
pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database that exists for the life of this value.
pub struct TestDb {
    name: String,
    admin: PgConnectOptions,
}

impl TestDb {
    /// Creates a fresh, empty database.
    pub async fn new() -> Self {
        let admin: PgConnectOptions = server_url()
            .parse()
            .expect("DATABASE_URL is a postgres:// URL");
        let name = format!(
            "strav_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let mut conn = admin.connect().await.expect("connect to the test server");
        conn.execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await
            .expect("create the test database");
        conn.close().await.ok();
        TestDb { name, admin }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A `postgres://` URL for this database.
    pub fn url(&self) -> String {
        let o = &self.admin;
        let user = o.get_username();
        let host = o.get_host();
        let port = o.get_port();
        let base = server_url();
        // Keep a password from DATABASE_URL, if it had one.
        let auth = base
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .map(|(auth, _)| auth.to_owned())
            .unwrap_or_else(|| user.to_owned());
        format!("postgres://{auth}@{host}:{port}/{}", self.name)
    }

    /// A runtime configuration for this database with `max_connections`.
    pub fn config(&self, max_connections: usize) -> Config {
        let mut config = Config {
            connection: ConnectionConfig::Url(self.url()),
            ..Config::default()
        };
        config.pool.max_connections = max_connections;
        config.pool.acquire_timeout_secs = 30.0;
        config
    }

    /// A `Database` on this database with a pool of `max_connections`.
    pub async fn database(&self, max_connections: usize) -> Database {
        Database::connect_with(self.config(max_connections))
            .await
            .expect("connect to the test database")
    }

    /// A plain sqlx connection, outside Strav, to check what Strav did.
    pub async fn raw(&self) -> PgConnection {
        let opts: PgConnectOptions = self.url().parse().expect("valid url");
        opts.connect().await.expect("connect")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin = self.admin.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on:
        // the cleanup gets a thread and a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            rt.block_on(async move {
                let mut conn = admin.connect().await?;
                conn.execute(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .await?;
                conn.close().await
            })
        });
        if let Ok(Err(e)) = cleanup.join() {
            eprintln!("warning: could not drop test database {}: {e}", self.name);
        }
    }
}
