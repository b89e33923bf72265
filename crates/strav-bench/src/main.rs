//! Strav's benchmarks. Each command prints progress on stderr and, as its
//! last line on stdout, one JSON object with its figures.
//!
//! ```text
//! cargo run --release -p strav-bench -- routing
//! cargo run --release -p strav-bench -- models
//! cargo run --release -p strav-bench -- migrate [--tenants 1000]
//! cargo run --release -p strav-bench -- metrics --schemas 10000
//! cargo run --release -p strav-bench -- memory --tenants 10000
//! cargo run --release -p strav-bench -- scale --steps 1000,10000,100000
//! cargo run --release -p strav-bench -- pgbouncer   # needs scripts/ensure-pgbouncer.sh
//! cargo run --release -p strav-bench -- http
//! scripts/bench-calls.sh        # client instructions per lookup (callgrind)
//! ```
//!
//! Every run works in a database of its own, created at the start and
//! dropped at the end, on the server named by `DATABASE_URL` (default: the
//! local PostgreSQL).

mod calls;
mod fixture;
mod http;
mod memory;
mod metrics;
mod migrate;
mod models;
mod pgbouncer;
mod routing;
mod scale;
mod scratch;
mod workload;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "strav-bench", about = "Strav benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Primary-key lookups through db.sql() against plain sqlx, over many tenants.
    Routing(routing::Args),
    /// SchemaManager::get_all_schema_stats over many registered schemas.
    Metrics(metrics::Args),
    /// migrate:all-schemas against one schema at a time, no-op runs, onboarding.
    Migrate(migrate::Args),
    /// Primary-key lookups through a model (TenantOrder::find) against plain sqlx.
    Models(models::Args),
    /// One workload's lookups in sequence, for counting instructions (callgrind).
    Calls(calls::Args),
    /// Lookups and transactions through PgBouncer: Strav against plain sqlx.
    Pgbouncer(pgbouncer::Args),
    /// Backend memory over many tenants, with and without the tenant bound.
    Memory(memory::Args),
    /// How schema and migration operations grow to 100,000 tenants.
    Scale(scale::Args),
    /// GET /orders/{id} through the tenant layer against a hand-written axum + sqlx handler.
    Http(http::Args),
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Routing(args) => routing::run(args).await,
        Command::Metrics(args) => metrics::run(args).await,
        Command::Models(args) => models::run(args).await,
        Command::Migrate(args) => migrate::run(args).await,
        Command::Calls(args) => calls::run(args).await,
        Command::Pgbouncer(args) => pgbouncer::run(args).await,
        Command::Memory(args) => memory::run(args).await,
        Command::Scale(args) => scale::run(args).await,
        Command::Http(args) => http::run(args).await,
    };
    match result {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
