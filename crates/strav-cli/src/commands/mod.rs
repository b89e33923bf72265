//! One module per command family; each function is one subcommand.

pub mod clone;
pub mod generate;
pub mod generate_migration;
pub mod migrate;
pub mod portable;
pub mod schema;

use strav_orm::{Config, ConnectionConfig, Database};

use crate::cli::Global;
use crate::exit::CliError;

/// One command runs one statement at a time; two connections leave room for
/// the registry bootstrap without holding a server slot per pool default.
const CLI_MAX_CONNECTIONS: usize = 2;

/// Loads the configuration the way the runtime does and connects.
pub async fn connect(global: &Global) -> Result<Database, CliError> {
    connect_with_pool(global, Some(CLI_MAX_CONNECTIONS)).await
}

/// Like [`connect`], with the configured pool size capped at `max` (`None`:
/// as configured; migrations run one schema per connection).
pub async fn connect_with_pool(global: &Global, max: Option<usize>) -> Result<Database, CliError> {
    connect_to(global, max, None).await
}

/// Like [`connect_with_pool`], to `url` when given instead of DATABASE_URL
/// or the config file's connection (the file's other settings still apply).
pub async fn connect_to(
    global: &Global,
    max: Option<usize>,
    url: Option<&str>,
) -> Result<Database, CliError> {
    let mut config = match &global.config {
        // Named explicitly, so a missing file is a mistake, not "use defaults".
        Some(path) => Config::load_from(path, false)?,
        None => Config::load()?,
    };
    if let Some(url) = url {
        config.connection = ConnectionConfig::Url(url.to_owned());
    }
    if let Some(max) = max {
        config.pool.max_connections = config.pool.max_connections.min(max);
    }
    let target = describe_target(&config)?;
    tracing::debug!(target_db = %target, "connecting");
    Database::connect_with(config)
        .await
        .map_err(|e| CliError::connect(e, &target))
}

/// `host:port/database`, never the password, for error messages.
fn describe_target(config: &Config) -> Result<String, CliError> {
    let opts = config.connect_options()?;
    Ok(format!(
        "{}:{}/{}",
        opts.get_host(),
        opts.get_port(),
        opts.get_database().unwrap_or("(default database)")
    ))
}
