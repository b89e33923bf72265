//! The command line, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Strav: a schema-per-tenant ORM for PostgreSQL.
///
/// Connects with DATABASE_URL when set, else with config/database.toml
/// (or the file given with --config), else with the defaults
/// (localhost:5432, database `strav`, user `postgres`).
#[derive(Debug, Parser)]
#[command(name = "strav", version, propagate_version = true)]
pub struct Cli {
    /// Path of the database configuration [default: config/database.toml, if it exists]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Print debug logs to stderr (RUST_LOG, when set, adds its own filters)
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The options every command shares.
#[derive(Debug, Clone)]
pub struct Global {
    /// `--config` as given; `None` means the default path, optional.
    pub config: Option<PathBuf>,
}

impl Cli {
    pub fn global(&self) -> Global {
        Global {
            config: self.config.clone(),
        }
    }
}

// Variants mirror the `family:action` command names; the shared prefix
// goes away as other families (migrate, generate:*) join.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a tenant schema and register it
    #[command(name = "schema:create")]
    SchemaCreate(SchemaCreateArgs),

    /// List the registered schemas
    #[command(name = "schema:list")]
    SchemaList(SchemaListArgs),

    /// Show the tables, rows and size of one schema
    #[command(name = "schema:stats")]
    SchemaStats(SchemaStatsArgs),

    /// Drop a registered schema with all its data (needs --force)
    #[command(name = "schema:delete")]
    SchemaDelete(SchemaDeleteArgs),
}

#[derive(Debug, Args)]
pub struct SchemaCreateArgs {
    /// Name of the new schema, e.g. company_123 (^[a-z_][a-z0-9_]{0,62}$)
    pub name: String,

    /// Domain whose definitions the schema holds
    #[arg(long, default_value = "tenant", value_name = "DOMAIN")]
    pub domain: String,
}

#[derive(Debug, Args)]
pub struct SchemaListArgs {
    /// Only schemas of this domain
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,

    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SchemaStatsArgs {
    /// Name of the schema
    pub name: String,

    /// Print a JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SchemaDeleteArgs {
    /// Name of the registered schema to drop
    pub name: String,

    /// Confirm that the schema and all its data are to be dropped
    #[arg(long)]
    pub force: bool,
}
