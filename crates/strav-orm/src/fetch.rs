//! How a statement's result is read: the last step of the pipeline.
//!
//! Each kind is a zero-sized type, so the executor is monomorphized per
//! result type and no statement needs a boxed future. `run` may be called a
//! second time for the same statement, after a re-prepare (see `conn.rs`).
//! `run_simple` reads the same result from a statement sent over the simple
//! protocol (no parameters, text-format values), which lets it travel in one
//! message with the `BEGIN`/`COMMIT` around it (see `exec.rs`).

use std::future::Future;
use std::marker::PhantomData;

use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::{FromRow, SqlStr};

/// Reads a statement's result from the connection.
pub(crate) trait Fetch: Sync {
    type Output: Send;

    /// Runs `sql` with `args`. `persistent = false` asks for an unnamed
    /// statement that is not kept on the connection.
    fn run<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        sql: SqlStr,
        args: PgArguments,
        persistent: bool,
    ) -> impl Future<Output = Result<Self::Output, sqlx::Error>> + Send + 'c;

    /// Runs `sql` (which may hold several statements) as one simple query.
    fn run_simple<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        sql: SqlStr,
    ) -> impl Future<Output = Result<Self::Output, sqlx::Error>> + Send + 'c;
}

/// Every row as `T`.
pub(crate) struct All<T>(PhantomData<fn() -> T>);
/// Exactly one row as `T`.
pub(crate) struct One<T>(PhantomData<fn() -> T>);
/// The first row as `T`, if any.
pub(crate) struct Optional<T>(PhantomData<fn() -> T>);
/// The first column of exactly one row.
pub(crate) struct Scalar<T>(PhantomData<fn() -> T>);
/// The first column of the first row, if any.
pub(crate) struct OptionalScalar<T>(PhantomData<fn() -> T>);

macro_rules! constructors {
    ($($name:ident),*) => {$(
        impl<T> $name<T> {
            pub(crate) const fn new() -> Self {
                $name(PhantomData)
            }
        }
    )*};
}

constructors!(All, One, Optional, Scalar, OptionalScalar);

async fn simple_rows(conn: &mut PgConnection, sql: SqlStr) -> Result<Vec<PgRow>, sqlx::Error> {
    sqlx::raw_sql(sql).fetch_all(conn).await
}

fn first<T>(
    rows: Vec<PgRow>,
    read: impl Fn(&PgRow) -> Result<T, sqlx::Error>,
) -> Result<Option<T>, sqlx::Error> {
    rows.first().map(read).transpose()
}

fn scalar<T>(row: &PgRow) -> Result<T, sqlx::Error>
where
    (T,): for<'r> FromRow<'r, PgRow>,
{
    <(T,)>::from_row(row).map(|(v,)| v)
}

/// One `impl Fetch` per result kind: how sqlx reads it from a prepared
/// statement (`$builder(sql, args).$method(conn)`), and how it is read from
/// the rows of a simple query.
macro_rules! fetch_kind {
    (
        $name:ident => $out:ty where [$($bound:tt)*],
        $builder:ident::<$decoded:ty>.$method:ident,
        simple: |$rows:ident| $simple:expr $(,)?
    ) => {
        impl<T> Fetch for $name<T>
        where
            $($bound)*
        {
            type Output = $out;
            fn run<'c>(
                &'c self,
                c: &'c mut PgConnection,
                sql: SqlStr,
                args: PgArguments,
                persistent: bool,
            ) -> impl Future<Output = Result<$out, sqlx::Error>> + Send + 'c {
                sqlx::$builder::<_, $decoded, _>(sql, args)
                    .persistent(persistent)
                    .$method(c)
            }
            async fn run_simple<'c>(
                &'c self,
                c: &'c mut PgConnection,
                sql: SqlStr,
            ) -> Result<$out, sqlx::Error> {
                let $rows = simple_rows(c, sql).await?;
                $simple
            }
        }
    };
}

fetch_kind!(
    All => Vec<T> where [T: for<'r> FromRow<'r, PgRow> + Send + Unpin],
    query_as_with::<T>.fetch_all,
    simple: |rows| rows.iter().map(|r| T::from_row(r)).collect(),
);
fetch_kind!(
    One => T where [T: for<'r> FromRow<'r, PgRow> + Send + Unpin],
    query_as_with::<T>.fetch_one,
    simple: |rows| first(rows, |r| T::from_row(r))?.ok_or(sqlx::Error::RowNotFound),
);
fetch_kind!(
    Optional => Option<T> where [T: for<'r> FromRow<'r, PgRow> + Send + Unpin],
    query_as_with::<T>.fetch_optional,
    simple: |rows| first(rows, |r| T::from_row(r)),
);
fetch_kind!(
    Scalar => T where [T: Send + Unpin, (T,): for<'r> FromRow<'r, PgRow>],
    query_scalar_with::<T>.fetch_one,
    simple: |rows| first(rows, |r| scalar::<T>(r))?.ok_or(sqlx::Error::RowNotFound),
);
fetch_kind!(
    OptionalScalar => Option<T> where [T: Send + Unpin, (T,): for<'r> FromRow<'r, PgRow>],
    query_scalar_with::<T>.fetch_optional,
    simple: |rows| first(rows, |r| scalar::<T>(r)),
);

/// Every row, undecoded.
pub(crate) struct Rows;

impl Fetch for Rows {
    type Output = Vec<PgRow>;
    fn run<'c>(
        &'c self,
        c: &'c mut PgConnection,
        q: SqlStr,
        a: PgArguments,
        p: bool,
    ) -> impl Future<Output = Result<Vec<PgRow>, sqlx::Error>> + Send + 'c {
        sqlx::query_with(q, a).persistent(p).fetch_all(c)
    }
    fn run_simple<'c>(
        &'c self,
        c: &'c mut PgConnection,
        q: SqlStr,
    ) -> impl Future<Output = Result<Vec<PgRow>, sqlx::Error>> + Send + 'c {
        simple_rows(c, q)
    }
}

/// The number of rows affected.
pub(crate) struct Affected;

impl Fetch for Affected {
    type Output = u64;
    async fn run<'c>(
        &'c self,
        c: &'c mut PgConnection,
        q: SqlStr,
        a: PgArguments,
        p: bool,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query_with(q, a).persistent(p).execute(c).await?;
        Ok(done.rows_affected())
    }
    async fn run_simple<'c>(
        &'c self,
        c: &'c mut PgConnection,
        q: SqlStr,
    ) -> Result<u64, sqlx::Error> {
        Ok(sqlx::raw_sql(q).execute(c).await?.rows_affected())
    }
}

/// A script over the simple protocol: several statements, no parameters.
pub(crate) struct Script;

impl Fetch for Script {
    type Output = u64;
    async fn run<'c>(
        &'c self,
        c: &'c mut PgConnection,
        q: SqlStr,
        _a: PgArguments,
        _p: bool,
    ) -> Result<u64, sqlx::Error> {
        self.run_simple(c, q).await
    }
    async fn run_simple<'c>(
        &'c self,
        c: &'c mut PgConnection,
        q: SqlStr,
    ) -> Result<u64, sqlx::Error> {
        Ok(sqlx::raw_sql(q).execute(c).await?.rows_affected())
    }
}
