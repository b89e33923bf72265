//! A database that exists for one benchmark run.

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor};

pub struct ScratchDb {
    pub name: String,
    admin: PgConnectOptions,
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl ScratchDb {
    pub async fn create(tag: &str) -> Result<Self, BoxError> {
        let url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let admin: PgConnectOptions = url.parse()?;
        let name = format!("strav_bench_{tag}_{}", std::process::id());
        let mut conn = admin.connect().await?;
        conn.execute(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .await?;
        conn.execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await?;
        conn.close().await?;
        Ok(ScratchDb { name, admin })
    }

    /// Connect options for the scratch database.
    pub fn options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name)
    }

    /// A URL for Strav's config.
    pub fn url(&self) -> String {
        let o = &self.admin;
        format!(
            "postgres://{}@{}:{}/{}",
            o.get_username(),
            o.get_host(),
            o.get_port(),
            self.name
        )
    }

    /// Strav's configuration for this database with a pool of `connections`.
    pub fn config(&self, connections: usize) -> strav_orm::Config {
        let mut config = strav_orm::Config {
            connection: strav_orm::ConnectionConfig::Url(self.url()),
            ..strav_orm::Config::default()
        };
        config.pool.max_connections = connections;
        config
    }

    /// A Strav `Database` on this database with a pool of `connections`.
    pub async fn database(&self, connections: usize) -> Result<strav_orm::Database, BoxError> {
        Ok(strav_orm::Database::connect_with(self.config(connections)).await?)
    }

    pub async fn drop_now(self) -> Result<(), BoxError> {
        let mut conn = self.admin.connect().await?;
        conn.execute(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        )))
        .await?;
        conn.close().await?;
        Ok(())
    }
}
