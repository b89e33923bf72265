//! `import_schema`: a file from `export_schema` recreated as a new,
//! registered schema, in one transaction (see the module docs of `portable`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::format::{self, MigrationRow, Replay, Verified};
use super::{quote_ident, FileProblem, ImportReport, MigrationMismatch, MigrationReference};
use crate::clone;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::migrate::status::applied_rows;
use crate::migrate::tracking::TRACKING_TABLE;
use crate::migrate::Migrations;
use crate::registry;
use crate::schema_name::{SchemaIdent, SchemaName};
use crate::search_path::SearchPath;
use crate::transaction::Tx;

pub(crate) async fn import(
    db: &Database,
    files: Option<&Migrations>,
    path: &Path,
    name: &str,
) -> Result<ImportReport> {
    let target = SchemaName::new(name)?;
    // Before any statement: the whole file, checksum included.
    let verified = format::verify(path).await?;
    let domain = verified.header.domain.clone();

    // Refusals read only: a refused import leaves the database as it was,
    // not even a registry table is created.
    let exists: bool = db
        .sql_on(
            SearchPath::Default,
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)",
        )
        .bind(target.as_str())
        .fetch_scalar()
        .await?;
    if exists
        || registry::domain_of(db, &SchemaIdent::from(&target))
            .await?
            .is_some()
    {
        return Err(Error::SchemaAlreadyExists(target.to_string()));
    }
    let checked_against =
        check_migrations(db, files, &target, &domain, &verified.migrations).await?;

    let tx = db.begin_on(SearchPath::Default).await?;
    let replayed = async {
        // In the transaction: a failed import leaves no registry behind either.
        registry::ensure_in(db, &tx).await?;
        replay(&tx, path, &verified, &target).await
    }
    .await;
    match replayed {
        Ok(rows) => {
            tx.commit().await?;
            let h = &verified.header;
            let s = &verified.structure;
            tracing::info!(schema = %target, source = %h.source_schema, path = %path.display(), rows, "schema imported");
            Ok(ImportReport {
                schema: target.to_string(),
                domain,
                source_schema: h.source_schema.clone(),
                migration_version: h.migration_version,
                migrations: verified.migrations.len(),
                tables: s.tables,
                views: s.views,
                functions: s.functions,
                types: s.types,
                rows,
                checked_against,
            })
        }
        Err(e) => {
            // Dropping would roll back too; this gives the connection back now.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// Compares the file's `strav_migrations` rows with the reference (see
/// [`MigrationReference`]): the same versions with the same checksums, or a
/// [`MigrationMismatch`] naming the versions that differ.
async fn check_migrations(
    db: &Database,
    files: Option<&Migrations>,
    target: &SchemaName,
    domain: &str,
    rows: &[MigrationRow],
) -> Result<MigrationReference> {
    // version -> the checksums the reference knows for it
    let mut reference: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    let against = match files {
        Some(files) => {
            for m in files.domain(domain) {
                reference
                    .entry(m.version)
                    .or_default()
                    .insert(m.checksum.clone());
            }
            MigrationReference::Files
        }
        None => {
            let schemas: Vec<SchemaIdent> = registry::list(db, Some(domain))
                .await?
                .iter()
                .filter_map(|s| SchemaIdent::new(&s.name).ok())
                .collect();
            let applied = applied_rows(db, &schemas).await?;
            let mut counted = 0;
            for rows in applied.values().filter(|r| !r.is_empty()) {
                counted += 1;
                for r in rows {
                    reference
                        .entry(r.version)
                        .or_default()
                        .insert(r.checksum.clone());
                }
            }
            if counted == 0 {
                return Ok(MigrationReference::Unchecked);
            }
            MigrationReference::Database { schemas: counted }
        }
    };
    let file: BTreeMap<i64, &str> = rows
        .iter()
        .map(|r| (r.version, r.checksum.as_str()))
        .collect();
    let behind: Vec<i64> = reference
        .keys()
        .filter(|v| !file.contains_key(v))
        .copied()
        .collect();
    let ahead: Vec<i64> = file
        .keys()
        .filter(|v| !reference.contains_key(v))
        .copied()
        .collect();
    let changed: Vec<i64> = file
        .iter()
        .filter(|(v, c)| reference.get(v).is_some_and(|known| !known.contains(**c)))
        .map(|(v, _)| *v)
        .collect();
    if behind.is_empty() && ahead.is_empty() && changed.is_empty() {
        return Ok(against);
    }
    Err(Error::MigrationMismatch(Box::new(MigrationMismatch {
        schema: target.to_string(),
        domain: domain.to_owned(),
        against,
        file_version: file.keys().next_back().copied(),
        target_version: reference.keys().next_back().copied(),
        behind,
        ahead,
        changed,
    })))
}

/// Runs the file in `tx`: the schema and its objects, the migrations, the
/// rows, the sequences, what follows the rows, the registry row. Returns the
/// rows imported (`strav_migrations` not counted).
async fn replay(tx: &Tx, path: &Path, verified: &Verified, target: &SchemaName) -> Result<u64> {
    let header = &verified.header;
    let structure = &verified.structure;
    // How the server writes the name where `%I` would (quoted only if it
    // must be), for where the catalog wrote the placeholder that way.
    let bare: String = tx
        .sql("SELECT pg_catalog.quote_ident($1)")
        .bind(target.as_str())
        .fetch_scalar()
        .await?;
    let quoted_placeholder = format!("\"{}\"", header.placeholder);
    let retarget = |stmt: &str| {
        stmt.replace(&quoted_placeholder, &target.quoted())
            .replace(&header.placeholder, &bare)
    };

    let mut create = format!(
        "SET LOCAL search_path TO {q}, pg_catalog, pg_temp;\n\
         SET LOCAL check_function_bodies TO off;\n\
         SET LOCAL row_security TO off;\n",
        q = target.quoted()
    );
    for (name, value) in &header.copy_settings {
        // Only the settings Strav writes, with values as SQL literals.
        if super::COPY_SETTINGS.iter().any(|(n, _)| n == name) {
            create.push_str(&format!(
                "SET LOCAL {name} TO '{}';\n",
                value.replace('\'', "''")
            ));
        }
    }
    create.push_str(&format!("CREATE SCHEMA {};\n", target.quoted()));
    let statements: Vec<String> = structure.create.iter().map(|s| retarget(s)).collect();
    clone::push_all(&mut create, &statements);
    clone::script(tx, create, target).await?;

    if !verified.migrations.is_empty() {
        insert_migrations(tx, target, &verified.migrations).await?;
    }

    let mut file = Replay::open(path, verified).await?;
    let mut rows = 0;
    for section in verified.data_sections() {
        let table = section.table.as_deref().unwrap_or_default();
        let columns = section
            .columns
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        let copy = format!(
            "COPY {}.{}{columns} FROM STDIN",
            target.quoted(),
            quote_ident(table)
        );
        let copied = copy_in(tx, &copy, &mut file, section.length, target).await?;
        if Some(copied) != section.rows {
            return Err(Error::ExportFile {
                path: path.to_owned(),
                problem: FileProblem::Malformed(format!(
                    "table {table:?}: {copied} rows loaded, the header announces {}",
                    section.rows.unwrap_or_default()
                )),
            });
        }
        rows += copied;
    }
    // The whole file was read twice and matched both times before anything
    // commits.
    file.finish().await?;

    if !structure.sequences.is_empty() {
        let names: Vec<&str> = structure
            .sequences
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        let values: Vec<i64> = structure.sequences.iter().map(|s| s.last_value).collect();
        let called: Vec<bool> = structure.sequences.iter().map(|s| s.is_called).collect();
        tx.sql(
            "SELECT pg_catalog.setval(format('%I.%I', $1::text, s.name)::regclass, s.value, s.called)
             FROM unnest($2::text[], $3::int8[], $4::bool[]) AS s(name, value, called)",
        )
        .bind(target.as_str())
        .bind(&names)
        .bind(&values)
        .bind(&called)
        .fetch_rows()
        .await?;
    }

    let mut after = String::new();
    let statements: Vec<String> = structure.after.iter().map(|s| retarget(s)).collect();
    clone::push_all(&mut after, &statements);
    after.push_str(&registry::insert_sql(target, &header.domain));
    clone::script(tx, after, target).await?;
    Ok(rows)
}

async fn insert_migrations(tx: &Tx, target: &SchemaName, rows: &[MigrationRow]) -> Result<()> {
    let versions: Vec<i64> = rows.iter().map(|r| r.version).collect();
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let checksums: Vec<&str> = rows.iter().map(|r| r.checksum.as_str()).collect();
    let batches: Vec<i64> = rows.iter().map(|r| r.batch).collect();
    let applied: Vec<DateTime<Utc>> = rows.iter().map(|r| r.applied_at).collect();
    let durations: Vec<i64> = rows.iter().map(|r| r.duration_ms).collect();
    tx.sql(AssertSqlSafe(format!(
        "INSERT INTO {}.{TRACKING_TABLE} (version, name, checksum, batch, applied_at, duration_ms)
         SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[], $5::timestamptz[], $6::int8[])",
        target.quoted()
    )))
    .bind(&versions)
    .bind(&names)
    .bind(&checksums)
    .bind(&batches)
    .bind(&applied)
    .bind(&durations)
    .execute()
    .await
    .map(drop)
}

/// Streams `length` bytes of the file into `COPY ... FROM STDIN`; returns
/// the rows loaded.
async fn copy_in(
    tx: &Tx,
    copy: &str,
    file: &mut Replay<'_>,
    length: u64,
    target: &SchemaName,
) -> Result<u64> {
    let db_err = |e| Error::db(e, Some(target.as_str()));
    let mut conn = tx.connection().await;
    let mut sink = conn.copy_in_raw(copy).await.map_err(db_err)?;
    let mut left = length;
    while left > 0 {
        let chunk = match file.read(left).await {
            Ok(chunk) => chunk,
            Err(e) => {
                let _ = sink.abort("the export file could not be read").await;
                return Err(e);
            }
        };
        left -= chunk.len() as u64;
        if let Err(e) = sink.send(chunk).await {
            let _ = sink.abort("sending failed").await;
            return Err(db_err(e));
        }
    }
    sink.finish().await.map_err(db_err)
}
