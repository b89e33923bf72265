//! Raw SQL routed by the schema context: `db.sql("...").bind(x).fetch_all()`.

use futures_util::future::BoxFuture;
use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::{Arguments, Encode, FromRow, Postgres, SqlStr, Type};

use crate::database::Database;
use crate::error::{Error, Result};
use crate::routing::{Op, PathKey};
use crate::transaction::Tx;

/// A statement with its bound parameters, not yet run. Made by
/// [`Database::sql`] (routed when it runs) or [`Tx::sql`] (in the
/// transaction's schema).
#[must_use = "a statement does nothing until one of its fetch/execute methods is awaited"]
pub struct Sql<'e> {
    target: Target<'e>,
    sql: SqlStr,
    args: PgArguments,
    bind_error: Option<Error>,
    key: Option<PathKey>,
}

enum Target<'e> {
    Db(&'e Database),
    Tx(&'e Tx),
}

impl<'e> Sql<'e> {
    pub(crate) fn on_database(db: &'e Database, sql: SqlStr) -> Self {
        Self::new(Target::Db(db), sql)
    }

    pub(crate) fn on_tx(tx: &'e Tx, sql: SqlStr) -> Self {
        Self::new(Target::Tx(tx), sql)
    }

    fn new(target: Target<'e>, sql: SqlStr) -> Self {
        Sql {
            target,
            sql,
            args: PgArguments::default(),
            bind_error: None,
            key: None,
        }
    }

    /// Routes this statement to `key` instead of the context's schema.
    pub(crate) fn on_path(mut self, key: PathKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Binds the next `$n` parameter.
    pub fn bind<'t, T>(mut self, value: T) -> Self
    where
        T: Encode<'t, Postgres> + Type<Postgres>,
    {
        if self.bind_error.is_none() {
            if let Err(source) = self.args.add(value) {
                self.bind_error = Some(Error::Bind {
                    index: self.args.len() + 1,
                    source,
                });
            }
        }
        self
    }

    /// Every row, decoded as `T` (`#[derive(sqlx::FromRow)]`, or a tuple).
    pub async fn fetch_all<T>(self) -> Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static,
    {
        self.run(&|c, q, a| Box::pin(sqlx::query_as_with::<_, T, _>(q, a).fetch_all(c)))
            .await
    }

    /// Exactly one row; [`Error::RowNotFound`] when there is none.
    pub async fn fetch_one<T>(self) -> Result<T>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static,
    {
        self.run(&|c, q, a| Box::pin(sqlx::query_as_with::<_, T, _>(q, a).fetch_one(c)))
            .await
    }

    /// The first row, if any.
    pub async fn fetch_optional<T>(self) -> Result<Option<T>>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static,
    {
        self.run(&|c, q, a| Box::pin(sqlx::query_as_with::<_, T, _>(q, a).fetch_optional(c)))
            .await
    }

    /// The first column of the first row (`SELECT count(*) ...`).
    pub async fn fetch_scalar<T>(self) -> Result<T>
    where
        T: Send + Unpin + 'static,
        (T,): for<'r> FromRow<'r, PgRow>,
    {
        self.run(&|c, q, a| Box::pin(sqlx::query_scalar_with::<_, T, _>(q, a).fetch_one(c)))
            .await
    }

    /// The first column of the first row, if there is a row.
    pub async fn fetch_optional_scalar<T>(self) -> Result<Option<T>>
    where
        T: Send + Unpin + 'static,
        (T,): for<'r> FromRow<'r, PgRow>,
    {
        self.run(&|c, q, a| Box::pin(sqlx::query_scalar_with::<_, T, _>(q, a).fetch_optional(c)))
            .await
    }

    /// Every row, undecoded.
    pub async fn fetch_rows(self) -> Result<Vec<PgRow>> {
        self.run(&|c, q, a| Box::pin(sqlx::query_with(q, a).fetch_all(c)))
            .await
    }

    /// Runs the statement; returns the number of rows it affected.
    pub async fn execute(self) -> Result<u64> {
        self.run(&|c: &mut PgConnection, q, a| -> BoxFuture<'_, _> {
            Box::pin(async move { Ok(sqlx::query_with(q, a).execute(c).await?.rows_affected()) })
        })
        .await
    }

    /// Runs the text as a script: several `;`-separated statements in one
    /// round trip over PostgreSQL's simple protocol (one implicit transaction
    /// unless the script has its own `BEGIN`/`COMMIT`). Takes no parameters.
    pub async fn execute_script(self) -> Result<u64> {
        if self.args.len() > 0 {
            return Err(Error::Bind {
                index: 1,
                source: "execute_script takes no parameters; use execute() for a single statement with binds".into(),
            });
        }
        self.run(&|c: &mut PgConnection, q, _a| -> BoxFuture<'_, _> {
            Box::pin(async move { Ok(sqlx::raw_sql(q).execute(c).await?.rows_affected()) })
        })
        .await
    }

    async fn run<R>(self, op: &Op<'_, R>) -> Result<R> {
        if let Some(e) = self.bind_error {
            return Err(e);
        }
        match self.target {
            Target::Db(db) => db.run_statement(self.key, self.sql, self.args, op).await,
            Target::Tx(tx) => tx.run_statement(self.sql, self.args, op).await,
        }
    }
}
