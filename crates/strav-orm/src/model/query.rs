//! The query builder and the statements behind the generated methods.
//!
//! Every statement lists its columns (a `SELECT *` prepared under one tenant
//! fails under a tenant whose table has other columns) and binds every value.
//! SQL is rendered by a function of the table qualifier, so `exec.rs` can
//! choose per connection between the unqualified form and the form qualified
//! with the tenant's schema.

use std::marker::PhantomData;

use sqlx::{AssertSqlSafe, SqlSafeStr};

use super::args::Args;
use super::column::{bind_node, push_ident, Assignment, Filter, Node, Order, SqlWriter};
use super::{Executor, Model};
use crate::error::{Error, Result};
use crate::exec::{execute, Statement, Text};
use crate::fetch::{Affected, All, Fetch, Optional, Scalar};

/// Hands a model statement to the executor: fixed-schema models name their
/// schema, per-tenant ones let the executor choose the qualifier.
async fn run<'e, M: Model, E: Executor<'e>, F: Fetch>(
    exec: E,
    render: &(dyn Fn(&str) -> String + Sync),
    args: Args,
    fetch: &F,
) -> Result<F::Output> {
    let args = args.finish()?;
    let text = match M::META.schema {
        Some(_) => Text::Fixed(AssertSqlSafe(render("")).into_sql_str()),
        None => Text::Tenant {
            render,
            table: M::META.table,
            domain: M::META.domain,
        },
    };
    execute(exec.target(), Statement::new(text, args), fetch).await
}

/// A query on model `M`: `TenantOrder::query().filter(..).order_by(..).all(&db)`.
#[must_use = "a query does nothing until all/first/count/update/delete is awaited"]
pub struct Query<M: Model> {
    filters: Vec<Node>,
    order: Vec<Order<M>>,
    limit: Option<i64>,
    offset: Option<i64>,
    _p: PhantomData<fn() -> M>,
}

impl<M: Model> Default for Query<M> {
    fn default() -> Self {
        Query {
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            _p: PhantomData,
        }
    }
}

impl<M: Model> Query<M> {
    /// An unfiltered query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a condition; several are combined with `AND`.
    pub fn filter(mut self, filter: Filter<M>) -> Self {
        self.filters.push(filter.node);
        self
    }

    /// Adds an ordering term (`M::CREATED_AT.desc()`).
    pub fn order_by(mut self, order: Order<M>) -> Self {
        self.order.push(order);
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: i64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` rows.
    pub fn offset(mut self, n: i64) -> Self {
        self.offset = Some(n);
        self
    }

    /// Every matching row.
    pub async fn all<'e, E: Executor<'e>>(self, exec: E) -> Result<Vec<M>> {
        let args = self.bind_where(Args::default(), true);
        run::<M, _, _>(exec, &|q| self.select_sql(q, true), args, &All::<M>::new()).await
    }

    /// The first matching row, if any.
    pub async fn first<'e, E: Executor<'e>>(mut self, exec: E) -> Result<Option<M>> {
        self.limit = Some(1);
        let args = self.bind_where(Args::default(), true);
        run::<M, _, _>(
            exec,
            &|q| self.select_sql(q, true),
            args,
            &Optional::<M>::new(),
        )
        .await
    }

    /// How many rows match (ordering, limit and offset are ignored).
    pub async fn count<'e, E: Executor<'e>>(self, exec: E) -> Result<i64> {
        let args = self.bind_where(Args::default(), false);
        run::<M, _, _>(exec, &|q| self.count_sql(q), args, &Scalar::<i64>::new()).await
    }

    /// Sets columns on every matching row; returns how many rows changed.
    pub async fn update<'e, E, I>(self, exec: E, assignments: I) -> Result<u64>
    where
        E: Executor<'e>,
        I: IntoIterator<Item = Assignment<M>>,
    {
        let assignments: Vec<Assignment<M>> = assignments.into_iter().collect();
        if assignments.is_empty() {
            return Err(Error::InvalidQuery(
                "update needs at least one assignment (Model::COLUMN.set(value))",
            ));
        }
        let mut args = Args::default();
        for a in &assignments {
            a.value.add_to(&mut args);
        }
        let args = self.bind_where(args, false);
        let render = |q: &str| {
            let mut w = SqlWriter::new(q);
            w.out.push_str("UPDATE ");
            write_table::<M>(&mut w.out, q);
            w.out.push_str(" SET ");
            for (i, a) in assignments.iter().enumerate() {
                if i > 0 {
                    w.out.push_str(", ");
                }
                w.ident(a.col);
                w.out.push_str(" = ");
                w.param(a.cast, false);
            }
            self.write_where(&mut w);
            w.out
        };
        run::<M, _, _>(exec, &render, args, &Affected).await
    }

    /// Deletes every matching row; returns how many were deleted.
    pub async fn delete<'e, E: Executor<'e>>(self, exec: E) -> Result<u64> {
        let args = self.bind_where(Args::default(), false);
        let render = |q: &str| {
            let mut w = SqlWriter::new(q);
            w.out.push_str("DELETE FROM ");
            write_table::<M>(&mut w.out, q);
            self.write_where(&mut w);
            w.out
        };
        run::<M, _, _>(exec, &render, args, &Affected).await
    }

    fn bind_where(&self, mut args: Args, paging: bool) -> Args {
        for f in &self.filters {
            bind_node(f, &mut args);
        }
        if paging {
            if let Some(n) = self.limit {
                args.add(n);
            }
            if let Some(n) = self.offset {
                args.add(n);
            }
        }
        args
    }

    fn write_where(&self, w: &mut SqlWriter<'_>) {
        for (i, f) in self.filters.iter().enumerate() {
            w.out.push_str(if i == 0 { " WHERE " } else { " AND " });
            w.node(f);
        }
    }

    fn select_sql(&self, q: &str, paging: bool) -> String {
        let mut w = SqlWriter::new(q);
        write_select::<M>(&mut w.out, q);
        self.write_where(&mut w);
        for (i, o) in self.order.iter().enumerate() {
            w.out.push_str(if i == 0 { " ORDER BY " } else { ", " });
            w.ident(o.col);
            w.out.push_str(if o.desc { " DESC" } else { " ASC" });
        }
        if paging {
            if self.limit.is_some() {
                w.out.push_str(" LIMIT ");
                w.param(None, false);
            }
            if self.offset.is_some() {
                w.out.push_str(" OFFSET ");
                w.param(None, false);
            }
        }
        w.out
    }

    fn count_sql(&self, q: &str) -> String {
        let mut w = SqlWriter::new(q);
        w.out.push_str("SELECT count(*) FROM ");
        write_table::<M>(&mut w.out, q);
        self.write_where(&mut w);
        w.out
    }
}

/// `"schema"."table"` for fixed-schema models, `{q}"table"` otherwise.
pub(crate) fn write_table<M: Model>(out: &mut String, q: &str) {
    match M::META.schema {
        Some(schema) => {
            push_ident(out, schema);
            out.push('.');
        }
        None => out.push_str(q),
    }
    push_ident(out, M::META.table);
}

fn write_select<M: Model>(out: &mut String, q: &str) {
    out.push_str("SELECT ");
    write_result_columns::<M>(out);
    out.push_str(" FROM ");
    write_table::<M>(out, q);
}

/// The columns a statement returns. Enum columns (those with a `cast`) are
/// returned as text, which decodes into the Rust enum by label:
/// - a per-tenant domain's enum exists once per tenant schema, each copy
///   with its own OID, and a prepared statement whose result type changed
///   between tenants is refused by the server ("cached plan must not change
///   result type");
/// - sqlx looks up a result type it does not know with a simple query, which
///   destroys the unnamed statement it is about to run (what Strav uses
///   behind a pooler without prepared statements).
fn write_result_columns<M: Model>(out: &mut String) {
    for (i, c) in M::META.columns.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match c.cast {
            Some(ty) => {
                out.push_str("CAST(");
                push_ident(out, c.name);
                out.push_str(if ty.ends_with("[]") {
                    " AS text[]) AS "
                } else {
                    " AS text) AS "
                });
                push_ident(out, c.name);
            }
            None => push_ident(out, c.name),
        }
    }
}

fn write_columns<'a>(out: &mut String, names: impl Iterator<Item = &'a str>) {
    for (i, name) in names.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_ident(out, name);
    }
}

fn key_columns<M: Model>() -> impl Iterator<Item = (usize, &'static super::ColumnMeta)> {
    M::META
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.primary_key)
}

fn write_key_where<M: Model>(w: &mut SqlWriter<'_>) {
    for (i, (_, c)) in key_columns::<M>().enumerate() {
        w.out.push_str(if i == 0 { " WHERE " } else { " AND " });
        w.ident(c.name);
        w.out.push_str(" = ");
        w.param(c.cast, false);
    }
}

/// `SELECT <columns> FROM <table>`.
pub async fn all<'e, M: Model, E: Executor<'e>>(exec: E) -> Result<Vec<M>> {
    Query::<M>::new().all(exec).await
}

/// The row with primary key `key`.
pub async fn find<'e, M: Model, E: Executor<'e>>(exec: E, key: M::Key) -> Result<Option<M>> {
    let mut args = Args::default();
    M::bind_key(key, &mut args);
    let render = |q: &str| {
        let mut w = SqlWriter::new(q);
        write_select::<M>(&mut w.out, q);
        write_key_where::<M>(&mut w);
        w.out
    };
    run::<M, _, _>(exec, &render, args, &Optional::<M>::new()).await
}

/// Inserts `new` and returns the row as stored (defaults and generated
/// values filled in).
pub async fn create<'e, M: Model, E: Executor<'e>>(exec: E, new: M::New) -> Result<M> {
    let mut args = Args::default();
    let set = M::bind_new(new, &mut args);
    let render = |q: &str| {
        let mut w = SqlWriter::new(q);
        w.out.push_str("INSERT INTO ");
        write_table::<M>(&mut w.out, q);
        if set.is_empty() {
            w.out.push_str(" DEFAULT VALUES");
        } else {
            w.out.push_str(" (");
            write_columns(&mut w.out, set.iter().map(|&i| M::META.columns[i].name));
            w.out.push_str(") VALUES (");
            for (n, &i) in set.iter().enumerate() {
                if n > 0 {
                    w.out.push_str(", ");
                }
                w.param(M::META.columns[i].cast, false);
            }
            w.out.push(')');
        }
        w.out.push_str(" RETURNING ");
        write_result_columns::<M>(&mut w.out);
        w.out
    };
    run::<M, _, _>(exec, &render, args, &crate::fetch::One::<M>::new()).await
}

/// Writes every non-key column of `row` to the row with its key.
/// [`Error::RowNotFound`] when no such row exists.
pub async fn save<'e, M: Model, E: Executor<'e>>(exec: E, row: &M) -> Result<()> {
    let mut args = Args::default();
    row.bind_non_key(&mut args);
    M::bind_key(row.key(), &mut args);
    let render = |q: &str| {
        let mut w = SqlWriter::new(q);
        w.out.push_str("UPDATE ");
        write_table::<M>(&mut w.out, q);
        w.out.push_str(" SET ");
        for (i, c) in M::META
            .columns
            .iter()
            .filter(|c| !c.primary_key)
            .enumerate()
        {
            if i > 0 {
                w.out.push_str(", ");
            }
            w.ident(c.name);
            w.out.push_str(" = ");
            w.param(c.cast, false);
        }
        write_key_where::<M>(&mut w);
        w.out
    };
    match run::<M, _, _>(exec, &render, args, &Affected).await? {
        0 => Err(Error::RowNotFound),
        _ => Ok(()),
    }
}

/// Deletes the row with `row`'s key. [`Error::RowNotFound`] when no such row exists.
pub async fn delete<'e, M: Model, E: Executor<'e>>(exec: E, row: &M) -> Result<()> {
    let mut args = Args::default();
    M::bind_key(row.key(), &mut args);
    let render = |q: &str| {
        let mut w = SqlWriter::new(q);
        w.out.push_str("DELETE FROM ");
        write_table::<M>(&mut w.out, q);
        write_key_where::<M>(&mut w);
        w.out
    };
    match run::<M, _, _>(exec, &render, args, &Affected).await? {
        0 => Err(Error::RowNotFound),
        _ => Ok(()),
    }
}

/// The first row whose `column` equals `value`.
pub async fn find_by<'e, M, E, T, V>(
    exec: E,
    column: super::Column<M, T>,
    value: V,
) -> Result<Option<M>>
where
    M: Model,
    E: Executor<'e>,
    V: super::Compatible<T>,
{
    Query::<M>::new().filter(column.eq(value)).first(exec).await
}
