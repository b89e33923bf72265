//! How a catalog's tables sit on a Citus cluster that shards by schema: each tenant
//! schema is a distributed schema (one colocated shard group that Citus can move
//! between nodes), so a per-tenant table may reference, outside its own schema, only
//! reference tables (copied to every node).
//!
//! [`Layout::of`] works that out from the foreign keys alone, whatever `[citus]` says;
//! the migration planner uses it when the setting is on (see the README, "Beyond one
//! server"):
//!
//! * **Distributed**: every table of a per-tenant domain. Nothing to emit: a table
//!   created in a distributed schema is distributed by Citus itself.
//! * **Reference**: a table of a fixed domain (`public` or another one) that a
//!   per-tenant table references, and every table such a table references,
//!   transitively: a reference table may reference other reference tables, and local
//!   tables only with `NO ACTION`/`RESTRICT` (`users.organization_id ... ON DELETE SET
//!   NULL` would be refused), so making them all reference tables is the rule that
//!   always holds. The migration that creates one calls `create_reference_table`.
//! * **Local**: a fixed-domain table linked by foreign keys (either way, transitively
//!   over other fixed tables) to a reference table. Citus adds it to its metadata as a
//!   local table of the coordinator when the foreign key is created
//!   (`citus.enable_local_reference_table_foreign_keys`, on by default). Nothing to
//!   emit, but Citus's limits on altering its tables apply to it.
//!
//! Every other table is a plain PostgreSQL table of the coordinator.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::catalog::{Catalog, DomainKind, Table, TableRef};
use crate::naming::quote_sql_ident;

/// How Citus holds one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// A table of a per-tenant domain: one shard per tenant schema, colocated with the
    /// schema's other tables.
    Distributed,
    /// Copied to every node, because `because` (a per-tenant table or another reference
    /// table) references it.
    Reference { because: TableRef },
    /// Kept on the coordinator and added to Citus's metadata, because a foreign key
    /// links it with `via` (a reference table or another such table).
    Local { via: TableRef },
}

impl Placement {
    /// The table as Citus's limits speak of it: "a table of a distributed schema", ...
    pub fn description(&self) -> &'static str {
        match self {
            Placement::Distributed => "a table of a distributed schema",
            Placement::Reference { .. } => "a reference table",
            Placement::Local { .. } => "a local table in Citus's metadata",
        }
    }
}

/// The placement of every table Citus manages, and the order in which existing tables
/// can become reference tables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// By (domain, table); plain PostgreSQL tables are absent.
    placements: BTreeMap<(String, String), Placement>,
    /// Each reference table after the reference tables it references.
    reference_order: Vec<TableRef>,
}

type Key = (String, String);

fn key(domain: &str, table: &str) -> Key {
    (domain.to_owned(), table.to_owned())
}

fn table_ref((domain, table): &Key) -> TableRef {
    TableRef {
        domain: domain.clone(),
        table: table.clone(),
    }
}

impl Layout {
    pub fn of(catalog: &Catalog) -> Layout {
        let per_tenant = |domain: &str| {
            catalog
                .domain(domain)
                .is_some_and(|d| d.kind == DomainKind::PerTenant)
        };
        let table = |k: &Key| catalog.domain(&k.0).and_then(|d| d.table(&k.1));
        let mut placements: BTreeMap<Key, Placement> = BTreeMap::new();

        // Per-tenant tables, and the fixed tables they reference.
        let mut queue: VecDeque<Key> = VecDeque::new();
        for (domain, t) in catalog.tables() {
            if domain.kind != DomainKind::PerTenant {
                continue;
            }
            placements.insert(key(&domain.name, &t.name), Placement::Distributed);
        }
        for (domain, t) in catalog.tables() {
            if domain.kind != DomainKind::PerTenant {
                continue;
            }
            for fk in &t.foreign_keys {
                if per_tenant(&fk.target.domain) {
                    continue;
                }
                let target = key(&fk.target.domain, &fk.target.table);
                if !placements.contains_key(&target) {
                    placements.insert(
                        target.clone(),
                        Placement::Reference {
                            because: TableRef {
                                domain: domain.name.clone(),
                                table: t.name.clone(),
                            },
                        },
                    );
                    queue.push_back(target);
                }
            }
        }
        // What reference tables reference.
        while let Some(k) = queue.pop_front() {
            let Some(t) = table(&k) else { continue };
            for fk in &t.foreign_keys {
                let target = key(&fk.target.domain, &fk.target.table);
                if !placements.contains_key(&target) {
                    placements.insert(
                        target.clone(),
                        Placement::Reference {
                            because: table_ref(&k),
                        },
                    );
                    queue.push_back(target);
                }
            }
        }

        // Fixed tables linked to reference tables, either way, over fixed tables.
        let mut links: BTreeMap<Key, Vec<Key>> = BTreeMap::new();
        for (domain, t) in catalog.tables() {
            if domain.kind == DomainKind::PerTenant {
                continue;
            }
            for fk in &t.foreign_keys {
                let (a, b) = (
                    key(&domain.name, &t.name),
                    key(&fk.target.domain, &fk.target.table),
                );
                if a != b {
                    links.entry(a.clone()).or_default().push(b.clone());
                    links.entry(b).or_default().push(a);
                }
            }
        }
        let mut queue: VecDeque<Key> = placements
            .iter()
            .filter(|(_, p)| matches!(p, Placement::Reference { .. }))
            .map(|(k, _)| k.clone())
            .collect();
        while let Some(k) = queue.pop_front() {
            for next in links.get(&k).into_iter().flatten() {
                if !placements.contains_key(next) {
                    placements.insert(next.clone(), Placement::Local { via: table_ref(&k) });
                    queue.push_back(next.clone());
                }
            }
        }

        let reference_order = reference_order(&placements, table);
        Layout {
            placements,
            reference_order,
        }
    }

    /// How Citus holds `domain.table`; `None` for a plain PostgreSQL table.
    pub fn placement(&self, domain: &str, table: &str) -> Option<&Placement> {
        self.placements.get(&key(domain, table))
    }

    /// The reference tables, each after the reference tables it references: the order in
    /// which existing tables can be made reference tables (a reference table may point
    /// with `ON DELETE SET NULL` or `CASCADE` only at another reference table).
    pub fn reference_tables(&self) -> &[TableRef] {
        &self.reference_order
    }

    /// `SELECT create_reference_table('public.organizations');` and so on, in
    /// [`reference_tables`](Self::reference_tables) order, schema-qualified: what an
    /// existing deployment runs once, by hand, when it moves to Citus (migrations make
    /// only the tables they create reference tables).
    pub fn reference_table_sql(&self, catalog: &Catalog) -> String {
        let mut sql = String::new();
        for t in &self.reference_order {
            let schema = catalog
                .domain(&t.domain)
                .and_then(|d| d.schema())
                .unwrap_or(&t.domain);
            sql.push_str(&format!(
                "SELECT create_reference_table('{}');\n",
                format!("{}.{}", quote_sql_ident(schema), quote_sql_ident(&t.table))
                    .replace('\'', "''")
            ));
        }
        sql
    }
}

/// Reference tables in dependency order, names breaking ties; a cycle of foreign keys
/// is broken at its first name.
fn reference_order<'c>(
    placements: &BTreeMap<Key, Placement>,
    table: impl Fn(&Key) -> Option<&'c Table>,
) -> Vec<TableRef> {
    let mut remaining: Vec<&Key> = placements
        .iter()
        .filter(|(_, p)| matches!(p, Placement::Reference { .. }))
        .map(|(k, _)| k)
        .collect();
    let mut placed: BTreeSet<&Key> = BTreeSet::new();
    let mut order = Vec::new();
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|k| {
            table(k).is_none_or(|t| {
                t.foreign_keys.iter().all(|fk| {
                    let target = key(&fk.target.domain, &fk.target.table);
                    target == **k
                        || placed.contains(&target)
                        || !remaining.iter().any(|r| **r == target)
                })
            })
        });
        let k = remaining.remove(ready.unwrap_or(0));
        placed.insert(k);
        order.push(table_ref(k));
    }
    order
}
