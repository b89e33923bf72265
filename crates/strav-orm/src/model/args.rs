//! Bound parameters of model statements.

use sqlx::error::BoxDynError;
use sqlx::postgres::PgArguments;
use sqlx::{Arguments, Encode, Postgres, Type};

use crate::error::Error;

/// Parameters of one statement. Encoding failures are kept and reported when
/// the statement runs, so building a query never panics.
#[derive(Default)]
pub struct Args {
    pub(crate) inner: PgArguments,
    error: Option<(usize, BoxDynError)>,
}

impl Args {
    /// Adds the next `$n` parameter.
    pub fn add<'q, T>(&mut self, value: T)
    where
        T: Encode<'q, Postgres> + Type<Postgres>,
    {
        if self.error.is_none() {
            if let Err(e) = self.inner.add(value) {
                self.error = Some((self.inner.len() + 1, e));
            }
        }
    }

    /// Adds the next `$n` parameter from a reference (fields of a row).
    pub fn add_ref<T>(&mut self, value: &T)
    where
        T: for<'q> Encode<'q, Postgres> + Type<Postgres>,
    {
        self.add(value);
    }

    /// Parameters added so far.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// True when no parameter was added.
    pub fn is_empty(&self) -> bool {
        self.inner.len() == 0
    }

    pub(crate) fn finish(self) -> Result<PgArguments, Error> {
        match self.error {
            Some((index, source)) => Err(Error::Bind { index, source }),
            None => Ok(self.inner),
        }
    }
}

/// A value that can be bound later: what filters and assignments hold.
pub trait BindValue: Send + Sync {
    /// Adds this value to `args`.
    fn add_to(&self, args: &mut Args);
}

impl<T> BindValue for T
where
    T: for<'q> Encode<'q, Postgres> + Type<Postgres> + Send + Sync,
{
    fn add_to(&self, args: &mut Args) {
        args.add(self);
    }
}
