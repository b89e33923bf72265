//! `config/database.toml`: connection, pool and multi-tenant settings.
//!
//! String values may read the environment the way the seed project did:
//! `host = "env('DB_HOST', 'localhost')"` takes `$DB_HOST`, else the default.
//! `DATABASE_URL`, when set, replaces the whole `[database]` section.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sqlx::postgres::PgConnectOptions;

use crate::error::{Error, Result};
use crate::schema_name::{check_domain, SchemaIdent};

/// Where [`Config::load`] looks by default, relative to the working directory.
pub const DEFAULT_CONFIG_PATH: &str = "config/database.toml";

/// The whole runtime configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// How to reach the server.
    pub connection: ConnectionConfig,
    /// Pool sizing and timeouts.
    pub pool: PoolConfig,
    /// Schema-per-tenant settings.
    pub multi_tenant: MultiTenantConfig,
}

/// How to reach PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionConfig {
    /// A `postgres://` URL (from `DATABASE_URL` or `[database] url`).
    Url(String),
    /// Separate fields, as `[database]` lists them.
    Fields {
        host: String,
        port: u16,
        database: String,
        username: String,
        password: String,
    },
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig::Fields {
            host: "localhost".into(),
            port: 5432,
            database: "strav".into(),
            username: "postgres".into(),
            password: String::new(),
        }
    }
}

/// Pool sizing and timeouts (`[pool]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolConfig {
    /// Most connections the pool opens.
    pub max_connections: usize,
    /// Seconds to wait for a free connection before [`Error::PoolTimeout`].
    pub acquire_timeout_secs: f64,
    /// Seconds to wait for a new connection to open.
    pub connect_timeout_secs: f64,
    /// Close connections idle for longer than this many seconds (0: never).
    pub idle_timeout_secs: f64,
    /// Close connections older than this many seconds (0: never).
    pub max_lifetime_secs: f64,
    /// Prepared statements kept per connection (sqlx's LRU, keyed by SQL
    /// text) for raw SQL and unqualified model statements.
    pub statement_cache_capacity: usize,
    /// Additional prepared statements per connection for model statements
    /// qualified with a tenant's schema (see the README, "Model statements").
    pub tenant_statement_cache: usize,
    /// How often (milliseconds) the server checks, while it runs a
    /// statement, that the client is still there (PostgreSQL 14+'s
    /// `client_connection_check_interval`), so a statement whose future was
    /// dropped stops within this time instead of running to its end. 0: off.
    pub client_connection_check_interval_ms: u64,
    /// Retire a connection (close it after its current use; the pool opens
    /// another when needed) once it has served this many distinct tenants.
    /// Each PostgreSQL backend caches the catalog entries of every table it
    /// touched, so a long-lived connection over thousands of tenants grows
    /// without bound; this bounds it. 0: never.
    pub max_tenants_per_connection: usize,
    /// Retire a connection whose backend uses more memory than this
    /// (mebibytes), checked now and then in the background, never on a
    /// statement's path (PostgreSQL 14+, and the role must be allowed to read
    /// `pg_backend_memory_contexts`). 0: never check.
    pub backend_memory_limit_mib: u64,
    /// Seconds between two checks of one connection's backend memory.
    pub backend_memory_check_secs: f64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_connections: 10,
            acquire_timeout_secs: 30.0,
            connect_timeout_secs: 10.0,
            idle_timeout_secs: 600.0,
            max_lifetime_secs: 1800.0,
            statement_cache_capacity: 100,
            tenant_statement_cache: 1024,
            client_connection_check_interval_ms: 250,
            max_tenants_per_connection: 1000,
            backend_memory_limit_mib: 64,
            backend_memory_check_secs: 30.0,
        }
    }
}

impl PoolConfig {
    pub(crate) fn acquire_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.acquire_timeout_secs)
    }
    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.connect_timeout_secs)
    }
    pub(crate) fn idle_timeout(&self) -> Option<Duration> {
        (self.idle_timeout_secs > 0.0).then(|| Duration::from_secs_f64(self.idle_timeout_secs))
    }
    pub(crate) fn max_lifetime(&self) -> Option<Duration> {
        (self.max_lifetime_secs > 0.0).then(|| Duration::from_secs_f64(self.max_lifetime_secs))
    }
}

/// How a query reaches its tenant's schema (`[multi_tenant] routing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingMode {
    /// Each connection remembers the `search_path` it was last given and is
    /// switched only when the next query needs another one. Needs a direct
    /// connection or a session-mode pooler.
    #[default]
    Session,
    /// No session state is relied on, for a pooler in transaction mode
    /// (PgBouncer, RDS Proxy, Supavisor): raw SQL runs in a transaction that
    /// sets the path with `SET LOCAL`, model statements name their tenant's
    /// schema. See the README's "Deployment".
    Transaction,
}

/// Schema-per-tenant settings (`[multi_tenant]`).
#[derive(Debug, Clone)]
pub struct MultiTenantConfig {
    /// Whether tenant routing is on. When off, `with_schema` still validates
    /// names but every query runs on the default path.
    pub enabled: bool,
    /// Domains that get one schema per tenant.
    pub tenant_domains: Vec<String>,
    /// Schemas searched after the tenant's own (shared tables such as `users`).
    pub shared_schemas: Vec<SchemaIdent>,
    /// Keep the connection a `with_schema` scope first used until the scope
    /// ends, so a request's queries pay for one `search_path` switch, not one each.
    pub pin_connections: bool,
    /// See [`RoutingMode`].
    pub routing: RoutingMode,
    /// A connection pooler in *session* mode sits in front of PostgreSQL:
    /// session routing is safe through it, so the check for a transaction
    /// pooler at connect time is skipped.
    pub session_pooler: bool,
    /// With `routing = "transaction"`: the pooler keeps protocol-level
    /// prepared statements for its clients (PgBouncer 1.21+ with
    /// `max_prepared_statements` > 0, the default from 1.24), so statements
    /// may be prepared once and kept. `false` (the default, safe on every
    /// pooler): unnamed statements, each inside a transaction.
    pub pooler_prepared_statements: bool,
}

impl Default for MultiTenantConfig {
    fn default() -> Self {
        MultiTenantConfig {
            enabled: true,
            tenant_domains: vec!["tenant".into()],
            shared_schemas: vec![SchemaIdent::public()],
            pin_connections: true,
            routing: RoutingMode::Session,
            session_pooler: false,
            pooler_prepared_statements: false,
        }
    }
}

impl Config {
    /// Loads `config/database.toml` from the working directory if it exists
    /// (defaults otherwise); `DATABASE_URL` overrides the connection.
    pub fn load() -> Result<Self> {
        Self::load_from(Path::new(DEFAULT_CONFIG_PATH), true)
    }

    /// Loads `path`. When `optional` and the file is missing, defaults are used.
    pub fn load_from(path: &Path, optional: bool) -> Result<Self> {
        let mut config = match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path)?,
            Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => Config::default(),
            Err(e) => {
                return Err(Error::Config {
                    path: path.to_owned(),
                    message: format!("cannot read the file: {e}"),
                })
            }
        };
        if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            config.connection = ConnectionConfig::Url(url);
        }
        Ok(config)
    }

    /// Parses the text of a `database.toml`; `path` is used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let err = |message: String| Error::Config {
            path: path.to_owned(),
            message,
        };
        let mut value: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| err(e.to_string()))?;
        interpolate_table(&mut value, "").map_err(err)?;
        let raw: RawConfig = serde_path_to_error::deserialize(toml::Value::Table(value))
            .map_err(|e| err(format!("key `{}`: {}", e.path(), e.inner().message())))?;
        raw.into_config().map_err(err)
    }

    /// sqlx connect options for this configuration.
    pub fn connect_options(&self) -> Result<PgConnectOptions> {
        let opts = match &self.connection {
            ConnectionConfig::Url(url) => {
                url.parse::<PgConnectOptions>().map_err(|e| Error::Config {
                    path: PathBuf::from("DATABASE_URL"),
                    message: format!("not a valid postgres:// URL: {e}"),
                })?
            }
            ConnectionConfig::Fields {
                host,
                port,
                database,
                username,
                password,
            } => {
                let mut o = PgConnectOptions::new_without_pgpass()
                    .host(host)
                    .port(*port)
                    .database(database)
                    .username(username);
                if !password.is_empty() {
                    o = o.password(password);
                }
                o
            }
        };
        Ok(opts
            .statement_cache_capacity(
                self.pool.statement_cache_capacity + self.pool.tenant_statement_cache,
            )
            .application_name("strav"))
    }
}

// ---------------------------------------------------------------- raw form

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    pool: RawPool,
    #[serde(default)]
    multi_tenant: RawMultiTenant,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<String>,
    host: Option<String>,
    port: Option<Lenient<u16>>,
    database: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPool {
    max_connections: Option<Lenient<usize>>,
    acquire_timeout_secs: Option<Lenient<f64>>,
    connect_timeout_secs: Option<Lenient<f64>>,
    idle_timeout_secs: Option<Lenient<f64>>,
    max_lifetime_secs: Option<Lenient<f64>>,
    statement_cache_capacity: Option<Lenient<usize>>,
    tenant_statement_cache: Option<Lenient<usize>>,
    client_connection_check_interval_ms: Option<Lenient<u64>>,
    max_tenants_per_connection: Option<Lenient<usize>>,
    backend_memory_limit_mib: Option<Lenient<u64>>,
    backend_memory_check_secs: Option<Lenient<f64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMultiTenant {
    enabled: Option<bool>,
    tenant_domains: Option<Vec<String>>,
    shared_schemas: Option<Vec<String>>,
    pin_connections: Option<bool>,
    routing: Option<RoutingMode>,
    session_pooler: Option<bool>,
    pooler_prepared_statements: Option<bool>,
}

/// A number that may also be written as a string, so that
/// `port = "env('DB_PORT', 5432)"` works after interpolation.
#[derive(Clone, Copy)]
struct Lenient<T>(T);

impl<'de, T> Deserialize<'de> for Lenient<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<T> serde::de::Visitor<'_> for V<T>
        where
            T: std::str::FromStr,
            T::Err: std::fmt::Display,
        {
            type Value = Lenient<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number (or a string holding one)")
            }
            fn visit_str<E: serde::de::Error>(
                self,
                s: &str,
            ) -> std::result::Result<Self::Value, E> {
                s.trim()
                    .parse()
                    .map(Lenient)
                    .map_err(|e| E::custom(format!("{s:?} is not a valid value here: {e}")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Self::Value, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Self::Value, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl RawConfig {
    fn into_config(self) -> std::result::Result<Config, String> {
        let d = self.database;
        let connection = match d.url {
            Some(url) => ConnectionConfig::Url(url),
            None => {
                let ConnectionConfig::Fields {
                    host,
                    port,
                    database,
                    username,
                    password,
                } = ConnectionConfig::default()
                else {
                    unreachable!("the default is Fields")
                };
                ConnectionConfig::Fields {
                    host: d.host.unwrap_or(host),
                    port: d.port.map_or(port, |p| p.0),
                    database: d.database.unwrap_or(database),
                    username: d.username.unwrap_or(username),
                    password: d.password.unwrap_or(password),
                }
            }
        };
        let def = PoolConfig::default();
        let p = self.pool;
        let pool = PoolConfig {
            max_connections: p.max_connections.map_or(def.max_connections, |v| v.0),
            acquire_timeout_secs: p
                .acquire_timeout_secs
                .map_or(def.acquire_timeout_secs, |v| v.0),
            connect_timeout_secs: p
                .connect_timeout_secs
                .map_or(def.connect_timeout_secs, |v| v.0),
            idle_timeout_secs: p.idle_timeout_secs.map_or(def.idle_timeout_secs, |v| v.0),
            max_lifetime_secs: p.max_lifetime_secs.map_or(def.max_lifetime_secs, |v| v.0),
            statement_cache_capacity: p
                .statement_cache_capacity
                .map_or(def.statement_cache_capacity, |v| v.0),
            tenant_statement_cache: p
                .tenant_statement_cache
                .map_or(def.tenant_statement_cache, |v| v.0),
            client_connection_check_interval_ms: p
                .client_connection_check_interval_ms
                .map_or(def.client_connection_check_interval_ms, |v| v.0),
            max_tenants_per_connection: p
                .max_tenants_per_connection
                .map_or(def.max_tenants_per_connection, |v| v.0),
            backend_memory_limit_mib: p
                .backend_memory_limit_mib
                .map_or(def.backend_memory_limit_mib, |v| v.0),
            backend_memory_check_secs: p
                .backend_memory_check_secs
                .map_or(def.backend_memory_check_secs, |v| v.0),
        };
        if pool.max_connections == 0 {
            return Err("key `pool.max_connections`: must be at least 1".into());
        }
        for (key, v) in [
            ("acquire_timeout_secs", pool.acquire_timeout_secs),
            ("connect_timeout_secs", pool.connect_timeout_secs),
            ("idle_timeout_secs", pool.idle_timeout_secs),
            ("max_lifetime_secs", pool.max_lifetime_secs),
            ("backend_memory_check_secs", pool.backend_memory_check_secs),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!(
                    "key `pool.{key}`: must be a number of seconds >= 0, found {v}"
                ));
            }
        }
        let def = MultiTenantConfig::default();
        let m = self.multi_tenant;
        let shared_schemas = match m.shared_schemas {
            None => def.shared_schemas,
            Some(names) => names
                .iter()
                .map(|n| SchemaIdent::new(n))
                .collect::<Result<Vec<_>>>()
                .map_err(|e| format!("key `multi_tenant.shared_schemas`: {e}"))?,
        };
        let tenant_domains = m.tenant_domains.unwrap_or(def.tenant_domains);
        for dom in &tenant_domains {
            check_domain(dom).map_err(|e| format!("key `multi_tenant.tenant_domains`: {e}"))?;
        }
        Ok(Config {
            connection,
            pool,
            multi_tenant: MultiTenantConfig {
                enabled: m.enabled.unwrap_or(def.enabled),
                tenant_domains,
                shared_schemas,
                pin_connections: m.pin_connections.unwrap_or(def.pin_connections),
                routing: m.routing.unwrap_or(def.routing),
                session_pooler: m.session_pooler.unwrap_or(def.session_pooler),
                pooler_prepared_statements: m
                    .pooler_prepared_statements
                    .unwrap_or(def.pooler_prepared_statements),
            },
        })
    }
}

// ------------------------------------------------------- env interpolation

fn interpolate_table(table: &mut toml::Table, prefix: &str) -> std::result::Result<(), String> {
    for (key, value) in table.iter_mut() {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        interpolate_value(value, &path)?;
    }
    Ok(())
}

fn interpolate_value(value: &mut toml::Value, path: &str) -> std::result::Result<(), String> {
    match value {
        toml::Value::String(s) => {
            if let Some(new) = interpolate_str(s, |k| std::env::var(k).ok())
                .map_err(|e| format!("key `{path}`: {e}"))?
            {
                *s = new;
            }
        }
        toml::Value::Table(t) => interpolate_table(t, path)?,
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_value(item, &format!("{path}[{i}]"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Expands a value of the form `env('NAME')` or `env('NAME', default)`.
/// Returns `Ok(None)` for strings that are not an `env(...)` call.
fn interpolate_str(
    s: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> std::result::Result<Option<String>, String> {
    let t = s.trim();
    let Some(inner) = t.strip_prefix("env(").and_then(|r| r.strip_suffix(')')) else {
        return Ok(None);
    };
    let (name, default) = match split_args(inner) {
        Some(parts) => parts,
        None => {
            return Err(format!(
                "malformed {t:?}; write env('NAME') or env('NAME', 'default')"
            ))
        }
    };
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!(
            "{name:?} is not an environment variable name; write env('NAME') or env('NAME', 'default')"
        ));
    }
    match (lookup(&name), default) {
        (Some(v), _) => Ok(Some(v)),
        (None, Some(d)) => Ok(Some(d)),
        (None, None) => Err(format!(
            "environment variable {name} is not set and {t:?} gives no default; set it or write env('{name}', 'default')"
        )),
    }
}

/// Splits `'NAME', 'default'` into its two arguments (quotes removed).
fn split_args(inner: &str) -> Option<(String, Option<String>)> {
    let unquote = |a: &str| -> Option<String> {
        let a = a.trim();
        for q in ['\'', '"'] {
            if let Some(v) = a.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
                return Some(v.to_owned());
            }
        }
        // Bare numbers and words are allowed as defaults: env('DB_PORT', 5432).
        (!a.is_empty() && !a.contains(['\'', '"', ','])).then(|| a.to_owned())
    };
    match inner.split_once(',') {
        None => Some((unquote(inner)?, None)),
        Some((name, default)) => Some((unquote(name)?, Some(unquote(default)?))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn env_call_forms() {
        let env = env_of(&[("DB_HOST", "db.internal")]);
        assert_eq!(
            interpolate_str("env('DB_HOST', 'localhost')", &env)
                .unwrap()
                .as_deref(),
            Some("db.internal")
        );
        assert_eq!(
            interpolate_str("env('DB_PORT', 5432)", &env)
                .unwrap()
                .as_deref(),
            Some("5432")
        );
        assert_eq!(
            interpolate_str("env(\"DB_USER\", \"postgres\")", &env)
                .unwrap()
                .as_deref(),
            Some("postgres")
        );
        assert_eq!(interpolate_str("plain", &env).unwrap(), None);
        assert!(interpolate_str("env('MISSING')", &env)
            .unwrap_err()
            .contains("MISSING is not set"));
        assert!(interpolate_str("env('A B', 'x')", &env)
            .unwrap_err()
            .contains("not an environment variable name"));
        assert!(interpolate_str("env()", &env).is_err());
    }

    #[test]
    fn parses_full_file() {
        let text = r#"
[database]
host = "h"
port = "6543"
database = "d"
username = "u"
password = "p"

[pool]
max_connections = 4
acquire_timeout_secs = 2.5

[multi_tenant]
enabled = true
tenant_domains = ["tenant", "shop"]
shared_schemas = []
routing = "transaction"
"#;
        let c = Config::parse(text, Path::new("config/database.toml")).unwrap();
        assert_eq!(
            c.connection,
            ConnectionConfig::Fields {
                host: "h".into(),
                port: 6543,
                database: "d".into(),
                username: "u".into(),
                password: "p".into()
            }
        );
        assert_eq!(c.pool.max_connections, 4);
        assert_eq!(c.pool.acquire_timeout(), Duration::from_millis(2500));
        assert_eq!(c.multi_tenant.tenant_domains, ["tenant", "shop"]);
        assert!(c.multi_tenant.shared_schemas.is_empty());
        assert_eq!(c.multi_tenant.routing, RoutingMode::Transaction);
    }

    #[test]
    fn errors_name_file_and_key() {
        let p = Path::new("config/database.toml");
        let e = Config::parse("[pool]\nmax_connections = \"lots\"\n", p)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("config/database.toml: key `pool.max_connections`"),
            "{e}"
        );
        let e = Config::parse("[pool]\nmax_conections = 3\n", p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("max_conections") && e.contains("max_connections"),
            "{e}"
        );
        let e = Config::parse("[pool\n", p).unwrap_err().to_string();
        assert!(
            e.starts_with("config/database.toml: ") && e.contains("line 1"),
            "{e}"
        );
        let e = Config::parse("[multi_tenant]\nshared_schemas = [\"Bad-Name\"]\n", p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("multi_tenant.shared_schemas") && e.contains("Bad-Name"),
            "{e}"
        );
        let e = Config::parse("[multi_tenant]\nrouting = \"magic\"\n", p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("multi_tenant.routing") && e.contains("session"),
            "{e}"
        );
        let e = Config::parse("[pool]\nmax_connections = 0\n", p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 1"), "{e}");
    }

    #[test]
    fn missing_optional_file_gives_defaults() {
        let c = Config::load_from(Path::new("/nonexistent/strav/database.toml"), true).unwrap();
        assert_eq!(c.pool.max_connections, 10);
        let e =
            Config::load_from(Path::new("/nonexistent/strav/database.toml"), false).unwrap_err();
        assert!(e.to_string().contains("cannot read the file"));
    }
}
