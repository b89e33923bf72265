//! `CREATE` statements for a domain, straight from the catalog.
//!
//! Objects of the domain itself are named unqualified: the SQL runs with the
//! target schema (a tenant's, or the fixed domain's) first on the
//! `search_path`, as migration SQL does (DESIGN §6). Objects of other domains
//! (a foreign key to `public.users`, an enum of `public`) are qualified.
//! This is the "create everything" migration; diffing comes with migrations.

use std::fmt::Write;

use crate::catalog::{Catalog, Domain, IndexMethod, ReferentialAction, Table};
use crate::naming::quote_sql_ident;

/// The statements that create every enum, table, constraint and index of
/// `domain`, or `None` when the catalog has no such domain.
pub fn create_domain_sql(catalog: &Catalog, domain: &str) -> Option<String> {
    let d = catalog.domain(domain)?;
    let mut sql = String::new();
    for e in &d.enums {
        let labels: Vec<String> = e.variants.iter().map(|v| quote_literal(&v.label)).collect();
        let _ = writeln!(
            sql,
            "CREATE TYPE {} AS ENUM ({});",
            quote_sql_ident(&e.name),
            labels.join(", ")
        );
    }
    for t in &d.tables {
        create_table(&mut sql, d, t);
    }
    for t in &d.tables {
        foreign_keys(&mut sql, catalog, d, t);
    }
    for t in &d.tables {
        for index in &t.indexes {
            let using = match index.method {
                IndexMethod::BTree => String::new(),
                other => format!(" USING {other}"),
            };
            let _ = writeln!(
                sql,
                "CREATE INDEX {} ON {}{using} ({});",
                quote_sql_ident(&index.name),
                quote_sql_ident(&t.name),
                idents(&index.columns)
            );
        }
    }
    Some(sql)
}

fn create_table(sql: &mut String, d: &Domain, t: &Table) {
    let _ = writeln!(sql, "CREATE TABLE {} (", quote_sql_ident(&t.name));
    let mut lines: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("    {}", c.sql_definition(&d.name)))
        .collect();
    if !t.primary_key.is_empty() {
        lines.push(format!("    PRIMARY KEY ({})", idents(&t.primary_key)));
    }
    for u in &t.uniques {
        lines.push(format!(
            "    CONSTRAINT {} UNIQUE ({})",
            quote_sql_ident(&u.name),
            idents(&u.columns)
        ));
    }
    let _ = writeln!(sql, "{}\n);", lines.join(",\n"));
}

fn foreign_keys(sql: &mut String, catalog: &Catalog, d: &Domain, t: &Table) {
    for fk in &t.foreign_keys {
        let target = if fk.target.domain == d.name {
            quote_sql_ident(&fk.target.table).into_owned()
        } else {
            let schema = catalog
                .domain(&fk.target.domain)
                .and_then(Domain::schema)
                .unwrap_or(&fk.target.domain);
            format!(
                "{}.{}",
                quote_sql_ident(schema),
                quote_sql_ident(&fk.target.table)
            )
        };
        let _ = write!(
            sql,
            "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {target} ({})",
            quote_sql_ident(&t.name),
            quote_sql_ident(&fk.name),
            idents(&fk.columns),
            idents(&fk.target_columns)
        );
        if fk.on_delete != ReferentialAction::NoAction {
            let _ = write!(sql, " ON DELETE {}", fk.on_delete);
        }
        if fk.on_update != ReferentialAction::NoAction {
            let _ = write!(sql, " ON UPDATE {}", fk.on_update);
        }
        sql.push_str(";\n");
    }
}

fn idents(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote_sql_ident(n).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Project;

    #[test]
    fn creates_a_domain_in_dependency_order() {
        let project = Project::new()
            .with_definition(
                "public",
                "users.toml",
                "[columns]\nid = { type = \"bigserial\", primary_key = true }\n",
            )
            .with_definition(
                "tenant",
                "orders.toml",
                r#"
[columns]
id = { type = "bigserial", primary_key = true }
user_id = { type = "bigint", references = "public.users.id", on_delete = "cascade" }
status = { type = "order_status", default = "pending" }
"order" = { type = "integer", default = 0 }

[[indexes]]
columns = ["status"]

[enums]
order_status = ["pending", "it's paid"]
"#,
            );
        let catalog = project.catalog().unwrap();
        let sql = create_domain_sql(&catalog, "tenant").unwrap();
        let type_at = sql
            .find("CREATE TYPE order_status AS ENUM ('pending', 'it''s paid');")
            .unwrap();
        let table_at = sql.find("CREATE TABLE orders (").unwrap();
        let fk_at = sql
            .find("REFERENCES public.users (id) ON DELETE CASCADE;")
            .unwrap();
        assert!(type_at < table_at && table_at < fk_at, "{sql}");
        assert!(
            sql.contains("\"order\" integer NOT NULL DEFAULT 0"),
            "{sql}"
        );
        assert!(sql.contains("PRIMARY KEY (id)"), "{sql}");
        assert!(sql.contains("CREATE INDEX"), "{sql}");
        assert!(create_domain_sql(&catalog, "nope").is_none());
    }
}
