//! Raw SQL routed by the schema context: `db.sql("...").bind(x).fetch_all()`.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{Arguments, Encode, FromRow, Postgres, SqlStr, Type};

use crate::error::{Error, Result};
use crate::exec::{execute, Statement, Target, Text};
use crate::fetch::{Affected, All, Fetch, One, Optional, OptionalScalar, Rows, Scalar, Script};
use crate::search_path::SearchPath;

/// A statement with its bound parameters, not yet run. Made by
/// [`crate::Database::sql`] (routed when it runs) or [`crate::Tx::sql`] (in
/// the transaction's schema).
#[must_use = "a statement does nothing until one of its fetch/execute methods is awaited"]
pub struct Sql<'e> {
    target: Target<'e>,
    sql: SqlStr,
    args: PgArguments,
    bind_error: Option<Error>,
    path: Option<SearchPath>,
    persistent: bool,
    touches: usize,
}

impl<'e> Sql<'e> {
    pub(crate) fn new(target: Target<'e>, sql: SqlStr) -> Self {
        Sql {
            target,
            sql,
            args: PgArguments::default(),
            bind_error: None,
            path: None,
            persistent: true,
            touches: 0,
        }
    }

    /// Routes this statement to `path` instead of the context's schema.
    pub(crate) fn on_path(mut self, path: SearchPath) -> Self {
        self.path = Some(path);
        self
    }

    /// Runs the text as an unnamed statement, not kept on the connection:
    /// for SQL built for one occasion (a catalog query over a list of
    /// schemas), which would only fill the statement cache.
    pub(crate) fn once(mut self) -> Self {
        self.persistent = false;
        self
    }

    /// The text reads `schemas` schemas' tables by name (a catalog read over
    /// many tenants): the connection counts them toward
    /// `max_tenants_per_connection`, since its backend now caches their
    /// catalog entries as if it had served them.
    pub(crate) fn touching(mut self, schemas: usize) -> Self {
        self.touches = schemas;
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
        self.run(&All::<T>::new()).await
    }

    /// Exactly one row; [`Error::RowNotFound`] when there is none.
    pub async fn fetch_one<T>(self) -> Result<T>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static,
    {
        self.run(&One::<T>::new()).await
    }

    /// The first row, if any.
    pub async fn fetch_optional<T>(self) -> Result<Option<T>>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static,
    {
        self.run(&Optional::<T>::new()).await
    }

    /// The first column of the first row (`SELECT count(*) ...`).
    pub async fn fetch_scalar<T>(self) -> Result<T>
    where
        T: Send + Unpin + 'static,
        (T,): for<'r> FromRow<'r, PgRow>,
    {
        self.run(&Scalar::<T>::new()).await
    }

    /// The first column of the first row, if there is a row.
    pub async fn fetch_optional_scalar<T>(self) -> Result<Option<T>>
    where
        T: Send + Unpin + 'static,
        (T,): for<'r> FromRow<'r, PgRow>,
    {
        self.run(&OptionalScalar::<T>::new()).await
    }

    /// Every row, undecoded.
    pub async fn fetch_rows(self) -> Result<Vec<PgRow>> {
        self.run(&Rows).await
    }

    /// Runs the statement; returns the number of rows it affected.
    pub async fn execute(self) -> Result<u64> {
        self.run(&Affected).await
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
        self.run(&Script).await
    }

    async fn run<F: Fetch>(self, fetch: &F) -> Result<F::Output> {
        if let Some(e) = self.bind_error {
            return Err(e);
        }
        let stmt = Statement {
            text: Text::Raw(self.sql),
            args: self.args,
            path: self.path,
            persistent: self.persistent,
            touches: self.touches,
        };
        execute(self.target, stmt, fetch).await
    }
}
