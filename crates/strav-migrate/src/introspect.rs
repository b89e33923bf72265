//! Reading a schema back from PostgreSQL's catalogs into a
//! [`SchemaSnapshot`], for planning a migration: five queries whatever the
//! number of tables and columns.
//!
//! The connection must have `search_path` set to the schema and then the
//! shared schemas, `public` (see [`prepare`]): `pg_get_expr` then prints defaults the way a
//! migration of that schema would write them (`'pending'::order_status`,
//! `nextval('orders_id_seq'::regclass)`), with anything of another schema
//! qualified.

use std::collections::BTreeMap;

use strav_codegen::catalog::Identity;
use strav_codegen::diff::{
    referential_action_from_pg, ColumnSnapshot, EnumSnapshot, ForeignKeySnapshot, IndexSnapshot,
    PrimaryKeySnapshot, SchemaSnapshot, TableSnapshot, UniqueSnapshot,
};
use strav_orm::migrate::TRACKING_TABLE;
use strav_orm::sqlx::{self, AssertSqlSafe, PgConnection};
use strav_orm::SchemaIdent;

/// Sets the session up for [`snapshot`] of `schema`: the schema and then the
/// shared schemas (`public`) on the path, as when its migrations ran, and the
/// output formats fixed, so that defaults print the same whatever the
/// server's settings.
pub async fn prepare(
    conn: &mut PgConnection,
    schema: &SchemaIdent,
    shared: &[SchemaIdent],
) -> Result<(), sqlx::Error> {
    let mut path = vec![schema.quoted()];
    path.extend(
        shared
            .iter()
            .filter(|s| *s != schema)
            .map(SchemaIdent::quoted),
    );
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET search_path TO {}; SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, YMD'",
        path.join(", ")
    )))
    .execute(&mut *conn)
    .await
    .map(drop)
}

const TABLES: &str = "
SELECT c.relname::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname";

const ENUMS: &str = "
SELECT t.typname::text, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = $1
GROUP BY t.typname
ORDER BY t.typname";

/// Types of `pg_catalog` as `format_type` prints them; any other type as
/// `name` when it lives in the schema itself, else `schema.name`, with `[]`
/// for arrays: the spelling the catalog gives definitions.
const COLUMNS: &str = "
SELECT c.relname::text,
       a.attname::text,
       CASE WHEN bn.nspname = 'pg_catalog' THEN format_type(a.atttypid, a.atttypmod)
            ELSE CASE WHEN bn.nspname = $1 THEN '' ELSE bn.nspname || '.' END
                 || bt.typname
                 || CASE WHEN t.typcategory = 'A' THEN '[]' ELSE '' END
       END,
       NOT a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       a.attidentity::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type bt
  ON bt.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
JOIN pg_catalog.pg_namespace bn ON bn.oid = bt.typnamespace
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname, a.attnum";

/// Primary keys, uniques and foreign keys, columns in key order.
const CONSTRAINTS: &str = "
SELECT c.relname::text,
       con.conname::text,
       con.contype::text,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       tn.nspname::text,
       tc.relname::text,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       con.confdeltype::text,
       con.confupdtype::text
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class tc ON tc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'f') AND c.relkind IN ('r', 'p')
ORDER BY c.relname, con.conname";

/// Plain indexes on columns: not behind a constraint, not unique, no
/// expressions, predicates or INCLUDE columns (what a definition can declare;
/// anything else is left alone).
const INDEXES: &str = "
SELECT c.relname::text,
       ic.relname::text,
       am.amname::text,
       ARRAY(SELECT a.attname::text
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord)
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE n.nspname = $1
  AND NOT i.indisprimary AND NOT i.indisunique
  AND i.indexprs IS NULL AND i.indpred IS NULL AND i.indnkeyatts = i.indnatts
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con WHERE con.conindid = i.indexrelid)
ORDER BY c.relname, ic.relname";

type ColumnRow = (String, String, String, bool, Option<String>, String);
type ConstraintRow = (
    String,
    String,
    String,
    Vec<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    String,
    String,
);

/// What `schema` holds, read after [`prepare`].
pub async fn snapshot(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<SchemaSnapshot, sqlx::Error> {
    let tables: Vec<(String,)> = sqlx::query_as(TABLES)
        .bind(schema)
        .fetch_all(&mut *conn)
        .await?;
    let enums: Vec<(String, Vec<String>)> = sqlx::query_as(ENUMS)
        .bind(schema)
        .fetch_all(&mut *conn)
        .await?;
    let columns: Vec<ColumnRow> = sqlx::query_as(COLUMNS)
        .bind(schema)
        .fetch_all(&mut *conn)
        .await?;
    let constraints: Vec<ConstraintRow> = sqlx::query_as(CONSTRAINTS)
        .bind(schema)
        .fetch_all(&mut *conn)
        .await?;
    let indexes: Vec<(String, String, String, Vec<String>)> = sqlx::query_as(INDEXES)
        .bind(schema)
        .fetch_all(&mut *conn)
        .await?;

    // The tracking table is the runner's, never part of a domain's state.
    let mut by_name: BTreeMap<String, TableSnapshot> = tables
        .into_iter()
        .filter(|(name,)| name != TRACKING_TABLE)
        .map(|(name,)| {
            let table = TableSnapshot {
                name: name.clone(),
                columns: Vec::new(),
                primary_key: None,
                uniques: Vec::new(),
                indexes: Vec::new(),
                foreign_keys: Vec::new(),
            };
            (name, table)
        })
        .collect();
    for (table, name, ty, nullable, default, identity) in columns {
        if let Some(t) = by_name.get_mut(&table) {
            t.columns.push(ColumnSnapshot {
                name,
                ty,
                nullable,
                default,
                identity: match identity.as_str() {
                    "a" => Some(Identity::Always),
                    "d" => Some(Identity::ByDefault),
                    _ => None,
                },
            });
        }
    }
    for (table, name, kind, cols, target_schema, target_table, target_cols, on_delete, on_update) in
        constraints
    {
        let Some(t) = by_name.get_mut(&table) else {
            continue;
        };
        match kind.as_str() {
            "p" => {
                t.primary_key = Some(PrimaryKeySnapshot {
                    name,
                    columns: cols,
                })
            }
            "u" => t.uniques.push(UniqueSnapshot {
                name,
                columns: cols,
            }),
            _ => t.foreign_keys.push(ForeignKeySnapshot {
                name,
                columns: cols,
                target_schema: target_schema.filter(|s| s != schema),
                target_table: target_table.unwrap_or_default(),
                target_columns: target_cols,
                on_delete: referential_action_from_pg(&on_delete).unwrap_or_default(),
                on_update: referential_action_from_pg(&on_update).unwrap_or_default(),
            }),
        }
    }
    for (table, name, method, cols) in indexes {
        if let Some(t) = by_name.get_mut(&table) {
            t.indexes.push(IndexSnapshot {
                name,
                columns: cols,
                method,
            });
        }
    }
    Ok(SchemaSnapshot {
        enums: enums
            .into_iter()
            .map(|(name, labels)| EnumSnapshot { name, labels })
            .collect(),
        tables: by_name.into_values().collect(),
    })
}
