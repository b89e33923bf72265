//! How a statement's result is read: the last step of the pipeline.
//!
//! Each kind is a zero-sized type, so the executor is monomorphized per
//! result type and no statement needs a boxed future. `run` may be called a
//! second time for the same statement, after a re-prepare (see `conn.rs`).

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
}

macro_rules! typed_fetch {
    ($(#[$doc:meta])* $name:ident<$t:ident> => $out:ty, |$c:ident, $q:ident, $a:ident, $p:ident| $body:expr) => {
        $(#[$doc])*
        pub(crate) struct $name<$t>(PhantomData<fn() -> $t>);

        impl<$t> $name<$t> {
            pub(crate) const fn new() -> Self {
                $name(PhantomData)
            }
        }

        impl<$t> Fetch for $name<$t>
        where
            $t: for<'r> FromRow<'r, PgRow> + Send + Unpin,
        {
            type Output = $out;
            fn run<'c>(
                &'c self,
                $c: &'c mut PgConnection,
                $q: SqlStr,
                $a: PgArguments,
                $p: bool,
            ) -> impl Future<Output = Result<$out, sqlx::Error>> + Send + 'c {
                $body
            }
        }
    };
}

typed_fetch!(
    /// Every row as `T`.
    All<T> => Vec<T>,
    |c, q, a, p| sqlx::query_as_with::<_, T, _>(q, a).persistent(p).fetch_all(c)
);
typed_fetch!(
    /// Exactly one row as `T`.
    One<T> => T,
    |c, q, a, p| sqlx::query_as_with::<_, T, _>(q, a).persistent(p).fetch_one(c)
);
typed_fetch!(
    /// The first row as `T`, if any.
    Optional<T> => Option<T>,
    |c, q, a, p| sqlx::query_as_with::<_, T, _>(q, a).persistent(p).fetch_optional(c)
);

/// The first column of exactly one row.
pub(crate) struct Scalar<T>(PhantomData<fn() -> T>);
/// The first column of the first row, if any.
pub(crate) struct OptionalScalar<T>(PhantomData<fn() -> T>);

impl<T> Scalar<T> {
    pub(crate) const fn new() -> Self {
        Scalar(PhantomData)
    }
}

impl<T> OptionalScalar<T> {
    pub(crate) const fn new() -> Self {
        OptionalScalar(PhantomData)
    }
}

impl<T> Fetch for Scalar<T>
where
    T: Send + Unpin,
    (T,): for<'r> FromRow<'r, PgRow>,
{
    type Output = T;
    fn run<'c>(
        &'c self,
        c: &'c mut PgConnection,
        q: SqlStr,
        a: PgArguments,
        p: bool,
    ) -> impl Future<Output = Result<T, sqlx::Error>> + Send + 'c {
        sqlx::query_scalar_with::<_, T, _>(q, a)
            .persistent(p)
            .fetch_one(c)
    }
}

impl<T> Fetch for OptionalScalar<T>
where
    T: Send + Unpin,
    (T,): for<'r> FromRow<'r, PgRow>,
{
    type Output = Option<T>;
    fn run<'c>(
        &'c self,
        c: &'c mut PgConnection,
        q: SqlStr,
        a: PgArguments,
        p: bool,
    ) -> impl Future<Output = Result<Option<T>, sqlx::Error>> + Send + 'c {
        sqlx::query_scalar_with::<_, T, _>(q, a)
            .persistent(p)
            .fetch_optional(c)
    }
}

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
        Ok(sqlx::raw_sql(q).execute(c).await?.rows_affected())
    }
}
