//! Typed columns and the filters, orderings and assignments made from them.
//!
//! `User::ROLE` is a `Column<User, UserRole>`: a misspelt column does not
//! compile, and values are checked against the column's type through
//! [`Compatible`]. Values are always bound parameters.

use std::fmt::Write;
use std::marker::PhantomData;

use super::args::{Args, BindValue};

/// A column of model `M` holding values of type `T`.
pub struct Column<M, T> {
    name: &'static str,
    cast: Option<&'static str>,
    _p: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, T> Copy for Column<M, T> {}

impl<M, T> std::fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Column({})", self.name)
    }
}

/// A value usable where a column of type `T` is expected: `T` itself, `&str`
/// for text (and for generated enums), `V` for an `Option<V>` column.
#[diagnostic::on_unimplemented(
    message = "a `{Self}` cannot be used as a value of a column of type `{T}`",
    label = "expected a value of the column's type `{T}`"
)]
pub trait Compatible<T> {
    #[doc(hidden)]
    fn into_bind(self) -> Box<dyn BindValue>;
}

impl<T: BindValue + 'static> Compatible<T> for T {
    fn into_bind(self) -> Box<dyn BindValue> {
        Box::new(self)
    }
}

impl<T> Compatible<Option<T>> for T
where
    T: for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + Send
        + Sync
        + 'static,
{
    fn into_bind(self) -> Box<dyn BindValue> {
        Box::new(self)
    }
}

impl Compatible<String> for &str {
    fn into_bind(self) -> Box<dyn BindValue> {
        Box::new(self.to_owned())
    }
}

impl Compatible<Option<String>> for &str {
    fn into_bind(self) -> Box<dyn BindValue> {
        Box::new(Some(self.to_owned()))
    }
}

impl<E: super::PgEnum> Compatible<E> for &str {
    fn into_bind(self) -> Box<dyn BindValue> {
        Box::new(self.to_owned())
    }
}

impl<E: super::PgEnum> Compatible<Option<E>> for &str {
    fn into_bind(self) -> Box<dyn BindValue> {
        Box::new(self.to_owned())
    }
}

impl<M, T> Column<M, T> {
    /// Used by the derive. `cast` is the SQL type parameters need a cast to.
    #[doc(hidden)]
    pub const fn new(name: &'static str, cast: Option<&'static str>) -> Self {
        Column {
            name,
            cast,
            _p: PhantomData,
        }
    }

    /// The SQL name, unquoted.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    fn cmp(self, op: &'static str, value: Box<dyn BindValue>) -> Filter<M> {
        Filter::from_node(Node::Cmp {
            col: self.name,
            cast: self.cast,
            op,
            value,
        })
    }

    /// `column = value`
    pub fn eq<V: Compatible<T>>(self, value: V) -> Filter<M> {
        self.cmp("=", value.into_bind())
    }
    /// `column <> value`
    pub fn ne<V: Compatible<T>>(self, value: V) -> Filter<M> {
        self.cmp("<>", value.into_bind())
    }
    /// `column < value`
    pub fn lt<V: Compatible<T>>(self, value: V) -> Filter<M> {
        self.cmp("<", value.into_bind())
    }
    /// `column <= value`
    pub fn le<V: Compatible<T>>(self, value: V) -> Filter<M> {
        self.cmp("<=", value.into_bind())
    }
    /// `column > value`
    pub fn gt<V: Compatible<T>>(self, value: V) -> Filter<M> {
        self.cmp(">", value.into_bind())
    }
    /// `column >= value`
    pub fn ge<V: Compatible<T>>(self, value: V) -> Filter<M> {
        self.cmp(">=", value.into_bind())
    }
    /// `column LIKE pattern` (`%` and `_` are wildcards).
    pub fn like(self, pattern: impl Into<String>) -> Filter<M> {
        Filter::from_node(Node::Cmp {
            col: self.name,
            cast: None,
            op: "LIKE",
            value: Box::new(pattern.into()),
        })
    }
    /// `column IS NULL`
    pub fn is_null(self) -> Filter<M> {
        Filter::from_node(Node::Null {
            col: self.name,
            negated: false,
        })
    }
    /// `column IS NOT NULL`
    pub fn is_not_null(self) -> Filter<M> {
        Filter::from_node(Node::Null {
            col: self.name,
            negated: true,
        })
    }
    /// `column = ANY($n)`: the value is one of `values` (one array parameter,
    /// whatever their number; an empty list matches nothing).
    pub fn is_in<V, I>(self, values: I) -> Filter<M>
    where
        I: IntoIterator<Item = V>,
        Vec<V>: BindValue + 'static,
        V: Compatible<T>,
    {
        Filter::from_node(Node::In {
            col: self.name,
            cast: self.cast,
            values: Box::new(values.into_iter().collect::<Vec<V>>()),
        })
    }
    /// Ascending order.
    pub fn asc(self) -> Order<M> {
        Order {
            col: self.name,
            desc: false,
            _p: PhantomData,
        }
    }
    /// Descending order.
    pub fn desc(self) -> Order<M> {
        Order {
            col: self.name,
            desc: true,
            _p: PhantomData,
        }
    }
    /// `SET column = value`, for [`super::Query::update`].
    pub fn set<V: Compatible<T>>(self, value: V) -> Assignment<M> {
        Assignment {
            col: self.name,
            cast: self.cast,
            value: value.into_bind(),
            _p: PhantomData,
        }
    }
}

/// A `WHERE` condition on model `M`. Combine with [`Filter::and`],
/// [`Filter::or`] and [`Filter::not`].
pub struct Filter<M> {
    pub(crate) node: Node,
    _p: PhantomData<fn() -> M>,
}

pub(crate) enum Node {
    Cmp {
        col: &'static str,
        cast: Option<&'static str>,
        op: &'static str,
        value: Box<dyn BindValue>,
    },
    Null {
        col: &'static str,
        negated: bool,
    },
    In {
        col: &'static str,
        cast: Option<&'static str>,
        values: Box<dyn BindValue>,
    },
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

impl<M> Filter<M> {
    fn from_node(node: Node) -> Self {
        Filter {
            node,
            _p: PhantomData,
        }
    }

    /// Both conditions.
    pub fn and(self, other: Filter<M>) -> Filter<M> {
        Filter::from_node(match self.node {
            Node::And(mut v) => {
                v.push(other.node);
                Node::And(v)
            }
            n => Node::And(vec![n, other.node]),
        })
    }

    /// Either condition.
    pub fn or(self, other: Filter<M>) -> Filter<M> {
        Filter::from_node(match self.node {
            Node::Or(mut v) => {
                v.push(other.node);
                Node::Or(v)
            }
            n => Node::Or(vec![n, other.node]),
        })
    }

    /// The opposite condition.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter<M> {
        Filter::from_node(Node::Not(Box::new(self.node)))
    }
}

/// An `ORDER BY` term.
pub struct Order<M> {
    pub(crate) col: &'static str,
    pub(crate) desc: bool,
    _p: PhantomData<fn() -> M>,
}

/// A `SET column = value` of an update.
pub struct Assignment<M> {
    pub(crate) col: &'static str,
    pub(crate) cast: Option<&'static str>,
    pub(crate) value: Box<dyn BindValue>,
    _p: PhantomData<fn() -> M>,
}

/// Writes SQL for nodes and binds their values, in one traversal order.
/// `q` qualifies per-tenant type names in casts (`"t_1".` or empty).
pub(crate) struct SqlWriter<'a> {
    pub(crate) out: String,
    pub(crate) next: usize,
    pub(crate) q: &'a str,
}

impl<'a> SqlWriter<'a> {
    pub(crate) fn new(q: &'a str) -> Self {
        SqlWriter {
            out: String::with_capacity(128),
            next: 1,
            q,
        }
    }

    /// `$n`, or `CAST($n AS type)`.
    pub(crate) fn param(&mut self, cast: Option<&str>, array: bool) {
        let n = self.next;
        self.next += 1;
        match cast {
            None => {
                let _ = write!(self.out, "${n}");
            }
            Some(ty) => {
                self.out.push_str("CAST($");
                let _ = write!(self.out, "{n} AS ");
                write_type(&mut self.out, ty, self.q);
                if array {
                    self.out.push_str("[]");
                }
                self.out.push(')');
            }
        }
    }

    pub(crate) fn ident(&mut self, name: &str) {
        push_ident(&mut self.out, name);
    }

    pub(crate) fn node(&mut self, node: &Node) {
        match node {
            Node::Cmp { col, cast, op, .. } => {
                self.ident(col);
                let _ = write!(self.out, " {op} ");
                self.param(*cast, false);
            }
            Node::Null { col, negated } => {
                self.ident(col);
                self.out
                    .push_str(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Node::In { col, cast, .. } => {
                self.ident(col);
                self.out.push_str(" = ANY(");
                self.param(*cast, true);
                self.out.push(')');
            }
            Node::And(v) | Node::Or(v) => {
                let sep = if matches!(node, Node::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                self.out.push('(');
                for (i, n) in v.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(sep);
                    }
                    self.node(n);
                }
                self.out.push(')');
            }
            Node::Not(n) => {
                self.out.push_str("NOT (");
                self.node(n);
                self.out.push(')');
            }
        }
    }
}

pub(crate) fn bind_node(node: &Node, args: &mut Args) {
    match node {
        Node::Cmp { value, .. } => value.add_to(args),
        Node::In { values, .. } => values.add_to(args),
        Node::Null { .. } => {}
        Node::And(v) | Node::Or(v) => v.iter().for_each(|n| bind_node(n, args)),
        Node::Not(n) => bind_node(n, args),
    }
}

/// A double-quoted identifier; `"` inside is doubled.
pub(crate) fn push_ident(out: &mut String, name: &str) {
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// A type name for a cast: `schema.name[]` keeps its schema; a bare name is
/// qualified with `q` (the tenant's schema, or nothing).
pub(crate) fn write_type(out: &mut String, ty: &str, q: &str) {
    let (base, array) = match ty.strip_suffix("[]") {
        Some(b) => (b, true),
        None => (ty, false),
    };
    match base.split_once('.') {
        Some((schema, name)) => {
            push_ident(out, schema);
            out.push('.');
            push_ident(out, name);
        }
        None => {
            out.push_str(q);
            push_ident(out, base);
        }
    }
    if array {
        out.push_str("[]");
    }
}
