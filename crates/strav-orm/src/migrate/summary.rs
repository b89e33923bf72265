//! Which schemas are exactly at their domain's files, read from the
//! registry's summary instead of every schema's tracking table.
//!
//! Reading 100,000 tracking tables costs the server about 0.3 ms each
//! (loading each table's catalog entries), 30 s on two cores, even when
//! nothing is pending. `public.strav_schema_versions` keeps, per registered
//! schema, the oid and file (`relfilenode`) of its `strav_migrations` and an
//! md5 of its rows (`version:checksum`, in version order). Strav writes it
//! in the transaction that changes the rows (apply, rollback, clone,
//! import), under the schema's migration lock. A statement trigger on the
//! tracking table writes it in any other statement that changes the rows
//! (`INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`, `COPY`), whoever runs it. The
//! tracking table stays the record; the summary is only trusted when:
//! - its digest equals the digest of the domain's files, so the rows are
//!   exactly the files (nothing pending, no drift, nothing unknown);
//! - its oid is still a table named `strav_migrations` in a schema of that
//!   name, with the same file (a table dropped and made again, renamed or
//!   rewritten by hand fails this);
//! - the table's `strav_versions` trigger is there and fires always (one
//!   dropped or disabled by hand would let later changes go unseen).
//!
//! Every other schema (no summary yet, behind, drifted) is read from its
//! tracking table as before. Schemas migrated before the summary existed
//! get one with their next migration.
//!
//! Why the trigger skips Strav's own writes (`WHEN` on `strav.writing`):
//! PL/pgSQL compiles a trigger function once per table it fires on, and
//! each copy keeps prepared plans that the backend walks on every catalog
//! invalidation. Fired by every migration, one copy per tenant made all
//! DDL of a run slower with each tenant touched (a 10-table migration over
//! 1,000 tenants: 22 to 27 s against 16 to 21 s). A `WHEN` that is false
//! never calls the function. (Rules instead of a trigger were slower
//! still: every backend decompresses and parses a table's rule actions
//! when it opens the table.)

use std::collections::{BTreeMap, HashSet};

use super::runner::Target;
use super::source::Migrations;
use super::tracking::TRACKING_TABLE;
use crate::database::Database;
use crate::error::Result;
use crate::registry::{self, State};
use crate::search_path::SearchPath;

/// Fewer targets than this are read from their tracking tables: onboarding
/// one schema costs no extra round trip.
const WORTH_IT: usize = 2;

/// The rows whose md5 `strav_note_versions` writes when they are exactly `files`
/// (`None` for a domain without files).
fn expected(migrations: &Migrations, domain: &str) -> Option<String> {
    let files = migrations.domain(domain);
    if files.is_empty() {
        return None;
    }
    let mut versions: Vec<_> = files.iter().map(|m| (m.version, &m.checksum)).collect();
    versions.sort_unstable();
    Some(
        versions
            .iter()
            .map(|(v, c)| format!("{v}:{c}"))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// What the summaries say about a set of targets.
#[derive(Debug, Default)]
pub(crate) struct Summaries {
    /// Exactly at their domain's files.
    pub current: HashSet<String>,
    /// With their trigger in place (current or not): nothing to make.
    pub live: HashSet<String>,
}

/// Reads the summaries of `targets` (none for fewer than [`WORTH_IT`]).
pub(crate) async fn read(
    db: &Database,
    targets: &[Target],
    migrations: &Migrations,
) -> Result<Summaries> {
    let mut out = Summaries::default();
    if targets.len() < WORTH_IT || registry::state(db).await? != State::Current {
        return Ok(out);
    }
    let mut by_domain: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
    for t in targets {
        by_domain
            .entry(t.domain.as_str())
            .or_default()
            .insert(t.schema.as_str());
    }
    for (domain, names) in by_domain {
        let rows = expected(migrations, domain).unwrap_or_default();
        // Every summary whose tracking table is still the one it was taken
        // of, with its trigger firing always, filtered here to the domain's
        // targets. The plan has no choice to get wrong: one pass over the
        // summary, and per row scalar subqueries (never turned into joins)
        // that look up by oid (0.45 s for 100,000). Given a join to
        // pg_class or pg_trigger (an `EXISTS`, a condition on `relname`),
        // the planner trusts statistics that, among freshly made schemas,
        // say one tracking table or trigger where there are thousands, and
        // walks all of them per row: 2.3 s for 1,000 schemas, minutes for
        // 100,000.
        let live: Vec<(String, bool)> = db
            .sql(
                "SELECT v.name, v.digest IS NOT DISTINCT FROM pg_catalog.md5($1)
                 FROM public.strav_schema_versions v
                 WHERE (SELECT pg_catalog.format('%s.%s.%s', n.nspname, c.relname, c.relfilenode)
                        FROM pg_catalog.pg_class c
                        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                        WHERE c.oid = v.tracking
                          AND (SELECT g.tgenabled FROM pg_catalog.pg_trigger g
                               WHERE g.tgrelid = c.oid AND g.tgname = 'strav_versions') = 'A'
                       ) = pg_catalog.format('%s.%s.%s', v.name, $2, v.filenode)",
            )
            .bind(&rows)
            .bind(TRACKING_TABLE)
            .on_path(SearchPath::Default)
            .fetch_all()
            .await?;
        for (name, current) in live {
            if !names.contains(name.as_str()) {
                continue;
            }
            // A domain without files has no digest to match.
            if current && !rows.is_empty() {
                out.current.insert(name.clone());
            }
            out.live.insert(name);
        }
    }
    Ok(out)
}
