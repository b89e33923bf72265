//! `schema:clone`: copy a schema into a new one (`SchemaManager::clone_schema`).

use strav_orm::{SchemaManager, SchemaName};

use super::connect;
use crate::cli::{Global, SchemaCloneArgs};
use crate::exit::CliError;
use crate::output;

pub async fn clone(global: &Global, args: SchemaCloneArgs) -> Result<(), CliError> {
    // Bad names fail before any connection is attempted.
    SchemaName::new(&args.source)?;
    SchemaName::new(&args.target)?;
    let db = connect(global).await?;
    let result = SchemaManager::new(&db)
        .clone_schema(&args.source, &args.target)
        .with_data(args.with_data)
        .await;
    db.close();
    let report = result?;
    output::print(|w| {
        writeln!(
            w,
            "cloned schema {} into {} ({}, {} copied)",
            report.source,
            report.target,
            output::plural(report.tables, "table"),
            output::plural(report.rows_copied as usize, "row")
        )
    })
}
