//! Tenant schemas with a marker row, for routing tests.

use sqlx::AssertSqlSafe;
use strav_orm::Database;

/// Creates `n` tenant schemas `t_000`, `t_001`, ... Each has `marker(tenant)`
/// holding one row with its own name, and an empty `writes(tag)`. `public`
/// gets a `marker` too, holding `public`, so a query that falls through to
/// the default path is visible as such.
pub async fn marker_tenants(db: &Database, n: usize) -> Vec<String> {
    let mut script = String::from(
        "CREATE TABLE IF NOT EXISTS public.marker (tenant text NOT NULL);
         INSERT INTO public.marker VALUES ('public');",
    );
    let names: Vec<String> = (0..n).map(|i| format!("t_{i:03}")).collect();
    for t in &names {
        script.push_str(&format!(
            "CREATE SCHEMA {t};
             CREATE TABLE {t}.marker (tenant text NOT NULL);
             INSERT INTO {t}.marker VALUES ('{t}');
             CREATE TABLE {t}.writes (id bigserial PRIMARY KEY, tag text NOT NULL);"
        ));
    }
    db.sql(AssertSqlSafe(script))
        .execute_script()
        .await
        .expect("create marker tenants");
    names
}
