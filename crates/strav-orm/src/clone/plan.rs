//! The clone's plan: the catalog's rows turned into the statements to run,
//! in the order they must run (dependencies first).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::rewrite::{requalify, rewrite_search_path};
use crate::error::{Error, Result};
use crate::schema_name::SchemaName;

/// One row of `catalog.sql`.
#[derive(sqlx::FromRow)]
pub(super) struct Item {
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

/// The statements of a clone, in the order they run.
pub(super) struct Plan {
    pub(super) create: Vec<String>,
    pub(super) migrations: Vec<String>,
    pub(super) data: Vec<String>,
    pub(super) after: Vec<String>,
    pub(super) tables: usize,
    pub(super) views: usize,
    pub(super) functions: usize,
    pub(super) types: usize,
}

impl Plan {
    pub(super) fn build(
        items: Vec<Item>,
        source: &SchemaName,
        target: &SchemaName,
    ) -> Result<Plan> {
        let mut plan = Plan {
            create: Vec::new(),
            migrations: Vec::new(),
            data: Vec::new(),
            after: Vec::new(),
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
                return Err(cannot_clone(
                    source,
                    format!(
                        "PostgreSQL gave no definition for {} {}",
                        item.kind, item.sort
                    ),
                ));
            };
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
                _ => plan.after.push(stmt),
            }
        }
        if !unsupported.is_empty() {
            return Err(cannot_clone(
                source,
                format!(
                    "schema {:?} has objects that clone_schema cannot copy: {}",
                    source.as_str(),
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

/// An error that says what the clone could not do; the database is not at
/// fault, but no [`Error`] variant fits better.
fn cannot_clone(source: &SchemaName, message: String) -> Error {
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
