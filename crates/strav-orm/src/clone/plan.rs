//! The plan of a schema's copy: the catalog's rows turned into the
//! statements to run, in the order they must run (dependencies first).
//!
//! Two copies use it. `clone_schema` runs it in place: rows go from source
//! to target with `INSERT ... SELECT`, sequence positions with `setval`
//! reading the source ([`Rows::InPlace`]). `export_schema` carries it to
//! another database ([`Rows::Described`]): it keeps the structure
//! statements as they are and takes, instead of statements that read the
//! source, each table's name and columns (for `COPY`) and each sequence's
//! name (for its position), which the export reads itself.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::rewrite::{requalify, rewrite_search_path};
use crate::error::{Error, Result};
use crate::schema_name::SchemaName;

/// One row of `catalog.sql`.
#[derive(sqlx::FromRow)]
pub(crate) struct Item {
    phase: i32,
    node: Option<i64>,
    deps: Option<Vec<i64>>,
    prio: i32,
    sort: String,
    kind: String,
    stmt: Option<String>,
    extra: Option<String>,
}

/// Where a phase's statements go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Phase -1: something the clone cannot copy.
    Unsupported,
    /// Phase 10: types, functions, sequences, tables, views.
    Create,
    /// Phase 20: rows.
    Rows,
    /// Phases 40 and later: everything that follows the data.
    After,
}

impl Phase {
    fn of(n: i32) -> Self {
        match n {
            n if n < 0 => Phase::Unsupported,
            10 => Phase::Create,
            20 => Phase::Rows,
            _ => Phase::After,
        }
    }
}

/// How the plan moves rows and sequence positions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Rows {
    /// Within one database (`clone_schema`): `INSERT ... SELECT` from the
    /// source into [`Plan::migrations`] and [`Plan::data`], and `setval`
    /// from the source's sequences among [`Plan::after`].
    InPlace,
    /// Out of the database (`export_schema`): [`Plan::row_steps`] and
    /// [`Plan::sequences`] name what to read; nothing in the plan reads
    /// the source.
    Described,
}

impl Rows {
    /// Who refuses a schema with objects the plan cannot copy.
    fn operation(self) -> &'static str {
        match self {
            Rows::InPlace => "clone_schema",
            Rows::Described => "export_schema",
        }
    }
}

/// One table's rows, as a step of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowStep {
    /// The table's name (in the source, and in the target).
    pub(crate) table: String,
    /// The columns a copy writes, quoted and comma-separated (generated
    /// columns excluded); `None` for a table without such columns.
    pub(crate) columns: Option<String>,
    /// Whether this is `strav_migrations`.
    pub(crate) tracking: bool,
}

/// The statements of a schema's copy, in the order they run.
pub(crate) struct Plan {
    /// Types, functions, sequences, tables and views, dependencies first.
    pub(crate) create: Vec<String>,
    /// `InPlace`: copies the `strav_migrations` rows.
    pub(crate) migrations: Vec<String>,
    /// `InPlace`: copies the other tables' rows (only with data).
    pub(crate) data: Vec<String>,
    /// What follows the rows: defaults, sequence ownership, constraints,
    /// indexes, triggers, policies, comments, owners, privileges, and the
    /// materialized views' refresh last.
    pub(crate) after: Vec<String>,
    /// Every table whose rows the copy takes (`strav_migrations` always,
    /// the others only with data), by name.
    pub(crate) row_steps: Vec<RowStep>,
    /// `Described`: the sequences whose positions the copy takes (only
    /// with data), by name.
    pub(crate) sequences: Vec<String>,
    pub(crate) tables: usize,
    pub(crate) views: usize,
    pub(crate) functions: usize,
    pub(crate) types: usize,
}

impl Plan {
    /// The plan from `catalog.sql`'s rows for `source`, whose statements
    /// create the objects in `target` (the name `catalog.sql` was given).
    pub(crate) fn build(
        items: Vec<Item>,
        source: &SchemaName,
        target: &SchemaName,
        rows: Rows,
    ) -> Result<Plan> {
        let mut plan = Plan {
            create: Vec::new(),
            migrations: Vec::new(),
            data: Vec::new(),
            after: Vec::new(),
            row_steps: Vec::new(),
            sequences: Vec::new(),
            tables: 0,
            views: 0,
            functions: 0,
            types: 0,
        };
        let mut unsupported = Vec::new();
        let mut nodes = Vec::new();
        let mut refreshes = Vec::new();
        for item in items {
            let phase = Phase::of(item.phase);
            if phase == Phase::Unsupported {
                let what = format!("{} {}", item.kind, item.stmt.unwrap_or_default());
                unsupported.push(what.trim().to_owned());
                continue;
            }
            let Some(stmt) = item.stmt else {
                return Err(cannot_copy(
                    source,
                    format!(
                        "PostgreSQL gave no definition for {} {}",
                        item.kind, item.sort
                    ),
                ));
            };
            if phase == Phase::Rows {
                plan.row_steps.push(RowStep {
                    table: item.sort.clone(),
                    columns: item.extra.clone(),
                    tracking: item.kind == "migrations",
                });
            }
            let stmt = match item.kind.as_str() {
                // `stmt` is what follows the header `pg_get_functiondef` wrote
                // for the source; `extra` the header for the target.
                "function" => {
                    item.extra.unwrap_or_default()
                        + &requalify(&stmt, source.as_str(), target.as_str())
                }
                "function_verbatim" => item.extra.unwrap_or_default() + &stmt,
                "search_path" => {
                    stmt + &rewrite_search_path(item.extra.as_deref().unwrap_or(""), source, target)
                }
                _ => stmt,
            };
            match item.kind.as_str() {
                "table" => plan.tables += 1,
                "view" | "matview" => plan.views += 1,
                "function" | "function_verbatim" => plan.functions += 1,
                "type" => plan.types += 1,
                _ => {}
            }
            match (phase, item.kind.as_str()) {
                (Phase::Create, _) => nodes.push(Node {
                    key: item.node.unwrap_or_default(),
                    deps: item.deps.unwrap_or_default(),
                    prio: item.prio,
                    sort: item.sort,
                    stmt,
                }),
                (Phase::Rows, "migrations") => plan.migrations.push(stmt),
                (Phase::Rows, _) => plan.data.push(stmt),
                (_, "refresh") => refreshes.push((item.node.unwrap_or_default(), stmt)),
                (_, "setval") if rows == Rows::Described => plan.sequences.push(item.sort),
                _ => plan.after.push(stmt),
            }
        }
        if !unsupported.is_empty() {
            return Err(cannot_copy(
                source,
                format!(
                    "schema {:?} has objects that {} cannot copy: {}",
                    source.as_str(),
                    rows.operation(),
                    unsupported.join(", ")
                ),
            ));
        }
        let order = topological_order(&nodes);
        let position: HashMap<i64, usize> = order
            .iter()
            .enumerate()
            .map(|(pos, &i)| (nodes[i].key, pos))
            .collect();
        let mut statements: Vec<Option<String>> = nodes.into_iter().map(|n| Some(n.stmt)).collect();
        plan.create = order.iter().filter_map(|&i| statements[i].take()).collect();
        // A materialized view is filled after those it reads from.
        refreshes.sort_by_key(|(key, _)| position.get(key).copied());
        plan.after.extend(refreshes.into_iter().map(|(_, s)| s));
        Ok(plan)
    }
}

/// An error that says what the copy could not do; the database is not at
/// fault, but no [`Error`] variant fits better.
fn cannot_copy(source: &SchemaName, message: String) -> Error {
    Error::Database {
        schema: Some(source.to_string()),
        source: sqlx::Error::InvalidArgument(message),
    }
}

struct Node {
    key: i64,
    deps: Vec<i64>,
    prio: i32,
    sort: String,
    stmt: String,
}

/// Kahn's algorithm; among the ready nodes, types first, then functions,
/// sequences, tables and views, each by name, so the order is stable. A
/// cycle (which PostgreSQL would not have let exist among these) falls back
/// to that order for what is left.
fn topological_order(nodes: &[Node]) -> Vec<usize> {
    let index: HashMap<i64, usize> = nodes.iter().enumerate().map(|(i, n)| (n.key, i)).collect();
    let mut waiting_on = vec![0usize; nodes.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for d in &n.deps {
            if let Some(&j) = index.get(d) {
                if j != i {
                    waiting_on[i] += 1;
                    dependents[j].push(i);
                }
            }
        }
    }
    let rank = |i: usize| Reverse((nodes[i].prio, nodes[i].sort.as_str(), i));
    let mut ready: BinaryHeap<_> = (0..nodes.len())
        .filter(|&i| waiting_on[i] == 0)
        .map(rank)
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    let mut done = vec![false; nodes.len()];
    while let Some(Reverse((_, _, i))) = ready.pop() {
        order.push(i);
        done[i] = true;
        for &k in &dependents[i] {
            waiting_on[k] -= 1;
            if waiting_on[k] == 0 {
                ready.push(rank(k));
            }
        }
    }
    if order.len() < nodes.len() {
        let mut rest: Vec<usize> = (0..nodes.len()).filter(|&i| !done[i]).collect();
        rest.sort_by_key(|&i| rank(i).0);
        tracing::warn!(
            objects = rest.len(),
            "dependency cycle between schema objects; creating them in default order"
        );
        order.extend(rest);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(key: i64, deps: &[i64], prio: i32, sort: &str) -> Node {
        Node {
            key,
            deps: deps.to_vec(),
            prio,
            sort: sort.to_owned(),
            stmt: sort.to_owned(),
        }
    }

    #[test]
    fn dependencies_first_then_kind_and_name() {
        let nodes = [
            node(1, &[], 4, "orders"),
            node(2, &[1], 2, "total_of"), // a function taking an orders row
            node(3, &[], 1, "status"),
            node(4, &[2, 99], 5, "report"), // 99: outside the schema
            node(5, &[], 4, "items"),
        ];
        let order: Vec<&str> = topological_order(&nodes)
            .into_iter()
            .map(|i| nodes[i].sort.as_str())
            .collect();
        assert_eq!(order, ["status", "items", "orders", "total_of", "report"]);
    }

    #[test]
    fn a_cycle_still_yields_every_node() {
        let nodes = [
            node(1, &[2], 1, "a"),
            node(2, &[1], 1, "b"),
            node(3, &[], 1, "c"),
        ];
        assert_eq!(topological_order(&nodes), [2, 0, 1]);
    }
}
