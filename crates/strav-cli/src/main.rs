//! `strav`: the command-line tool. This file only wires parsed arguments to
//! the commands; the work happens in `strav_orm` and `strav_codegen`.

mod cli;
mod commands;
mod exit;
mod logging;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

// One command at a time needs no worker threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    let global = &cli.global();
    let result = match cli.command {
        Command::GenerateModels(args) => commands::generate::models(global, args),
        Command::GenerateMigration(args) => {
            commands::generate_migration::generate_migration(global, args).await
        }
        Command::SchemaCreate(args) => commands::schema::create(global, args).await,
        Command::SchemaList(args) => commands::schema::list(global, args).await,
        Command::SchemaStats(args) => commands::schema::stats(global, args).await,
        Command::SchemaDelete(args) => commands::schema::delete(global, args).await,
        Command::SchemaClone(args) => commands::clone::clone(global, args).await,
        Command::SchemaExport(args) => commands::portable::export(global, args).await,
        Command::SchemaImport(args) => commands::portable::import(global, args).await,
        Command::Migrate(args) => commands::migrate::migrate(global, args).await,
        Command::Rollback(args) => commands::migrate::rollback(global, args).await,
        Command::MigrateAllSchemas(args) => commands::migrate::all_schemas(global, args).await,
        Command::MigrateStatus(args) => commands::migrate::status(global, args).await,
    };
    exit::finish(result)
}
