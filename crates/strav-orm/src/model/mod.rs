//! Models: the runtime half of `#[derive(Model)]`.
//!
//! The derive (crate `strav-derive`) turns a struct into a [`Model`]: table
//! metadata, typed [`Column`] constants and a `New…` insert struct, plus
//! inherent methods (`all`, `find`, `find_by`, `create`, `query`, `save`,
//! `delete`) that call the generic functions here.
//!
//! Where a model's statements go:
//! - a model of a fixed-schema domain (`#[strav(schema = "public")]`) always
//!   names its schema in the SQL, so it reads `public.users` whatever the
//!   tenant context and needs no `search_path` at all;
//! - a model of a per-tenant domain needs a tenant context and fails closed
//!   without one ([`crate::Error::NoSchemaContext`], also inside
//!   `without_schema`). Its statements are written either unqualified (run on
//!   a connection already on the tenant's path) or qualified with the tenant's
//!   schema (run on any connection, no `SET`): the executor picks (see the
//!   crate's `exec` module).

mod args;
mod column;
mod enums;
mod query;

use sqlx::postgres::PgRow;
use sqlx::FromRow;

pub use args::Args;
pub use column::{Assignment, Column, Compatible, Filter, Order};
pub use enums::{decode_enum_label, enum_array_compatible, enum_compatible, PgEnum};
pub use query::{all, create, delete, find, find_by, save, Query};

use crate::database::Database;
use crate::exec::Target;
use crate::transaction::Tx;

/// What the derive knows about a model's table.
#[derive(Debug)]
pub struct ModelMeta {
    /// The table's name, unquoted.
    pub table: &'static str,
    /// The domain the model belongs to.
    pub domain: &'static str,
    /// The fixed schema, for models of a fixed-schema domain; `None` for a
    /// per-tenant model, which follows `with_schema`.
    pub schema: Option<&'static str>,
    /// Every column, in declaration order.
    pub columns: &'static [ColumnMeta],
}

/// One column of a model.
#[derive(Debug)]
pub struct ColumnMeta {
    /// SQL name, unquoted.
    pub name: &'static str,
    /// The SQL type parameters are cast to (`CAST($n AS type)`), for types a
    /// parameter cannot name by itself (enums). `schema.` prefixed when the
    /// type lives in a fixed schema; unprefixed types of a per-tenant model
    /// resolve in the tenant's schema, and such columns are read back as
    /// text (see `query.rs`), so this is meant for enum types.
    pub cast: Option<&'static str>,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Filled by the database (serial, identity): never inserted.
    pub generated: bool,
    /// Has a database default: inserted only when given.
    pub default: bool,
}

/// A table-backed struct. Implemented by `#[derive(Model)]`; the methods users
/// call are generated as inherent methods, so this trait need not be imported.
pub trait Model: for<'r> FromRow<'r, PgRow> + Send + Sync + Unpin + Sized + 'static {
    /// The insert struct (`NewUser`).
    type New: Send + Sync;
    /// The primary key: the key field's type, or a tuple for a composite key.
    type Key: Send + Sync;

    /// Table metadata.
    const META: &'static ModelMeta;

    /// Adds the values of `new` that are set, returning which columns they
    /// belong to (indexes into `META.columns`), in bind order.
    fn bind_new(new: Self::New, args: &mut Args) -> Vec<usize>;

    /// Adds the key's values, in the order of the key columns.
    fn bind_key(key: Self::Key, args: &mut Args);

    /// This row's key.
    fn key(&self) -> Self::Key;

    /// Adds every non-key column's value, in column order (for `save`).
    fn bind_non_key(&self, args: &mut Args);
}

/// Implemented by `#[derive(Model)]` for models with a primary key; `find`,
/// `save` and `delete` require it, so calling them on a model without one is
/// a compile error that says so.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no primary key, so it has no `find`, `save` or `delete`",
    label = "needs a #[strav(primary_key)] field",
    note = "mark the key field(s) of `{Self}` with #[strav(primary_key)] and drop #[strav(no_primary_key)]"
)]
pub trait HasPrimaryKey<E> {}

/// Where a model statement runs: the pool (routed by the context) or a
/// transaction. Implemented for `&Database` and `&Tx`, so both can be passed
/// as often as needed.
pub trait Executor<'e>: Copy + Send + Sync + 'e {
    #[doc(hidden)]
    fn target(self) -> Target<'e>;
}

impl<'e> Executor<'e> for &'e Database {
    fn target(self) -> Target<'e> {
        Database::target(self)
    }
}

impl<'e> Executor<'e> for &'e Tx {
    fn target(self) -> Target<'e> {
        Tx::target(self)
    }
}
