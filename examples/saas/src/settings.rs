//! What the service reads from its environment.

use std::net::SocketAddr;

/// Settings, from environment variables (`Settings::from_env`) or built in
/// code (tests).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `SAAS_ADDR`: where to listen (default `127.0.0.1:3000`).
    pub addr: SocketAddr,
    /// `SAAS_BASE_DOMAIN`: tenants are its subdomains (default `saas.localhost`).
    pub base_domain: String,
    /// `SAAS_TENANT_HEADER=1`: also take the tenant from `X-Tenant-ID`.
    /// Off by default: any client can set a header.
    pub tenant_header: bool,
    /// The database: `DATABASE_URL`, else `config/database.toml`.
    pub database: strav_orm::Config,
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct SettingsError {
    name: &'static str,
    message: String,
}

impl Settings {
    /// Reads the environment and `config/database.toml`.
    pub fn from_env() -> Result<Self, SettingsError> {
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        let addr = match var("SAAS_ADDR") {
            Some(a) => a.parse().map_err(|e| SettingsError {
                name: "SAAS_ADDR",
                message: format!("{a:?} is not an address like 127.0.0.1:3000: {e}"),
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };
        let tenant_header = match var("SAAS_TENANT_HEADER").as_deref() {
            None | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => {
                return Err(SettingsError {
                    name: "SAAS_TENANT_HEADER",
                    message: format!("{other:?} is neither 1/true nor 0/false"),
                })
            }
        };
        let database = strav_orm::Config::load().map_err(|e| SettingsError {
            name: "config/database.toml",
            message: e.to_string(),
        })?;
        Ok(Settings {
            addr,
            base_domain: var("SAAS_BASE_DOMAIN").unwrap_or_else(|| "saas.localhost".into()),
            tenant_header,
            database,
        })
    }
}
