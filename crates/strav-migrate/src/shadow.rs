//! The shadow schema: what a domain's existing migrations create, read back
//! from PostgreSQL's catalogs.
//!
//! The migrations are applied to a throw-away schema named
//! `strav_shadow_<random>`, which is read and dropped whatever happens.
//! Comparing with what the migrations produce, rather than with some live
//! schema, makes the result the same on every machine, with or without
//! tenants, and independent of what was applied where.

use std::hash::{BuildHasher, Hasher};

use strav_codegen::diff::SchemaSnapshot;
use strav_orm::migrate::Outcome;
use strav_orm::sqlx::postgres::PgConnectOptions;
use strav_orm::sqlx::{self, AssertSqlSafe, Connection, PgConnection};
use strav_orm::{Database, Migrations, Migrator, SchemaIdent, SchemaName};

use crate::error::{Error, Result};
use crate::introspect;

/// What the existing migrations of `domain` create, read from a shadow schema.
pub async fn current_state(
    db: &Database,
    migrations: Migrations,
    domain: &str,
) -> Result<SchemaSnapshot> {
    let options = db.config().connect_options()?;
    let mut conn = PgConnection::connect_with(&options)
        .await
        .map_err(|source| Error::Shadow {
            what: "cannot connect to the database",
            source,
        })?;
    let shadow = SchemaName::new(&shadow_name())?;
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA {}", shadow.quoted())))
        .execute(&mut conn)
        .await
        .map_err(|source| Error::Shadow {
            what: "cannot create the shadow schema",
            source,
        })?;
    let mut guard = ShadowGuard {
        schema: Some(shadow.clone()),
        options,
    };
    tracing::debug!(schema = %shadow, "shadow schema created");
    let result = read_shadow(db, &mut conn, &shadow, migrations, domain).await;
    let dropped = sqlx::raw_sql(AssertSqlSafe(drop_sql(&shadow)))
        .execute(&mut conn)
        .await;
    match dropped {
        Ok(_) => {
            guard.schema = None;
            tracing::debug!(schema = %shadow, "shadow schema dropped");
        }
        // The guard tries again on a fresh connection.
        Err(e) => {
            tracing::debug!(schema = %shadow, error = %e, "dropping the shadow schema failed")
        }
    }
    drop(guard);
    let _ = conn.close().await;
    result
}

async fn read_shadow(
    db: &Database,
    conn: &mut PgConnection,
    shadow: &SchemaName,
    migrations: Migrations,
    domain: &str,
) -> Result<SchemaSnapshot> {
    let report = Migrator::new(db, migrations)
        .migrate_schema(&SchemaIdent::from(shadow), domain)
        .await?;
    if let Outcome::Failed { error, .. } = report.outcome {
        // The runner names the schema and promises it stays as it was: neither
        // means anything for a schema that is about to be dropped.
        let prefix = format!("schema {:?}: ", shadow.as_str());
        let error = error.strip_prefix(&prefix).unwrap_or(&error);
        let error = error
            .strip_suffix("; the schema stays at its previous version")
            .unwrap_or(error);
        return Err(Error::Replay {
            domain: domain.to_owned(),
            message: error.to_owned(),
        });
    }
    let shared = &db.config().multi_tenant.shared_schemas;
    let unreadable = |source| Error::Shadow {
        what: "cannot read the shadow schema",
        source,
    };
    introspect::prepare(conn, &SchemaIdent::from(shadow), shared)
        .await
        .map_err(unreadable)?;
    introspect::snapshot(conn, shadow.as_str())
        .await
        .map_err(unreadable)
}

fn drop_sql(schema: &SchemaName) -> String {
    format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.quoted())
}

/// `strav_shadow_` and 16 random hex digits: concurrent runs never meet.
fn shadow_name() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    format!("strav_shadow_{:016x}", hasher.finish())
}

/// Drops the shadow schema when the normal path could not: an error that
/// left the connection unusable, or a panic.
struct ShadowGuard {
    schema: Option<SchemaName>,
    options: PgConnectOptions,
}

impl Drop for ShadowGuard {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else {
            return;
        };
        let options = self.options.clone();
        let sql = drop_sql(&schema);
        // Drop may run inside the command's runtime, which cannot be blocked
        // on: a thread with a runtime of its own does the work.
        let outcome = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let mut conn = PgConnection::connect_with(&options).await?;
                sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await?;
                conn.close().await
            })
            .map_err(|e| e.to_string())
        })
        .join();
        let error = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(_) => "the cleanup thread panicked".to_owned(),
        };
        eprintln!(
            "warning: could not drop the shadow schema {schema} ({error}); drop it with: \
             DROP SCHEMA {} CASCADE",
            schema.quoted()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shadow_names_are_valid_and_distinct() {
        let a = shadow_name();
        assert!(SchemaName::new(&a).is_ok(), "{a}");
        assert_ne!(a, shadow_name());
    }
}
