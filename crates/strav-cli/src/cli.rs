//! The command line, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Strav: a schema-per-tenant ORM for PostgreSQL.
///
/// Commands that use the database connect with DATABASE_URL when set, else
/// with config/database.toml (or the file given with --config), else with the
/// defaults (localhost:5432, database `strav`, user `postgres`).
/// generate:models reads files only and never connects.
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

// Variants mirror the `family:action` command names.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write Rust models from database/schemas (needs no database)
    #[command(name = "generate:models", long_about = GENERATE_MODELS_ABOUT)]
    GenerateModels(GenerateModelsArgs),

    /// Write the migration a domain's definitions need beyond its existing migrations
    #[command(name = "generate:migration", long_about = GENERATE_MIGRATION_ABOUT)]
    GenerateMigration(GenerateMigrationArgs),

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

    /// Copy a schema into a new, registered schema (structure and migration version; rows with --with-data)
    #[command(name = "schema:clone", long_about = CLONE_ABOUT)]
    SchemaClone(SchemaCloneArgs),

    /// Write one schema to a file: structure, rows and migrations, from one snapshot
    #[command(name = "schema:export", long_about = EXPORT_ABOUT)]
    SchemaExport(SchemaExportArgs),

    /// Recreate an exported schema under a new name, in this or another database
    #[command(name = "schema:import", long_about = IMPORT_ABOUT)]
    SchemaImport(SchemaImportArgs),

    /// Apply pending migrations of a domain to its schema(s)
    #[command(name = "migrate")]
    Migrate(MigrateArgs),

    /// Revert the newest batch (or every batch from --batch=N) of a domain
    #[command(name = "rollback")]
    Rollback(RollbackArgs),

    /// Migrate every registered tenant schema, in parallel, with progress
    #[command(name = "migrate:all-schemas")]
    MigrateAllSchemas(MigrateAllArgs),

    /// Show applied and pending migrations and drift, per schema
    #[command(name = "migrate:status")]
    MigrateStatus(MigrateStatusArgs),
}

#[derive(Debug, Args)]
pub struct MigrationsDir {
    /// Directory of the migration files [default: database/migrations]
    #[arg(long, value_name = "DIR", default_value = "database/migrations")]
    pub migrations: PathBuf,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Domain whose migrations to apply (tenant: every registered schema of it)
    #[arg(long, value_name = "DOMAIN")]
    pub scope: String,

    /// Print what would run, and where, and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Schemas migrated at once [default: the pool size]
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,

    #[command(flatten)]
    pub dir: MigrationsDir,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Domain whose migrations to revert
    #[arg(long, value_name = "DOMAIN")]
    pub scope: String,

    /// Revert every batch >= N in every schema, newest first (default: each
    /// schema's newest batch)
    #[arg(long, value_name = "N")]
    pub batch: Option<i64>,

    /// Schemas rolled back at once [default: the pool size]
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,

    #[command(flatten)]
    pub dir: MigrationsDir,
}

#[derive(Debug, Args)]
pub struct MigrateAllArgs {
    /// Schemas migrated at once [default: the pool size]
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Start no further schema after the first failure
    #[arg(long)]
    pub fail_fast: bool,

    #[command(flatten)]
    pub dir: MigrationsDir,
}

#[derive(Debug, Args)]
pub struct MigrateStatusArgs {
    /// Domain to report on
    #[arg(long, value_name = "DOMAIN")]
    pub scope: String,

    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub dir: MigrationsDir,
}

#[derive(Debug, Args)]
pub struct SchemaCreateArgs {
    /// Name of the new schema, e.g. company_123 (^[a-z_][a-z0-9_]{0,62}$)
    pub name: String,

    /// Domain whose definitions the schema holds
    #[arg(long, default_value = "tenant", value_name = "DOMAIN")]
    pub domain: String,

    /// Also apply the domain's migrations (tenant onboarding in one step)
    #[arg(long)]
    pub migrate: bool,

    /// Directory of the migration files, with --migrate [default: database/migrations]
    #[arg(long, value_name = "DIR", default_value = "database/migrations")]
    pub migrations: PathBuf,
}

#[derive(Debug, Args)]
pub struct SchemaListArgs {
    /// Only schemas of this domain
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,

    /// Print one JSON object per line (JSON Lines) instead of a table
    #[arg(long)]
    pub json: bool,

    /// Print at most this many schemas
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Start after this name (the last one of the previous page)
    #[arg(long, value_name = "NAME")]
    pub after: Option<String>,
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

const GENERATE_MODELS_ABOUT: &str = "\
Write Rust models from database/schemas (needs no database)

Reads database/schemas/<domain>/<table>.toml and, if it exists, \
config/generators.toml, validates every definition, and writes mod.rs plus \
one <domain>.rs per domain into [output] models of config/generators.toml \
(default src/models). Files whose content is already right are left \
untouched. Generated files start with an @generated header: extend models \
in your own `impl` blocks, never by editing these files.";

#[derive(Debug, Args)]
pub struct GenerateModelsArgs {
    /// Domain to generate (its <domain>.rs and mod.rs), or `all` for every domain
    /// and the removal of files of domains that no longer exist
    #[arg(long, default_value = "all", value_name = "DOMAIN")]
    pub scope: String,

    /// Write nothing; exit 1 if the generated files are out of date (for CI)
    #[arg(long)]
    pub check: bool,

    /// Directory of the definitions [default: database/schemas]
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,

    /// Naming configuration [default: config/generators.toml, if it exists]
    #[arg(long, value_name = "PATH")]
    pub generators: Option<PathBuf>,

    /// Output directory [default: `[output] models` of the naming configuration, else src/models]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SchemaCloneArgs {
    /// The schema to copy
    pub source: String,

    /// Name of the new schema (^[a-z_][a-z0-9_]{0,62}$); it must not exist
    pub target: String,

    /// Also copy every table's rows and the sequences' positions
    #[arg(long)]
    pub with_data: bool,
}

#[derive(Debug, Args)]
pub struct SchemaExportArgs {
    /// The schema to export
    pub name: String,

    /// The file to write (replaced, once complete, if it exists)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SchemaImportArgs {
    /// A file written by schema:export
    pub file: PathBuf,

    /// Name of the new schema (^[a-z_][a-z0-9_]{0,62}$); it must not exist
    #[arg(long = "as", value_name = "NAME")]
    pub name: String,

    /// The database to import into [default: DATABASE_URL, else the config file's]
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Compare the file's migrations with these files instead of with what
    /// the target database's schemas of the domain applied
    #[arg(long, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
}

const EXPORT_ABOUT: &str = "\
Write one schema to a file: structure, rows and migrations, from one snapshot

Writes NAME's structure (everything schema:clone copies), every table's rows \
(COPY, text format) and its strav_migrations rows to FILE, all read in one \
REPEATABLE READ snapshot taken when no migration of NAME is half-way. The \
file starts with a header stating the format version, the domain, the source \
schema and the migration version, and ends with a SHA-256 of everything \
before it. It is written to FILE.partial and renamed to FILE when complete, so \
FILE is never half-written.";

const IMPORT_ABOUT: &str = "\
Recreate an exported schema under a new name, in this or another database

Checks the whole FILE first (signature, format version, lengths, SHA-256), \
then creates schema NAME with everything in FILE and registers it in FILE's \
domain, in one transaction: on any error nothing of NAME exists. Refuses, \
with exit code 2 and nothing changed: a damaged, truncated or foreign file; a \
NAME that exists or is registered; migrations that differ from the target's \
(behind, ahead, or other checksums). The target's migrations are the files \
in --migrations DIR when given, else what the target database's registered \
schemas of the domain have applied (when none has applied any, there is \
nothing to compare and the import goes ahead).

Moving a tenant to another database: stop its writes, then \
`strav schema:export acme --out acme.strav && strav schema:import acme.strav \
--as acme --database-url URL && strav schema:delete acme --force`.";

#[derive(Debug, Args)]
pub struct GenerateMigrationArgs {
    /// Domain to write the migration for (a directory of database/schemas)
    #[arg(long, value_name = "DOMAIN")]
    pub scope: String,

    /// What the migration does; also its file name ("add orders table" →
    /// <timestamp>_add_orders_table.up.sql)
    #[arg(long, value_name = "TEXT")]
    pub message: String,

    /// Directory of the definitions
    #[arg(long, value_name = "DIR", default_value = "database/schemas")]
    pub schemas: PathBuf,

    /// Naming configuration [default: config/generators.toml, if it exists]
    #[arg(long, value_name = "PATH")]
    pub generators: Option<PathBuf>,

    /// Directory of the migration files
    #[arg(long, value_name = "DIR", default_value = "database/migrations")]
    pub migrations: PathBuf,
}

const CLONE_ABOUT: &str = "\
Copy a schema into a new, registered schema

Recreates everything of SOURCE in TARGET, in one transaction (on any error \
TARGET does not exist): tables with their columns, defaults, identity and \
serial columns (with sequences of their own), keys, checks, indexes and \
foreign keys (those between SOURCE's tables point at TARGET's, those to \
other schemas such as public stay), enums and other types, views, functions, \
triggers, policies, comments, owners and privileges, and the rows of \
strav_migrations, so TARGET is at SOURCE's migration version. TARGET is \
registered in SOURCE's domain (tenant if SOURCE is not registered). Other \
rows are copied only with --with-data, and then sequences continue where \
SOURCE's are.";

const GENERATE_MIGRATION_ABOUT: &str = "\
Write the migration a domain's definitions need beyond its existing migrations

Applies the existing migrations of --scope to a throw-away shadow schema \
(strav_shadow_<random>, always dropped again), reads back what they create, \
compares it with database/schemas/<domain>, and writes \
database/migrations/<domain>/<YYYYMMDDHHMMSS>_<slug>.up.sql and .down.sql. \
Handles tables, columns (type, nullability, default, identity), primary keys, \
uniques, indexes, foreign keys and enums (create, add value). A rename cannot \
be told from a drop and an add: it is written as both, with a warning in the \
file and on stderr. When nothing changed it says so and writes nothing. Needs \
a database connection but no tenant schema.";
